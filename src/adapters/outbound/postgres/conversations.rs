//! `PgConversationStore`: conversations and their participants' marks, in the
//! `conversations` and `conversation_participants` tables. Reads join both tables in one
//! statement, so a conversation and its participants' marks come from one snapshot.

use async_trait::async_trait;
use sqlx::PgPool;

use super::rows::{
    ConversationRow, ParticipantRow, count_from_db, db_error, seq_to_db, time_to_db, times_to_db,
    user_ids,
};
use crate::adapters::outbound::sql::json::context_to_json;
use crate::domain::{Conversation, ConversationId, MarkKind, ReadMark, Seq, UserId};
use crate::ports::{ConversationStore, Page, StoreError};

pub struct PgConversationStore {
    pool: PgPool,
}

impl PgConversationStore {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// A conversation row joined with one of its participants' rows.
#[derive(sqlx::FromRow)]
struct JoinedRow {
    #[sqlx(flatten)]
    conversation: ConversationRow,
    #[sqlx(flatten)]
    participant: ParticipantRow,
}

/// Folds joined rows, ordered so that each conversation's rows are adjacent and in
/// participant order, into conversations; keeps the order of the conversations.
fn assemble(rows: Vec<JoinedRow>) -> Result<Vec<Conversation>, StoreError> {
    let mut conversations = Vec::new();
    let mut current: Option<(ConversationRow, Vec<_>)> = None;
    for JoinedRow {
        conversation,
        participant,
    } in rows
    {
        let same_conversation =
            matches!(&current, Some((open, _)) if open.id == participant.conversation_id);
        let participant = participant.into_domain()?;
        match &mut current {
            Some((_, participants)) if same_conversation => participants.push(participant),
            _ => {
                if let Some((done, participants)) = current.take() {
                    conversations.push(done.into_domain(participants)?);
                }
                current = Some((conversation, vec![participant]));
            }
        }
    }
    if let Some((done, participants)) = current {
        conversations.push(done.into_domain(participants)?);
    }
    Ok(conversations)
}

/// The parameters of a statement that writes a conversation and its participants: $1 id,
/// $2 identity key, $3 context, $4 created, $5 updated, $6 last seq, $7-$9 the last message
/// (text, sender, time), then one array each over the participants in order: $10 user,
/// $11 delivered seq, $12 delivered time, $13 read seq, $14 read time, $15 hidden through.
pub(super) trait BindConversation<'q> {
    fn bind_conversation(self, c: &'q Conversation, key: &'q str) -> Self;
}

/// One body for both kinds of query that write a conversation (`sqlx::query` and
/// `sqlx::query_scalar` have no common `bind`).
macro_rules! bind_conversation_for {
    ([$($generics:tt)*] $query:ty) => {
        impl<$($generics)*> BindConversation<'q> for $query {
            fn bind_conversation(self, c: &'q Conversation, key: &'q str) -> Self {
                let last = c.last_message.as_ref();
                let p = &c.participants;
                self.bind(c.id.as_str())
                    .bind(key)
                    .bind(context_to_json(&c.context))
                    .bind(time_to_db(c.created_at))
                    .bind(time_to_db(c.updated_at))
                    .bind(seq_to_db(c.last_seq))
                    .bind(last.map(|m| m.text.as_str()))
                    .bind(last.map(|m| m.sender.as_str()))
                    .bind(last.map(|m| time_to_db(m.at)))
                    .bind(p.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>())
                    .bind(p.iter().map(|p| seq_to_db(p.delivered.seq)).collect::<Vec<_>>())
                    .bind(p.iter().map(|p| times_to_db(p.delivered.at)).collect::<Vec<_>>())
                    .bind(p.iter().map(|p| seq_to_db(p.read.seq)).collect::<Vec<_>>())
                    .bind(p.iter().map(|p| times_to_db(p.read.at)).collect::<Vec<_>>())
                    .bind(p.iter().map(|p| p.hidden_through.map(seq_to_db)).collect::<Vec<_>>())
            }
        }
    };
}

