//! `MongoSource`: a Node server's MongoDB database (the families born on MongoDB)
//! read as legacy records. Each document becomes a JSON value (`document_to_json`: ObjectIds
//! as their hex string, dates as ISO-8601 text with milliseconds) and goes through the
//! family's `Mapping` (`record.rs`).
//!
//! Every stream is one server cursor, so memory stays bounded whatever the collection's
//! size: messages sorted by conversation, creation time and `_id` (the server sorts, on disk
//! if it must), everything else by `_id`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::raw::RawBsonRef;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ClientOptions;
use mongodb::{Client, Cursor, Database};
use serde_json::{Number, Value};

use super::mapping::Mapping;
use super::record;
use crate::domain::{ConversationId, Notification, UserProfile};
use crate::ports::{
    Batches, LegacyConversation, LegacyCounts, LegacyMessage, LegacySource, Read, SourceError,
};

/// Documents per round trip to the server; `next_batch` takes what it asks for from them.
const CURSOR_BATCH: u32 = 1_000;

/// A legacy MongoDB database, read through the official driver.
pub struct MongoSource {
    db: Database,
    mapping: Arc<Mapping>,
}

/// Maps one document (as JSON) to a record of the stream.
type ReadFn<T> = fn(&Mapping, &Value) -> Read<T>;

impl MongoSource {
    /// Connects and checks that the server answers. `database` is the one to read, else the
    /// one the URI names (`mongodb://host/<database>`); `timeout` bounds the wait for a
    /// server, at start and on every later operation.
    ///
    /// # Errors
    /// The URI is invalid or names no database when `database` is `None`, or no server
    /// answers within `timeout`.
    pub async fn connect(
        uri: &str,
        database: Option<&str>,
        mapping: Mapping,
        timeout: Duration,
    ) -> Result<Self, SourceError> {
        let mut options = ClientOptions::parse(uri)
            .await
            .map_err(|e| SourceError(format!("bad MongoDB URI: {e}")))?;
        options
            .app_name
            .get_or_insert_with(|| "switchboard-import".into());
        options.connect_timeout = Some(timeout);
        options.server_selection_timeout = Some(timeout);
        // Unlike the store, no default database: reading an empty one would import nothing
        // and look like success.
        let database = database
            .map(str::to_owned)
            .or_else(|| options.default_database.clone())
            .ok_or_else(|| {
                SourceError(
                    "no MongoDB database to read: name one, or give it in the URI's path".into(),
                )
            })?;
        let client = Client::with_options(options).map_err(|e| failed("connecting", &e))?;
        let db = client.database(&database);
        tokio::time::timeout(timeout, db.run_command(doc! { "ping": 1 }))
            .await
            .map_err(|_| SourceError(format!("MongoDB did not answer within {timeout:?}")))?
            .map_err(|e| failed("connecting", &e))?;
        Ok(Self {
            db,
            mapping: Arc::new(mapping),
        })
    }

    async fn stream<T: Send + 'static>(
        &self,
        collection: &str,
        sort: Document,
        id_field: &str,
        read: ReadFn<T>,
    ) -> Result<Box<dyn Batches<T>>, SourceError> {
        let cursor = self
            .db
            .collection::<Document>(collection)
            .find(doc! {})
            .sort(sort)
            .allow_disk_use(true)
            .batch_size(CURSOR_BATCH)
            .await
            .map_err(|e| failed(&format!("reading `{collection}`"), &e))?;
        Ok(Box::new(MongoBatches {
            cursor,
            collection: collection.to_owned(),
            id_field: id_field.to_owned(),
            mapping: Arc::clone(&self.mapping),
            read,
        }))
    }

    async fn count(&self, collection: &str, enabled: bool) -> Result<u64, SourceError> {
        if !enabled {
            return Ok(0);
        }
        // A collection that does not exist counts 0.
        self.db
            .collection::<Document>(collection)
            .estimated_document_count()
            .await
            .map_err(|e| failed(&format!("counting `{collection}`"), &e))
    }
}

#[async_trait]
impl LegacySource for MongoSource {
    async fn counts(&self) -> Result<LegacyCounts, SourceError> {
        let m = &self.mapping;
        Ok(LegacyCounts {
            conversations: self.count(&m.conversations.from, true).await?,
            messages: self.count(&m.messages.from, true).await?,
            notifications: self
                .count(&m.notifications.from, m.notifications.enabled)
                .await?,
            users: self.count(&m.users.from, m.users.enabled).await?,
        })
    }

