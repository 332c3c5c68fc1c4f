//! The legacy database generator (`support::legacy_fixtures`) itself: each family's plan,
//! written to a throwaway database, has the collections or tables, field names and BSON or
//! SQL types of docs/LEGACY_SHAPES.md and its manifest's counts, and its data agrees with
//! the manifest when read back the way an importer reads it (messages sorted by creation
//! time, then id; read points from the marks; the planted disagreements; unread counts;
//! notification counts), also after `add_more`. An import test can then trust the manifest.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::legacy_fixtures::{Disagreement, Family, Manifest, Plan};

fn small_plan(family: Family, seed: u64) -> Plan {
    Plan {
        family,
        conversations: 14,
        max_messages: 24,
        users: 12,
        notifications_per_user: 4,
        seed,
        keep_details: true,
    }
}

/// A message as read back, before the import's interpretation.
struct RawMessage {
    id: String,
    conversation: String,
    sender: String,
    created_ms: i64,
    /// kaajkaam: the users in `readBy`.
    read_by: Vec<String>,
    /// The flag families' `isRead`.
    is_read: Option<bool>,
    /// calmora's and marketplace's `delivered`.
    delivered: Option<bool>,
}

struct RawConversation {
    id: String,
    participants: Vec<String>,
    /// kaajkaam's `unreadCount`.
    unread_count: Option<BTreeMap<String, u64>>,
    active: bool,
}

struct RawNotification {
    user: String,
    read: bool,
    delivered: Option<bool>,
}

struct Raw {
    users: u64,
    conversations: Vec<RawConversation>,
    /// In the database's natural order (insertion order).
    messages: Vec<RawMessage>,
    notifications: Vec<RawNotification>,
}

