//! The indexes every query of this adapter runs on, created at start. `createIndexes` with
//! an index that already exists in the same shape does nothing, so starting again (or
//! several nodes starting at once) is harmless.

use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use super::errors::store_error;
use super::names;
use crate::ports::StoreError;

struct Index {
    collection: &'static str,
    name: &'static str,
    keys: Document,
    unique: bool,
    partial: Option<Document>,
}

fn index(collection: &'static str, name: &'static str, keys: Document) -> Index {
    Index {
        collection,
        name,
        keys,
        unique: false,
        partial: None,
    }
}

impl Index {
    fn unique(self) -> Self {
        Self {
            unique: true,
            ..self
        }
    }

    fn only_where(self, filter: Document) -> Self {
        Self {
            partial: Some(filter),
            ..self
        }
    }

    fn model(self) -> IndexModel {
        let options = IndexOptions::builder()
            .name(self.name.to_owned())
            .unique(self.unique.then_some(true))
            .partial_filter_expression(self.partial)
            .build();
        IndexModel::builder()
            .keys(self.keys)
            .options(options)
            .build()
    }
}

fn all() -> Vec<Index> {
    use names::{CALLS, CONVERSATIONS, MESSAGES, NOTIFICATIONS};
    vec![
        // Get-or-create: one conversation per participant set and context, also when
        // several requests create it at once.
        index(
            CONVERSATIONS,
            "identityKey_unique",
            doc! { "identityKey": 1 },
        )
        .unique(),
        // A user's list (newest activity first), unread total and contacts.
        index(
            CONVERSATIONS,
            "participants_updatedAt",
            doc! { "participants": 1, "updatedAt": -1, "_id": -1 },
        ),
        // History pages and catch-up by seq; unique, so no seq is ever taken twice.
        index(
            MESSAGES,
            "conversationId_seq_unique",
            doc! { "conversationId": 1, "seq": 1 },
        )
        .unique(),
        // A resent message (same sender, same client key) is stored once.
        index(
            MESSAGES,
            "conversationId_sender_clientKey_unique",
            doc! { "conversationId": 1, "sender": 1, "clientKey": 1 },
        )
        .unique()
        .only_where(doc! { "clientKey": { "$exists": true } }),
        // A user's notifications, newest first.
        index(
            NOTIFICATIONS,
            "userId_createdAt",
            doc! { "userId": 1, "createdAt": -1, "_id": -1 },
        ),
        // What is still to be pushed when the user connects, oldest first.
        index(
            NOTIFICATIONS,
            "userId_pending",
            doc! { "userId": 1, "createdAt": 1 },
        )
        .only_where(doc! { "delivered": false }),
        // Unread counts and "mark all read".
        index(NOTIFICATIONS, "userId_unread", doc! { "userId": 1 })
            .only_where(doc! { "isRead": false }),
        // A user is a party of at most one live call: the busy rule.
        index(CALLS, "parties_unique", doc! { "parties": 1 }).unique(),
        // The ring-timeout sweep.
        index(
            CALLS,
            "state_startedAt",
            doc! { "state": 1, "startedAt": 1 },
        ),
    ]
}

/// Creates every index that is missing.
///
/// # Errors
/// `Unavailable` when the server refuses one (e.g. an index of that name exists with other
/// keys, or existing documents break a unique index), naming it.
pub(super) async fn ensure(db: &Database) -> Result<(), StoreError> {
    for index in all() {
        let (collection, name) = (index.collection, index.name);
        db.collection::<Document>(collection)
            .create_index(index.model())
            .await
            .map_err(|e| match store_error(e) {
                StoreError::Unavailable(detail) | StoreError::Conflict(detail) => {
                    StoreError::Unavailable(format!(
                        "creating index {name} on {collection}: {detail}"
                    ))
                }
                other => other,
            })?;
    }
    Ok(())
}
