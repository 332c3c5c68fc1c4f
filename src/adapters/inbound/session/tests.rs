//! The session's own rules, with a small dialect of its own (`Probe`) that identifies after
//! connecting: who may do what before and after identity, connect calls that refuse a
//! connection, the ack-or-error answers, limits, and what a closing connection gives back.

use std::sync::Arc;

use serde_json::{Value, json};

use super::harness::{Client, Harness, Listener, token_for};
use crate::adapters::inbound::auth::Credentials;
use crate::adapters::inbound::protocol::{
    Audience, BindConversation, Delivery, Dialect, Handshake, IdentifyEvent, IdentityMode,
    JoinConversation, LeaveConversation, Reply, SendMessage, SessionView, WireError, args,
};
use crate::adapters::inbound::session::{Call, EventTable};
use crate::app::{PostMessage, Posted, Requester};
use crate::domain::{Conversation, ConversationContext, ConversationId, DomainEvent, UserId};

/// Identifies with `hello(userId)`; `join({ id })`, `leave({ id })`, `say({ id, text })`;
/// messages reach the room as `said`, not the sender's own connection. A handshake `room`
/// binds the connection to that conversation once it is identified.
struct Probe {
    events: EventTable,
}

impl Probe {
    fn new() -> Self {
        Self {
            events: EventTable::new()
                .on("join", decode_join, |_, c: &Conversation| {
                    Reply::ack_only(json!({ "joined": c.id.as_str() }))
                })
                .on("leave", decode_leave, |_, id: &ConversationId| {
                    Reply::ack_only(json!({ "left": id.as_str() }))
                })
                .on("say", decode_say, |_, p: &Posted| {
                    Reply::ack_only(json!({ "seq": p.message.seq.0 }))
                }),
        }
    }
}

fn id_of(args: &Value, event: &str) -> Result<ConversationId, WireError> {
    args::conversation_id(args::object(args, event)?, "id")
}

fn decode_join(_: &SessionView<'_>, args: &Value) -> Result<JoinConversation, WireError> {
    Ok(JoinConversation(id_of(args, "join")?))
}

fn decode_leave(_: &SessionView<'_>, args: &Value) -> Result<LeaveConversation, WireError> {
    Ok(LeaveConversation(id_of(args, "leave")?))
}

fn decode_say(_: &SessionView<'_>, args: &Value) -> Result<SendMessage, WireError> {
    let obj = args::object(args, "say")?;
    Ok(SendMessage(PostMessage::text(
        args::conversation_id(obj, "id")?,
        args::text(obj, "text")?,
    )))
}

impl Dialect for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn identity(&self) -> IdentityMode {
        IdentityMode::AfterConnect(IdentifyEvent {
            event: "hello",
            decode: |args| {
                args.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| WireError::new("hello expects a user id"))
            },
            reply: |user| Reply::event("welcome", json!({ "userId": user.id.as_str() })),
        })
    }

    fn on_connect(&self, handshake: &Handshake<'_>) -> Result<Vec<Call>, WireError> {
        let Some(room) = handshake.param("room") else {
            return Ok(Vec::new());
        };
        let room = ConversationId::parse(room).map_err(|e| WireError::new(e.to_string()))?;
        Ok(vec![Call::new(BindConversation(room), |_, c| {
            Reply::event("bound", json!({ "room": c.id.as_str() }))
        })])
    }

    fn events(&self) -> &EventTable {
        &self.events
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessagePosted { message, .. } => vec![Delivery::new(
                Audience::Room(message.conversation_id.clone()),
                "said",
                json!({ "text": message.body.text }),
            )],
            _ => vec![],
        }
    }
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn bare() -> Credentials {
    Credentials::default()
}

fn with_token(user: &str) -> Credentials {
    Credentials {
        token: Some(token_for(user)),
        claimed_user: None,
    }
}

