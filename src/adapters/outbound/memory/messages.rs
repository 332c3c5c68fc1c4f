//! `MemoryMessageStore`: message history, appended under the same lock as the conversation it
//! changes, so seqs are gap-free and the conversation never disagrees with its messages.

use async_trait::async_trait;

use super::{SharedChat, lock};
use crate::domain::{ConversationId, Message, MessageId, NewMessage, Seq};
use crate::ports::{Appended, MessageStore, Page, StoreError};

pub struct MemoryMessageStore {
    chat: SharedChat,
}

impl MemoryMessageStore {
    pub(super) fn new(chat: SharedChat) -> Self {
        Self { chat }
    }
}

#[async_trait]
impl MessageStore for MemoryMessageStore {
    async fn append(&self, message: &NewMessage) -> Result<Appended, StoreError> {
        let mut guard = lock(&self.chat)?;
        // Reborrow once so the borrow checker sees the fields as disjoint.
        let chat = &mut *guard;
        let conversation = chat
            .conversations
            .get_mut(&message.conversation_id)
            .ok_or_else(|| {
                StoreError::NotFound(format!("conversation {}", message.conversation_id))
            })?;
        let history = chat
            .messages
            .entry(message.conversation_id.clone())
            .or_default();

        let idempotency_key = message.client_key.as_ref().map(|key| {
            (
                message.conversation_id.clone(),
                message.sender.clone(),
                key.clone(),
            )
        });
        if let Some(earlier) = idempotency_key
            .as_ref()
            .and_then(|k| chat.client_keys.get(k))
        {
            let (_, index) = chat.message_locations.get(earlier).ok_or_else(|| {
                StoreError::Corrupt(format!("client key points at missing message {earlier}"))
            })?;
            let earlier = history.get(*index).cloned().ok_or_else(|| {
                StoreError::Corrupt(format!("message {earlier} missing from its history"))
            })?;
            return Ok(Appended {
                message: earlier,
                duplicate: true,
            });
        }
        if chat.message_locations.contains_key(&message.id) {
            return Err(StoreError::Conflict(format!(
                "message id {} is taken",
                message.id
            )));
        }

        let stored = message.clone().stored_as(conversation.last_seq.next());
        conversation.apply_posted(&stored);
        chat.message_locations.insert(
            stored.id.clone(),
            (stored.conversation_id.clone(), history.len()),
        );
        if let Some(key) = idempotency_key {
            chat.client_keys.insert(key, stored.id.clone());
        }
        history.push(stored.clone());
        Ok(Appended {
            message: stored,
            duplicate: false,
        })
    }

    async fn get(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        let chat = lock(&self.chat)?;
        Ok(chat
            .message_locations
            .get(id)
            .and_then(|(conversation, index)| chat.messages.get(conversation)?.get(*index))
            .cloned())
    }

    async fn page(
        &self,
        conversation: &ConversationId,
        page: Page,
    ) -> Result<Vec<Message>, StoreError> {
        let chat = lock(&self.chat)?;
        let Some(history) = chat.messages.get(conversation) else {
            return Ok(Vec::new());
        };
        let skip = usize::try_from(page.skip).unwrap_or(usize::MAX);
        let end = history.len().saturating_sub(skip);
        let start = end.saturating_sub(page.limit as usize);
        Ok(history[start..end].to_vec())
    }

    async fn after(
        &self,
        conversation: &ConversationId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let chat = lock(&self.chat)?;
        let Some(history) = chat.messages.get(conversation) else {
            return Ok(Vec::new());
        };
        // Seq n sits at index n - 1, so the messages after seq n start at index n.
        let start = usize::try_from(after.0).unwrap_or(usize::MAX);
        Ok(history
            .iter()
            .skip(start)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn save_edit(&self, message: &Message) -> Result<(), StoreError> {
        let mut guard = lock(&self.chat)?;
        let chat = &mut *guard;
        let stored = chat
            .message_locations
            .get(&message.id)
            .and_then(|(conversation, index)| chat.messages.get_mut(conversation)?.get_mut(*index))
            .ok_or_else(|| StoreError::NotFound(format!("message {}", message.id)))?;
        stored.body.text.clone_from(&message.body.text);
        stored.edited_at = message.edited_at;
        Ok(())
    }
}
