//! What answers and events look like before a transport carries them: the error every
//! dialect shows, events for one connection (`Emit`, `Reply`), and events for many
//! (`Delivery` to an `Audience`).

use serde_json::Value;

use crate::app::AppError;
use crate::domain::{ConversationId, UserId};

/// A refused request, in words a client developer can act on. Every dialect shows it as
/// `{ "message": … }` in an `error` event, or `{ "error": … }` in an ack (see
/// `crate::adapters::inbound::session::Answer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl WireError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<AppError> for WireError {
    fn from(e: AppError) -> Self {
        Self(e.to_string())
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

    #[must_use]
    pub fn including_origin(mut self) -> Self {
        self.to_origin = true;
        self
    }

    #[must_use]
    pub fn except(mut self, user: &UserId) -> Self {
        self.except_user = Some(user.clone());
        self
    }
}
