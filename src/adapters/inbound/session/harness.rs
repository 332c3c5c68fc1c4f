//! The session in process, for tests: the whole core on memory stores and the in-process
//! bus and registries, a hub delivering its events, and connections whose sinks record what
//! they are sent. Requests and dialects are tested here without Node or a socket.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::{Answer, ListenerContext, Refusal, Session, SessionLimits};
use crate::adapters::inbound::auth::Credentials;
use crate::adapters::inbound::hub::Hub;
use crate::adapters::inbound::hub::recorder::RecordingSink;
use crate::adapters::inbound::protocol::{Dialect, Emit, Handshake};
use crate::adapters::test_core::TestCore;
use crate::app::{Requester, UseCases};
use crate::domain::{ConversationContext, ConversationId, Identity, UserId};
use crate::ports::auth::MockTokenVerifier;
use crate::ports::{
    EventBus, EventSubscription, NodeId, PresenceRegistry, TokenError, TokenVerifier,
};

/// How long an event that must come may take.
const WAIT: Duration = Duration::from_secs(5);
/// How long to watch for an event that must not come.
const QUIET: Duration = Duration::from_millis(150);

pub struct Harness {
    pub use_cases: UseCases,
    _core: TestCore,
    pub presence: Arc<dyn PresenceRegistry>,
    bus: Arc<dyn EventBus>,
    hub: Arc<Hub>,
    tokens: Arc<dyn TokenVerifier>,
    _stop: watch::Sender<bool>,
}

/// The token a test user presents: `token_for("u1")` identifies `u1`.
pub fn token_for(user: &str) -> String {
    format!("token:{user}")
}

impl Harness {
    pub async fn new() -> Self {
        let core = TestCore::new().await;
        let hub = Hub::new(NodeId::new("test-node"));
        let (stop, stopped) = watch::channel(false);
        hub.clone().spawn(core.bus.subscribe(), stopped);
        let mut tokens = MockTokenVerifier::new();
        tokens.expect_verify().returning(|token| match token {
            "expired" => Err(TokenError::Expired),
            _ => token
                .strip_prefix("token:")
                .and_then(|user| UserId::parse(user).ok())
                .map(Identity::bare)
                .ok_or_else(|| TokenError::Invalid("not a test token".into())),
        });
        Self {
            use_cases: core.use_cases.clone(),
            presence: core.presence.clone(),
            bus: core.bus.clone(),
            _core: core,
            hub,
            tokens: Arc::new(tokens),
            _stop: stop,
        }
    }

    /// A conversation of `users` (ids), provisioned as the main app would.
    pub async fn conversation(&self, users: &[&str]) -> ConversationId {
        let people = users.iter().map(|u| UserId::parse(*u).unwrap()).collect();
        let (conversation, _) = self
            .use_cases
            .open_conversation(&Requester::Service, people, ConversationContext::default())
            .await
            .unwrap();
        conversation.id
    }

    /// Every domain event published from now on.
    pub fn events(&self) -> Box<dyn EventSubscription> {
        self.bus.subscribe()
    }

    /// A listener of `dialect`.
    pub fn listener(&self, dialect: Arc<dyn Dialect>, legacy_identity: bool) -> Listener {
        Listener(Arc::new(ListenerContext {
            name: dialect.name().to_owned(),
            hub: self.hub.clone(),
            listener: self.hub.add_listener(dialect),
            use_cases: self.use_cases.clone(),
            tokens: Some(self.tokens.clone()),
            legacy_identity,
            cookie_origins: Default::default(),
            limits: SessionLimits {
                max_frame_bytes: 64 * 1024,
                events_per_second: 0,
                outbound_buffer_bytes: 1024 * 1024,
                slow_reader_timeout: Duration::from_secs(30),
            },
        }))
    }
}

pub struct Listener(pub Arc<ListenerContext>);

impl Listener {
    /// Opens a connection presenting `credentials` and the handshake `auth` payload; the
    /// refusal when it is refused.
    pub async fn connect(&self, credentials: Credentials, auth: Value) -> Result<Client, Refusal> {
        let sink = Arc::new(RecordingSink::default());
        let handshake = Handshake {
            auth: &auth,
            query: &[],
        };
        let (session, greeting) =
            Session::open(self.0.clone(), &credentials, &handshake, sink.clone()).await?;
        Ok(Client {
            session: Some(session),
            sink,
            greeting,
        })
    }

    /// A connection of `user` with their token.
    pub async fn connect_as(&self, user: &str, auth: Value) -> Client {
        let credentials = Credentials {
            token: Some(token_for(user)),
            claimed_user: None,
        };
        self.connect(credentials, auth)
            .await
            .unwrap_or_else(|refusal| panic!("{user} refused: {}", refusal.error))
    }
}

/// One open connection.
pub struct Client {
    session: Option<Session>,
    sink: Arc<RecordingSink>,
    /// What the connection was greeted with when it opened.
    pub greeting: Vec<Emit>,
}

impl Client {
    /// Sends an event, with an ack or without; what the session answers.
    pub async fn answer(&mut self, event: &str, args: &Value, wants_ack: bool) -> Answer {
        self.session().handle(event, args, wants_ack).await
    }

    /// Sends an event without an ack.
    pub async fn emit(&mut self, event: &str, args: Value) -> Answer {
        self.answer(event, &args, false).await
    }

    /// Sends an event with an ack; returns the ack's value.
    pub async fn request(&mut self, event: &str, args: Value) -> Value {
        let answer = self.answer(event, &args, true).await;
        answer.ack.expect("an ack when one was asked for")
    }

    /// Waits for the next delivery of `event` from the hub and takes it.
    pub async fn next(&self, event: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(payload) = self.sink.take(event) {
                return payload;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {event} within {WAIT:?}; got {:?}",
                self.sink.events()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Fails if `event` is delivered within a short while.
    pub async fn none(&self, event: &str) {
        tokio::time::sleep(QUIET).await;
        if let Some(payload) = self.sink.take(event) {
            panic!("unexpected {event}: {payload}");
        }
    }

    pub async fn close(mut self) {
        if let Some(session) = self.session.take() {
            session.close().await;
        }
    }

    fn session(&mut self) -> &mut Session {
        self.session.as_mut().expect("the connection is open")
    }
}
