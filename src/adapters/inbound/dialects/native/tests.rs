//! native's table, decoders and renderings: what docs/PROTOCOL.md promises, checked without
//! a socket (the end-to-end flows are in tests/integration/native_ws).

use serde_json::json;

use super::*;
use crate::adapters::inbound::dialects::fixtures::{
    ALICE, BOB, ROOM, conversation, message, profile, uid, view,
};
use crate::adapters::inbound::protocol::{Audience, ErrorCode, Resume, SendMessage, SeqRange};
use crate::domain::{MessageReceipt, Seq};

#[test]
fn the_table_has_every_request_of_the_protocol() {
    assert_eq!(
        Native::default().events().events(),
        [
            "call.accept",
            "call.decline",
            "call.hangup",
            "call.place",
            "call.signal",
            "conversations.delivered",
            "conversations.hide",
            "conversations.join",
            "conversations.leave",
            "conversations.list",
            "conversations.open",
            "conversations.read",
            "messages.edit",
            "messages.history",
            "messages.read",
            "messages.send",
            "notifications.list",
            "notifications.pending",
            "notifications.read",
            "notifications.readAll",
            "notifications.unreadCount",
            "presence.get",
            "presence.set",
            "typing.start",
            "typing.stop",
        ]
    );
}

#[test]
fn a_message_reaches_every_connection_of_every_participant_with_its_position() {
    let m = message("hi", 7);
    let deliveries = Native::default().render(&DomainEvent::MessagePosted {
        participants: vec![uid(ALICE), uid(BOB)],
        message: m.clone(),
        receipt: MessageReceipt::default(),
        sender: profile(ALICE, "Alice"),
        context: Default::default(),
        alert: vec![],
    });
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.event, "message.new");
    assert_eq!(d.audience, Audience::Users(vec![uid(ALICE), uid(BOB)]));
    assert!(d.to_origin, "the sender's connection sees every seq too");
    assert_eq!(d.position, Some((m.conversation_id.clone(), Seq(7))));
    assert_eq!(
        (
            d.payload["seq"].clone(),
            d.payload["conversationId"].clone()
        ),
        (json!(7), json!(ROOM))
    );
}

#[test]
fn send_reads_the_documented_fields() {
    let alice = profile(ALICE, "Alice");
    let SendMessage(post) = decode::send(
        &view(&alice),
        &json!({ "conversationId": ROOM, "text": "hi", "clientKey": "k-1", "kind": "image",
                 "attachments": [{ "url": "/u/a.png", "kind": "image", "name": "a.png", "size": 3 }] }),
    )
    .unwrap();
    assert_eq!(
        (
            post.text.as_str(),
            post.client_key.as_deref(),
            post.attachments.len()
        ),
        ("hi", Some("k-1"), 1)
    );
    for (bad, field) in [
        (json!({ "text": "hi" }), "conversationId"),
        (json!({ "conversationId": ROOM, "text": 1 }), "text"),
        (json!({ "conversationId": ROOM, "kind": "call" }), "kind"),
        (
            json!({ "conversationId": ROOM, "attachments": {} }),
            "attachments",
        ),
    ] {
        let e = decode::send(&view(&alice), &bad).unwrap_err();
        assert!(e.0.contains(field), "{bad}: {e}");
        assert_eq!(e.code(), ErrorCode::BadRequest);
    }
    let many = json!({ "conversationId": ROOM, "attachments": vec![json!({ "url": "u" }); 21] });
    assert_eq!(
        decode::send(&view(&alice), &many).unwrap_err().code(),
        ErrorCode::TooLarge
    );
}

#[test]
fn history_is_addressed_by_seq() {
    let alice = profile(ALICE, "Alice");
    let range = |data| decode::history(&view(&alice), &data).map(|r| r.range);
    assert_eq!(
        range(json!({ "conversationId": ROOM, "afterSeq": 4 })),
        Ok(SeqRange::After(Seq(4)))
    );
    assert_eq!(
        range(json!({ "conversationId": ROOM, "beforeSeq": 4 })),
        Ok(SeqRange::Before(Seq(4)))
    );
    assert_eq!(
        range(json!({ "conversationId": ROOM, "beforeSeq": null })),
        Ok(SeqRange::Before(Seq(u64::MAX))),
        "null is absent: the newest page"
    );
    assert!(range(json!({ "conversationId": ROOM, "afterSeq": 1, "beforeSeq": 3 })).is_err());
}

#[test]
fn a_resume_names_conversations_and_seqs_within_its_limits() {
    assert_eq!(
        decode::resume(&json!({ "conversations": { ROOM: 41 } })),
        Ok(Resume {
            after: vec![(crate::domain::ConversationId::parse(ROOM).unwrap(), Seq(41))],
            limit: RESUME_MESSAGE_LIMIT,
        })
    );
    for bad in [
        json!([]),
        json!({ "conversations": [] }),
        json!({ "conversations": { ROOM: -1 } }),
        json!({ "conversations": { ROOM: "41" } }),
    ] {
        assert_eq!(
            decode::resume(&bad).unwrap_err().code(),
            ErrorCode::BadRequest,
            "{bad}"
        );
    }
    let too_many: serde_json::Map<String, serde_json::Value> = (0..=MAX_RESUME_CONVERSATIONS)
        .map(|i| (format!("c{i}"), json!(0)))
        .collect();
    assert_eq!(
        decode::resume(&json!({ "conversations": too_many }))
            .unwrap_err()
            .code(),
        ErrorCode::TooLarge
    );
}

#[test]
fn a_conversation_shows_every_participants_marks_and_the_viewers_unread() {
    let mut c = conversation(false);
    c.apply_posted(&message("one", 1));
    c.apply_posted(&message("two", 2));
    let shown = json::conversation_json(&c, &uid(BOB));
    assert_eq!(
        (shown["lastSeq"].clone(), shown["unread"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(shown["participants"].as_array().unwrap().len(), 2);
    assert_eq!(shown["participants"][1]["readSeq"], 0);
}
