//! The embedded, durable store: every store port on one SQLite file, through sqlx.
//!
//! `SqliteStores::connect` opens (creating if needed) the database, applies the migrations in
//! `migrations/sqlite`, and returns the five stores sharing one connection pool. Writes that
//! touch more than one row run in one `BEGIN IMMEDIATE` transaction, so SQLite's single writer
//! serializes them (gap-free seqs, the busy rule) and a deferred read never has to upgrade to
//! a write lock, which SQLite refuses with `SQLITE_BUSY` instead of waiting.

mod calls;
mod conversations;
mod messages;
mod notifications;
mod rows;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use calls::SqliteCallSessionStore;
pub use conversations::SqliteConversationStore;
pub use messages::SqliteMessageStore;
pub use notifications::SqliteNotificationStore;
pub use users::SqliteUserDirectory;

use crate::ports::{StoreError, Stores};

/// How long a statement waits for another connection's write lock before giving up.
/// Writers queue behind each other here, so this bounds a write's wait under load.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens SQLite-backed stores.
pub struct SqliteStores;

impl SqliteStores {
    /// `path_or_url` is a file path (`data/switchboard.db`) or an sqlx SQLite URL
    /// (`sqlite://data/switchboard.db`, `sqlite::memory:`). The file is created if missing.
    /// WAL lets readers run beside the one writer, so `max_connections` above 1 helps reads.
    pub async fn connect(path_or_url: &str, max_connections: u32) -> Result<Stores, StoreError> {
        let options = if path_or_url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(path_or_url)
                .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
        } else {
            SqliteConnectOptions::new().filename(path_or_url)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await
            .map_err(rows::db_error)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating the SQLite schema: {e}")))?;
        Ok(Self::stores(pool))
    }

    fn stores(pool: SqlitePool) -> Stores {
        Stores {
            conversations: Arc::new(SqliteConversationStore::new(pool.clone())),
            messages: Arc::new(SqliteMessageStore::new(pool.clone())),
            notifications: Arc::new(SqliteNotificationStore::new(pool.clone())),
            users: Arc::new(SqliteUserDirectory::new(pool.clone())),
            calls: Arc::new(SqliteCallSessionStore::new(pool)),
        }
    }
}

/// Starts a write transaction that takes SQLite's write lock up front (see the module doc).
async fn begin_write(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
    pool.begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(rows::db_error)
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
