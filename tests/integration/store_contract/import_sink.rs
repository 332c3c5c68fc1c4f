//! Contract checks for `ImportSink` (`src/ports/import.rs`), run against every sink: memory,
//! SQLite, PostgreSQL, and MongoDB on both test servers (with and without transactions).
//!
//! Each check gets a sink and the ordinary `Stores` of the same, fresh database, and checks
//! that what the sink wrote reads back through the stores as if the server had written it.
//! On MongoDB the stores are connected after the sink wrote, as the server starts after an
//! import; its own checks (`in_place`) write legacy documents first and check that the sink
//! upgrades them in place. `import_sink_tests!` turns the checks into one `#[tokio::test]` each
//! per sink, as `store_contract_tests!` does for the stores.

use std::any::Any;
use std::sync::Arc;

use switchboard::domain::{
    Attachment, CallInfo, CallOutcome, CallType, ClientKey, Conversation, DataValue, MarkKind,
    Message, MessageBody, MessageId, MessageKind, MessageRules, Notification, ReadMark, Role, Seq,
    UserProfile,
};
use switchboard::ports::{ImportSink, Page, StoreError, Stores};

use super::support::*;

/// One sink, the stores of its database, and what must outlive them.
pub struct SinkFixture {
    pub sink: Arc<dyn ImportSink>,
    stores: StoresOf,
    /// The database itself, for the checks that look at documents (MongoDB only).
    #[cfg(feature = "mongo")]
    raw: Option<mongodb::Database>,
    _keep_alive: Box<dyn Any + Send>,
}

enum StoresOf {
    Ready(Stores),
    /// Connected when asked for: `MongoStores::connect` creates the indexes and refuses a
    /// database with documents that were never imported, so it comes after the sink wrote.
    #[cfg(feature = "mongo")]
    Mongo {
        settings: switchboard::adapters::outbound::mongo::MongoSettings,
        transactions: bool,
    },
}

impl SinkFixture {
    fn new(sink: Arc<dyn ImportSink>, stores: StoresOf, keep_alive: impl Any + Send) -> Self {
        Self {
            sink,
            stores,
            #[cfg(feature = "mongo")]
            raw: None,
            _keep_alive: Box::new(keep_alive),
        }
    }

    /// The ordinary stores on the sink's database.
    pub async fn stores(&self) -> Stores {
        match &self.stores {
            StoresOf::Ready(stores) => stores.clone(),
            #[cfg(feature = "mongo")]
            StoresOf::Mongo {
                settings,
                transactions,
            } => {
                let (stores, info) =
                    switchboard::adapters::outbound::mongo::MongoStores::connect(settings)
                        .await
                        .expect("the MongoDB stores open on what the sink wrote");
                assert_eq!(info.transactions, *transactions, "the test server's kind");
                stores
            }
        }
    }

    #[cfg(feature = "mongo")]
    fn raw(&self) -> &mongodb::Database {
        self.raw.as_ref().expect("a MongoDB fixture")
    }
}

/// `import_sink_tests!(name, factory)` generates the module `name` with one test per check
/// below; `in_place: [...]` adds checks that only that sink runs. `factory` is a future of
/// `Option<SinkFixture>`, `None` when a real server is unreachable outside CI (see
/// `real_servers::unreachable`). It is evaluated once per test, so every test starts empty.
macro_rules! import_sink_tests {
    ($sink:ident, $factory:expr $(, in_place: [$($own:ident),* $(,)?])?) => {
        mod $sink {
            #[allow(unused_imports)]
            use super::*;

            pub(super) async fn fixture() -> ::std::option::Option<SinkFixture> {
                $factory.await
            }

            import_sink_tests!(@tests
                save_then_the_stores_read_it_back,
                a_second_save_continues_the_conversation,
                stored_seqs_and_max_seq_report_what_is_stored,
                a_taken_message_id_or_seq_conflicts_and_writes_nothing,
                an_identity_key_held_by_another_conversation_conflicts,
                participants_and_their_state_are_replaced,
                save_notifications_inserts_then_moves_marks_forward,
                save_users_fills_in_only_what_is_missing
                $($(, $own)*)?
            );
        }
    };
    (@tests $($check:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(fixture) = fixture().await else {
                    return;
                };
                super::$check(&fixture).await;
            }
        )*
    };
}

fn mid(raw: &str) -> MessageId {
    MessageId::parse(raw).unwrap()
}

fn text(raw: &str) -> MessageBody {
    MessageBody::new(
        MessageKind::Text,
        raw,
        vec![],
        None,
        &MessageRules::default(),
    )
    .unwrap()
}

