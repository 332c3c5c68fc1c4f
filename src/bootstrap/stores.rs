//! Opening the configured store: the one place that picks the store backend, by
//! configuration among the backends compiled in, and `switchboard migrate`.

// Only the arms of compiled-in backends add context to errors.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mongo"))]
use anyhow::Context;

use super::config::{StoreKind, StoreSettings};
use crate::adapters::outbound::memory::memory_stores;
use crate::ports::Stores;

/// The one place that picks the store backend. A backend that was not compiled in is a
/// start-up error naming the Cargo feature to rebuild with.
///
/// # Errors
/// When the chosen backend is unavailable or cannot be opened.
pub async fn open_stores(store: &StoreSettings) -> anyhow::Result<Stores> {
    warn_about_unused_urls(store);
    let stores = match store.kind {
        StoreKind::Memory => {
            tracing::warn!("store: memory; nothing will survive a restart");
            memory_stores()
        }
        #[cfg(feature = "sqlite")]
        StoreKind::Sqlite => {
            let path = sqlite_path(store).await?;
            let connect = crate::adapters::outbound::sqlite::SqliteStores::connect(
                path,
                store.max_connections,
            );
            let stores = tokio::time::timeout(store.connect_timeout(), connect)
                .await
                .with_context(|| format!("opening SQLite database {path}: timed out"))?
                .with_context(|| format!("opening SQLite database {path}"))?;
            tracing::info!(path, "store: sqlite");
            stores
        }
        #[cfg(not(feature = "sqlite"))]
        StoreKind::Sqlite => return Err(not_compiled_in(StoreKind::Sqlite)),
        #[cfg(feature = "postgres")]
        StoreKind::Postgres => {
            use crate::adapters::outbound::postgres::PgStores;
            let url = postgres_url(store)?;
            let server = PgStores::describe(url);
            let stores = PgStores::connect(url, store.max_connections, store.connect_timeout())
                .await
                .context("opening the PostgreSQL store")?;
            tracing::info!(server, "store: postgres");
            stores
        }
        #[cfg(not(feature = "postgres"))]
        StoreKind::Postgres => return Err(not_compiled_in(StoreKind::Postgres)),
        #[cfg(feature = "mongo")]
        StoreKind::Mongo => open_mongo(store).await?,
        #[cfg(not(feature = "mongo"))]
        StoreKind::Mongo => return Err(not_compiled_in(StoreKind::Mongo)),
    };
    Ok(stores)
}

/// Brings the configured store's schema up to date, then closes the store: what
/// `switchboard migrate` does. Opening a store applies its pending migrations (the server does
/// the same at start), so this opens it without serving. Returns what was done, for the
/// operator.
///
/// # Errors
/// When the store cannot be opened or a migration fails.
pub async fn migrate(store: &StoreSettings) -> anyhow::Result<String> {
    if store.kind == StoreKind::Memory {
        return Ok("store 'memory' keeps nothing on disk: there is nothing to migrate".into());
    }
    open_stores(store).await?;
    Ok(format!(
        "store '{}': the schema is up to date",
        store.kind.as_str()
    ))
}

#[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "mongo")))]
pub(super) fn not_compiled_in(kind: StoreKind) -> anyhow::Error {
    let name = kind.as_str();
    anyhow::anyhow!(
        "store '{name}' needs the Cargo feature `{name}`; rebuild with --features {name}"
    )
}

/// Connects to MongoDB (`store.mongo_uri`, `store.mongo_database`), creating the indexes;
/// appends use transactions when the deployment has them.
#[cfg(feature = "mongo")]
async fn open_mongo(store: &StoreSettings) -> anyhow::Result<Stores> {
    use crate::adapters::outbound::mongo::MongoStores;
    let settings = mongo_settings(store)?;
    let shown = super::config::mask::mask_url(&settings.uri);
    let (stores, info) = MongoStores::connect(&settings)
        .await
        .with_context(|| format!("opening MongoDB at {shown}"))?;
    tracing::info!(
        uri = %shown,
        database = %info.database,
        transactions = info.transactions,
        "store: mongo"
    );
    if !info.transactions {
        tracing::warn!(
            "MongoDB has no multi-document transactions (a standalone server): messages are \
             appended with ordered writes that the next append repairs after a crash"
        );
    }
    Ok(stores)
}

/// DATABASE_URL and MONGO_URI are often set for other programs; say so when they are set
/// but another store was chosen, since the operator may have expected them to be used.
fn warn_about_unused_urls(store: &StoreSettings) {
    if store.kind != StoreKind::Postgres && store.postgres_url.is_some() {
        tracing::info!(
            store = store.kind.as_str(),
            "store.postgres_url (DATABASE_URL) is set but not used"
        );
    }
    if store.kind != StoreKind::Mongo && store.mongo_uri.is_some() {
        tracing::info!(
            store = store.kind.as_str(),
            "store.mongo_uri (MONGO_URI) is set but not used"
        );
    }
}

