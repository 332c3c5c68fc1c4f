//! Store ports: where conversations, messages, notifications, user profiles and live call
//! sessions are kept. Every adapter (memory, SQLite, PostgreSQL, MongoDB) passes the same
//! contract suite (`tests/integration/store_contract`), which checks the MUST sentences below.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::conversation::MarkKind;
use crate::domain::{
    CallId, CallSession, Conversation, ConversationId, Message, MessageId, NewMessage,
    Notification, NotificationId, ReadMark, Seq, Timestamp, UserId, UserProfile,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing the operation needs does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness rule refused the write (an id already taken, a party already in a call).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or failed; the operation did not happen.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back into the domain (a corrupt or foreign row).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

/// A window on a list: `skip` items from the newest, then up to `limit` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub skip: u64,
}

impl Page {
    pub const MAX_LIMIT: u32 = 200;

    /// Clamps `limit` to 1..=MAX_LIMIT.
    pub fn new(limit: u32, skip: u64) -> Self {
        Self {
            limit: limit.clamp(1, Self::MAX_LIMIT),
            skip,
        }
    }

    /// `page` counts from 1 (the newest `limit` items).
    pub fn numbered(page: u32, limit: u32) -> Self {
        let limit = limit.clamp(1, Self::MAX_LIMIT);
        Self {
            limit,
            skip: u64::from(page.max(1) - 1) * u64::from(limit),
        }
    }
}

