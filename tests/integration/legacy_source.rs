//! The `LegacySource` adapters on real servers: raw documents and Prisma-style rows, written
//! the way the Node servers left them (out of order, some unusable), read back as the import
//! needs them: messages grouped by conversation in creation order, in batches of at most the
//! size asked for, conversations found by id, counts, and an unusable record reported
//! without stopping the stream.
//!
//! Needs the MongoDB test server of `tests/support/mongo.rs` and the PostgreSQL server of
//! `tests/support/postgres.rs`; without them the tests skip outside CI and fail under CI.

use std::time::Duration;

use switchboard::adapters::outbound::legacy::{Family, Mapping};
use switchboard::domain::{ConversationId, Timestamp};
use switchboard::ports::{Batches, LegacyCounts, LegacyMessage, LegacyRead, Read};

const TIMEOUT: Duration = Duration::from_secs(5);
/// 2024-05-01T12:00:00Z.
const T0: i64 = 1_714_564_800_000;

/// Every batch of a stream, asked for `max` records at a time.
async fn batches<T>(mut stream: Box<dyn Batches<T>>, max: usize) -> Vec<Vec<Read<T>>> {
    let mut all = Vec::new();
    while let Some(batch) = stream.next_batch(max).await.expect("a batch") {
        assert!(
            !batch.is_empty() && batch.len() <= max,
            "batch of {}",
            batch.len()
        );
        all.push(batch);
    }
    // The end stays the end.
    assert!(
        stream
            .next_batch(max)
            .await
            .expect("after the end")
            .is_none()
    );
    all
}

fn sizes<T>(batches: &[Vec<Read<T>>]) -> Vec<usize> {
    batches.iter().map(Vec::len).collect()
}

/// Pairs of strings: (conversation, message id), or (id, reason).
type Pairs = Vec<(String, String)>;

/// (conversation, message id) of each readable message, and the ids of the unreadable ones
/// with their reasons, in stream order.
fn message_order(batches: Vec<Vec<Read<LegacyMessage>>>) -> (Pairs, Pairs) {
    let mut order = Vec::new();
    let mut unreadable = Vec::new();
    for read in batches.into_iter().flatten() {
        match read {
            Read::Record(m) => order.push((m.conversation_id.into_string(), m.id.into_string())),
            Read::Unreadable { id, reason } => unreadable.push((id, reason)),
        }
    }
    (order, unreadable)
}

fn cid(raw: &str) -> ConversationId {
    ConversationId::parse(raw).unwrap()
}

#[cfg(feature = "mongo")]
mod mongo {
    use mongodb::bson::oid::ObjectId;
    use mongodb::bson::{DateTime, Document, doc};
    use mongodb::options::ClientOptions;
    use switchboard::adapters::outbound::legacy::MongoSource;
    use switchboard::ports::LegacySource;

    use super::*;
    use crate::support::mongo::{MongoServer, TestMongoDatabase};
    use crate::support::real_servers::{unique_name, unreachable};

    const ANN: &str = "64b7f0c2a1b2c3d4e5f60001";
    const BOB: &str = "64b7f0c2a1b2c3d4e5f60002";
    const CAT: &str = "64b7f0c2a1b2c3d4e5f60003";
    // Sorted as the server sorts ObjectIds (by their bytes): C1 < C2.
    const C1: &str = "64b7f0c2a1b2c3d4e5f6c001";
    const C2: &str = "64b7f0c2a1b2c3d4e5f6c002";
    const LONELY: &str = "64b7f0c2a1b2c3d4e5f6c003";

    fn oid(raw: &str) -> ObjectId {
        ObjectId::parse_str(raw).unwrap()
    }

    fn at(offset: i64) -> DateTime {
        DateTime::from_millis(T0 + offset)
    }

    fn message(id: &str, conversation: &str, sender: &str, offset: i64) -> Document {
        doc! {
            "_id": oid(id), "conversationId": oid(conversation), "sender": oid(sender),
            "text": format!("message {id}"), "messageType": "text", "attachments": [],
            "readBy": [{ "userId": oid(BOB), "readAt": at(offset + 60_000) }],
            "isEdited": false, "createdAt": at(offset), "updatedAt": at(offset), "__v": 0,
        }
    }

