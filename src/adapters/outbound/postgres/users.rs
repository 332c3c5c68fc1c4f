//! `PgUserDirectory`: user profiles in the `users` table.

use async_trait::async_trait;
use sqlx::PgPool;

use super::rows::{UserRow, db_error, time_to_db, times_to_db};
use crate::domain::{Timestamp, UserId, UserProfile};
use crate::ports::{StoreError, UserDirectory};

pub struct PgUserDirectory {
    pool: PgPool,
}

impl PgUserDirectory {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl UserDirectory for PgUserDirectory {
    async fn get(&self, id: &UserId) -> Result<Option<UserProfile>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as("SELECT * FROM users WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(UserRow::into_domain).transpose()
    }

    async fn get_many(&self, ids: &[UserId]) -> Result<Vec<UserProfile>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<UserRow> = sqlx::query_as("SELECT * FROM users WHERE id = ANY($1)")
            .bind(ids.iter().map(UserId::as_str).collect::<Vec<_>>())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    async fn upsert(&self, profile: &UserProfile) -> Result<(), StoreError> {
        // `last_active` is written only when the row is new: connections, not profile
        // updates, own it.
        sqlx::query(
            "INSERT INTO users (id, name, email, avatar, role, last_active) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
             avatar = excluded.avatar, role = excluded.role",
        )
        .bind(profile.id.as_str())
        .bind(profile.name.as_deref())
        .bind(profile.email.as_deref())
        .bind(profile.avatar.as_deref())
        .bind(profile.role.as_ref().map(|r| r.as_str()))
        .bind(times_to_db(profile.last_active))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn record_last_active(&self, id: &UserId, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, last_active) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET last_active = excluded.last_active",
        )
        .bind(id.as_str())
        .bind(time_to_db(at))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}
