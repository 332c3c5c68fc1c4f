//! kaajkaam's payload shapes (the family's Mongoose models), shared by its socket events and
//! its REST answers.

use serde_json::{Map, Value, json};

use crate::adapters::inbound::wire_time::iso_millis;
use crate::adapters::json::data_to_json;
use crate::app::ProfileBook;
use crate::domain::call::FinishedCall;
use crate::domain::{
    CallSession, Conversation, Message, MessageKind, MessageReceipt, Notification, UserId,
    UserProfile,
};

/// Context keys the family's conversations carry.
pub const CONTEXT_KEYS: [&str; 3] = ["orderId", "gigId", "jobId"];

/// A message: `{ _id, conversationId, sender, text, messageType, attachments, callInfo,
/// readBy: [{ userId, readAt }], isEdited, editedAt, createdAt }`. The family's message types
/// are `text`, `call`, `meeting` and `system`: a picture or file from another family is a
/// `text` message with attachments here.
pub fn message_json(m: &Message, receipt: &MessageReceipt) -> Value {
    let message_type = match m.body.kind {
        MessageKind::Text | MessageKind::Image | MessageKind::File => "text",
        other => other.as_str(),
    };
    json!({
        "_id": m.id.as_str(),
        "conversationId": m.conversation_id.as_str(),
        "sender": m.sender.as_str(),
        "text": m.body.text,
        "messageType": message_type,
        "attachments": m.body.attachments.iter().map(|a| json!({
            "url": a.url,
            "type": if a.kind.is_empty() { "file" } else { a.kind.as_str() },
            "name": a.name,
            "size": a.size,
        })).collect::<Vec<_>>(),
        "callInfo": m.body.call.map(|c| json!({
            "callType": c.call_type.as_str(),
            "duration": c.duration_secs,
            "status": c.status.as_str(),
        })),
        "readBy": receipt.read_by.iter().map(|(user, at)| json!({
            "userId": user.as_str(),
            "readAt": iso_millis(*at),
        })).collect::<Vec<_>>(),
        "isEdited": m.is_edited(),
        "editedAt": m.edited_at.map(iso_millis),
        "createdAt": iso_millis(m.created_at),
    })
}

/// A populated participant: `{ _id, name, email, avatar }`.
fn person_json(p: &UserProfile) -> Value {
    json!({
        "_id": p.id.as_str(),
        "name": p.display_name(),
        "email": p.email,
        "avatar": p.avatar,
    })
}

/// A conversation: `{ _id, participants: [{ _id, name, email, avatar }], orderId, gigId,
/// jobId, lastMessage: { text, sender, timestamp }, unreadCount: { <userId>: n }, isActive,
/// createdAt, updatedAt }`.
pub fn conversation_json(c: &Conversation, people: &ProfileBook) -> Value {
    let mut value = json!({
        "_id": c.id.as_str(),
        "participants": c.participant_ids().map(|id| person_json(&people.get(id))).collect::<Vec<_>>(),
        "lastMessage": c.last_message.as_ref().map(|last| json!({
            "text": last.text,
            "sender": last.sender.as_str(),
            "timestamp": iso_millis(last.at),
        })),
        "unreadCount": c
            .participant_ids()
            .map(|id| (id.as_str().to_owned(), Value::from(c.unread_for(id))))
            .collect::<Map<_, _>>(),
        "isActive": true,
        "createdAt": iso_millis(c.created_at),
        "updatedAt": iso_millis(c.updated_at),
    });
    for key in CONTEXT_KEYS {
        value[key] = c.context.get(key).map_or(Value::Null, Value::from);
    }
    value
}

/// `new_notification` for a stored notification: `{ _id, userId, type, title, message, data,
/// isRead, createdAt }`.
pub fn notification_json(n: &Notification) -> Value {
    json!({
        "_id": n.id.as_str(),
        "userId": n.recipient.as_str(),
        "type": n.kind,
        "title": n.title,
        "message": n.message,
        "data": data_to_json(&n.data),
        "isRead": n.is_read(),
        "createdAt": iso_millis(n.created_at),
    })
}

/// `new_notification` for a message to its other participant, in the same shape: `type:
/// "message"`, the sender's name as `title`, `data: { conversationId, messageId, senderId }`.
/// Not stored: `_id` is the message's.
pub fn message_notification_json(m: &Message, sender: &UserProfile, to: &UserId) -> Value {
    json!({
        "_id": m.id.as_str(),
        "userId": to.as_str(),
        "type": "message",
        "title": sender.display_name(),
        "message": m.body.text,
        "data": {
            "conversationId": m.conversation_id.as_str(),
            "messageId": m.id.as_str(),
            "senderId": m.sender.as_str(),
        },
        "isRead": false,
        "createdAt": iso_millis(m.created_at),
    })
}

/// `call:incoming { callId, conversationId, callType, offer, from }`.
pub fn incoming_json(call: &CallSession, offer: Value) -> Value {
    json!({
        "callId": call.id.as_str(),
        "conversationId": call.conversation_id.as_str(),
        "callType": call.call_type.as_str(),
        "offer": offer,
        "from": call.caller.as_str(),
    })
}

/// The events that name a call and who it comes from: `{ callId, from }`.
pub fn call_from_json(call: &CallSession, from: &UserId) -> Value {
    json!({ "callId": call.id.as_str(), "from": from.as_str() })
}

/// The ack of a call request: the call and where it stands.
pub fn call_ack_json(call: &CallSession) -> Value {
    json!({
        "callId": call.id.as_str(),
        "conversationId": call.conversation_id.as_str(),
        "callType": call.call_type.as_str(),
    })
}

/// The ack of a finished call: the call and what it is recorded as.
pub fn finished_ack_json(finished: &FinishedCall) -> Value {
    let record = finished.record();
    json!({
        "callId": finished.session.id.as_str(),
        "status": record.status.as_str(),
        "duration": record.duration_secs,
    })
}
