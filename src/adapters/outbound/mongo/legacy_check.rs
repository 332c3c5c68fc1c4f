//! The start-up refusal of a database that still holds a Node server's documents that were
//! never imported. Served as they are, they would be unreadable (no `seq`, no `identityKey`,
//! no marks) and every list or history that touched one would fail; the operator is told
//! which command brings them in instead (docs/MIGRATION.md).

use mongodb::Database;
use mongodb::bson::{Document, doc};

use super::errors::store_error;
use super::names;
use crate::adapters::outbound::legacy::LegacyDatabase;
use crate::ports::StoreError;

/// What makes a document this store's own: the field the layout adds and every query needs.
const OWN_FIELD: [(&str, &str); 2] = [
    (names::CONVERSATIONS, "identityKey"),
    (names::MESSAGES, "seq"),
];

/// `Err` naming the import command when a collection holds documents without the layout's
/// field. Cheap on a database that is all imported: the estimated count (collection metadata)
/// is compared with the count of documents that have the field (read from the partial unique
/// index), and only a difference is looked at further.
pub(super) async fn refuse_unimported(db: &Database) -> Result<(), StoreError> {
    let mut found = Vec::new();
    for (collection, field) in OWN_FIELD {
        let coll = db.collection::<Document>(collection);
        let total = coll.estimated_document_count().await.map_err(store_error)?;
        if total == 0 {
            continue;
        }
        let own = coll
            .count_documents(doc! { field: { "$exists": true } })
            .await
            .map_err(store_error)?;
        if own >= total {
            continue;
        }
        let legacy = coll
            .count_documents(doc! { field: { "$exists": false } })
            .await
            .map_err(store_error)?;
        if legacy > 0 {
            found.push(format!("{legacy} {collection} without `{field}`"));
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(StoreError::Unavailable(format!(
        "MongoDB database '{}' holds documents of a Node server that were never imported ({}): \
         run `{}` first, after stopping the Node server (docs/MIGRATION.md)",
        db.name(),
        found.join(", "),
        LegacyDatabase::Mongo.import_command("MONGO_URI"),
    )))
}
