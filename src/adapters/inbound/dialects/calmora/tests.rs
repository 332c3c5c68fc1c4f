//! calmora's table, replies and renderings, and its flows in process.

use serde_json::json;

use super::*;
use crate::adapters::inbound::dialects::fixtures::{ALICE, BOB, ROOM, message, profile, uid, view};
use crate::domain::{MessageReceipt, UserProfile};

#[test]
fn the_table_has_the_family_events() {
    assert_eq!(
        Calmora::default().events().events(),
        ["joinRoom", "leaveRoom", "sendMessage"]
    );
}

#[test]
fn rooms_take_the_bare_chat_id() {
    let alice = profile(ALICE, "Alice");
    let room = ConversationId::parse(ROOM).unwrap();
    assert_eq!(
        decode_join(&view(&alice), &json!(ROOM)),
        Ok(JoinConversation(room.clone()))
    );
    assert_eq!(
        decode_leave(&view(&alice), &json!(ROOM)),
        Ok(LeaveConversation(room))
    );
    assert_eq!(
        decode_join(&view(&alice), &json!({ "chatId": ROOM }))
            .unwrap_err()
            .0,
        "joinRoom expects the chatId as a string"
    );
}

#[test]
fn send_message_names_the_recipient_and_only_its_own_sender() {
    let alice = profile(ALICE, "Alice");
    let v = view(&alice);
    let args = json!({ "senderId": ALICE, "recipientId": BOB, "message": "Hi", "chatId": ROOM });
    let SendMessage(post) = decode_send(&v, &args).unwrap();
    assert_eq!(post.conversation_id.as_str(), ROOM);
    assert_eq!(post.text, "Hi");
    assert_eq!(post.open_with, Some(uid(BOB)));
    let without_sender = json!({ "recipientId": BOB, "message": "Hi", "chatId": ROOM });
    assert!(decode_send(&v, &without_sender).is_ok());
    let cases = [
        (
            json!({ "senderId": BOB, "recipientId": BOB, "message": "x", "chatId": ROOM }),
            "senderId must be your own user id",
        ),
        (
            json!({ "senderId": ALICE, "recipientId": ALICE, "message": "x", "chatId": ROOM }),
            "recipientId must be another user",
        ),
        (
            json!({ "senderId": ALICE, "message": "x", "chatId": ROOM }),
            "recipientId is required",
        ),
        (
            json!({ "senderId": ALICE, "recipientId": BOB, "message": "x" }),
            "chatId is required",
        ),
        (
            json!({ "recipientId": BOB, "message": 3, "chatId": ROOM }),
            "message must be a string",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(decode_send(&v, &args).unwrap_err().0, expected, "{args}");
    }
}

fn posted(alert: Vec<UserId>, participants: Vec<UserId>) -> DomainEvent {
    DomainEvent::MessagePosted {
        participants,
        message: message("Hello there", 1),
        receipt: MessageReceipt::default(),
        sender: UserProfile {
            avatar: Some("https://x/a.png".into()),
            ..profile(ALICE, "Alice")
        },
        context: Default::default(),
        alert,
    }
}

#[test]
fn a_message_reaches_the_recipient_and_the_senders_other_connections() {
    let deliveries = Calmora::default().render(&posted(vec![], vec![uid(ALICE), uid(BOB)]));
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.event, "receiveMessage");
    assert_eq!(d.audience, Audience::Users(vec![uid(ALICE), uid(BOB)]));
    assert!(!d.to_origin, "the sending connection has its ack");
    let m = message("Hello there", 1);
    assert_eq!(
        d.payload,
        json!({
            "_id": m.id.as_str(),
            "chatId": ROOM,
            "senderId": ALICE,
            "recipientId": BOB,
            "message": "Hello there",
            "createdAt": "2026-01-05T12:00:00.000Z",
            "sender": { "_id": ALICE, "name": "Alice", "avatar": "https://x/a.png" },
        })
    );
}

#[test]
fn a_recipient_viewing_nowhere_gets_a_chat_notification() {
    let deliveries = Calmora::default().render(&posted(vec![uid(BOB)], vec![uid(ALICE), uid(BOB)]));
    let alert = deliveries
        .iter()
        .find(|d| d.event == "new_notification")
        .expect("a chat notification");
    assert_eq!(alert.audience, Audience::Users(vec![uid(BOB)]));
    let m = message("Hello there", 1);
    assert_eq!(
        alert.payload,
        json!({
            "_id": m.id.as_str(),
            "userId": BOB,
            "type": "chat",
            "message": "New message from Alice",
            "extra": { "chatId": ROOM, "senderId": ALICE, "senderName": "Alice" },
            "createdAt": "2026-01-05T12:00:00.000Z",
        })
    );
}

