//! quickclinic's payload shapes (ids are `id`, not `_id`: the PostgreSQL-born family), shared
//! by its socket events and its REST answers.

use serde_json::{Value, json};

use crate::adapters::inbound::protocol::HistoryWindow;
use crate::adapters::inbound::wire_time::iso_millis;
use crate::app::History;
use crate::domain::{Conversation, ConversationContext, Message, MessageReceipt, UserId};

/// Context keys that make a conversation a relation, and the roles they give.
pub const DOCTOR_KEY: &str = "doctorId";
pub const PATIENT_KEY: &str = "patientId";

/// "doctor" or "patient" when the conversation is a relation the user is part of.
pub fn role_in(context: &ConversationContext, user: &UserId) -> Option<&'static str> {
    if context.get(DOCTOR_KEY) == Some(user.as_str()) {
        Some("doctor")
    } else if context.get(PATIENT_KEY) == Some(user.as_str()) {
        Some("patient")
    } else {
        None
    }
}

/// A relation: `{ id, doctorId, patientId, createdAt }`.
pub fn relation_json(relation: &Conversation) -> Value {
    json!({
        "id": relation.id.as_str(),
        "doctorId": relation.context.get(DOCTOR_KEY),
        "patientId": relation.context.get(PATIENT_KEY),
        "createdAt": iso_millis(relation.created_at),
    })
}

/// A message: `{ id, relationId, senderId, senderRole, text, isRead, readAt, createdAt }`.
pub fn message_json(
    m: &Message,
    context: Option<&ConversationContext>,
    receipt: &MessageReceipt,
) -> Value {
    json!({
        "id": m.id.as_str(),
        "relationId": m.conversation_id.as_str(),
        "senderId": m.sender.as_str(),
        "senderRole": context.and_then(|c| role_in(c, &m.sender)),
        "text": m.body.text,
        "isRead": receipt.is_read,
        "readAt": receipt.read_by.iter().map(|(_, at)| *at).max().map(iso_millis),
        "createdAt": iso_millis(m.created_at),
    })
}

/// `{ messages, pagination: { page, limit, total, totalPages, hasMore } }`, as both the
/// socket's `initial_messages` and the REST history answer it.
pub fn page_json(history: &History, window: HistoryWindow) -> Value {
    let (page, limit) = match window {
        HistoryWindow::Numbered { page, .. } => (u64::from(page.max(1)), window.page().limit),
        HistoryWindow::Skip { .. } => (1, window.page().limit),
    };
    let total = history.total();
    let total_pages = total.div_ceil(u64::from(limit));
    let conversation = &history.conversation;
    let messages: Vec<Value> = history
        .messages
        .iter()
        .map(|m| message_json(m, Some(&conversation.context), &conversation.receipt_for(m)))
        .collect();
    json!({
        "messages": messages,
        "pagination": {
            "page": page,
            "limit": limit,
            "total": total,
            "totalPages": total_pages,
            "hasMore": page < total_pages,
        },
    })
}
