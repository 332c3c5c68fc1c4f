//! Import ports: reading a Node server's existing data (`LegacySource`) and writing it into
//! this server's store with its ids, seqs and marks decided (`ImportSink`). `switchboard
//! import` (`crate::app::import`) joins the two; docs/MIGRATION.md is the operator's guide.
//!
//! A source maps its family's documents or rows to the records below (field names are the
//! adapter's business: family defaults plus a mapping file). A record that cannot be mapped
//! (a bad id, a missing required field) comes back as `Read::Unreadable` and is reported, not
//! a reason to stop.

use std::collections::HashSet;

use async_trait::async_trait;

pub use crate::domain::LegacyRead;
use crate::domain::{
    Conversation, ConversationContext, ConversationId, FlaggedMessage, Message, MessageBody,
    MessageId, Notification, Seq, Timestamp, UserId, UserProfile,
};
use crate::ports::StoreError;

/// The source database failed (unreachable, a query refused); the import stops there and a
/// later run continues from what was written.
#[derive(Debug, thiserror::Error)]
#[error("legacy source: {0}")]
pub struct SourceError(pub String);

/// One item of a source's stream: a mapped record, or why a document or row could not be.
#[derive(Debug, Clone, PartialEq)]
pub enum Read<T> {
    Record(T),
    Unreadable {
        /// The document's or row's id as the source shows it (empty when it has none).
        id: String,
        reason: String,
    },
}

/// A conversation (chat, chat room, relation) as the legacy database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyConversation {
    pub id: ConversationId,
    pub participants: Vec<UserId>,
    /// What this family's dialect puts in the context of such a conversation (orderId,
    /// doctorId/patientId, the chosen id of a chat named by its client, …), so that its
    /// lookups find it.
    pub context: ConversationContext,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
    /// The legacy per-user unread counter (an `unreadCount` map), for the report.
    pub unread_counts: Vec<(UserId, u64)>,
    /// `false` when the legacy server soft-deleted it (`isActive: false`).
    pub active: bool,
}

/// A message as the legacy database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub sender: UserId,
    /// Kept as it was, also where today's rules would refuse it (blank text): history is
    /// imported, not re-validated.
    pub body: MessageBody,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub read: LegacyRead,
    /// The recipients' `delivered` flag, when the family kept one.
    pub delivered: Option<bool>,
}

impl LegacyMessage {
    /// What the read-state rule looks at (`crate::domain::ReadFold`).
    pub fn flags(&self) -> FlaggedMessage<'_> {
        FlaggedMessage {
            id: &self.id,
            sender: &self.sender,
            created_at: self.created_at,
            read: &self.read,
            delivered: self.delivered,
        }
    }
}

/// How much the source holds, for the progress bar and the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegacyCounts {
    pub conversations: u64,
    pub messages: u64,
    pub notifications: u64,
    pub users: u64,
}

/// A cursor over one kind of record, read in batches of at most `max`; `None` at the end.
#[async_trait]
pub trait Batches<T>: Send {
    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Read<T>>>, SourceError>;
}

/// A Node server's database, read in the order the import needs.
#[async_trait]
pub trait LegacySource: Send + Sync {
    async fn counts(&self) -> Result<LegacyCounts, SourceError>;

    /// Every message, grouped by conversation (each conversation's messages consecutive) and
    /// in creation order within a conversation (created_at, then id).
    async fn messages(&self) -> Result<Box<dyn Batches<LegacyMessage>>, SourceError>;

    /// Every conversation, in id order.
    async fn conversations(&self) -> Result<Box<dyn Batches<LegacyConversation>>, SourceError>;

    /// One conversation by id, `Ok(None)` when there is none (or it cannot be mapped, which
    /// `conversations()` reports).
    async fn conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Option<LegacyConversation>, SourceError>;

    /// Every notification, with its read and delivered state, in id order.
    async fn notifications(&self) -> Result<Box<dyn Batches<Notification>>, SourceError>;

