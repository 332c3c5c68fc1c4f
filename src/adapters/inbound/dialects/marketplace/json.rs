//! marketplace's payload shapes.

use serde_json::{Value, json};

use crate::adapters::inbound::protocol::UserStatus;
use crate::adapters::inbound::wire_time::iso_millis;
use crate::adapters::json::data_to_json;
use crate::domain::{Attachment, Message, MessageReceipt, Notification};

/// A message (`new-message`, `message-notification`, the `send-message` ack):
/// `{ _id, chatId, sender, content, messageType, media, delivered, isRead, createdAt }`.
pub fn message_json(m: &Message, receipt: &MessageReceipt) -> Value {
    json!({
        "_id": m.id.as_str(),
        "chatId": m.conversation_id.as_str(),
        "sender": m.sender.as_str(),
        "content": m.body.text,
        "messageType": m.body.kind.as_str(),
        "media": m.body.attachments.iter().map(media_json).collect::<Vec<_>>(),
        "delivered": receipt.delivered,
        "isRead": receipt.is_read,
        "createdAt": iso_millis(m.created_at),
    })
}

/// A media entry comes back in the form it was sent: a URL string (kept as an attachment
/// without a type), or `{ url, type, name, size }`.
fn media_json(a: &Attachment) -> Value {
    if a.kind.is_empty() {
        Value::String(a.url.clone())
    } else {
        json!({ "url": a.url, "type": a.kind, "name": a.name, "size": a.size })
    }
}

/// `online-status` and `user-status-changed`: `{ userId, isOnline, lastActive }`.
pub fn status_json(status: &UserStatus) -> Value {
    json!({
        "userId": status.user.as_str(),
        "isOnline": status.status.online,
        "lastActive": status.status.last_active.map(iso_millis),
    })
}

/// `new-notification`: `{ _id, userId, type, title, message, data, isRead, delivered,
/// createdAt }`.
pub fn notification_json(n: &Notification) -> Value {
    json!({
        "_id": n.id.as_str(),
        "userId": n.recipient.as_str(),
        "type": n.kind,
        "title": n.title,
        "message": n.message,
        "data": data_to_json(&n.data),
        "isRead": n.is_read(),
        "delivered": n.is_delivered(),
        "createdAt": iso_millis(n.created_at),
    })
}
