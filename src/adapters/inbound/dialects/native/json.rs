//! The native protocol's payload shapes (docs/PROTOCOL.md): camelCase, ids as strings,
//! times as ISO 8601 with milliseconds, every message with its `seq`.

use serde_json::{Value, json};

use crate::adapters::inbound::wire_time::iso_millis;
use crate::adapters::json::data_to_json;
use crate::app::OnlineStatus;
use crate::domain::call::FinishedCall;
use crate::domain::{
    CallSession, CallState, Conversation, EndReason, Message, MessageReceipt, Notification,
    ReadMark, Timestamp, UserId, UserProfile,
};

/// A message; `receipt` (when known) adds `delivered`, `read` and `readBy`.
pub fn message_json(m: &Message, receipt: Option<&MessageReceipt>) -> Value {
    let mut value = json!({
        "id": m.id.as_str(),
        "conversationId": m.conversation_id.as_str(),
        "seq": m.seq.0,
        "senderId": m.sender.as_str(),
        "kind": m.body.kind.as_str(),
        "text": m.body.text,
        "attachments": m.body.attachments.iter().map(|a| json!({
            "url": a.url, "kind": a.kind, "name": a.name, "size": a.size,
        })).collect::<Vec<_>>(),
        "call": m.body.call.map(|c| json!({
            "callType": c.call_type.as_str(),
            "durationSecs": c.duration_secs,
            "status": c.status.as_str(),
        })),
        "clientKey": m.client_key.as_ref().map(|k| k.as_str()),
        "createdAt": iso_millis(m.created_at),
        "editedAt": m.edited_at.map(iso_millis),
    });
    if let (Some(receipt), Some(obj)) = (receipt, value.as_object_mut()) {
        obj.insert("delivered".into(), receipt.delivered.into());
        obj.insert("read".into(), receipt.is_read.into());
        obj.insert(
            "readBy".into(),
            receipt
                .read_by
                .iter()
                .map(|(user, at)| json!({ "userId": user.as_str(), "at": iso_millis(*at) }))
                .collect::<Vec<_>>()
                .into(),
        );
    }
    value
}

/// A message of a conversation, with its receipt derived from the conversation's marks.
pub fn message_in(m: &Message, conversation: &Conversation) -> Value {
    message_json(m, Some(&conversation.receipt_for(m)))
}

/// A conversation as `viewer` sees it: every participant's read and delivered marks (what
/// "read by" is derived from), and the viewer's unread count.
pub fn conversation_json(c: &Conversation, viewer: &UserId) -> Value {
    json!({
        "id": c.id.as_str(),
        "participants": c.participants.iter().map(|p| json!({
            "userId": p.user_id.as_str(),
            "readSeq": p.read.seq.0,
            "readAt": p.read.at.map(iso_millis),
            "deliveredSeq": p.delivered.seq.0,
            "deliveredAt": p.delivered.at.map(iso_millis),
        })).collect::<Vec<_>>(),
        "context": c.context.iter()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect::<serde_json::Map<_, _>>(),
        "lastSeq": c.last_seq.0,
        "unread": c.unread_for(viewer),
        "lastMessage": c.last_message.as_ref().map(|m| json!({
            "seq": m.seq.0,
            "text": m.text,
            "senderId": m.sender.as_str(),
            "at": iso_millis(m.at),
        })),
        "createdAt": iso_millis(c.created_at),
        "updatedAt": iso_millis(c.updated_at),
    })
}

/// A read or delivered mark that moved: everything up to `seq` reached that state for `userId`.
pub fn receipt_json(mark: &ReadMark, kind: &str, message_id: Option<&str>) -> Value {
    json!({
        "conversationId": mark.conversation_id.as_str(),
        "userId": mark.user_id.as_str(),
        "kind": kind,
        "seq": mark.up_to.0,
        "at": iso_millis(mark.at),
        "messageId": message_id,
    })
}

pub fn notification_json(n: &Notification) -> Value {
    json!({
        "id": n.id.as_str(),
        "type": n.kind,
        "title": n.title,
        "message": n.message,
        "referenceId": n.reference_id,
        "data": data_to_json(&n.data),
        "createdAt": iso_millis(n.created_at),
        "deliveredAt": n.delivered_at.map(iso_millis),
        "readAt": n.read_at.map(iso_millis),
    })
}

pub fn user_json(p: &UserProfile) -> Value {
    json!({
        "id": p.id.as_str(),
        "name": p.name,
        "email": p.email,
        "avatar": p.avatar,
        "role": p.role.as_ref().map(|r| r.as_str()),
    })
}

pub fn presence_json(user: &UserId, online: bool, last_active: Option<Timestamp>) -> Value {
    json!({
        "userId": user.as_str(),
        "online": online,
        "lastActive": last_active.map(iso_millis),
    })
}

pub fn status_json(user: &UserId, status: &OnlineStatus) -> Value {
    presence_json(user, status.online, status.last_active)
}

pub fn call_json(call: &CallSession) -> Value {
    let (state, accepted_at) = match call.state {
        CallState::Ringing => ("ringing", None),
        CallState::Active { accepted_at } => ("active", Some(iso_millis(accepted_at))),
    };
    json!({
        "id": call.id.as_str(),
        "conversationId": call.conversation_id.as_str(),
        "callerId": call.caller.as_str(),
        "calleeId": call.callee.as_str(),
        "callType": call.call_type.as_str(),
        "state": state,
        "startedAt": iso_millis(call.started_at),
        "acceptedAt": accepted_at,
    })
}

pub fn finished_json(finished: &FinishedCall) -> Value {
    let mut value = call_json(&finished.session);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("state".into(), "ended".into());
        obj.insert("reason".into(), end_reason(finished.reason).into());
        obj.insert("outcome".into(), finished.outcome().as_str().into());
        obj.insert(
            "endedBy".into(),
            finished.ended_by.as_ref().map(UserId::as_str).into(),
        );
        obj.insert("endedAt".into(), iso_millis(finished.ended_at).into());
    }
    value
}

fn end_reason(reason: EndReason) -> &'static str {
    match reason {
        EndReason::HungUp => "hung_up",
        EndReason::Declined => "declined",
        EndReason::Timeout => "timeout",
        EndReason::Busy => "busy",
        EndReason::Cancelled => "cancelled",
        EndReason::Disconnected => "disconnected",
    }
}
