//! `MongoUserDirectory`: user profiles in the `users` collection (`name`, `email`,
//! `avatar`, `role`, `lastActive`).

use async_trait::async_trait;
use mongodb::bson::{Document, doc};

use super::documents::UserDoc;
use super::errors::store_error;
use super::values::{date, id_to_bson, ids_to_bson};
use super::{Collections, collect};
use crate::domain::{Timestamp, UserId, UserProfile};
use crate::ports::{StoreError, UserDirectory};

pub struct MongoUserDirectory {
    collections: Collections,
}

impl MongoUserDirectory {
    pub(super) fn new(collections: Collections) -> Self {
        Self { collections }
    }
}

#[async_trait]
impl UserDirectory for MongoUserDirectory {
    async fn get(&self, id: &UserId) -> Result<Option<UserProfile>, StoreError> {
        self.collections
            .users
            .find_one(doc! { "_id": id_to_bson(id.as_str()) })
            .await
            .map_err(store_error)?
            .map(UserDoc::into_domain)
            .transpose()
    }

    async fn get_many(&self, ids: &[UserId]) -> Result<Vec<UserProfile>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let docs = collect(
            self.collections
                .users
                .find(doc! { "_id": { "$in": ids_to_bson(ids.iter().map(UserId::as_str)) } })
                .await,
        )
        .await?;
        docs.into_iter().map(UserDoc::into_domain).collect()
    }

    async fn upsert(&self, profile: &UserProfile) -> Result<(), StoreError> {
        // Absent fields are removed, so the profile is replaced; `lastActive` is written only
        // when the document is new: connections, not profile updates, own it.
        let fields = [
            ("name", profile.name.as_deref()),
            ("email", profile.email.as_deref()),
            ("avatar", profile.avatar.as_deref()),
            ("role", profile.role.as_ref().map(|r| r.as_str())),
        ];
        let (mut set, mut unset) = (Document::new(), Document::new());
        for (field, value) in fields {
            match value {
                Some(value) => set.insert(field, value),
                None => unset.insert(field, ""),
            };
        }
        let mut update = doc! {};
        if !set.is_empty() {
            update.insert("$set", set);
        }
        if !unset.is_empty() {
            update.insert("$unset", unset);
        }
        if let Some(at) = profile.last_active {
            update.insert("$setOnInsert", doc! { "lastActive": date(at) });
        }
        self.collections
            .users
            .update_one(doc! { "_id": id_to_bson(profile.id.as_str()) }, update)
            .upsert(true)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn record_last_active(&self, id: &UserId, at: Timestamp) -> Result<(), StoreError> {
        self.collections
            .users
            .update_one(
                doc! { "_id": id_to_bson(id.as_str()) },
                doc! { "$set": { "lastActive": date(at) } },
            )
            .upsert(true)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
