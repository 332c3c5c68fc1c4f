//! The PostgreSQL store: every store port on one PostgreSQL database, through sqlx.
//!
//! `PgStores::connect` opens a connection pool, applies the migrations in
//! `migrations/postgres`, and returns the five stores sharing the pool. Sessions run at
//! PostgreSQL's default READ COMMITTED level. Each operation that must be atomic is one
//! statement (data-modifying `WITH` clauses), so it is its own transaction and costs one round
//! trip; the rules that must hold under concurrency rest on unique constraints (get-or-create,
//! client keys, the busy rule) and on the conversation's row lock (gap-free seqs).
//!
//! `PgImportSink` writes an import (`switchboard import`) into the same tables, on a pool
//! opened the same way (`open_pool`).
//!
//! A connection that breaks, mid-request or while idle, makes that request fail with
//! `StoreError::Unavailable`; nothing is retried behind the caller's back, since the caller
//! decides whether a write may be repeated. The pool tests a connection when it comes back
//! from a request and again before it hands an idle one out, drops the broken ones and opens
//! new ones as needed, so once the server is back the same `Stores` work again without anyone
//! reconnecting by hand (`tests/integration/postgres_outage.rs`). While the server is down, a request
//! waits at most `connect_timeout` for a connection.

mod calls;
mod conversations;
mod import;
mod legacy_check;
mod messages;
mod notifications;
mod rows;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub use calls::PgCallSessionStore;
pub use conversations::PgConversationStore;
pub use import::PgImportSink;
pub use messages::PgMessageStore;
pub use notifications::PgNotificationStore;
pub use users::PgUserDirectory;

use crate::ports::{StoreError, Stores};

/// PostgreSQL's code for "database does not exist".
const INVALID_CATALOG_NAME: &str = "3D000";

/// Opens PostgreSQL-backed stores.
pub struct PgStores;

impl PgStores {
    /// `url` is a libpq-style URL (`postgres://user:password@host:5432/database`). The
    /// database must exist; its schema is created or brought up to date here. Every wait for
    /// a connection, at start and later, is bounded by `connect_timeout`.
    ///
    /// # Errors
    /// `Unavailable` when the URL is malformed, the server cannot be reached within
    /// `connect_timeout`, it refuses the login or the database, the migrations fail, or
    /// a Node server's tables hold rows that were never imported (`legacy_check`). The
    /// message names the server and database, never the password.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        connect_timeout: Duration,
    ) -> Result<Stores, StoreError> {
        let (pool, server) = open_pool(url, max_connections, connect_timeout).await?;
        legacy_check::refuse_unimported(&pool, &server).await?;
        Ok(Self::stores(pool))
    }

    /// `host:port/database` of `url`, for logs and messages: never the user or password.
    pub fn describe(url: &str) -> String {
        parse(url).map_or_else(
            |_| "an unparsable PostgreSQL URL".to_owned(),
            |o| describe_options(&o),
        )
    }

    fn stores(pool: PgPool) -> Stores {
        Stores {
            conversations: Arc::new(PgConversationStore::new(pool.clone())),
            messages: Arc::new(PgMessageStore::new(pool.clone())),
            notifications: Arc::new(PgNotificationStore::new(pool.clone())),
            users: Arc::new(PgUserDirectory::new(pool.clone())),
            calls: Arc::new(PgCallSessionStore::new(pool)),
        }
    }
}

/// A pool on the database at `url`, its schema brought up to date, and the database's
/// description (`PgStores::describe`); what both the stores and the import sink open. The
/// errors are those of `PgStores::connect`.
async fn open_pool(
    url: &str,
    max_connections: u32,
    connect_timeout: Duration,
) -> Result<(PgPool, String), StoreError> {
    // The migrator's "already exists, skipping" notices would be logged at every start.
    let options = parse(url)?.options([("client_min_messages", "warning")]);
    let server = describe_options(&options);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(connect_timeout)
        // sqlx's default, stated because recovery after an outage rests on it: an idle
        // connection that broke while the server was away is replaced, not handed out.
        .test_before_acquire(true)
        .connect_with(options)
        .await
        .map_err(|e| connect_error(&server, connect_timeout, e))?;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!("migrating the PostgreSQL schema of {server}: {e}"))
        })?;
    Ok((pool, server))
}

fn parse(url: &str) -> Result<PgConnectOptions, StoreError> {
    // sqlx's parse errors name the part that is wrong, not the URL, so no password leaks.
    PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))
}

fn describe_options(options: &PgConnectOptions) -> String {
    let database = options.get_database().unwrap_or(options.get_username());
    match options.get_socket() {
        Some(socket) => format!("{}/{database}", socket.display()),
        None => format!("{}:{}/{database}", options.get_host(), options.get_port()),
    }
}

fn connect_error(server: &str, timeout: Duration, error: sqlx::Error) -> StoreError {
    match &error {
        // The pool retries refused connections until the timeout, then reports only that.
        sqlx::Error::PoolTimedOut => StoreError::Unavailable(format!(
            "PostgreSQL at {server} did not accept a connection within {}s \
             (store.connect_timeout_secs); is it running and reachable?",
            timeout.as_secs_f32()
        )),
        sqlx::Error::Database(db) if db.code().as_deref() == Some(INVALID_CATALOG_NAME) => {
            StoreError::Unavailable(format!(
                "PostgreSQL at {server}: {}; create it first (e.g. `createdb`), then start again",
                db.message()
            ))
        }
        _ => StoreError::Unavailable(format!("PostgreSQL at {server}: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_the_server_and_database_but_no_secret() {
        let described = PgStores::describe("postgres://ann:s3cret@db.example:6543/chat");
        assert_eq!(described, "db.example:6543/chat");
        assert!(!PgStores::describe("postgres://ann:s3cret@db.example/chat").contains("s3cret"));
        assert_eq!(
            PgStores::describe("not a url"),
            "an unparsable PostgreSQL URL"
        );
    }

    #[test]
    fn a_timed_out_connect_names_the_server_and_the_setting() {
        let error = connect_error(
            "db.example:5432/chat",
            Duration::from_secs(2),
            sqlx::Error::PoolTimedOut,
        );
        let StoreError::Unavailable(message) = error else {
            panic!("{error:?}");
        };
        assert!(message.contains("db.example:5432/chat"), "{message}");
        assert!(message.contains("within 2s"), "{message}");
    }
}
