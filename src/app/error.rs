//! The one error type of the use cases. Each variant maps to one kind of answer a client
//! gets (bad input, forbidden, not found, conflict, server trouble); inbound adapters render
//! it in their dialect. Causes of server trouble are logged here, never shown to clients.

use crate::domain::{
    CallError, ConversationError, IdError, MessageError, NotificationError, PolicyError,
};
use crate::ports::{BlobError, PresenceError, StoreError, TypingError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// The request itself is wrong (blank text, bad id, too long, …).
    #[error("{0}")]
    Invalid(String),
    /// The caller may not do this (not a participant, not the sender, roles not allowed).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with the current state (callee busy, id taken).
    #[error("{0}")]
    Conflict(String),
    /// Something the client sent is larger than the configured limit (an uploaded file).
    #[error("{0}")]
    TooLarge(String),
    /// A configured limit on how much of something one user may have (open connections).
    #[error("{0}")]
    Limited(String),
    /// Something on our side failed; nothing was acknowledged. The cause was logged.
    #[error("the server could not complete the request; try again")]
    Unavailable,
}

impl AppError {
    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }
}

/// What a client is told when a write clashes with stored data.
const CONFLICT: &str = "this clashes with something already stored (an id already taken?)";

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(format!("{what} not found")),
            // The store's words may be the database's (a constraint's name, a value): they
            // go to the log, the client gets what it can act on.
            StoreError::Conflict(detail) => {
                tracing::info!(%detail, "write refused by a uniqueness rule");
                AppError::Conflict(CONFLICT.into())
            }
            StoreError::Unavailable(_) | StoreError::Corrupt(_) => {
                tracing::error!(error = %e, "store operation failed");
                AppError::Unavailable
            }
        }
    }
}

impl From<PresenceError> for AppError {
    fn from(e: PresenceError) -> Self {
        tracing::error!(error = %e, "presence registry failed");
        AppError::Unavailable
    }
}

impl From<TypingError> for AppError {
    fn from(e: TypingError) -> Self {
        tracing::error!(error = %e, "typing registry failed");
        AppError::Unavailable
    }
}

impl From<BlobError> for AppError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::TooLarge { .. } => AppError::TooLarge(e.to_string()),
            BlobError::Backend(_) => {
                tracing::error!(error = %e, "blob store failed");
                AppError::Unavailable
            }
        }
    }
}

impl From<IdError> for AppError {
    fn from(e: IdError) -> Self {
        AppError::Invalid(e.to_string())
    }
}

impl From<ConversationError> for AppError {
    fn from(e: ConversationError) -> Self {
        match e {
            ConversationError::NotParticipant(_) => {
                AppError::Forbidden("you are not a participant of this conversation".into())
            }
            ConversationError::TooFewParticipants
            | ConversationError::BadContextKey(_)
            | ConversationError::BadId(_) => AppError::Invalid(e.to_string()),
        }
    }
}

impl From<MessageError> for AppError {
    fn from(e: MessageError) -> Self {
        match e {
            MessageError::Conversation(inner) => inner.into(),
            MessageError::NotSender => AppError::Forbidden(e.to_string()),
            _ => AppError::Invalid(e.to_string()),
        }
    }
}

impl From<PolicyError> for AppError {
    fn from(e: PolicyError) -> Self {
        AppError::Forbidden(e.to_string())
    }
}

impl From<NotificationError> for AppError {
    fn from(e: NotificationError) -> Self {
        match e {
            // Someone else's notification is, to the caller, no notification at all.
            NotificationError::NotRecipient => AppError::not_found("notification"),
            _ => AppError::Invalid(e.to_string()),
        }
    }
}

impl From<CallError> for AppError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Conversation(inner) => inner.into(),
            CallError::CalleeBusy | CallError::CallerBusy => AppError::Conflict(e.to_string()),
            CallError::NoSuchCall => AppError::NotFound(e.to_string()),
            CallError::NotParty | CallError::NotCallee => AppError::Forbidden(e.to_string()),
            CallError::SelfCall | CallError::NotRinging | CallError::NotLive => {
                AppError::Invalid(e.to_string())
            }
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_conflict_never_shows_the_database_text() {
        let raw = StoreError::Conflict(
            "UNIQUE constraint failed: messages.conversation_id, messages.client_key".into(),
        );
        let AppError::Conflict(message) = AppError::from(raw) else {
            panic!("a conflict stays a conflict");
        };
        assert!(
            !message.contains("UNIQUE") && !message.contains("messages."),
            "{message}"
        );
    }
}
