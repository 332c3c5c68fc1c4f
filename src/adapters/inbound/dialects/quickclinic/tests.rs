//! quickclinic's table, replies and renderings, checked against the family's documented
//! examples.

use serde_json::json;

use super::*;
use crate::adapters::inbound::dialects::fixtures::{
    ALICE, BOB, ROOM, conversation, message, profile, uid,
};
use crate::app::History;
use crate::domain::{MessageId, ReadMark, Seq, Timestamp, TypingChange, UserProfile};

fn view<'a>(user: &'a UserProfile, bound: &'a Conversation) -> SessionView<'a> {
    SessionView {
        user,
        bound: Some(bound),
    }
}

#[test]
fn the_table_has_the_family_events() {
    assert_eq!(
        Quickclinic::default().events().events(),
        [
            "get_initial_messages",
            "mark_as_read",
            "send_message",
            "user_typing"
        ]
    );
}

#[test]
fn the_handshake_names_the_relation_in_auth_or_query() {
    let room = ConversationId::parse(ROOM).unwrap();
    let auth = json!({ "token": "t", "relationId": ROOM });
    let from_auth = Handshake {
        auth: &auth,
        query: &[],
    };
    assert_eq!(relation_of(&from_auth), Ok(room.clone()));
    let query = [("relationId".to_owned(), ROOM.to_owned())];
    let from_query = Handshake {
        auth: &Value::Null,
        query: &query,
    };
    assert_eq!(relation_of(&from_query), Ok(room));
    let none = Handshake {
        auth: &Value::Null,
        query: &[],
    };
    assert_eq!(relation_of(&none).unwrap_err().0, "relationId is required");
    assert!(Quickclinic::default().on_connect(&none).is_err());
    assert_eq!(
        Quickclinic::default()
            .on_connect(&from_auth)
            .map(|c| c.len()),
        Ok(1)
    );
}

#[test]
fn decodes_the_documented_events_against_the_bound_relation() {
    let alice = profile(ALICE, "Alice");
    let relation = conversation(true);
    let v = view(&alice, &relation);
    let room = relation.id.clone();
    let first_page = ReadHistory {
        conversation: room.clone(),
        window: HistoryWindow::Numbered { page: 1, limit: 20 },
    };
    assert_eq!(
        decode_page(&v, &json!({ "page": 1, "limit": 20 })),
        Ok(first_page.clone())
    );
    assert_eq!(decode_page(&v, &Value::Null), Ok(first_page));
    assert_eq!(
        decode_send(&v, &json!({ "text": "message" })),
        Ok(SendMessage(PostMessage::text(room.clone(), "message")))
    );
    assert_eq!(
        decode_typing(&v, &Value::Null),
        Ok(SetTyping {
            conversation: room,
            typing: true,
        })
    );
    assert_eq!(
        decode_read(&v, &json!({ "messageId": "id1" })),
        Ok(MarkMessageRead(MessageId::parse("id1").unwrap()))
    );
    assert_eq!(
        decode_read(&v, &json!({})).unwrap_err().0,
        "messageId is required"
    );
}

#[test]
fn events_need_the_bound_relation() {
    let alice = profile(ALICE, "Alice");
    let unbound = SessionView {
        user: &alice,
        bound: None,
    };
    assert!(decode_send(&unbound, &json!({ "text": "hi" })).is_err());
}

#[test]
fn connected_names_the_user_and_their_side_of_the_relation() {
    let bob = profile(BOB, "Bob");
    let relation = conversation(true);
    let reply = reply_connected(&view(&bob, &relation), &relation);
    assert_eq!(reply.emits[0].event, "connected");
    assert_eq!(
        reply.emits[0].payload,
        json!({ "userId": BOB, "userName": "Bob", "userRole": "patient" })
    );
}

#[test]
fn new_messages_carry_the_sender_role_and_reach_the_whole_room() {
    let m = message("Hello doctor", 1);
    let relation = conversation(true);
    let event = DomainEvent::MessagePosted {
        participants: vec![uid(ALICE), uid(BOB)],
        message: m.clone(),
        receipt: MessageReceipt::default(),
        sender: profile(ALICE, "Alice"),
        context: relation.context.clone(),
        alert: vec![],
    };
    let d = &Quickclinic::default().render(&event)[0];
    assert_eq!(d.event, "new_message");
    assert!(
        d.to_origin,
        "the sending connection shows its message when it comes back"
    );
    assert_eq!(
        d.payload,
        json!({ "message": {
            "id": m.id.as_str(),
            "relationId": ROOM,
            "senderId": ALICE,
            "senderRole": "doctor",
            "text": "Hello doctor",
            "isRead": false,
            "readAt": null,
            "createdAt": "2026-01-05T12:00:00.000Z",
        }})
    );
}