/// Reads `raw` as an importer would and compares it with every fact of `manifest`.
fn agrees(manifest: &Manifest, raw: &Raw) {
    let family = manifest.family;
    assert_eq!(raw.users, manifest.totals.users, "users");
    assert_eq!(
        raw.conversations.len() as u64,
        manifest.totals.conversations,
        "conversations"
    );
    assert_eq!(
        raw.messages.len() as u64,
        manifest.totals.messages,
        "messages"
    );
    assert_eq!(
        raw.notifications.len() as u64,
        manifest.totals.notifications,
        "notifications"
    );
    assert_eq!(
        manifest.conversations.len(),
        raw.conversations.len(),
        "details"
    );

    let mut by_conversation: BTreeMap<&str, Vec<&RawMessage>> = BTreeMap::new();
    for m in &raw.messages {
        by_conversation.entry(&m.conversation).or_default().push(m);
    }
    let mut shuffled = false;
    let mut ties = 0;
    let mut disagreements = BTreeSet::new();
    let mut mismatches = BTreeSet::new();
    let mut inactive = Vec::new();
    for conversation in &raw.conversations {
        let facts = manifest
            .conversation(&conversation.id)
            .unwrap_or_else(|| panic!("conversation {} is not in the manifest", conversation.id));
        assert_eq!(
            conversation.participants,
            facts.participant_ids(),
            "participants"
        );
        let mut messages = by_conversation
            .remove(conversation.id.as_str())
            .unwrap_or_default();
        let natural: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        messages.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        let ordered: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        shuffled |= natural != ordered;
        assert_eq!(
            ordered,
            facts.message_ids(),
            "{}: creation order",
            conversation.id
        );
        ties += messages
            .windows(2)
            .filter(|w| w[0].created_ms == w[1].created_ms)
            .count() as u64;
        assert!(
            messages
                .first()
                .is_none_or(|m| m.created_ms > facts.created_at_ms),
            "a conversation is created before its first message"
        );
        let n = messages.len();
        for (j, participant) in facts.participants.iter().enumerate() {
            let user = participant.user.as_str();
            assert_eq!(user, conversation.participants[j]);
            let position = |p: &dyn Fn(&RawMessage) -> bool| {
                messages.iter().rposition(|m| p(m)).map_or(0, |i| i + 1)
            };
            let marked = |m: &RawMessage| match family {
                Family::Kaajkaam => m.read_by.iter().any(|r| r == user),
                _ => m.sender != user && m.is_read == Some(true),
            };
            let last_sent = position(&|m: &RawMessage| m.sender == user);
            let newest_read = position(&marked);
            let read_upto = if family.keeps_reads() {
                newest_read.max(last_sent)
            } else {
                n
            };
            assert_eq!(
                participant.read_upto, read_upto,
                "{}: read point of {user}",
                conversation.id
            );
            assert_eq!(participant.expected_unread, n - read_upto);
            if family.keeps_reads() {
                for m in &messages[..newest_read.saturating_sub(1)] {
                    if m.sender != user && !marked(m) {
                        disagreements.insert(Disagreement {
                            conversation: conversation.id.clone(),
                            message: m.id.clone(),
                            user: user.to_owned(),
                        });
                    }
                }
            }
            if family.message_delivered_flag() {
                let delivered =
                    position(&|m: &RawMessage| m.sender != user && m.delivered == Some(true));
                assert_eq!(
                    participant.delivered_upto,
                    Some(delivered.max(last_sent)),
                    "{}: delivered point of {user}",
                    conversation.id
                );
                assert!(delivered.max(last_sent) >= read_upto);
            } else {
                assert_eq!(participant.delivered_upto, None);
            }
            if let Some(counts) = &conversation.unread_count {
                let stored = counts[user];
                assert_eq!(participant.legacy_unread, Some(stored));
                if stored != (n - read_upto) as u64 {
                    mismatches.insert(conversation.id.clone());
                }
            }
        }
        if !conversation.active {
            inactive.push(conversation.id.clone());
        }
    }
    assert!(by_conversation.is_empty(), "messages of no conversation");
    assert!(shuffled, "messages are inserted out of creation order");
    assert_eq!(ties, manifest.features.ties, "ties");
    assert!(ties > 0, "some messages share a millisecond");
    let planted: BTreeSet<Disagreement> = manifest.disagreements.iter().cloned().collect();
    assert_eq!(disagreements, planted, "disagreements");
    let empty = manifest
        .conversations
        .iter()
        .filter(|c| c.messages.is_empty())
        .count();
    // A later round gives the first empty conversation its first messages.
    assert!(
        empty > 0 || manifest.rounds > 0,
        "some conversation has no message"
    );
    assert_eq!(empty as u64, manifest.features.empty_conversations);
    match family {
        Family::Kaajkaam => {
            assert!(!planted.is_empty(), "a disagreement is planted");
            let recorded: BTreeSet<String> =
                manifest.unread_count_mismatches.iter().cloned().collect();
            assert_eq!(mismatches, recorded, "unreadCount mismatches");
            assert!(!recorded.is_empty());
            assert_eq!(inactive, manifest.inactive_conversations);
            assert_eq!(inactive.len(), 1, "one conversation isActive: false");
        }
        Family::Linsta => assert!(planted.is_empty()),
        _ => assert_eq!(planted.len(), 1, "one disagreement is planted"),
    }

    let mut unread: BTreeMap<&str, u64> = BTreeMap::new();
    let mut undelivered: BTreeMap<&str, u64> = BTreeMap::new();
    for n in &raw.notifications {
        *unread.entry(&n.user).or_default() += u64::from(!n.read);
        let counted = family.notification_delivered_flag();
        assert_eq!(n.delivered.is_some(), counted, "a delivered flag");
        *undelivered.entry(&n.user).or_default() += u64::from(n.delivered == Some(false));
    }
    for user in &manifest.users {
        let id = user.id.as_str();
        assert_eq!(
            user.unread_notifications,
            unread.get(id).copied().unwrap_or(0)
        );
        assert_eq!(
            user.undelivered_notifications,
            undelivered.get(id).copied().unwrap_or(0)
        );
    }
    if family.has_notifications() {
        assert!(manifest.users.iter().any(|u| u.unread_notifications > 0));
        assert!(
            manifest
                .users
                .iter()
                .any(|u| (u.unread_notifications as usize) < u.notifications.len())
        );
    }
}