/// The SQLite file of `store`, its directory created: what the store and the import open.
#[cfg(feature = "sqlite")]
pub(super) async fn sqlite_path(store: &StoreSettings) -> anyhow::Result<&str> {
    let path = store
        .sqlite_path
        .to_str()
        .with_context(|| format!("store.sqlite_path {:?} is not UTF-8", store.sqlite_path))?;
    create_parent_dir(&store.sqlite_path).await?;
    Ok(path)
}

/// `store.postgres_url`, which the postgres store needs.
#[cfg(feature = "postgres")]
pub(super) fn postgres_url(store: &StoreSettings) -> anyhow::Result<&str> {
    store
        .postgres_url
        .as_deref()
        .context("store.kind is postgres but store.postgres_url (DATABASE_URL) is not set")
}

/// What the mongo store (and the import into it) connects with.
#[cfg(feature = "mongo")]
pub(super) fn mongo_settings(
    store: &StoreSettings,
) -> anyhow::Result<crate::adapters::outbound::mongo::MongoSettings> {
    let uri = store
        .mongo_uri
        .as_deref()
        .context("store.kind is mongo but store.mongo_uri (MONGO_URI) is not set")?;
    Ok(crate::adapters::outbound::mongo::MongoSettings {
        uri: uri.to_owned(),
        database: store.mongo_database.clone(),
        max_connections: store.max_connections,
        timeout: store.connect_timeout(),
    })
}

#[cfg(feature = "sqlite")]
async fn create_parent_dir(path: &std::path::Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => tokio::fs::create_dir_all(dir)
            .await
            .with_context(|| format!("creating directory {}", dir.display())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_creates_its_directory_and_file() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StoreSettings {
            sqlite_path: tmp.path().join("nested/dir/chat.db"),
            ..StoreSettings::default()
        };
        open_stores(&store).await.unwrap();
        assert!(store.sqlite_path.is_file());
    }

    #[tokio::test]
    async fn migrate_has_nothing_to_do_for_memory() {
        let store = StoreSettings {
            kind: StoreKind::Memory,
            ..StoreSettings::default()
        };
        let said = migrate(&store).await.unwrap();
        assert!(said.contains("nothing to migrate"), "{said}");
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn migrate_creates_the_sqlite_schema() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StoreSettings {
            sqlite_path: tmp.path().join("chat.db"),
            ..StoreSettings::default()
        };
        let said = migrate(&store).await.unwrap();
        assert!(said.contains("'sqlite'"), "{said}");
        // The schema is there: the stores open on it and work.
        let stores = open_stores(&store).await.unwrap();
        let id = crate::domain::UserId::parse("u1").unwrap();
        assert_eq!(stores.users.get(&id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn server_stores_explain_why_they_cannot_start() {
        for kind in [StoreKind::Postgres, StoreKind::Mongo] {
            let store = StoreSettings {
                kind,
                ..StoreSettings::default()
            };
            let message = open_stores(&store).await.err().unwrap().to_string();
            let expected = match kind {
                StoreKind::Postgres if cfg!(feature = "postgres") => {
                    "store.postgres_url (DATABASE_URL) is not set"
                }
                StoreKind::Mongo if cfg!(feature = "mongo") => "mongo_uri",
                _ => "needs the Cargo feature",
            };
            assert!(message.contains(expected), "{message}");
            assert!(message.contains(kind.as_str()), "{message}");
        }
    }

    #[cfg(feature = "mongo")]
    #[tokio::test]
    async fn an_unreachable_mongodb_is_an_error_after_the_timeout() {
        let store = StoreSettings {
            kind: StoreKind::Mongo,
            // Port 1: nothing listens there, so the connection is refused at once.
            mongo_uri: Some("mongodb://app:s3cret@127.0.0.1:1/chat?directConnection=true".into()),
            connect_timeout_secs: 1,
            ..StoreSettings::default()
        };
        let started = std::time::Instant::now();
        let message = format!("{:#}", open_stores(&store).await.err().unwrap());
        // Generous: the point is that it gives up instead of hanging.
        assert!(started.elapsed() < Duration::from_secs(30), "{message}");
        assert!(
            message.contains("opening MongoDB at mongodb://app:***@127.0.0.1:1"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn an_unreachable_postgres_is_an_error_after_the_connect_timeout() {
        // Nothing listens on port 1: every attempt is refused, and the pool gives up when
        // store.connect_timeout_secs has passed.
        let store = StoreSettings {
            kind: StoreKind::Postgres,
            postgres_url: Some("postgres://ann:s3cret@127.0.0.1:1/chat".into()),
            connect_timeout_secs: 1,
            ..StoreSettings::default()
        };
        // Only a guard against hanging, far above the configured timeout.
        let err = tokio::time::timeout(Duration::from_secs(60), open_stores(&store))
            .await
            .expect("open_stores gives up by itself")
            .err()
            .unwrap();
        let message = format!("{err:#}");
        assert!(message.contains("127.0.0.1:1/chat"), "{message}");
        assert!(message.contains("within 1s"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }
}