    async fn messages(&self) -> Result<Box<dyn Batches<LegacyMessage>>, SourceError> {
        let f = &self.mapping.messages;
        let mut sort = Document::new();
        // Inserting a key twice keeps its first place: a mapping may name `_id` as the time.
        for key in [&f.conversation, &f.created_at, &f.id] {
            if !sort.contains_key(key) {
                sort.insert(key.clone(), 1);
            }
        }
        self.stream(&f.from, sort, &f.id, |m, v| record::message(&m.messages, v))
            .await
    }

    async fn conversations(&self) -> Result<Box<dyn Batches<LegacyConversation>>, SourceError> {
        let f = &self.mapping.conversations;
        self.stream(&f.from, doc! { &f.id: 1 }, &f.id, |m, v| {
            record::conversation(&m.conversations, v)
        })
        .await
    }

    async fn conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Option<LegacyConversation>, SourceError> {
        let f = &self.mapping.conversations;
        let found = self
            .db
            .collection::<Document>(&f.from)
            .find_one(doc! { &f.id: { "$in": stored_forms(id.as_str()) } })
            .await
            .map_err(|e| failed(&format!("reading `{}`", f.from), &e))?;
        Ok(found.and_then(
            |doc| match record::conversation(f, &document_to_json(doc)) {
                Read::Record(conversation) => Some(conversation),
                Read::Unreadable { .. } => None,
            },
        ))
    }

    async fn notifications(&self) -> Result<Box<dyn Batches<Notification>>, SourceError> {
        let f = &self.mapping.notifications;
        if !f.enabled {
            return Ok(Box::new(record::NoRecords));
        }
        self.stream(&f.from, doc! { &f.id: 1 }, &f.id, |m, v| {
            record::notification(&m.notifications, v)
        })
        .await
    }

    async fn users(&self) -> Result<Box<dyn Batches<UserProfile>>, SourceError> {
        let f = &self.mapping.users;
        if !f.enabled {
            return Ok(Box::new(record::NoRecords));
        }
        self.stream(&f.from, doc! { &f.id: 1 }, &f.id, |m, v| {
            record::user(&m.users, v)
        })
        .await
    }
}

/// The values an id read as `raw` may be stored as: always the string; also the ObjectId
/// when it is 24 hex digits, and the number when it is an integer (`record::id_text` writes
/// both as text).
fn stored_forms(raw: &str) -> Vec<Bson> {
    let mut forms = vec![Bson::String(raw.to_owned())];
    if raw.len() == 24
        && let Ok(oid) = ObjectId::parse_str(raw)
    {
        forms.push(Bson::ObjectId(oid));
    }
    if let Ok(n) = raw.parse::<i64>() {
        // MongoDB compares numbers across their types: this also finds Int32 and Double.
        forms.push(Bson::Int64(n));
    }
    forms
}

/// One cursor over a collection, its documents mapped as they come.
struct MongoBatches<T> {
    cursor: Cursor<Document>,
    collection: String,
    id_field: String,
    mapping: Arc<Mapping>,
    read: ReadFn<T>,
}

