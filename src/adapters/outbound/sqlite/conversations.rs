//! `SqliteConversationStore`: conversations and their participants' marks, in the
//! `conversations` and `conversation_participants` tables.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, SqliteConnection, SqlitePool};

use super::db::Db;
use super::rows::{
    ConversationRow, ParticipantRow, count_from_db, db_error, json_list, seq_to_db, user_ids,
};
use crate::adapters::outbound::sql::json::context_to_json;
use crate::domain::{
    Conversation, ConversationId, MarkKind, ParticipantState, ReadMark, Seq, UserId,
};
use crate::ports::{ConversationStore, Page, StoreError};

pub struct SqliteConversationStore {
    db: Db,
}

impl SqliteConversationStore {
    pub(super) fn new(db: Db) -> Self {
        Self { db }
    }

    async fn participant_exists(
        &self,
        id: &ConversationId,
        user: &UserId,
    ) -> Result<(), StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM conversation_participants WHERE conversation_id = ?1 AND user_id = ?2",
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_error)?;
        found.map(|_| ()).ok_or_else(|| {
            StoreError::NotFound(format!("conversation {id} with participant {user}"))
        })
    }
}

/// A read transaction, so that a conversation and its participants come from one snapshot
/// (an append between the two reads would otherwise show marks ahead of `last_seq`). It
/// only reads, so a deferred `BEGIN` never needs the write lock.
async fn begin_snapshot(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
    pool.begin().await.map_err(db_error)
}

/// Completes conversation rows with their participants, in creation order; keeps the order
/// of `rows`.
async fn with_participants(
    conn: &mut SqliteConnection,
    rows: Vec<ConversationRow>,
) -> Result<Vec<Conversation>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let participant_rows: Vec<ParticipantRow> = sqlx::query_as(
        "SELECT * FROM conversation_participants \
         WHERE conversation_id IN (SELECT value FROM json_each(?1)) \
         ORDER BY conversation_id, position",
    )
    .bind(json_list(rows.iter().map(|r| r.id.as_str())))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut by_conversation: HashMap<String, Vec<ParticipantState>> = HashMap::new();
    for row in participant_rows {
        let key = row.conversation_id.clone();
        by_conversation
            .entry(key)
            .or_default()
            .push(row.into_domain()?);
    }
    rows.into_iter()
        .map(|row| {
            let participants = by_conversation.remove(&row.id).unwrap_or_default();
            row.into_domain(participants)
        })
        .collect()
}