/// A message as the import decides it: id, seq and time given. (Ids here start with `x`:
/// `text_message` takes `m1`, `m2`, … for what the stores append.)
fn message(conversation: &str, id: &str, seq: u64, sender: &str, at: i64) -> Message {
    Message {
        id: mid(id),
        conversation_id: cid(conversation),
        seq: Seq(seq),
        sender: uid(sender),
        body: text(&format!("message {id}")),
        client_key: None,
        created_at: t(at),
        edited_at: None,
    }
}

/// `conversation` as it stands after `messages` (last seq, last message, the senders' marks).
fn after(mut conversation: Conversation, messages: &[Message]) -> Conversation {
    for m in messages {
        conversation.apply_posted(m);
    }
    conversation
}

fn mark(conversation: &mut Conversation, user: &str, up_to: u64, at: i64, kind: MarkKind) {
    let mark = ReadMark {
        conversation_id: conversation.id.clone(),
        user_id: uid(user),
        up_to: Seq(up_to),
        at: t(at),
    };
    conversation.apply_mark(&mark, kind);
}

async fn page(stores: &Stores, conversation: &str) -> Vec<Message> {
    stores
        .messages
        .page(&cid(conversation), Page::new(100, 0))
        .await
        .unwrap()
}

async fn stored_seqs(
    sink: &dyn ImportSink,
    conversation: &str,
    ids: &[&str],
) -> Vec<(String, u64)> {
    let ids: Vec<MessageId> = ids.iter().map(|id| mid(id)).collect();
    let stored = sink.stored_seqs(&cid(conversation), &ids).await.unwrap();
    sorted(
        stored
            .into_iter()
            .map(|(id, seq)| (id.as_str().to_owned(), seq.0))
            .collect(),
    )
}

fn assert_conflict(result: Result<(), StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Conflict(_))),
        "{what}: expected Conflict, got {result:?}"
    );
}

/// `base` is stored as it was, with its two messages and no other.
async fn assert_unchanged(sink: &dyn ImportSink, base: &Conversation, what: &str) {
    assert_eq!(
        sink.conversation(&base.id).await.unwrap().as_ref(),
        Some(base),
        "{what}: the conversation is unchanged"
    );
    assert_eq!(sink.max_seq(&base.id).await.unwrap(), Seq(2), "{what}");
    assert!(
        stored_seqs(sink, base.id.as_str(), &["x3", "x4"])
            .await
            .is_empty(),
        "{what}: no new message is stored"
    );
}

/// Three messages of every kind of content, with the marks they leave.
fn three_messages() -> (Conversation, Vec<Message>) {
    let attachment = Attachment {
        url: "/uploads/k1.png".into(),
        kind: "image".into(),
        name: "photo.png".into(),
        size: 2048,
    };
    let call = CallInfo {
        call_type: CallType::Video,
        duration_secs: 42,
        status: CallOutcome::Completed,
    };
    let messages = vec![
        Message {
            client_key: Some(ClientKey::new("k-1").unwrap()),
            edited_at: Some(t(150)),
            ..message("c1", "x1", 1, "a", 100)
        },
        Message {
            body: MessageBody::new(
                MessageKind::Image,
                "",
                vec![attachment],
                None,
                &MessageRules::default(),
            )
            .unwrap(),
            ..message("c1", "x2", 2, "b", 200)
        },
        Message {
            body: MessageBody::call_record(call),
            ..message("c1", "x3", 3, "a", 300)
        },
    ];
    let mut conversation = after(
        conversation_at("c1", &["a", "b"], &[("orderId", "o1")], t(50)),
        &messages,
    );
    mark(&mut conversation, "b", 3, 310, MarkKind::Delivered);
    (conversation, messages)
}

