//! Group commit for message appends: one thread of its own, with its own connection to the
//! database file, takes the appends waiting from every connection and writes them in one
//! `BEGIN IMMEDIATE` transaction, so that the commit (the write-ahead log's `fsync`, and
//! SQLite's single write lock) is paid once per batch instead of once per message.
//!
//! Why a thread and rusqlite rather than a task on the sqlx pool: sqlx runs each SQLite
//! connection on a worker thread and hands it every statement through a channel, so each of
//! an append's three or four statements cost two thread switches, and those switches, not
//! SQLite, were most of the server's CPU per message and capped the writer near 7,000
//! appends a second on this 2-core machine. Here the statements of a whole batch run on the
//! writer's thread, prepared once and cached: one hand-over per batch.
//!
//! What does not change: an append is answered only after the transaction holding it
//! committed (and `Db::confirm_write` passed), appends are applied in the order they arrive
//! (a connection waits for its append before it sends the next, so its messages keep their
//! order), and one bad append never costs the others: an append refused by the rules (an
//! unknown conversation, a resend recognised by its client key) writes nothing, and any
//! database error rolls the batch back and runs each of its appends alone, so that only the
//! failing one fails.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};

use super::db::{BUSY_TIMEOUT, Db};
use super::rows::{seq_from_db, seq_to_db};
use crate::adapters::outbound::sql::json::attachments_to_json;
use crate::adapters::outbound::stored::corrupt;
use crate::domain::{Message, MessageId, NewMessage};
use crate::ports::StoreError;

/// Appends written in one transaction at most: enough to absorb a burst from thousands of
/// connections, small enough that one transaction stays short.
const MAX_BATCH: usize = 256;
/// Appends waiting for the writer at most; senders wait beyond it (backpressure, not loss).
const QUEUE: usize = 4096;

/// What became of one append, once its transaction committed.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Stored with its seq.
    Stored(Message),
    /// A resend: the sender already stored a message with this client key (nothing written).
    Earlier(MessageId),
    /// No such conversation (nothing written).
    NoConversation,
}

type Reply = oneshot::Sender<Result<Outcome, StoreError>>;

struct Job {
    message: NewMessage,
    reply: Reply,
}

/// The handle the message store appends through.
pub(super) struct Appender {
    jobs: mpsc::Sender<Job>,
}

impl Appender {
    /// Opens the writer's connection and starts its thread, which ends when the last handle
    /// is dropped.
    pub(super) fn start(db: Db) -> Result<Self, StoreError> {
        let path = db.path().map(Path::to_owned).ok_or_else(|| {
            StoreError::Unavailable(
                "an in-memory SQLite database cannot be shared with the message writer; give \
                 the SQLite store a file, or use the memory store"
                    .into(),
            )
        })?;
        let writer = Writer {
            conn: open(&path)?,
            path,
            db,
        };
        let (jobs, waiting) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("sqlite-appender".into())
            .spawn(move || writer.run(waiting))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the SQLite message writer: {e}"))
            })?;
        Ok(Self { jobs })
    }

    pub(super) async fn append(&self, message: &NewMessage) -> Result<Outcome, StoreError> {
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

/// The writer's own connection. The file exists and holds the schema by now (the pool
/// created and migrated it), so it is never created here; WAL mode is a property of the file.
fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
    // FULL, as on the pool's connections: a committed batch survives a power cut.
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .map_err(sql_error)?;
    Ok(conn)
}

struct Writer {
    conn: Connection,
    /// The file `conn` has open, to reopen it (`recover`).
    path: PathBuf,
    /// For `confirm_write` after each commit.
    db: Db,
}

impl Writer {
    fn run(mut self, mut waiting: mpsc::Receiver<Job>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = waiting.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.write_batch(std::mem::take(&mut batch));
        }
    }

    /// Writes `jobs` in one transaction and answers each; after any database error, each alone.
    fn write_batch(&mut self, jobs: Vec<Job>) {
        self.recover();
        if jobs.len() > 1 {
            match self.in_one_transaction(&jobs) {
                Ok(outcomes) => {
                    for (job, outcome) in jobs.into_iter().zip(outcomes) {
                        // A sender that went away (its connection closed) needs no answer.
                        let _ = job.reply.send(Ok(outcome));
                    }
                    return;
                }
                Err(e) => {
                    tracing::debug!(error = %e, appends = jobs.len(), "batch rolled back; appending one by one");
                    self.recover();
                }
            }
        }
        for job in jobs {
            let result = self
                .in_one_transaction(std::slice::from_ref(&job))
                .and_then(|mut outcomes| outcomes.pop().ok_or_else(stopped));
            if result.is_err() {
                self.recover();
            }
            let _ = job.reply.send(result);
        }
    }

    /// The outcome of each append, once the transaction committed; `Err` when it did not
    /// (then nothing of it is stored).
    fn in_one_transaction(&mut self, jobs: &[Job]) -> Result<Vec<Outcome>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error)?;
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            outcomes.push(append_in(&tx, &job.message)?);
        }
        tx.commit().map_err(sql_error)?;
        self.db.confirm_write()?;
        Ok(outcomes)
    }

    /// Leaves the connection outside any transaction after a failure. Dropping a rusqlite
    /// transaction rolls it back, but on some errors (a full disk) SQLite has ended it already
    /// and the ROLLBACK fails; should the connection still be inside one, it is replaced, so
    /// that the next batch can begin (see `db::reusable` for the pool's side of this).
    fn recover(&mut self) {
        if self.conn.is_autocommit() {
            return;
        }
        let _ = self.conn.execute_batch("ROLLBACK");
        if self.conn.is_autocommit() {
            return;
        }
        tracing::warn!("reopening the SQLite message writer's connection, stuck in a transaction");
        match open(&self.path) {
            Ok(conn) => self.conn = conn,
            Err(e) => {
                tracing::error!(error = %e, "cannot reopen the SQLite message writer's connection")
            }
        }
    }
}