async fn insert(
    conn: &mut SqliteConnection,
    c: &Conversation,
    key: &str,
) -> Result<bool, StoreError> {
    let last = c.last_message.as_ref();
    let inserted = sqlx::query(
        "INSERT INTO conversations (id, identity_key, context, created_at, updated_at, last_seq, \
         last_message_text, last_message_sender, last_message_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (identity_key) DO NOTHING",
    )
    .bind(c.id.as_str())
    .bind(key)
    .bind(context_to_json(&c.context).to_string())
    .bind(c.created_at.as_millis())
    .bind(c.updated_at.as_millis())
    .bind(seq_to_db(c.last_seq))
    .bind(last.map(|m| m.text.as_str()))
    .bind(last.map(|m| m.sender.as_str()))
    .bind(last.map(|m| m.at.as_millis()))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?
    .rows_affected()
        == 1;
    if !inserted {
        return Ok(false);
    }
    for (position, p) in (0_i64..).zip(&c.participants) {
        sqlx::query(
            "INSERT INTO conversation_participants (conversation_id, user_id, position, \
             delivered_seq, delivered_at, read_seq, read_at, hidden_through) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(c.id.as_str())
        .bind(p.user_id.as_str())
        .bind(position)
        .bind(seq_to_db(p.delivered.seq))
        .bind(p.delivered.at.map(|t| t.as_millis()))
        .bind(seq_to_db(p.read.seq))
        .bind(p.read.at.map(|t| t.as_millis()))
        .bind(p.hidden_through.map(seq_to_db))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    Ok(true)
}

#[async_trait]
impl ConversationStore for SqliteConversationStore {
    async fn get_or_create(
        &self,
        candidate: &Conversation,
    ) -> Result<(Conversation, bool), StoreError> {
        let key = candidate.key();
        let mut tx = self.db.begin_write().await?;
        // A taken id with another key fails the insert with a unique violation: `Conflict`.
        if insert(&mut tx, candidate, &key).await? {
            tx.commit().await.map_err(db_error)?;
            self.db.confirm_write()?;
            return Ok((candidate.clone(), true));
        }
        let row: ConversationRow =
            sqlx::query_as("SELECT * FROM conversations WHERE identity_key = ?1")
                .bind(&key)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
        let existing = with_participants(&mut tx, vec![row]).await?;
        tx.commit().await.map_err(db_error)?;
        let existing = existing.into_iter().next().ok_or_else(|| {
            StoreError::Corrupt(format!("conversation with key {key:?} vanished"))
        })?;
        Ok((existing, false))
    }

    async fn get(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        // One statement, so one snapshot without a transaction (and one round trip to the
        // connection's thread: this read comes before every post): the conversation's
        // columns repeated beside each of its participants.
        let rows: Vec<SqliteRow> = sqlx::query(
            "SELECT c.id, c.context, c.created_at, c.updated_at, c.last_seq, \
             c.last_message_text, c.last_message_sender, c.last_message_at, \
             p.conversation_id, p.user_id, p.delivered_seq, p.delivered_at, p.read_seq, \
             p.read_at, p.hidden_through \
             FROM conversations c JOIN conversation_participants p ON p.conversation_id = c.id \
             WHERE c.id = ?1 ORDER BY p.position",
        )
        .bind(id.as_str())
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let conversation = ConversationRow::from_row(first).map_err(db_error)?;
        let participants = rows
            .iter()
            .map(|row| {
                ParticipantRow::from_row(row)
                    .map_err(db_error)?
                    .into_domain()
            })
            .collect::<Result<Vec<_>, _>>()?;
        conversation.into_domain(participants).map(Some)
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        page: Page,
    ) -> Result<Vec<Conversation>, StoreError> {
        let mut tx = begin_snapshot(&self.db.pool).await?;
        // Hidden means "until a message after hidden_through": the same test as
        // `Conversation::is_visible_to`. Ties on activity break by id for stable paging.
        let rows: Vec<ConversationRow> = sqlx::query_as(
            "SELECT c.* FROM conversation_participants p \
             JOIN conversations c ON c.id = p.conversation_id \
             WHERE p.user_id = ?1 AND (p.hidden_through IS NULL OR c.last_seq > p.hidden_through) \
             ORDER BY c.updated_at DESC, c.id DESC LIMIT ?2 OFFSET ?3",
        )
        .bind(user.as_str())
        .bind(i64::from(page.limit))
        .bind(i64::try_from(page.skip).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let listed = with_participants(&mut tx, rows).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(listed)
    }

    async fn hide_for(
        &self,
        id: &ConversationId,
        user: &UserId,
        through: Seq,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE conversation_participants SET hidden_through = ?3 \
             WHERE conversation_id = ?1 AND user_id = ?2",
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .bind(seq_to_db(through))
        .execute(&self.db.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        self.db.confirm_write()?;
        if updated == 0 {
            return Err(StoreError::NotFound(format!(
                "conversation {id} with participant {user}"
            )));
        }
        Ok(())
    }

    async fn save_mark(&self, mark: &ReadMark, kind: MarkKind) -> Result<bool, StoreError> {
        // Mirrors `Conversation::apply_mark`: marks only move up, and reading also delivers.
        // SQLite evaluates every SET expression against the row as it was before the update.
        // The WHERE clause leaves the row alone when nothing would move, so the affected row
        // count says whether anything moved.
        let sql = match kind {
            MarkKind::Read => {
                "UPDATE conversation_participants SET \
                 read_at = CASE WHEN read_seq < ?3 THEN ?4 ELSE read_at END, \
                 read_seq = MAX(read_seq, ?3), \
                 delivered_at = CASE WHEN delivered_seq < ?3 THEN ?4 ELSE delivered_at END, \
                 delivered_seq = MAX(delivered_seq, ?3) \
                 WHERE conversation_id = ?1 AND user_id = ?2 \
                 AND (read_seq < ?3 OR delivered_seq < ?3)"
            }
            MarkKind::Delivered => {
                "UPDATE conversation_participants SET \
                 delivered_at = ?4, delivered_seq = ?3 \
                 WHERE conversation_id = ?1 AND user_id = ?2 AND delivered_seq < ?3"
            }
        };
        let moved = sqlx::query(sql)
            .bind(mark.conversation_id.as_str())
            .bind(mark.user_id.as_str())
            .bind(seq_to_db(mark.up_to))
            .bind(mark.at.as_millis())
            .execute(&self.db.pool)
            .await
            .map_err(db_error)?
            .rows_affected()
            > 0;
        self.db.confirm_write()?;
        if !moved {
            self.participant_exists(&mark.conversation_id, &mark.user_id)
                .await?;
        }
        Ok(moved)
    }

    async fn total_unread(&self, user: &UserId) -> Result<u64, StoreError> {
        // Mirrors `Conversation::unread_for`: last seq minus the read mark, never negative.
        let total: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(MAX(c.last_seq - p.read_seq, 0)), 0) \
             FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id \
             WHERE p.user_id = ?1",
        )
        .bind(user.as_str())
        .fetch_one(&self.db.pool)
        .await
        .map_err(db_error)?;
        count_from_db(total)
    }

    async fn contacts_of(&self, user: &UserId) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT other.user_id FROM conversation_participants me \
             JOIN conversation_participants other ON other.conversation_id = me.conversation_id \
             WHERE me.user_id = ?1 AND other.user_id <> ?1 ORDER BY other.user_id",
        )
        .bind(user.as_str())
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?;
        user_ids(ids)
    }
}
