//! The typing registry: who is typing in which conversation, until when. Ephemeral: a lost
//! registry only loses "is typing" hints. Local to one process, or shared by all nodes; every
//! adapter passes the contract suite in `tests/integration/typing_contract.rs`, which checks
//! the MUST sentences below. States follow `crate::domain::TypingBoard`'s rules: each start
//! pushes the state's end `expiry` (the adapter's setting) past `now`.

use async_trait::async_trait;

use crate::domain::{ConversationId, Timestamp, TypingChange, UserId};

#[derive(Debug, thiserror::Error)]
pub enum TypingError {
    #[error("typing registry unavailable: {0}")]
    Unavailable(String),
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TypingRegistry: Send + Sync {
    /// `user` is typing in `conversation` as of `now`: the state MUST last until `now` plus
    /// the expiry, also when it already existed (a repeated start keeps it alive).
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn start(
        &self,
        user: &UserId,
        conversation: &ConversationId,
        now: Timestamp,
    ) -> Result<TypingChange, TypingError>;

    /// `user` stopped typing: the state MUST be gone, so no expiry reports it later.
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn stop(
        &self,
        user: &UserId,
        conversation: &ConversationId,
        now: Timestamp,
    ) -> Result<TypingChange, TypingError>;

    /// Removes every state that ended at or before `now` and returns a stop for each. Each
    /// state MUST be returned by one call only, however many nodes sweep.
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn expire(&self, now: Timestamp) -> Result<Vec<TypingChange>, TypingError>;

    /// Removes every state of `user` (their last connection closed) and returns a stop for
    /// each, once.
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn clear_user(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<Vec<TypingChange>, TypingError>;
}
