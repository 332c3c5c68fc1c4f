//! `MongoImportSink`: imported data written into this store's layout (`documents.rs`), in
//! place: the target may be the Node server's own database, whose collections already hold
//! the legacy documents under the same `_id`s (ObjectId-hex ids are ObjectIds, as there).
//!
//! Every write is an upsert by `_id` that sets the fields of this layout and leaves every other
//! field alone (`readBy`, `unreadCount`, `senderId`, `chatRoomId`, …), so that the Node server
//! can still read its documents after a rollback; a conversation's `isActive` is written only
//! when the document is new, or a rollback would bring back the conversations the Node server
//! had soft-deleted. What the layout has and the legacy documents lack tells stored from not
//! yet stored: a message is stored once it has a `seq`, a conversation once it has an
//! `identityKey`, a notification once it reads back through this layout.
//!
//! `save` checks for taken message ids, taken seqs and a held identity key itself, before it
//! writes, and says which was taken; the partial unique indexes (created at connect) are the
//! backstop against a writer that slips in between. The
//! writes of a batch go in one `update` command (many statements, in order) rather than one
//! round trip per document. Where the deployment runs transactions, `save` runs in one;
//! without, the messages are written before the conversation, so that an interrupted save
//! never leaves a conversation whose last seq is above its stored messages (the next run
//! finds the messages stored, and the conversation is written again).

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use mongodb::bson::{Bson, Document, RawDocumentBuf, doc};
use mongodb::error::UNKNOWN_TRANSACTION_COMMIT_RESULT;
use mongodb::{Client, ClientSession, Collection, Database};
use serde::Serialize;

use super::documents::{ConversationDoc, MessageDoc, NotificationDoc};
use super::errors::store_error;
use super::values::{corrupt, date, id_from_bson, id_to_bson, ids_to_bson, parse_id};
use super::{Collections, Connected, MongoSettings, collect, indexes, names};
use crate::adapters::outbound::stored::{seq_from_db, seq_to_db};
use crate::domain::{
    Conversation, ConversationId, Message, MessageId, Notification, Seq, UserProfile,
};
use crate::ports::import::check_batch;
use crate::ports::{ImportSink, StoreError};

/// MongoDB's code for a unique index violation (a taken `_id`).
const DUPLICATE_KEY: i32 = 11000;

/// Statements per `update` command at most, and their encoded size: a command is one BSON
/// document, which MongoDB takes up to 16 MiB.
const MAX_STATEMENTS: usize = 1000;
const MAX_COMMAND_BYTES: usize = 8 * 1024 * 1024;

/// Writes an import into a MongoDB database, in place.
pub struct MongoImportSink {
    db: Database,
    collections: Collections,
    /// Set when the deployment runs transactions: `save` then runs in one.
    transactions: Option<Client>,
}

impl MongoImportSink {
    /// Connects and checks that the server answers within `settings.timeout`, as
    /// `MongoStores::connect` does, and creates the store's indexes: the unique ones cover
    /// only documents with the field they guard (`identityKey`, `seq`), so a legacy
    /// database's documents, and those a Node server still writes during the import, are
    /// outside them; the (conversation, seq) one serves the import's lookups.
    ///
    /// # Errors
    /// `Unavailable` when the URI is invalid, the server does not answer in time, or an index
    /// cannot be created.
    pub async fn connect(settings: &MongoSettings) -> Result<Self, StoreError> {
        let Connected {
            client,
            db,
            transactions,
            ..
        } = Connected::open(settings).await?;
        indexes::ensure(&db).await?;
        Ok(Self {
            collections: Collections::of(&db),
            db,
            transactions: transactions.then_some(client),
        })
    }

