//! Appends without transactions (a standalone server): several nodes racing for seqs, and a
//! crash between the message insert and the conversation update.

use mongodb::bson::{DateTime, doc};
use switchboard::adapters::outbound::mongo::MongoStores;
use switchboard::domain::{
    Conversation, ConversationContext, ConversationId, MessageBody, MessageId, MessageKind,
    MessageRules, NewMessage, Seq, Timestamp, UserId,
};
use switchboard::ports::{Page, Stores};

use crate::support::mongo::{MongoServer, TestMongoDatabase};

fn uid(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn new_message(id: &str, conversation: &ConversationId, sender: &str, at: i64) -> NewMessage {
    NewMessage {
        id: MessageId::parse(id).unwrap(),
        conversation_id: conversation.clone(),
        sender: uid(sender),
        body: MessageBody::new(
            MessageKind::Text,
            id,
            vec![],
            None,
            &MessageRules::default(),
        )
        .unwrap(),
        client_key: None,
        created_at: Timestamp::from_millis(at),
    }
}

async fn conversation(stores: &Stores) -> ConversationId {
    let c = Conversation::new(
        ConversationId::parse("c1").unwrap(),
        vec![uid("ann"), uid("bob")],
        ConversationContext::default(),
        Timestamp::from_millis(0),
    )
    .unwrap();
    stores.conversations.get_or_create(&c).await.unwrap().0.id
}

/// Appends from this process take turns per conversation, so only other nodes race: two
/// nodes (two clients on one database) post at once, on both kinds of server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_appending_at_once_get_gap_free_seqs() {
    for server in [MongoServer::Standalone, MongoServer::ReplicaSet] {
        let Some((first, _, database)) = TestMongoDatabase::open(server).await else {
            return;
        };
        let (second, _) = MongoStores::connect(&database.settings()).await.unwrap();
        let c1 = conversation(&first).await;
        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let node = if i % 2 == 0 {
                    first.clone()
                } else {
                    second.clone()
                };
                let message = new_message(&format!("m{i}"), &c1, "ann", i);
                tokio::spawn(async move { node.messages.append(&message).await.unwrap() })
            })
            .collect();
        let mut seqs = Vec::new();
        for task in tasks {
            seqs.push(task.await.unwrap().message.seq.0);
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=30).collect::<Vec<_>>(), "{server:?}");
        let summary = first.conversations.get(&c1).await.unwrap().unwrap();
        assert_eq!(summary.last_seq, Seq(30), "{server:?}");
        assert_eq!(summary.unread_for(&uid("bob")), 30, "{server:?}");
    }
}

/// Without transactions an append writes the message, then the conversation. A crash in
/// between leaves a message the conversation does not know of: the next append finds its
/// seq taken, brings the conversation up to date, and takes the following seq.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_writes_is_repaired_by_the_next_append() {
    let Some((stores, info, database)) = TestMongoDatabase::open(MongoServer::Standalone).await
    else {
        return;
    };
    assert!(!info.transactions);
    let c1 = conversation(&stores).await;
    stores
        .messages
        .append(&new_message("m1", &c1, "ann", 10))
        .await
        .unwrap();
    // What an append that died after its first write leaves behind: message 2 exists, the
    // conversation still says 1.
    database
        .raw()
        .await
        .collection("messages")
        .insert_one(doc! {
            "_id": "m2", "conversationId": "c1", "seq": 2_i64, "sender": "bob", "text": "m2",
            "messageType": "text", "attachments": [], "isEdited": false,
            "createdAt": DateTime::from_millis(20),
        })
        .await
        .unwrap();
    let stale = stores.conversations.get(&c1).await.unwrap().unwrap();
    assert_eq!(stale.last_seq, Seq(1));

    let third = stores
        .messages
        .append(&new_message("m3", &c1, "ann", 30))
        .await
        .unwrap()
        .message;
    assert_eq!(third.seq, Seq(3), "no seq is handed out twice");
    let repaired = stores.conversations.get(&c1).await.unwrap().unwrap();
    assert_eq!(repaired.last_seq, Seq(3));
    assert_eq!(repaired.last_message.as_ref().unwrap().text, "m3");
    // Bob's own message counts as read by him once the repair applied it.
    assert_eq!(repaired.unread_for(&uid("bob")), 1);
    assert_eq!(repaired.unread_for(&uid("ann")), 0);
    let history = stores.messages.page(&c1, Page::new(10, 0)).await.unwrap();
    let seqs: Vec<u64> = history.iter().map(|m| m.seq.0).collect();
    assert_eq!(seqs, [1, 2, 3]);
}
