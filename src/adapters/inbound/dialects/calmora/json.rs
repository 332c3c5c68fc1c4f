//! calmora's payload shapes, shared by its socket events and its REST answers.

use serde_json::{Value, json};

use crate::adapters::inbound::wire_time::iso_millis;
use crate::adapters::json::data_to_json;
use crate::domain::{Message, Notification, UserId, UserProfile};

/// `receiveMessage` and the `sendMessage` ack:
/// `{ _id, chatId, senderId, recipientId, message, createdAt, sender: { _id, name, avatar } }`.
pub fn message_json(m: &Message, sender: &UserProfile, recipient: Option<&UserId>) -> Value {
    json!({
        "_id": m.id.as_str(),
        "chatId": m.conversation_id.as_str(),
        "senderId": m.sender.as_str(),
        "recipientId": recipient.map(UserId::as_str),
        "message": m.body.text,
        "createdAt": iso_millis(m.created_at),
        "sender": {
            "_id": sender.id.as_str(),
            "name": sender.display_name(),
            "avatar": sender.avatar,
        },
    })
}

/// `new_notification` for a stored notification: `{ _id, userId, type, message, extra,
/// createdAt }` (`extra` is the notification's data).
pub fn notification_json(n: &Notification) -> Value {
    json!({
        "_id": n.id.as_str(),
        "userId": n.recipient.as_str(),
        "type": n.kind,
        "message": n.message,
        "extra": data_to_json(&n.data),
        "createdAt": iso_millis(n.created_at),
    })
}

/// `new_notification` for a chat message to a recipient who is not viewing the chat, in the
/// same shape: `type: "chat"`, `extra: { chatId, senderId, senderName }`. Chat alerts are not
/// stored notifications: `_id` is the message's.
pub fn chat_alert_json(m: &Message, sender: &UserProfile, recipient: &UserId) -> Value {
    let name = sender.display_name();
    json!({
        "_id": m.id.as_str(),
        "userId": recipient.as_str(),
        "type": "chat",
        "message": format!("New message from {name}"),
        "extra": {
            "chatId": m.conversation_id.as_str(),
            "senderId": m.sender.as_str(),
            "senderName": name,
        },
        "createdAt": iso_millis(m.created_at),
    })
}
