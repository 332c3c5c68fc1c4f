//! `SqliteUserDirectory`: user profiles in the `users` table.

use async_trait::async_trait;

use super::db::Db;
use super::rows::{UserRow, db_error, json_list};
use crate::domain::{Timestamp, UserId, UserProfile};
use crate::ports::{StoreError, UserDirectory};

pub struct SqliteUserDirectory {
    db: Db,
}

impl SqliteUserDirectory {
    pub(super) fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl UserDirectory for SqliteUserDirectory {
    async fn get(&self, id: &UserId) -> Result<Option<UserProfile>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as("SELECT * FROM users WHERE id = ?1")
            .bind(id.as_str())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_error)?;
        row.map(UserRow::into_domain).transpose()
    }

    async fn get_many(&self, ids: &[UserId]) -> Result<Vec<UserProfile>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<UserRow> =
            sqlx::query_as("SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?1))")
                .bind(json_list(ids.iter().map(UserId::as_str)))
                .fetch_all(&self.db.pool)
                .await
                .map_err(db_error)?;
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    async fn upsert(&self, profile: &UserProfile) -> Result<(), StoreError> {
        // `last_active` is written only when the row is new: connections, not profile
        // updates, own it.
        sqlx::query(
            "INSERT INTO users (id, name, email, avatar, role, last_active) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
             avatar = excluded.avatar, role = excluded.role",
        )
        .bind(profile.id.as_str())
        .bind(profile.name.as_deref())
        .bind(profile.email.as_deref())
        .bind(profile.avatar.as_deref())
        .bind(profile.role.as_ref().map(|r| r.as_str()))
        .bind(profile.last_active.map(|t| t.as_millis()))
        .execute(&self.db.pool)
        .await
        .map_err(db_error)?;
        self.db.confirm_write()
    }

    async fn record_last_active(&self, id: &UserId, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, last_active) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET last_active = excluded.last_active",
        )
        .bind(id.as_str())
        .bind(at.as_millis())
        .execute(&self.db.pool)
        .await
        .map_err(db_error)?;
        self.db.confirm_write()
    }
}
