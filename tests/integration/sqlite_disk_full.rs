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

use std::io::{ErrorKind, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use switchboard::adapters::outbound::sqlite::SqliteStores;
use switchboard::domain::ConversationId;

use crate::server_process::Server;
use crate::support::process::{run, running_as_root};
use crate::support::real_servers::unreachable;

/// Room for the schema and the write-ahead log (up to 1,000 pages of 4 KiB before SQLite
/// checkpoints it), and small enough to fill in a moment.
const TMPFS_SIZE: &str = "8m";
/// Who the server runs as: the kernel's overflow user, whose id is the same on every Linux.
const NOBODY: u32 = 65534;
/// Writes tried while the disk is full, and required once it has room again.
const WRITES_WHILE_FULL: usize = 12;
const WRITES_AFTER: usize = 50;

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
    let mut server = Server::start(&db, outside.path(), Some(NOBODY));

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