/// `save` creates the conversation with its messages at their seqs and every mark; the
/// stores read all of it back, and the server's next message gets the next seq.
pub async fn save_then_the_stores_read_it_back(fixture: &SinkFixture) {
    let sink = fixture.sink.as_ref();
    let (conversation, messages) = three_messages();
    sink.save(&conversation, &messages).await.unwrap();

    assert_eq!(
        sink.conversation(&cid("c1")).await.unwrap(),
        Some(conversation.clone())
    );
    assert_eq!(
        sink.conversation_with_key(&conversation.key())
            .await
            .unwrap(),
        Some(cid("c1"))
    );
    assert_eq!(sink.max_seq(&cid("c1")).await.unwrap(), Seq(3));

    let stores = fixture.stores().await;
    assert_eq!(
        stores.conversations.get(&cid("c1")).await.unwrap(),
        Some(conversation.clone())
    );
    assert_eq!(page(&stores, "c1").await, messages);
    assert_eq!(
        stores.messages.after(&cid("c1"), Seq(1), 10).await.unwrap(),
        messages[1..]
    );
    assert_eq!(
        stores.messages.get(&mid("x2")).await.unwrap().as_ref(),
        Some(&messages[1])
    );
    // b read up to 2 (their own message), a up to 3.
    assert_eq!(
        stores.conversations.total_unread(&uid("b")).await.unwrap(),
        1
    );
    assert_eq!(
        stores.conversations.total_unread(&uid("a")).await.unwrap(),
        0
    );
    assert_eq!(
        stores
            .conversations
            .list_for_user(&uid("b"), Page::new(10, 0))
            .await
            .unwrap(),
        [conversation]
    );

    let next = text_message(&cid("c1"), "b", "after the import", t(400));
    let appended = stores.messages.append(&next).await.unwrap();
    assert!(!appended.duplicate);
    assert_eq!(appended.message.seq, Seq(4));
    assert_eq!(
        stores.conversations.total_unread(&uid("a")).await.unwrap(),
        1
    );
    assert_eq!(
        stores
            .conversations
            .get(&cid("c1"))
            .await
            .unwrap()
            .unwrap()
            .last_seq,
        Seq(4)
    );
    assert_eq!(page(&stores, "c1").await.len(), 4);
}

/// A later `save` of the same conversation adds its messages after the stored ones and
/// replaces the conversation; one without messages is stored too.
pub async fn a_second_save_continues_the_conversation(fixture: &SinkFixture) {
    let sink = fixture.sink.as_ref();
    let first = vec![
        message("c1", "x1", 1, "a", 100),
        message("c1", "x2", 2, "b", 200),
    ];
    let before = after(conversation("c1", &["a", "b"]), &first);
    sink.save(&before, &first).await.unwrap();

    let more = vec![
        message("c1", "x3", 3, "b", 300),
        message("c1", "x4", 4, "a", 400),
    ];
    let mut now = after(before, &more);
    mark(&mut now, "b", 4, 450, MarkKind::Read);
    sink.save(&now, &more).await.unwrap();
    assert_eq!(
        sink.conversation(&cid("c1")).await.unwrap(),
        Some(now.clone())
    );
    assert_eq!(sink.max_seq(&cid("c1")).await.unwrap(), Seq(4));

    let quiet = conversation_at("c2", &["a", "c"], &[], t(10));
    sink.save(&quiet, &[]).await.unwrap();
    assert_eq!(
        sink.conversation(&cid("c2")).await.unwrap(),
        Some(quiet.clone())
    );
    assert_eq!(sink.max_seq(&cid("c2")).await.unwrap(), Seq::ZERO);

    let stores = fixture.stores().await;
    assert_eq!(
        stores.conversations.get(&cid("c1")).await.unwrap(),
        Some(now)
    );
    assert_eq!(page(&stores, "c1").await, [first, more].concat());
    assert_eq!(
        stores.conversations.get(&cid("c2")).await.unwrap(),
        Some(quiet)
    );
    assert_eq!(
        stores.conversations.total_unread(&uid("b")).await.unwrap(),
        0
    );
    let appended = stores
        .messages
        .append(&text_message(&cid("c2"), "c", "first", t(500)))
        .await
        .unwrap();
    assert_eq!(appended.message.seq, Seq(1));
}

/// `stored_seqs` reports which of the ids are stored in that conversation, with their seqs;
/// `max_seq` the highest stored seq, zero when none.
pub async fn stored_seqs_and_max_seq_report_what_is_stored(fixture: &SinkFixture) {
    let sink = fixture.sink.as_ref();
    assert_eq!(sink.max_seq(&cid("c1")).await.unwrap(), Seq::ZERO);
    assert!(stored_seqs(sink, "c1", &["x1"]).await.is_empty());
    assert_eq!(sink.conversation(&cid("c1")).await.unwrap(), None);
    assert_eq!(sink.conversation_with_key("nobody").await.unwrap(), None);

    let in_c1 = vec![
        message("c1", "x1", 1, "a", 100),
        message("c1", "x2", 2, "b", 200),
    ];
    sink.save(&after(conversation("c1", &["a", "b"]), &in_c1), &in_c1)
        .await
        .unwrap();
    let in_c2 = vec![message("c2", "x3", 1, "a", 300)];
    sink.save(&after(conversation("c2", &["a", "c"]), &in_c2), &in_c2)
        .await
        .unwrap();

    assert_eq!(
        stored_seqs(sink, "c1", &["x2", "x3", "x9", "x1"]).await,
        [("x1".to_owned(), 1), ("x2".to_owned(), 2)],
        "m3 is in another conversation, m9 nowhere"
    );
    assert_eq!(
        stored_seqs(sink, "c2", &["x3"]).await,
        [("x3".to_owned(), 1)]
    );
    assert!(stored_seqs(sink, "c1", &[]).await.is_empty());
    assert_eq!(sink.max_seq(&cid("c1")).await.unwrap(), Seq(2));
    assert_eq!(sink.max_seq(&cid("c2")).await.unwrap(), Seq(1));
}