/// Appends `message` inside the writer's transaction: takes the conversation's next seq,
/// stores the message, and moves the sender's read and delivered marks to it. `Err` is a
/// database error, after which the transaction must be rolled back.
fn append_in(conn: &Connection, message: &NewMessage) -> Result<Outcome, StoreError> {
    // Inside the write transaction from the key lookup to the commit, so a concurrent resend
    // with the same key sees this one's message.
    if let Some(earlier) = earlier_with_client_key(conn, message)? {
        return Ok(Outcome::Earlier(earlier));
    }
    let Some(seq) = advance_conversation(conn, message)? else {
        return Ok(Outcome::NoConversation);
    };
    let stored = message.clone().stored_as(seq_from_db(seq)?);
    insert_message(conn, &stored)?;
    move_sender_marks(conn, &stored)?;
    Ok(Outcome::Stored(stored))
}

fn earlier_with_client_key(
    conn: &Connection,
    message: &NewMessage,
) -> Result<Option<MessageId>, StoreError> {
    let Some(key) = &message.client_key else {
        return Ok(None);
    };
    let id: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM messages WHERE conversation_id = ?1 AND sender = ?2 AND client_key = ?3",
        )
        .and_then(|mut select| {
            select
                .query_row(
                    params![
                        message.conversation_id.as_str(),
                        message.sender.as_str(),
                        key.as_str()
                    ],
                    |row| row.get(0),
                )
                .optional()
        })
        .map_err(sql_error)?;
    id.map(|id| MessageId::parse(id).map_err(|e| corrupt("message id", e)))
        .transpose()
}

/// Takes the conversation's next seq and records the message as its last one. Incrementing
/// in the UPDATE (not reading then writing) keeps seqs gap-free even if this ever runs
/// outside an immediate transaction.
fn advance_conversation(
    conn: &Connection,
    message: &NewMessage,
) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ?2, \
         last_message_text = ?3, last_message_sender = ?4, last_message_at = ?2 \
         WHERE id = ?1 RETURNING last_seq",
    )
    .and_then(|mut update| {
        update
            .query_row(
                params![
                    message.conversation_id.as_str(),
                    message.created_at.as_millis(),
                    message.body.text.as_str(),
                    message.sender.as_str()
                ],
                |row| row.get(0),
            )
            .optional()
    })
    .map_err(sql_error)
}

fn insert_message(conn: &Connection, m: &Message) -> Result<(), StoreError> {
    let call = m.body.call;
    conn.prepare_cached(
        "INSERT INTO messages (id, conversation_id, seq, sender, kind, text, attachments, \
         call_type, call_duration, call_status, client_key, created_at, edited_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut insert| {
        insert.execute(params![
            m.id.as_str(),
            m.conversation_id.as_str(),
            seq_to_db(m.seq),
            m.sender.as_str(),
            m.body.kind.as_str(),
            m.body.text.as_str(),
            attachments_to_json(&m.body.attachments).to_string(),
            call.map(|c| c.call_type.as_str()),
            call.map(|c| i64::from(c.duration_secs)),
            call.map(|c| c.status.as_str()),
            m.client_key.as_ref().map(|k| k.as_str()),
            m.created_at.as_millis(),
            m.edited_at.map(|t| t.as_millis()),
        ])
    })
    .map_err(sql_error)?;
    Ok(())
}

/// Posting reads and receives everything up to the new message, for the sender.
fn move_sender_marks(conn: &Connection, m: &Message) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE conversation_participants \
         SET read_seq = ?3, read_at = ?4, delivered_seq = ?3, delivered_at = ?4 \
         WHERE conversation_id = ?1 AND user_id = ?2",
    )
    .and_then(|mut update| {
        update.execute(params![
            m.conversation_id.as_str(),
            m.sender.as_str(),
            seq_to_db(m.seq),
            m.created_at.as_millis()
        ])
    })
    .map_err(sql_error)?;
    Ok(())
}

/// As `rows::db_error` does for sqlx: a broken uniqueness rule is a conflict, anything else
/// leaves the store unavailable for this write.
fn sql_error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::ConstraintViolation => {
            StoreError::Conflict(error.to_string())
        }
        _ => StoreError::Unavailable(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::task::JoinSet;

    use super::super::SqliteStores;
    use super::*;
    use crate::domain::{
        Conversation, ConversationContext, ConversationId, MessageBody, MessageKind, MessageRules,
        Seq, Timestamp, UserId,
    };
    use crate::ports::{Appended, Page, Stores};

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
        assert!(
            matches!(results[2], Err(StoreError::Conflict(_))),
            "{results:?}"
        );
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
