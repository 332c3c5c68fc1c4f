//! `SqliteImportSink`: imported data written into the SQLite store's tables, with ids, seqs
//! and marks already decided.
//!
//! Each call is one `BEGIN IMMEDIATE` transaction: a refused or failed `save` leaves nothing
//! behind. The unique constraints of the schema are the conflict checks (a taken message id,
//! a taken (conversation, seq), an identity key held by another conversation): a violation
//! is `Conflict`, and the transaction is rolled back. Rows go in many to a statement (multi-row
//! `VALUES`), each statement text prepared once per connection, so that a batch of 500
//! messages costs a handful of statements rather than 500.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::conversations::SqliteConversationStore;
use super::db::Db;
use super::rows::{db_error, json_list, seq_from_db, seq_to_db};
use crate::adapters::json::data_to_json;
use crate::adapters::outbound::sql::json::{attachments_to_json, context_to_json};
use crate::adapters::outbound::stored::corrupt;
use crate::domain::{
    Conversation, ConversationId, Message, MessageId, Notification, Seq, UserProfile,
};
use crate::ports::import::check_batch;
use crate::ports::{ConversationStore, ImportSink, StoreError};

/// Connections of the sink's pool: the import writes one batch at a time.
const CONNECTIONS: u32 = 2;

/// Rows per multi-row statement, within SQLite's 32,766 parameters (13 per message).
const ROWS_PER_STATEMENT: usize = 500;

/// Writes an import into an SQLite store.
pub struct SqliteImportSink {
    db: Db,
    conversations: SqliteConversationStore,
}

impl SqliteImportSink {
    /// Opens the database at `path` (a file path or an sqlx SQLite URL), creating it if
    /// missing, and applies the migrations, as `SqliteStores::connect` does.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be opened or migrated, or is an in-memory one
    /// (its data would vanish with the sink).
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let db = Db::open(path, CONNECTIONS).await?;
        if db.path().is_none() {
            return Err(StoreError::Unavailable(
                "an import into an in-memory SQLite database would be lost; give a file".into(),
            ));
        }
        Ok(Self {
            conversations: SqliteConversationStore::new(db.clone()),
            db,
        })
    }
}

