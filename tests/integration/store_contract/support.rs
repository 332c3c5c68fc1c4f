//! What the contract checks share: the fixture an adapter's factory returns, and builders
//! for the domain values the checks store.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

use switchboard::domain::{
    CallId, CallSession, CallState, CallType, Conversation, ConversationContext, ConversationId,
    DataValue, Message, MessageBody, MessageId, MessageKind, MessageRules, NewMessage,
    Notification, NotificationId, Timestamp, UserId,
};
use switchboard::ports::Stores;

/// One adapter's stores for one check, plus whatever must outlive them (a temporary
/// directory, a database to drop).
pub struct Fixture {
    pub stores: Stores,
    _keep_alive: Option<Box<dyn Any + Send>>,
}

impl Fixture {
    // Unused when only adapters without anything to keep alive are compiled in.
    #[allow(dead_code)]
    pub fn keeping(stores: Stores, keep_alive: impl Any + Send) -> Self {
        Self {
            stores,
            _keep_alive: Some(Box::new(keep_alive)),
        }
    }
}

impl From<Stores> for Fixture {
    fn from(stores: Stores) -> Self {
        Self {
            stores,
            _keep_alive: None,
        }
    }
}

pub fn uid(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

pub fn cid(raw: &str) -> ConversationId {
    ConversationId::parse(raw).unwrap()
}

pub fn nid(raw: &str) -> NotificationId {
    NotificationId::parse(raw).unwrap()
}

pub fn call_id(raw: &str) -> CallId {
    CallId::parse(raw).unwrap()
}

pub fn t(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

/// Ids that no other check in the process uses.
pub fn fresh(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn conversation(id: &str, users: &[&str]) -> Conversation {
    conversation_at(id, users, &[], t(0))
}

pub fn conversation_at(
    id: &str,
    users: &[&str],
    context: &[(&str, &str)],
    at: Timestamp,
) -> Conversation {
    let context =
        ConversationContext::new(context.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .unwrap();
    Conversation::new(cid(id), users.iter().map(|u| uid(u)).collect(), context, at).unwrap()
}

/// Stores a new conversation and checks that it was created.
pub async fn create(stores: &Stores, candidate: Conversation) -> Conversation {
    let (stored, created) = stores
        .conversations
        .get_or_create(&candidate)
        .await
        .unwrap();
    assert!(created, "{} should be new", candidate.id);
    stored
}

pub fn text_message(
    conversation: &ConversationId,
    sender: &str,
    text: &str,
    at: Timestamp,
) -> NewMessage {
    NewMessage {
        id: MessageId::parse(fresh("m")).unwrap(),
        conversation_id: conversation.clone(),
        sender: uid(sender),
        body: MessageBody::new(
            MessageKind::Text,
            text,
            vec![],
            None,
            &MessageRules::default(),
        )
        .unwrap(),
        client_key: None,
        created_at: at,
    }
}

/// Appends a text message and checks that it was not taken for a duplicate.
pub async fn post(
    stores: &Stores,
    conversation: &ConversationId,
    sender: &str,
    at: Timestamp,
) -> Message {
    let appended = stores
        .messages
        .append(&text_message(conversation, sender, "hello", at))
        .await
        .unwrap();
    assert!(!appended.duplicate);
    appended.message
}

pub fn notification(id: &str, recipient: &str, at: Timestamp) -> Notification {
    Notification {
        id: nid(id),
        recipient: uid(recipient),
        kind: "LIKE".into(),
        title: None,
        message: format!("notification {id}"),
        reference_id: None,
        data: DataValue::empty_map(),
        created_at: at,
        delivered_at: None,
        read_at: None,
    }
}

pub fn ringing_call(id: &str, caller: &str, callee: &str, at: Timestamp) -> CallSession {
    CallSession {
        id: call_id(id),
        conversation_id: cid("call-conversation"),
        caller: uid(caller),
        callee: uid(callee),
        call_type: CallType::Video,
        started_at: at,
        state: CallState::Ringing,
    }
}

pub fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}
