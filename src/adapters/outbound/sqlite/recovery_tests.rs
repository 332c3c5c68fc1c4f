//! The store through faults of its file: after a full disk, once there is room again, every
//! write works on the same `Stores`, and what failed was never acknowledged.

use sqlx::SqlitePool;

use super::SqliteStores;
use super::db::Db;
use crate::domain::ids::MAX_ID_LEN;
use crate::domain::{Conversation, ConversationContext, ConversationId, Timestamp, UserId};
use crate::ports::{StoreError, Stores};

/// Enough connections that consecutive requests land on different ones.
const CONNECTIONS: u32 = 3;

async fn open(path: &str, connections: u32) -> (SqlitePool, Stores) {
    let db = Db::open(path, connections).await.unwrap();
    (db.pool.clone(), SqliteStores::stores(db))
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
