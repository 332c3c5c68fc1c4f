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
        // several requests create it at once. Only over documents that have the key, so that
        // a Node server still writing its own documents into the same collection during an
        // import (docs/MIGRATION.md) is not refused by it.
        index(
            CONVERSATIONS,
            "identityKey_unique_where_set",
            doc! { "identityKey": 1 },
        )
        .unique()
        .only_where(doc! { "identityKey": { "$exists": true } }),
        // A user's list (newest activity first), unread total and contacts.
        index(
            CONVERSATIONS,
            "participants_updatedAt",
            doc! { "participants": 1, "updatedAt": -1, "_id": -1 },
        ),
        // History pages and catch-up by seq; unique, so no seq is ever taken twice. Partial
        // for the same reason as the identity key (legacy messages have no seq until they
        // are imported); every query by seq says `seq: { $exists: true }` so that MongoDB's
        // planner may use it.
        index(
            MESSAGES,
            "conversationId_seq_unique_where_set",
            doc! { "conversationId": 1, "seq": 1 },
        )
        .unique()
        .only_where(doc! { "seq": { "$exists": true } }),
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

/// Indexes of earlier versions, replaced by the partial ones above: the same keys under a
/// new name, since MongoDB cannot change an index's options in place.
const REPLACED: [(&str, &str); 2] = [
    (names::CONVERSATIONS, "identityKey_unique"),
    (names::MESSAGES, "conversationId_seq_unique"),
];

/// Drops the indexes of earlier versions (`REPLACED`) where they exist, then creates every
/// index that is missing.
///
/// # Errors
/// `Unavailable` when the server refuses one (e.g. an index of that name exists with other
/// keys, or existing documents break a unique index), naming it.
pub(super) async fn ensure(db: &Database) -> Result<(), StoreError> {
    for (collection, name) in REPLACED {
        // An index or a collection that is not there is what we want: nothing to drop.
        if let Err(e) = db.collection::<Document>(collection).drop_index(name).await {
            let missing = matches!(
                *e.kind,
                mongodb::error::ErrorKind::Command(ref c) if c.code == 27 || c.code == 26
            );
            if !missing {
                return Err(StoreError::Unavailable(format!(
                    "dropping the replaced index {name} on {collection}: {e}"
                )));
            }
        }
    }
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
