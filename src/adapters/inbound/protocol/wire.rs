//! What answers and events look like before a transport carries them: the error every
//! dialect shows, events for one connection (`Emit`, `Reply`), and events for many
//! (`Delivery` to an `Audience`).

use serde_json::Value;

use crate::app::AppError;
use crate::domain::{ConversationId, Seq, UserId};

/// A refused request, in words a client developer can act on, and its kind as a stable
/// code. Every Socket.IO dialect shows only the words, as `{ "message": … }` in an `error`
/// event or `{ "error": … }` in an ack (see `crate::adapters::inbound::session::Answer`); the
/// native protocol shows both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String, pub ErrorCode);

impl WireError {
    /// A request that is wrong as sent (`bad_request`).
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into(), ErrorCode::BadRequest)
    }

    pub fn coded(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(message.into(), code)
    }

    pub fn code(&self) -> ErrorCode {
        self.1
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<AppError> for WireError {
    fn from(e: AppError) -> Self {
        let code = match &e {
            AppError::Invalid(_) => ErrorCode::BadRequest,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Conflict(_) => ErrorCode::Conflict,
            AppError::TooLarge(_) => ErrorCode::TooLarge,
            AppError::Limited(_) => ErrorCode::LimitReached,
            AppError::Unavailable => ErrorCode::Unavailable,
        };
        Self(e.to_string(), code)
    }
}

/// The kind of a refusal, for programs: the words may change, these names do not
/// (docs/PROTOCOL.md lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is malformed or breaks a content rule; sending it again will not help.
    BadRequest,
    /// No valid credentials: missing, expired or invalid token, or not identified yet.
    Unauthenticated,
    /// Identified, but not allowed (not a participant, not the sender, roles not allowed).
    Forbidden,
    NotFound,
    /// Clashes with the current state (callee busy, id taken).
    Conflict,
    /// Larger than a configured limit (a frame, a file).
    TooLarge,
    /// Too many requests per second: slow down and retry.
    RateLimited,
    /// A configured limit on how much one user may have (open connections).
    LimitReached,
    /// The server could not complete it (a database outage); nothing was stored: retry.
    Unavailable,
    /// The connection's dialect has no such request type.
    UnknownType,
    /// Too many requests waiting for their answers on this connection: slow down.
    SlowDown,
    /// A frame that is not a request (not JSON, not an object, no `type`).
    BadFrame,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::TooLarge => "too_large",
            Self::RateLimited => "rate_limited",
            Self::LimitReached => "limit_reached",
            Self::Unavailable => "unavailable",
            Self::UnknownType => "unknown_type",
            Self::SlowDown => "slow_down",
            Self::BadFrame => "bad_frame",
        }
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
    /// The message it shows, for a transport that replays history (see [`Position`]).
    pub position: Option<Position>,
}

/// Where an event sits in a conversation's history: the seq of the message it carries. A
/// connection that was just sent the history up to some seq (a resumed native connection)
/// skips live copies at or below it, so a message reaches it once.
pub type Position = (ConversationId, Seq);

impl Delivery {
    pub fn new(audience: Audience, event: &'static str, payload: Value) -> Self {
        Self {
            audience,
            event,
            payload,
            to_origin: false,
            except_user: None,
            position: None,
        }
    }

    /// The event carries this message of the conversation.
    #[must_use]
    pub fn at(mut self, conversation: &ConversationId, seq: Seq) -> Self {
        self.position = Some((conversation.clone(), seq));
        self
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
