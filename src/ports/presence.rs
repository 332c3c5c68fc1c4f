//! The presence registry: which connections are open for which user, on which node, what each
//! connection is viewing, and the manual offline switch. Local to one process, or shared by all
//! nodes. Counting connections (not a number per user) is what lets a cluster forget the
//! connections of a node that died without closing them. Every adapter passes the same
//! contract suite (`tests/integration/presence_contract.rs`), which checks the MUST sentences
//! below.

use async_trait::async_trait;

use super::connection::{ConnectionRef, NodeId};
use crate::domain::{ConversationId, PresenceState, PresenceTransition, UserId};

#[derive(Debug, thiserror::Error)]
pub enum PresenceError {
    #[error("presence registry unavailable: {0}")]
    Unavailable(String),
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PresenceRegistry: Send + Sync {
    /// Records `conn` as an open connection of `user` and returns the user's state before and
    /// after, read and changed atomically (two connections opening at once see different
    /// befores).
    ///
    /// Opening a connection that is already open MUST change nothing (before equals after);
    /// opening it for another user MUST first close it for the one it had.
    ///
    /// # Errors
    /// When the registry cannot be reached; nothing is recorded then.
    async fn connection_opened(
        &self,
        conn: &ConnectionRef,
        user: &UserId,
    ) -> Result<PresenceTransition, PresenceError>;

    /// Forgets `conn` and everything it was viewing, atomically, and returns its user's state
    /// before and after. MUST return `None` for a connection that is not open (never opened,
    /// or already closed), so closing twice counts once.
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn connection_closed(
        &self,
        conn: &ConnectionRef,
    ) -> Result<Option<PresenceTransition>, PresenceError>;

    /// Forgets every connection open on `node` (a node that stopped without closing them),
    /// with what they were viewing. MUST return one transition per user who had a connection
    /// there, and leave other nodes' connections as they were.
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn node_gone(&self, node: &NodeId) -> Result<Vec<PresenceTransition>, PresenceError>;

    /// Sets or clears the user's manual offline switch. The switch MUST outlive the user's
    /// connections (a user who went offline stays offline across reconnects).
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn set_manual_offline(
        &self,
        user: &UserId,
        offline: bool,
    ) -> Result<PresenceTransition, PresenceError>;

    /// The user's open connections on every node, and the switch.
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn state(&self, user: &UserId) -> Result<PresenceState, PresenceError>;

    /// The open connection `conn` starts (`true`) or stops (`false`) viewing a conversation.
    /// Repeating it MUST change nothing; for a connection that is not open it MUST be ignored.
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn set_viewing(
        &self,
        conn: &ConnectionRef,
        conversation: &ConversationId,
        viewing: bool,
    ) -> Result<(), PresenceError>;

    /// Whether any open connection of `user`, on any node, is viewing the conversation.
    ///
    /// # Errors
    /// When the registry cannot be reached.
    async fn is_viewing(
        &self,
        user: &UserId,
        conversation: &ConversationId,
    ) -> Result<bool, PresenceError>;
}