    /// Every user profile the source keeps, in id order (`last_active` where known).
    async fn users(&self) -> Result<Box<dyn Batches<UserProfile>>, SourceError>;
}

/// Where imported data goes: a store, written with ids, seqs and marks already decided.
/// Implemented by every durable store (SQLite, PostgreSQL, MongoDB) and the memory store,
/// all checked by one contract suite.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ImportSink: Send + Sync {
    /// The stored conversation, `Ok(None)` when there is none.
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError>;

    /// The id of the stored conversation with this identity key (`Conversation::key`), if any.
    async fn conversation_with_key(&self, key: &str) -> Result<Option<ConversationId>, StoreError>;

    /// The highest seq among the conversation's stored messages; `Seq::ZERO` when none.
    async fn max_seq(&self, conversation: &ConversationId) -> Result<Seq, StoreError>;

    /// Which of `ids` are stored in `conversation`, each with its seq, in any order.
    async fn stored_seqs(
        &self,
        conversation: &ConversationId,
        ids: &[MessageId],
    ) -> Result<Vec<(MessageId, Seq)>, StoreError>;

    /// Inserts `messages` (none of them stored yet, seqs decided, all of `conversation`) and
    /// creates or replaces `conversation` as it stands after them: participants in order with
    /// their marks and hidden state, context, identity key, times, last seq and last message.
    /// Atomic where the store has transactions; on MongoDB without them the messages are
    /// written first, so that an interrupted import never leaves a last seq above them.
    ///
    /// # Errors
    /// MUST return `Conflict` and write nothing when a message id or (conversation, seq) is
    /// taken, or when another conversation holds the identity key.
    async fn save(
        &self,
        conversation: &Conversation,
        messages: &[Message],
    ) -> Result<(), StoreError>;

    /// Inserts the notifications that are not stored; of those that are, sets `read_at` and
    /// `delivered_at` where the given one has them and the stored one does not (marks only
    /// move forward). Returns (inserted, updated).
    async fn save_notifications(&self, batch: &[Notification]) -> Result<(u64, u64), StoreError>;

    /// Creates profiles that are not stored and fills in the fields a stored one lacks (name,
    /// email, avatar, role, last active): what the server learned since is kept. Returns how
    /// many changed.
    async fn save_users(&self, batch: &[UserProfile]) -> Result<u64, StoreError>;
}

/// The precondition of `ImportSink::save` every sink checks before writing: the messages are
/// all of `conversation`, and no id or seq is given twice.
///
/// # Errors
/// `Conflict` naming the message, id or seq that breaks it.
pub fn check_batch(conversation: &ConversationId, messages: &[Message]) -> Result<(), StoreError> {
    let mut ids = HashSet::with_capacity(messages.len());
    let mut seqs = HashSet::with_capacity(messages.len());
    for m in messages {
        if &m.conversation_id != conversation {
            return Err(StoreError::Conflict(format!(
                "message {} is of conversation {}, not {conversation}",
                m.id, m.conversation_id
            )));
        }
        if !ids.insert(&m.id) {
            return Err(StoreError::Conflict(format!(
                "message id {} given twice",
                m.id
            )));
        }
        if !seqs.insert(m.seq) {
            return Err(StoreError::Conflict(format!("seq {} given twice", m.seq)));
        }
    }
    Ok(())
}

/// What a run reports as it goes, for a progress bar; the import works the same without one.
pub trait ImportProgress: Send + Sync {
    /// A phase begins (`messages`, `conversations`, `notifications`, `users`) with its total.
    fn phase(&self, name: &'static str, total: u64);
    /// `n` more records of the current phase were read.
    fn advance(&self, n: u64);
    /// The current phase ended.
    fn done(&self);
}

/// No progress reporting.
pub struct Quiet;

impl ImportProgress for Quiet {
    fn phase(&self, _: &'static str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn done(&self) {}
}
