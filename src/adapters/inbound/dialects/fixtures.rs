//! Values from the families' documented examples, shared by the dialects' tests.

use crate::adapters::inbound::protocol::SessionView;
use crate::domain::{
    Conversation, ConversationContext, ConversationId, DataValue, Message, MessageBody, MessageId,
    MessageKind, MessageRules, NewMessage, NewNotification, Notification, NotificationId, Seq,
    Timestamp, UserId, UserProfile,
};

/// 2026-01-05T12:00:00.000Z, the date of those examples.
pub const AT: Timestamp = Timestamp::from_millis(1_767_614_400_000);
pub const ROOM: &str = "66f1234567890abcdef01234";
pub const ALICE: &str = "66f1234567890abcdef0000a";
pub const BOB: &str = "66f1234567890abcdef0000b";

pub fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

/// What a dialect sees of a connection of `user`, bound to no conversation.
pub fn view(user: &UserProfile) -> SessionView<'_> {
    SessionView { user, bound: None }
}

pub fn profile(id: &str, name: &str) -> UserProfile {
    UserProfile {
        name: Some(name.into()),
        email: Some(format!("{}@example.com", name.to_lowercase())),
        ..UserProfile::bare(uid(id))
    }
}

/// A conversation of Alice and Bob, optionally a relation (Alice the doctor).
pub fn conversation(relation: bool) -> Conversation {
    let context = if relation {
        ConversationContext::new([
            ("doctorId".to_owned(), ALICE.to_owned()),
            ("patientId".to_owned(), BOB.to_owned()),
        ])
        .unwrap()
    } else {
        ConversationContext::default()
    };
    Conversation::new(
        ConversationId::parse(ROOM).unwrap(),
        vec![uid(ALICE), uid(BOB)],
        context,
        AT,
    )
    .unwrap()
}

pub fn message(text: &str, seq: u64) -> Message {
    let body = MessageBody::new(
        MessageKind::Text,
        text,
        vec![],
        None,
        &MessageRules::default(),
    )
    .unwrap();
    NewMessage::compose(
        &conversation(false),
        &uid(ALICE),
        body,
        None,
        MessageId::parse(format!("66f1234567890abcdef1000{seq}")).unwrap(),
        AT,
    )
    .unwrap()
    .stored_as(Seq(seq))
}

pub fn notification() -> Notification {
    Notification::create(
        NotificationId::parse("66f1234567890abcdef20001").unwrap(),
        NewNotification {
            recipient: uid(BOB),
            kind: "LIKE".into(),
            title: None,
            message: "User liked your post".into(),
            reference_id: Some("66f1234567890abcdef30001".into()),
            data: DataValue::Null,
        },
        AT,
    )
    .unwrap()
}
