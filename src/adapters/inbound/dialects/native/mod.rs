//! native: this server's own protocol (docs/PROTOCOL.md). Over the raw WebSocket transport:
//! a `hello` frame (token, and what the client already has to resume from), then requests
//! `{ id, type, data }` answered `{ id, ok, data | error }`, and events `{ type, data }`.
//! Every capability of the core is a request here; every message carries its `seq`, and
//! message events go to every connection of every participant. Over REST: the provisioning
//! API every REST listener serves (see `rest`).

mod decode;
mod json;
mod render;
pub mod rest;
#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use crate::adapters::inbound::protocol::{
    ConversationRead, CountUnreadNotifications, DeclineCall, DeliverPending, Delivery, Dialect,
    Emit, Handshake, HangUp, HideConversation, JoinConversation, LeaveConversation,
    MarkAllNotificationsRead, MarkConversationDelivered, MarkConversationRead, MarkMessageRead,
    MarkNotificationRead, MessageRead, OnlineStatusOf, OpenedConversation, Reply, Resumed,
    SessionView, UserStatus, WireError,
};
use crate::adapters::inbound::session::{Call, EventTable};
use crate::app::{History, Posted};
use crate::domain::call::FinishedCall;
use crate::domain::{
    CallSession, Conversation, ConversationId, DomainEvent, Message, Notification,
};
use json::{
    call_json, conversation_json, finished_json, message_in, message_json, notification_json,
    status_json, user_json,
};

pub use decode::{MAX_RESUME_CONVERSATIONS, RESUME_MESSAGE_LIMIT};

pub struct Native {
    events: EventTable,
}

impl Default for Native {
    fn default() -> Self {
        Self {
            events: EventTable::new()
                .on("conversations.open", decode::open, reply_opened)
                .on("conversations.list", decode::list, |view, list: &Vec<_>| {
                    reply_list(view, list)
                })
                .on(
                    "conversations.hide",
                    |_, a| {
                        Ok(HideConversation(decode::conversation(
                            a,
                            "conversations.hide",
                        )?))
                    },
                    |_, id| conversation_id_ack(id),
                )
                .on(
                    "conversations.join",
                    |_, a| {
                        Ok(JoinConversation(decode::conversation(
                            a,
                            "conversations.join",
                        )?))
                    },
                    |view, c| Reply::ack_only(conversation_json(c, &view.user.id)),
                )
                .on(
                    "conversations.leave",
                    |_, a| {
                        Ok(LeaveConversation(decode::conversation(
                            a,
                            "conversations.leave",
                        )?))
                    },
                    |_, id| conversation_id_ack(id),
                )
                .on(
                    "conversations.read",
                    |_, a| {
                        Ok(MarkConversationRead(decode::conversation(
                            a,
                            "conversations.read",
                        )?))
                    },
                    reply_mark,
                )
                .on(
                    "conversations.delivered",
                    |_, a| {
                        Ok(MarkConversationDelivered(decode::conversation(
                            a,
                            "conversations.delivered",
                        )?))
                    },
                    reply_mark,
                )
                .on("messages.send", decode::send, reply_sent)
                .on("messages.edit", decode::edit, |_, m: &Message| {
                    Reply::ack_only(message_json(m, None))
                })
                .on("messages.history", decode::history, reply_history)
                .on(
                    "messages.read",
                    |_, a| Ok(MarkMessageRead(decode::message_id(a, "messages.read")?)),
                    reply_message_read,
                )
                .on(
                    "notifications.list",
                    decode::list_notifications,
                    |_, list: &Vec<_>| reply_notifications(list),
                )
                .on(
                    "notifications.pending",
                    |_, _| Ok(pending()),
                    |_, count| Reply::ack_only(json!({ "count": count })),
                )
                .on(
                    "notifications.read",
                    |_, a| {
                        Ok(MarkNotificationRead(decode::notification_id(
                            a,
                            "notifications.read",
                        )?))
                    },
                    |_, n: &Notification| Reply::ack_only(notification_json(n)),
                )
                .on(
                    "notifications.readAll",
                    |_, _| Ok(MarkAllNotificationsRead),
                    |_, count| Reply::ack_only(json!({ "count": count })),
                )
                .on(
                    "notifications.unreadCount",
                    |_, _| Ok(CountUnreadNotifications),
                    |_, count| Reply::ack_only(json!({ "count": count })),
                )
                .on(
                    "presence.get",
                    |_, a| Ok(OnlineStatusOf(decode::user(a, "presence.get")?)),
                    reply_status,
                )
                .on("presence.set", decode::set_online, reply_status)
                .on(
                    "typing.start",
                    |_, a| decode::typing(a, "typing.start", true),
                    |_, ()| Reply::ack_only(json!({})),
                )
                .on(
                    "typing.stop",
                    |_, a| decode::typing(a, "typing.stop", false),
                    |_, ()| Reply::ack_only(json!({})),
                )
                .on("call.place", decode::place_call, reply_call)
                .on("call.accept", decode::accept_call, reply_call)
                .on("call.decline", |_, _| Ok(DeclineCall), reply_finished)
                .on("call.hangup", |_, _| Ok(HangUp), reply_finished)
                .on("call.signal", decode::signal, |_, ()| {
                    Reply::ack_only(json!({}))
                }),
        }
    }
}

