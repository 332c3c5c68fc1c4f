//! `PgCallSessionStore`: live calls in `call_sessions`, and their parties in `call_parties`,
//! whose primary key on the user is what makes a busy party a `Conflict`.

use async_trait::async_trait;
use sqlx::PgPool;

use super::rows::{CallRow, RINGING, call_state_to_db, db_error, time_to_db, times_to_db};
use crate::domain::{CallId, CallSession, Timestamp, UserId};
use crate::ports::{CallSessionStore, StoreError};

pub struct PgCallSessionStore {
    pool: PgPool,
}

impl PgCallSessionStore {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// The parties of a call, each once, in one fixed order. Two calls that share both parties
/// (a calls b while b calls a) then take the party keys in the same order, so one waits for
/// the other and gets `Conflict`, instead of each holding one key and deadlocking.
fn parties(s: &CallSession) -> Vec<&str> {
    let mut parties = vec![s.caller.as_str(), s.callee.as_str()];
    parties.sort_unstable();
    parties.dedup();
    parties
}

#[async_trait]
impl CallSessionStore for PgCallSessionStore {
    async fn start(&self, s: &CallSession) -> Result<(), StoreError> {
        let (state, accepted_at) = call_state_to_db(s.state);
        // One statement: if a party turns out busy, the session row is not stored either.
        sqlx::query(
            "WITH session AS ( \
                 INSERT INTO call_sessions (id, conversation_id, caller, callee, call_type, \
                 started_at, state, accepted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING id \
             ) \
             INSERT INTO call_parties (user_id, call_id) \
             SELECT party.user_id, session.id \
             FROM session, unnest($9::text[]) WITH ORDINALITY AS party (user_id, position) \
             ORDER BY party.position",
        )
        .bind(s.id.as_str())
        .bind(s.conversation_id.as_str())
        .bind(s.caller.as_str())
        .bind(s.callee.as_str())
        .bind(s.call_type.as_str())
        .bind(time_to_db(s.started_at))
        .bind(state)
        .bind(times_to_db(accepted_at))
        .bind(parties(s))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get(&self, id: &CallId) -> Result<Option<CallSession>, StoreError> {
        let row: Option<CallRow> = sqlx::query_as("SELECT * FROM call_sessions WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(CallRow::into_domain).transpose()
    }

    async fn live_call_of(&self, user: &UserId) -> Result<Option<CallSession>, StoreError> {
        let row: Option<CallRow> = sqlx::query_as(
            "SELECT s.* FROM call_parties p JOIN call_sessions s ON s.id = p.call_id \
             WHERE p.user_id = $1",
        )
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.map(CallRow::into_domain).transpose()
    }

    async fn update(&self, s: &CallSession) -> Result<(), StoreError> {
        // Only the state changes during a call; the parties stay who they were at start.
        let (state, accepted_at) = call_state_to_db(s.state);
        let updated =
            sqlx::query("UPDATE call_sessions SET state = $2, accepted_at = $3 WHERE id = $1")
                .bind(s.id.as_str())
                .bind(state)
                .bind(times_to_db(accepted_at))
                .execute(&self.pool)
                .await
                .map_err(db_error)?
                .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound(format!("call {}", s.id)));
        }
        Ok(())
    }

    async fn finish(&self, id: &CallId) -> Result<bool, StoreError> {
        // The parties' rows go with it (ON DELETE CASCADE), in the same statement.
        let deleted = sqlx::query("DELETE FROM call_sessions WHERE id = $1")
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        Ok(deleted > 0)
    }

    async fn ringing_since_before(
        &self,
        before: Timestamp,
    ) -> Result<Vec<CallSession>, StoreError> {
        let rows: Vec<CallRow> = sqlx::query_as(
            "SELECT * FROM call_sessions WHERE state = $1 AND started_at < $2 \
             ORDER BY started_at, id",
        )
        .bind(RINGING)
        .bind(time_to_db(before))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(CallRow::into_domain).collect()
    }
}
