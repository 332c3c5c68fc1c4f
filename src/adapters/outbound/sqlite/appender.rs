//! Group commit for message appends: one task takes the appends waiting from every
//! connection and writes them in one `BEGIN IMMEDIATE` transaction, so that the commit (the
//! write-ahead log's `fsync`, and SQLite's single write lock) is paid once per batch instead
//! of once per message.
//!
//! What does not change: an append is answered only after the transaction holding it
//! committed (and `Db::confirm_write` passed), appends are applied in the order they arrive
//! (a connection waits for its append before it sends the next, so its messages keep their
//! order), and one bad append never costs the others: an append refused by the rules (an
//! unknown conversation, a resend recognised by its client key) writes nothing, and any
//! database error rolls the batch back and runs each of its appends alone, so that only the
//! failing one fails.

use tokio::sync::{mpsc, oneshot};

use super::db::Db;
use super::messages::append_in;
use super::rows::db_error;
use crate::domain::NewMessage;
use crate::ports::{Appended, StoreError};

/// Appends written in one transaction at most: enough to absorb a burst from thousands of
/// connections, small enough that one transaction stays short.
const MAX_BATCH: usize = 256;
/// Appends waiting for the writer at most; senders wait beyond it (backpressure, not loss).
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Appended, StoreError>>;

struct Job {
    message: NewMessage,
    reply: Reply,
}

/// The handle the message store appends through.
pub(super) struct Appender {
    jobs: mpsc::Sender<Job>,
}

impl Appender {
    /// Starts the writer task. It ends when the last handle is dropped.
    pub(super) fn start(db: Db) -> Self {
        let (jobs, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(db, waiting));
        Self { jobs }
    }

    pub(super) async fn append(&self, message: &NewMessage) -> Result<Appended, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            message: message.clone(),
            reply,
        };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the SQLite message writer has stopped".into())
}

async fn write_batches(db: Db, mut waiting: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write_batch(&db, std::mem::take(&mut batch)).await;
    }
}

/// Writes `jobs` in one transaction and answers each; after any database error, each alone.
async fn write_batch(db: &Db, jobs: Vec<Job>) {
    if jobs.len() > 1 {
        match in_one_transaction(db, &jobs).await {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    // A sender that went away (its connection closed) needs no answer.
                    let _ = job.reply.send(result);
                }
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, appends = jobs.len(), "batch rolled back; appending one by one");
            }
        }
    }
    for job in jobs {
        let result = in_one_transaction(db, std::slice::from_ref(&job))
            .await
            .and_then(|mut results| results.pop().unwrap_or_else(|| Err(stopped())));
        let _ = job.reply.send(result);
    }
}

