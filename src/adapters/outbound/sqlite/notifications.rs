//! `SqliteNotificationStore`: notifications in the `notifications` table. Delivery, release
//! and read changes are single UPDATE statements, which SQLite runs one writer at a time, so
//! each notification is delivered (and counted) by exactly one call.

use async_trait::async_trait;

use super::db::Db;
use super::rows::{NotificationRow, count_from_db, db_error, json_list, notification_ids};
use crate::adapters::json::data_to_json;
use crate::domain::{Notification, NotificationId, Timestamp, UserId};
use crate::ports::{NotificationStore, Page, StoreError};

pub struct SqliteNotificationStore {
    db: Db,
}

impl SqliteNotificationStore {
    pub(super) fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl NotificationStore for SqliteNotificationStore {
    async fn insert(&self, n: &Notification) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notifications (id, recipient, kind, title, message, reference_id, data, \
             created_at, delivered_at, read_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .bind(n.id.as_str())
        .bind(n.recipient.as_str())
        .bind(n.kind.as_str())
        .bind(n.title.as_deref())
        .bind(n.message.as_str())
        .bind(n.reference_id.as_deref())
        .bind(data_to_json(&n.data).to_string())
        .bind(n.created_at.as_millis())
        .bind(n.delivered_at.map(|t| t.as_millis()))
        .bind(n.read_at.map(|t| t.as_millis()))
        .execute(&self.db.pool)
        .await
        .map_err(db_error)?;
        self.db.confirm_write()
    }

    async fn get(&self, id: &NotificationId) -> Result<Option<Notification>, StoreError> {
        let row: Option<NotificationRow> =
            sqlx::query_as("SELECT * FROM notifications WHERE id = ?1")
                .bind(id.as_str())
                .fetch_optional(&self.db.pool)
                .await
                .map_err(db_error)?;
        row.map(NotificationRow::into_domain).transpose()
    }

    async fn mark_delivered(
        &self,
        ids: &[NotificationId],
        at: Timestamp,
    ) -> Result<Vec<NotificationId>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let newly: Vec<String> = sqlx::query_scalar(
            "UPDATE notifications SET delivered_at = ?1 \
             WHERE id IN (SELECT value FROM json_each(?2)) AND delivered_at IS NULL \
             RETURNING id",
        )
        .bind(at.as_millis())
        .bind(json_list(ids.iter().map(NotificationId::as_str)))
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?;
        self.db.confirm_write()?;
        notification_ids(newly)
    }

    async fn take_pending(
        &self,
        user: &UserId,
        at: Timestamp,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // One statement: it holds the write lock from the choice of the oldest `limit` (on
        // the `notifications_pending` partial index) to their marking, so concurrent takes
        // cannot choose the same rows.
        let rows: Vec<NotificationRow> = sqlx::query_as(
            "UPDATE notifications SET delivered_at = ?2 \
             WHERE id IN ( \
                 SELECT id FROM notifications \
                 WHERE recipient = ?1 AND delivered_at IS NULL \
                 ORDER BY created_at, id LIMIT ?3 \
             ) \
             RETURNING *",
        )
        .bind(user.as_str())
        .bind(at.as_millis())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?;
        self.db.confirm_write()?;
        let mut taken = rows
            .into_iter()
            .map(NotificationRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING has no ORDER BY: sort here, oldest first.
        taken.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(taken)
    }

    async fn release(&self, ids: &[NotificationId]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let released = sqlx::query(
            "UPDATE notifications SET delivered_at = NULL \
             WHERE id IN (SELECT value FROM json_each(?1)) AND delivered_at IS NOT NULL",
        )
        .bind(json_list(ids.iter().map(NotificationId::as_str)))
        .execute(&self.db.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        self.db.confirm_write()?;
        Ok(released)
    }

    async fn mark_read(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        let updated =
            sqlx::query("UPDATE notifications SET read_at = ?2 WHERE id = ?1 AND read_at IS NULL")
                .bind(id.as_str())
                .bind(at.as_millis())
                .execute(&self.db.pool)
                .await
                .map_err(db_error)?
                .rows_affected();
        self.db.confirm_write()?;
        if updated > 0 {
            return Ok(true);
        }
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM notifications WHERE id = ?1")
            .bind(id.as_str())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_error)?;
        match exists {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound(format!("notification {id}"))),
        }
    }

    async fn mark_all_read(&self, user: &UserId, at: Timestamp) -> Result<u64, StoreError> {
        let updated = sqlx::query(
            "UPDATE notifications SET read_at = ?2 WHERE recipient = ?1 AND read_at IS NULL",
        )
        .bind(user.as_str())
        .bind(at.as_millis())
        .execute(&self.db.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        self.db.confirm_write()?;
        Ok(updated)
    }

    async fn unread_count(&self, user: &UserId) -> Result<u64, StoreError> {
        let unread: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE recipient = ?1 AND read_at IS NULL",
        )
        .bind(user.as_str())
        .fetch_one(&self.db.pool)
        .await
        .map_err(db_error)?;
        count_from_db(unread)
    }

    async fn list_for(&self, user: &UserId, page: Page) -> Result<Vec<Notification>, StoreError> {
        // Ties on creation time break by id so that paging is stable.
        let rows: Vec<NotificationRow> = sqlx::query_as(
            "SELECT * FROM notifications WHERE recipient = ?1 \
             ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3",
        )
        .bind(user.as_str())
        .bind(i64::from(page.limit))
        .bind(i64::try_from(page.skip).unwrap_or(i64::MAX))
        .fetch_all(&self.db.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(NotificationRow::into_domain).collect()
    }
}
