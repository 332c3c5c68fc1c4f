//! The connection pool the SQLite stores share, and the database file it has open.
//!
//! Two faults must not outlive their cause, or be acknowledged as stored:
//! - a write transaction that SQLite ended by itself (a full disk): the connection is closed
//!   instead of going back to the pool (`reusable`), so writes work again once there is room;
//! - the database file deleted or replaced under the running server: every write checks
//!   afterwards that the path still names the file the pool has open (`Db::confirm_write`),
//!   and fails if not, rather than acknowledging what lives only in a deleted file.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
};
use sqlx::{ConnectOptions, Connection};

use super::rows::db_error;
use crate::ports::StoreError;

/// How long a statement waits for another connection's write lock before giving up.
/// Writers queue behind each other here, so this bounds a write's wait under load.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The pool, and the database file its connections have open (none in memory).
#[derive(Clone)]
pub(super) struct Db {
    pub(super) pool: SqlitePool,
    /// The file's path as SQLite resolved it; `None` for an in-memory database.
    path: Option<Arc<Path>>,
    /// What a write checks the file against; `None` where its identity cannot be read.
    file: Option<Arc<OpenFile>>,
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
        // Only this first connection may create the file. The pool replaces its connections
        // over time (idle timeout, lifetime, `reusable`); if the file was deleted meanwhile, a
        // new connection must fail rather than start an empty database without the schema.
        let mut first = options
            .clone()
            .create_if_missing(true)
            .connect()
            .await
            .map_err(db_error)?;
        let path = file_path(&mut first).await?;
        let file = path.as_deref().and_then(OpenFile::at);
        first.close().await.map_err(db_error)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            // An embedded database has no peer that can hang up, so the ping before each
            // acquire only costs a round trip to the connection's thread (sqlx pings each
            // released connection anyway).
            .test_before_acquire(false)
            .after_release(|conn, _| Box::pin(reusable(conn)))
            .connect_with(options.create_if_missing(false))
            .await
            .map_err(db_error)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating the SQLite schema: {e}")))?;
        Ok(Self {
            pool,
            path: path.map(Arc::from),
            file: file.map(Arc::new),
        })
    }

    /// The database file; `None` for an in-memory database.
    pub(super) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
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

    /// Called after a write succeeded, before it is acknowledged: fails when the path no
    /// longer names the file the pool has open (deleted, or replaced by another file), since
    /// the write then went where nothing will find it after a restart.
    ///
    /// It runs after the write, not before, so that a write which raced with the deletion is
    /// refused too. One `stat` per write: small beside the commit's `fsync`.
    pub(super) fn confirm_write(&self) -> Result<(), StoreError> {
        self.file.as_deref().map_or(Ok(()), OpenFile::check)
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
    // The count only falls when a COMMIT or ROLLBACK succeeds, so zero is final: the common
    // case (a committed transaction, or none) costs nothing here. Above zero, a dropped
    // `Transaction` may only have queued its ROLLBACK on the connection's worker thread; the
    // ping is answered after it ran, so the count read next is final.
    if !conn.is_in_transaction() {
        return Ok(true);
    }
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

/// The database file the pool has open: its path, as SQLite resolved it, and what it was
/// when opened (device and inode).
struct OpenFile {
    path: PathBuf,
    identity: (u64, u64),
    /// Whether the log has said so yet: once is enough, every write fails alike after it.
    reported: AtomicBool,
}

impl OpenFile {
    /// `path`'s identity now; `None` where it cannot be read (then writes are not checked).
    fn at(path: &Path) -> Option<Self> {
        match identity(path) {
            Ok(identity) => Some(Self {
                path: path.to_owned(),
                identity,
                reported: AtomicBool::new(false),
            }),
            Err(e) => {
                tracing::warn!(
                    path = %path.display(),
                    "cannot read the SQLite database file's identity ({e}); a deletion of the \
                     file under the running server will not be detected"
                );
                None
            }
        }
    }

    fn check(&self) -> Result<(), StoreError> {
        let problem = match identity(&self.path) {
            Ok(found) if found == self.identity => return Ok(()),
            Ok(_) => "was replaced by another file".to_owned(),
            Err(e) if e.kind() == ErrorKind::NotFound => "was deleted".to_owned(),
            Err(e) => format!("cannot be checked ({e})"),
        };
        let path = self.path.display();
        if !self.reported.swap(true, Ordering::Relaxed) {
            tracing::error!(
                %path,
                "the SQLite database file {path} {problem} while the server had it open. Every \
                 write fails from now on: it would go to the old file, which nothing can open \
                 once this process exits. To recover: stop the server; remove {path}-wal and \
                 {path}-shm, which belong to the old file; put a backup at {path} if there is \
                 one (without one, the server starts a new, empty database there); start the \
                 server"
            );
        }
        Err(StoreError::Unavailable(format!(
            "the SQLite database file {path} {problem} while open; writes fail until the \
             server is restarted"
        )))
    }
}

/// The file `conn` has open; `None` for an in-memory database.
async fn file_path(conn: &mut SqliteConnection) -> Result<Option<PathBuf>, StoreError> {
    let path: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?;
    Ok((!path.is_empty()).then(|| PathBuf::from(path)))
}

/// What tells one file from another: device and inode.
#[cfg(unix)]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|meta| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_path: &Path) -> std::io::Result<(u64, u64)> {
    Err(std::io::Error::new(
        ErrorKind::Unsupported,
        "file identities are read on Unix only",
    ))
}