/// What `add_more` must keep: every earlier message, in the same order, before the new ones,
/// which are later than everything written before; more messages and notifications.
fn grew(before: &Manifest, after: &Manifest) {
    assert_eq!(after.rounds, before.rounds + 1);
    assert!(after.totals.messages > before.totals.messages);
    assert_eq!(after.totals.conversations, before.totals.conversations);
    let mut moved = 0;
    for (old, new) in before.conversations.iter().zip(&after.conversations) {
        assert_eq!(old.id, new.id);
        assert_eq!(old.messages[..], new.messages[..old.messages.len()]);
        for m in &new.messages[old.messages.len()..] {
            assert!(m.created_at_ms > before.latest_ms, "new messages are later");
        }
        for (p, q) in old.participants.iter().zip(&new.participants) {
            assert!(
                q.marked_upto >= p.marked_upto,
                "read marks only move forward"
            );
            moved += usize::from(q.read_upto > p.read_upto);
        }
    }
    assert!(moved > 0, "some read points moved");
    assert_eq!(after.disagreements, before.disagreements);
    if after.family.has_notifications() {
        assert!(after.totals.notifications > before.totals.notifications);
    }
}

#[cfg(feature = "mongo")]
mod mongo {
    use std::collections::{BTreeMap, BTreeSet};

    use mongodb::bson::{Bson, Document, doc};

    use super::{Raw, RawConversation, RawMessage, RawNotification, agrees, grew, small_plan};
    use crate::support::legacy_fixtures::{
        Family, Manifest, Plan, Target, add_more, manifest_of, write, write_mongo,
    };
    use crate::support::mongo::{MongoServer, TestMongoDatabase};

    /// A throwaway database on `server` (dropped with the value), or `None` when the server
    /// is unreachable outside CI. The adapter's `open` is not used: it would create this
    /// server's own collections and indexes where the legacy ones go.
    async fn database(server: MongoServer) -> Option<TestMongoDatabase> {
        TestMongoDatabase::empty(server).await
    }

    /// A BSON type, as the shapes name them.
    #[derive(Debug, Clone, Copy)]
    enum T {
        Oid,
        Date,
        Str,
        Bool,
        Int,
        Arr,
        Doc,
        DocOrNull,
    }

    fn has_type(value: &Bson, ty: T) -> bool {
        matches!(
            (ty, value),
            (T::Oid, Bson::ObjectId(_))
                | (T::Date, Bson::DateTime(_))
                | (T::Str, Bson::String(_))
                | (T::Bool, Bson::Boolean(_))
                | (T::Int, Bson::Int32(_))
                | (T::Arr, Bson::Array(_))
                | (T::Doc | T::DocOrNull, Bson::Document(_))
                | (T::DocOrNull, Bson::Null)
        )
    }

    /// `doc` has every `required` field, no field but those and `optional`, each of its type.
    fn shaped(what: &str, doc: &Document, required: &[(&str, T)], optional: &[(&str, T)]) {
        for (key, ty) in required {
            let value = doc
                .get(key)
                .unwrap_or_else(|| panic!("{what}: no {key} in {doc}"));
            assert!(has_type(value, *ty), "{what}.{key}: not {ty:?} in {doc}");
        }
        for (key, value) in doc {
            let ty = required
                .iter()
                .chain(optional)
                .find(|(k, _)| k == key)
                .map(|(_, ty)| *ty)
                .unwrap_or_else(|| panic!("{what}: unexpected field {key} in {doc}"));
            assert!(has_type(value, ty), "{what}.{key}: not {ty:?} in {doc}");
        }
    }

    async fn all(db: &mongodb::Database, collection: &str) -> Vec<Document> {
        let mut cursor = db
            .collection::<Document>(collection)
            .find(doc! {})
            .await
            .unwrap();
        let mut out = Vec::new();
        while cursor.advance().await.unwrap() {
            out.push(cursor.deserialize_current().unwrap());
        }
        out
    }

    fn hex(doc: &Document, key: &str) -> String {
        doc.get_object_id(key)
            .unwrap_or_else(|e| panic!("{key}: {e} in {doc}"))
            .to_hex()
    }

    fn millis(doc: &Document, key: &str) -> i64 {
        doc.get_datetime(key)
            .unwrap_or_else(|e| panic!("{key}: {e} in {doc}"))
            .timestamp_millis()
    }

    fn ids(doc: &Document, key: &str) -> Vec<String> {
        doc.get_array(key)
            .unwrap()
            .iter()
            .map(|v| match v {
                Bson::ObjectId(id) => id.to_hex(),
                other => panic!("{key}: {other} is not an ObjectId"),
            })
            .collect()
    }