async fn probe(legacy_identity: bool) -> (Harness, Listener) {
    let h = Harness::new().await;
    let listener = h.listener(Arc::new(Probe::new()), legacy_identity);
    (h, listener)
}

async fn connections(h: &Harness, user: &str) -> u32 {
    h.presence.state(&uid(user)).await.unwrap().connections
}

/// Connections the listener's hub would deliver to.
fn registered(listener: &Listener) -> usize {
    listener.0.listener.connection_count()
}

async fn conversation(h: &Harness, a: &str, b: &str) -> ConversationId {
    let (c, _) = h
        .use_cases
        .open_conversation(
            &Requester::Service,
            vec![uid(a), uid(b)],
            ConversationContext::default(),
        )
        .await
        .unwrap();
    c.id
}

fn error_of(ack: &Value) -> &str {
    ack["error"].as_str().unwrap_or_default()
}

async fn identified(listener: &Listener, user: &str) -> Client {
    let mut client = listener
        .connect(with_token(user), Value::Null)
        .await
        .unwrap();
    client.emit("hello", json!(user)).await;
    client
}

#[tokio::test]
async fn before_identifying_only_the_identify_event_is_accepted() {
    let (_, listener) = probe(true).await;
    let mut client = listener.connect(bare(), Value::Null).await.unwrap();
    assert!(client.greeting.is_empty());
    assert_eq!(registered(&listener), 0, "nobody to deliver to yet");
    let refused = client.request("join", json!({ "id": "c1" })).await;
    assert_eq!(
        error_of(&refused),
        "identify first: send hello with your user id"
    );
    let unknown = client.request("nope", json!({})).await;
    assert!(
        error_of(&unknown).starts_with("identify first"),
        "{unknown}"
    );
    assert_eq!(
        error_of(&client.request("hello", json!(5)).await),
        "hello expects a user id"
    );
    assert_eq!(registered(&listener), 0);
}

#[tokio::test]
async fn legacy_identity_trusts_a_bare_user_id_and_counts_the_connection() {
    let (h, listener) = probe(true).await;
    let mut client = listener.connect(bare(), Value::Null).await.unwrap();
    let answer = client.emit("hello", json!("u1")).await;
    assert_eq!(answer.emits.len(), 1);
    assert_eq!(answer.emits[0].event, "welcome");
    assert_eq!(answer.emits[0].payload, json!({ "userId": "u1" }));
    assert!(!answer.close);
    assert_eq!(connections(&h, "u1").await, 1);
    assert_eq!(registered(&listener), 1);
    // The same user again is answered again; another user is refused.
    assert_eq!(
        client.request("hello", json!("u1")).await,
        json!({ "userId": "u1" })
    );
    assert_eq!(
        error_of(&client.request("hello", json!("u2")).await),
        "Authentication error: userId is not this connection's user"
    );
    assert_eq!(connections(&h, "u1").await, 1);
    assert_eq!(connections(&h, "u2").await, 0);
}

#[tokio::test]
async fn a_token_identifies_at_connect_and_the_identify_event_must_name_its_user() {
    for legacy in [false, true] {
        let (h, listener) = probe(legacy).await;
        let mut client = listener
            .connect(with_token("u1"), Value::Null)
            .await
            .unwrap();
        assert_eq!(registered(&listener), 1, "legacy {legacy}");
        assert_eq!(connections(&h, "u1").await, 1);
        assert_eq!(
            error_of(&client.request("hello", json!("u2")).await),
            "Authentication error: userId is not this connection's user"
        );
        assert_eq!(connections(&h, "u2").await, 0);
        assert_eq!(
            client.request("hello", json!("u1")).await,
            json!({ "userId": "u1" })
        );
        assert_eq!(connections(&h, "u1").await, 1);
    }
}

