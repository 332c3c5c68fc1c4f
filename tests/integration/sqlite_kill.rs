//! The SQLite store under `kill -9`: every message the server acknowledged is in the file
//! after the process was killed in the middle of a stream of posts from several clients,
//! and the conversation's seqs are gap-free (no append half written). The server commits
//! appends in groups (one transaction for the appends waiting together) and acknowledges
//! each only after its group committed; WAL with `synchronous = FULL` puts the commit on
//! disk first, so this holds for a power cut as well (which a test cannot cut).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::adapters::outbound::sqlite::SqliteStores;
use switchboard::domain::{ConversationId, MessageId, Seq};

use crate::server_process::{Caller, JWT_SECRET, Server};
use crate::support::user_token_signed_with;

/// Clients posting at once: enough that appends wait together and share commits.
const WRITERS: usize = 8;
/// Acknowledged posts before the kill, so that it lands mid-stream.
const ACKED_BEFORE_KILL: usize = 300;
const POSTS_PER_WRITER: usize = 5_000;

struct Killed {
    _dir: tempfile::TempDir,
    db: PathBuf,
    conversation: String,
    acked: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_a_kill() {
    // Processes, threads and plain sockets run off the runtime's threads.
    let killed = tokio::task::spawn_blocking(post_then_kill)
        .await
        .expect("the kill scenario");
    let stores = SqliteStores::connect(killed.db.to_str().expect("a UTF-8 path"), 1)
        .await
        .expect("the killed server's database opens");
    for id in &killed.acked {
        let id = MessageId::parse(id.as_str()).expect("a message id");
        let stored = stores.messages.get(&id).await.expect("a read");
        assert!(stored.is_some(), "acknowledged message {id} is in the file");
    }
    let conversation = ConversationId::parse(killed.conversation.as_str()).unwrap();
    let last = stores
        .conversations
        .get(&conversation)
        .await
        .unwrap()
        .expect("the conversation")
        .last_seq;
    let mut seqs = Vec::new();
    let mut after = Seq::ZERO;
    loop {
        let page = stores
            .messages
            .after(&conversation, after, 500)
            .await
            .unwrap();
        let Some(newest) = page.last() else { break };
        after = newest.seq;
        seqs.extend(page.iter().map(|m| m.seq.0));
    }
    let expected: Vec<u64> = (1..=last.0).collect();
    assert_eq!(seqs, expected, "every seq up to the last one, once");
    assert!(seqs.len() >= killed.acked.len());
}

fn post_then_kill() -> Killed {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("killed.db");
    let mut server = Server::start(&db, dir.path(), None);
    let (status, conversation) = server.open_conversation(["writer", "reader"]);
    assert_eq!(status, 201);
    let conversation = conversation.expect("an id");
    let token = user_token_signed_with("writer", JWT_SECRET);
    let path = format!("/api/chat/conversations/{conversation}/messages");
    let acked_count = AtomicUsize::new(0);
    let endpoint = server.endpoint();
    let acked = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (path, token, acked_count) = (&path, &token, &acked_count);
                scope.spawn(move || {
                    let mut acked = Vec::new();
                    for n in 0..POSTS_PER_WRITER {
                        let body = json!({ "text": format!("writer {w} post {n}") });
                        match endpoint.request(Caller::Token(token), "POST", path, Some(&body)) {
                            Ok((201, message)) => {
                                acked.push(message["_id"].as_str().unwrap().to_owned());
                                acked_count.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok((status, answer)) => panic!("post answered {status}: {answer}"),
                            // Killed: the connection is refused or cut.
                            Err(_) => break,
                        }
                    }
                    acked
                })
            })
            .collect();
        let started = Instant::now();
        while acked_count.load(Ordering::Relaxed) < ACKED_BEFORE_KILL {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "only {} posts acknowledged in a minute",
                acked_count.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill();
        writers
            .into_iter()
            .flat_map(|w| w.join().expect("a writer"))
            .collect::<Vec<_>>()
    });
    Killed {
        _dir: dir,
        db,
        conversation,
        acked,
    }
}
