//! calmora: patients and specialists chat one to one. A connection identifies with a token at
//! the handshake or, with legacy identity, with `registerUser(userId)` after connecting.
//! `joinRoom(chatId)` / `leaveRoom(chatId)` take the bare id and say which chat the user is
//! viewing. `sendMessage({ senderId, recipientId, message, chatId })` creates the chat under
//! the client's id when it is new; the message reaches the recipient and the sender's other
//! connections as `receiveMessage` (the sending connection gets it as the ack), and a
//! recipient viewing the chat on none of their connections also gets a `new_notification`.
//! REST: `POST /emit-notification` for the main API server (see `rest`).

mod json;
mod rest;
#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use crate::adapters::inbound::protocol::args;
use crate::adapters::inbound::protocol::{
    Audience, Delivery, Dialect, IdentifyEvent, IdentityMode, JoinConversation, LeaveConversation,
    Reply, SendMessage, SessionView, WireError,
};
use crate::adapters::inbound::session::EventTable;
use crate::adapters::inbound::transports::http::RestState;
use crate::app::{PostMessage, Posted};
use crate::domain::{Conversation, ConversationId, DomainEvent, UserId};
use json::{chat_alert_json, message_json, notification_json};

pub struct Calmora {
    events: EventTable,
}

impl Default for Calmora {
    fn default() -> Self {
        Self {
            events: EventTable::new()
                .on("joinRoom", decode_join, |_, c: &Conversation| {
                    Reply::ack_only(json!({ "chatId": c.id.as_str() }))
                })
                .on("leaveRoom", decode_leave, |_, id: &ConversationId| {
                    Reply::ack_only(json!({ "chatId": id.as_str() }))
                })
                .on("sendMessage", decode_send, reply_sent),
        }
    }
}

impl Dialect for Calmora {
    fn name(&self) -> &'static str {
        "calmora"
    }

    fn identity(&self) -> IdentityMode {
        IdentityMode::AfterConnect(IdentifyEvent {
            event: "registerUser",
            decode: |args| Ok(args::bare(args, "registerUser", "userId")?.to_owned()),
            reply: |user| Reply::ack_only(json!({ "userId": user.id.as_str() })),
        })
    }

    fn events(&self) -> &EventTable {
        &self.events
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessagePosted {
                participants,
                message,
                sender,
                alert,
                ..
            } => {
                let others: Vec<&UserId> = participants
                    .iter()
                    .filter(|p| **p != message.sender)
                    .collect();
                let mut deliveries = Vec::new();
                if let [recipient] = others.as_slice() {
                    // The recipient and the sender's other connections (never the sending
                    // one: it has the ack).
                    deliveries.push(Delivery::new(
                        Audience::Users(vec![message.sender.clone(), (*recipient).clone()]),
                        "receiveMessage",
                        message_json(message, sender, Some(recipient)),
                    ));
                } else {
                    // A chat of more than two: each recipient is named in their own copy.
                    for recipient in &others {
                        deliveries.push(Delivery::new(
                            Audience::Users(vec![(*recipient).clone()]),
                            "receiveMessage",
                            message_json(message, sender, Some(recipient)),
                        ));
                    }
                    deliveries.push(Delivery::new(
                        Audience::Users(vec![message.sender.clone()]),
                        "receiveMessage",
                        message_json(message, sender, None),
                    ));
                }
                deliveries.extend(alert.iter().map(|recipient| {
                    Delivery::new(
                        Audience::Users(vec![recipient.clone()]),
                        "new_notification",
                        chat_alert_json(message, sender, recipient),
                    )
                }));
                deliveries
            }
            DomainEvent::NotificationCreated(n) => vec![Delivery::new(
                Audience::Users(vec![n.recipient.clone()]),
                "new_notification",
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
    Ok(JoinConversation(args::bare_conversation_id(
        args, "joinRoom", "chatId",
    )?))
}

fn decode_leave(_: &SessionView<'_>, args: &Value) -> Result<LeaveConversation, WireError> {
    Ok(LeaveConversation(args::bare_conversation_id(
        args,
        "leaveRoom",
        "chatId",
    )?))
}

/// `{ senderId, recipientId, message, chatId }`: the sender is the connection's user (a
/// `senderId` naming anyone else is refused); an unknown `chatId` is created with the two.
fn decode_send(view: &SessionView<'_>, args: &Value) -> Result<SendMessage, WireError> {
    let obj = args::object(args, "sendMessage")?;
    if obj.get("senderId").is_some_and(|v| !v.is_null()) {
        args::own_user(view, &args::user_id(obj, "senderId")?)
            .map_err(|_| WireError::new("senderId must be your own user id"))?;
    }
    let recipient = args::user_id(obj, "recipientId")?;
    if recipient == view.user.id {
        return Err(WireError::new("recipientId must be another user"));
    }
    Ok(SendMessage(PostMessage {
        open_with: Some(recipient),
        ..PostMessage::text(
            args::conversation_id(obj, "chatId")?,
            args::text(obj, "message")?,
        )
    }))
}

/// The ack is the saved message, as the recipient receives it.
fn reply_sent(view: &SessionView<'_>, posted: &Posted) -> Reply {
    let recipient = posted.conversation.others(&posted.message.sender).next();
    Reply::ack_only(message_json(&posted.message, view.user, recipient))
}