#[tokio::test]
async fn without_legacy_identity_a_connection_must_present_a_token() {
    let (_, listener) = probe(false).await;
    // Nothing could ever identify a connection without a token: it is refused at once.
    let Err(refusal) = listener.connect(bare(), Value::Null).await else {
        panic!("a connection without a token must be refused");
    };
    assert_eq!(refusal.error.0, "Authentication error: no token provided");
    // A bare user id in the handshake is no token either.
    let claimed = Credentials {
        token: None,
        claimed_user: Some("u1".into()),
    };
    let Err(refusal) = listener.connect(claimed, Value::Null).await else {
        panic!("a claim without a token must be refused");
    };
    assert_eq!(refusal.error.0, "Authentication error: no token provided");
    assert_eq!(registered(&listener), 0);
}

#[tokio::test]
async fn a_presented_token_is_verified_at_connect_even_with_legacy_identity() {
    let (_, listener) = probe(true).await;
    for token in ["garbage", "expired"] {
        let credentials = Credentials {
            token: Some(token.into()),
            claimed_user: None,
        };
        let Err(refusal) = listener.connect(credentials, Value::Null).await else {
            panic!("{token}: a bad token must refuse the connection");
        };
        assert!(refusal.sent.is_empty());
        assert!(
            refusal.error.0.starts_with("Authentication error"),
            "{}",
            refusal.error
        );
        let events = refusal.events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, "error");
    }
}

#[tokio::test]
async fn connect_calls_run_once_identified_and_their_events_follow_the_reply() {
    let (h, listener) = probe(true).await;
    let room = conversation(&h, "u1", "u2").await;
    let handshake = json!({ "room": room.as_str() });
    // Identified at connect: the calls' events are the greeting.
    let by_token = listener
        .connect(with_token("u2"), handshake.clone())
        .await
        .unwrap();
    let greeting: Vec<_> = by_token.greeting.iter().map(|e| e.event).collect();
    assert_eq!(greeting, ["bound"]);
    // Identified by the event: they follow its reply.
    let mut client = listener.connect(bare(), handshake).await.unwrap();
    assert!(client.greeting.is_empty(), "nothing runs before identity");
    let answer = client.emit("hello", json!("u1")).await;
    let events: Vec<_> = answer.emits.iter().map(|e| e.event).collect();
    assert_eq!(events, ["welcome", "bound"]);
    assert!(h.presence.is_viewing(&uid("u1"), &room).await.unwrap());
}

#[tokio::test]
async fn a_failing_connect_call_refuses_the_connection_and_leaves_nothing_behind() {
    let (h, listener) = probe(true).await;
    let room = conversation(&h, "u1", "u2").await;
    let handshake = json!({ "room": room.as_str() });
    let mut events = h.events();
    // At connect.
    let Err(refusal) = listener.connect(with_token("eve"), handshake.clone()).await else {
        panic!("a stranger to the room must be refused");
    };
    assert!(
        refusal.error.0.contains("not a participant"),
        "{}",
        refusal.error
    );
    // After the identify event.
    let mut stranger = listener.connect(bare(), handshake).await.unwrap();
    let answer = stranger.answer("hello", &json!("eve"), true).await;
    assert!(answer.close, "the transport closes the connection");
    assert!(error_of(answer.ack.as_ref().unwrap()).contains("not a participant"));
    assert_eq!(connections(&h, "eve").await, 0);
    assert_eq!(registered(&listener), 0);
    // Nobody was told eve came online, or went offline.
    let heard = tokio::time::timeout(std::time::Duration::from_millis(150), events.next()).await;
    assert!(heard.is_err(), "unexpected event {heard:?}");
}

