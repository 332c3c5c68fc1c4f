//! linsta's payload shapes, shared by its socket events and its REST answers so the two
//! always agree.

use serde_json::{Value, json};

use crate::adapters::inbound::wire_time::iso_millis;
use crate::domain::{Message, Notification, UserProfile};

/// `receive_message` and history entries: `{ _id, chatRoomId, senderId, text, createdAt }`.
pub fn message_json(m: &Message) -> Value {
    json!({
        "_id": m.id.as_str(),
        "chatRoomId": m.conversation_id.as_str(),
        "senderId": m.sender.as_str(),
        "text": m.body.text,
        "createdAt": iso_millis(m.created_at),
    })
}

/// REST history entries: the sender populated as `{ _id, name, email }`.
pub fn message_with_sender_json(m: &Message, sender: &UserProfile) -> Value {
    let mut value = message_json(m);
    value["senderId"] = user_json(sender);
    value
}

/// A populated user reference: `{ _id, name, email }`.
pub fn user_json(user: &UserProfile) -> Value {
    json!({
        "_id": user.id.as_str(),
        "name": user.display_name(),
        "email": user.email,
    })
}

/// `notification`: `{ _id, userId, type, message, referenceId, isRead, createdAt }`.
pub fn notification_json(n: &Notification) -> Value {
    json!({
        "_id": n.id.as_str(),
        "userId": n.recipient.as_str(),
        "type": n.kind,
        "message": n.message,
        "referenceId": n.reference_id,
        "isRead": n.is_read(),
        "createdAt": iso_millis(n.created_at),
    })
}
