//! Throwaway MongoDB databases on the test servers. `.ci/run` starts two SecantusDB servers
//! (a MongoDB wire server from PyPI): one that advertises a single-node replica set, so the
//! adapter appends in transactions, on `SWITCHBOARD_TEST_MONGO_URI` (default port 27017), and
//! one started with `--standalone`, which has no transactions, on
//! `SWITCHBOARD_TEST_MONGO_STANDALONE_URI` (default port 27018). Every fixture gets its own
//! database, dropped when the fixture is dropped.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::time::Duration;

use switchboard::adapters::outbound::mongo::{MongoSettings, MongoStores, StoreInfo};
use switchboard::ports::Stores;

use super::real_servers::{env_or, unique_name, unreachable};

/// Which test server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MongoServer {
    /// Advertises a replica set: appends run in transactions.
    ReplicaSet,
    /// A standalone server: appends use the ordered writes.
    Standalone,
}

impl MongoServer {
    pub fn uri(self) -> String {
        match self {
            Self::ReplicaSet => env_or(
                "SWITCHBOARD_TEST_MONGO_URI",
                "mongodb://127.0.0.1:27017/?directConnection=true",
            ),
            Self::Standalone => env_or(
                "SWITCHBOARD_TEST_MONGO_STANDALONE_URI",
                "mongodb://127.0.0.1:27018/?directConnection=true",
            ),
        }
    }

    fn describe(self) -> String {
        let kind = match self {
            Self::ReplicaSet => "replica-set",
            Self::Standalone => "standalone",
        };
        format!("the {kind} MongoDB test server at {}", self.uri())
    }
}

/// A database that exists for one test and is dropped with this value.
pub struct TestMongoDatabase {
    pub uri: String,
    pub name: String,
}

impl TestMongoDatabase {
    /// A fresh database on `server`, with the adapter's stores on it. `None` (the test
    /// skips) when the server is unreachable outside CI; under CI that panics.
    pub async fn open(server: MongoServer) -> Option<(Stores, StoreInfo, Self)> {
        let database = Self {
            uri: server.uri(),
            name: unique_name("sbtest"),
        };
        let connected = MongoStores::connect(&database.settings()).await;
        match connected {
            Ok((stores, info)) => {
                // The suite is only meaningful if each server exercises its write path.
                assert_eq!(
                    info.transactions,
                    server == MongoServer::ReplicaSet,
                    "{}: unexpected transaction support",
                    server.describe()
                );
                Some((stores, info, database))
            }
            Err(err) => {
                unreachable(&server.describe(), err);
                None
            }
        }
    }

    /// A fresh, empty database name on `server` (dropped with the value), without the
    /// adapter's collections and indexes: where a Node server's legacy data is generated, or
    /// an import creates them. `None` when the server is unreachable outside CI.
    pub async fn empty(server: MongoServer) -> Option<Self> {
        let uri = server.uri();
        let ping = async {
            let mut options = mongodb::options::ClientOptions::parse(&uri).await?;
            options.server_selection_timeout = Some(Duration::from_secs(5));
            let client = mongodb::Client::with_options(options)?;
            let ping = client
                .database("admin")
                .run_command(mongodb::bson::doc! { "ping": 1 })
                .await;
            client.shutdown().await;
            ping
        };
        match ping.await {
            Ok(_) => Some(Self {
                uri,
                name: unique_name("sblegacy"),
            }),
            Err(err) => {
                unreachable(&server.describe(), err);
                None
            }
        }
    }

    /// What the adapter connects with; it detects the write path, as in production.
    pub fn settings(&self) -> MongoSettings {
        MongoSettings {
            uri: self.uri.clone(),
            database: Some(self.name.clone()),
            max_connections: 8,
            timeout: Duration::from_secs(5),
        }
    }

    /// A driver handle on this database, for checks that look at the documents themselves.
    pub async fn raw(&self) -> mongodb::Database {
        mongodb::Client::with_uri_str(&self.uri)
            .await
            .expect("a MongoDB client")
            .database(&self.name)
    }
}

impl Drop for TestMongoDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which must not block on itself: a thread
        // with its own runtime and client does the dropping.
        let (uri, name) = (self.uri.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async move {
                let client = mongodb::Client::with_uri_str(&uri).await?;
                client.database(&name).drop().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}