/// The outcome of each append, once the transaction committed; `Err` when it did not (then
/// nothing of it is stored). An append the rules refuse wrote nothing, so the batch goes on.
async fn in_one_transaction(
    db: &Db,
    jobs: &[Job],
) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
    let mut tx = db.begin_write().await?;
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        results.push(append_in(&mut tx, &job.message).await?);
    }
    tx.commit().await.map_err(db_error)?;
    db.confirm_write()?;
    Ok(results)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::task::JoinSet;

    use super::super::SqliteStores;
    use super::*;
    use crate::domain::{
        Conversation, ConversationContext, ConversationId, MessageBody, MessageId, MessageKind,
        MessageRules, Seq, Timestamp, UserId,
    };
    use crate::ports::{Page, Stores};

    async fn stores() -> (tempfile::TempDir, Stores) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("appends.db");
        let stores = SqliteStores::connect(path.to_str().unwrap(), 4)
            .await
            .unwrap();
        // Different pairs: the same pair and context would be the same conversation.
        for (id, peer) in [("c1", "bob"), ("c2", "cat")] {
            let conversation = Conversation::new(
                ConversationId::parse(id).unwrap(),
                vec![UserId::parse("ann").unwrap(), UserId::parse(peer).unwrap()],
                ConversationContext::default(),
                Timestamp::from_millis(1),
            )
            .unwrap();
            stores
                .conversations
                .get_or_create(&conversation)
                .await
                .unwrap();
        }
        (dir, stores)
    }

    fn message(id: &str, conversation: &str, text: &str) -> NewMessage {
        NewMessage {
            id: MessageId::parse(id).unwrap(),
            conversation_id: ConversationId::parse(conversation).unwrap(),
            sender: UserId::parse("ann").unwrap(),
            body: MessageBody::new(
                MessageKind::Text,
                text,
                vec![],
                None,
                &MessageRules::default(),
            )
            .unwrap(),
            client_key: None,
            created_at: Timestamp::from_millis(2),
        }
    }

    /// Appends all of `messages` at once (on this single-threaded test runtime they are all
    /// waiting before the writer runs, so they share batches); the results in their order.
    async fn append_together(
        stores: &Stores,
        messages: Vec<NewMessage>,
    ) -> Vec<Result<Appended, StoreError>> {
        let mut tasks = JoinSet::new();
        for (n, message) in messages.into_iter().enumerate() {
            let store = Arc::clone(&stores.messages);
            tasks.spawn(async move { (n, store.append(&message).await) });
        }
        let mut results: Vec<_> = tasks.join_all().await;
        results.sort_by_key(|(n, _)| *n);
        results.into_iter().map(|(_, result)| result).collect()
    }

    #[tokio::test]
    async fn concurrent_appends_get_gap_free_seqs_and_are_all_stored() {
        let (_dir, stores) = stores().await;
        let messages = (0..600)
            .map(|n| message(&format!("m{n}"), if n % 2 == 0 { "c1" } else { "c2" }, "hi"))
            .collect();
        let results = append_together(&stores, messages).await;
        for conversation in ["c1", "c2"] {
            let mut seqs: Vec<Seq> = results
                .iter()
                .map(|r| r.as_ref().unwrap())
                .filter(|a| a.message.conversation_id.as_str() == conversation)
                .map(|a| a.message.seq)
                .collect();
            seqs.sort();
            let expected: Vec<Seq> = (1..=300).map(Seq).collect();
            assert_eq!(seqs, expected, "{conversation}");
            let stored = stores
                .messages
                .page(
                    &ConversationId::parse(conversation).unwrap(),
                    Page::new(200, 0),
                )
                .await
                .unwrap();
            assert_eq!(stored.len(), 200);
        }
    }

    #[tokio::test]
    async fn an_append_the_rules_refuse_fails_alone() {
        let (_dir, stores) = stores().await;
        let results = append_together(
            &stores,
            vec![
                message("m1", "c1", "one"),
                message("m2", "nowhere", "lost"),
                message("m3", "c1", "three"),
            ],
        )
        .await;
        assert!(
            matches!(results[1], Err(StoreError::NotFound(_))),
            "{results:?}"
        );
        let seqs: Vec<u64> = [&results[0], &results[2]]
            .iter()
            .map(|r| r.as_ref().unwrap().message.seq.0)
            .collect();
        assert_eq!(seqs, vec![1, 2]);
    }

    #[tokio::test]
    async fn a_database_error_in_a_batch_fails_only_its_own_append() {
        let (_dir, stores) = stores().await;
        // The same message id twice: the second insert breaks the primary key, after its
        // conversation's seq was taken, so the batch must roll back and go one by one.
        let results = append_together(
            &stores,
            vec![
                message("m1", "c1", "first"),
                message("same", "c1", "second"),
                message("same", "c2", "clash"),
                message("m4", "c1", "fourth"),
            ],
        )
        .await;
        assert!(results[2].is_err(), "{results:?}");
        let texts: Vec<(String, u64)> = [&results[0], &results[1], &results[3]]
            .iter()
            .map(|r| {
                let m = &r.as_ref().unwrap().message;
                (m.body.text.clone(), m.seq.0)
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                ("first".into(), 1),
                ("second".into(), 2),
                ("fourth".into(), 3)
            ]
        );
        // Nothing of the failed append is left: c2's seq was not taken.
        let c2 = stores
            .conversations
            .get(&ConversationId::parse("c2").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c2.last_seq.0, 0);
    }
}