/// MUST return `Conflict` and write nothing when a message id or (conversation, seq) is
/// taken.
pub async fn a_taken_message_id_or_seq_conflicts_and_writes_nothing(fixture: &SinkFixture) {
    let sink = fixture.sink.as_ref();
    let stored = vec![
        message("c1", "x1", 1, "a", 100),
        message("c1", "x2", 2, "b", 200),
    ];
    let base = after(conversation("c1", &["a", "b"]), &stored);
    sink.save(&base, &stored).await.unwrap();

    let taken_id = vec![
        message("c1", "x3", 3, "a", 300),
        message("c1", "x1", 4, "a", 400),
    ];
    let result = sink.save(&after(base.clone(), &taken_id), &taken_id).await;
    assert_conflict(result, "a stored message id");
    assert_unchanged(sink, &base, "a stored message id").await;

    let taken_seq = vec![message("c1", "x4", 2, "a", 300)];
    let result = sink
        .save(&after(base.clone(), &taken_seq), &taken_seq)
        .await;
    assert_conflict(result, "a taken seq");
    assert_unchanged(sink, &base, "a taken seq").await;

    let elsewhere = vec![message("c2", "x2", 1, "a", 300)];
    let result = sink
        .save(
            &after(conversation("c2", &["a", "c"]), &elsewhere),
            &elsewhere,
        )
        .await;
    assert_conflict(result, "an id stored in another conversation");
    assert_eq!(sink.conversation(&cid("c2")).await.unwrap(), None);
    assert_unchanged(sink, &base, "an id stored in another conversation").await;

    let stores = fixture.stores().await;
    assert_eq!(page(&stores, "c1").await, stored);
    assert_eq!(stores.conversations.get(&cid("c2")).await.unwrap(), None);
}

/// MUST return `Conflict` and write nothing when another conversation holds the identity key.
pub async fn an_identity_key_held_by_another_conversation_conflicts(fixture: &SinkFixture) {
    let sink = fixture.sink.as_ref();
    let first = conversation_at("c1", &["a", "b"], &[("gigId", "g1")], t(1));
    sink.save(&first, &[]).await.unwrap();

    let same_pair = vec![message("c2", "x1", 1, "b", 100)];
    let twin = after(
        conversation_at("c2", &["b", "a"], &[("gigId", "g1")], t(2)),
        &same_pair,
    );
    assert_eq!(twin.key(), first.key());
    assert_conflict(sink.save(&twin, &same_pair).await, "a held identity key");
    assert_eq!(sink.conversation(&cid("c2")).await.unwrap(), None);
    assert!(stored_seqs(sink, "c2", &["x1"]).await.is_empty());
    assert_eq!(sink.max_seq(&cid("c2")).await.unwrap(), Seq::ZERO);
    assert_eq!(
        sink.conversation_with_key(&first.key()).await.unwrap(),
        Some(cid("c1"))
    );

    // Another context is another conversation.
    let other_gig = conversation_at("c2", &["b", "a"], &[("gigId", "g2")], t(2));
    sink.save(&other_gig, &[]).await.unwrap();
    let stores = fixture.stores().await;
    assert_eq!(
        stores.conversations.get(&cid("c1")).await.unwrap(),
        Some(first)
    );
    assert_eq!(
        stores.conversations.get(&cid("c2")).await.unwrap(),
        Some(other_gig)
    );
}

