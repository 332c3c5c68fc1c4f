//! The connection pool the SQLite stores share.
//!
//! A fault must not outlive its cause: after a write transaction that SQLite ended by itself
//! (a full disk), the connection is closed instead of going back to the pool (`reusable`), so
//! writes work again once there is room.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
};

use super::rows::db_error;
use crate::ports::StoreError;

/// How long a statement waits for another connection's write lock before giving up.
/// Writers queue behind each other here, so this bounds a write's wait under load.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The pool.
#[derive(Clone)]
pub(super) struct Db {
    pub(super) pool: SqlitePool,
}

impl Db {
    /// Opens the database (creating the file if it is missing) and applies the migrations.
    pub(super) async fn open(path_or_url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = if path_or_url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(path_or_url)
                .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
        } else {
            SqliteConnectOptions::new().filename(path_or_url)
        };
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .after_release(|conn, _| Box::pin(reusable(conn)))
            .connect_with(options.create_if_missing(true))
            .await
            .map_err(db_error)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating the SQLite schema: {e}")))?;
        Ok(Self { pool })
    }

    /// Starts a write transaction that takes SQLite's write lock up front (see the module
    /// doc of `sqlite`).
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)
    }
}

/// Whether a connection coming back to the pool may be handed out again: not while sqlx
/// counts it as inside a transaction.
///
/// sqlx-sqlite keeps its own count of a connection's open transactions (`transaction_depth`
/// in `connection/worker.rs`) and lowers it only when its COMMIT or ROLLBACK succeeds. On
/// some errors SQLite rolls the whole transaction back by itself (`SQLITE_FULL` from a full
/// disk, I/O errors, `RAISE(ROLLBACK)`: "Response To Errors Within A Transaction" in SQLite's
/// documentation of transactions). The ROLLBACK that a dropped `Transaction` then queues
/// fails with "cannot rollback - no transaction is active", so the count stays at 1, and
/// sqlx's own check on release (a ping) still passes: the connection went back to the pool,
/// and every `begin_with("BEGIN IMMEDIATE")` on it failed with "attempted to call begin_with
/// at non-zero transaction depth", until a restart. Such a connection is closed here; the
/// pool opens a fresh one when it needs one. Closing is safe whatever the state: SQLite
/// rolls back whatever a closing connection still has open, so nothing uncommitted stays.
async fn reusable(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    // A dropped `Transaction` only queues its ROLLBACK on the connection's worker thread;
    // the ping is answered after it ran, so the count read next is final. (sqlx pings each
    // released connection anyway, right after this hook: one more round trip, no I/O.)
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!(
            "closing an SQLite connection whose transaction SQLite had already ended after an \
             error (such as a full disk); the pool opens a fresh one when it needs one"
        );
        return Ok(false);
    }
    Ok(true)
}