/// The result of appending a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: Message,
    /// `true` when the idempotency key matched an earlier message, which is returned instead
    /// and nothing was written.
    pub duplicate: bool,
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Returns the conversation with the same participant set and context as `candidate`
    /// (see `Conversation::identity_key`), creating `candidate` if there is none; the flag
    /// says whether it was created.
    ///
    /// # Errors
    /// MUST return the same conversation to every caller, also under concurrent calls.
    /// MUST return `Conflict` when `candidate.id` is taken by a conversation with another key.
    async fn get_or_create(
        &self,
        candidate: &Conversation,
    ) -> Result<(Conversation, bool), StoreError>;

    /// `Ok(None)` when there is no such conversation.
    async fn get(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError>;

    /// The user's conversations that are visible to them (not hidden), newest activity first.
    async fn list_for_user(
        &self,
        user: &UserId,
        page: Page,
    ) -> Result<Vec<Conversation>, StoreError>;

    /// Hides the conversation from `user`'s list until a message after `through` arrives.
    ///
    /// # Errors
    /// MUST return `NotFound` when the conversation does not exist or `user` is not in it.
    async fn hide_for(
        &self,
        id: &ConversationId,
        user: &UserId,
        through: Seq,
    ) -> Result<(), StoreError>;

    /// Moves a participant's delivered or read mark up to `mark.up_to`, never down. A read
    /// mark also moves the delivered mark. Returns whether anything moved.
    ///
    /// # Errors
    /// MUST return `NotFound` when the conversation does not exist or the user is not in it.
    async fn save_mark(&self, mark: &ReadMark, kind: MarkKind) -> Result<bool, StoreError>;

    /// Unread messages over all of the user's conversations (hidden ones included).
    async fn total_unread(&self, user: &UserId) -> Result<u64, StoreError>;

    /// Everyone who shares at least one conversation with `user`, without `user`, no repeats.
    async fn contacts_of(&self, user: &UserId) -> Result<Vec<UserId>, StoreError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a message as the conversation's next seq, in one atomic step with the
    /// conversation's changes (see `Conversation::apply_posted`): last seq, last message,
    /// activity time, and the sender's read and delivered marks moved to the new seq.
    ///
    /// # Errors
    /// MUST assign seqs 1, 2, 3, … per conversation with no gap and no repeat, also under
    /// concurrent appends. MUST return the earlier message with `duplicate: true` and write
    /// nothing when the sender already posted a message with the same client key in the same
    /// conversation. MUST return `NotFound` when the conversation does not exist.
    async fn append(&self, message: &NewMessage) -> Result<Appended, StoreError>;

    /// `Ok(None)` when there is no such message.
    async fn get(&self, id: &MessageId) -> Result<Option<Message>, StoreError>;

    /// A page of history: skip `page.skip` newest messages, take up to `page.limit` of the
    /// next older ones, returned oldest first.
    async fn page(
        &self,
        conversation: &ConversationId,
        page: Page,
    ) -> Result<Vec<Message>, StoreError>;

    /// Catch-up: up to `limit` messages with seq greater than `after`, oldest first.
    async fn after(
        &self,
        conversation: &ConversationId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;

    /// Saves an edit (text and `edited_at`) of an existing message.
    ///
    /// # Errors
    /// MUST return `NotFound` when the message does not exist.
    async fn save_edit(&self, message: &Message) -> Result<(), StoreError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// # Errors
    /// MUST return `Conflict` when the id is taken.
    async fn insert(&self, notification: &Notification) -> Result<(), StoreError>;

    async fn get(&self, id: &NotificationId) -> Result<Option<Notification>, StoreError>;

    /// Marks the listed notifications delivered at `at`; returns the ids that were not
    /// delivered before (each id is returned by at most one call, ever).
    async fn mark_delivered(
        &self,
        ids: &[NotificationId],
        at: Timestamp,
    ) -> Result<Vec<NotificationId>, StoreError>;

    /// Atomically takes at most `limit` of the user's undelivered notifications, the oldest
    /// first (by creation time, then id): marks them delivered at `at` and returns them (with
    /// `delivered_at` set), oldest first. A connection delivers its backlog in batches of
    /// this size, each no larger than what it can queue, instead of marking everything
    /// delivered at once and losing what did not fit. A notification is taken by at most one
    /// call, also under concurrent calls (which then share out the oldest ones between them).
    /// `limit` 0 takes nothing.
    async fn take_pending(
        &self,
        user: &UserId,
        at: Timestamp,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError>;

    /// Gives taken notifications back: those of `ids` that are delivered become undelivered
    /// again (no delivery time, and no trace of the take that claimed them), so that a later
    /// `take_pending` returns them again. It is for a connection that took a batch but could
    /// not queue it (it closed, or its buffer was full): without it, that batch would stay
    /// marked delivered and never reach the user. Returns how many were released; unknown
    /// and undelivered ids are ignored.
    async fn release(&self, ids: &[NotificationId]) -> Result<u64, StoreError>;

    /// Marks one notification read; returns whether it was unread.
    ///
    /// # Errors
    /// MUST return `NotFound` when there is no such notification.
    async fn mark_read(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError>;

    /// Marks all of the user's notifications read; returns how many were unread.
    async fn mark_all_read(&self, user: &UserId, at: Timestamp) -> Result<u64, StoreError>;

    async fn unread_count(&self, user: &UserId) -> Result<u64, StoreError>;

    /// The user's notifications, newest first.
    async fn list_for(&self, user: &UserId, page: Page) -> Result<Vec<Notification>, StoreError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait UserDirectory: Send + Sync {
    async fn get(&self, id: &UserId) -> Result<Option<UserProfile>, StoreError>;

    /// The known profiles among `ids`, in any order; unknown ids are left out.
    async fn get_many(&self, ids: &[UserId]) -> Result<Vec<UserProfile>, StoreError>;

    /// Creates or replaces name, email, avatar and role; keeps `last_active`.
    async fn upsert(&self, profile: &UserProfile) -> Result<(), StoreError>;

    /// Records when the user's last connection closed, creating a bare entry if needed.
    async fn record_last_active(&self, id: &UserId, at: Timestamp) -> Result<(), StoreError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait CallSessionStore: Send + Sync {
    /// Registers a new ringing call.
    ///
    /// # Errors
    /// MUST return `Conflict`, and store nothing, when the caller or the callee already has a
    /// call in this store, also under concurrent calls: that is how "busy" holds across nodes.
    async fn start(&self, session: &CallSession) -> Result<(), StoreError>;

    async fn get(&self, id: &CallId) -> Result<Option<CallSession>, StoreError>;

    /// The call the user is a party to, if any (there is at most one).
    async fn live_call_of(&self, user: &UserId) -> Result<Option<CallSession>, StoreError>;

    /// Saves a state change (ringing → active).
    ///
    /// # Errors
    /// MUST return `NotFound` when the call is no longer there.
    async fn update(&self, session: &CallSession) -> Result<(), StoreError>;

    /// Removes a finished call; returns whether it was there, so that exactly one of several
    /// racing enders records the call.
    async fn finish(&self, id: &CallId) -> Result<bool, StoreError>;

    /// Calls still ringing that were placed before `before`.
    async fn ringing_since_before(&self, before: Timestamp)
    -> Result<Vec<CallSession>, StoreError>;
}

/// One backend's implementations of every store port.
#[derive(Clone)]
pub struct Stores {
    pub conversations: Arc<dyn ConversationStore>,
    pub messages: Arc<dyn MessageStore>,
    pub notifications: Arc<dyn NotificationStore>,
    pub users: Arc<dyn UserDirectory>,
    pub calls: Arc<dyn CallSessionStore>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_clamp_their_limit_and_count_from_one() {
        assert_eq!(Page::new(0, 3), Page { limit: 1, skip: 3 });
        assert_eq!(Page::new(10_000, 0).limit, Page::MAX_LIMIT);
        assert_eq!(Page::numbered(1, 20), Page { limit: 20, skip: 0 });
        assert_eq!(
            Page::numbered(3, 20),
            Page {
                limit: 20,
                skip: 40
            }
        );
        assert_eq!(Page::numbered(0, 20), Page { limit: 20, skip: 0 });
    }
}
