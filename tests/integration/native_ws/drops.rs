//! Nothing lost across dropped connections: Alice's connection is closed under her again and
//! again while Bob keeps posting; each time she reconnects and resumes from the last seq she
//! holds. At the end she holds every message Bob posted, each once, received in seq order,
//! and the server sent none twice. On SQLite (100 drops), PostgreSQL and MongoDB.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;

use super::stores::native_on;
use super::{connect, connect_with, open};
use crate::support::TestApp;
use crate::support::native_client::Inbox;

/// How many live messages Alice takes before her connection drops, cycling: a drop right
/// after the greeting, mid-stream, and after a longer run.
const TAKEN_BEFORE_DROP: [usize; 5] = [0, 1, 3, 7, 2];

async fn drops_lose_nothing(app: &TestApp, drops: usize) {
    let alice = connect(app, "alice").await;
    let bob = connect(app, "bob").await;
    let id = open(&alice, "bob").await;
    drop(alice);

    let done = Arc::new(AtomicBool::new(false));
    let posted = Arc::new(AtomicU64::new(0));
    let mut producer = Some({
        let (done, posted, id) = (done.clone(), posted.clone(), id.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Acquire) {
                let n = posted.load(Ordering::Acquire) + 1;
                let sent = bob
                    .request(
                        "messages.send",
                        json!({ "conversationId": id, "text": format!("m{n}") }),
                    )
                    .await
                    .expect("Bob's post is stored");
                assert_eq!(sent["seq"], n);
                posted.store(n, Ordering::Release);
            }
        })
    });

    let mut inbox = Inbox::default();
    inbox.track(&id);
    let mut arrival: Vec<u64> = Vec::new();
    for round in 0..=drops {
        let mut alice = connect_with(app, "alice", inbox.resume()).await;
        let last = round == drops;
        if last {
            done.store(true, Ordering::Release);
            if let Some(producer) = producer.take() {
                producer.await.expect("the producer ran to the end");
            }
        }
        let goal = TAKEN_BEFORE_DROP[round % TAKEN_BEFORE_DROP.len()];
        let mut live = 0;
        let mut resumed = false;
        loop {
            if !last && resumed && live >= goal {
                break;
            }
            if last && resumed && inbox.messages(&id).len() as u64 == posted.load(Ordering::Acquire)
            {
                break;
            }
            let (kind, data) = alice
                .try_next_event(Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("round {round}: nothing arrived"));
            match kind.as_str() {
                "message.new" => {
                    if inbox.accept(&data) {
                        arrival.push(data["seq"].as_u64().unwrap());
                    }
                    if resumed {
                        live += 1;
                    }
                }
                "resumed" => resumed = true,
                _ => {}
            }
        }
        alice.drop_transport();
    }

    let total = posted.load(Ordering::Acquire);
    let held = inbox.messages(&id);
    assert!(
        total >= drops as u64,
        "Bob posted {total} messages over {drops} drops"
    );
    assert_eq!(held.len() as u64, total, "every message arrived");
    for (i, message) in held.iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(
            (message["seq"].as_u64(), message["text"].as_str()),
            (Some(seq), Some(format!("m{seq}").as_str()))
        );
    }
    assert!(
        arrival.windows(2).all(|w| w[0] < w[1]),
        "received in seq order"
    );
    assert_eq!(inbox.duplicates, 0, "no message was sent twice");
    eprintln!("{drops} drops: {total} messages, all received once and in order");
}

/// The native listener on `store`, without the per-connection event rate limit (Bob posts as
/// fast as the store takes it), through `drops` forced drops.
async fn drops_on(store: &str, drops: usize) {
    let Some(on) = native_on(store, |s| s.limits.events_per_second = 0).await else {
        return;
    };
    drops_lose_nothing(&on.app, drops).await;
    on.stop().await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_drops_on_sqlite_lose_nothing() {
    drops_on("sqlite", 100).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drops_on_postgres_lose_nothing() {
    drops_on("postgres", 40).await;
}

#[cfg(feature = "mongo")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drops_on_mongodb_lose_nothing() {
    drops_on("mongo", 25).await;
}