#[test]
fn in_a_chat_of_three_each_recipient_is_named_in_their_copy() {
    let carol = uid("66f1234567890abcdef0000c");
    let deliveries =
        Calmora::default().render(&posted(vec![], vec![uid(ALICE), uid(BOB), carol.clone()]));
    let to = |user: &UserId| {
        deliveries
            .iter()
            .find(|d| d.audience == Audience::Users(vec![user.clone()]))
            .map(|d| d.payload["recipientId"].clone())
    };
    assert_eq!(to(&uid(BOB)), Some(json!(BOB)));
    assert_eq!(to(&carol), Some(json!(carol.as_str())));
    assert_eq!(to(&uid(ALICE)), Some(serde_json::Value::Null));
}

mod in_process {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::super::Calmora;
    use crate::adapters::inbound::auth::Credentials;
    use crate::adapters::inbound::session::harness::{Client, Harness, Listener};
    use crate::app::Requester;
    use crate::domain::{ConversationContext, UserId};

    const CHAT: &str = "66f00000000000000000c4a7";

    async fn registered(listener: &Listener, user: &str) -> Client {
        let mut client = listener
            .connect(Credentials::default(), Value::Null)
            .await
            .unwrap();
        let ack = client.request("registerUser", json!(user)).await;
        assert_eq!(ack, json!({ "userId": user }));
        client
    }

    fn send(to: &str, text: &str) -> Value {
        json!({ "senderId": null, "recipientId": to, "message": text, "chatId": CHAT })
    }

    #[tokio::test]
    async fn a_new_chat_is_created_and_the_message_goes_where_it_should() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Calmora::default()), true);
        let mut ann = registered(&listener, "ann").await;
        let ann_phone = registered(&listener, "ann").await;
        let bob = registered(&listener, "bob").await;

        let ack = ann.request("sendMessage", send("bob", "Hi Bob")).await;
        assert_eq!(ack["chatId"], CHAT);
        assert_eq!(ack["recipientId"], "bob");
        assert_eq!(ack["message"], "Hi Bob");
        for client in [&bob, &ann_phone] {
            assert_eq!(client.next("receiveMessage").await["_id"], ack["_id"]);
        }
        ann.none("receiveMessage").await;
        // Bob views the chat nowhere: he is notified; Ann is the sender: she is not.
        let alert = bob.next("new_notification").await;
        assert_eq!(alert["extra"]["chatId"], CHAT);
        ann_phone.none("new_notification").await;
    }

    #[tokio::test]
    async fn viewing_the_chat_on_any_connection_holds_the_notification_back() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Calmora::default()), true);
        let mut ann = registered(&listener, "ann").await;
        let mut bob_chat = registered(&listener, "bob").await;
        let bob_elsewhere = registered(&listener, "bob").await;
        // The chat is created by its first message; Bob views it nowhere yet.
        ann.request("sendMessage", send("bob", "first")).await;
        for bob in [&bob_chat, &bob_elsewhere] {
            bob.next("new_notification").await;
        }
        assert_eq!(
            bob_chat.request("joinRoom", json!(CHAT)).await,
            json!({ "chatId": CHAT })
        );

        ann.request("sendMessage", send("bob", "while viewing"))
            .await;
        bob_elsewhere.next("receiveMessage").await;
        bob_elsewhere.none("new_notification").await;
        bob_chat.none("new_notification").await;

        bob_chat.request("leaveRoom", json!(CHAT)).await;
        ann.request("sendMessage", send("bob", "after leaving"))
            .await;
        assert_eq!(
            bob_elsewhere.next("new_notification").await["message"],
            "New message from ann"
        );

        // Viewing also ends when the viewing connection closes.
        bob_chat.request("joinRoom", json!(CHAT)).await;
        bob_chat.close().await;
        ann.request("sendMessage", send("bob", "after closing"))
            .await;
        bob_elsewhere.next("new_notification").await;
    }

    #[tokio::test]
    async fn a_known_chat_refuses_a_recipient_outside_it_and_strangers() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Calmora::default()), true);
        let people = vec![UserId::parse("ann").unwrap(), UserId::parse("bob").unwrap()];
        let (chat, _) = h
            .use_cases
            .open_conversation(&Requester::Service, people, ConversationContext::default())
            .await
            .unwrap();
        let mut ann = registered(&listener, "ann").await;
        let mut eve = registered(&listener, "eve").await;
        let to =
            |who: &str| json!({ "recipientId": who, "message": "hi", "chatId": chat.id.as_str() });
        let provisioned = ann.request("sendMessage", to("bob")).await;
        assert_eq!(provisioned["chatId"], chat.id.as_str(), "{provisioned}");
        let outside = ann.request("sendMessage", to("eve")).await;
        assert!(
            outside["error"]
                .as_str()
                .is_some_and(|e| e.contains("recipient")),
            "{outside}"
        );
        let stranger = eve.request("sendMessage", to("ann")).await;
        assert!(stranger["error"].is_string(), "{stranger}");
        let joined = eve.request("joinRoom", json!(chat.id.as_str())).await;
        assert!(joined["error"].is_string(), "{joined}");
        let blank = ann
            .request(
                "sendMessage",
                json!({ "recipientId": "bob", "message": " ", "chatId": chat.id.as_str() }),
            )
            .await;
        assert!(blank["error"].is_string(), "{blank}");
    }
}
