//! The real server on the SQLite store through a full disk: while the filesystem under the
//! database is full, writes fail (nothing is acknowledged that was not stored), and once
//! there is room again every write works, without a restart.
//!
//! The filesystem is a tmpfs of a few MB mounted for this test alone (root or CAP_SYS_ADMIN,
//! as CI runs), filled with a filler file and then freed. The server runs as its own process,
//! as `nobody`, so that no privilege lets it past the full disk. Writes
//! are `POST /api/v1/conversations` with the service key: a get-or-create, which runs in a
//! write transaction (the kind that a full disk used to leave stuck on its pooled
//! connection). Where the mount is impossible the test is skipped with a note, or fails
//! under CI (`support::real_servers`).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::adapters::outbound::sqlite::SqliteStores;
use switchboard::domain::ConversationId;

use crate::support::real_servers::unreachable;

const SERVICE_KEY: &str = "disk-full-service-key";
/// Room for the schema and the write-ahead log (up to 1,000 pages of 4 KiB before SQLite
/// checkpoints it), and small enough to fill in a moment.
const TMPFS_SIZE: &str = "8m";
/// Who the server runs as: the kernel's overflow user, whose id is the same on every Linux.
const NOBODY: u32 = 65534;
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Writes tried while the disk is full, and required once it has room again.
const WRITES_WHILE_FULL: usize = 12;
const WRITES_AFTER: usize = 50;

/// Runs a command to completion; its output is the error when it fails.
fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A tmpfs of its own on a temporary directory, owned by `owner`; unmounted (then the
/// directory removed) on drop.
struct SmallTmpfs {
    dir: tempfile::TempDir,
}

impl SmallTmpfs {
    fn mount(owner: u32) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let options = format!("size={TMPFS_SIZE},mode=0700,uid={owner},gid={owner}");
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &options, "switchboard-disk-full"])
            .arg(dir.path()))?;
        Ok(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        if run(Command::new("umount").arg(self.dir.path())).is_err() {
            // Something still has a file open there; detach it so the directory can go.
            let _ = run(Command::new("umount").arg("-l").arg(self.dir.path()));
        }
    }
}

/// Fills the filesystem of `dir` with one file until the kernel says it is full, in chunks
/// down to a page, so that no page is left; bounded by the filesystem's size.
fn fill(dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    for chunk in [256 * 1024, 4096, 512] {
        let block = vec![0_u8; chunk];
        let mut filled = false;
        // 8 MiB in 512-byte chunks at most: every bound is above what fits.
        for _ in 0..(16 * 1024) {
            match file.write_all(&block) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::StorageFull => {
                    filled = true;
                    break;
                }
                Err(e) => return Err(format!("filling {}: {e}", path.display())),
            }
        }
        if !filled {
            return Err(format!(
                "{} never filled up with {chunk}-byte writes",
                dir.display()
            ));
        }
    }
    Ok(path)
}

