//! The native listener on each store a team may bring, for flows that run on all of them:
//! memory, SQLite (a file in a temporary directory), PostgreSQL and MongoDB (real servers,
//! a fresh database each; a missing server skips with a note, and fails under `CI=true`).

use switchboard::bootstrap::config::{Settings, StoreKind, StoreSettings};

use crate::support::{self, TestApp};

/// A running app and what its store needs kept until the app stopped.
pub struct OnStore {
    pub app: TestApp,
    keep: Box<dyn std::any::Any + Send>,
}

impl OnStore {
    /// Stops the app, then lets its database go.
    pub async fn stop(self) {
        self.app.stop().await;
        drop(self.keep);
    }
}

/// The native listener on `store` (`memory`, `sqlite`, `postgres`, `mongo`) with the test
/// settings changed by `adjust`; `None` when the store's server is missing (outside CI).
pub async fn native_on(store: &str, adjust: fn(&mut Settings)) -> Option<OnStore> {
    let (settings, keep): (StoreSettings, Box<dyn std::any::Any + Send>) = match store {
        "memory" => (support::memory_store(), Box::new(())),
        "sqlite" => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let settings = StoreSettings {
                kind: StoreKind::Sqlite,
                sqlite_path: dir.path().join("native.db"),
                ..StoreSettings::default()
            };
            (settings, Box::new(dir))
        }
        #[cfg(feature = "postgres")]
        "postgres" => {
            let database = match support::postgres::TestDatabase::create("sb_native").await {
                Ok(database) => database,
                Err(err) => {
                    support::real_servers::unreachable("PostgreSQL", err);
                    return None;
                }
            };
            let settings = StoreSettings {
                kind: StoreKind::Postgres,
                postgres_url: Some(database.url.clone()),
                ..StoreSettings::default()
            };
            (settings, Box::new(database))
        }
        #[cfg(feature = "mongo")]
        "mongo" => {
            use crate::support::mongo::{MongoServer, TestMongoDatabase};
            let (_, _, database) = TestMongoDatabase::open(MongoServer::ReplicaSet).await?;
            let settings = StoreSettings {
                kind: StoreKind::Mongo,
                mongo_uri: Some(database.uri.clone()),
                mongo_database: Some(database.name.clone()),
                ..StoreSettings::default()
            };
            (settings, Box::new(database))
        }
        other => panic!("no store {other:?} in this build"),
    };
    let app = support::spawn_app_with(settings, &["native".into()], adjust).await;
    Some(OnStore { app, keep })
}

/// One test per store for each flow named: `flow(&TestApp)` runs against the native listener
/// on memory, SQLite, PostgreSQL and MongoDB (in modules `on_memory`, `on_sqlite`, …).
macro_rules! on_every_store {
    ($($flow:ident),* $(,)?) => {
        $crate::native_ws::stores::on_every_store!(@store on_memory, "memory", $($flow),*);
        #[cfg(feature = "sqlite")]
        $crate::native_ws::stores::on_every_store!(@store on_sqlite, "sqlite", $($flow),*);
        #[cfg(feature = "postgres")]
        $crate::native_ws::stores::on_every_store!(@store on_postgres, "postgres", $($flow),*);
        #[cfg(feature = "mongo")]
        $crate::native_ws::stores::on_every_store!(@store on_mongodb, "mongo", $($flow),*);
    };
    (@store $module:ident, $store:literal, $($flow:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $flow() {
                    let Some(on) = $crate::native_ws::stores::native_on($store, |_| {}).await
                    else {
                        return;
                    };
                    super::$flow(&on.app).await;
                    on.stop().await;
                }
            )*
        }
    };
}

pub(crate) use on_every_store;
