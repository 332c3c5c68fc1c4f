//! marketplace: clients and providers chat about their deals. A connection identifies with a
//! token at the handshake or, with legacy identity, with `user-join(userId)`; its contacts
//! hear `user-status-changed`. Chats are rooms joined with `join-chat(chatId)`: a message
//! reaches the whole room as `new-message` (the sender included) and the receiver's every
//! connection as `message-notification`; typing, read marks and the online status are events
//! too. Notifications: `join-notifications(userId)` pushes the pending ones as
//! `new-notification`, and the read and count events work on one's own. A listener may allow
//! only some role pairs (`allowed_role_pairs`), which `send-message` obeys.

mod json;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value, json};

use crate::adapters::inbound::protocol::args;
use crate::adapters::inbound::protocol::{
    Audience, ConversationRead, CountUnreadNotifications, DeliverPending, Delivery, Dialect, Emit,
    IdentifyEvent, IdentityMode, JoinConversation, LeaveConversation, MarkAllNotificationsRead,
    MarkConversationRead, MarkNotificationRead, OnlineStatusOf, Reply, SendMessage, SessionView,
    SetOnline, SetTyping, UserStatus, WireError,
};
use crate::adapters::inbound::session::EventTable;
use crate::app::{OnlineStatus, PostMessage, Posted};
use crate::domain::{
    Attachment, Conversation, ConversationId, DomainEvent, MessageKind, MessageReceipt,
};
use json::{message_json, notification_json, status_json};

pub struct Marketplace {
    events: EventTable,
}

impl Default for Marketplace {
    fn default() -> Self {
        Self {
            events: EventTable::new()
                .on("join-chat", decode_join, |_, c: &Conversation| {
                    Reply::ack_only(json!({ "chatId": c.id.as_str() }))
                })
                .on("leave-chat", decode_leave, |_, id: &ConversationId| {
                    Reply::ack_only(json!({ "chatId": id.as_str() }))
                })
                .on("send-message", decode_send, |_, p: &Posted| {
                    Reply::ack_only(message_json(&p.message, &MessageReceipt::default()))
                })
                .on(
                    "typing-start",
                    |_, a| decode_typing(a, "typing-start", true),
                    |_, ()| Reply::ack_only(json!({ "isTyping": true })),
                )
                .on(
                    "typing-stop",
                    |_, a| decode_typing(a, "typing-stop", false),
                    |_, ()| Reply::ack_only(json!({ "isTyping": false })),
                )
                .on(
                    "mark-messages-read",
                    decode_read,
                    |_, r: &ConversationRead| {
                        Reply::ack_only(json!({
                            "userId": r.by.as_str(),
                            "chatId": r.conversation.as_str(),
                        }))
                    },
                )
                .on(
                    "get-online-status",
                    decode_status_of,
                    |_, s: &UserStatus| Reply::event("online-status", status_json(s)),
                )
                .on(
                    "set-online-status",
                    decode_set_online,
                    |_, s: &UserStatus| Reply::ack_only(status_json(s)),
                )
                .on(
                    "join-notifications",
                    decode_join_notifications,
                    reply_pending,
                )
                .on(
                    "mark-notification-read",
                    decode_notification_read,
                    |_, n| {
                        Reply::event(
                            "notification-read",
                            json!({ "notificationId": n.id.as_str() }),
                        )
                    },
                )
                .on(
                    "mark-all-notifications-read",
                    decode_read_all,
                    |_, changed| Reply {
                        ack: json!({ "count": changed }),
                        emits: vec![Emit::new("all-notifications-read", json!({}))],
                    },
                )
                .on("get-unread-count", decode_unread_count, |_, count| {
                    Reply::event("unread-count", json!({ "count": count }))
                }),
        }
    }
}

impl Dialect for Marketplace {
    fn name(&self) -> &'static str {
        "marketplace"
    }

    fn identity(&self) -> IdentityMode {
        IdentityMode::AfterConnect(IdentifyEvent {
            event: "user-join",
            decode: |args| Ok(args::bare(args, "user-join", "userId")?.to_owned()),
            reply: |user| Reply::ack_only(json!({ "userId": user.id.as_str(), "isOnline": true })),
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
                receipt,
                ..
            } => {
                let rendered = message_json(message, receipt);
                let receivers = participants
                    .iter()
                    .filter(|p| **p != message.sender)
                    .cloned()
                    .collect();
                vec![
                    Delivery::new(
                        Audience::Room(message.conversation_id.clone()),
                        "new-message",
                        rendered.clone(),
                    )
                    .including_origin(),
                    Delivery::new(
                        Audience::Users(receivers),
                        "message-notification",
                        json!({ "chatId": message.conversation_id.as_str(), "message": rendered }),
                    ),
                ]
            }
            DomainEvent::TypingChanged { change, .. } => vec![
                Delivery::new(
                    Audience::Room(change.conversation_id.clone()),
                    "user-typing",
                    json!({ "userId": change.user_id.as_str(), "isTyping": change.typing }),
                )
                .except(&change.user_id),
            ],
            DomainEvent::MessagesRead { mark, .. } => vec![
                Delivery::new(
                    Audience::Room(mark.conversation_id.clone()),
                    "messages-read",
                    json!({
                        "userId": mark.user_id.as_str(),
                        "chatId": mark.conversation_id.as_str(),
                    }),
                )
                .including_origin(),
            ],
            DomainEvent::PresenceChanged { change, contacts } => vec![Delivery::new(
                Audience::Users(contacts.clone()),
                "user-status-changed",
                status_json(&UserStatus {
                    user: change.user_id.clone(),
                    status: OnlineStatus {
                        online: change.online,
                        last_active: change.last_active,
                    },
                }),
            )],
            DomainEvent::NotificationCreated(n) => vec![Delivery::new(
                Audience::Users(vec![n.recipient.clone()]),
                "new-notification",
                notification_json(n),
            )],
            _ => vec![],
        }
    }
}