/// Creates the conversation row or replaces every column of it. An identity key held by
/// another conversation breaks its unique constraint: `Conflict`.
async fn upsert_conversation(
    conn: &mut SqliteConnection,
    c: &Conversation,
    key: &str,
) -> Result<(), StoreError> {
    let last = c.last_message.as_ref();
    sqlx::query(
        "INSERT INTO conversations (id, identity_key, context, created_at, updated_at, last_seq, \
         last_message_text, last_message_sender, last_message_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (id) DO UPDATE SET identity_key = excluded.identity_key, \
         context = excluded.context, created_at = excluded.created_at, \
         updated_at = excluded.updated_at, last_seq = excluded.last_seq, \
         last_message_text = excluded.last_message_text, \
         last_message_sender = excluded.last_message_sender, \
         last_message_at = excluded.last_message_at",
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
    .map_err(db_error)?;
    Ok(())
}

/// Makes the participant rows exactly the conversation's: those no longer in it are deleted,
/// the others created or replaced (position, marks, hidden state).
async fn replace_participants(
    conn: &mut SqliteConnection,
    c: &Conversation,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM conversation_participants WHERE conversation_id = ?1 \
         AND user_id NOT IN (SELECT value FROM json_each(?2))",
    )
    .bind(c.id.as_str())
    .bind(json_list(c.participant_ids().map(|u| u.as_str())))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    let positioned: Vec<_> = (0_i64..).zip(&c.participants).collect();
    for chunk in positioned.chunks(ROWS_PER_STATEMENT) {
        let mut upsert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO conversation_participants (conversation_id, user_id, position, \
             delivered_seq, delivered_at, read_seq, read_at, hidden_through) ",
        );
        upsert.push_values(chunk, |mut row, (position, p)| {
            row.push_bind(c.id.as_str())
                .push_bind(p.user_id.as_str())
                .push_bind(*position)
                .push_bind(seq_to_db(p.delivered.seq))
                .push_bind(p.delivered.at.map(|t| t.as_millis()))
                .push_bind(seq_to_db(p.read.seq))
                .push_bind(p.read.at.map(|t| t.as_millis()))
                .push_bind(p.hidden_through.map(seq_to_db));
        });
        upsert.push(
            " ON CONFLICT (conversation_id, user_id) DO UPDATE SET \
             position = excluded.position, delivered_seq = excluded.delivered_seq, \
             delivered_at = excluded.delivered_at, read_seq = excluded.read_seq, \
             read_at = excluded.read_at, hidden_through = excluded.hidden_through",
        );
        upsert.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// Inserts the messages, many to a statement. A taken id or (conversation, seq) breaks a
/// unique constraint: `Conflict`.
async fn insert_messages(
    conn: &mut SqliteConnection,
    messages: &[Message],
) -> Result<(), StoreError> {
    for chunk in messages.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO messages (id, conversation_id, seq, sender, kind, text, attachments, \
             call_type, call_duration, call_status, client_key, created_at, edited_at) ",
        );
        insert.push_values(chunk, |mut row, m| {
            let call = m.body.call;
            row.push_bind(m.id.as_str())
                .push_bind(m.conversation_id.as_str())
                .push_bind(seq_to_db(m.seq))
                .push_bind(m.sender.as_str())
                .push_bind(m.body.kind.as_str())
                .push_bind(m.body.text.as_str())
                .push_bind(attachments_to_json(&m.body.attachments).to_string())
                .push_bind(call.map(|c| c.call_type.as_str()))
                .push_bind(call.map(|c| i64::from(c.duration_secs)))
                .push_bind(call.map(|c| c.status.as_str()))
                .push_bind(m.client_key.as_ref().map(|k| k.as_str()))
                .push_bind(m.created_at.as_millis())
                .push_bind(m.edited_at.map(|t| t.as_millis()));
        });
        insert.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

#[async_trait]
impl ImportSink for SqliteImportSink {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.conversations.get(id).await
    }

    async fn conversation_with_key(&self, key: &str) -> Result<Option<ConversationId>, StoreError> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE identity_key = ?1")
                .bind(key)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(db_error)?;
        id.map(|id| ConversationId::parse(id).map_err(|e| corrupt("conversation id", e)))
            .transpose()
    }

    async fn max_seq(&self, conversation: &ConversationId) -> Result<Seq, StoreError> {
        let max: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = ?1",
        )
        .bind(conversation.as_str())
        .fetch_one(&self.db.pool)
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
            "SELECT id, seq FROM messages WHERE conversation_id = ?1 \
             AND id IN (SELECT value FROM json_each(?2))",
        )
        .bind(conversation.as_str())
        .bind(json_list(ids.iter().map(MessageId::as_str)))
        .fetch_all(&self.db.pool)
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
        let mut tx = self.db.begin_write().await?;
        upsert_conversation(&mut tx, conversation, &key).await?;
        replace_participants(&mut tx, conversation).await?;
        insert_messages(&mut tx, messages).await?;
        tx.commit().await.map_err(db_error)?;
        self.db.confirm_write()
    }

    async fn save_notifications(&self, batch: &[Notification]) -> Result<(u64, u64), StoreError> {
        let mut tx = self.db.begin_write().await?;
        let mut inserted = 0;
        for chunk in batch.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO notifications (id, recipient, kind, title, message, reference_id, \
                 data, created_at, delivered_at, read_at) ",
            );
            insert.push_values(chunk, |mut row, n| {
                row.push_bind(n.id.as_str())
                    .push_bind(n.recipient.as_str())
                    .push_bind(n.kind.as_str())
                    .push_bind(n.title.as_deref())
                    .push_bind(n.message.as_str())
                    .push_bind(n.reference_id.as_deref())
                    .push_bind(data_to_json(&n.data).to_string())
                    .push_bind(n.created_at.as_millis())
                    .push_bind(n.delivered_at.map(|t| t.as_millis()))
                    .push_bind(n.read_at.map(|t| t.as_millis()));
            });
            insert.push(" ON CONFLICT (id) DO NOTHING");
            inserted += insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
        }
        // Marks only move forward: a time is set where the stored row has none. The rows just
        // inserted already hold the given times, so they do not count again.
        let marked: Vec<&Notification> = batch
            .iter()
            .filter(|n| n.read_at.is_some() || n.delivered_at.is_some())
            .collect();
        let mut updated = 0;
        for chunk in marked.chunks(ROWS_PER_STATEMENT) {
            let mut update =
                QueryBuilder::<Sqlite>::new("WITH given (id, read_at, delivered_at) AS (");
            update.push_values(chunk, |mut row, n| {
                row.push_bind(n.id.as_str())
                    .push_bind(n.read_at.map(|t| t.as_millis()))
                    .push_bind(n.delivered_at.map(|t| t.as_millis()));
            });
            update.push(
                ") UPDATE notifications SET \
                 read_at = COALESCE(notifications.read_at, given.read_at), \
                 delivered_at = COALESCE(notifications.delivered_at, given.delivered_at) \
                 FROM given WHERE notifications.id = given.id \
                 AND ((notifications.read_at IS NULL AND given.read_at IS NOT NULL) \
                 OR (notifications.delivered_at IS NULL AND given.delivered_at IS NOT NULL))",
            );
            updated += update
                .build()
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
        }
        tx.commit().await.map_err(db_error)?;
        self.db.confirm_write()?;
        Ok((inserted, updated))
    }

    async fn save_users(&self, batch: &[UserProfile]) -> Result<u64, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let mut changed = 0;
        for chunk in batch.chunks(ROWS_PER_STATEMENT) {
            let mut upsert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO users (id, name, email, avatar, role, last_active) ",
            );
            upsert.push_values(chunk, |mut row, p| {
                row.push_bind(p.id.as_str())
                    .push_bind(p.name.as_deref())
                    .push_bind(p.email.as_deref())
                    .push_bind(p.avatar.as_deref())
                    .push_bind(p.role.as_ref().map(|r| r.as_str()))
                    .push_bind(p.last_active.map(|t| t.as_millis()));
            });
            // What the server learned since is kept: only empty columns are filled, and a
            // row with nothing to fill is left alone (and not counted).
            upsert.push(
                " ON CONFLICT (id) DO UPDATE SET \
                 name = COALESCE(users.name, excluded.name), \
                 email = COALESCE(users.email, excluded.email), \
                 avatar = COALESCE(users.avatar, excluded.avatar), \
                 role = COALESCE(users.role, excluded.role), \
                 last_active = COALESCE(users.last_active, excluded.last_active) \
                 WHERE (users.name IS NULL AND excluded.name IS NOT NULL) \
                 OR (users.email IS NULL AND excluded.email IS NOT NULL) \
                 OR (users.avatar IS NULL AND excluded.avatar IS NOT NULL) \
                 OR (users.role IS NULL AND excluded.role IS NOT NULL) \
                 OR (users.last_active IS NULL AND excluded.last_active IS NOT NULL)",
            );
            changed += upsert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
        }
        tx.commit().await.map_err(db_error)?;
        self.db.confirm_write()?;
        Ok(changed)
    }
}
