//! `MemoryConversationStore`: conversations, participant marks and lists, kept in the state it
//! shares with `MemoryMessageStore`.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use async_trait::async_trait;

use super::{SharedChat, lock, window};
use crate::domain::{Conversation, ConversationId, MarkKind, ReadMark, Seq, UserId};
use crate::ports::{ConversationStore, Page, StoreError};

pub struct MemoryConversationStore {
    chat: SharedChat,
}

impl MemoryConversationStore {
    pub(super) fn new(chat: SharedChat) -> Self {
        Self { chat }
    }
}

fn not_a_participant(id: &ConversationId, user: &UserId) -> StoreError {
    StoreError::NotFound(format!("conversation {id} with participant {user}"))
}

#[async_trait]
impl ConversationStore for MemoryConversationStore {
    async fn get_or_create(
        &self,
        candidate: &Conversation,
    ) -> Result<(Conversation, bool), StoreError> {
        let key = candidate.key();
        let mut chat = lock(&self.chat)?;
        if let Some(existing) = chat.by_identity_key.get(&key) {
            let existing = chat.conversations.get(existing).cloned().ok_or_else(|| {
                StoreError::Corrupt(format!("identity key points at missing {existing}"))
            })?;
            return Ok((existing, false));
        }
        if chat.conversations.contains_key(&candidate.id) {
            return Err(StoreError::Conflict(format!(
                "conversation id {} is taken by other participants or context",
                candidate.id
            )));
        }
        chat.by_identity_key.insert(key, candidate.id.clone());
        chat.conversations
            .insert(candidate.id.clone(), candidate.clone());
        Ok((candidate.clone(), true))
    }

    async fn get(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        Ok(lock(&self.chat)?.conversations.get(id).cloned())
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        page: Page,
    ) -> Result<Vec<Conversation>, StoreError> {
        let chat = lock(&self.chat)?;
        let mut visible: Vec<&Conversation> = chat
            .conversations
            .values()
            .filter(|c| c.is_visible_to(user))
            .collect();
        // Ties on activity break by id so that paging is stable.
        visible.sort_by_key(|c| Reverse((c.updated_at, c.id.clone())));
        Ok(window(visible.into_iter().cloned(), page))
    }

    async fn hide_for(
        &self,
        id: &ConversationId,
        user: &UserId,
        through: Seq,
    ) -> Result<(), StoreError> {
        let mut chat = lock(&self.chat)?;
        let participant = chat
            .conversations
            .get_mut(id)
            .and_then(|c| c.participants.iter_mut().find(|p| &p.user_id == user))
            .ok_or_else(|| not_a_participant(id, user))?;
        participant.hidden_through = Some(through);
        Ok(())
    }

    async fn save_mark(&self, mark: &ReadMark, kind: MarkKind) -> Result<bool, StoreError> {
        let mut chat = lock(&self.chat)?;
        let conversation = chat
            .conversations
            .get_mut(&mark.conversation_id)
            .filter(|c| c.is_participant(&mark.user_id))
            .ok_or_else(|| not_a_participant(&mark.conversation_id, &mark.user_id))?;
        let before = conversation.participant(&mark.user_id).cloned();
        conversation.apply_mark(mark, kind);
        Ok(conversation.participant(&mark.user_id) != before.as_ref())
    }

    async fn total_unread(&self, user: &UserId) -> Result<u64, StoreError> {
        let chat = lock(&self.chat)?;
        Ok(chat
            .conversations
            .values()
            .map(|c| c.unread_for(user))
            .sum())
    }

    async fn contacts_of(&self, user: &UserId) -> Result<Vec<UserId>, StoreError> {
        let chat = lock(&self.chat)?;
        let contacts: BTreeSet<&UserId> = chat
            .conversations
            .values()
            .filter(|c| c.is_participant(user))
            .flat_map(|c| c.others(user))
            .collect();
        Ok(contacts.into_iter().cloned().collect())
    }
}
