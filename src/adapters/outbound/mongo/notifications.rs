//! `MongoNotificationStore`: notifications in the `notifications` collection. Delivery is a
//! conditional update (`delivered: false` → `true`), so each notification is delivered by
//! exactly one call; the call stamps the documents it took with its own `deliveryId` and
//! reads them back by it, which takes any number of them in two round trips.

use async_trait::async_trait;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};

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

    /// Delivers the undelivered notifications that `filter` selects, and returns them.
    async fn deliver(
        &self,
        filter: Document,
        at: Timestamp,
    ) -> Result<Vec<NotificationDoc>, StoreError> {
        let delivery = ObjectId::new();
        let mut undelivered = filter.clone();
        undelivered.insert("delivered", false);
        self.collections
            .notifications
            .update_many(
                undelivered,
                doc! { "$set": { "delivered": true, "deliveredAt": date(at), "deliveryId": delivery } },
            )
            .await
            .map_err(store_error)?;
        let mut taken = filter;
        taken.insert("deliveryId", delivery);
        collect(
            self.collections
                .notifications
                .find(taken)
                .sort(doc! { "createdAt": 1, "_id": 1 })
                .await,
        )
        .await
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
        let filter = doc! { "_id": { "$in": ids_to_bson(ids.iter().map(NotificationId::as_str)) } };
        let taken = self.deliver(filter, at).await?;
        taken
            .into_iter()
            .map(|d| d.into_domain().map(|n| n.id))
            .collect()
    }

    async fn take_pending(
        &self,
        user: &UserId,
        at: Timestamp,
    ) -> Result<Vec<Notification>, StoreError> {
        let taken = self
            .deliver(doc! { "userId": id_to_bson(user.as_str()) }, at)
            .await?;
        // Sorted by the query: oldest first, ties by id.
        taken
            .into_iter()
            .map(NotificationDoc::into_domain)
            .collect()
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
