//! `MongoMessageStore`: message history in the `messages` collection, appended together with
//! the conversation changes that `Conversation::apply_posted` describes.
//!
//! An append writes, in this order: (1) the message, with the conversation's `lastSeq + 1`
//! as its seq, under the unique index on (conversationId, seq); (2) the conversation's
//! summary (`lastSeq`, `lastMessage`, `updatedAt`, the hidden flags) and the sender's marks,
//! only if its `lastSeq` is still below the message's seq. When the deployment has
//! transactions both writes commit together. When it does not (a standalone server), the
//! order keeps the data correct after a crash between them: the message exists, so its seq
//! can never be handed out again (the unique index refuses it), and the next append to that
//! conversation finds its seq taken, applies the newest stored message to the summary, and
//! goes on. Until then the conversation's `lastSeq` lags by that one message; history and
//! catch-up already include it.
//!
//! Appends that race for a seq lose and try again, which wastes round trips. Within one
//! process, appends to the same conversation therefore take turns (`AppendTurns`); only
//! appends from different nodes still race, and the unique index settles those.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mongodb::bson::{Bson, doc};
use mongodb::error::{Error, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::{Client, ClientSession};
use serde::Deserialize;

use super::conversations::marks_update;
use super::documents::MessageDoc;
use super::errors::{is_duplicate_key, is_worth_retrying, store_error};
use super::values::{date, id_to_bson, skip_of};
use super::{Collections, collect};
use crate::adapters::outbound::stored::{seq_from_db, seq_to_db};
use crate::domain::{ConversationId, MarkKind, Message, MessageId, NewMessage, Seq};
use crate::ports::{Appended, MessageStore, Page, StoreError};

/// Concurrent appends to one conversation race for the same seq; the losers try again.
const MAX_ATTEMPTS: u32 = 500;

/// Appends in this process queue per conversation; conversations share a queue when their
/// ids hash alike, which only costs a little waiting.
const APPEND_QUEUES: usize = 256;

pub struct MongoMessageStore {
    collections: Collections,
    /// Set when appends run in transactions.
    transactions: Option<Client>,
    /// How long an append may keep retrying before it gives up with `Unavailable`.
    retry_budget: Duration,
    turns: AppendTurns,
}

/// One queue per group of conversations, so that this process's appends to a conversation
/// run one at a time instead of racing each other for its next seq.
struct AppendTurns(Box<[tokio::sync::Mutex<()>]>);

impl AppendTurns {
    fn new() -> Self {
        Self(
            (0..APPEND_QUEUES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        )
    }

    async fn wait(&self, conversation: &ConversationId) -> tokio::sync::MutexGuard<'_, ()> {
        let mut hasher = std::hash::DefaultHasher::new();
        hasher.write(conversation.as_str().as_bytes());
        // The remainder is below the queue count, so it fits in usize.
        let queue = (hasher.finish() % self.0.len() as u64) as usize;
        self.0[queue].lock().await
    }
}

impl MongoMessageStore {
    pub(super) fn new(
        collections: Collections,
        transactions: Option<Client>,
        retry_budget: Duration,
    ) -> Self {
        Self {
            collections,
            transactions,
            retry_budget,
            turns: AppendTurns::new(),
        }
    }
}

/// Runs a driver action in the session's transaction when there is one.
macro_rules! in_session {
    ($session:expr, $action:expr) => {
        match $session.as_deref_mut() {
            Some(session) => $action.session(session).await,
            None => $action.await,
        }
    };
}

/// What one try at an append found.
enum Attempt {
    Stored(Message),
    /// The sender's earlier message with the same client key.
    Duplicate(Box<MessageDoc>),
    NoConversation,
    /// Another append took the seq first (or a crash left its summary behind).
    SeqTaken,
}

#[derive(Deserialize)]
struct LastSeq {
    #[serde(rename = "lastSeq")]
    last_seq: i64,
}

async fn try_append(
    c: &Collections,
    session: &mut Option<&mut ClientSession>,
    message: &NewMessage,
) -> Result<Attempt, Error> {
    let conversation_id = id_to_bson(message.conversation_id.as_str());
    if let Some(key) = &message.client_key {
        let earlier = in_session!(
            session,
            c.messages.find_one(doc! {
                "conversationId": &conversation_id,
                "sender": id_to_bson(message.sender.as_str()),
                "clientKey": key.as_str(),
            })
        )?;
        if let Some(earlier) = earlier {
            return Ok(Attempt::Duplicate(Box::new(earlier)));
        }
    }
    let last = in_session!(
        session,
        c.conversations
            .clone_with_type::<LastSeq>()
            .find_one(doc! { "_id": &conversation_id })
            .projection(doc! { "lastSeq": 1 })
    )?;
    let Some(LastSeq { last_seq }) = last else {
        return Ok(Attempt::NoConversation);
    };
    let seq = seq_from_db(last_seq)
        .map_err(|e| Error::custom(e.to_string()))?
        .next();
    let stored = message.clone().stored_as(seq);
    match in_session!(
        session,
        c.messages.insert_one(MessageDoc::from_domain(&stored))
    ) {
        Ok(_) => {}
        Err(e) if is_duplicate_key(&e) => return Ok(Attempt::SeqTaken),
        Err(e) => return Err(e),
    }
    apply_to_conversation(c, session, &stored).await?;
    Ok(Attempt::Stored(stored))
}

/// Writes a stored message into its conversation's summary, unless a newer one is there
/// already; then moves the sender's marks up to it.
async fn apply_to_conversation(
    c: &Collections,
    session: &mut Option<&mut ClientSession>,
    m: &Message,
) -> Result<(), Error> {
    let conversation_id = id_to_bson(m.conversation_id.as_str());
    let sender = id_to_bson(m.sender.as_str());
    let seq = seq_to_db(m.seq);
    let at = date(m.created_at);
    // Times before seqs in each element: see `marks_update`.
    let summary = in_session!(
        session,
        c.conversations
            .update_one(
                doc! { "_id": &conversation_id, "lastSeq": { "$lt": seq } },
                doc! { "$set": {
                    "lastSeq": seq,
                    "updatedAt": at,
                    "lastMessage": { "text": m.body.text.as_str(), "sender": &sender, "timestamp": at },
                    "watermarks.$[s].readAt": at,
                    "watermarks.$[s].readSeq": seq,
                    "watermarks.$[s].deliveredAt": at,
                    "watermarks.$[s].deliveredSeq": seq,
                    "watermarks.$[h].hidden": false,
                } },
            )
            .array_filters([
                doc! { "s.userId": &sender },
                doc! { "h.hiddenThroughSeq": { "$lt": seq } },
            ])
    )?;
    if summary.matched_count == 0 {
        // A newer message is in the summary already (only without transactions, when two
        // appends finish out of order): the sender's marks may still need to move.
        let (element, set, filters) = marks_update(&sender, seq, at, MarkKind::Read);
        in_session!(
            session,
            c.conversations
                .update_one(
                    doc! { "_id": &conversation_id, "watermarks": { "$elemMatch": element } },
                    doc! { "$set": set },
                )
                .array_filters(filters)
        )?;
    }
    Ok(())
}

/// Applies the conversation's newest stored message to its summary: what a crash between
/// the two writes of an append left undone.
async fn repair_summary(c: &Collections, conversation: &ConversationId) -> Result<(), StoreError> {
    let newest = c
        .messages
        .find_one(doc! {
            "conversationId": id_to_bson(conversation.as_str()),
            "seq": { "$exists": true },
        })
        .sort(doc! { "seq": -1 })
        .await
        .map_err(store_error)?;
    if let Some(newest) = newest {
        apply_to_conversation(c, &mut None, &newest.into_domain()?)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

async fn commit(session: &mut ClientSession) -> Result<(), Error> {
    loop {
        match session.commit_transaction().await {
            Err(e) if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) => continue,
            done => return done,
        }
    }
}

async fn abort(session: Option<&mut ClientSession>) {
    if let Some(session) = session {
        // The server may have aborted it already (a write conflict); nothing is left to undo.
        if let Err(e) = session.abort_transaction().await {
            tracing::debug!(error = %e, "aborting a transaction");
        }
    }
}

/// A short random pause before trying again, growing with the attempts, so that racing
/// writers spread out instead of colliding again.
async fn back_off(attempt: u32) {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(attempt);
    let ceiling_micros = 500 * u64::from(attempt.min(20) + 1);
    tokio::time::sleep(Duration::from_micros(hasher.finish() % ceiling_micros)).await;
}

fn to_messages(docs: Vec<MessageDoc>) -> Result<Vec<Message>, StoreError> {
    docs.into_iter().map(MessageDoc::into_domain).collect()
}

#[async_trait]
impl MessageStore for MongoMessageStore {
    async fn append(&self, message: &NewMessage) -> Result<Appended, StoreError> {
        // Bounded, so that appends queued behind others during an outage fail in time too.
        let _turn =
            tokio::time::timeout(self.retry_budget, self.turns.wait(&message.conversation_id))
                .await
                .map_err(|_| {
                    StoreError::Unavailable(format!(
                        "appending to conversation {}: waited {:?} behind earlier appends",
                        message.conversation_id, self.retry_budget
                    ))
                })?;
        let mut session = match &self.transactions {
            Some(client) => Some(client.start_session().await.map_err(store_error)?),
            None => None,
        };
        let started = Instant::now();
        let mut attempt = 0;
        let mut last_conflict: String;
        loop {
            if let Some(session) = session.as_mut() {
                session.start_transaction().await.map_err(store_error)?;
            }
            let tried = try_append(&self.collections, &mut session.as_mut(), message).await;
            match tried {
                Ok(Attempt::Stored(stored)) => {
                    let committed = match session.as_mut() {
                        Some(session) => commit(session).await,
                        None => Ok(()),
                    };
                    match committed {
                        Ok(()) => {
                            return Ok(Appended {
                                message: stored,
                                duplicate: false,
                            });
                        }
                        Err(e) if is_worth_retrying(&e) => last_conflict = e.to_string(),
                        Err(e) => return Err(store_error(e)),
                    }
                }
                Ok(Attempt::Duplicate(earlier)) => {
                    abort(session.as_mut()).await;
                    return Ok(Appended {
                        message: earlier.into_domain()?,
                        duplicate: true,
                    });
                }
                Ok(Attempt::NoConversation) => {
                    abort(session.as_mut()).await;
                    return Err(StoreError::NotFound(format!(
                        "conversation {}",
                        message.conversation_id
                    )));
                }
                Ok(Attempt::SeqTaken) => {
                    abort(session.as_mut()).await;
                    last_conflict = "its next seq was taken".into();
                    if session.is_none() {
                        repair_summary(&self.collections, &message.conversation_id).await?;
                    }
                }
                Err(e) if is_worth_retrying(&e) => {
                    abort(session.as_mut()).await;
                    last_conflict = e.to_string();
                }
                Err(e) => {
                    abort(session.as_mut()).await;
                    return Err(store_error(e));
                }
            }
            attempt += 1;
            if attempt >= MAX_ATTEMPTS || started.elapsed() > self.retry_budget {
                return Err(StoreError::Unavailable(format!(
                    "appending to conversation {}: gave up after {attempt} attempts in {:?} \
                     of racing concurrent writers; last: {last_conflict}",
                    message.conversation_id,
                    started.elapsed()
                )));
            }
            back_off(attempt).await;
        }
    }

    async fn get(&self, id: &MessageId) -> Result<Option<Message>, StoreError> {
        self.collections
            .messages
            .find_one(doc! { "_id": id_to_bson(id.as_str()) })
            .await
            .map_err(store_error)?
            .map(MessageDoc::into_domain)
            .transpose()
    }

    async fn page(
        &self,
        conversation: &ConversationId,
        page: Page,
    ) -> Result<Vec<Message>, StoreError> {
        let docs = collect(
            self.collections
                .messages
                .find(doc! {
                    "conversationId": id_to_bson(conversation.as_str()),
                    "seq": { "$exists": true },
                })
                .sort(doc! { "seq": -1 })
                .skip(skip_of(page))
                .limit(i64::from(page.limit))
                .await,
        )
        .await?;
        let mut messages = to_messages(docs)?;
        // Selected newest first, returned oldest first.
        messages.reverse();
        Ok(messages)
    }

    async fn after(
        &self,
        conversation: &ConversationId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let docs = collect(
            self.collections
                .messages
                .find(doc! {
                    "conversationId": id_to_bson(conversation.as_str()),
                    "seq": { "$exists": true, "$gt": seq_to_db(after) },
                })
                .sort(doc! { "seq": 1 })
                .limit(i64::from(limit))
                .await,
        )
        .await?;
        to_messages(docs)
    }

    async fn save_edit(&self, message: &Message) -> Result<(), StoreError> {
        let edited_at = message
            .edited_at
            .map_or(Bson::Null, |t| Bson::DateTime(date(t)));
        let matched = self
            .collections
            .messages
            .update_one(
                doc! { "_id": id_to_bson(message.id.as_str()) },
                doc! { "$set": {
                    "text": message.body.text.as_str(),
                    "isEdited": message.is_edited(),
                    "editedAt": edited_at,
                } },
            )
            .await
            .map_err(store_error)?
            .matched_count;
        if matched == 0 {
            return Err(StoreError::NotFound(format!("message {}", message.id)));
        }
        Ok(())
    }
}
