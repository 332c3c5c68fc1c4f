//! Dialect codecs: the pure tables that give each client family's frames their meaning.
//! Inbound, a codec turns an event name and its JSON arguments into a [`Command`] for the
//! core; outbound, it turns an [`Outcome`] (the answer to the requesting connection) and a
//! [`DomainEvent`] (news for other connections) into that family's event names and payloads.
//! Codecs do no I/O: the session runs the commands and the connection hub delivers events.

pub mod args;
pub mod command;
#[cfg(test)]
mod fixtures;
pub mod linsta;
pub mod quickclinic;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::app::config::Dialect;
use crate::app::error::AppError;
use crate::domain::{Conversation, ConversationId, DomainEvent, UserId, UserProfile};

pub use command::{Command, HistoryWindow, Outcome};

/// A refused request, in words a client developer can act on. Every dialect shows it as
/// `{ "message": … }` in an `error` event, or `{ "error": … }` in an ack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl WireError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<AppError> for WireError {
    fn from(e: AppError) -> Self {
        Self(e.to_string())
    }
}

/// What a codec may know about the connection it decodes for.
pub struct SessionView<'a> {
    pub user: &'a UserProfile,
    /// The conversation the connection was bound to at its handshake (quickclinic's relation).
    pub bound: Option<&'a Conversation>,
}

impl SessionView<'_> {
    pub fn bound_id(&self) -> Result<&ConversationId, WireError> {
        self.bound
            .map(|c| &c.id)
            .ok_or_else(|| WireError::new("this connection is not bound to a conversation"))
    }
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

/// One event to send to one connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Emit {
    pub event: &'static str,
    pub payload: Value,
}

impl Emit {
    pub fn new(event: &'static str, payload: Value) -> Self {
        Self { event, payload }
    }
}

/// The answer to one request: the ack value (used when the client asked for one) and the
/// events the requesting connection gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub ack: Value,
    pub emits: Vec<Emit>,
}

impl Reply {
    pub fn ack_only(ack: Value) -> Self {
        Self { ack, emits: vec![] }
    }

    /// The usual shape: one event, whose payload is also the ack.
    pub fn event(event: &'static str, payload: Value) -> Self {
        Self {
            ack: payload.clone(),
            emits: vec![Emit::new(event, payload)],
        }
    }
}

/// Which connections of a listener an event goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Connections that joined (are viewing) the conversation.
    Room(ConversationId),
    /// Every connection of these users.
    Users(Vec<UserId>),
}

/// A rendered domain event for some connections of one dialect.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub audience: Audience,
    pub event: &'static str,
    pub payload: Value,
    /// Whether the connection the change came from gets it too (the family's server
    /// broadcast to the whole room), or only its ack.
    pub to_origin: bool,
    /// A user none of whose connections get it (the typist of a typing event).
    pub except_user: Option<UserId>,
}

impl Delivery {
    pub fn new(audience: Audience, event: &'static str, payload: Value) -> Self {
        Self {
            audience,
            event,
            payload,
            to_origin: false,
            except_user: None,
        }
    }

    pub fn including_origin(mut self) -> Self {
        self.to_origin = true;
        self
    }

    pub fn except(mut self, user: &UserId) -> Self {
        self.except_user = Some(user.clone());
        self
    }
}

/// A client family's protocol. Implementations are pure and stateless.
pub trait DialectCodec: Send + Sync + 'static {
    fn dialect(&self) -> Dialect;

    /// What a new, authenticated connection does before it serves events (bind to the
    /// handshake's conversation, receive pending notifications, …). A failing command
    /// refuses the connection.
    fn on_connect(&self, handshake: &Handshake<'_>) -> Result<Vec<Command>, WireError>;

    /// An inbound event. Unknown events are errors too: the client learns it was not understood.
    fn decode(
        &self,
        session: &SessionView<'_>,
        event: &str,
        args: &Value,
    ) -> Result<Command, WireError>;

    /// The answer to the requesting connection.
    fn reply(&self, session: &SessionView<'_>, outcome: &Outcome) -> Reply;

    /// A domain event for this dialect's connections (empty when the family has no such event).
    fn render(&self, event: &DomainEvent) -> Vec<Delivery>;

    /// The error event of every dialect: `error { message }`.
    fn error(&self, error: &WireError) -> Emit {
        Emit::new("error", json!({ "message": error.0 }))
    }

    /// The ack of a refused request: `{ error }`.
    fn error_ack(&self, error: &WireError) -> Value {
        json!({ "error": error.0 })
    }
}

/// The codec of a configured dialect; `None` for dialects not implemented yet.
pub fn codec_for(dialect: Dialect) -> Option<Arc<dyn DialectCodec>> {
    match dialect {
        Dialect::Linsta => Some(Arc::new(linsta::Linsta)),
        Dialect::Quickclinic => Some(Arc::new(quickclinic::Quickclinic)),
        Dialect::Calmora | Dialect::Marketplace | Dialect::Kaajkaam | Dialect::Native => None,
    }
}