    /// Checks every document's shape, and reads the database back; with the number of
    /// messages of each kind.
    async fn read_back(family: Family, db: &mongodb::Database) -> (Raw, BTreeMap<String, u64>) {
        use T::*;
        let (conversations, conversation_ref, sender) = match family {
            Family::Kaajkaam => ("conversations", "conversationId", "sender"),
            Family::Linsta => ("chatrooms", "chatRoomId", "senderId"),
            Family::Calmora => ("chats", "chatId", "senderId"),
            Family::Marketplace => ("chats", "chatId", "sender"),
            Family::Quickclinic => unreachable!(),
        };
        let mut names = db.list_collection_names().await.unwrap();
        names.sort();
        let mut expected = vec![conversations, "messages", "notifications", "users"];
        expected.sort();
        assert_eq!(names, expected, "collections");
        let mongoose = matches!(family, Family::Kaajkaam | Family::Linsta);
        let with_v = |fields: &[(&'static str, T)]| -> Vec<(&'static str, T)> {
            let mut fields = fields.to_vec();
            if mongoose {
                fields.extend([("createdAt", Date), ("updatedAt", Date), ("__v", Int)]);
            }
            fields
        };

        let users = all(db, "users").await;
        let (required, optional): (Vec<_>, Vec<_>) = match family {
            Family::Kaajkaam => (
                with_v(&[
                    ("_id", Oid),
                    ("name", Str),
                    ("email", Str),
                    ("role", Str),
                    ("lastActive", Date),
                ]),
                vec![("avatar", Str)],
            ),
            Family::Linsta => (
                with_v(&[("_id", Oid), ("name", Str), ("email", Str)]),
                vec![],
            ),
            Family::Calmora => (
                vec![("_id", Oid), ("name", Str), ("role", Str)],
                vec![("avatar", Str)],
            ),
            _ => (
                vec![
                    ("_id", Oid),
                    ("name", Str),
                    ("email", Str),
                    ("role", Str),
                    ("isOnline", Bool),
                    ("lastActive", Date),
                ],
                vec![("avatar", Str)],
            ),
        };
        for user in &users {
            shaped("users", user, &required, &optional);
        }

        let mut raw_conversations = Vec::new();
        for c in all(db, conversations).await {
            let (required, optional) = if family == Family::Kaajkaam {
                (
                    with_v(&[
                        ("_id", Oid),
                        ("participants", Arr),
                        ("unreadCount", Doc),
                        ("isActive", Bool),
                    ]),
                    vec![
                        ("orderId", Oid),
                        ("gigId", Oid),
                        ("jobId", Oid),
                        ("lastMessage", Doc),
                    ],
                )
            } else {
                let mut fields = vec![("_id", Oid), ("participants", Arr)];
                if mongoose {
                    fields = with_v(&fields);
                } else {
                    fields.extend([("createdAt", Date), ("updatedAt", Date)]);
                }
                (fields, vec![])
            };
            shaped(conversations, &c, &required, &optional);
            if let Ok(last) = c.get_document("lastMessage") {
                shaped(
                    "lastMessage",
                    last,
                    &[("text", Str), ("sender", Oid), ("timestamp", Date)],
                    &[],
                );
            }
            let unread_count = c.get_document("unreadCount").ok().map(|counts| {
                counts
                    .iter()
                    .map(|(user, n)| match n {
                        Bson::Int32(n) => (user.clone(), *n as u64),
                        other => panic!("unreadCount.{user}: {other}"),
                    })
                    .collect()
            });
            raw_conversations.push(RawConversation {
                id: hex(&c, "_id"),
                participants: ids(&c, "participants"),
                unread_count,
                active: c.get_bool("isActive").unwrap_or(true),
            });
        }
        let participants: BTreeMap<String, Vec<String>> = raw_conversations
            .iter()
            .map(|c| (c.id.clone(), c.participants.clone()))
            .collect();

        let mut messages = Vec::new();
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        for m in all(db, "messages").await {
            let (required, optional): (Vec<_>, Vec<_>) = match family {
                Family::Kaajkaam => (
                    with_v(&[
                        ("_id", Oid),
                        ("conversationId", Oid),
                        ("sender", Oid),
                        ("text", Str),
                        ("messageType", Str),
                        ("attachments", Arr),
                        ("readBy", Arr),
                        ("isEdited", Bool),
                    ]),
                    vec![("callInfo", Doc), ("editedAt", Date)],
                ),
                Family::Linsta => (
                    with_v(&[
                        ("_id", Oid),
                        ("chatRoomId", Oid),
                        ("senderId", Oid),
                        ("text", Str),
                    ]),
                    vec![],
                ),
                Family::Calmora => (
                    vec![
                        ("_id", Oid),
                        ("chatId", Oid),
                        ("senderId", Oid),
                        ("recipientId", Oid),
                        ("message", Str),
                        ("delivered", Bool),
                        ("isRead", Bool),
                        ("createdAt", Date),
                    ],
                    vec![],
                ),
                _ => (
                    vec![
                        ("_id", Oid),
                        ("chatId", Oid),
                        ("sender", Oid),
                        ("content", Str),
                        ("messageType", Str),
                        ("media", Arr),
                        ("delivered", Bool),
                        ("isRead", Bool),
                        ("createdAt", Date),
                    ],
                    vec![],
                ),
            };
            shaped("messages", &m, &required, &optional);
            let conversation = hex(&m, conversation_ref);
            let from = hex(&m, sender);
            if family == Family::Calmora {
                let others: Vec<&String> = participants[&conversation]
                    .iter()
                    .filter(|p| **p != from)
                    .collect();
                assert_eq!(others, [&hex(&m, "recipientId")], "recipientId");
            }
            if let Ok(kind) = m.get_str("messageType") {
                *kinds.entry(kind.to_owned()).or_default() += 1;
            }
            let mut read_by = Vec::new();
            if family == Family::Kaajkaam {
                for entry in m.get_array("readBy").unwrap() {
                    let entry = entry.as_document().expect("readBy entries are documents");
                    shaped(
                        "readBy",
                        entry,
                        &[("userId", Oid), ("readAt", Date), ("_id", Oid)],
                        &[],
                    );
                    assert!(millis(entry, "readAt") >= millis(&m, "createdAt"));
                    read_by.push(hex(entry, "userId"));
                }
                for a in m.get_array("attachments").unwrap() {
                    let a = a.as_document().expect("attachments are documents");
                    shaped(
                        "attachments",
                        a,
                        &[
                            ("url", Str),
                            ("type", Str),
                            ("name", Str),
                            ("size", Int),
                            ("_id", Oid),
                        ],
                        &[],
                    );
                }
                *kinds.entry("attachments".into()).or_default() +=
                    u64::from(!m.get_array("attachments").unwrap().is_empty());
                if let Ok(call) = m.get_document("callInfo") {
                    assert_eq!(m.get_str("messageType").unwrap(), "call");
                    shaped(
                        "callInfo",
                        call,
                        &[("callType", Str), ("duration", Int), ("status", Str)],
                        &[],
                    );
                }
                assert_eq!(
                    m.get_bool("isEdited").unwrap(),
                    m.contains_key("editedAt"),
                    "isEdited with editedAt"
                );
                *kinds.entry("edited".into()).or_default() +=
                    u64::from(m.get_bool("isEdited").unwrap());
            }
            if family == Family::Marketplace {
                let media = m.get_array("media").unwrap();
                for item in media {
                    match item {
                        Bson::String(_) => *kinds.entry("plain".into()).or_default() += 1,
                        Bson::Document(d) => shaped(
                            "media",
                            d,
                            &[("url", Str), ("type", Str), ("name", Str), ("size", Int)],
                            &[],
                        ),
                        other => panic!("media: {other}"),
                    }
                }
                *kinds.entry("attachments".into()).or_default() += u64::from(!media.is_empty());
            }
            messages.push(RawMessage {
                id: hex(&m, "_id"),
                conversation,
                sender: from,
                created_ms: millis(&m, "createdAt"),
                read_by,
                is_read: m.get_bool("isRead").ok(),
                delivered: m.get_bool("delivered").ok(),
            });
        }

        let mut notifications = Vec::new();
        for n in all(db, "notifications").await {
            let (required, optional): (Vec<_>, Vec<_>) = match family {
                Family::Kaajkaam => (
                    with_v(&[
                        ("_id", Oid),
                        ("userId", Oid),
                        ("type", Str),
                        ("title", Str),
                        ("message", Str),
                        ("data", DocOrNull),
                        ("isRead", Bool),
                        ("delivered", Bool),
                    ]),
                    vec![
                        ("referenceId", Oid),
                        ("readAt", Date),
                        ("deliveredAt", Date),
                    ],
                ),
                Family::Linsta => (
                    with_v(&[
                        ("_id", Oid),
                        ("userId", Oid),
                        ("type", Str),
                        ("message", Str),
                        ("isRead", Bool),
                    ]),
                    vec![("referenceId", Oid)],
                ),
                Family::Calmora => (
                    vec![
                        ("_id", Oid),
                        ("userId", Oid),
                        ("type", Str),
                        ("message", Str),
                        ("extra", DocOrNull),
                        ("isRead", Bool),
                        ("createdAt", Date),
                    ],
                    vec![],
                ),
                _ => (
                    vec![
                        ("_id", Oid),
                        ("userId", Oid),
                        ("type", Str),
                        ("title", Str),
                        ("message", Str),
                        ("data", DocOrNull),
                        ("isRead", Bool),
                        ("delivered", Bool),
                        ("createdAt", Date),
                    ],
                    vec![],
                ),
            };
            shaped("notifications", &n, &required, &optional);
            if family == Family::Kaajkaam {
                assert_eq!(n.get_bool("isRead").unwrap(), n.contains_key("readAt"));
                assert_eq!(
                    n.get_bool("delivered").unwrap(),
                    n.contains_key("deliveredAt")
                );
            }
            notifications.push(RawNotification {
                user: hex(&n, "userId"),
                read: n.get_bool("isRead").unwrap(),
                delivered: n.get_bool("delivered").ok(),
            });
        }
        let users_by_id: BTreeSet<String> = users.iter().map(|u| hex(u, "_id")).collect();
        for c in &raw_conversations {
            for p in &c.participants {
                assert!(users_by_id.contains(p), "every participant is a user");
            }
        }
        let raw = Raw {
            users: users.len() as u64,
            conversations: raw_conversations,
            messages,
            notifications,
        };
        (raw, kinds)
    }

    /// The message kinds `read_back` counted (`messageType` values, "attachments", "edited",
    /// "plain" media) agree with the manifest's features.
    fn features_agree(manifest: &Manifest, kinds: &BTreeMap<String, u64>) {
        let count = |key: &str| kinds.get(key).copied().unwrap_or(0);
        let f = &manifest.features;
        match manifest.family {
            Family::Kaajkaam => {
                assert_eq!(count("call"), f.calls);
                assert_eq!(count("system"), f.system_messages);
                assert_eq!(count("attachments"), f.with_attachments);
                assert_eq!(count("edited"), f.edited);
                assert!(f.calls > 0 && f.system_messages > 0);
                assert!(f.with_attachments > 0 && f.edited > 0);
            }
            Family::Marketplace => {
                assert_eq!(count("attachments"), f.with_attachments);
                assert!(f.with_attachments > 0);
                assert!(count("plain") > 0 && f.plain_media > 0);
            }
            _ => {}
        }
    }

    async fn family_writes_its_shape(family: Family, server: MongoServer, seed: u64) {
        let Some(database) = database(server).await else {
            return;
        };
        let plan = small_plan(family, seed);
        let manifest = write_mongo(&plan, &database.uri, &database.name).await;
        let (raw, kinds) = read_back(family, &database.raw().await).await;
        agrees(&manifest, &raw);
        features_agree(&manifest, &kinds);
        assert_eq!(
            manifest_of(&plan),
            manifest,
            "a dry run gives the same manifest"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kaajkaam_database_has_its_shape_and_agrees_with_the_manifest() {
        family_writes_its_shape(Family::Kaajkaam, MongoServer::ReplicaSet, 11).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn linsta_database_has_its_shape_and_agrees_with_the_manifest() {
        family_writes_its_shape(Family::Linsta, MongoServer::Standalone, 12).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calmora_database_has_its_shape_and_agrees_with_the_manifest() {
        family_writes_its_shape(Family::Calmora, MongoServer::ReplicaSet, 13).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn marketplace_database_has_its_shape_and_agrees_with_the_manifest() {
        family_writes_its_shape(Family::Marketplace, MongoServer::Standalone, 14).await;
    }

    async fn a_later_round_agrees(family: Family, server: MongoServer, seed: u64) {
        let Some(database) = database(server).await else {
            return;
        };
        let plan = small_plan(family, seed);
        let target = Target::Mongo {
            uri: &database.uri,
            database: &database.name,
        };
        let before = write(&plan, &target).await;
        let after = add_more(&plan, &before, &target).await;
        grew(&before, &after);
        agrees(&after, &read_back(family, &database.raw().await).await.0);
        let third = add_more(&plan, &after, &target).await;
        grew(&after, &third);
        agrees(&third, &read_back(family, &database.raw().await).await.0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kaajkaam_later_rounds_agree_with_the_manifest() {
        a_later_round_agrees(Family::Kaajkaam, MongoServer::Standalone, 21).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn marketplace_later_rounds_agree_with_the_manifest() {
        a_later_round_agrees(Family::Marketplace, MongoServer::ReplicaSet, 22).await;
    }

    /// The same plan twice gives the same data; another seed other data.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_same_plan_writes_the_same_database() {
        let (Some(first), Some(second)) = (
            database(MongoServer::Standalone).await,
            database(MongoServer::Standalone).await,
        ) else {
            return;
        };
        let plan = Plan {
            conversations: 5,
            ..small_plan(Family::Calmora, 31)
        };
        let a = write_mongo(&plan, &first.uri, &first.name).await;
        let b = write_mongo(&plan, &second.uri, &second.name).await;
        assert_eq!(a, b);
        let sorted = |mut docs: Vec<Document>| {
            docs.sort_by_key(|d| d.get_object_id("_id").unwrap());
            docs
        };
        for collection in ["chats", "messages", "notifications", "users"] {
            assert_eq!(
                sorted(all(&first.raw().await, collection).await),
                sorted(all(&second.raw().await, collection).await),
                "{collection}"
            );
        }
        let other = Plan { seed: 32, ..plan };
        assert_ne!(manifest_of(&other).conversations, a.conversations);
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use chrono::NaiveDateTime;
    use sqlx::{Connection, PgConnection, Row};
    use switchboard::adapters::outbound::postgres::PgStores;

    use super::{Raw, RawConversation, RawMessage, agrees, grew, small_plan};
    use crate::support::legacy_fixtures::{Family, Target, add_more, write_postgres};
    use crate::support::postgres::{TestDatabase, server_url};
    use crate::support::real_servers::unreachable;

    async fn database() -> Option<TestDatabase> {
        match TestDatabase::create("sb_legacy_fx").await {
            Ok(database) => Some(database),
            Err(err) => {
                let server = PgStores::describe(&server_url());
                unreachable(&format!("PostgreSQL at {server}"), err);
                None
            }
        }
    }

    fn millis(at: NaiveDateTime) -> i64 {
        at.and_utc().timestamp_millis()
    }

    /// Prisma's columns: (name, data type, nullable, default).
    async fn columns(conn: &mut PgConnection, table: &str) -> Vec<(String, String, bool, String)> {
        sqlx::query(
            "SELECT column_name::text, \
                    CASE WHEN data_type LIKE 'timestamp%' \
                         THEN data_type || '(' || datetime_precision || ')' ELSE data_type END, \
                    is_nullable = 'YES', coalesce(column_default, '') \
             FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
        .collect()
    }

    fn column(
        name: &str,
        ty: &str,
        nullable: bool,
        default: &str,
    ) -> (String, String, bool, String) {
        (name.into(), ty.into(), nullable, default.into())
    }

    async fn read_back(url: &str) -> Raw {
        let mut conn = PgConnection::connect(url).await.unwrap();
        const TS: &str = "timestamp without time zone(3)";
        const NOW: &str = "CURRENT_TIMESTAMP";
        assert_eq!(
            columns(&mut conn, "User").await,
            [
                column("id", "text", false, ""),
                column("name", "text", true, ""),
                column("email", "text", false, ""),
                column("role", "text", false, "'PATIENT'::text"),
                column("image", "text", true, ""),
                column("createdAt", TS, false, NOW),
                column("updatedAt", TS, false, ""),
            ]
        );
        assert_eq!(
            columns(&mut conn, "DoctorPatientRelation").await,
            [
                column("id", "text", false, ""),
                column("doctorId", "text", false, ""),
                column("patientId", "text", false, ""),
                column("createdAt", TS, false, NOW),
                column("updatedAt", TS, false, ""),
            ]
        );
        assert_eq!(
            columns(&mut conn, "ChatMessages").await,
            [
                column("id", "text", false, ""),
                column("relationId", "text", false, ""),
                column("senderId", "text", false, ""),
                column("text", "text", false, ""),
                column("isRead", "boolean", false, "false"),
                column("readAt", TS, true, ""),
                column("createdAt", TS, false, NOW),
            ]
        );
        let constraints: Vec<String> = sqlx::query_scalar(
            r#"SELECT conname::text FROM pg_constraint WHERE conrelid IN
               ('"User"'::regclass, '"DoctorPatientRelation"'::regclass, '"ChatMessages"'::regclass)
               ORDER BY 1"#,
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            constraints,
            [
                "ChatMessages_pkey",
                "ChatMessages_relationId_fkey",
                "ChatMessages_senderId_fkey",
                "DoctorPatientRelation_doctorId_fkey",
                "DoctorPatientRelation_patientId_fkey",
                "DoctorPatientRelation_pkey",
                "User_pkey",
            ]
        );
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            indexes,
            [
                "ChatMessages_pkey",
                "DoctorPatientRelation_doctorId_patientId_key",
                "DoctorPatientRelation_pkey",
                "User_email_key",
                "User_pkey",
            ]
        );
        let users: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "User""#)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let roles: Vec<String> =
            sqlx::query_scalar(r#"SELECT DISTINCT role FROM "User" ORDER BY role"#)
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert_eq!(roles, ["DOCTOR", "PATIENT"]);
        let wrong_roles: i64 = sqlx::query_scalar(
            r#"SELECT count(*) FROM "DoctorPatientRelation" r
               JOIN "User" d ON d.id = r."doctorId" JOIN "User" p ON p.id = r."patientId"
               WHERE d.role <> 'DOCTOR' OR p.role <> 'PATIENT'"#,
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            wrong_roles, 0,
            "doctorId names a doctor, patientId a patient"
        );
        let conversations = sqlx::query(
            r#"SELECT id, "doctorId", "patientId", "createdAt", "updatedAt" FROM "DoctorPatientRelation""#,
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| RawConversation {
            id: row.get(0),
            participants: vec![row.get(1), row.get(2)],
            unread_count: None,
            active: true,
        })
        .collect();
        // No ORDER BY: the heap's order, which is the insertion order.
        let messages = sqlx::query(
            r#"SELECT id, "relationId", "senderId", "isRead", "readAt", "createdAt" FROM "ChatMessages""#,
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            let read: bool = row.get(3);
            let read_at: Option<NaiveDateTime> = row.get(4);
            assert_eq!(read, read_at.is_some(), "readAt with isRead");
            let created_ms = millis(row.get(5));
            if let Some(at) = read_at {
                assert!(millis(at) >= created_ms, "read after creation");
            }
            RawMessage {
                id: row.get(0),
                conversation: row.get(1),
                sender: row.get(2),
                created_ms,
                read_by: Vec::new(),
                is_read: Some(read),
                delivered: None,
            }
        })
        .collect();
        let texts: Vec<String> = sqlx::query_scalar(r#"SELECT text FROM "ChatMessages""#)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert!(
            texts.iter().any(|t| t.contains('\t') || t.contains('\n')),
            "texts with tabs and newlines survive COPY"
        );
        assert!(texts.iter().any(|t| t.contains('\\')));
        assert!(texts.iter().any(|t| !t.is_ascii()));
        conn.close().await.unwrap();
        Raw {
            users: users as u64,
            conversations,
            messages,
            notifications: Vec::new(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn quickclinic_database_has_its_shape_and_agrees_with_the_manifest() {
        let Some(database) = database().await else {
            return;
        };
        let plan = small_plan(Family::Quickclinic, 15);
        let manifest = write_postgres(&plan, &database.url).await;
        for c in &manifest.conversations {
            assert_eq!(
                c.context,
                [
                    ("doctorId".to_owned(), c.participants[0].user.clone()),
                    ("patientId".to_owned(), c.participants[1].user.clone()),
                ]
            );
        }
        agrees(&manifest, &read_back(&database.url).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn quickclinic_later_rounds_agree_with_the_manifest() {
        let Some(database) = database().await else {
            return;
        };
        let plan = small_plan(Family::Quickclinic, 23);
        let target = Target::Postgres { url: &database.url };
        let before = crate::support::legacy_fixtures::write(&plan, &target).await;
        let after = add_more(&plan, &before, &target).await;
        grew(&before, &after);
        agrees(&after, &read_back(&database.url).await);
    }
}
