//! The one trait a client family implements: how its connections identify, what they run
//! on connect, the table of its inbound events, how domain events are rendered in its
//! names and shapes, and its REST routes. Implementations are pure and stateless: they do no
//! I/O (the session runs what they decode, the hub delivers what they render).

use axum::Router;
use serde_json::Value;

use super::wire::{Delivery, Reply, WireError};
use crate::adapters::inbound::session::{Call, EventTable};
use crate::adapters::inbound::transports::http::RestState;
use crate::domain::{Conversation, ConversationId, DomainEvent, UserProfile};

pub trait Dialect: Send + Sync + 'static {
    /// The name listeners are configured with.
    fn name(&self) -> &'static str;

    /// How a connection says who it is.
    fn identity(&self) -> IdentityMode {
        IdentityMode::Handshake
    }

    /// What a connection runs as soon as it is identified, before it serves events (bind to
    /// the handshake's conversation, receive pending notifications, …); their events are its
    /// greeting. Decoded at connect, so a bad handshake is refused at once. A failing call
    /// refuses the connection: nothing of it is kept, and it is closed after the error.
    fn on_connect(&self, _handshake: &Handshake<'_>) -> Result<Vec<Call>, WireError> {
        Ok(Vec::new())
    }

    /// Whether its clients connect over the raw WebSocket (the native framing, `/ws`)
    /// rather than Socket.IO: the transport its listeners get by default.
    fn speaks_raw_websocket(&self) -> bool {
        false
    }

    /// The inbound events: each with its decoding and its reply.
    fn events(&self) -> &EventTable;

    /// A domain event for this dialect's connections (empty when the family has no such event).
    fn render(&self, event: &DomainEvent) -> Vec<Delivery>;

    /// The family's REST routes (served beside the provisioning API and health).
    fn rest(&self) -> Router<RestState> {
        Router::new()
    }
}

/// How a dialect's connections identify their user.
pub enum IdentityMode {
    /// At the handshake: a token, or with legacy identity a bare `userId`.
    Handshake,
    /// At the handshake as well, or, for a connection that presents nothing there, with an
    /// event after connecting (trusted only with legacy identity); until then nothing else
    /// is accepted. On an identified connection the event must name the same user.
    AfterConnect(IdentifyEvent),
}

/// The event that identifies a connection of an `AfterConnect` dialect.
pub struct IdentifyEvent {
    pub event: &'static str,
    /// The user id the client claims, as sent.
    pub decode: fn(&Value) -> Result<String, WireError>,
    /// The answer once identified (also to a repeat by the same user).
    pub reply: fn(&UserProfile) -> Reply,
}

/// What a connection handshake carried besides the credentials.
pub struct Handshake<'a> {
    /// The Socket.IO `auth` payload (`Null` when the client sent none).
    pub auth: &'a Value,
    /// The handshake URL's query parameters.
    pub query: &'a [(String, String)],
}

impl Handshake<'_> {
    /// A handshake parameter from `auth`, else from the query string.
    pub fn param(&self, name: &str) -> Option<String> {
        match self.auth.get(name) {
            Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
            Some(Value::Number(n)) => return Some(n.to_string()),
            _ => {}
        }
        self.query
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    }
}

/// What a dialect may know about an identified connection when it decodes and replies.
pub struct SessionView<'a> {
    pub user: &'a UserProfile,
    /// The conversation the connection is bound to (`BindConversation`), if any.
    pub bound: Option<&'a Conversation>,
}

impl SessionView<'_> {
    pub fn bound_id(&self) -> Result<&ConversationId, WireError> {
        self.bound
            .map(|c| &c.id)
            .ok_or_else(|| WireError::new("this connection is not bound to a conversation"))
    }
}