/// The server as a process of its own; killed on drop if it is still running.
struct Server {
    child: Option<Child>,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Starts the server on the SQLite file `db`, keeping its uploads beside it, with one
    /// REST listener on a free port, as `user`.
    fn start(db: &Path, config_dir: &Path, log: PathBuf, user: u32) -> Self {
        // A port that was free a moment ago; nothing else on this machine races for it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let uploads = db.with_file_name("uploads");
        let config = config_dir.join("server.toml");
        std::fs::write(
            &config,
            format!(
                "[[listeners]]\nname = \"native\"\nbind = \"127.0.0.1:{port}\"\n\
                 dialect = \"native\"\ntransports = [\"rest\"]\n\n\
                 [blobs]\ndir = {uploads:?}\n"
            ),
        )
        .expect("the server's config file");
        let log_file = std::fs::File::create(&log).expect("the server's log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        command
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .current_dir(config_dir)
            .env("APP__STORE__KIND", "sqlite")
            .env("APP__STORE__SQLITE_PATH", db)
            .env("APP__STORE__CONNECT_TIMEOUT_SECS", "5")
            .env("APP__AUTH__SERVICE_KEY", SERVICE_KEY)
            .env("JWT_SECRET", "disk-full-jwt-secret")
            .env("APP__LOG__FILTER", "info")
            .env_remove("PORT")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the log file, twice"))
            .stderr(log_file)
            .uid(user)
            .gid(user);
        let child = command.spawn().expect("the switchboard binary starts");
        let server = Self {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        server.wait_until_healthy();
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_until_healthy(&self) {
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = request(self.addr, "GET", "/health", None) {
                return;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the server did not answer /health within {START_TIMEOUT:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `POST /api/v1/conversations` for `participants`: the status, and the id on success.
    fn open_conversation(&self, participants: [&str; 2]) -> (u16, Option<String>) {
        let body = json!({ "participantIds": participants });
        match request(self.addr, "POST", "/api/v1/conversations", Some(&body)) {
            Ok((status, answer)) => (
                status,
                answer["id"]
                    .as_str()
                    .map(str::to_owned)
                    .filter(|_| status == 201),
            ),
            Err(e) => panic!("POST /api/v1/conversations got no answer: {e}"),
        }
    }

    /// SIGTERM, then waits (bounded) for a graceful exit.
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = run(Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdin(Stdio::null()));
        let started = Instant::now();
        while started.elapsed() < STOP_TIMEOUT {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not stop within {STOP_TIMEOUT:?} of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP/1.1 request with the service key, on a connection of its own: the status and
/// the JSON body (`Null` when there is none). Every step is bounded by `REQUEST_TIMEOUT`.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {SERVICE_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    let bad = || std::io::Error::new(ErrorKind::InvalidData, format!("answer: {answer:?}"));
    let status = answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(bad)?;
    let (_, content) = answer.split_once("\r\n\r\n").ok_or_else(bad)?;
    Ok((status, serde_json::from_str(content).unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_writes_again_once_a_full_disk_has_room() {
    // Blocking work (processes, files, plain sockets) runs off the runtime's threads.
    let Some(after) = tokio::task::spawn_blocking(disk_full_and_back)
        .await
        .expect("the disk-full scenario")
    else {
        return;
    };
    // Every acknowledged write is in the file, read after the server stopped.
    let stores = SqliteStores::connect(after.db.to_str().expect("a UTF-8 path"), 1)
        .await
        .expect("the server's database opens");
    for (pair, id) in &after.acked {
        let id = ConversationId::parse(id.as_str()).expect("a conversation id");
        let stored = stores.conversations.get(&id).await.expect("a read");
        assert!(stored.is_some(), "{pair:?} ({id}) is in the file");
    }
    drop(stores);
    drop(after);
}

/// What the scenario leaves for the last check: the stopped server's database on the still
/// mounted tmpfs, and the writes it acknowledged (participants and conversation id).
struct Stopped {
    db: PathBuf,
    acked: Vec<([String; 2], String)>,
    _tmpfs: SmallTmpfs,
}

/// `None` when the test is skipped.
fn disk_full_and_back() -> Option<Stopped> {
    if !running_as_root() {
        unreachable(
            "a tmpfs mount (root or CAP_SYS_ADMIN)",
            "the test is not running as root",
        );
        return None;
    }
    let tmpfs = match SmallTmpfs::mount(NOBODY) {
        Ok(tmpfs) => tmpfs,
        Err(e) => {
            unreachable("a tmpfs mount (root or CAP_SYS_ADMIN)", e);
            return None;
        }
    };
    // The config and the log stay off the small filesystem; `nobody` only reads the config.
    let outside = tempfile::tempdir().expect("a temporary directory");
    std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o755))
        .expect("the config directory opened to `nobody`");
    let db = tmpfs.path().join("switchboard.db");
    let mut server = Server::start(
        &db,
        outside.path(),
        outside.path().join("server.log"),
        NOBODY,
    );

    // Acknowledged before the disk fills.
    let mut acked: Vec<([String; 2], String)> = Vec::new();
    for n in 0..3 {
        let pair = [format!("before{n}"), "peer".to_owned()];
        let (status, id) = server.open_conversation([&pair[0], &pair[1]]);
        assert_eq!(status, 201, "a write with room on the disk");
        acked.push((pair, id.expect("an id")));
    }

    let filler = fill(tmpfs.path()).expect("the tmpfs fills up");
    let mut refused = 0;
    for n in 0..WRITES_WHILE_FULL {
        let pair = [format!("full{n}"), "peer".to_owned()];
        match server.open_conversation([&pair[0], &pair[1]]) {
            // SQLite may still find room in pages it already has: then the write must be
            // stored like any other, which the read-back below checks.
            (201, Some(id)) => acked.push((pair, id)),
            (status, _) => {
                assert!(
                    !(200..300).contains(&status),
                    "a refused write is not a success"
                );
                refused += 1;
            }
        }
    }
    assert!(
        refused > 0,
        "no write failed on the full disk; the test filled nothing"
    );

    std::fs::remove_file(&filler).expect("the filler goes");
    let mut failed_after = Vec::new();
    for n in 0..WRITES_AFTER {
        let pair = [format!("after{n}"), "peer".to_owned()];
        match server.open_conversation([&pair[0], &pair[1]]) {
            (201, Some(id)) => acked.push((pair, id)),
            (status, _) => failed_after.push((n, status)),
        }
    }
    assert!(
        failed_after.is_empty(),
        "{} of {WRITES_AFTER} writes failed after the disk had room again (write, status): \
         {failed_after:?}; the server's log:\n{}",
        failed_after.len(),
        server.log()
    );

    // Read back over HTTP: get-or-create answers the stored conversation's id.
    for (pair, id) in &acked {
        let (status, again) = server.open_conversation([&pair[0], &pair[1]]);
        assert_eq!(status, 201, "reading back {pair:?}");
        assert_eq!(again.as_ref(), Some(id), "{pair:?} was stored as acked");
    }

    server.stop();
    Some(Stopped {
        db,
        acked,
        _tmpfs: tmpfs,
    })
}