fn decode_join(_: &SessionView<'_>, args: &Value) -> Result<JoinConversation, WireError> {
    Ok(JoinConversation(args::bare_conversation_id(
        args,
        "join-chat",
        "chatId",
    )?))
}

fn decode_leave(_: &SessionView<'_>, args: &Value) -> Result<LeaveConversation, WireError> {
    Ok(LeaveConversation(args::bare_conversation_id(
        args,
        "leave-chat",
        "chatId",
    )?))
}

/// `{ chatId, content, messageType = "text", media = [] }`.
fn decode_send(_: &SessionView<'_>, args: &Value) -> Result<SendMessage, WireError> {
    let obj = args::object(args, "send-message")?;
    let kind = match obj.get("messageType") {
        None | Some(Value::Null) => MessageKind::Text,
        Some(Value::String(name)) => MessageKind::parse(name)
            .filter(|k| *k != MessageKind::Call)
            .ok_or_else(|| {
                WireError::new("messageType must be text, image, file, meeting or system")
            })?,
        Some(_) => return Err(WireError::new("messageType must be a string")),
    };
    Ok(SendMessage(PostMessage {
        kind,
        attachments: media(obj)?,
        ..PostMessage::text(
            args::conversation_id(obj, "chatId")?,
            args::text(obj, "content")?,
        )
    }))
}

/// `media`: URL strings, or `{ url, type?, name?, size? }` objects.
fn media(obj: &Map<String, Value>) -> Result<Vec<Attachment>, WireError> {
    let items = match obj.get("media") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(WireError::new("media must be an array")),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let bad = || {
                WireError::new(format!(
                    "media[{i}] must be a URL or {{ url, type, name, size }}"
                ))
            };
            match item {
                Value::String(url) => Ok(Attachment {
                    url: url.clone(),
                    kind: String::new(),
                    name: String::new(),
                    size: 0,
                }),
                Value::Object(entry) => {
                    let url = args::string(entry, "url").map_err(|_| bad())?;
                    let kind = args::text(entry, "type").map_err(|_| bad())?;
                    Ok(Attachment {
                        url: url.to_owned(),
                        kind: if kind.is_empty() { "file" } else { kind }.to_owned(),
                        name: args::text(entry, "name").map_err(|_| bad())?.to_owned(),
                        size: args::count(entry, "size", 0).map_err(|_| bad())?,
                    })
                }
                _ => Err(bad()),
            }
        })
        .collect()
}

/// `{ chatId }`, or `{ roomId }` as the family's other typing handler sent it.
fn decode_typing(args: &Value, event: &str, typing: bool) -> Result<SetTyping, WireError> {
    let obj = args::object(args, event)?;
    let field = if obj.contains_key("chatId") {
        "chatId"
    } else {
        "roomId"
    };
    Ok(SetTyping {
        conversation: args::conversation_id(obj, field)
            .map_err(|_| WireError::new(format!("{event} needs a chatId")))?,
        typing,
    })
}

fn decode_read(_: &SessionView<'_>, args: &Value) -> Result<MarkConversationRead, WireError> {
    let obj = args::object(args, "mark-messages-read")?;
    Ok(MarkConversationRead(args::conversation_id(obj, "chatId")?))
}

fn decode_status_of(_: &SessionView<'_>, args: &Value) -> Result<OnlineStatusOf, WireError> {
    Ok(OnlineStatusOf(args::bare_user_id(
        args,
        "get-online-status",
    )?))
}

/// `{ userId, isOnline }`: one's own switch only.
fn decode_set_online(view: &SessionView<'_>, args: &Value) -> Result<SetOnline, WireError> {
    let obj = args::object(args, "set-online-status")?;
    args::own_user(view, &args::user_id(obj, "userId")?)?;
    match obj.get("isOnline") {
        Some(Value::Bool(online)) => Ok(SetOnline(*online)),
        _ => Err(WireError::new("isOnline must be true or false")),
    }
}

/// Events that name the user they are about: it must be the connection's own.
fn own(view: &SessionView<'_>, args: &Value, event: &str) -> Result<(), WireError> {
    args::own_user(view, &args::bare_user_id(args, event)?)
}

fn decode_join_notifications(
    view: &SessionView<'_>,
    args: &Value,
) -> Result<DeliverPending, WireError> {
    own(view, args, "join-notifications")?;
    Ok(DeliverPending {
        render: |n| Emit::new("new-notification", notification_json(n)),
    })
}

/// Each pending notification went out as its own `new-notification` event; the ack counts
/// them.
fn reply_pending(_: &SessionView<'_>, delivered: &usize) -> Reply {
    Reply::ack_only(json!({ "count": delivered }))
}

fn decode_notification_read(
    _: &SessionView<'_>,
    args: &Value,
) -> Result<MarkNotificationRead, WireError> {
    let obj = args::object(args, "mark-notification-read")?;
    Ok(MarkNotificationRead(args::notification_id(
        obj,
        "notificationId",
    )?))
}

fn decode_read_all(
    view: &SessionView<'_>,
    args: &Value,
) -> Result<MarkAllNotificationsRead, WireError> {
    own(view, args, "mark-all-notifications-read")?;
    Ok(MarkAllNotificationsRead)
}

fn decode_unread_count(
    view: &SessionView<'_>,
    args: &Value,
) -> Result<CountUnreadNotifications, WireError> {
    own(view, args, "get-unread-count")?;
    Ok(CountUnreadNotifications)
}
