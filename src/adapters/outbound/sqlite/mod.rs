//! The embedded, durable store: every store port on one SQLite file, through sqlx (and
//! rusqlite for the message writer).
//!
//! `SqliteStores::connect` opens (creating if needed) the database, applies the migrations in
//! `migrations/sqlite`, and returns the five stores sharing one connection pool. Writes that
//! touch more than one row run in one `BEGIN IMMEDIATE` transaction, so SQLite's single writer
//! serializes them (gap-free seqs, the busy rule) and a deferred read never has to upgrade to
//! a write lock, which SQLite refuses with `SQLITE_BUSY` instead of waiting.
//!
//! Message appends go through one writer thread, with its own connection (rusqlite), that
//! commits the appends waiting from every connection together (`appender`, group commit):
//! one commit per batch, not per message.
//!
//! `SqliteImportSink` writes an import (`switchboard import`) into the same tables.
//!
//! `db` opens the pool and keeps the store working after a fault once its cause is gone (a
//! full disk), and failing, rather than acknowledging lost writes, when the file is deleted
//! under the running server.

mod appender;
mod calls;
mod conversations;
mod db;
mod import;
mod messages;
mod notifications;
mod rows;
mod users;

#[cfg(test)]
mod recovery_tests;

use std::sync::Arc;

pub use calls::SqliteCallSessionStore;
pub use conversations::SqliteConversationStore;
pub use import::SqliteImportSink;
pub use messages::SqliteMessageStore;
pub use notifications::SqliteNotificationStore;
pub use users::SqliteUserDirectory;

use crate::ports::{StoreError, Stores};
use db::Db;

/// Opens SQLite-backed stores.
pub struct SqliteStores;

impl SqliteStores {
    /// `path_or_url` is a file path (`data/switchboard.db`) or an sqlx SQLite URL
    /// (`sqlite://data/switchboard.db`). The file is created if missing. An in-memory
    /// database (`sqlite::memory:`) is refused: the message writer opens the file beside the
    /// pool (the memory store is the one that keeps everything in memory).
    /// WAL lets readers run beside the one writer, so `max_connections` above 1 helps reads.
    pub async fn connect(path_or_url: &str, max_connections: u32) -> Result<Stores, StoreError> {
        Self::stores(Db::open(path_or_url, max_connections).await?)
    }

    fn stores(db: Db) -> Result<Stores, StoreError> {
        Ok(Stores {
            conversations: Arc::new(SqliteConversationStore::new(db.clone())),
            messages: Arc::new(SqliteMessageStore::new(db.clone())?),
            notifications: Arc::new(SqliteNotificationStore::new(db.clone())),
            users: Arc::new(SqliteUserDirectory::new(db.clone())),
            calls: Arc::new(SqliteCallSessionStore::new(db)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{UserId, UserProfile};

    #[tokio::test]
    async fn data_survives_reopening_by_path_or_url() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested-name.db");
        let path = path.to_str().unwrap();
        let ann = UserProfile {
            name: Some("Ann".into()),
            ..UserProfile::bare(UserId::parse("u1").unwrap())
        };

        let first = SqliteStores::connect(path, 2).await.unwrap();
        first.users.upsert(&ann).await.unwrap();
        drop(first);

        // Migrations already applied are skipped, not re-run.
        let reopened = SqliteStores::connect(&format!("sqlite://{path}"), 2)
            .await
            .unwrap();
        assert_eq!(reopened.users.get(&ann.id).await.unwrap(), Some(ann));
    }
}
