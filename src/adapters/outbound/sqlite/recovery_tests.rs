//! The store through faults of its file: after a full disk, once there is room again, every
//! write works on the same `Stores`, and what failed was never acknowledged; after the file
//! was deleted or replaced under it, writes fail instead of going where nothing finds them.

use sqlx::SqlitePool;

use super::SqliteStores;
use super::db::Db;
use crate::domain::ids::MAX_ID_LEN;
use crate::domain::{
    Conversation, ConversationContext, ConversationId, Timestamp, UserId, UserProfile,
};
use crate::ports::{StoreError, Stores};

/// Enough connections that consecutive requests land on different ones.
const CONNECTIONS: u32 = 3;

async fn open(path: &str, connections: u32) -> (SqlitePool, Stores) {
    let db = Db::open(path, connections).await.unwrap();
    (db.pool.clone(), SqliteStores::stores(db).unwrap())
}

/// A conversation whose row is larger than a page: storing it needs new pages. Its context
/// is most of that (sixty keys with long values), in the row and again in the identity key.
fn large_conversation(n: usize) -> Conversation {
    let context = ConversationContext::new((0..60).map(|k| {
        (
            format!("key_{k:02}_{}", "k".repeat(50)),
            "v".repeat(MAX_ID_LEN),
        )
    }))
    .unwrap();
    Conversation::new(
        ConversationId::parse(format!("c{n}")).unwrap(),
        vec![
            UserId::parse(format!("u{n}")).unwrap(),
            UserId::parse("peer").unwrap(),
        ],
        context,
        Timestamp::from_millis(i64::try_from(n).unwrap()),
    )
    .unwrap()
}

/// Runs `sql` on every connection of the pool: all of them are checked out at once, so each
/// one is a different connection (opened if the pool had fewer).
async fn on_every_connection(pool: &SqlitePool, sql: &str) {
    let mut held = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut conn = pool.acquire().await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut *conn)
            .await
            .unwrap();
        held.push(conn);
    }
}

/// `PRAGMA max_page_count` at the file's current size makes SQLite answer a write that needs
/// a new page with `SQLITE_FULL`, as a full disk does. Like a full disk at commit, it then
/// rolls the whole transaction back by itself when the failing statement kept no statement
/// journal, as the single-row insert of a conversation (no trigger, no foreign key to check).
/// That is what used to leave sqlx's transaction count stuck on the pooled connection.
#[tokio::test]
async fn writes_work_again_once_a_full_database_has_room() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    let (pool, stores) = open(path.to_str().unwrap(), CONNECTIONS).await;

    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&pool)
        .await
        .unwrap();
    let unlimited: i64 = sqlx::query_scalar("PRAGMA max_page_count")
        .fetch_one(&pool)
        .await
        .unwrap();
    // Every write fails while the file is full (twice as many as connections, so that each
    // connection fails at least once), and none is stored. The limit is set again before each
    // write, since a connection that failed may have been replaced by a new one, without it.
    for n in 1..=2 * CONNECTIONS as usize {
        on_every_connection(&pool, &format!("PRAGMA max_page_count = {pages}")).await;
        let full = stores
            .conversations
            .get_or_create(&large_conversation(n))
            .await
            .map(|(stored, created)| (stored.id, created));
        assert!(
            matches!(&full, Err(StoreError::Unavailable(_))),
            "write {n} while full: {full:?}"
        );
    }

    // The cause goes away.
    on_every_connection(&pool, &format!("PRAGMA max_page_count = {unlimited}")).await;

    let mut failed = Vec::new();
    for n in 100..150 {
        match stores
            .conversations
            .get_or_create(&large_conversation(n))
            .await
        {
            Ok((_, created)) => assert!(created, "write {n} created its conversation"),
            Err(e) => failed.push(format!("write {n}: {e}")),
        }
    }
    assert!(
        failed.is_empty(),
        "{} of 50 writes failed once there was room again:\n{}",
        failed.len(),
        failed.join("\n")
    );
    for n in 1..=2 * CONNECTIONS as usize {
        let id = large_conversation(n).id;
        assert_eq!(stores.conversations.get(&id).await.unwrap(), None, "{id}");
    }
    for n in 100..150 {
        let stored = large_conversation(n);
        let found = stores.conversations.get(&stored.id).await.unwrap();
        assert_eq!(found, Some(stored));
    }
}

/// The file deleted under the running server: a write would go to the unlinked file, lost at
/// the next restart, so it fails, naming the path; after a restart the path is a database
/// again. One connection, so that every write goes through the one that has the deleted file
/// open (a connection opened after the deletion fails to open: no file to open).
#[tokio::test]
async fn writes_fail_once_the_database_file_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deleted.db");
    let path_str = path.to_str().unwrap();
    let (pool, stores) = open(path_str, 1).await;
    let profile = |id: &str| UserProfile::bare(UserId::parse(id).unwrap());
    stores.users.upsert(&profile("before")).await.unwrap();

    std::fs::remove_file(&path).unwrap();

    let refused = |result: Result<(), StoreError>| match result {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains(path_str), "{message}");
            assert!(message.contains("deleted"), "{message}");
        }
        other => panic!("a write to the deleted file: {other:?}"),
    };
    // A single statement, and a transaction.
    refused(stores.users.upsert(&profile("after")).await);
    refused(
        stores
            .conversations
            .get_or_create(&large_conversation(1))
            .await
            .map(|_| ()),
    );
    refused(stores.users.upsert(&profile("again")).await);

    // A restart (the pool closed, then opened again) starts a new database at the path.
    pool.close().await;
    drop(stores);
    let (_, restarted) = open(path_str, 1).await;
    restarted.users.upsert(&profile("restarted")).await.unwrap();
    assert_eq!(
        restarted
            .users
            .get(&UserId::parse("restarted").unwrap())
            .await
            .unwrap(),
        Some(profile("restarted"))
    );
}

/// Another database put in its place (a backup restored while the server runs) is not
/// written either: the server's connections have the old file open, and new ones would open
/// the other file, so the two would go apart.
#[tokio::test]
async fn writes_fail_once_the_database_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replaced.db");
    let (_pool, stores) = open(path.to_str().unwrap(), CONNECTIONS).await;
    let backup = dir.path().join("backup.db");
    let (backup_pool, _) = open(backup.to_str().unwrap(), 1).await;
    backup_pool.close().await;
    std::fs::rename(&backup, &path).unwrap();

    for n in 0..2 * CONNECTIONS {
        let write = stores
            .users
            .upsert(&UserProfile::bare(UserId::parse(format!("u{n}")).unwrap()))
            .await;
        assert!(
            matches!(&write, Err(StoreError::Unavailable(m)) if m.contains("replaced")),
            "{write:?}"
        );
    }
}

/// An in-memory database has no file the message writer could open beside the pool: it is
/// refused with a clear error, not opened as a database whose messages go nowhere.
#[tokio::test]
async fn an_in_memory_database_is_refused_with_the_way_out() {
    let refused = SqliteStores::connect("sqlite::memory:", CONNECTIONS).await;
    assert!(
        matches!(&refused, Err(StoreError::Unavailable(m)) if m.contains("memory store")),
        "{:?}",
        refused.err()
    );
}
