//! linsta: a JWT in the handshake's `auth.token` (required); chat rooms joined with
//! `join_room`, messages as `receive_message` to the whole room (the sender's connection
//! included, as the family's Node server broadcast them), history by `limit`/`skip`, and
//! notifications pushed as `notification`, pending ones as soon as a connection opens. REST
//! under `/api/chat` (see `rest`).

mod json;
mod rest;
#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use crate::adapters::inbound::protocol::args;
use crate::adapters::inbound::protocol::{
    Audience, DeliverPending, Delivery, Dialect, Emit, Handshake, HistoryPage, HistoryWindow,
    JoinConversation, ReadHistory, Reply, SendMessage, SessionView, SubscribeNotifications,
    WireError,
};
use crate::adapters::inbound::session::{Call, EventTable};
use crate::adapters::inbound::transports::http::RestState;
use crate::app::{PostMessage, Posted};
use crate::domain::{Conversation, DomainEvent};
use json::{message_json, notification_json};

/// The page size of history when the client gives none.
const DEFAULT_LIMIT: u32 = 50;

pub struct Linsta {
    events: EventTable,
}

impl Default for Linsta {
    fn default() -> Self {
        Self {
            events: EventTable::new()
                .on("join_room", decode_join, reply_joined)
                .on("send_message", decode_send, reply_sent)
                .on("get_history", decode_history, reply_history)
                .on(
                    "subscribe_notifications",
                    |_, _| Ok(SubscribeNotifications),
                    |_, ()| Reply::event("notification_subscribed", json!({})),
                ),
        }
    }
}

impl Dialect for Linsta {
    fn name(&self) -> &'static str {
        "linsta"
    }

    fn on_connect(&self, _: &Handshake<'_>) -> Result<Vec<Call>, WireError> {
        Ok(vec![Call::new(
            DeliverPending {
                render: |n| Emit::new("notification", notification_json(n)),
            },
            reply_pending,
        )])
    }

    fn events(&self) -> &EventTable {
        &self.events
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessagePosted { message, .. } => vec![
                Delivery::new(
                    Audience::Room(message.conversation_id.clone()),
                    "receive_message",
                    message_json(message),
                )
                // The Node server broadcast to the room with io.to(): the sender's UI shows
                // its own message when it comes back.
                .including_origin(),
            ],
            DomainEvent::ConversationJoined {
                conversation_id,
                user_id,
                ..
            } => vec![Delivery::new(
                Audience::Room(conversation_id.clone()),
                "user_joined",
                json!({ "userId": user_id.as_str(), "chatRoomId": conversation_id.as_str() }),
            )],
            DomainEvent::NotificationCreated(n) => vec![Delivery::new(
                Audience::Users(vec![n.recipient.clone()]),
                "notification",
                notification_json(n),
            )],
            _ => vec![],
        }
    }

    fn rest(&self) -> axum::Router<RestState> {
        rest::router()
    }
}

fn decode_join(_: &SessionView<'_>, args: &Value) -> Result<JoinConversation, WireError> {
    let obj = args::object(args, "join_room")?;
    Ok(JoinConversation(args::conversation_id(obj, "chatRoomId")?))
}

fn reply_joined(_: &SessionView<'_>, conversation: &Conversation) -> Reply {
    Reply::ack_only(json!({ "chatRoomId": conversation.id.as_str() }))
}

fn decode_send(_: &SessionView<'_>, args: &Value) -> Result<SendMessage, WireError> {
    let obj = args::object(args, "send_message")?;
    Ok(SendMessage(PostMessage::text(
        args::conversation_id(obj, "chatRoomId")?,
        args::text(obj, "text")?,
    )))
}

/// The sender's ack is the saved message; its `receive_message` comes from the room.
fn reply_sent(_: &SessionView<'_>, posted: &Posted) -> Reply {
    Reply::ack_only(message_json(&posted.message))
}

fn decode_history(_: &SessionView<'_>, args: &Value) -> Result<ReadHistory, WireError> {
    let obj = args::object(args, "get_history")?;
    Ok(ReadHistory {
        conversation: args::conversation_id(obj, "chatRoomId")?,
        window: HistoryWindow::Skip {
            limit: args::small_count(obj, "limit", DEFAULT_LIMIT)?,
            skip: args::count(obj, "skip", 0)?,
        },
    })
}

fn reply_history(_: &SessionView<'_>, page: &HistoryPage) -> Reply {
    let history = &page.history;
    Reply::event(
        "message_history",
        json!({
            "chatRoomId": history.conversation.id.as_str(),
            "messages": history.messages.iter().map(message_json).collect::<Vec<_>>(),
        }),
    )
}

/// Each pending notification went out as its own `notification` event; the ack counts them.
fn reply_pending(_: &SessionView<'_>, delivered: &usize) -> Reply {
    Reply::ack_only(json!({ "count": delivered }))
}
