//! The presence registry: open connections per user, the manual offline switch, and which
//! conversations a user is viewing. Local to one process, or shared by all nodes.

use async_trait::async_trait;

use crate::domain::{ConversationId, PresenceState, UserId};

#[derive(Debug, thiserror::Error)]
pub enum PresenceError {
    #[error("presence registry unavailable: {0}")]
    Unavailable(String),
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PresenceRegistry: Send + Sync {
    /// Counts one more open connection; returns the state before and after, atomically.
    async fn connection_opened(
        &self,
        user: &UserId,
    ) -> Result<(PresenceState, PresenceState), PresenceError>;

    /// Counts one connection fewer (never below zero); returns the state before and after.
    async fn connection_closed(
        &self,
        user: &UserId,
    ) -> Result<(PresenceState, PresenceState), PresenceError>;

    /// Sets or clears the manual offline switch; returns the state before and after.
    async fn set_manual_offline(
        &self,
        user: &UserId,
        offline: bool,
    ) -> Result<(PresenceState, PresenceState), PresenceError>;

    async fn state(&self, user: &UserId) -> Result<PresenceState, PresenceError>;

    /// One connection starts (`true`) or stops (`false`) viewing a conversation. Viewing is
    /// counted per connection: the user views it while any of their connections does.
    async fn set_viewing(
        &self,
        user: &UserId,
        conversation: &ConversationId,
        viewing: bool,
    ) -> Result<(), PresenceError>;

    async fn is_viewing(
        &self,
        user: &UserId,
        conversation: &ConversationId,
    ) -> Result<bool, PresenceError>;
}
