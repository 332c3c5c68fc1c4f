//! The PostgreSQL store through a server outage: a request in flight when the server goes
//! down, and every request while it is down, fail with `StoreError::Unavailable` within the
//! connect timeout; once the server is back, the same `Stores` work again (the pool replaces
//! its broken connections by itself) and nothing that was acknowledged is lost.
//!
//! The shared server on port 5432 serves other tests in parallel, so this test runs a private
//! PostgreSQL cluster of its own (initdb + pg_ctl, in a temporary directory, on a free port)
//! and stops and starts that one. Without the PostgreSQL server binaries the test is skipped
//! with a note, or fails under CI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use switchboard::adapters::outbound::postgres::PgStores;
use switchboard::domain::{NewMessage, Seq};
use switchboard::ports::{Appended, StoreError, Stores};

use crate::store_contract::support::{conversation_at, create, t, text_message};
use crate::support::process::{run, running_as_root};

/// How long a request may wait for a connection while the server is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A request that has not returned by then is hanging (far above `CONNECT_TIMEOUT`).
const HANG_GUARD: Duration = Duration::from_secs(15);

/// The newest installed server's programs: `SWITCHBOARD_TEST_PG_BIN`, or the highest version
/// under `/usr/lib/postgresql` (Debian's layout).
fn server_bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("SWITCHBOARD_TEST_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let root = Path::new("/usr/lib/postgresql");
    let versions = std::fs::read_dir(root).map_err(|e| format!("{}: {e}", root.display()))?;
    versions
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
        .ok_or_else(|| format!("no PostgreSQL server binaries under {}", root.display()))
}

/// How to run one private cluster's programs; cheap to clone into a blocking task.
#[derive(Clone)]
struct Control {
    bin: PathBuf,
    /// The cluster's directory: `data/`, the server log, the Unix socket.
    root: PathBuf,
    port: u16,
    /// As root, the server programs run as the `postgres` user: they refuse to run as root.
    as_postgres: bool,
}

impl Control {
    fn program(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn pg_ctl(&self) -> Command {
        let mut command = self.program("pg_ctl");
        command.arg("-D").arg(self.root.join("data"));
        command
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A new cluster with trust authentication for `postgres`.
    fn init(&self) -> Result<(), String> {
        run(self
            .program("initdb")
            .arg("-D")
            .arg(self.root.join("data"))
            .args(["--auth=trust", "-U", "postgres", "--no-sync"]))
    }

    /// Starts the server on 127.0.0.1 only and waits until it accepts connections.
    fn start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.root.display()
        );
        run(self
            .pg_ctl()
            .arg("-l")
            .arg(self.root.join("server.log"))
            .args(["-o", &options, "-w", "start"]))
    }

    /// Stops the server at once, as a crash or a killed container would: sessions are cut
    /// without a goodbye and uncommitted work is lost.
    fn stop_immediately(&self) -> Result<(), String> {
        run(self.pg_ctl().args(["-m", "immediate", "-w", "stop"]))
    }
}

/// A PostgreSQL cluster of this test's own, in a temporary directory on a free port; stopped
/// and deleted on drop.
struct PrivateCluster {
    control: Control,
    _dir: tempfile::TempDir,
}

impl PrivateCluster {
    fn start_new() -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let as_postgres = running_as_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres:").arg(dir.path()))?;
        }
        // A port that was free a moment ago; nothing else on this machine races for it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let control = Control {
            bin: server_bin_dir()?,
            root: dir.path().to_path_buf(),
            port,
            as_postgres,
        };
        control.init()?;
        control.start()?;
        Ok(Self { control, _dir: dir })
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        // It may be stopped already; the directory goes after this.
        let _ = self.control.stop_immediately();
    }
}

async fn blocking(
    work: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> Result<(), String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| e.to_string())?
}

fn is_unavailable<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Unavailable(_)))
}