#[async_trait]
impl<T: Send + 'static> Batches<T> for MongoBatches<T> {
    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Read<T>>>, SourceError> {
        let max = max.max(1);
        let mut batch = Vec::with_capacity(max.min(CURSOR_BATCH as usize));
        while batch.len() < max {
            let more = self
                .cursor
                .advance()
                .await
                .map_err(|e| failed(&format!("reading `{}`", self.collection), &e))?;
            if !more {
                break;
            }
            let item = match self.cursor.deserialize_current() {
                Ok(doc) => (self.read)(&self.mapping, &document_to_json(doc)),
                Err(e) => Read::Unreadable {
                    id: raw_id(&self.cursor, &self.id_field),
                    reason: format!("not a readable BSON document: {e}"),
                },
            };
            batch.push(item);
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}

/// The id of the cursor's current document, read from its raw bytes (for a document that
/// does not decode).
fn raw_id(cursor: &Cursor<Document>, id_field: &str) -> String {
    match cursor.current().get(id_field) {
        Ok(Some(RawBsonRef::ObjectId(oid))) => oid.to_hex(),
        Ok(Some(RawBsonRef::String(s))) => s.to_owned(),
        Ok(Some(RawBsonRef::Int32(n))) => n.to_string(),
        Ok(Some(RawBsonRef::Int64(n))) => n.to_string(),
        _ => String::new(),
    }
}

fn failed(what: &str, error: &mongodb::error::Error) -> SourceError {
    SourceError(format!("MongoDB, {what}: {error}"))
}

/// A document as the JSON `record.rs` reads.
pub fn document_to_json(doc: Document) -> Value {
    Value::Object(doc.into_iter().map(|(k, v)| (k, bson_to_json(v))).collect())
}

/// ObjectIds as their hex string, dates as ISO-8601 text with milliseconds (or epoch
/// milliseconds beyond year 9999), numbers as numbers (a non-finite double as `null`),
/// Decimal128 as its text, symbols as strings, anything else as relaxed extended JSON.
pub fn bson_to_json(value: Bson) -> Value {
    match value {
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Boolean(b) => Value::Bool(b),
        Bson::Int32(n) => Value::from(n),
        Bson::Int64(n) => Value::from(n),
        Bson::Double(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Bson::String(s) | Bson::Symbol(s) => Value::String(s),
        Bson::ObjectId(oid) => Value::String(oid.to_hex()),
        Bson::DateTime(at) => {
            let millis = at.timestamp_millis();
            chrono::DateTime::from_timestamp_millis(millis)
                .filter(|t| chrono::Datelike::year(t) <= 9999)
                .map_or(Value::from(millis), |t| {
                    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                })
        }
        Bson::Decimal128(d) => Value::String(d.to_string()),
        Bson::Array(items) => Value::Array(items.into_iter().map(bson_to_json).collect()),
        Bson::Document(doc) => document_to_json(doc),
        other => other.into_relaxed_extjson(),
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{Binary, DateTime, Decimal128, spec::BinarySubtype};
    use serde_json::json;

    use super::*;

    #[test]
    fn documents_become_the_json_records_read() {
        let oid = ObjectId::parse_str("665f00000000000000000001").unwrap();
        let doc = doc! {
            "_id": oid,
            "participants": [oid, "u2"],
            "createdAt": DateTime::from_millis(1_714_564_800_000),
            "n32": 7_i32,
            "n64": 9_007_199_254_740_993_i64,
            "f": 1.5,
            "nan": f64::NAN,
            "flag": true,
            "none": null,
            "nested": { "at": DateTime::from_millis(1_714_564_800_123) },
            "price": Decimal128::from_bytes([0; 16]),
            "blob": Binary { subtype: BinarySubtype::Generic, bytes: vec![1, 2] },
        };
        let json = document_to_json(doc);
        assert_eq!(json["_id"], "665f00000000000000000001");
        assert_eq!(
            json["participants"],
            json!(["665f00000000000000000001", "u2"])
        );
        assert_eq!(json["createdAt"], "2024-05-01T12:00:00.000Z");
        assert_eq!(json["nested"]["at"], "2024-05-01T12:00:00.123Z");
        assert_eq!(json["n32"], 7);
        // Exact: an integer id keeps every digit.
        assert_eq!(record::id_text(&json["n64"]).unwrap(), "9007199254740993");
        assert_eq!(json["f"], 1.5);
        assert_eq!(json["nan"], Value::Null);
        assert_eq!(json["flag"], true);
        assert_eq!(json["none"], Value::Null);
        assert!(json["price"].is_string());
        assert_eq!(
            json["blob"],
            json!({ "$binary": { "base64": "AQI=", "subType": "00" } })
        );
        // The dates read back as the times they were.
        assert_eq!(
            record::time(&json["createdAt"]),
            Some(crate::domain::Timestamp::from_millis(1_714_564_800_000))
        );
    }

    #[test]
    fn dates_beyond_year_9999_stay_milliseconds() {
        let far = DateTime::from_millis(300_000_000_000_000);
        assert_eq!(
            bson_to_json(Bson::DateTime(far)),
            json!(300_000_000_000_000_i64)
        );
    }

    #[test]
    fn ids_are_looked_up_in_every_form_they_may_be_stored_in() {
        let oid = ObjectId::parse_str("665f00000000000000000001").unwrap();
        assert_eq!(
            stored_forms("665f00000000000000000001"),
            [
                Bson::String("665f00000000000000000001".into()),
                Bson::ObjectId(oid)
            ]
        );
        assert_eq!(
            stored_forms("42"),
            [Bson::String("42".into()), Bson::Int64(42)]
        );
        assert_eq!(stored_forms("chat-1"), [Bson::String("chat-1".into())]);
    }
}
