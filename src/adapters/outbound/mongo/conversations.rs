//! `MongoConversationStore`: conversations with their participants' marks embedded, in the
//! `conversations` collection. Every operation is one document write or one query, atomic on
//! its own; marks move with conditional updates, so they only ever move up.

use async_trait::async_trait;
use mongodb::bson::{Bson, DateTime, Document, doc};

use super::documents::ConversationDoc;
use super::errors::{is_duplicate_key, store_error};
use super::values::{corrupt, date, id_to_bson, parse_id, skip_of};
use super::{Collections, collect};
use crate::adapters::outbound::stored::seq_to_db;
use crate::domain::{Conversation, ConversationId, MarkKind, ReadMark, Seq, UserId};
use crate::ports::{ConversationStore, Page, StoreError};

pub struct MongoConversationStore {
    collections: Collections,
}

impl MongoConversationStore {
    pub(super) fn new(collections: Collections) -> Self {
        Self { collections }
    }

    async fn find_one(&self, filter: Document) -> Result<Option<Conversation>, StoreError> {
        self.collections
            .conversations
            .find_one(filter)
            .await
            .map_err(store_error)?
            .map(ConversationDoc::into_domain)
            .transpose()
    }

    async fn has_participant(
        &self,
        id: &ConversationId,
        user: &UserId,
    ) -> Result<bool, StoreError> {
        let found = self
            .collections
            .conversations
            .count_documents(
                doc! { "_id": id_to_bson(id.as_str()), "participants": id_to_bson(user.as_str()) },
            )
            .limit(1)
            .await
            .map_err(store_error)?;
        Ok(found > 0)
    }
}

/// The update that moves `user`'s marks up to `up_to`, never down, as
/// `Conversation::apply_mark` does (reading also delivers): the `$elemMatch` condition that
/// selects the conversation only when a mark would move, the `$set`, and its array filters.
/// Each `*At` is set before its `*Seq`: SecantusDB (the test server) re-checks array filters
/// after every field it sets, and would skip the time once the seq had moved.
pub(super) fn marks_update(
    user: &Bson,
    up_to: i64,
    at: DateTime,
    kind: MarkKind,
) -> (Document, Document, Vec<Document>) {
    let delivered_filter = doc! { "d.userId": user, "d.deliveredSeq": { "$lt": up_to } };
    match kind {
        MarkKind::Read => (
            doc! { "userId": user, "$or": [
                { "readSeq": { "$lt": up_to } },
                { "deliveredSeq": { "$lt": up_to } },
            ] },
            doc! {
                "watermarks.$[r].readAt": at,
                "watermarks.$[r].readSeq": up_to,
                "watermarks.$[d].deliveredAt": at,
                "watermarks.$[d].deliveredSeq": up_to,
            },
            vec![
                doc! { "r.userId": user, "r.readSeq": { "$lt": up_to } },
                delivered_filter,
            ],
        ),
        MarkKind::Delivered => (
            doc! { "userId": user, "deliveredSeq": { "$lt": up_to } },
            doc! {
                "watermarks.$[d].deliveredAt": at,
                "watermarks.$[d].deliveredSeq": up_to,
            },
            vec![delivered_filter],
        ),
    }
}

fn not_a_participant(id: &ConversationId, user: &UserId) -> StoreError {
    StoreError::NotFound(format!("conversation {id} with participant {user}"))
}

#[async_trait]
impl ConversationStore for MongoConversationStore {
    async fn get_or_create(
        &self,
        candidate: &Conversation,
    ) -> Result<(Conversation, bool), StoreError> {
        let document = ConversationDoc::from_domain(candidate);
        match self.collections.conversations.insert_one(&document).await {
            Ok(_) => return Ok((candidate.clone(), true)),
            Err(e) if is_duplicate_key(&e) => {}
            Err(e) => return Err(store_error(e)),
        }
        // Either the key exists (someone created it first: theirs is the answer) or the id
        // is taken by a conversation with another key.
        let key = document.identity_key;
        match self.find_one(doc! { "identityKey": &key }).await? {
            Some(existing) => Ok((existing, false)),
            None => Err(StoreError::Conflict(format!(
                "conversation id {} is taken by another conversation",
                candidate.id
            ))),
        }
    }