    fn raw(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    /// Runs `update` commands of `statements` on `collection`, in order, as few as fit.
    async fn update(
        &self,
        session: &mut Option<ClientSession>,
        collection: &str,
        statements: Vec<Document>,
    ) -> Result<(), StoreError> {
        for command in commands(collection, statements)? {
            let reply = match session.as_mut() {
                Some(session) => self.db.run_command(command).session(session).await,
                None => self.db.run_command(command).await,
            }
            .map_err(store_error)?;
            check_write_reply(collection, &reply)?;
        }
        Ok(())
    }

    /// The checks and writes of `save`, in `session`'s transaction when there is one.
    async fn save_in(
        &self,
        session: &mut Option<ClientSession>,
        conversation: &Conversation,
        messages: &[Message],
    ) -> Result<(), StoreError> {
        let id = id_to_bson(conversation.id.as_str());
        let key = conversation.key();
        let conversations = self.raw(names::CONVERSATIONS);
        let holder = find_one(
            session,
            &conversations,
            doc! { "identityKey": &key, "_id": { "$ne": &id } },
        )
        .await?;
        if let Some(holder) = holder {
            return Err(StoreError::Conflict(format!(
                "conversation {} holds the identity key of {}",
                id_of(&holder)?,
                conversation.id
            )));
        }
        if !messages.is_empty() {
            self.check_messages_free(session, &conversation.id, messages)
                .await?;
            let statements = messages
                .iter()
                .map(message_statement)
                .collect::<Result<Vec<_>, _>>()?;
            self.update(session, names::MESSAGES, statements).await?;
        }
        self.update(
            session,
            names::CONVERSATIONS,
            vec![conversation_statement(conversation)?],
        )
        .await
    }

    /// `Conflict` when one of the messages' ids is stored (has a `seq`; a legacy document
    /// without one is what gets upgraded) or one of their seqs is taken in the conversation.
    async fn check_messages_free(
        &self,
        session: &mut Option<ClientSession>,
        conversation: &ConversationId,
        messages: &[Message],
    ) -> Result<(), StoreError> {
        let collection = self.raw(names::MESSAGES);
        let ids = ids_to_bson(messages.iter().map(|m| m.id.as_str()));
        let stored = find_one(
            session,
            &collection,
            doc! { "_id": { "$in": ids }, "seq": { "$exists": true } },
        )
        .await?;
        if let Some(stored) = stored {
            return Err(StoreError::Conflict(format!(
                "message id {} is taken",
                id_of(&stored)?
            )));
        }
        let seqs: Vec<i64> = messages.iter().map(|m| seq_to_db(m.seq)).collect();
        let taken = find_one(
            session,
            &collection,
            doc! {
                "conversationId": id_to_bson(conversation.as_str()),
                "seq": { "$in": seqs },
            },
        )
        .await?;
        if let Some(taken) = taken {
            return Err(StoreError::Conflict(format!(
                "seq {} of conversation {conversation} is taken",
                seq_of(&taken)?
            )));
        }
        Ok(())
    }
}

/// Finds one document, in the session's transaction when there is one.
async fn find_one(
    session: &mut Option<ClientSession>,
    collection: &Collection<Document>,
    filter: Document,
) -> Result<Option<Document>, StoreError> {
    match session.as_mut() {
        Some(session) => collection.find_one(filter).session(session).await,
        None => collection.find_one(filter).await,
    }
    .map_err(store_error)
}

/// A layout document's fields, without `_id`.
fn fields_of(document: &impl Serialize) -> Result<Document, StoreError> {
    let mut fields =
        mongodb::bson::to_document(document).map_err(|e| corrupt("encoding a document", e))?;
    fields.remove("_id");
    Ok(fields)
}

/// The update that makes a document hold `fields` and none of the layout's `optional` fields
/// that `fields` lacks (so that it reads back as the value written), leaving every other
/// field alone.
fn set_layout(fields: Document, optional: &[&str]) -> Document {
    let unset: Document = optional
        .iter()
        .filter(|f| !fields.contains_key(**f))
        .map(|f| ((*f).to_owned(), Bson::String(String::new())))
        .collect();
    let mut update = doc! { "$set": fields };
    if !unset.is_empty() {
        update.insert("$unset", unset);
    }
    update
}

/// Stores `m` in its document: a new one, or the legacy one with the same `_id`. The filter
/// matches only a document without `seq`, so that one stored meanwhile fails the upsert with
/// a duplicate `_id` instead of being overwritten.
fn message_statement(m: &Message) -> Result<Document, StoreError> {
    let fields = fields_of(&MessageDoc::from_domain(m))?;
    Ok(doc! {
        "q": { "_id": id_to_bson(m.id.as_str()), "seq": { "$exists": false } },
        "u": set_layout(fields, &["callInfo", "editedAt", "clientKey"]),
        "upsert": true,
    })
}

/// Creates or rewrites the conversation's layout fields; `isActive` only on a new document.
fn conversation_statement(c: &Conversation) -> Result<Document, StoreError> {
    let mut fields = fields_of(&ConversationDoc::from_domain(c))?;
    fields.remove("isActive");
    let mut update = set_layout(fields, &["lastMessage"]);
    update.insert("$setOnInsert", doc! { "isActive": true });
    Ok(doc! {
        "q": { "_id": id_to_bson(c.id.as_str()) },
        "u": update,
        "upsert": true,
    })
}

/// `update` commands holding `statements` in order, each within the statement and size caps.
fn commands(collection: &str, statements: Vec<Document>) -> Result<Vec<Document>, StoreError> {
    let mut commands = Vec::new();
    let mut batch: Vec<Bson> = Vec::new();
    let mut bytes = 0;
    for statement in statements {
        let size = RawDocumentBuf::from_document(&statement)
            .map_err(|e| corrupt("encoding an update", e))?
            .as_bytes()
            .len();
        if !batch.is_empty() && (batch.len() >= MAX_STATEMENTS || bytes + size > MAX_COMMAND_BYTES)
        {
            commands.push(update_command(collection, std::mem::take(&mut batch)));
            bytes = 0;
        }
        bytes += size;
        batch.push(Bson::Document(statement));
    }
    if !batch.is_empty() {
        commands.push(update_command(collection, batch));
    }
    Ok(commands)
}

fn update_command(collection: &str, updates: Vec<Bson>) -> Document {
    doc! { "update": collection, "updates": updates, "ordered": true }
}

/// The command succeeded, but its statements may not have: a duplicate key is `Conflict`,
/// any other write error `Unavailable`.
fn check_write_reply(collection: &str, reply: &Document) -> Result<(), StoreError> {
    if let Some(Bson::Document(error)) = reply
        .get_array("writeErrors")
        .ok()
        .and_then(|errors| errors.first())
    {
        let code = match error.get("code") {
            Some(Bson::Int32(code)) => i64::from(*code),
            Some(Bson::Int64(code)) => *code,
            _ => 0,
        };
        let message = error.get_str("errmsg").unwrap_or("write error");
        let detail = format!("writing {collection}: {message}");
        return Err(if code == i64::from(DUPLICATE_KEY) {
            StoreError::Conflict(detail)
        } else {
            StoreError::Unavailable(detail)
        });
    }
    if let Ok(error) = reply.get_document("writeConcernError") {
        return Err(StoreError::Unavailable(format!(
            "writing {collection}: write concern failed: {error}"
        )));
    }
    Ok(())
}

/// A stored seq as the layout writes it (a 64-bit integer), or as another writer may have.
fn seq_of(document: &Document) -> Result<Seq, StoreError> {
    match document.get("seq") {
        Some(Bson::Int64(seq)) => seq_from_db(*seq),
        Some(Bson::Int32(seq)) => seq_from_db(i64::from(*seq)),
        other => Err(corrupt("message seq", format!("{other:?}"))),
    }
}

/// Whether a notification document is this store's: it reads back through the layout (a
/// Node server's document that has every field the layout needs, such as KAAJ KAAM's, is).
fn is_stored_notification(document: &Document) -> bool {
    mongodb::bson::from_document::<NotificationDoc>(document.clone())
        .ok()
        .is_some_and(|d| d.into_domain().is_ok())
}

/// A document's `_id` as the domain's string.
fn id_of(document: &Document) -> Result<String, StoreError> {
    id_from_bson(
        document
            .get("_id")
            .ok_or_else(|| corrupt("a document without _id", ""))?,
    )
}

/// Whether a profile field is missing from a stored user document (absent or null).
fn lacks(document: &Document, field: &str) -> bool {
    matches!(document.get(field), None | Some(Bson::Null))
}

async fn commit(session: &mut ClientSession) -> Result<(), StoreError> {
    loop {
        match session.commit_transaction().await {
            Err(e) if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) => continue,
            done => return done.map_err(store_error),
        }
    }
}