/// Waits (bounded) until some session of the cluster waits on a lock.
async fn until_a_session_waits_on_a_lock(observer: &mut PgConnection) {
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *observer)
        .await
        .expect("pg_stat_activity is readable");
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the append never waited on the conversation's row lock");
}

async fn append_within_guard(stores: &Stores, new: &NewMessage) -> Result<Appended, StoreError> {
    tokio::time::timeout(HANG_GUARD, stores.messages.append(new))
        .await
        .expect("an append returns instead of hanging")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_recovers_from_an_outage_and_nothing_acked_is_lost() {
    let started = tokio::task::spawn_blocking(PrivateCluster::start_new)
        .await
        .expect("the cluster set-up task");
    let cluster = match started {
        Ok(cluster) => cluster,
        Err(err) => {
            crate::support::real_servers::unreachable(
                "a private PostgreSQL cluster (initdb, pg_ctl)",
                err,
            );
            return;
        }
    };
    let control = cluster.control.clone();
    let url = control.url();
    let stores = PgStores::connect(&url, 4, CONNECT_TIMEOUT)
        .await
        .expect("the stores open on the private cluster");

    // Acknowledged before the outage.
    let conversation = create(&stores, conversation_at("c1", &["a", "b"], &[], t(1))).await;
    // Concurrent, so that the pool holds several connections, idle when the server goes.
    let appends: Vec<_> = (0..6)
        .map(|i| {
            let stores = stores.clone();
            let new = text_message(&conversation.id, "a", &format!("acked{i}"), t(2 + i));
            tokio::spawn(async move { append_within_guard(&stores, &new).await })
        })
        .collect();
    let mut acked = Vec::new();
    for append in appends {
        let appended = append.await.unwrap();
        acked.push(appended.expect("an append while the server is up").message);
    }
    acked.sort_by_key(|m| m.seq);
    let first = acked[0].clone();

    // A request in flight when the server goes: an append that waits for the conversation's
    // row lock, which another session holds.
    let mut holder = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("BEGIN; SELECT 1 FROM conversations WHERE id = 'c1' FOR UPDATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let in_flight = {
        let stores = stores.clone();
        let new = text_message(&conversation.id, "a", "in-flight", t(10));
        tokio::spawn(async move { append_within_guard(&stores, &new).await })
    };
    let mut observer = PgConnection::connect(&url).await.unwrap();
    until_a_session_waits_on_a_lock(&mut observer).await;

    let stopping = control.clone();
    blocking(move || stopping.stop_immediately())
        .await
        .expect("the private server stops");
    let in_flight = in_flight.await.unwrap();
    assert!(is_unavailable(&in_flight), "{in_flight:?}");

    // While the server is down, every request fails the same way, within the timeout.
    let read = tokio::time::timeout(HANG_GUARD, stores.messages.get(&first.id))
        .await
        .expect("a read returns instead of hanging");
    assert!(is_unavailable(&read), "{read:?}");
    let write = append_within_guard(
        &stores,
        &text_message(&conversation.id, "a", "while-down", t(11)),
    )
    .await;
    assert!(is_unavailable(&write), "{write:?}");

    let starting = control.clone();
    blocking(move || starting.start())
        .await
        .expect("the private server starts again");

    // The same stores, no reconnecting by hand.
    assert_eq!(
        stores.messages.get(&first.id).await.unwrap(),
        Some(first.clone()),
        "an acknowledged message survived"
    );
    let stored = stores
        .messages
        .after(&conversation.id, Seq::ZERO, 100)
        .await
        .unwrap();
    assert_eq!(stored, acked, "exactly what was acknowledged is stored");
    let next = append_within_guard(
        &stores,
        &text_message(&conversation.id, "a", "after", t(12)),
    )
    .await
    .expect("an append after the outage");
    assert_eq!(next.message.seq, Seq(7), "seqs go on without a gap");
    drop((holder, observer, stores));
    drop(cluster);
}