bind_conversation_for!(['q, O: Send + Unpin] sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>);
bind_conversation_for!(['q] sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>);

/// Inserts the conversation and its participants in one statement, unless a conversation
/// with the same identity key exists (unique by the key's SHA-256: a key can be longer than
/// an index entry may be; see migration 0002). Returns whether it inserted. Waiting on a concurrent
/// insert of the same key is PostgreSQL's part of `ON CONFLICT`: the loser does nothing, and
/// the winner's rows are committed, so the caller's next statement sees them.
async fn insert(pool: &PgPool, c: &Conversation, key: &str) -> Result<bool, StoreError> {
    let inserted: i64 = sqlx::query_scalar(
        "WITH created AS ( \
             INSERT INTO conversations (id, identity_key, identity_hash, context, \
             created_at, updated_at, last_seq, last_message_text, last_message_sender, \
             last_message_at) \
             VALUES ($1, $2, sha256(convert_to($2, 'UTF8')), $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (identity_hash) DO NOTHING \
             RETURNING id \
         ), participants AS ( \
             INSERT INTO conversation_participants (conversation_id, user_id, position, \
             delivered_seq, delivered_at, read_seq, read_at, hidden_through) \
             SELECT created.id, p.user_id, p.position, p.delivered_seq, p.delivered_at, \
             p.read_seq, p.read_at, p.hidden_through \
             FROM created, unnest($10::text[], $11::bigint[], $12::timestamptz[], \
             $13::bigint[], $14::timestamptz[], $15::bigint[]) WITH ORDINALITY \
             AS p (user_id, delivered_seq, delivered_at, read_seq, read_at, hidden_through, \
             position) \
         ) \
         SELECT count(*) FROM created",
    )
    .bind_conversation(c, key)
    .fetch_one(pool)
    .await
    .map_err(db_error)?;
    Ok(inserted == 1)
}

#[async_trait]
impl ConversationStore for PgConversationStore {
    async fn get_or_create(
        &self,
        candidate: &Conversation,
    ) -> Result<(Conversation, bool), StoreError> {
        let key = candidate.key();
        // A taken id with another key fails the insert with a unique violation: `Conflict`.
        if insert(&self.pool, candidate, &key).await? {
            return Ok((candidate.clone(), true));
        }
        let rows: Vec<JoinedRow> = sqlx::query_as(
            "SELECT c.*, p.* FROM conversations c \
             JOIN conversation_participants p ON p.conversation_id = c.id \
             WHERE c.identity_hash = sha256(convert_to($1, 'UTF8')) AND c.identity_key = $1 \
             ORDER BY p.position",
        )
        .bind(&key)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let existing = assemble(rows)?.pop().ok_or_else(|| {
            StoreError::Corrupt(format!("conversation with key {key:?} vanished"))
        })?;
        Ok((existing, false))
    }

    async fn get(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        // Participants are inserted in the statement that inserts their conversation, so an
        // inner join loses no conversation.
        let rows: Vec<JoinedRow> = sqlx::query_as(
            "SELECT c.*, p.* FROM conversations c \
             JOIN conversation_participants p ON p.conversation_id = c.id \
             WHERE c.id = $1 ORDER BY p.position",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(assemble(rows)?.pop())
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        page: Page,
    ) -> Result<Vec<Conversation>, StoreError> {
        // Hidden means "until a message after hidden_through": the same test as
        // `Conversation::is_visible_to`. Ties on activity break by id for stable paging.
        let rows: Vec<JoinedRow> = sqlx::query_as(
            "WITH listed AS ( \
                 SELECT c.* FROM conversation_participants me \
                 JOIN conversations c ON c.id = me.conversation_id \
                 WHERE me.user_id = $1 \
                 AND (me.hidden_through IS NULL OR c.last_seq > me.hidden_through) \
                 ORDER BY c.updated_at DESC, c.id DESC LIMIT $2 OFFSET $3 \
             ) \
             SELECT listed.*, p.* FROM listed \
             JOIN conversation_participants p ON p.conversation_id = listed.id \
             ORDER BY listed.updated_at DESC, listed.id DESC, p.position",
        )
        .bind(user.as_str())
        .bind(i64::from(page.limit))
        .bind(i64::try_from(page.skip).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        assemble(rows)
    }

    async fn hide_for(
        &self,
        id: &ConversationId,
        user: &UserId,
        through: Seq,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE conversation_participants SET hidden_through = $3 \
             WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .bind(seq_to_db(through))
        .execute(&self.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound(format!(
                "conversation {id} with participant {user}"
            )));
        }
        Ok(())
    }

    async fn save_mark(&self, mark: &ReadMark, kind: MarkKind) -> Result<bool, StoreError> {
        // Mirrors `Conversation::apply_mark`: marks only move up, and reading also delivers.
        // SET expressions see the row as it was before the update. The WHERE clause leaves
        // the row alone when nothing would move; `known` tells "nothing moved" from "no such
        // participant" in the same round trip.
        let sql = match kind {
            MarkKind::Read => {
                "WITH moved AS ( \
                     UPDATE conversation_participants SET \
                     read_at = CASE WHEN read_seq < $3 THEN $4 ELSE read_at END, \
                     read_seq = GREATEST(read_seq, $3), \
                     delivered_at = CASE WHEN delivered_seq < $3 THEN $4 ELSE delivered_at END, \
                     delivered_seq = GREATEST(delivered_seq, $3) \
                     WHERE conversation_id = $1 AND user_id = $2 \
                     AND (read_seq < $3 OR delivered_seq < $3) \
                     RETURNING 1 \
                 ) \
                 SELECT EXISTS (SELECT 1 FROM moved), EXISTS (SELECT 1 FROM \
                 conversation_participants WHERE conversation_id = $1 AND user_id = $2)"
            }
            MarkKind::Delivered => {
                "WITH moved AS ( \
                     UPDATE conversation_participants SET delivered_at = $4, delivered_seq = $3 \
                     WHERE conversation_id = $1 AND user_id = $2 AND delivered_seq < $3 \
                     RETURNING 1 \
                 ) \
                 SELECT EXISTS (SELECT 1 FROM moved), EXISTS (SELECT 1 FROM \
                 conversation_participants WHERE conversation_id = $1 AND user_id = $2)"
            }
        };
        let (moved, known): (bool, bool) = sqlx::query_as(sql)
            .bind(mark.conversation_id.as_str())
            .bind(mark.user_id.as_str())
            .bind(seq_to_db(mark.up_to))
            .bind(time_to_db(mark.at))
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        if !known {
            return Err(StoreError::NotFound(format!(
                "conversation {} with participant {}",
                mark.conversation_id, mark.user_id
            )));
        }
        Ok(moved)
    }

    async fn total_unread(&self, user: &UserId) -> Result<u64, StoreError> {
        // Mirrors `Conversation::unread_for`: last seq minus the read mark, never negative.
        // The user's participant rows come from their index, each conversation by its key.
        let total: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(GREATEST(c.last_seq - p.read_seq, 0)), 0)::bigint \
             FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id \
             WHERE p.user_id = $1",
        )
        .bind(user.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        count_from_db(total)
    }

    async fn contacts_of(&self, user: &UserId) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT other.user_id FROM conversation_participants me \
             JOIN conversation_participants other ON other.conversation_id = me.conversation_id \
             WHERE me.user_id = $1 AND other.user_id <> $1 ORDER BY other.user_id",
        )
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        user_ids(ids)
    }
}