#[async_trait]
impl ImportSink for MongoImportSink {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        // A legacy document has no identity key: not stored yet.
        self.collections
            .conversations
            .find_one(doc! { "_id": id_to_bson(id.as_str()), "identityKey": { "$exists": true } })
            .await
            .map_err(store_error)?
            .map(ConversationDoc::into_domain)
            .transpose()
    }

    async fn conversation_with_key(&self, key: &str) -> Result<Option<ConversationId>, StoreError> {
        let found = self
            .raw(names::CONVERSATIONS)
            .find_one(doc! { "identityKey": key })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(store_error)?;
        found
            .map(|d| {
                let id = d
                    .get("_id")
                    .ok_or_else(|| corrupt("conversation without _id", key))?;
                parse_id!(ConversationId, id)
            })
            .transpose()
    }

    async fn max_seq(&self, conversation: &ConversationId) -> Result<Seq, StoreError> {
        let newest = self
            .raw(names::MESSAGES)
            .find_one(doc! {
                "conversationId": id_to_bson(conversation.as_str()),
                "seq": { "$exists": true },
            })
            .sort(doc! { "seq": -1 })
            .projection(doc! { "seq": 1 })
            .await
            .map_err(store_error)?;
        newest.map_or(Ok(Seq::ZERO), |d| seq_of(&d))
    }

    async fn stored_seqs(
        &self,
        conversation: &ConversationId,
        ids: &[MessageId],
    ) -> Result<Vec<(MessageId, Seq)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let docs: Vec<Document> = collect(
            self.raw(names::MESSAGES)
                .find(doc! {
                    "_id": { "$in": ids_to_bson(ids.iter().map(MessageId::as_str)) },
                    "conversationId": id_to_bson(conversation.as_str()),
                    "seq": { "$exists": true },
                })
                .projection(doc! { "_id": 1, "seq": 1 })
                .await,
        )
        .await?;
        docs.iter()
            .map(|d| {
                let id = d
                    .get("_id")
                    .ok_or_else(|| corrupt("message without _id", conversation))?;
                Ok((parse_id!(MessageId, id)?, seq_of(d)?))
            })
            .collect()
    }

    async fn save(
        &self,
        conversation: &Conversation,
        messages: &[Message],
    ) -> Result<(), StoreError> {
        check_batch(&conversation.id, messages)?;
        let mut session = match &self.transactions {
            Some(client) => {
                let mut session = client.start_session().await.map_err(store_error)?;
                session.start_transaction().await.map_err(store_error)?;
                Some(session)
            }
            None => None,
        };
        let saved = self.save_in(&mut session, conversation, messages).await;
        match (session, saved) {
            (Some(mut session), Ok(())) => commit(&mut session).await,
            (Some(mut session), Err(e)) => {
                // The server may have ended it already (a write error aborts it).
                if let Err(abort) = session.abort_transaction().await {
                    tracing::debug!(error = %abort, "aborting an import transaction");
                }
                Err(e)
            }
            (None, saved) => saved,
        }
    }

    async fn save_notifications(&self, batch: &[Notification]) -> Result<(u64, u64), StoreError> {
        if batch.is_empty() {
            return Ok((0, 0));
        }
        let collection = self.raw(names::NOTIFICATIONS);
        let existing: Vec<Document> = collect(
            collection
                .find(doc! { "_id": { "$in": ids_to_bson(batch.iter().map(|n| n.id.as_str())) } })
                .await,
        )
        .await?;
        let mut stored: HashMap<String, &Document> = HashMap::with_capacity(existing.len());
        for document in existing.iter().filter(|d| is_stored_notification(d)) {
            stored.insert(id_of(document)?, document);
        }
        let (mut inserted, mut updated) = (0, 0);
        let mut statements = Vec::new();
        let mut seen = HashSet::with_capacity(batch.len());
        for given in batch {
            // A repeated id is the same notification: the first one decides.
            if !seen.insert(given.id.as_str()) {
                continue;
            }
            let id = id_to_bson(given.id.as_str());
            let Some(known) = stored.get(given.id.as_str()) else {
                // New, or a Node server's document without this layout's fields: given them.
                let fields = fields_of(&NotificationDoc::from_domain(given))?;
                statements.push(doc! {
                    "q": { "_id": id },
                    "u": set_layout(fields, &["title", "referenceId", "readAt", "deliveredAt"]),
                    "upsert": true,
                });
                inserted += 1;
                continue;
            };
            // Marks only move forward: each is set only where the stored one has none (the
            // filter says so again, in case the server set it meanwhile).
            let mut moved = false;
            if let (true, Some(at)) = (lacks(known, "readAt"), given.read_at) {
                statements.push(doc! {
                    "q": { "_id": &id, "readAt": Bson::Null },
                    "u": { "$set": { "isRead": true, "readAt": date(at) } },
                });
                moved = true;
            }
            if let (true, Some(at)) = (lacks(known, "deliveredAt"), given.delivered_at) {
                statements.push(doc! {
                    "q": { "_id": &id, "deliveredAt": Bson::Null },
                    "u": { "$set": { "delivered": true, "deliveredAt": date(at) } },
                });
                moved = true;
            }
            if moved {
                updated += 1;
            }
        }
        self.update(&mut None, names::NOTIFICATIONS, statements)
            .await?;
        Ok((inserted, updated))
    }

    async fn save_users(&self, batch: &[UserProfile]) -> Result<u64, StoreError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let existing: Vec<Document> = collect(
            self.raw(names::USERS)
                .find(doc! { "_id": { "$in": ids_to_bson(batch.iter().map(|p| p.id.as_str())) } })
                .await,
        )
        .await?;
        let mut known: HashMap<String, Document> = HashMap::with_capacity(existing.len());
        for document in existing {
            known.insert(id_of(&document)?, document);
        }
        let mut changed = 0;
        let mut statements = Vec::new();
        for given in batch {
            let id = id_to_bson(given.id.as_str());
            let fields = [
                ("name", given.name.clone().map(Bson::String)),
                ("email", given.email.clone().map(Bson::String)),
                ("avatar", given.avatar.clone().map(Bson::String)),
                (
                    "role",
                    given
                        .role
                        .as_ref()
                        .map(|r| Bson::String(r.as_str().to_owned())),
                ),
                (
                    "lastActive",
                    given.last_active.map(|at| Bson::DateTime(date(at))),
                ),
            ];
            let stored = known.get(given.id.as_str());
            // What the server learned since is kept: only missing fields are filled.
            let set: Document = fields
                .into_iter()
                .filter_map(|(field, value)| Some((field.to_owned(), value?)))
                .filter(|(field, _)| stored.is_none_or(|d| lacks(d, field)))
                .collect();
            let update = match stored {
                Some(_) if set.is_empty() => continue,
                Some(_) => doc! { "$set": &set },
                // Only if it is still missing: a document created meanwhile is kept as it is.
                None => {
                    let mut insert = set.clone();
                    insert.insert("_id", &id);
                    doc! { "$setOnInsert": insert }
                }
            };
            statements.push(doc! { "q": { "_id": id }, "u": update, "upsert": true });
            // A repeated id sees what its first occurrence filled.
            known
                .entry(given.id.as_str().to_owned())
                .or_default()
                .extend(set);
            changed += 1;
        }
        self.update(&mut None, names::USERS, statements).await?;
        Ok(changed)
    }
}
