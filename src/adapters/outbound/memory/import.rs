//! `MemoryImportSink`: imported data written into the memory stores' own state (see
//! `memory_stores_with_import`), so that the stores read it back. `save` checks and writes
//! under the chat lock, so it is atomic; notifications and profiles go through their stores'
//! own operations.

use std::sync::Arc;

use async_trait::async_trait;

use super::{MemoryNotificationStore, MemoryUserDirectory, SharedChat, lock};
use crate::domain::{
    Conversation, ConversationId, Message, MessageId, Notification, Seq, UserProfile,
};
use crate::ports::import::check_batch;
use crate::ports::{ImportSink, NotificationStore, StoreError, UserDirectory};

pub struct MemoryImportSink {
    chat: SharedChat,
    notifications: Arc<MemoryNotificationStore>,
    users: Arc<MemoryUserDirectory>,
}

impl MemoryImportSink {
    pub(super) fn new(
        chat: SharedChat,
        notifications: Arc<MemoryNotificationStore>,
        users: Arc<MemoryUserDirectory>,
    ) -> Self {
        Self {
            chat,
            notifications,
            users,
        }
    }
}

/// Messages in seq order, refused with `Conflict` when one belongs to another conversation or
/// two share an id or a seq.
fn in_seq_order<'a>(
    conversation: &ConversationId,
    messages: &'a [Message],
) -> Result<Vec<&'a Message>, StoreError> {
    check_batch(conversation, messages)?;
    let mut sorted: Vec<&Message> = messages.iter().collect();
    sorted.sort_by_key(|m| m.seq);
    Ok(sorted)
}

#[async_trait]
impl ImportSink for MemoryImportSink {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        Ok(lock(&self.chat)?.conversations.get(id).cloned())
    }

    async fn conversation_with_key(&self, key: &str) -> Result<Option<ConversationId>, StoreError> {
        Ok(lock(&self.chat)?.by_identity_key.get(key).cloned())
    }

    async fn max_seq(&self, conversation: &ConversationId) -> Result<Seq, StoreError> {
        let chat = lock(&self.chat)?;
        Ok(chat
            .messages
            .get(conversation)
            .and_then(|history| history.last())
            .map_or(Seq::ZERO, |m| m.seq))
    }

    async fn stored_seqs(
        &self,
        conversation: &ConversationId,
        ids: &[MessageId],
    ) -> Result<Vec<(MessageId, Seq)>, StoreError> {
        let chat = lock(&self.chat)?;
        let Some(history) = chat.messages.get(conversation) else {
            return Ok(Vec::new());
        };
        Ok(ids
            .iter()
            .filter_map(|id| match chat.message_locations.get(id) {
                Some((c, index)) if c == conversation => {
                    history.get(*index).map(|m| (id.clone(), m.seq))
                }
                _ => None,
            })
            .collect())
    }

    /// Every check runs before the first change, under the one lock, so a refused save
    /// changes nothing. The memory store finds a message by its seq's position (seq n at
    /// index n - 1), so the seqs must continue the stored history without a gap (1, 2, 3, …
    /// per conversation, as the import assigns them); a gap is refused with `Conflict`.
    async fn save(
        &self,
        conversation: &Conversation,
        messages: &[Message],
    ) -> Result<(), StoreError> {
        let sorted = in_seq_order(&conversation.id, messages)?;
        let key = conversation.key();
        let mut guard = lock(&self.chat)?;
        let chat = &mut *guard;
        if let Some(holder) = chat
            .by_identity_key
            .get(&key)
            .filter(|h| **h != conversation.id)
        {
            return Err(StoreError::Conflict(format!(
                "conversation {holder} holds the identity key of {}",
                conversation.id
            )));
        }
        let stored = chat.messages.get(&conversation.id).map_or(0, Vec::len);
        for (m, expected) in sorted.iter().zip(stored + 1..) {
            if chat.message_locations.contains_key(&m.id) {
                return Err(StoreError::Conflict(format!(
                    "message id {} is taken",
                    m.id
                )));
            }
            if usize::try_from(m.seq.0).is_ok_and(|seq| seq <= stored) {
                return Err(StoreError::Conflict(format!(
                    "seq {} of conversation {} is taken",
                    m.seq, conversation.id
                )));
            }
            if u64::try_from(expected).ok() != Some(m.seq.0) {
                return Err(StoreError::Conflict(format!(
                    "seq {} would leave a gap in conversation {} (the memory store keeps seqs \
                     1, 2, 3, … without gaps)",
                    m.seq, conversation.id
                )));
            }
            if let Some(client_key) = &m.client_key {
                let taken = (
                    m.conversation_id.clone(),
                    m.sender.clone(),
                    client_key.clone(),
                );
                if chat.client_keys.contains_key(&taken) {
                    return Err(StoreError::Conflict(format!(
                        "client key of message {} is taken",
                        m.id
                    )));
                }
            }
        }

        let history = chat.messages.entry(conversation.id.clone()).or_default();
        for m in sorted {
            chat.message_locations
                .insert(m.id.clone(), (m.conversation_id.clone(), history.len()));
            if let Some(client_key) = &m.client_key {
                chat.client_keys.insert(
                    (
                        m.conversation_id.clone(),
                        m.sender.clone(),
                        client_key.clone(),
                    ),
                    m.id.clone(),
                );
            }
            history.push(m.clone());
        }
        if let Some(earlier) = chat.conversations.get(&conversation.id) {
            // The participants may have changed, and with them the key.
            let earlier_key = earlier.key();
            if earlier_key != key {
                chat.by_identity_key.remove(&earlier_key);
            }
        }
        chat.by_identity_key.insert(key, conversation.id.clone());
        chat.conversations
            .insert(conversation.id.clone(), conversation.clone());
        Ok(())
    }

    async fn save_notifications(&self, batch: &[Notification]) -> Result<(u64, u64), StoreError> {
        let (mut inserted, mut updated) = (0, 0);
        for given in batch {
            let Some(stored) = self.notifications.get(&given.id).await? else {
                self.notifications.insert(given).await?;
                inserted += 1;
                continue;
            };
            let mut moved = false;
            if let (None, Some(at)) = (stored.read_at, given.read_at) {
                moved |= self.notifications.mark_read(&given.id, at).await?;
            }
            if let (None, Some(at)) = (stored.delivered_at, given.delivered_at) {
                let newly = self
                    .notifications
                    .mark_delivered(std::slice::from_ref(&given.id), at)
                    .await?;
                moved |= !newly.is_empty();
            }
            if moved {
                updated += 1;
            }
        }
        Ok((inserted, updated))
    }

    async fn save_users(&self, batch: &[UserProfile]) -> Result<u64, StoreError> {
        let mut changed = 0;
        for given in batch {
            let Some(known) = self.users.get(&given.id).await? else {
                // A new profile takes its last-active time from `upsert`.
                self.users.upsert(given).await?;
                changed += 1;
                continue;
            };
            let filled = UserProfile {
                id: known.id.clone(),
                name: known.name.clone().or_else(|| given.name.clone()),
                email: known.email.clone().or_else(|| given.email.clone()),
                avatar: known.avatar.clone().or_else(|| given.avatar.clone()),
                role: known.role.clone().or_else(|| given.role.clone()),
                last_active: known.last_active.or(given.last_active),
            };
            if filled == known {
                continue;
            }
            // `upsert` keeps the known last-active time; a missing one is filled after it.
            self.users.upsert(&filled).await?;
            if let (None, Some(at)) = (known.last_active, filled.last_active) {
                self.users.record_last_active(&filled.id, at).await?;
            }
            changed += 1;
        }
        Ok(changed)
    }
}