impl Dialect for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    /// The greeting: `welcome` (the user, their unread notifications), then, when the
    /// `hello` asked to resume, every message missed in the named conversations, in seq order
    /// per conversation, and `resumed` with each conversation's marks as they are now.
    fn on_connect(&self, handshake: &Handshake<'_>) -> Result<Vec<Call>, WireError> {
        let mut calls = vec![Call::new(CountUnreadNotifications, |view, unread| Reply {
            ack: Value::Null,
            emits: vec![Emit::new(
                "welcome",
                json!({
                    "user": user_json(view.user),
                    "unreadNotifications": unread,
                    "protocol": PROTOCOL_VERSION,
                }),
            )],
        })];
        match handshake.auth.get("resume") {
            None | Some(Value::Null) => {}
            Some(resume) => calls.push(Call::new(decode::resume(resume)?, reply_resumed)),
        }
        Ok(calls)
    }

    fn speaks_raw_websocket(&self) -> bool {
        true
    }

    fn events(&self) -> &EventTable {
        &self.events
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        render::render(event)
    }
}

/// The protocol's version, in `welcome`: a change that breaks a client gets a new one.
pub const PROTOCOL_VERSION: u32 = 1;

fn pending() -> DeliverPending {
    DeliverPending {
        render: |n| Emit::new("notification.new", notification_json(n)),
    }
}

fn conversation_id_ack(id: &ConversationId) -> Reply {
    Reply::ack_only(json!({ "conversationId": id.as_str() }))
}

fn reply_opened(view: &SessionView<'_>, opened: &OpenedConversation) -> Reply {
    Reply::ack_only(json!({
        "conversation": conversation_json(&opened.conversation, &view.user.id),
        "created": opened.created,
    }))
}

fn reply_list(view: &SessionView<'_>, list: &[Conversation]) -> Reply {
    Reply::ack_only(json!({
        "conversations": list
            .iter()
            .map(|c| conversation_json(c, &view.user.id))
            .collect::<Vec<_>>(),
    }))
}

fn reply_mark(_: &SessionView<'_>, read: &ConversationRead) -> Reply {
    Reply::ack_only(json!({
        "conversationId": read.conversation.as_str(),
        "moved": read.moved,
    }))
}

fn reply_sent(_: &SessionView<'_>, posted: &Posted) -> Reply {
    Reply::ack_only(message_in(&posted.message, &posted.conversation))
}

fn reply_history(_: &SessionView<'_>, history: &History) -> Reply {
    let c = &history.conversation;
    Reply::ack_only(json!({
        "conversationId": c.id.as_str(),
        "lastSeq": c.last_seq.0,
        "messages": history.messages.iter().map(|m| message_in(m, c)).collect::<Vec<_>>(),
    }))
}

fn reply_message_read(_: &SessionView<'_>, read: &MessageRead) -> Reply {
    Reply::ack_only(json!({
        "conversationId": read.message.conversation_id.as_str(),
        "messageId": read.message.id.as_str(),
        "seq": read.message.seq.0,
        "userId": read.by.as_str(),
    }))
}

fn reply_notifications(list: &[Notification]) -> Reply {
    Reply::ack_only(json!({
        "notifications": list.iter().map(notification_json).collect::<Vec<_>>(),
    }))
}

fn reply_status(_: &SessionView<'_>, status: &UserStatus) -> Reply {
    Reply::ack_only(status_json(&status.user, &status.status))
}

fn reply_call(_: &SessionView<'_>, call: &CallSession) -> Reply {
    Reply::ack_only(call_json(call))
}

fn reply_finished(_: &SessionView<'_>, finished: &FinishedCall) -> Reply {
    Reply::ack_only(finished_json(finished))
}

/// The missed messages as `message.new` events (the same shape as live ones), then
/// `resumed`: per conversation, the seq it was resumed from, its last seq now, whether
/// everything missed was sent, the participants' marks now; or the error that kept it back.
fn reply_resumed(view: &SessionView<'_>, resumed: &Resumed) -> Reply {
    let mut emits = Vec::new();
    let mut summary = Vec::with_capacity(resumed.conversations.len());
    for entry in &resumed.conversations {
        match &entry.outcome {
            Ok((conversation, messages)) => {
                emits.extend(
                    messages
                        .iter()
                        .map(|m| Emit::new("message.new", message_in(m, conversation))),
                );
                summary.push(json!({
                    "conversationId": entry.id.as_str(),
                    "afterSeq": entry.after.0,
                    "lastSeq": conversation.last_seq.0,
                    "sent": messages.len(),
                    "complete": entry.complete,
                    "conversation": conversation_json(conversation, &view.user.id),
                }));
            }
            Err(error) => summary.push(json!({
                "conversationId": entry.id.as_str(),
                "afterSeq": entry.after.0,
                "complete": false,
                "error": { "code": error.code().as_str(), "message": error.0 },
            })),
        }
    }
    emits.push(Emit::new("resumed", json!({ "conversations": summary })));
    Reply {
        ack: Value::Null,
        emits,
    }
}