/// Saving a conversation again replaces its participants (order, marks with their times,
/// hidden state) and with them its identity key.
pub async fn participants_and_their_state_are_replaced(fixture: &SinkFixture) {
    let sink = fixture.sink.as_ref();
    let messages = vec![
        message("c1", "x1", 1, "c", 100),
        message("c1", "x2", 2, "a", 200),
    ];
    let mut three = after(conversation("c1", &["c", "a", "b"]), &messages);
    mark(&mut three, "b", 1, 150, MarkKind::Read);
    sink.save(&three, &messages).await.unwrap();
    assert_eq!(
        sink.conversation(&cid("c1")).await.unwrap(),
        Some(three.clone())
    );

    // c leaves; b deleted the conversation after reading everything.
    let mut two = three.clone();
    two.participants.retain(|p| p.user_id != uid("c"));
    mark(&mut two, "b", 2, 250, MarkKind::Read);
    two.participants[1].hidden_through = Some(Seq(2));
    sink.save(&two, &[]).await.unwrap();

    assert_eq!(
        sink.conversation(&cid("c1")).await.unwrap(),
        Some(two.clone())
    );
    assert_eq!(
        sink.conversation_with_key(&three.key()).await.unwrap(),
        None
    );
    assert_eq!(
        sink.conversation_with_key(&two.key()).await.unwrap(),
        Some(cid("c1"))
    );
    let stores = fixture.stores().await;
    assert_eq!(
        stores.conversations.get(&cid("c1")).await.unwrap(),
        Some(two.clone())
    );
    let listed = |user: &'static str| {
        let stores = stores.clone();
        async move {
            stores
                .conversations
                .list_for_user(&uid(user), Page::new(10, 0))
                .await
                .unwrap()
        }
    };
    assert_eq!(listed("a").await, [two]);
    assert!(listed("b").await.is_empty(), "hidden from b");
    assert!(listed("c").await.is_empty(), "c is no participant");
    assert!(
        stores
            .conversations
            .contacts_of(&uid("c"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// `save_notifications` inserts what is not stored and, for what is, sets the read and
/// delivered times only where the stored one has none; it counts (inserted, updated).
pub async fn save_notifications_inserts_then_moves_marks_forward(fixture: &SinkFixture) {
    let sink = fixture.sink.as_ref();
    let fresh_one = Notification {
        title: Some("A like".into()),
        reference_id: Some("post-1".into()),
        data: DataValue::Map([("postId".to_string(), DataValue::String("post-1".into()))].into()),
        ..notification("n1", "u1", t(10))
    };
    let seen = Notification {
        read_at: Some(t(25)),
        delivered_at: Some(t(20)),
        ..notification("n2", "u1", t(11))
    };
    assert_eq!(
        sink.save_notifications(&[fresh_one.clone(), seen.clone()])
            .await
            .unwrap(),
        (2, 0)
    );

    let later = [
        Notification {
            read_at: Some(t(40)),
            delivered_at: Some(t(30)),
            ..fresh_one.clone()
        },
        Notification {
            read_at: Some(t(99)),
            delivered_at: None,
            ..seen.clone()
        },
        notification("n3", "u1", t(12)),
    ];
    assert_eq!(sink.save_notifications(&later).await.unwrap(), (1, 1));
    assert_eq!(sink.save_notifications(&later).await.unwrap(), (0, 0));
    assert_eq!(sink.save_notifications(&[]).await.unwrap(), (0, 0));

    let stores = fixture.stores().await;
    let get = |id: &'static str| {
        let stores = stores.clone();
        async move { stores.notifications.get(&nid(id)).await.unwrap() }
    };
    assert_eq!(
        get("n1").await,
        Some(later[0].clone()),
        "marks set where there were none"
    );
    assert_eq!(get("n2").await, Some(seen), "stored marks are kept");
    assert_eq!(get("n3").await, Some(later[2].clone()));
    assert_eq!(
        stores.notifications.unread_count(&uid("u1")).await.unwrap(),
        1
    );
    let pending = stores
        .notifications
        .take_pending(&uid("u1"), t(100), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "only n3 was never delivered");
    assert_eq!(pending[0].id, nid("n3"));
}

/// `save_users` creates the profiles that are not stored and fills in only what a stored one
/// lacks; it counts the profiles it changed.
pub async fn save_users_fills_in_only_what_is_missing(fixture: &SinkFixture) {
    let sink = fixture.sink.as_ref();
    let stores = fixture.stores().await;
    let known = UserProfile {
        name: Some("Ann (today)".into()),
        role: Role::new("client"),
        ..UserProfile::bare(uid("u1"))
    };
    stores.users.upsert(&known).await.unwrap();

    let legacy_ann = UserProfile {
        name: Some("Ann (then)".into()),
        email: Some("ann@example.com".into()),
        role: Role::new("provider"),
        last_active: Some(t(500)),
        ..UserProfile::bare(uid("u1"))
    };
    let bob = UserProfile {
        name: Some("Bob".into()),
        avatar: Some("/avatars/bob.png".into()),
        ..UserProfile::bare(uid("u2"))
    };
    let cy = UserProfile::bare(uid("u3"));
    let batch = [legacy_ann, bob.clone(), cy.clone()];
    assert_eq!(sink.save_users(&batch).await.unwrap(), 3);
    assert_eq!(
        sink.save_users(&batch).await.unwrap(),
        0,
        "nothing left to fill"
    );
    assert_eq!(sink.save_users(&[]).await.unwrap(), 0);

    let stores = fixture.stores().await;
    assert_eq!(
        stores.users.get(&uid("u1")).await.unwrap(),
        Some(UserProfile {
            email: Some("ann@example.com".into()),
            last_active: Some(t(500)),
            ..known
        })
    );
    assert_eq!(stores.users.get(&uid("u2")).await.unwrap(), Some(bob));
    assert_eq!(stores.users.get(&uid("u3")).await.unwrap(), Some(cy));
}

#[cfg(feature = "mongo")]
pub use in_place::*;

/// The MongoDB sink writes in place, into a database that holds a Node server's documents.
#[cfg(feature = "mongo")]
mod in_place {
    use mongodb::bson::oid::ObjectId;
    use mongodb::bson::{Bson, DateTime, Document, doc};
    use switchboard::domain::ConversationContext;

    use super::*;

    const ANN: &str = "64b7f0c2a1b2c3d4e5f60001";
    const BOB: &str = "64b7f0c2a1b2c3d4e5f60002";
    const CHAT: &str = "64b7f0c2a1b2c3d4e5f6aaaa";
    const ORDER: &str = "64b7f0c2a1b2c3d4e5f6bbbb";
    const M1: &str = "64b7f0c2a1b2c3d4e5f6c001";
    const M2: &str = "64b7f0c2a1b2c3d4e5f6c002";
    const N1: &str = "64b7f0c2a1b2c3d4e5f6d001";
    const N2: &str = "64b7f0c2a1b2c3d4e5f6d002";

    fn oid(raw: &str) -> Bson {
        Bson::ObjectId(ObjectId::parse_str(raw).unwrap())
    }

    fn date(millis: i64) -> DateTime {
        DateTime::from_millis(millis)
    }

    async fn document(db: &mongodb::Database, collection: &str, id: &str) -> Document {
        db.collection::<Document>(collection)
            .find_one(doc! { "_id": oid(id) })
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{collection} {id}"))
    }

    /// A KAAJ KAAM conversation, soft-deleted by the Node server, with two messages: after
    /// `save` they keep every field of their own (`unreadCount`, `readBy`, `isActive: false`)
    /// and gain the layout's; the stores then read them, and append after them.
    pub async fn legacy_documents_are_upgraded_in_place(fixture: &SinkFixture) {
        let db = fixture.raw();
        db.collection::<Document>("conversations")
            .insert_one(doc! {
                "_id": oid(CHAT),
                "participants": [oid(ANN), oid(BOB)],
                "orderId": oid(ORDER),
                "lastMessage": { "text": "see you", "sender": oid(BOB), "timestamp": date(2_000) },
                "unreadCount": { ANN: 0, BOB: 1 },
                "isActive": false,
                "createdAt": date(1_000),
                "updatedAt": date(2_000),
            })
            .await
            .unwrap();
        for (id, sender, text, at) in [(M1, ANN, "hello", 1_500), (M2, BOB, "see you", 2_000)] {
            db.collection::<Document>("messages")
                .insert_one(doc! {
                    "_id": oid(id),
                    "conversationId": oid(CHAT),
                    "sender": oid(sender),
                    "text": text,
                    "messageType": "text",
                    "attachments": [],
                    "readBy": [{ "userId": oid(ANN), "readAt": date(2_100) }],
                    "isEdited": false,
                    "createdAt": date(at),
                })
                .await
                .unwrap();
        }
        let sink = fixture.sink.as_ref();
        assert_eq!(
            sink.conversation(&cid(CHAT)).await.unwrap(),
            None,
            "not imported yet"
        );
        assert!(stored_seqs(sink, CHAT, &[M1, M2]).await.is_empty());
        assert_eq!(sink.max_seq(&cid(CHAT)).await.unwrap(), Seq::ZERO);

        let messages = vec![
            Message {
                body: text("hello"),
                ..message(CHAT, M1, 1, ANN, 1_500)
            },
            Message {
                body: text("see you"),
                ..message(CHAT, M2, 2, BOB, 2_000)
            },
        ];
        let context =
            ConversationContext::new([("orderId".to_string(), ORDER.to_string())]).unwrap();
        let mut conversation = after(
            Conversation::new(cid(CHAT), vec![uid(ANN), uid(BOB)], context, t(1_000)).unwrap(),
            &messages,
        );
        mark(&mut conversation, ANN, 2, 2_100, MarkKind::Read);
        sink.save(&conversation, &messages).await.unwrap();
        // A conversation the Node server never had is active, as the server creates them.
        let fresh = conversation_at("c-new", &[ANN, "u-other"], &[], t(5));
        sink.save(&fresh, &[]).await.unwrap();

        assert_eq!(
            sink.conversation(&cid(CHAT)).await.unwrap(),
            Some(conversation.clone())
        );
        assert_eq!(
            stored_seqs(sink, CHAT, &[M1, M2]).await,
            [(M1.to_owned(), 1), (M2.to_owned(), 2)]
        );
        let stored = document(db, "conversations", CHAT).await;
        assert_eq!(
            stored.get("unreadCount"),
            Some(&Bson::Document(doc! { ANN: 0, BOB: 1 }))
        );
        assert_eq!(
            stored.get("isActive"),
            Some(&Bson::Boolean(false)),
            "kept for a rollback"
        );
        assert_eq!(stored.get("orderId"), Some(&oid(ORDER)));
        assert_eq!(
            stored.get("participants"),
            Some(&Bson::Array(vec![oid(ANN), oid(BOB)]))
        );
        assert_eq!(stored.get_str("identityKey").unwrap(), conversation.key());
        assert_eq!(stored.get_i64("lastSeq").unwrap(), 2);
        let fresh_doc = db
            .collection::<Document>("conversations")
            .find_one(doc! { "_id": "c-new" })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fresh_doc.get("isActive"), Some(&Bson::Boolean(true)));
        for (id, seq) in [(M1, 1), (M2, 2)] {
            let stored = document(db, "messages", id).await;
            assert_eq!(stored.get_i64("seq").unwrap(), seq);
            assert_eq!(stored.get("conversationId"), Some(&oid(CHAT)));
            assert_eq!(
                stored.get("readBy"),
                Some(&Bson::Array(vec![Bson::Document(
                    doc! { "userId": oid(ANN), "readAt": date(2_100) }
                )])),
                "the Node server's read state is kept"
            );
        }

        let stores = fixture.stores().await;
        assert_eq!(
            stores.conversations.get(&cid(CHAT)).await.unwrap(),
            Some(conversation)
        );
        assert_eq!(page(&stores, CHAT).await, messages);
        assert_eq!(
            stores.conversations.total_unread(&uid(BOB)).await.unwrap(),
            0
        );
        let appended = stores
            .messages
            .append(&text_message(&cid(CHAT), BOB, "back again", t(3_000)))
            .await
            .unwrap();
        assert_eq!(appended.message.seq, Seq(3));
        assert_eq!(
            stores.conversations.total_unread(&uid(ANN)).await.unwrap(),
            1
        );
    }

    /// A Linsta notification (no delivered flag) is given the layout's fields and counted as
    /// inserted; a KAAJ KAAM one already has them, so only its marks move. A user document
    /// keeps its own fields (a password hash) and gains only what it lacks.
    pub async fn legacy_notifications_and_users_are_upgraded_in_place(fixture: &SinkFixture) {
        let db = fixture.raw();
        let notifications = db.collection::<Document>("notifications");
        notifications
            .insert_one(doc! {
                "_id": oid(N1), "userId": oid(ANN), "type": "LIKE", "message": "Bob liked it",
                "referenceId": "post-1", "isRead": true, "actorId": oid(BOB),
                "createdAt": date(1_000),
            })
            .await
            .unwrap();
        notifications
            .insert_one(doc! {
                "_id": oid(N2), "userId": oid(ANN), "type": "order", "title": "Order",
                "message": "Order placed", "data": { "orderId": oid(ORDER) }, "isRead": false,
                "delivered": false, "createdAt": date(1_100),
            })
            .await
            .unwrap();
        db.collection::<Document>("users")
            .insert_one(
                doc! { "_id": oid(ANN), "name": "Ann", "email": Bson::Null, "password": "hash" },
            )
            .await
            .unwrap();

        let linsta = Notification {
            reference_id: Some("post-1".into()),
            read_at: Some(t(1_000)),
            delivered_at: Some(t(1_000)),
            message: "Bob liked it".into(),
            ..notification(N1, ANN, t(1_000))
        };
        let kaajkaam = Notification {
            kind: "order".into(),
            title: Some("Order".into()),
            message: "Order placed".into(),
            data: DataValue::Map([("orderId".to_string(), DataValue::String(ORDER.into()))].into()),
            read_at: Some(t(1_200)),
            ..notification(N2, ANN, t(1_100))
        };
        assert_eq!(
            fixture
                .sink
                .save_notifications(&[linsta.clone(), kaajkaam.clone()])
                .await
                .unwrap(),
            (1, 1)
        );
        let ann = UserProfile {
            name: Some("Ann (then)".into()),
            email: Some("ann@example.com".into()),
            role: Role::new("client"),
            ..UserProfile::bare(uid(ANN))
        };
        let bob = UserProfile {
            name: Some("Bob".into()),
            ..UserProfile::bare(uid(BOB))
        };
        assert_eq!(
            fixture.sink.save_users(&[ann, bob.clone()]).await.unwrap(),
            2
        );

        let n1 = document(db, "notifications", N1).await;
        assert_eq!(
            n1.get("actorId"),
            Some(&oid(BOB)),
            "the Node server's fields are kept"
        );
        assert!(n1.get_bool("delivered").unwrap());
        let user = document(db, "users", ANN).await;
        assert_eq!(user.get_str("password").unwrap(), "hash");
        assert_eq!(
            user.get_str("name").unwrap(),
            "Ann",
            "what is there is kept"
        );
        assert_eq!(user.get_str("email").unwrap(), "ann@example.com");

        let stores = fixture.stores().await;
        assert_eq!(
            stores.notifications.get(&nid(N1)).await.unwrap(),
            Some(linsta)
        );
        assert_eq!(
            stores.notifications.get(&nid(N2)).await.unwrap(),
            Some(kaajkaam)
        );
        assert_eq!(
            stores.notifications.unread_count(&uid(ANN)).await.unwrap(),
            0
        );
        assert_eq!(
            stores.users.get(&uid(ANN)).await.unwrap(),
            Some(UserProfile {
                name: Some("Ann".into()),
                email: Some("ann@example.com".into()),
                role: Role::new("client"),
                ..UserProfile::bare(uid(ANN))
            })
        );
        assert_eq!(stores.users.get(&uid(BOB)).await.unwrap(), Some(bob));
    }
}

import_sink_tests!(memory, async {
    let (stores, sink) = switchboard::adapters::outbound::memory::memory_stores_with_import();
    Some(SinkFixture::new(sink, StoresOf::Ready(stores), ()))
});

#[cfg(feature = "sqlite")]
import_sink_tests!(sqlite, async {
    use switchboard::adapters::outbound::sqlite::{SqliteImportSink, SqliteStores};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("import.db");
    let path = path.to_str().expect("a UTF-8 temporary path");
    let sink = SqliteImportSink::open(path)
        .await
        .expect("the SQLite sink opens a fresh database");
    let stores = SqliteStores::connect(path, 4)
        .await
        .expect("the SQLite stores open the sink's database");
    Some(SinkFixture::new(
        Arc::new(sink),
        StoresOf::Ready(stores),
        dir,
    ))
});

#[cfg(feature = "postgres")]
import_sink_tests!(postgres, async {
    use std::time::Duration;
    use switchboard::adapters::outbound::postgres::{PgImportSink, PgStores};
    // A fresh database per check, dropped with the fixture.
    let database = match crate::support::postgres::TestDatabase::create("sb_import").await {
        Ok(database) => database,
        Err(err) => {
            let server = PgStores::describe(&crate::support::postgres::server_url());
            crate::support::real_servers::unreachable(&format!("PostgreSQL at {server}"), err);
            return None;
        }
    };
    let sink = PgImportSink::connect(&database.url, 4, Duration::from_secs(10))
        .await
        .expect("the PostgreSQL sink opens a fresh database");
    let stores = PgStores::connect(&database.url, 4, Duration::from_secs(10))
        .await
        .expect("the PostgreSQL stores open the sink's database");
    Some(SinkFixture::new(
        Arc::new(sink),
        StoresOf::Ready(stores),
        database,
    ))
});

/// A sink on a fresh database of `server`; the stores are connected when a check asks.
#[cfg(feature = "mongo")]
async fn mongo_fixture(server: crate::support::mongo::MongoServer) -> Option<SinkFixture> {
    use crate::support::mongo::{MongoServer, TestMongoDatabase};
    use crate::support::real_servers::{unique_name, unreachable};
    use switchboard::adapters::outbound::mongo::MongoImportSink;
    let database = TestMongoDatabase {
        uri: server.uri(),
        name: unique_name("sbimport"),
    };
    let sink = match MongoImportSink::connect(&database.settings()).await {
        Ok(sink) => sink,
        Err(err) => {
            unreachable(&format!("the MongoDB test server at {}", server.uri()), err);
            return None;
        }
    };
    let stores = StoresOf::Mongo {
        settings: database.settings(),
        transactions: server == MongoServer::ReplicaSet,
    };
    let raw = database.raw().await;
    let mut fixture = SinkFixture::new(Arc::new(sink), stores, database);
    fixture.raw = Some(raw);
    Some(fixture)
}

// Saves in transactions (a server that advertises a replica set).
#[cfg(feature = "mongo")]
import_sink_tests!(
    mongo,
    mongo_fixture(crate::support::mongo::MongoServer::ReplicaSet),
    in_place: [
        legacy_documents_are_upgraded_in_place,
        legacy_notifications_and_users_are_upgraded_in_place,
    ]
);

// Saves with ordered writes (a standalone server: no transactions).
#[cfg(feature = "mongo")]
import_sink_tests!(
    mongo_standalone,
    mongo_fixture(crate::support::mongo::MongoServer::Standalone),
    in_place: [
        legacy_documents_are_upgraded_in_place,
        legacy_notifications_and_users_are_upgraded_in_place,
    ]
);
