//! `MongoCallSessionStore`: live calls in the `callsessions` collection. The unique index on
//! `parties` makes a second call for a busy user fail on insert, atomically, across nodes.

use async_trait::async_trait;
use mongodb::bson::doc;

use super::documents::{CallDoc, call_state_fields};
use super::errors::store_error;
use super::values::{date, id_to_bson};
use super::{Collections, collect};
use crate::adapters::outbound::stored::RINGING;
use crate::domain::{CallId, CallSession, Timestamp, UserId};
use crate::ports::{CallSessionStore, StoreError};

pub struct MongoCallSessionStore {
    collections: Collections,
}

impl MongoCallSessionStore {
    pub(super) fn new(collections: Collections) -> Self {
        Self { collections }
    }
}

#[async_trait]
impl CallSessionStore for MongoCallSessionStore {
    async fn start(&self, session: &CallSession) -> Result<(), StoreError> {
        // A duplicate key on `parties` (or on `_id`) is the `Conflict` the port asks for.
        self.collections
            .calls
            .insert_one(CallDoc::from_domain(session))
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn get(&self, id: &CallId) -> Result<Option<CallSession>, StoreError> {
        self.collections
            .calls
            .find_one(doc! { "_id": id_to_bson(id.as_str()) })
            .await
            .map_err(store_error)?
            .map(CallDoc::into_domain)
            .transpose()
    }

    async fn live_call_of(&self, user: &UserId) -> Result<Option<CallSession>, StoreError> {
        self.collections
            .calls
            .find_one(doc! { "parties": id_to_bson(user.as_str()) })
            .await
            .map_err(store_error)?
            .map(CallDoc::into_domain)
            .transpose()
    }

    async fn update(&self, session: &CallSession) -> Result<(), StoreError> {
        // Only the state changes during a call; the parties stay who they were at start.
        let (state, accepted_at) = call_state_fields(session.state);
        let matched = self
            .collections
            .calls
            .update_one(
                doc! { "_id": id_to_bson(session.id.as_str()) },
                doc! { "$set": { "state": state, "acceptedAt": accepted_at } },
            )
            .await
            .map_err(store_error)?
            .matched_count;
        if matched == 0 {
            return Err(StoreError::NotFound(format!("call {}", session.id)));
        }
        Ok(())
    }

    async fn finish(&self, id: &CallId) -> Result<bool, StoreError> {
        let deleted = self
            .collections
            .calls
            .delete_one(doc! { "_id": id_to_bson(id.as_str()) })
            .await
            .map_err(store_error)?
            .deleted_count;
        Ok(deleted > 0)
    }

    async fn ringing_since_before(
        &self,
        before: Timestamp,
    ) -> Result<Vec<CallSession>, StoreError> {
        let docs = collect(
            self.collections
                .calls
                .find(doc! { "state": RINGING, "startedAt": { "$lt": date(before) } })
                .sort(doc! { "startedAt": 1, "_id": 1 })
                .await,
        )
        .await?;
        docs.into_iter().map(CallDoc::into_domain).collect()
    }
}
