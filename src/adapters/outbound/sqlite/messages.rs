//! `SqliteMessageStore`: message history in the `messages` table, appended in one transaction
//! with the conversation changes that `Conversation::apply_posted` describes.

use async_trait::async_trait;
use sqlx::SqliteConnection;

use super::appender::Appender;
use super::db::Db;
use super::rows::{MessageRow, db_error, seq_from_db, seq_to_db};
use crate::adapters::outbound::sql::json::attachments_to_json;
use crate::domain::{ConversationId, Message, MessageId, NewMessage, Seq};
use crate::ports::{Appended, MessageStore, Page, StoreError};

pub struct SqliteMessageStore {
    db: Db,
    appender: Appender,
}

impl SqliteMessageStore {
    pub(super) fn new(db: Db) -> Self {
        Self {
            appender: Appender::start(db.clone()),
            db,
        }
    }
}

fn to_messages(rows: Vec<MessageRow>) -> Result<Vec<Message>, StoreError> {
    rows.into_iter().map(MessageRow::into_domain).collect()
}

async fn earlier_with_client_key(
    conn: &mut SqliteConnection,
    message: &NewMessage,
) -> Result<Option<Message>, StoreError> {
    let Some(key) = &message.client_key else {
        return Ok(None);
    };
    let row: Option<MessageRow> = sqlx::query_as(
        "SELECT * FROM messages WHERE conversation_id = ?1 AND sender = ?2 AND client_key = ?3",
    )
    .bind(message.conversation_id.as_str())
    .bind(message.sender.as_str())
    .bind(key.as_str())
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    row.map(MessageRow::into_domain).transpose()
}

/// Takes the conversation's next seq and records the message as its last one. Incrementing
/// in the UPDATE (not reading then writing) keeps seqs gap-free even if this ever runs
/// outside an immediate transaction.
async fn advance_conversation(
    conn: &mut SqliteConnection,
    message: &NewMessage,
) -> Result<Option<Seq>, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ?2, \
         last_message_text = ?3, last_message_sender = ?4, last_message_at = ?2 \
         WHERE id = ?1 RETURNING last_seq",
    )
    .bind(message.conversation_id.as_str())
    .bind(message.created_at.as_millis())
    .bind(message.body.text.as_str())
    .bind(message.sender.as_str())
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    seq.map(seq_from_db).transpose()
}

async fn insert_message(conn: &mut SqliteConnection, m: &Message) -> Result<(), StoreError> {
    let call = m.body.call;
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, sender, kind, text, attachments, \
         call_type, call_duration, call_status, client_key, created_at, edited_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .bind(m.id.as_str())
    .bind(m.conversation_id.as_str())
    .bind(seq_to_db(m.seq))
    .bind(m.sender.as_str())
    .bind(m.body.kind.as_str())
    .bind(m.body.text.as_str())
    .bind(attachments_to_json(&m.body.attachments).to_string())
    .bind(call.map(|c| c.call_type.as_str()))
    .bind(call.map(|c| i64::from(c.duration_secs)))
    .bind(call.map(|c| c.status.as_str()))
    .bind(m.client_key.as_ref().map(|k| k.as_str()))
    .bind(m.created_at.as_millis())
    .bind(m.edited_at.map(|t| t.as_millis()))
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Posting reads and receives everything up to the new message, for the sender.
async fn move_sender_marks(conn: &mut SqliteConnection, m: &Message) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conversation_participants \
         SET read_seq = ?3, read_at = ?4, delivered_seq = ?3, delivered_at = ?4 \
         WHERE conversation_id = ?1 AND user_id = ?2",
    )
    .bind(m.conversation_id.as_str())
    .bind(m.sender.as_str())
    .bind(seq_to_db(m.seq))
    .bind(m.created_at.as_millis())
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Appends `message` inside `conn`'s write transaction. `Ok(Err(..))`: refused by the
/// rules (an unknown conversation) with nothing written, so the transaction may go on; `Err`:
/// a database error, after which it must be rolled back.
pub(super) async fn append_in(
    conn: &mut SqliteConnection,
    message: &NewMessage,
) -> Result<Result<Appended, StoreError>, StoreError> {
    // Inside the write transaction from the key lookup to the commit, so a concurrent resend
    // with the same key sees this one's message.
    if let Some(earlier) = earlier_with_client_key(conn, message).await? {
        return Ok(Ok(Appended {
            message: earlier,
            duplicate: true,
        }));
    }
    let Some(seq) = advance_conversation(conn, message).await? else {
        return Ok(Err(StoreError::NotFound(format!(
            "conversation {}",
            message.conversation_id
        ))));
    };
    let stored = message.clone().stored_as(seq);
    insert_message(conn, &stored).await?;
    move_sender_marks(conn, &stored).await?;
    Ok(Ok(Appended {
        message: stored,
        duplicate: false,
    }))
}

#[async_trait]
impl MessageStore for SqliteMessageStore {
    /// Through the group-commit writer (`appender`): acknowledged once its batch committed.
    async fn append(&self, message: &NewMessage) -> Result<Appended, StoreError> {
        self.appender.append(message).await
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
