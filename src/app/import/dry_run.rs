//! `--dry-run`: the import reads the store as usual and writes nothing. The conversations it
//! would have created are remembered (their ids and identity keys), so that the report counts
//! each once and finds duplicates among them as a real run would; that memory grows with the
//! number of new conversations, which a dry run accepts.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::{
    Conversation, ConversationId, Message, MessageId, Notification, Seq, UserProfile,
};
use crate::ports::{ImportSink, StoreError};

pub struct DryRun<'a> {
    inner: &'a dyn ImportSink,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<ConversationId>,
    keys: HashMap<String, ConversationId>,
}

impl<'a> DryRun<'a> {
    pub fn new(inner: &'a dyn ImportSink) -> Self {
        Self {
            inner,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Whether the run would have written this conversation.
    pub fn saw(&self, id: &ConversationId) -> bool {
        self.seen.lock().is_ok_and(|seen| seen.ids.contains(id))
    }
}

#[async_trait]
impl ImportSink for DryRun<'_> {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.inner.conversation(id).await
    }

    async fn conversation_with_key(&self, key: &str) -> Result<Option<ConversationId>, StoreError> {
        let remembered = self
            .seen
            .lock()
            .ok()
            .and_then(|seen| seen.keys.get(key).cloned());
        match remembered {
            Some(id) => Ok(Some(id)),
            None => self.inner.conversation_with_key(key).await,
        }
    }

    async fn max_seq(&self, conversation: &ConversationId) -> Result<Seq, StoreError> {
        self.inner.max_seq(conversation).await
    }

    async fn stored_seqs(
        &self,
        conversation: &ConversationId,
        ids: &[MessageId],
    ) -> Result<Vec<(MessageId, Seq)>, StoreError> {
        self.inner.stored_seqs(conversation, ids).await
    }

    async fn save(&self, conversation: &Conversation, _: &[Message]) -> Result<(), StoreError> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.ids.insert(conversation.id.clone());
            seen.keys
                .entry(conversation.key())
                .or_insert_with(|| conversation.id.clone());
        }
        Ok(())
    }

    async fn save_notifications(&self, _: &[Notification]) -> Result<(u64, u64), StoreError> {
        Ok((0, 0))
    }

    async fn save_users(&self, _: &[UserProfile]) -> Result<u64, StoreError> {
        Ok(0)
    }
}