    /// A throwaway database on the standalone test server with kaajkaam's collections as
    /// Mongoose wrote them; `None` (skipped) when the server cannot be used outside CI.
    async fn kaajkaam_database() -> Option<TestMongoDatabase> {
        let server = MongoServer::Standalone;
        let mut options = ClientOptions::parse(server.uri()).await.unwrap();
        options.server_selection_timeout = Some(TIMEOUT);
        let client = mongodb::Client::with_options(options).unwrap();
        let name = unique_name("sblegacy");
        let db = client.database(&name);
        let conversations = vec![
            doc! {
                "_id": oid(C2), "participants": [oid(ANN), oid(CAT)], "isActive": true,
                "unreadCount": { ANN: 0, CAT: 1 }, "createdAt": at(0), "updatedAt": at(9),
            },
            doc! {
                "_id": oid(C1), "participants": [oid(ANN), oid(BOB)], "orderId": "order-9",
                "isActive": false, "createdAt": at(0), "updatedAt": at(9),
            },
            // One participant: reported, not fatal.
            doc! { "_id": oid(LONELY), "participants": [oid(ANN)], "createdAt": at(0) },
            // A string id, as a seed script may have written it.
            doc! { "_id": "chat-x", "participants": ["u1", "u2"], "createdAt": at(0) },
        ];
        // Inserted out of order: by conversation, by time, and two in the same millisecond.
        let messages = vec![
            message("64b7f0c2a1b2c3d4e5f6d005", C2, CAT, 500),
            message("64b7f0c2a1b2c3d4e5f6d004", C1, BOB, 400),
            message("64b7f0c2a1b2c3d4e5f6d003", C1, ANN, 200),
            message("64b7f0c2a1b2c3d4e5f6d001", C2, ANN, 100),
            message("64b7f0c2a1b2c3d4e5f6d002", C1, ANN, 200),
            message("64b7f0c2a1b2c3d4e5f6d000", C1, BOB, 300),
            // No sender.
            doc! {
                "_id": oid("64b7f0c2a1b2c3d4e5f6dbad"), "conversationId": oid(C1),
                "text": "who?", "createdAt": at(250),
            },
        ];
        let notifications = vec![
            doc! {
                "_id": oid("64b7f0c2a1b2c3d4e5f6e002"), "userId": oid(BOB), "type": "message",
                "title": "New message", "message": "Ann wrote", "data": { "n": 1 },
                "isRead": false, "delivered": true, "createdAt": at(10),
            },
            doc! {
                "_id": oid("64b7f0c2a1b2c3d4e5f6e001"), "userId": oid(ANN), "type": "order",
                "message": "Order shipped", "isRead": true, "readAt": at(20),
                "delivered": false, "createdAt": at(5),
            },
        ];
        let users = vec![
            doc! { "_id": oid(BOB), "name": "Bob", "role": "seller", "lastActive": at(-5) },
            doc! { "_id": oid(ANN), "name": "Ann", "email": "ann@example.com" },
        ];
        if let Err(err) = db.run_command(doc! { "ping": 1 }).await {
            unreachable(&format!("the MongoDB test server at {}", server.uri()), err);
            return None;
        }
        let database = TestMongoDatabase {
            uri: server.uri(),
            name,
        };
        for (collection, documents) in [
            ("conversations", conversations),
            ("messages", messages),
            ("notifications", notifications),
            ("users", users),
        ] {
            db.collection::<Document>(collection)
                .insert_many(documents)
                .await
                .unwrap_or_else(|e| panic!("writing {collection}: {e}"));
        }
        Some(database)
    }

