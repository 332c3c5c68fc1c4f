//! The documents as a team that knows its Mongoose models finds them.

use mongodb::bson::{Bson, Document, doc};
use switchboard::domain::DataValue;
use switchboard::domain::{
    Conversation, ConversationContext, ConversationId, MessageBody, MessageId, MessageKind,
    MessageRules, NewMessage, Notification, NotificationId, Timestamp, UserId,
};

use crate::support::mongo::{MongoServer, TestMongoDatabase};

const ANN: &str = "64b7f0c2a1b2c3d4e5f60001";
const BOB: &str = "64b7f0c2a1b2c3d4e5f60002";
const CONVERSATION: &str = "64b7f0c2a1b2c3d4e5f6aaaa";
const ORDER: &str = "64b7f0c2a1b2c3d4e5f6bbbb";

fn uid(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

async fn only(db: &mongodb::Database, collection: &str) -> Document {
    let coll = db.collection::<Document>(collection);
    assert_eq!(
        coll.count_documents(doc! {}).await.unwrap(),
        1,
        "{collection}"
    );
    coll.find_one(doc! {}).await.unwrap().unwrap()
}

fn object_id(raw: &str) -> Bson {
    Bson::ObjectId(mongodb::bson::oid::ObjectId::parse_str(raw).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_follow_the_mongoose_models() {
    let Some((stores, _, database)) = TestMongoDatabase::open(MongoServer::ReplicaSet).await else {
        return;
    };
    let context = ConversationContext::new([("orderId".to_string(), ORDER.to_string())]).unwrap();
    let conversation = Conversation::new(
        ConversationId::parse(CONVERSATION).unwrap(),
        vec![uid(ANN), uid(BOB)],
        context,
        Timestamp::from_millis(1_000),
    )
    .unwrap();
    stores
        .conversations
        .get_or_create(&conversation)
        .await
        .unwrap();
    let message = NewMessage {
        id: MessageId::parse("64b7f0c2a1b2c3d4e5f6cccc").unwrap(),
        conversation_id: conversation.id.clone(),
        sender: uid(ANN),
        body: MessageBody::new(
            MessageKind::Text,
            "hello",
            vec![],
            None,
            &MessageRules::default(),
        )
        .unwrap(),
        client_key: None,
        created_at: Timestamp::from_millis(2_000),
    };
    stores.messages.append(&message).await.unwrap();
    stores
        .notifications
        .insert(&Notification {
            id: NotificationId::parse("not-an-object-id").unwrap(),
            recipient: uid(BOB),
            kind: "LIKE".into(),
            title: None,
            message: "Ann liked your post".into(),
            reference_id: Some("post-1".into()),
            data: DataValue::map_of([("postId", "post-1".to_string())]),
            created_at: Timestamp::from_millis(3_000),
            delivered_at: None,
            read_at: None,
        })
        .await
        .unwrap();
    let raw = database.raw().await;

    let stored = only(&raw, "conversations").await;
    assert_eq!(stored.get("_id"), Some(&object_id(CONVERSATION)));
    assert_eq!(
        stored.get_array("participants").unwrap(),
        &vec![object_id(ANN), object_id(BOB)]
    );
    assert_eq!(
        stored.get_document("context").unwrap(),
        &doc! { "orderId": object_id(ORDER) }
    );
    let last = stored.get_document("lastMessage").unwrap();
    assert_eq!(last.get_str("text"), Ok("hello"));
    assert_eq!(last.get("sender"), Some(&object_id(ANN)));
    assert_eq!(
        last.get_datetime("timestamp").unwrap().timestamp_millis(),
        2_000
    );
    assert_eq!(stored.get_i64("lastSeq"), Ok(1));
    assert_eq!(stored.get_bool("isActive"), Ok(true));
    assert_eq!(
        stored.get_datetime("createdAt").unwrap().timestamp_millis(),
        1_000
    );
    assert_eq!(
        stored.get_datetime("updatedAt").unwrap().timestamp_millis(),
        2_000
    );
    let marks = stored.get_array("watermarks").unwrap();
    let ann_marks = marks[0].as_document().unwrap();
    assert_eq!(ann_marks.get("userId"), Some(&object_id(ANN)));
    assert_eq!(
        ann_marks.get_i64("readSeq"),
        Ok(1),
        "posting reads for the sender"
    );
    let bob_marks = marks[1].as_document().unwrap();
    assert_eq!(bob_marks.get_i64("readSeq"), Ok(0));

    let stored = only(&raw, "messages").await;
    assert_eq!(stored.get("conversationId"), Some(&object_id(CONVERSATION)));
    assert_eq!(stored.get("sender"), Some(&object_id(ANN)));
    assert_eq!(stored.get_str("text"), Ok("hello"));
    assert_eq!(stored.get_str("messageType"), Ok("text"));
    assert_eq!(stored.get_array("attachments").map(Vec::len), Ok(0));
    assert_eq!(stored.get_bool("isEdited"), Ok(false));
    assert_eq!(stored.get_i64("seq"), Ok(1));
    assert_eq!(
        stored.get_datetime("createdAt").unwrap().timestamp_millis(),
        2_000
    );

    let stored = only(&raw, "notifications").await;
    // Ids that are not ObjectIds are stored as the strings they are.
    assert_eq!(stored.get_str("_id"), Ok("not-an-object-id"));
    assert_eq!(stored.get("userId"), Some(&object_id(BOB)));
    assert_eq!(stored.get_str("type"), Ok("LIKE"));
    assert_eq!(stored.get_str("referenceId"), Ok("post-1"));
    assert_eq!(
        stored.get_document("data").unwrap(),
        &doc! { "postId": "post-1" }
    );
    assert_eq!(stored.get_bool("isRead"), Ok(false));
    assert_eq!(stored.get_bool("delivered"), Ok(false));
}

/// A taken notification carries its delivery (`delivered`, `deliveredAt`, the `deliveryId` of
/// the take); released, it is stored exactly as a pending one again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_notification_is_stored_as_pending_again() {
    let Some((stores, _, database)) = TestMongoDatabase::open(MongoServer::ReplicaSet).await else {
        return;
    };
    let id = NotificationId::parse("64b7f0c2a1b2c3d4e5f6dddd").unwrap();
    stores
        .notifications
        .insert(&Notification {
            id: id.clone(),
            recipient: uid(BOB),
            kind: "LIKE".into(),
            title: None,
            message: "Ann liked your post".into(),
            reference_id: None,
            data: DataValue::empty_map(),
            created_at: Timestamp::from_millis(3_000),
            delivered_at: None,
            read_at: None,
        })
        .await
        .unwrap();
    let raw = database.raw().await;
    let pending = only(&raw, "notifications").await;

    let taken = stores
        .notifications
        .take_pending(&uid(BOB), Timestamp::from_millis(4_000), 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    let stored = only(&raw, "notifications").await;
    assert_eq!(stored.get_bool("delivered"), Ok(true));
    assert_eq!(
        stored
            .get_datetime("deliveredAt")
            .unwrap()
            .timestamp_millis(),
        4_000
    );
    assert!(stored.get_object_id("deliveryId").is_ok(), "{stored}");

    let released = stores
        .notifications
        .release(std::slice::from_ref(&id))
        .await
        .unwrap();
    assert_eq!(released, 1);
    assert_eq!(only(&raw, "notifications").await, pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_are_created_at_start_and_again_harmlessly() {
    let Some((_, _, database)) = TestMongoDatabase::open(MongoServer::ReplicaSet).await else {
        return;
    };
    // A second node starting on the same database.
    switchboard::adapters::outbound::mongo::MongoStores::connect(&database.settings())
        .await
        .expect("connecting again with the indexes in place");
    let raw = database.raw().await;
    let mut names = Vec::new();
    for collection in ["conversations", "messages", "notifications", "callsessions"] {
        names.extend(
            raw.collection::<Document>(collection)
                .list_index_names()
                .await
                .unwrap()
                .into_iter()
                .filter(|n| n != "_id_"),
        );
    }
    names.sort();
    assert_eq!(
        names,
        [
            "conversationId_sender_clientKey_unique",
            "conversationId_seq_unique_where_set",
            "identityKey_unique_where_set",
            "participants_updatedAt",
            "parties_unique",
            "state_startedAt",
            "userId_createdAt",
            "userId_pending",
            "userId_unread",
        ]
    );
}
