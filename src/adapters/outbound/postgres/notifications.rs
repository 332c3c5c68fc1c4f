//! `PgNotificationStore`: notifications in the `notifications` table. Delivery, release and
//! read changes are single statements whose WHERE clause requires the old state; at READ
//! COMMITTED a statement that waited on another's row lock re-checks that clause against the
//! committed row, so each notification is delivered (and counted read) by exactly one call.

use async_trait::async_trait;
use sqlx::PgPool;

use super::rows::{
    NotificationRow, count_from_db, db_error, notification_ids, time_to_db, times_to_db,
};
use crate::adapters::json::data_to_json;
use crate::domain::{Notification, NotificationId, Timestamp, UserId};
use crate::ports::{NotificationStore, Page, StoreError};

pub struct PgNotificationStore {
    pool: PgPool,
}

impl PgNotificationStore {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl NotificationStore for PgNotificationStore {
    async fn insert(&self, n: &Notification) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notifications (id, recipient, kind, title, message, reference_id, data, \
             created_at, delivered_at, read_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(n.id.as_str())
        .bind(n.recipient.as_str())
        .bind(n.kind.as_str())
        .bind(n.title.as_deref())
        .bind(n.message.as_str())
        .bind(n.reference_id.as_deref())
        .bind(data_to_json(&n.data))
        .bind(time_to_db(n.created_at))
        .bind(times_to_db(n.delivered_at))
        .bind(times_to_db(n.read_at))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get(&self, id: &NotificationId) -> Result<Option<Notification>, StoreError> {
        let row: Option<NotificationRow> =
            sqlx::query_as("SELECT * FROM notifications WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
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
            "UPDATE notifications SET delivered_at = $1 \
             WHERE id = ANY($2) AND delivered_at IS NULL \
             RETURNING id",
        )
        .bind(time_to_db(at))
        .bind(ids.iter().map(NotificationId::as_str).collect::<Vec<_>>())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
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
        // The oldest `limit` come from the `notifications_pending` partial index, locked in
        // that order. A concurrent take waits on a locked row, re-checks it once that take
        // commits, skips it (now delivered) and locks the next instead, so the batches are
        // disjoint and each still as full as there are notifications pending. The choice is
        // a MATERIALIZED CTE, made once: as an `IN (subquery)` the planner may rescan it for
        // every row it updates, and each rescan, skipping the rows this statement already
        // marked, would lock the next `limit`, taking far more than `limit` in all.
        let rows: Vec<NotificationRow> = sqlx::query_as(
            "WITH picked AS MATERIALIZED ( \
                 SELECT id FROM notifications \
                 WHERE recipient = $1 AND delivered_at IS NULL \
                 ORDER BY created_at, id LIMIT $3 \
                 FOR UPDATE \
             ), taken AS ( \
                 UPDATE notifications n SET delivered_at = $2 FROM picked \
                 WHERE n.id = picked.id AND n.delivered_at IS NULL \
                 RETURNING n.* \
             ) \
             SELECT * FROM taken ORDER BY created_at, id",
        )
        .bind(user.as_str())
        .bind(time_to_db(at))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(NotificationRow::into_domain).collect()
    }

    async fn release(&self, ids: &[NotificationId]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        // The rows are locked in the order a take locks them (creation time, then id), so a
        // release and a concurrent take of the same user never wait on each other in a cycle;
        // chosen once, in a MATERIALIZED CTE, like a take's.
        let released = sqlx::query(
            "WITH picked AS MATERIALIZED ( \
                 SELECT id FROM notifications \
                 WHERE id = ANY($1) AND delivered_at IS NOT NULL \
                 ORDER BY created_at, id \
                 FOR UPDATE \
             ) \
             UPDATE notifications n SET delivered_at = NULL FROM picked \
             WHERE n.id = picked.id AND n.delivered_at IS NOT NULL",
        )
        .bind(ids.iter().map(NotificationId::as_str).collect::<Vec<_>>())
        .execute(&self.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        Ok(released)
    }

    async fn mark_read(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        // `known` tells "already read" from "no such notification" in the same round trip.
        let (updated, known): (bool, bool) = sqlx::query_as(
            "WITH updated AS ( \
                 UPDATE notifications SET read_at = $2 WHERE id = $1 AND read_at IS NULL \
                 RETURNING 1 \
             ) \
             SELECT EXISTS (SELECT 1 FROM updated), \
             EXISTS (SELECT 1 FROM notifications WHERE id = $1)",
        )
        .bind(id.as_str())
        .bind(time_to_db(at))
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        if !known {
            return Err(StoreError::NotFound(format!("notification {id}")));
        }
        Ok(updated)
    }

    async fn mark_all_read(&self, user: &UserId, at: Timestamp) -> Result<u64, StoreError> {
        let updated = sqlx::query(
            "UPDATE notifications SET read_at = $2 WHERE recipient = $1 AND read_at IS NULL",
        )
        .bind(user.as_str())
        .bind(time_to_db(at))
        .execute(&self.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        Ok(updated)
    }

    async fn unread_count(&self, user: &UserId) -> Result<u64, StoreError> {
        let unread: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM notifications WHERE recipient = $1 AND read_at IS NULL",
        )
        .bind(user.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        count_from_db(unread)
    }

    async fn list_for(&self, user: &UserId, page: Page) -> Result<Vec<Notification>, StoreError> {
        // Ties on creation time break by id so that paging is stable.
        let rows: Vec<NotificationRow> = sqlx::query_as(
            "SELECT * FROM notifications WHERE recipient = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
        )
        .bind(user.as_str())
        .bind(i64::from(page.limit))
        .bind(i64::try_from(page.skip).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(NotificationRow::into_domain).collect()
    }
}