    async fn source(database: &TestMongoDatabase, mapping: Mapping) -> MongoSource {
        MongoSource::connect(&database.uri, Some(&database.name), mapping, TIMEOUT)
            .await
            .expect("the legacy source connects")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn messages_come_grouped_by_conversation_in_creation_order() {
        let Some(database) = kaajkaam_database().await else {
            return;
        };
        let source = source(&database, Mapping::defaults(Family::Kaajkaam)).await;
        let all = batches(source.messages().await.unwrap(), 2).await;
        assert_eq!(sizes(&all), [2, 2, 2, 1]);
        let (order, unreadable) = message_order(all);
        let expected: Pairs = [
            (C1, "64b7f0c2a1b2c3d4e5f6d002"),
            (C1, "64b7f0c2a1b2c3d4e5f6d003"),
            (C1, "64b7f0c2a1b2c3d4e5f6d000"),
            (C1, "64b7f0c2a1b2c3d4e5f6d004"),
            (C2, "64b7f0c2a1b2c3d4e5f6d001"),
            (C2, "64b7f0c2a1b2c3d4e5f6d005"),
        ]
        .iter()
        .map(|(c, m)| ((*c).to_owned(), (*m).to_owned()))
        .collect();
        assert_eq!(order, expected);
        assert_eq!(
            unreadable,
            [(
                "64b7f0c2a1b2c3d4e5f6dbad".to_owned(),
                "`sender` is missing".to_owned()
            )]
        );

        // One batch for everything, and the fields as the documents hold them.
        let all = batches(source.messages().await.unwrap(), 100).await;
        assert_eq!(sizes(&all), [7]);
        let Read::Record(first) = &all[0][0] else {
            panic!("the first message reads: {:?}", all[0][0]);
        };
        assert_eq!(first.body.text, "message 64b7f0c2a1b2c3d4e5f6d002");
        assert_eq!(first.sender.as_str(), ANN);
        assert_eq!(first.created_at, Timestamp::from_millis(T0 + 200));
        assert_eq!(
            first.read,
            LegacyRead::By(vec![(
                switchboard::domain::UserId::parse(BOB).unwrap(),
                Some(Timestamp::from_millis(T0 + 60_200))
            )])
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conversations_notifications_users_and_counts() {
        let Some(database) = kaajkaam_database().await else {
            return;
        };
        let source = source(&database, Mapping::defaults(Family::Kaajkaam)).await;
        assert_eq!(
            source.counts().await.unwrap(),
            LegacyCounts {
                conversations: 4,
                messages: 7,
                notifications: 2,
                users: 2,
            }
        );

        let all = batches(source.conversations().await.unwrap(), 3).await;
        assert_eq!(sizes(&all), [3, 1]);
        let ids: Vec<String> = all
            .into_iter()
            .flatten()
            .map(|read| match read {
                Read::Record(c) => c.id.into_string(),
                Read::Unreadable { id, reason } => format!("{id}: {reason}"),
            })
            .collect();
        // In _id order, as the server compares BSON values: strings before ObjectIds.
        assert_eq!(
            ids,
            [
                "chat-x".to_owned(),
                C1.to_owned(),
                C2.to_owned(),
                format!("{LONELY}: `participants`: fewer than two distinct participants"),
            ]
        );

        let c1 = source.conversation(&cid(C1)).await.unwrap().expect("C1");
        assert_eq!(c1.context.get("orderId"), Some("order-9"));
        assert!(!c1.active);
        assert_eq!(c1.updated_at, Some(Timestamp::from_millis(T0 + 9)));
        let c2 = source.conversation(&cid(C2)).await.unwrap().expect("C2");
        assert_eq!(c2.unread_counts.len(), 2);
        let x = source.conversation(&cid("chat-x")).await.unwrap();
        assert_eq!(x.map(|c| c.participants.len()), Some(2));
        assert_eq!(source.conversation(&cid(LONELY)).await.unwrap(), None);
        assert_eq!(
            source
                .conversation(&cid("64b7f0c2a1b2c3d4e5f6ffff"))
                .await
                .unwrap(),
            None
        );

        let all = batches(source.notifications().await.unwrap(), 10).await;
        let notifications: Vec<_> = all
            .into_iter()
            .flatten()
            .map(|read| match read {
                Read::Record(n) => n,
                Read::Unreadable { id, reason } => panic!("{id}: {reason}"),
            })
            .collect();
        assert_eq!(notifications.len(), 2);
        assert_eq!(notifications[0].id.as_str(), "64b7f0c2a1b2c3d4e5f6e001");
        assert_eq!(
            notifications[0].read_at,
            Some(Timestamp::from_millis(T0 + 20))
        );
        // Not flagged delivered, but read: delivered by then.
        assert_eq!(notifications[0].delivered_at, notifications[0].read_at);
        assert_eq!(
            notifications[1].delivered_at,
            Some(Timestamp::from_millis(T0 + 10))
        );
        assert_eq!(notifications[1].read_at, None);

        let all = batches(source.users().await.unwrap(), 10).await;
        let names: Vec<Option<String>> = all
            .into_iter()
            .flatten()
            .map(|read| match read {
                Read::Record(u) => u.name,
                Read::Unreadable { id, reason } => panic!("{id}: {reason}"),
            })
            .collect();
        assert_eq!(names, [Some("Ann".to_owned()), Some("Bob".to_owned())]);

        // A section turned off and a collection that does not exist count nothing.
        let mapping = Mapping::overlay(
            Family::Kaajkaam,
            "[notifications]\nenabled = false\n[users]\nfrom = \"nobody\"",
        )
        .unwrap();
        let source = self::source(&database, mapping).await;
        let counts = source.counts().await.unwrap();
        assert_eq!((counts.notifications, counts.users), (0, 0));
        assert!(
            batches(source.notifications().await.unwrap(), 5)
                .await
                .is_empty()
        );
        assert!(batches(source.users().await.unwrap(), 5).await.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreachable_server_is_an_error_within_the_timeout() {
        let started = std::time::Instant::now();
        let refused = MongoSource::connect(
            "mongodb://127.0.0.1:9/?directConnection=true",
            Some("x"),
            Mapping::defaults(Family::Linsta),
            Duration::from_millis(500),
        )
        .await;
        assert!(refused.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
        let no_database = MongoSource::connect(
            "mongodb://127.0.0.1:9/",
            None,
            Mapping::defaults(Family::Linsta),
            Duration::from_millis(500),
        )
        .await;
        assert!(
            no_database.is_err_and(|e| e.0.contains("no MongoDB database")),
            "a source without a database is refused"
        );
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use sqlx::{AssertSqlSafe, Connection, PgConnection};
    use switchboard::adapters::outbound::legacy::PgSource;
    use switchboard::adapters::outbound::postgres::PgStores;
    use switchboard::ports::LegacySource;

    use super::*;
    use crate::support::postgres::{TestDatabase, server_url};
    use crate::support::real_servers::unreachable;

    const REL_1: &str = "0b6f3c1e-0000-4000-8000-000000000001";
    const REL_2: &str = "0b6f3c1e-0000-4000-8000-000000000002";
    const ORPHAN: &str = "0b6f3c1e-0000-4000-8000-000000000003";

    /// QuickClinic's Prisma tables (quoted names, `timestamp(3)`), rows inserted out of order.
    const SCHEMA: &str = r#"
        CREATE TABLE "User" (
            "id" TEXT PRIMARY KEY, "name" TEXT, "email" TEXT NOT NULL, "role" TEXT,
            "image" TEXT, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE "DoctorPatientRelation" (
            "id" TEXT PRIMARY KEY, "doctorId" TEXT NOT NULL, "patientId" TEXT,
            "createdAt" TIMESTAMP(3) NOT NULL, "updatedAt" TIMESTAMP(3) NOT NULL);
        CREATE TABLE "ChatMessages" (
            "id" SERIAL PRIMARY KEY, "relationId" TEXT NOT NULL, "senderId" TEXT,
            "text" TEXT NOT NULL, "isRead" BOOLEAN NOT NULL DEFAULT false,
            "readAt" TIMESTAMP(3), "createdAt" TIMESTAMP(3) NOT NULL);
        CREATE TABLE "IntRelation" (
            "id" INTEGER PRIMARY KEY, "doctorId" TEXT NOT NULL, "patientId" TEXT NOT NULL,
            "createdAt" TIMESTAMPTZ NOT NULL);

        INSERT INTO "User" VALUES
            ('pat-1', 'Pat', 'pat@example.com', 'PATIENT', NULL, now()),
            ('doc-1', 'Dr. Dee', 'dee@example.com', 'DOCTOR', '/dee.png', now());
        INSERT INTO "DoctorPatientRelation" VALUES
            ('0b6f3c1e-0000-4000-8000-000000000002', 'doc-1', 'pat-2',
             '2024-05-01 12:00:00', '2024-05-01 12:00:00'),
            ('0b6f3c1e-0000-4000-8000-000000000003', 'doc-1', NULL,
             '2024-05-01 12:00:00', '2024-05-01 12:00:00'),
            ('0b6f3c1e-0000-4000-8000-000000000001', 'doc-1', 'pat-1',
             '2024-05-01 12:00:00.250', '2024-05-02 08:00:00');
        INSERT INTO "ChatMessages" ("id", "relationId", "senderId", "text", "isRead", "readAt", "createdAt") VALUES
            (1, '0b6f3c1e-0000-4000-8000-000000000002', 'pat-2', 'r2 late', false, NULL, '2024-05-01 12:05:00'),
            (2, '0b6f3c1e-0000-4000-8000-000000000001', 'doc-1', 'r1 second', true, '2024-05-01 13:00:00', '2024-05-01 12:02:00'),
            (3, '0b6f3c1e-0000-4000-8000-000000000001', 'pat-1', 'r1 first', true, NULL, '2024-05-01 12:01:00'),
            (4, '0b6f3c1e-0000-4000-8000-000000000002', 'doc-1', 'r2 early', false, NULL, '2024-05-01 12:03:00'),
            (6, '0b6f3c1e-0000-4000-8000-000000000001', 'doc-1', 'r1 same ms, higher id', false, NULL, '2024-05-01 12:02:00'),
            (5, '0b6f3c1e-0000-4000-8000-000000000001', NULL, 'no sender', false, NULL, '2024-05-01 12:04:00');
        INSERT INTO "IntRelation" VALUES (7, 'doc-1', 'pat-1', '2024-05-01 14:00:00+02');
    "#;

    async fn quickclinic_database() -> Option<TestDatabase> {
        let database = match TestDatabase::create("sb_legacy").await {
            Ok(database) => database,
            Err(err) => {
                let server = PgStores::describe(&server_url());
                unreachable(&format!("PostgreSQL at {server}"), err);
                return None;
            }
        };
        let mut admin = PgConnection::connect(&database.url).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(SCHEMA))
            .execute(&mut admin)
            .await
            .expect("the Prisma-style tables");
        admin.close().await.unwrap();
        Some(database)
    }

    async fn source(database: &TestDatabase, mapping: Mapping) -> PgSource {
        PgSource::connect(&database.url, mapping, TIMEOUT)
            .await
            .expect("the legacy source connects")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn messages_come_grouped_by_relation_in_creation_order() {
        let Some(database) = quickclinic_database().await else {
            return;
        };
        let source = source(&database, Mapping::defaults(Family::Quickclinic)).await;
        let all = batches(source.messages().await.unwrap(), 4).await;
        assert_eq!(sizes(&all), [4, 2]);
        let (order, unreadable) = message_order(all);
        let expected: Pairs = [
            (REL_1, "3"),
            (REL_1, "2"),
            (REL_1, "6"),
            (REL_2, "4"),
            (REL_2, "1"),
        ]
        .iter()
        .map(|(c, m)| ((*c).to_owned(), (*m).to_owned()))
        .collect();
        assert_eq!(order, expected);
        assert_eq!(
            unreadable,
            [("5".to_owned(), "`senderId` is missing".to_owned())]
        );

        // Batch sizes that divide the stream exactly, and the fields of one message.
        let all = batches(source.messages().await.unwrap(), 3).await;
        assert_eq!(sizes(&all), [3, 3]);
        let Read::Record(second) = &all[0][1] else {
            panic!("message 2 reads: {:?}", all[0][1]);
        };
        assert_eq!(second.body.text, "r1 second");
        assert_eq!(
            second.created_at,
            Timestamp::from_millis(T0 + 120_000),
            "timestamp(3) is UTC"
        );
        assert_eq!(
            second.read,
            LegacyRead::Flag {
                read: true,
                at: Some(Timestamp::from_millis(T0 + 3_600_000))
            }
        );

        // A stream dropped half-way gives its connection back in a usable state.
        let mut half = source.messages().await.unwrap();
        assert_eq!(half.next_batch(1).await.unwrap().unwrap().len(), 1);
        drop(half);
        for _ in 0..6 {
            let all = batches(source.messages().await.unwrap(), 100).await;
            assert_eq!(sizes(&all), [6]);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn relations_users_lookups_and_counts() {
        let Some(database) = quickclinic_database().await else {
            return;
        };
        let source = source(&database, Mapping::defaults(Family::Quickclinic)).await;
        assert_eq!(
            source.counts().await.unwrap(),
            LegacyCounts {
                conversations: 3,
                messages: 6,
                // No notifications table by default.
                notifications: 0,
                users: 2,
            }
        );

        let all = batches(source.conversations().await.unwrap(), 2).await;
        assert_eq!(sizes(&all), [2, 1]);
        let reads: Vec<_> = all.into_iter().flatten().collect();
        let Read::Record(first) = &reads[0] else {
            panic!("{REL_1} reads: {:?}", reads[0]);
        };
        assert_eq!(first.id.as_str(), REL_1);
        assert_eq!(first.context.get("doctorId"), Some("doc-1"));
        assert_eq!(first.context.get("patientId"), Some("pat-1"));
        assert_eq!(first.created_at, Timestamp::from_millis(T0 + 250));
        assert!(matches!(&reads[1], Read::Record(c) if c.id.as_str() == REL_2));
        assert_eq!(
            reads[2],
            Read::Unreadable {
                id: ORPHAN.to_owned(),
                reason: "`doctorId`, `patientId`: fewer than two distinct participants".to_owned(),
            }
        );

        let found = source
            .conversation(&cid(REL_2))
            .await
            .unwrap()
            .expect("REL_2");
        assert_eq!(found.participants.len(), 2);
        assert_eq!(source.conversation(&cid(ORPHAN)).await.unwrap(), None);
        assert_eq!(source.conversation(&cid("no-such")).await.unwrap(), None);

        let users: Vec<_> = batches(source.users().await.unwrap(), 10)
            .await
            .into_iter()
            .flatten()
            .collect();
        let Read::Record(doctor) = &users[0] else {
            panic!("doc-1 reads: {:?}", users[0]);
        };
        assert_eq!(doctor.avatar.as_deref(), Some("/dee.png"));
        assert_eq!(doctor.role.as_ref().map(|r| r.as_str()), Some("doctor"));
        assert!(
            batches(source.notifications().await.unwrap(), 10)
                .await
                .is_empty()
        );

        // Integer ids: looked up in their own type; an id that is no integer finds nothing.
        // A table that does not exist counts 0.
        let mapping = Mapping::overlay(
            Family::Quickclinic,
            "[conversations]\nfrom = \"IntRelation\"\n\
             updated_at = \"\"\n[users]\nfrom = \"Nobody\"",
        )
        .unwrap();
        let source = self::source(&database, mapping).await;
        let seven = source.conversation(&cid("7")).await.unwrap().expect("7");
        assert_eq!(seven.created_at, Timestamp::from_millis(T0));
        assert_eq!(source.conversation(&cid("abc")).await.unwrap(), None);
        assert_eq!(source.counts().await.unwrap().users, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreachable_server_is_an_error_naming_it_without_the_password() {
        let refused = PgSource::connect(
            "postgres://ann:s3cret@127.0.0.1:9/clinic",
            Mapping::defaults(Family::Quickclinic),
            Duration::from_millis(500),
        )
        .await;
        let Err(err) = refused else {
            panic!("nothing listens on port 9");
        };
        assert!(err.0.contains("127.0.0.1:9/clinic"), "{err}");
        assert!(!err.0.contains("s3cret"), "{err}");
    }
}
