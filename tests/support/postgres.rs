//! Throwaway PostgreSQL databases for the tests that need a real server: each test creates a
//! fresh database on the server at `SWITCHBOARD_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, the one `.ci/run` starts), and the guard
//! drops it, also when the test fails.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use super::real_servers::{env_or, unique_name};

pub const URL_VARIABLE: &str = "SWITCHBOARD_TEST_POSTGRES_URL";
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// How long to wait for the server before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The URL of the server the tests use (a database on it that the test role may connect to).
pub fn server_url() -> String {
    env_or(URL_VARIABLE, DEFAULT_URL)
}

/// `server_url` with the database in its path replaced by `database`, query kept.
pub fn with_database(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

async fn connect(url: &str) -> Result<PgConnection, String> {
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(url)).await {
        Ok(connected) => connected.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no connection within {CONNECT_TIMEOUT:?}")),
    }
}

async fn run(url: &str, sql: String) -> Result<(), String> {
    let mut admin = connect(url).await?;
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
    // A failed goodbye does not undo what the statement did.
    let _ = admin.close().await;
    Ok(())
}

/// A database that exists while this value lives.
pub struct TestDatabase {
    /// Its URL, for `PgStores::connect` or `StoreSettings::postgres_url`.
    pub url: String,
    name: String,
    server: String,
}

impl TestDatabase {
    /// Creates an empty database named after `prefix` (lower case letters, digits, `_`).
    ///
    /// # Errors
    /// Why the server could not be used, for `real_servers::unreachable`.
    pub async fn create(prefix: &str) -> Result<Self, String> {
        let server = server_url();
        let name = unique_name(prefix);
        run(&server, format!("CREATE DATABASE \"{name}\"")).await?;
        Ok(Self {
            url: with_database(&server, &name),
            name,
            server,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server = self.server.clone();
        // FORCE ends the sessions a pool may still hold open.
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop is synchronous and usually runs on a test's runtime thread, where blocking on
        // a runtime is refused: the drop gets a thread and a small runtime of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?
                .block_on(run(&server, sql))
        })
        .join()
        .unwrap_or_else(|_| Err("the dropping thread panicked".into()));
        if let Err(err) = dropped {
            // A panic while unwinding would abort the test binary, hiding the first failure.
            if std::thread::panicking() {
                eprintln!("could not drop test database {}: {err}", self.name);
            } else {
                panic!("could not drop test database {}: {err}", self.name);
            }
        }
    }
}
