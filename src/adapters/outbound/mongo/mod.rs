//! The MongoDB store: every store port on one MongoDB database, through the official async
//! driver. Documents follow the Mongoose models the Node servers used (collections
//! `conversations`, `messages`, `notifications`, `users`, plus `callsessions`), with the
//! fields the core needs added beside them, never renamed; `documents.rs` is the layout.
//!
//! `MongoStores::connect` checks that the server answers within the configured timeout,
//! creates the indexes (idempotently), and learns whether the deployment runs multi-document
//! transactions (replica sets and sharded clusters do, a standalone server does not). The one
//! multi-document write, appending a message, runs in a transaction when it can and otherwise
//! relies on an order of writes that a crash between them cannot corrupt (see `messages.rs`).
//!
//! `MongoImportSink` (`import.rs`) writes an import (`switchboard import`) into the same
//! layout, in place beside a Node server's documents; it connects the same way, without
//! creating the indexes.

mod calls;
mod conversations;
mod documents;
mod errors;
mod import;
mod indexes;
mod legacy_check;
mod messages;
mod notifications;
mod users;
mod values;

use std::sync::Arc;
use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::options::ClientOptions;
use mongodb::{Client, Database};

pub use calls::MongoCallSessionStore;
pub use conversations::MongoConversationStore;
pub use import::MongoImportSink;
pub use messages::MongoMessageStore;
pub use notifications::MongoNotificationStore;
pub use users::MongoUserDirectory;

use crate::ports::{StoreError, Stores};
use errors::store_error;

/// The database used when neither the configuration nor the URI names one.
pub const DEFAULT_DATABASE: &str = "switchboard";

/// What `MongoStores::connect` needs.
#[derive(Debug, Clone)]
pub struct MongoSettings {
    /// A MongoDB connection string (`mongodb://…` or `mongodb+srv://…`).
    pub uri: String,
    /// The database; `None` takes the one the URI names, else `DEFAULT_DATABASE`.
    pub database: Option<String>,
    pub max_connections: u32,
    /// How long to wait for the server at start, and for a usable server on every operation
    /// (an operation during an outage fails after this long instead of hanging).
    pub timeout: Duration,
}

/// Opens MongoDB-backed stores.
pub struct MongoStores;

impl MongoStores {
    /// Connects, checks the server answers and that the database holds no Node server
    /// documents that were never imported, creates the indexes, and returns the five stores
    /// sharing one client (and so one connection pool).
    ///
    /// # Errors
    /// `Unavailable` when the URI is invalid, the server does not answer within
    /// `settings.timeout`, unimported documents are there (the message names the import
    /// command), or the indexes cannot be created.
    pub async fn connect(settings: &MongoSettings) -> Result<(Stores, StoreInfo), StoreError> {
        let Connected {
            client,
            db,
            database,
            transactions,
        } = Connected::open(settings).await?;
        legacy_check::refuse_unimported(&db).await?;
        indexes::ensure(&db).await?;
        let info = StoreInfo {
            database,
            transactions,
        };
        let stores = Self::stores(&client, db, transactions, settings.timeout);
        Ok((stores, info))
    }

    fn stores(client: &Client, db: Database, transactions: bool, retry_budget: Duration) -> Stores {
        let collections = Collections::of(&db);
        let client = transactions.then(|| client.clone());
        Stores {
            conversations: Arc::new(MongoConversationStore::new(collections.clone())),
            messages: Arc::new(MongoMessageStore::new(
                collections.clone(),
                client,
                retry_budget,
            )),
            notifications: Arc::new(MongoNotificationStore::new(collections.clone())),
            users: Arc::new(MongoUserDirectory::new(collections.clone())),
            calls: Arc::new(MongoCallSessionStore::new(collections)),
        }
    }
}

/// A client on the database `settings` name, whose server answered.
pub(super) struct Connected {
    client: Client,
    db: Database,
    /// The database's name.
    database: String,
    /// Whether the deployment runs multi-document transactions.
    transactions: bool,
}

impl Connected {
    /// Connects and checks that the server answers within `settings.timeout`; what both the
    /// stores and the import sink open. The errors are those of `MongoStores::connect`.
    async fn open(settings: &MongoSettings) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(&settings.uri)
            .await
            .map_err(|e| StoreError::Unavailable(format!("bad MongoDB URI: {e}")))?;
        options.app_name.get_or_insert_with(|| "switchboard".into());
        options.max_pool_size = Some(settings.max_connections.max(1));
        options.connect_timeout = Some(settings.timeout);
        options.server_selection_timeout = Some(settings.timeout);
        let database = settings
            .database
            .clone()
            .or_else(|| options.default_database.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let client = Client::with_options(options).map_err(store_error)?;
        let db = client.database(&database);

        let hello = tokio::time::timeout(settings.timeout, db.run_command(doc! { "hello": 1 }))
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!(
                    "MongoDB did not answer within {:?}",
                    settings.timeout
                ))
            })?
            .map_err(store_error)?;
        Ok(Self {
            transactions: supports_transactions(&hello),
            client,
            db,
            database,
        })
    }
}

/// What `connect` found out, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInfo {
    pub database: String,
    /// Whether messages are appended in transactions.
    pub transactions: bool,
}

/// Replica set members report `setName`; a `mongos` router reports `msg: "isdbgrid"`. Both run
/// multi-document transactions; a standalone server does not.
fn supports_transactions(hello: &Document) -> bool {
    hello.get_str("setName").is_ok() || hello.get_str("msg") == Ok("isdbgrid")
}

/// The collections, typed by the documents they hold.
#[derive(Clone)]
pub(super) struct Collections {
    conversations: mongodb::Collection<documents::ConversationDoc>,
    messages: mongodb::Collection<documents::MessageDoc>,
    notifications: mongodb::Collection<documents::NotificationDoc>,
    users: mongodb::Collection<documents::UserDoc>,
    calls: mongodb::Collection<documents::CallDoc>,
}

/// Collection names: the Mongoose models' (lowercase plural of the model name).
pub(super) mod names {
    pub const CONVERSATIONS: &str = "conversations";
    pub const MESSAGES: &str = "messages";
    pub const NOTIFICATIONS: &str = "notifications";
    pub const USERS: &str = "users";
    pub const CALLS: &str = "callsessions";
}

impl Collections {
    fn of(db: &Database) -> Self {
        Self {
            conversations: db.collection(names::CONVERSATIONS),
            messages: db.collection(names::MESSAGES),
            notifications: db.collection(names::NOTIFICATIONS),
            users: db.collection(names::USERS),
            calls: db.collection(names::CALLS),
        }
    }
}

/// Reads every document of a query's cursor.
async fn collect<T>(
    cursor: Result<mongodb::Cursor<T>, mongodb::error::Error>,
) -> Result<Vec<T>, StoreError>
where
    T: serde::de::DeserializeOwned + Send + Sync,
{
    let mut cursor = cursor.map_err(store_error)?;
    let mut docs = Vec::new();
    while cursor.advance().await.map_err(store_error)? {
        docs.push(cursor.deserialize_current().map_err(store_error)?);
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_sets_and_routers_have_transactions() {
        assert!(supports_transactions(&doc! { "setName": "rs0" }));
        assert!(supports_transactions(&doc! { "msg": "isdbgrid" }));
        assert!(!supports_transactions(&doc! { "isWritablePrimary": true }));
    }
}