#[test]
fn typing_goes_to_the_other_side_only() {
    let change = TypingChange {
        conversation_id: ConversationId::parse(ROOM).unwrap(),
        user_id: uid(BOB),
        typing: true,
        at: Timestamp::from_millis(1),
    };
    let event = DomainEvent::TypingChanged {
        participants: vec![uid(ALICE), uid(BOB)],
        change: change.clone(),
        user_name: Some("Bob".into()),
    };
    let d = &Quickclinic::default().render(&event)[0];
    assert_eq!(d.event, "user_typing");
    assert_eq!(d.except_user, Some(uid(BOB)));
    assert_eq!(d.payload, json!({ "userId": BOB, "userName": "Bob" }));
    let stopped = DomainEvent::TypingChanged {
        participants: vec![],
        change: TypingChange {
            typing: false,
            ..change
        },
        user_name: None,
    };
    assert!(
        Quickclinic::default().render(&stopped).is_empty(),
        "the family has no stop event"
    );
}

#[test]
fn read_receipts_name_the_message_and_the_reader() {
    let event = DomainEvent::MessagesRead {
        participants: vec![uid(ALICE), uid(BOB)],
        mark: ReadMark {
            conversation_id: ConversationId::parse(ROOM).unwrap(),
            user_id: uid(BOB),
            up_to: Seq(3),
            at: Timestamp::from_millis(1),
        },
        message_id: Some(MessageId::parse("m3").unwrap()),
    };
    let d = &Quickclinic::default().render(&event)[0];
    assert_eq!(d.event, "message_read");
    assert_eq!(d.payload, json!({ "messageId": "m3", "readBy": BOB }));
}

#[test]
fn pages_count_from_the_newest() {
    let mut relation = conversation(true);
    relation.last_seq = Seq(45);
    let history = History {
        conversation: relation,
        messages: vec![message("a", 1)],
    };
    let page = page_json(&history, HistoryWindow::Numbered { page: 2, limit: 20 });
    assert_eq!(
        page["pagination"],
        json!({ "page": 2, "limit": 20, "total": 45, "totalPages": 3, "hasMore": true })
    );
    let last = page_json(&history, HistoryWindow::Numbered { page: 3, limit: 20 });
    assert_eq!(last["pagination"]["hasMore"], false);
}

mod in_process {
    use std::sync::Arc;

    use serde_json::json;

    use super::super::Quickclinic;
    use super::super::json::{DOCTOR_KEY, PATIENT_KEY};
    use crate::adapters::inbound::session::harness::Harness;
    use crate::app::Requester;
    use crate::domain::{ConversationContext, UserId};

    #[tokio::test]
    async fn a_message_reaches_the_whole_relation_the_sending_connection_included() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Quickclinic::default()), false);
        let context = ConversationContext::new([
            (DOCTOR_KEY.to_owned(), "doc".to_owned()),
            (PATIENT_KEY.to_owned(), "pat".to_owned()),
        ])
        .unwrap();
        let people = vec![UserId::parse("doc").unwrap(), UserId::parse("pat").unwrap()];
        let (relation, _) = h
            .use_cases
            .open_conversation(&Requester::Service, people, context)
            .await
            .unwrap();
        let handshake = json!({ "relationId": relation.id.as_str() });
        let mut doctor = listener.connect_as("doc", handshake.clone()).await;
        let patient = listener.connect_as("pat", handshake).await;
        assert_eq!(doctor.greeting[0].event, "connected");
        assert_eq!(doctor.greeting[0].payload["userRole"], "doctor");

        // Sent without an ack, as the family's clients do: the sender sees its message come
        // back as new_message, once, like the other side.
        let answer = doctor
            .emit("send_message", json!({ "text": "How are you feeling?" }))
            .await;
        assert!(answer.emits.is_empty(), "{answer:?}");
        for client in [&doctor, &patient] {
            let received = client.next("new_message").await;
            assert_eq!(received["message"]["text"], "How are you feeling?");
            assert_eq!(received["message"]["senderRole"], "doctor");
            client.none("new_message").await;
        }
    }

    #[tokio::test]
    async fn a_connection_outside_the_relation_is_refused() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Quickclinic::default()), false);
        let people = vec![UserId::parse("doc").unwrap(), UserId::parse("pat").unwrap()];
        let (relation, _) = h
            .use_cases
            .open_conversation(&Requester::Service, people, ConversationContext::default())
            .await
            .unwrap();
        let credentials = crate::adapters::inbound::auth::Credentials {
            token: Some(crate::adapters::inbound::session::harness::token_for("eve")),
            claimed_user: None,
        };
        let handshake = json!({ "relationId": relation.id.as_str() });
        let mut events = h.events();
        let Err(refusal) = listener.connect(credentials, handshake).await else {
            panic!("a stranger must be refused");
        };
        assert!(
            refusal.error.0.contains("not a participant"),
            "{}",
            refusal.error
        );
        let eve = UserId::parse("eve").unwrap();
        assert_eq!(h.presence.state(&eve).await.unwrap().connections, 0);
        // Nobody heard that eve came online, or went offline.
        let heard =
            tokio::time::timeout(std::time::Duration::from_millis(150), events.next()).await;
        assert!(heard.is_err(), "unexpected event {heard:?}");
    }
}