    async fn get(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        self.find_one(doc! { "_id": id_to_bson(id.as_str()) }).await
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        page: Page,
    ) -> Result<Vec<Conversation>, StoreError> {
        let me = id_to_bson(user.as_str());
        // Ties on activity break by id for stable paging.
        let docs = collect(
            self.collections
                .conversations
                .find(doc! {
                    "participants": &me,
                    "watermarks": { "$elemMatch": { "userId": &me, "hidden": false } },
                })
                .sort(doc! { "updatedAt": -1, "_id": -1 })
                .skip(skip_of(page))
                .limit(i64::from(page.limit))
                .await,
        )
        .await?;
        docs.into_iter().map(ConversationDoc::into_domain).collect()
    }

    async fn hide_for(
        &self,
        id: &ConversationId,
        user: &UserId,
        through: Seq,
    ) -> Result<(), StoreError> {
        let me = id_to_bson(user.as_str());
        let through = seq_to_db(through);
        // Hidden now only if no message after `through` exists yet; a message that arrives
        // later clears the flag (see `messages.rs`). Each update is atomic on the document,
        // so a concurrent append cannot slip between the test and the write.
        for hidden_now in [true, false] {
            let mut filter = doc! { "_id": id_to_bson(id.as_str()), "watermarks.userId": &me };
            if hidden_now {
                filter.insert("lastSeq", doc! { "$lte": through });
            }
            let matched = self
                .collections
                .conversations
                .update_one(
                    filter,
                    doc! { "$set": {
                        "watermarks.$.hiddenThroughSeq": through,
                        "watermarks.$.hidden": hidden_now,
                    } },
                )
                .await
                .map_err(store_error)?
                .matched_count;
            if matched > 0 {
                return Ok(());
            }
        }
        Err(not_a_participant(id, user))
    }

    async fn save_mark(&self, mark: &ReadMark, kind: MarkKind) -> Result<bool, StoreError> {
        let me = id_to_bson(mark.user_id.as_str());
        let (element, set, filters) = marks_update(&me, seq_to_db(mark.up_to), date(mark.at), kind);
        let moved = self
            .collections
            .conversations
            .update_one(
                doc! {
                    "_id": id_to_bson(mark.conversation_id.as_str()),
                    "watermarks": { "$elemMatch": element },
                },
                doc! { "$set": set },
            )
            .array_filters(filters)
            .await
            .map_err(store_error)?
            .matched_count
            > 0;
        if !moved
            && !self
                .has_participant(&mark.conversation_id, &mark.user_id)
                .await?
        {
            return Err(not_a_participant(&mark.conversation_id, &mark.user_id));
        }
        Ok(moved)
    }

    async fn total_unread(&self, user: &UserId) -> Result<u64, StoreError> {
        let me = id_to_bson(user.as_str());
        // Mirrors `Conversation::unread_for`: last seq minus the read mark, never negative.
        let pipeline = [
            doc! { "$match": { "participants": &me } },
            doc! { "$unwind": "$watermarks" },
            doc! { "$match": { "watermarks.userId": &me } },
            doc! { "$group": {
                "_id": Bson::Null,
                "unread": { "$sum": { "$max": [0, { "$subtract": ["$lastSeq", "$watermarks.readSeq"] }] } },
            } },
        ];
        let mut cursor = self
            .collections
            .conversations
            .aggregate(pipeline)
            .await
            .map_err(store_error)?;
        if !cursor.advance().await.map_err(store_error)? {
            return Ok(0);
        }
        let total = cursor.deserialize_current().map_err(store_error)?;
        let unread = match total.get("unread") {
            Some(Bson::Int32(n)) => i64::from(*n),
            Some(Bson::Int64(n)) => *n,
            other => return Err(corrupt("unread total", format!("{other:?}"))),
        };
        u64::try_from(unread).map_err(|_| corrupt("negative unread total", unread))
    }

    async fn contacts_of(&self, user: &UserId) -> Result<Vec<UserId>, StoreError> {
        let me = id_to_bson(user.as_str());
        let everyone = self
            .collections
            .conversations
            .distinct("participants", doc! { "participants": &me })
            .await
            .map_err(store_error)?;
        let mut contacts = everyone
            .into_iter()
            .filter(|id| id != &me)
            .map(|id| parse_id!(UserId, id))
            .collect::<Result<Vec<_>, _>>()?;
        contacts.sort();
        contacts.dedup();
        Ok(contacts)
    }
}
