//! Wire compatibility with the real socket.io-client: starts the server in-process (the
//! embedded SQLite store, a listener per dialect on ephemeral ports) and runs the Node.js
//! suite in `tests/js` (`node --test`) against it; then the suites of the Mongo-born families
//! (linsta, calmora, marketplace, kaajkaam) on MongoDB and of quickclinic, calmora,
//! marketplace and kaajkaam on PostgreSQL, so that every family's flows run on the databases teams bring. Node's report
//! is printed, and a failing Node test fails this test with that report.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::support;

/// Well above the suite's own run time (each Node test has its own, shorter timeout), so that
/// a wedged server fails the run instead of hanging CI.
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_socket_io_client_speaks_every_dialect() {
    use switchboard::bootstrap::config::{StoreKind, StoreSettings};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = StoreSettings {
        kind: StoreKind::Sqlite,
        sqlite_path: dir.path().join("wire.db"),
        ..StoreSettings::default()
    };
    let app = support::spawn_app_on(store, &support::all_dialects()).await;
    let dir = support::js_dir();
    let mut tests: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/js is readable")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.ends_with(".test.mjs").then_some(name)
        })
        .collect();
    tests.sort();
    assert!(!tests.is_empty(), "no *.test.mjs in {}", dir.display());
    run_node_suite(app, &tests).await;
}

/// The suites of the families whose Node servers ran on MongoDB.
#[cfg(feature = "mongo")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mongo_born_families_on_mongodb() {
    use crate::support::mongo::{MongoServer, TestMongoDatabase};
    use switchboard::bootstrap::config::{StoreKind, StoreSettings};

    let Some((_, _, database)) = TestMongoDatabase::open(MongoServer::ReplicaSet).await else {
        return;
    };
    let app = support::spawn_app_on(
        StoreSettings {
            kind: StoreKind::Mongo,
            mongo_uri: Some(database.uri.clone()),
            mongo_database: Some(database.name.clone()),
            ..StoreSettings::default()
        },
        &support::all_dialects(),
    )
    .await;
    run_node_suite(
        app,
        &suites(&["linsta", "calmora", "marketplace", "kaajkaam"]),
    )
    .await;
}

/// Flows end to end on the PostgreSQL store: the server started as a deployment with
/// `store.kind = "postgres"` would be, on a fresh database, and the quickclinic, calmora,
/// marketplace and kaajkaam suites run against it through the real socket.io-client.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn families_on_postgres() {
    use switchboard::bootstrap::config::{StoreKind, StoreSettings};
    let database = match support::postgres::TestDatabase::create("sb_wire").await {
        Ok(database) => database,
        Err(err) => {
            let server = switchboard::adapters::outbound::postgres::PgStores::describe(
                &support::postgres::server_url(),
            );
            support::real_servers::unreachable(&format!("PostgreSQL at {server}"), err);
            return;
        }
    };
    let app = support::spawn_app_on(
        StoreSettings {
            kind: StoreKind::Postgres,
            postgres_url: Some(database.url.clone()),
            ..StoreSettings::default()
        },
        &support::all_dialects(),
    )
    .await;
    run_node_suite(
        app,
        &suites(&["quickclinic", "calmora", "marketplace", "kaajkaam"]),
    )
    .await;
    // The server is stopped by now; only then does the database go.
    drop(database);
}

/// The suite files of these dialects.
fn suites(dialects: &[&str]) -> Vec<String> {
    dialects.iter().map(|d| format!("{d}.test.mjs")).collect()
}

/// Runs the named `tests/js` files with `node --test` against `app`, stops the app, and
/// fails with Node's report when a Node test failed.
async fn run_node_suite(app: support::TestApp, tests: &[String]) {
    run_node_suite_with(app, tests, &[]).await;
}

/// `run_node_suite` with more environment variables for the suite.
pub async fn run_node_suite_with(app: support::TestApp, tests: &[String], env: &[(&str, String)]) {
    tokio::task::spawn_blocking(support::ensure_node_modules)
        .await
        .expect("the npm install task")
        .unwrap_or_else(|err| panic!("{err}"));
    let mut node = Command::new("node");
    node.arg("--test")
        .arg("--test-timeout=60000")
        .arg("--test-reporter=spec")
        .args(tests)
        .current_dir(support::js_dir());
    // SB_<DIALECT>_URL for each listener (SB_LINSTA_URL, …), as tests/js/helpers.mjs reads them.
    for (dialect, url) in app.urls() {
        node.env(format!("SB_{}_URL", dialect.to_uppercase()), url);
    }
    let child = node
        .env("SB_JWT_SECRET", support::JWT_SECRET)
        .env("SB_SERVICE_KEY", support::SERVICE_KEY)
        .env(
            "SB_RING_TIMEOUT_SECS",
            support::RING_TIMEOUT_SECS.to_string(),
        )
        .env("SB_MAX_FILE_BYTES", support::MAX_FILE_BYTES.to_string())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot run node: Node.js 20 or later must be on PATH");
    let output = tokio::time::timeout(SUITE_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("node --test did not finish within {SUITE_TIMEOUT:?}"))
        .expect("node --test ran");
    app.stop().await;

    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "node --test failed ({}):\n{report}",
        output.status
    );
    // Shown with `--nocapture` (cargo test) or `--no-capture` (nextest).
    println!("{report}");
}
