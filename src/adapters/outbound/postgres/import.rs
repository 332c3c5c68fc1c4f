//! `PgImportSink`: imported data written into the PostgreSQL store's tables, with ids, seqs
//! and marks already decided.
//!
//! `save` is one transaction of two statements whatever the batch's size: the conversation
//! with its participants (data-modifying `WITH` clauses), then every message from `unnest`ed
//! arrays. The unique constraints of the schema are the conflict checks (a taken message id,
//! a taken (conversation, seq), an identity key held by another conversation): a violation
//! is `Conflict`, and the transaction is rolled back with nothing written. Notifications and
//! profiles are one statement per batch each.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::{PgConnection, PgPool};

use super::conversations::{BindConversation, PgConversationStore};
use super::open_pool;
use super::rows::{db_error, seq_from_db, seq_to_db, time_to_db, times_to_db};
use crate::adapters::json::data_to_json;
use crate::adapters::outbound::sql::json::attachments_to_json;
use crate::adapters::outbound::sql::rows::count_from_db;
use crate::adapters::outbound::stored::corrupt;
use crate::domain::{
    Conversation, ConversationId, Message, MessageId, Notification, Seq, UserProfile,
};
use crate::ports::import::check_batch;
use crate::ports::{ConversationStore, ImportSink, StoreError};

/// Writes an import into a PostgreSQL store.
pub struct PgImportSink {
    pool: PgPool,
    conversations: PgConversationStore,
}

impl PgImportSink {
    /// Connects as `PgStores::connect` does, and brings the schema up to date.
    ///
    /// # Errors
    /// As `PgStores::connect`: `Unavailable` when the URL is malformed, the server cannot be
    /// reached within `timeout`, it refuses the login or the database, or the migrations fail.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let (pool, _) = open_pool(url, max_connections, timeout).await?;
        Ok(Self {
            conversations: PgConversationStore::new(pool.clone()),
            pool,
        })
    }
}

/// Creates the conversation row or replaces every column of it, and makes its participant
/// rows exactly the conversation's (those no longer in it deleted, the others created or
/// replaced), in one statement. An identity key held by another conversation breaks the
/// unique constraint on its hash: `Conflict`.
async fn upsert_conversation(
    conn: &mut PgConnection,
    c: &Conversation,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "WITH saved AS ( \
             INSERT INTO conversations (id, identity_key, identity_hash, context, created_at, \
             updated_at, last_seq, last_message_text, last_message_sender, last_message_at) \
             VALUES ($1, $2, sha256(convert_to($2, 'UTF8')), $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET identity_key = excluded.identity_key, \
             identity_hash = excluded.identity_hash, context = excluded.context, \
             created_at = excluded.created_at, updated_at = excluded.updated_at, \
             last_seq = excluded.last_seq, last_message_text = excluded.last_message_text, \
             last_message_sender = excluded.last_message_sender, \
             last_message_at = excluded.last_message_at \
             RETURNING id \
         ), gone AS ( \
             DELETE FROM conversation_participants \
             WHERE conversation_id = $1 AND NOT (user_id = ANY ($10::text[])) \
         ) \
         INSERT INTO conversation_participants (conversation_id, user_id, position, \
         delivered_seq, delivered_at, read_seq, read_at, hidden_through) \
         SELECT saved.id, p.user_id, p.position, p.delivered_seq, p.delivered_at, \
         p.read_seq, p.read_at, p.hidden_through \
         FROM saved, unnest($10::text[], $11::bigint[], $12::timestamptz[], \
         $13::bigint[], $14::timestamptz[], $15::bigint[]) WITH ORDINALITY \
         AS p (user_id, delivered_seq, delivered_at, read_seq, read_at, hidden_through, \
         position) \
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET position = excluded.position, \
         delivered_seq = excluded.delivered_seq, delivered_at = excluded.delivered_at, \
         read_seq = excluded.read_seq, read_at = excluded.read_at, \
         hidden_through = excluded.hidden_through",
    )
    .bind_conversation(c, key)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Inserts every message in one statement. A taken id or (conversation, seq) breaks a unique
