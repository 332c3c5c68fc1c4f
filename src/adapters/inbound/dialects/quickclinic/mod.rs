//! quickclinic: a chat is a doctor–patient *relation*. The handshake carries the token and
//! the `relationId`; the connection is bound to that relation's room and greeted with
//! `connected`, and the events (`get_initial_messages`, `send_message`, `user_typing`,
//! `mark_as_read`) need no relation id of their own. Messages reach the whole room as
//! `new_message`, the sending connection included: the family's clients send without an
//! ack and show their own message when it comes back. REST under
//! `/api/doctorpatientrelations` (see `rest`).

mod json;
mod rest;
#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use crate::adapters::inbound::protocol::args;
use crate::adapters::inbound::protocol::{
    Audience, BindConversation, Delivery, Dialect, Handshake, HistoryPage, HistoryWindow,
    MarkMessageRead, MessageRead, ReadHistory, Reply, SendMessage, SessionView, SetTyping,
    WireError,
};
use crate::adapters::inbound::session::{Call, EventTable};
use crate::adapters::inbound::transports::http::RestState;
use crate::app::{PostMessage, Posted};
use crate::domain::{Conversation, ConversationId, DomainEvent, MessageReceipt};
use json::{message_json, page_json, role_in};

/// The page size when the client gives none (the family's client asks for 20).
const DEFAULT_LIMIT: u32 = 20;

pub struct Quickclinic {
    events: EventTable,
}

impl Default for Quickclinic {
    fn default() -> Self {
        Self {
            events: EventTable::new()
                .on("get_initial_messages", decode_page, reply_page)
                .on("send_message", decode_send, reply_sent)
                .on("user_typing", decode_typing, |_, ()| {
                    Reply::ack_only(json!({}))
                })
                .on("mark_as_read", decode_read, reply_read),
        }
    }
}

impl Dialect for Quickclinic {
    fn name(&self) -> &'static str {
        "quickclinic"
    }

    fn on_connect(&self, handshake: &Handshake<'_>) -> Result<Vec<Call>, WireError> {
        let relation = relation_of(handshake)?;
        Ok(vec![Call::new(BindConversation(relation), reply_connected)])
    }

    fn events(&self) -> &EventTable {
        &self.events
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessagePosted {
                message,
                receipt,
                context,
                ..
            } => vec![
                Delivery::new(
                    Audience::Room(message.conversation_id.clone()),
                    "new_message",
                    json!({ "message": message_json(message, Some(context), receipt) }),
                )
                .including_origin(),
            ],
            DomainEvent::TypingChanged {
                change, user_name, ..
            } if change.typing => vec![
                Delivery::new(
                    Audience::Room(change.conversation_id.clone()),
                    "user_typing",
                    json!({
                        "userId": change.user_id.as_str(),
                        "userName": user_name.as_deref().unwrap_or(change.user_id.as_str()),
                    }),
                )
                .except(&change.user_id),
            ],
            DomainEvent::MessagesRead {
                mark,
                message_id: Some(message_id),
                ..
            } => vec![
                Delivery::new(
                    Audience::Room(mark.conversation_id.clone()),
                    "message_read",
                    json!({ "messageId": message_id.as_str(), "readBy": mark.user_id.as_str() }),
                )
                .including_origin(),
            ],
            _ => vec![],
        }
    }

    fn rest(&self) -> axum::Router<RestState> {
        rest::router()
    }
}

/// The relation a connection asks for: `relationId` in the handshake's auth or query.
fn relation_of(handshake: &Handshake<'_>) -> Result<ConversationId, WireError> {
    let relation = handshake
        .param("relationId")
        .ok_or_else(|| WireError::new("relationId is required"))?;
    ConversationId::parse(relation).map_err(|e| WireError::new(format!("relationId: {e}")))
}

/// Events without arguments are common here (`user_typing()`); absent means empty.
fn object_or_empty<'a>(
    args: &'a Value,
    event: &str,
) -> Result<std::borrow::Cow<'a, serde_json::Map<String, Value>>, WireError> {
    if args.is_null() {
        return Ok(std::borrow::Cow::Owned(serde_json::Map::new()));
    }
    args::object(args, event).map(std::borrow::Cow::Borrowed)
}

/// `connected { userId, userName, userRole }`: who the user is, and their side of the
/// relation.
fn reply_connected(view: &SessionView<'_>, relation: &Conversation) -> Reply {
    Reply::event(
        "connected",
        json!({
            "userId": view.user.id.as_str(),
            "userName": view.user.display_name(),
            "userRole": role_in(&relation.context, &view.user.id)
                .or(view.user.role.as_ref().map(|r| r.as_str())),
        }),
    )
}

fn decode_page(view: &SessionView<'_>, args: &Value) -> Result<ReadHistory, WireError> {
    let obj = object_or_empty(args, "get_initial_messages")?;
    Ok(ReadHistory {
        conversation: view.bound_id()?.clone(),
        window: HistoryWindow::Numbered {
            page: args::small_count(&obj, "page", 1)?.max(1),
            limit: args::small_count(&obj, "limit", DEFAULT_LIMIT)?,
        },
    })
}

fn reply_page(_: &SessionView<'_>, page: &HistoryPage) -> Reply {
    Reply::event("initial_messages", page_json(&page.history, page.window))
}

fn decode_send(view: &SessionView<'_>, args: &Value) -> Result<SendMessage, WireError> {
    let obj = object_or_empty(args, "send_message")?;
    Ok(SendMessage(PostMessage::text(
        view.bound_id()?.clone(),
        args::text(&obj, "text")?,
    )))
}

/// The ack is `{ message }`; the `new_message` event comes from the room, to this
/// connection too.
fn reply_sent(_: &SessionView<'_>, posted: &Posted) -> Reply {
    Reply::ack_only(json!({
        "message": message_json(
            &posted.message,
            Some(&posted.conversation.context),
            &MessageReceipt::default(),
        ),
    }))
}

fn decode_typing(view: &SessionView<'_>, _: &Value) -> Result<SetTyping, WireError> {
    Ok(SetTyping {
        conversation: view.bound_id()?.clone(),
        typing: true,
    })
}

fn decode_read(_: &SessionView<'_>, args: &Value) -> Result<MarkMessageRead, WireError> {
    let obj = object_or_empty(args, "mark_as_read")?;
    Ok(MarkMessageRead(args::message_id(&obj, "messageId")?))
}

fn reply_read(_: &SessionView<'_>, read: &MessageRead) -> Reply {
    Reply::ack_only(json!({
        "messageId": read.message.id.as_str(),
        "readBy": read.by.as_str(),
    }))
}
