//! `SqliteCallSessionStore`: live calls in `call_sessions`, and their parties in
//! `call_parties`, whose primary key on the user is what makes a busy party a `Conflict`.

use async_trait::async_trait;

use super::db::Db;
use super::rows::{CallRow, RINGING, call_state_to_db, db_error};
use crate::domain::{CallId, CallSession, Timestamp, UserId};
use crate::ports::{CallSessionStore, StoreError};

pub struct SqliteCallSessionStore {
    db: Db,
}

impl SqliteCallSessionStore {
    pub(super) fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl CallSessionStore for SqliteCallSessionStore {
    async fn start(&self, s: &CallSession) -> Result<(), StoreError> {
        let (state, accepted_at) = call_state_to_db(s.state);
        let accepted_at = accepted_at.map(Timestamp::as_millis);
        // One transaction: if a party turns out busy, the session row goes too.
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO call_sessions (id, conversation_id, caller, callee, call_type, \
             started_at, state, accepted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(s.id.as_str())
        .bind(s.conversation_id.as_str())
        .bind(s.caller.as_str())
        .bind(s.callee.as_str())
        .bind(s.call_type.as_str())
        .bind(s.started_at.as_millis())
        .bind(state)
        .bind(accepted_at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let parties: &[&UserId] = if s.caller == s.callee {
            &[&s.caller]
        } else {
            &[&s.caller, &s.callee]
        };
        for party in parties {
            sqlx::query("INSERT INTO call_parties (user_id, call_id) VALUES (?1, ?2)")
                .bind(party.as_str())
                .bind(s.id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        self.db.confirm_write()
    }

    async fn get(&self, id: &CallId) -> Result<Option<CallSession>, StoreError> {
        let row: Option<CallRow> = sqlx::query_as("SELECT * FROM call_sessions WHERE id = ?1")
            .bind(id.as_str())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_error)?;
        row.map(CallRow::into_domain).transpose()
    }

    async fn live_call_of(&self, user: &UserId) -> Result<Option<CallSession>, StoreError> {
        let row: Option<CallRow> = sqlx::query_as(
            "SELECT s.* FROM call_parties p JOIN call_sessions s ON s.id = p.call_id \
             WHERE p.user_id = ?1",
        )
        .bind(user.as_str())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(db_error)?;
        row.map(CallRow::into_domain).transpose()
    }

    async fn update(&self, s: &CallSession) -> Result<(), StoreError> {
        // Only the state changes during a call; the parties stay who they were at start.
        let (state, accepted_at) = call_state_to_db(s.state);
        let accepted_at = accepted_at.map(Timestamp::as_millis);
        let updated =
            sqlx::query("UPDATE call_sessions SET state = ?2, accepted_at = ?3 WHERE id = ?1")
                .bind(s.id.as_str())
                .bind(state)
                .bind(accepted_at)
                .execute(&self.db.pool)
                .await
                .map_err(db_error)?
                .rows_affected();
        self.db.confirm_write()?;
        if updated == 0 {
            return Err(StoreError::NotFound(format!("call {}", s.id)));
        }
        Ok(())
    }

    async fn finish(&self, id: &CallId) -> Result<bool, StoreError> {
        // The parties' rows go with it (ON DELETE CASCADE), in the same statement.
        let deleted = sqlx::query("DELETE FROM call_sessions WHERE id = ?1")
            .bind(id.as_str())
            .execute(&self.db.pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        self.db.confirm_write()?;
        Ok(deleted > 0)
    }

    async fn ringing_since_before(
        &self,
        before: Timestamp,
    ) -> Result<Vec<CallSession>, StoreError> {
        let rows: Vec<CallRow> = sqlx::query_as(
            "SELECT * FROM call_sessions WHERE state = ?1 AND started_at < ?2 \
             ORDER BY started_at, id",
        )
        .bind(RINGING)
        .bind(before.as_millis())
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(CallRow::into_domain).collect()
    }
}