/// constraint: `Conflict`.
async fn insert_messages(
    conn: &mut PgConnection,
    conversation: &ConversationId,
    messages: &[Message],
) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&Message) -> Option<&str>| messages.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, sender, kind, text, attachments, \
         call_type, call_duration, call_status, client_key, created_at, edited_at) \
         SELECT m.id, $1, m.seq, m.sender, m.kind, m.text, m.attachments, m.call_type, \
         m.call_duration, m.call_status, m.client_key, m.created_at, m.edited_at \
         FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], \
         $7::jsonb[], $8::text[], $9::bigint[], $10::text[], $11::text[], \
         $12::timestamptz[], $13::timestamptz[]) \
         AS m (id, seq, sender, kind, text, attachments, call_type, call_duration, \
         call_status, client_key, created_at, edited_at)",
    )
    .bind(conversation.as_str())
    .bind(column(|m| Some(m.id.as_str())))
    .bind(
        messages
            .iter()
            .map(|m| seq_to_db(m.seq))
            .collect::<Vec<_>>(),
    )
    .bind(column(|m| Some(m.sender.as_str())))
    .bind(column(|m| Some(m.body.kind.as_str())))
    .bind(column(|m| Some(m.body.text.as_str())))
    .bind(
        messages
            .iter()
            .map(|m| attachments_to_json(&m.body.attachments))
            .collect::<Vec<_>>(),
    )
    .bind(column(|m| m.body.call.map(|c| c.call_type.as_str())))
    .bind(
        messages
            .iter()
            .map(|m| m.body.call.map(|c| i64::from(c.duration_secs)))
            .collect::<Vec<_>>(),
    )
    .bind(column(|m| m.body.call.map(|c| c.status.as_str())))
    .bind(column(|m| m.client_key.as_ref().map(|k| k.as_str())))
    .bind(
        messages
            .iter()
            .map(|m| time_to_db(m.created_at))
            .collect::<Vec<_>>(),
    )
    .bind(
        messages
            .iter()
            .map(|m| times_to_db(m.edited_at))
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// One profile per id: a repeated id's fields fill in what its first occurrence lacks, as
/// saving them one after the other would (one statement may not change a row twice).
fn merged_by_id(batch: &[UserProfile]) -> Vec<UserProfile> {
    let mut merged: Vec<UserProfile> = Vec::with_capacity(batch.len());
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
    for p in batch {
        match index.get(p.id.as_str()) {
            Some(&i) => {
                let first = &mut merged[i];
                first.name = first.name.take().or_else(|| p.name.clone());
                first.email = first.email.take().or_else(|| p.email.clone());
                first.avatar = first.avatar.take().or_else(|| p.avatar.clone());
                first.role = first.role.take().or_else(|| p.role.clone());
                first.last_active = first.last_active.or(p.last_active);
            }
            None => {
                index.insert(p.id.as_str(), merged.len());
                merged.push(p.clone());
            }
        }
    }
    merged
}

#[async_trait]
impl ImportSink for PgImportSink {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.conversations.get(id).await
    }

    async fn conversation_with_key(&self, key: &str) -> Result<Option<ConversationId>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM conversations \
             WHERE identity_hash = sha256(convert_to($1, 'UTF8')) AND identity_key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        id.map(|id| ConversationId::parse(id).map_err(|e| corrupt("conversation id", e)))
            .transpose()
    }

    async fn max_seq(&self, conversation: &ConversationId) -> Result<Seq, StoreError> {
        let max: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0)::bigint FROM messages WHERE conversation_id = $1",
        )
        .bind(conversation.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        seq_from_db(max)
    }

    async fn stored_seqs(
        &self,
        conversation: &ConversationId,
        ids: &[MessageId],
    ) -> Result<Vec<(MessageId, Seq)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT id, seq FROM messages WHERE conversation_id = $1 AND id = ANY ($2::text[])",
        )
        .bind(conversation.as_str())
        .bind(ids.iter().map(MessageId::as_str).collect::<Vec<_>>())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(id, seq)| {
                let id = MessageId::parse(id).map_err(|e| corrupt("message id", e))?;
                Ok((id, seq_from_db(seq)?))
            })
            .collect()
    }

    async fn save(
        &self,
        conversation: &Conversation,
        messages: &[Message],
    ) -> Result<(), StoreError> {
        check_batch(&conversation.id, messages)?;
        let key = conversation.key();
        // The conversation first: the messages' foreign key needs its row. Dropping the
        // transaction on an error rolls all of it back.
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        upsert_conversation(&mut tx, conversation, &key).await?;
        insert_messages(&mut tx, &conversation.id, messages).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn save_notifications(&self, batch: &[Notification]) -> Result<(u64, u64), StoreError> {
        if batch.is_empty() {
            return Ok((0, 0));
        }
        // Every part of one statement sees the table as it was before the statement, so the
        // update finds only rows that were stored before, never those just inserted. Marks
        // only move forward: a time is set where the stored row has none.
        let column = |f: fn(&Notification) -> Option<&str>| batch.iter().map(f).collect::<Vec<_>>();
        let (inserted, updated): (i64, i64) = sqlx::query_as(
            "WITH given AS ( \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], \
                 $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[], $9::timestamptz[], \
                 $10::timestamptz[]) AS g (id, recipient, kind, title, message, reference_id, \
                 data, created_at, delivered_at, read_at) \
             ), inserted AS ( \
                 INSERT INTO notifications (id, recipient, kind, title, message, reference_id, \
                 data, created_at, delivered_at, read_at) \
                 SELECT * FROM given ON CONFLICT (id) DO NOTHING RETURNING 1 \
             ), updated AS ( \
                 UPDATE notifications n SET read_at = COALESCE(n.read_at, g.read_at), \
                 delivered_at = COALESCE(n.delivered_at, g.delivered_at) \
                 FROM given g WHERE n.id = g.id \
                 AND ((n.read_at IS NULL AND g.read_at IS NOT NULL) \
                 OR (n.delivered_at IS NULL AND g.delivered_at IS NOT NULL)) \
                 RETURNING 1 \
             ) \
             SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated)",
        )
        .bind(column(|n| Some(n.id.as_str())))
        .bind(column(|n| Some(n.recipient.as_str())))
        .bind(column(|n| Some(n.kind.as_str())))
        .bind(column(|n| n.title.as_deref()))
        .bind(column(|n| Some(n.message.as_str())))
        .bind(column(|n| n.reference_id.as_deref()))
        .bind(
            batch
                .iter()
                .map(|n| data_to_json(&n.data))
                .collect::<Vec<_>>(),
        )
        .bind(
            batch
                .iter()
                .map(|n| time_to_db(n.created_at))
                .collect::<Vec<_>>(),
        )
        .bind(
            batch
                .iter()
                .map(|n| times_to_db(n.delivered_at))
                .collect::<Vec<_>>(),
        )
        .bind(
            batch
                .iter()
                .map(|n| times_to_db(n.read_at))
                .collect::<Vec<_>>(),
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        Ok((count_from_db(inserted)?, count_from_db(updated)?))
    }

    async fn save_users(&self, batch: &[UserProfile]) -> Result<u64, StoreError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let profiles = merged_by_id(batch);
        let column =
            |f: fn(&UserProfile) -> Option<&str>| profiles.iter().map(f).collect::<Vec<_>>();
        // What the server learned since is kept: only empty columns are filled, and a row
        // with nothing to fill is left alone (and not counted).
        let changed = sqlx::query(
            "INSERT INTO users (id, name, email, avatar, role, last_active) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::timestamptz[]) \
             ON CONFLICT (id) DO UPDATE SET name = COALESCE(users.name, excluded.name), \
             email = COALESCE(users.email, excluded.email), \
             avatar = COALESCE(users.avatar, excluded.avatar), \
             role = COALESCE(users.role, excluded.role), \
             last_active = COALESCE(users.last_active, excluded.last_active) \
             WHERE (users.name IS NULL AND excluded.name IS NOT NULL) \
             OR (users.email IS NULL AND excluded.email IS NOT NULL) \
             OR (users.avatar IS NULL AND excluded.avatar IS NOT NULL) \
             OR (users.role IS NULL AND excluded.role IS NOT NULL) \
             OR (users.last_active IS NULL AND excluded.last_active IS NOT NULL)",
        )
        .bind(column(|p| Some(p.id.as_str())))
        .bind(column(|p| p.name.as_deref()))
        .bind(column(|p| p.email.as_deref()))
        .bind(column(|p| p.avatar.as_deref()))
        .bind(column(|p| p.role.as_ref().map(|r| r.as_str())))
        .bind(
            profiles
                .iter()
                .map(|p| times_to_db(p.last_active))
                .collect::<Vec<_>>(),
        )
        .execute(&self.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        Ok(changed)
    }
}
