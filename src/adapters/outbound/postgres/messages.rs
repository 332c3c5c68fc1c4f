//! `PgMessageStore`: message history in the `messages` table. An append is one statement that
//! takes the next seq under the conversation's row lock, inserts the message, and makes the
//! conversation changes that `Conversation::apply_posted` describes.

use async_trait::async_trait;
use sqlx::PgPool;

use super::rows::{MessageRow, db_error, seq_from_db, seq_to_db, time_to_db, times_to_db};
use crate::adapters::outbound::sql::json::attachments_to_json;
use crate::domain::{ConversationId, Message, MessageId, NewMessage, Seq};
use crate::ports::{Appended, MessageStore, Page, StoreError};

pub struct PgMessageStore {
    pool: PgPool,
}

impl PgMessageStore {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    async fn earlier_with_client_key(
        &self,
        message: &NewMessage,
    ) -> Result<Option<Message>, StoreError> {
        let Some(key) = &message.client_key else {
            return Ok(None);
        };
        let row: Option<MessageRow> = sqlx::query_as(
            "SELECT * FROM messages \
             WHERE conversation_id = $1 AND sender = $2 AND client_key = $3",
        )
        .bind(message.conversation_id.as_str())
        .bind(message.sender.as_str())
        .bind(key.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.map(MessageRow::into_domain).transpose()
    }
}

/// `skip` as a bigint for the page statement. Past the end of every conversation any skip
/// gives the same empty page, so clamping it to where `last_seq - skip - limit` cannot
/// overflow changes no answer.
fn skip_to_db(skip: u64) -> i64 {
    i64::try_from(skip)
        .unwrap_or(i64::MAX)
        .min(i64::MAX - i64::from(u32::MAX))
}

fn to_messages(rows: Vec<MessageRow>) -> Result<Vec<Message>, StoreError> {
    rows.into_iter().map(MessageRow::into_domain).collect()
}

/// The append, as one statement (so one transaction and one round trip):
/// - `locked` takes the conversation's row lock and reads the next seq. Concurrent appends to
///   one conversation queue on that lock; at READ COMMITTED, one that waited reads the row as
///   the previous append committed it, so seqs are gap-free and never repeat.
/// - `inserted` stores the message with that seq, or nothing when the sender already used
///   the client key here (`messages_by_client_key`). A concurrent resend of the same key
///   waited on the row lock above, so it sees the first one's committed message here.
/// - `advanced` and `marked` run only when a message was inserted: the conversation's last
///   seq, last message and activity time, and the sender's marks (posting reads and receives
///   everything up to the new message).
///
/// `next_seq` is NULL when there is no such conversation; `stored_seq` is NULL when nothing
/// was inserted.
const APPEND: &str = "\
    WITH locked AS ( \
        SELECT last_seq + 1 AS seq FROM conversations WHERE id = $2 FOR UPDATE \
    ), inserted AS ( \
        INSERT INTO messages (id, conversation_id, seq, sender, kind, text, attachments, \
        call_type, call_duration, call_status, client_key, created_at) \
        SELECT $1, $2, locked.seq, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM locked \
        ON CONFLICT (conversation_id, sender, client_key) WHERE client_key IS NOT NULL \
        DO NOTHING \
        RETURNING seq \
    ), advanced AS ( \
        UPDATE conversations SET last_seq = inserted.seq, updated_at = $11, \
        last_message_text = $5, last_message_sender = $3, last_message_at = $11 \
        FROM inserted WHERE conversations.id = $2 \
    ), marked AS ( \
        UPDATE conversation_participants SET read_seq = inserted.seq, read_at = $11, \
        delivered_seq = inserted.seq, delivered_at = $11 \
        FROM inserted WHERE conversation_id = $2 AND user_id = $3 \
    ) \
    SELECT (SELECT seq FROM locked) AS next_seq, (SELECT seq FROM inserted) AS stored_seq";

#[async_trait]
impl MessageStore for PgMessageStore {
    async fn append(&self, message: &NewMessage) -> Result<Appended, StoreError> {
        let call = message.body.call;
        let (next_seq, stored_seq): (Option<i64>, Option<i64>) = sqlx::query_as(APPEND)
            .bind(message.id.as_str())
            .bind(message.conversation_id.as_str())
            .bind(message.sender.as_str())
            .bind(message.body.kind.as_str())
            .bind(message.body.text.as_str())
            .bind(attachments_to_json(&message.body.attachments))
            .bind(call.map(|c| c.call_type.as_str()))
            .bind(call.map(|c| i64::from(c.duration_secs)))
            .bind(call.map(|c| c.status.as_str()))
            .bind(message.client_key.as_ref().map(|k| k.as_str()))
            .bind(time_to_db(message.created_at))
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        if next_seq.is_none() {
            return Err(StoreError::NotFound(format!(
                "conversation {}",
                message.conversation_id
            )));
        }
        if let Some(seq) = stored_seq {
            return Ok(Appended {
                message: message.clone().stored_as(seq_from_db(seq)?),
                duplicate: false,
            });
        }
        // Not inserted, so the client key matched a committed message: read it back.
        let earlier = self
            .earlier_with_client_key(message)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "message {} was neither stored nor a duplicate",
                    message.id
                ))
            })?;
        Ok(Appended {
            message: earlier,
            duplicate: true,
        })
    }

    async fn get(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        let row: Option<MessageRow> = sqlx::query_as("SELECT * FROM messages WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(MessageRow::into_domain).transpose()
    }

    async fn page(
        &self,
        conversation: &ConversationId,
        page: Page,
    ) -> Result<Vec<Message>, StoreError> {
        // Seqs are 1..=last_seq with no gap, so the page (skip the newest `skip`, take
        // `limit`) is exactly the seqs in (last_seq - skip - limit, last_seq - skip]: one
        // range of the (conversation_id, seq) index, however deep the page, instead of
        // walking past `skip` rows as OFFSET would. One statement, so one snapshot.
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT m.* FROM conversations c JOIN messages m ON m.conversation_id = c.id \
             AND m.seq > c.last_seq - $3 - $2 AND m.seq <= c.last_seq - $3 \
             WHERE c.id = $1 ORDER BY m.seq DESC LIMIT $2",
        )
        .bind(conversation.as_str())
        .bind(i64::from(page.limit))
        .bind(skip_to_db(page.skip))
        .fetch_all(&self.pool)
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
            "SELECT * FROM messages WHERE conversation_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3",
        )
        .bind(conversation.as_str())
        .bind(seq_to_db(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        to_messages(rows)
    }

    async fn save_edit(&self, message: &Message) -> Result<(), StoreError> {
        let updated = sqlx::query("UPDATE messages SET text = $2, edited_at = $3 WHERE id = $1")
            .bind(message.id.as_str())
            .bind(message.body.text.as_str())
            .bind(times_to_db(message.edited_at))
            .execute(&self.pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound(format!("message {}", message.id)));
        }
        Ok(())
    }
}