#[tokio::test]
async fn a_refusal_goes_to_the_ack_or_else_to_an_error_event() {
    let (h, listener) = probe(false).await;
    let room = conversation(&h, "u1", "u2").await;
    let mut client = identified(&listener, "u1").await;
    let blank = json!({ "id": room.as_str(), "text": " " });
    let with_ack = client.answer("say", &blank, true).await;
    assert!(with_ack.emits.is_empty(), "{with_ack:?}");
    assert!(error_of(with_ack.ack.as_ref().unwrap()).contains("non-blank"));
    let without = client.emit("say", blank).await;
    assert_eq!(without.ack, None);
    assert_eq!(without.emits.len(), 1);
    assert_eq!(without.emits[0].event, "error");
    assert!(
        without.emits[0].payload["message"]
            .as_str()
            .unwrap()
            .contains("non-blank")
    );
    assert!(!without.close, "a refused request keeps the connection");
    let unknown = client.request("nope", json!({})).await;
    assert_eq!(error_of(&unknown), "unknown event \"nope\"");
}

#[tokio::test]
async fn replies_and_room_deliveries_follow_the_dialect() {
    let (h, listener) = probe(false).await;
    let room = conversation(&h, "u1", "u2").await;
    let mut one = identified(&listener, "u1").await;
    let mut two = identified(&listener, "u2").await;
    for client in [&mut one, &mut two] {
        let joined = client.request("join", json!({ "id": room.as_str() })).await;
        assert_eq!(joined, json!({ "joined": room.as_str() }));
    }
    let ack = one
        .request("say", json!({ "id": room.as_str(), "text": "hi" }))
        .await;
    assert_eq!(ack, json!({ "seq": 1 }));
    assert_eq!(two.next("said").await, json!({ "text": "hi" }));
    one.none("said").await;

    // Leaving stops the room's deliveries and the viewing.
    let left = two.request("leave", json!({ "id": room.as_str() })).await;
    assert_eq!(left, json!({ "left": room.as_str() }));
    assert!(!h.presence.is_viewing(&uid("u2"), &room).await.unwrap());
    one.request("say", json!({ "id": room.as_str(), "text": "gone?" }))
        .await;
    two.none("said").await;
}

#[tokio::test]
async fn payload_and_rate_limits_refuse_with_an_error() {
    let (_, listener) = probe(true).await;
    let mut ctx_limits = listener.0.limits;
    ctx_limits.events_per_second = 2;
    ctx_limits.max_frame_bytes = 32;
    let limited = Listener(Arc::new(super::ListenerContext {
        name: listener.0.name.clone(),
        hub: listener.0.hub.clone(),
        listener: listener.0.listener.clone(),
        use_cases: listener.0.use_cases.clone(),
        tokens: listener.0.tokens.clone(),
        legacy_identity: true,
        cookie_origins: Default::default(),
        limits: ctx_limits,
    }));
    let mut client = limited.connect(bare(), Value::Null).await.unwrap();
    let big = json!({ "text": "x".repeat(64) });
    assert!(error_of(&client.request("say", big).await).starts_with("payload too large"));
    let nul = json!({ "t": ["x\0"] });
    assert!(error_of(&client.request("say", nul).await).contains("NUL"));
    client.request("hello", json!("u1")).await;
    let flood = client.request("hello", json!("u1")).await;
    assert!(error_of(&flood).starts_with("too many events"), "{flood}");
}

#[tokio::test]
async fn closing_gives_back_the_connection_and_its_viewing() {
    let (h, listener) = probe(true).await;
    let room = conversation(&h, "u1", "u2").await;
    let mut client = identified(&listener, "u1").await;
    client.request("join", json!({ "id": room.as_str() })).await;
    assert!(h.presence.is_viewing(&uid("u1"), &room).await.unwrap());
    client.close().await;
    assert_eq!(connections(&h, "u1").await, 0);
    assert_eq!(registered(&listener), 0);
    assert!(!h.presence.is_viewing(&uid("u1"), &room).await.unwrap());
    // A connection that never identified closes without touching anyone's presence.
    let other = identified(&listener, "u2").await;
    listener
        .connect(bare(), Value::Null)
        .await
        .unwrap()
        .close()
        .await;
    assert_eq!(connections(&h, "u2").await, 1);
    assert_eq!(registered(&listener), 1);
    other.close().await;
}
