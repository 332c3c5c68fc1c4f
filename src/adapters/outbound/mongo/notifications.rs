//! `MongoNotificationStore`: notifications in the `notifications` collection. Delivery is a
//! conditional update (`delivered: false` → `true`), so each notification is delivered by
//! exactly one call; the call stamps the documents it claimed with its own `deliveryId` and
//! reads back, by id and that `deliveryId`, just what it got. Releasing clears both marks.

use async_trait::async_trait;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};

use super::documents::NotificationDoc;
use super::errors::store_error;
use super::values::{date, id_to_bson, ids_to_bson, skip_of};
use super::{Collections, collect};
use crate::domain::{Notification, NotificationId, Timestamp, UserId};
use crate::ports::{NotificationStore, Page, StoreError};

pub struct MongoNotificationStore {
    collections: Collections,
}

impl MongoNotificationStore {
    pub(super) fn new(collections: Collections) -> Self {
        Self { collections }
    }

    /// Marks those of `ids` that are still undelivered delivered at `at` by `delivery`;
    /// returns how many it marked.
    async fn claim(
        &self,
        ids: &[Bson],
        delivery: ObjectId,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let claimed = self
            .collections
            .notifications
            .update_many(
                doc! { "_id": { "$in": ids }, "delivered": false },
                doc! { "$set": { "delivered": true, "deliveredAt": date(at), "deliveryId": delivery } },
            )
            .await
            .map_err(store_error)?
            .modified_count;
        Ok(claimed)
    }

    /// Those of `ids` that `delivery` claimed, oldest first (ties by id); found by `_id`.
    async fn claimed_by(
        &self,
        ids: &[Bson],
        delivery: ObjectId,
    ) -> Result<Vec<NotificationDoc>, StoreError> {
        collect(
            self.collections
                .notifications
                .find(doc! { "_id": { "$in": ids }, "deliveryId": delivery })
                .sort(doc! { "createdAt": 1, "_id": 1 })
                .await,
        )
        .await
    }

    /// The ids of the user's `limit` oldest undelivered notifications (ties by id), from the
    /// `userId_pending` partial index.
    async fn oldest_pending(&self, user: &Bson, limit: usize) -> Result<Vec<Bson>, StoreError> {
        let docs: Vec<Document> = collect(
            self.collections
                .notifications
                .clone_with_type::<Document>()
                .find(doc! { "userId": user, "delivered": false })
                .sort(doc! { "createdAt": 1, "_id": 1 })
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .projection(doc! { "_id": 1 })
                .await,
        )
        .await?;
        docs.into_iter()
            .map(|mut d| {
                d.remove("_id")
                    .ok_or_else(|| StoreError::Corrupt("a notification without _id".into()))
            })
            .collect()
    }
}

#[async_trait]
impl NotificationStore for MongoNotificationStore {
    async fn insert(&self, n: &Notification) -> Result<(), StoreError> {
        self.collections
            .notifications
            .insert_one(NotificationDoc::from_domain(n))
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn get(&self, id: &NotificationId) -> Result<Option<Notification>, StoreError> {
        self.collections
            .notifications
            .find_one(doc! { "_id": id_to_bson(id.as_str()) })
            .await
            .map_err(store_error)?
            .map(NotificationDoc::into_domain)
            .transpose()
    }

    async fn mark_delivered(
        &self,
        ids: &[NotificationId],
        at: Timestamp,
    ) -> Result<Vec<NotificationId>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = ids_to_bson(ids.iter().map(NotificationId::as_str));
        let delivery = ObjectId::new();
        self.claim(&ids, delivery, at).await?;
        self.claimed_by(&ids, delivery)
            .await?
            .into_iter()
            .map(|d| d.into_domain().map(|n| n.id))
            .collect()
    }

    async fn take_pending(
        &self,
        user: &UserId,
        at: Timestamp,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        let user = id_to_bson(user.as_str());
        let delivery = ObjectId::new();
        // Pick the oldest pending ids, then claim those still pending. A concurrent delivery
        // may claim some of the picked ones in between; then pick again for the rest, so that
        // a batch comes back short only when no more are pending. Each round that falls short
        // does so because another call delivered some, so the rounds end.
        let mut candidates = Vec::new();
        let mut wanted = limit;
        while wanted > 0 {
            let picked = self.oldest_pending(&user, wanted).await?;
            if picked.is_empty() {
                break;
            }
            let got =
                usize::try_from(self.claim(&picked, delivery, at).await?).unwrap_or(usize::MAX);
            let got_all = got >= picked.len();
            candidates.extend(picked);
            wanted = wanted.saturating_sub(got);
            if got_all {
                break;
            }
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        self.claimed_by(&candidates, delivery)
            .await?
            .into_iter()
            .map(NotificationDoc::into_domain)
            .collect()
    }

    async fn release(&self, ids: &[NotificationId]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let released = self
            .collections
            .notifications
            .update_many(
                doc! {
                    "_id": { "$in": ids_to_bson(ids.iter().map(NotificationId::as_str)) },
                    "delivered": true,
                },
                doc! {
                    "$set": { "delivered": false },
                    "$unset": { "deliveredAt": "", "deliveryId": "" },
                },
            )
            .await
            .map_err(store_error)?
            .modified_count;
        Ok(released)
    }

    async fn mark_read(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        let id_filter = doc! { "_id": id_to_bson(id.as_str()) };
        let mut unread = id_filter.clone();
        unread.insert("isRead", false);
        let updated = self
            .collections
            .notifications
            .update_one(
                unread,
                doc! { "$set": { "isRead": true, "readAt": date(at) } },
            )
            .await
            .map_err(store_error)?
            .modified_count;
        if updated > 0 {
            return Ok(true);
        }
        let exists = self
            .collections
            .notifications
            .count_documents(id_filter)
            .limit(1)
            .await
            .map_err(store_error)?;
        match exists {
            0 => Err(StoreError::NotFound(format!("notification {id}"))),
            _ => Ok(false),
        }
    }

    async fn mark_all_read(&self, user: &UserId, at: Timestamp) -> Result<u64, StoreError> {
        let updated = self
            .collections
            .notifications
            .update_many(
                doc! { "userId": id_to_bson(user.as_str()), "isRead": false },
                doc! { "$set": { "isRead": true, "readAt": date(at) } },
            )
            .await
            .map_err(store_error)?
            .modified_count;
        Ok(updated)
    }

    async fn unread_count(&self, user: &UserId) -> Result<u64, StoreError> {
        self.collections
            .notifications
            .count_documents(doc! { "userId": id_to_bson(user.as_str()), "isRead": false })
            .await
            .map_err(store_error)
    }

    async fn list_for(&self, user: &UserId, page: Page) -> Result<Vec<Notification>, StoreError> {
        // Ties on creation time break by id so that paging is stable.
        let docs = collect(
            self.collections
                .notifications
                .find(doc! { "userId": id_to_bson(user.as_str()) })
                .sort(doc! { "createdAt": -1, "_id": -1 })
                .skip(skip_of(page))
                .limit(i64::from(page.limit))
                .await,
        )
        .await?;
        docs.into_iter().map(NotificationDoc::into_domain).collect()
    }
}
