//! `SqliteMessageStore`: message history in the `messages` table. Appends go through the
//! group-commit writer (`appender`), in one transaction with the conversation changes that
//! `Conversation::apply_posted` describes; everything else through the pool.

use async_trait::async_trait;

use super::appender::{Appender, Outcome};
use super::db::Db;
use super::rows::{MessageRow, db_error, seq_to_db};
use crate::adapters::outbound::stored::corrupt;
use crate::domain::{ConversationId, Message, MessageId, NewMessage, Seq};
use crate::ports::{Appended, MessageStore, Page, StoreError};

pub struct SqliteMessageStore {
    db: Db,
    appender: Appender,
}

impl SqliteMessageStore {
    pub(super) fn new(db: Db) -> Result<Self, StoreError> {
        Ok(Self {
            appender: Appender::start(db.clone())?,
            db,
        })
    }
}

fn to_messages(rows: Vec<MessageRow>) -> Result<Vec<Message>, StoreError> {
    rows.into_iter().map(MessageRow::into_domain).collect()
}

#[async_trait]
impl MessageStore for SqliteMessageStore {
    /// Through the group-commit writer (`appender`): acknowledged once its batch committed.
    async fn append(&self, message: &NewMessage) -> Result<Appended, StoreError> {
        let message = match self.appender.append(message).await? {
            Outcome::Stored(message) => message,
            Outcome::NoConversation => {
                return Err(StoreError::NotFound(format!(
                    "conversation {}",
                    message.conversation_id
                )));
            }
            Outcome::Earlier(id) => {
                let earlier = self.get(&id).await?;
                let earlier = earlier.ok_or_else(|| corrupt("resent message vanished", &id))?;
                return Ok(Appended {
                    message: earlier,
                    duplicate: true,
                });
            }
        };
        Ok(Appended {
            message,
            duplicate: false,
        })
    }

    async fn get(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        let row: Option<MessageRow> = sqlx::query_as("SELECT * FROM messages WHERE id = ?1")
            .bind(id.as_str())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_error)?;
        row.map(MessageRow::into_domain).transpose()
    }

    async fn page(
        &self,
        conversation: &ConversationId,
        page: Page,
    ) -> Result<Vec<Message>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT * FROM messages WHERE conversation_id = ?1 \
             ORDER BY seq DESC LIMIT ?2 OFFSET ?3",
        )
        .bind(conversation.as_str())
        .bind(i64::from(page.limit))
        .bind(i64::try_from(page.skip).unwrap_or(i64::MAX))
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?;
        let mut messages = to_messages(rows)?;
        // Selected newest first, returned oldest first.
        messages.reverse();
        Ok(messages)
    }

    async fn after(
        &self,
        conversation: &ConversationId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT * FROM messages WHERE conversation_id = ?1 AND seq > ?2 \
             ORDER BY seq LIMIT ?3",
        )
        .bind(conversation.as_str())
        .bind(seq_to_db(after))
        .bind(i64::from(limit))
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?;
        to_messages(rows)
    }

    async fn save_edit(&self, message: &Message) -> Result<(), StoreError> {
        let updated = sqlx::query("UPDATE messages SET text = ?2, edited_at = ?3 WHERE id = ?1")
            .bind(message.id.as_str())
            .bind(message.body.text.as_str())
            .bind(message.edited_at.map(|t| t.as_millis()))
            .execute(&self.db.pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        self.db.confirm_write()?;
        if updated == 0 {
            return Err(StoreError::NotFound(format!("message {}", message.id)));
        }
        Ok(())
    }
}
