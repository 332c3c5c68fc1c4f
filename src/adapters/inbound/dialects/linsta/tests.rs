//! linsta's table, replies and renderings, checked against the family's documented examples.

use serde_json::json;

use super::json::message_with_sender_json;
use super::*;
use crate::adapters::inbound::dialects::fixtures::{
    ALICE, BOB, ROOM, conversation, message, notification, profile, uid, view,
};
use crate::app::History;
use crate::domain::{ConversationId, MessageReceipt};

#[test]
fn the_table_has_the_family_events() {
    assert_eq!(
        Linsta::default().events().events(),
        [
            "get_history",
            "join_room",
            "send_message",
            "subscribe_notifications"
        ]
    );
}

#[test]
fn decodes_the_documented_events() {
    let alice = profile(ALICE, "Alice");
    let v = view(&alice);
    let room = ConversationId::parse(ROOM).unwrap();
    assert_eq!(
        decode_join(&v, &json!({ "chatRoomId": ROOM })),
        Ok(JoinConversation(room.clone()))
    );
    assert_eq!(
        decode_send(
            &v,
            &json!({ "chatRoomId": ROOM, "text": "Hey, how are you?" })
        ),
        Ok(SendMessage(PostMessage::text(
            room.clone(),
            "Hey, how are you?"
        )))
    );
    for (args, expected) in [
        (
            json!({ "chatRoomId": ROOM, "limit": 50, "skip": 0 }),
            HistoryWindow::Skip { limit: 50, skip: 0 },
        ),
        // The family's React example leaves skip out.
        (
            json!({ "chatRoomId": ROOM, "limit": 20 }),
            HistoryWindow::Skip { limit: 20, skip: 0 },
        ),
    ] {
        assert_eq!(
            decode_history(&v, &args),
            Ok(ReadHistory {
                conversation: room.clone(),
                window: expected,
            })
        );
    }
}

#[test]
fn bad_input_names_the_problem() {
    let alice = profile(ALICE, "Alice");
    let v = view(&alice);
    let errors = [
        decode_join(&v, &json!({})).err(),
        decode_join(&v, &json!({ "chatRoomId": 7 })).err(),
        decode_join(&v, &json!(ROOM)).err(),
        decode_send(&v, &json!({ "chatRoomId": ROOM, "text": 5 })).err(),
        decode_history(&v, &json!({ "chatRoomId": ROOM, "skip": -1 })).err(),
    ];
    let expected = [
        "chatRoomId is required",
        "chatRoomId must be a string",
        "join_room expects an object payload",
        "text must be a string",
        "skip must be",
    ];
    for (error, expected) in errors.into_iter().zip(expected) {
        let error = error.expect("refused").0;
        assert!(error.contains(expected), "{error} lacks {expected}");
    }
}

#[test]
fn messages_render_in_the_family_shape_to_the_whole_room() {
    let m = message("Hey, how are you?", 1);
    let event = DomainEvent::MessagePosted {
        participants: vec![uid(ALICE), uid(BOB)],
        message: m.clone(),
        receipt: MessageReceipt::default(),
        sender: profile(ALICE, "Alice"),
        context: Default::default(),
        alert: vec![],
    };
    let deliveries = Linsta::default().render(&event);
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.event, "receive_message");
    assert_eq!(d.audience, Audience::Room(m.conversation_id.clone()));
    assert!(d.to_origin, "the room broadcast includes the sender");
    assert_eq!(
        d.payload,
        json!({
            "_id": m.id.as_str(),
            "chatRoomId": ROOM,
            "senderId": ALICE,
            "text": "Hey, how are you?",
            "createdAt": "2026-01-05T12:00:00.000Z",
        })
    );
}

#[test]
fn joins_are_told_to_the_others_in_the_room() {
    let event = DomainEvent::ConversationJoined {
        participants: vec![uid(ALICE), uid(BOB)],
        conversation_id: ConversationId::parse(ROOM).unwrap(),
        user_id: uid(ALICE),
    };
    let d = &Linsta::default().render(&event)[0];
    assert_eq!(d.event, "user_joined");
    assert!(!d.to_origin);
    assert_eq!(d.payload, json!({ "userId": ALICE, "chatRoomId": ROOM }));
}

#[test]
fn notifications_go_to_the_recipient_in_the_family_shape() {
    let n = notification();
    let d = &Linsta::default().render(&DomainEvent::NotificationCreated(n.clone()))[0];
    assert_eq!(d.event, "notification");
    assert_eq!(d.audience, Audience::Users(vec![uid(BOB)]));
    assert_eq!(
        d.payload,
        json!({
            "_id": n.id.as_str(),
            "userId": BOB,
            "type": "LIKE",
            "message": "User liked your post",
            "referenceId": "66f1234567890abcdef30001",
            "isRead": false,
            "createdAt": "2026-01-05T12:00:00.000Z",
        })
    );
}

#[test]
fn history_answers_message_history_with_the_room() {
    let alice = profile(ALICE, "Alice");
    let page = HistoryPage {
        history: History {
            conversation: conversation(false),
            messages: vec![message("one", 1), message("two", 2)],
        },
        window: HistoryWindow::Skip { limit: 50, skip: 0 },
    };
    let reply = reply_history(&view(&alice), &page);
    assert_eq!(reply.emits.len(), 1);
    assert_eq!(reply.emits[0].event, "message_history");
    let payload = &reply.emits[0].payload;
    assert_eq!(payload["chatRoomId"], ROOM);
    let texts: Vec<_> = payload["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["one", "two"]);
    assert_eq!(&reply.ack, payload, "the ack gets the same result");
}

#[test]
fn other_events_are_not_part_of_linsta() {
    let event = DomainEvent::NotificationsRead {
        user_id: uid(BOB),
        notification_id: None,
    };
    assert!(Linsta::default().render(&event).is_empty());
}

#[test]
fn rest_history_populates_the_sender() {
    let m = message("hi", 1);
    let value = message_with_sender_json(&m, &profile(ALICE, "Alice"));
    assert_eq!(
        value["senderId"],
        json!({ "_id": ALICE, "name": "Alice", "email": "alice@example.com" })
    );
}

mod in_process {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::super::Linsta;
    use crate::adapters::inbound::session::harness::Harness;
    use crate::domain::{DataValue, NewNotification, UserId};

    /// More than one batch (`PENDING_BATCH` is 100): the whole backlog, in order, once.
    #[tokio::test]
    async fn pending_notifications_greet_the_next_connection_whole_and_once() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Linsta::default()), false);
        for n in 0..250 {
            h.use_cases
                .notify(NewNotification {
                    recipient: UserId::parse("bob").unwrap(),
                    kind: "LIKE".into(),
                    title: None,
                    message: format!("like {n}"),
                    reference_id: None,
                    data: DataValue::empty_map(),
                })
                .await
                .unwrap();
        }
        let first = listener.connect_as("bob", Value::Null).await;
        for n in 0..250 {
            let pushed = first.next("notification").await;
            assert_eq!(pushed["message"], json!(format!("like {n}")));
            assert_eq!(pushed["isRead"], false);
        }
        let second = listener.connect_as("bob", Value::Null).await;
        second.none("notification").await;
        assert!(second.greeting.is_empty(), "delivered once");
    }
}
