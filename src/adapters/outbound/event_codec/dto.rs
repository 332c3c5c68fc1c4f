//! Serializable mirrors of `EventEnvelope` and everything a `DomainEvent` carries: plain
//! strings, numbers (times in epoch milliseconds) and JSON, converted from the domain types
//! and checked on the way back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::EventCodecError;
use crate::adapters::json::{data_from_json, data_to_json};
use crate::domain::{Attachment as DomainAttachment, Notification as DomainNotification};
use crate::domain::{
    CallId, CallInfo, CallOutcome, CallSession, CallState, CallType, ClientKey,
    ConversationContext, ConversationId, DomainEvent, EndReason, FinishedCall, MessageBody,
    MessageId, MessageKind, MessageReceipt, NotificationId, PresenceChange, ReadMark, Role, Seq,
    Timestamp, TypingChange, UserId, UserProfile,
};
use crate::ports::{ConnectionRef, EventEnvelope, NodeId};

type Result<T> = std::result::Result<T, EventCodecError>;

fn invalid(what: &str, detail: impl std::fmt::Display) -> EventCodecError {
    EventCodecError::Invalid(format!("{what}: {detail}"))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    event: Event,
    origin: Option<Origin>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Origin {
    node: String,
    conn: u64,
}

#[expect(
    clippy::large_enum_variant,
    reason = "one value per event on its way to or from the wire, never stored"
)]
#[derive(Debug, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
enum Event {
    MessagePosted {
        participants: Vec<String>,
        message: Message,
        receipt: Receipt,
        sender: Profile,
        context: BTreeMap<String, String>,
        alert: Vec<String>,
    },
    MessageEdited {
        participants: Vec<String>,
        message: Message,
    },
    MessagesDelivered {
        participants: Vec<String>,
        mark: Mark,
    },
    MessagesRead {
        participants: Vec<String>,
        mark: Mark,
        message_id: Option<String>,
    },
    ConversationJoined {
        participants: Vec<String>,
        conversation_id: String,
        user_id: String,
    },
    NotificationCreated {
        notification: Notification,
    },
    NotificationsRead {
        user_id: String,
        notification_id: Option<String>,
    },
    PresenceChanged {
        change: Presence,
        contacts: Vec<String>,
    },
    TypingChanged {
        participants: Vec<String>,
        change: Typing,
        user_name: Option<String>,
    },
    CallRinging {
        call: Call,
        offer: Value,
    },
    CallAccepted {
        call: Call,
        answer: Value,
    },
    CallBusy {
        call: Call,
    },
    CallDeclined {
        finished: Finished,
    },
    CallEnded {
        finished: Finished,
    },
    CallSignal {
        call: Call,
        from: String,
        to: String,
        payload: Value,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    id: String,
    conversation_id: String,
    seq: u64,
    sender: String,
    kind: String,
    text: String,
    attachments: Vec<Attachment>,
    call: Option<CallRecord>,
    client_key: Option<String>,
    created_at: i64,
    edited_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Attachment {
    url: String,
    kind: String,
    name: String,
    size: u64,
}

/// A call message's record (`CallInfo`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallRecord {
    call_type: String,
    duration_secs: u32,
    status: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Receipt {
    delivered: bool,
    is_read: bool,
    read_by: Vec<(String, i64)>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    id: String,
    name: Option<String>,
    email: Option<String>,
    avatar: Option<String>,
    role: Option<String>,
    last_active: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mark {
    conversation_id: String,
    user_id: String,
    up_to: u64,
    at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    id: String,
    recipient: String,
    kind: String,
    title: Option<String>,
    message: String,
    reference_id: Option<String>,
    data: Value,
    created_at: i64,
    delivered_at: Option<i64>,
    read_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Presence {
    user_id: String,
    online: bool,
    last_active: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Typing {
    conversation_id: String,
    user_id: String,
    typing: bool,
    at: i64,
}

/// A live call; `acceptedAt` is set once it is active.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Call {
    id: String,
    conversation_id: String,
    caller: String,
    callee: String,
    call_type: String,
    started_at: i64,
    accepted_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Finished {
    session: Call,
    reason: String,
    ended_by: Option<String>,
    ended_at: i64,
}

// --- from the domain -----------------------------------------------------------------------

fn ids<'a, T: 'a>(items: impl IntoIterator<Item = &'a T>, name: fn(&T) -> &str) -> Vec<String> {
    items.into_iter().map(|i| name(i).to_owned()).collect()
}

fn users(list: &[UserId]) -> Vec<String> {
    ids(list, UserId::as_str)
}

fn ms(t: Timestamp) -> i64 {
    t.as_millis()
}

impl From<&EventEnvelope> for Envelope {
    fn from(envelope: &EventEnvelope) -> Self {
        Self {
            event: Event::from(&envelope.event),
            origin: envelope.origin.as_ref().map(|o| Origin {
                node: o.node.as_str().to_owned(),
                conn: o.conn,
            }),
        }
    }
}

impl From<&DomainEvent> for Event {
    fn from(event: &DomainEvent) -> Self {
        match event {
            DomainEvent::MessagePosted {
                participants,
                message,
                receipt,
                sender,
                context,
                alert,
            } => Self::MessagePosted {
                participants: users(participants),
                message: message.into(),
                receipt: Receipt {
                    delivered: receipt.delivered,
                    is_read: receipt.is_read,
                    read_by: receipt
                        .read_by
                        .iter()
                        .map(|(u, at)| (u.as_str().to_owned(), ms(*at)))
                        .collect(),
                },
                sender: sender.into(),
                context: context
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                alert: users(alert),
            },
            DomainEvent::MessageEdited {
                participants,
                message,
            } => Self::MessageEdited {
                participants: users(participants),
                message: message.into(),
            },
            DomainEvent::MessagesDelivered { participants, mark } => Self::MessagesDelivered {
                participants: users(participants),
                mark: mark.into(),
            },
            DomainEvent::MessagesRead {
                participants,
                mark,
                message_id,
            } => Self::MessagesRead {
                participants: users(participants),
                mark: mark.into(),
                message_id: message_id.as_ref().map(|m| m.as_str().to_owned()),
            },
            DomainEvent::ConversationJoined {
                participants,
                conversation_id,
                user_id,
            } => Self::ConversationJoined {
                participants: users(participants),
                conversation_id: conversation_id.as_str().to_owned(),
                user_id: user_id.as_str().to_owned(),
            },
            DomainEvent::NotificationCreated(n) => Self::NotificationCreated {
                notification: n.into(),
            },
            DomainEvent::NotificationsRead {
                user_id,
                notification_id,
            } => Self::NotificationsRead {
                user_id: user_id.as_str().to_owned(),
                notification_id: notification_id.as_ref().map(|n| n.as_str().to_owned()),
            },
            DomainEvent::PresenceChanged { change, contacts } => Self::PresenceChanged {
                change: Presence {
                    user_id: change.user_id.as_str().to_owned(),
                    online: change.online,
                    last_active: change.last_active.map(ms),
                },
                contacts: users(contacts),
            },
            DomainEvent::TypingChanged {
                participants,
                change,
                user_name,
            } => Self::TypingChanged {
                participants: users(participants),
                change: Typing {
                    conversation_id: change.conversation_id.as_str().to_owned(),
                    user_id: change.user_id.as_str().to_owned(),
                    typing: change.typing,
                    at: ms(change.at),
                },
                user_name: user_name.clone(),
            },
            DomainEvent::CallRinging { call, offer } => Self::CallRinging {
                call: call.into(),
                offer: data_to_json(offer),
            },
            DomainEvent::CallAccepted { call, answer } => Self::CallAccepted {
                call: call.into(),
                answer: data_to_json(answer),
            },
            DomainEvent::CallBusy { call } => Self::CallBusy { call: call.into() },
            DomainEvent::CallDeclined { finished } => Self::CallDeclined {
                finished: finished.into(),
            },
            DomainEvent::CallEnded { finished } => Self::CallEnded {
                finished: finished.into(),
            },
            DomainEvent::CallSignal {
                call,
                from,
                to,
                payload,
            } => Self::CallSignal {
                call: call.into(),
                from: from.as_str().to_owned(),
                to: to.as_str().to_owned(),
                payload: data_to_json(payload),
            },
        }
    }
}

impl From<&crate::domain::Message> for Message {
    fn from(m: &crate::domain::Message) -> Self {
        Self {
            id: m.id.as_str().to_owned(),
            conversation_id: m.conversation_id.as_str().to_owned(),
            seq: m.seq.0,
            sender: m.sender.as_str().to_owned(),
            kind: m.body.kind.as_str().to_owned(),
            text: m.body.text.clone(),
            attachments: m
                .body
                .attachments
                .iter()
                .map(|a| Attachment {
                    url: a.url.clone(),
                    kind: a.kind.clone(),
                    name: a.name.clone(),
                    size: a.size,
                })
                .collect(),
            call: m.body.call.map(|c| CallRecord {
                call_type: c.call_type.as_str().to_owned(),
                duration_secs: c.duration_secs,
                status: c.status.as_str().to_owned(),
            }),
            client_key: m.client_key.as_ref().map(|k| k.as_str().to_owned()),
            created_at: ms(m.created_at),
            edited_at: m.edited_at.map(ms),
        }
    }
}

impl From<&UserProfile> for Profile {
    fn from(p: &UserProfile) -> Self {
        Self {
            id: p.id.as_str().to_owned(),
            name: p.name.clone(),
            email: p.email.clone(),
            avatar: p.avatar.clone(),
            role: p.role.as_ref().map(|r| r.as_str().to_owned()),
            last_active: p.last_active.map(ms),
        }
    }
}

impl From<&ReadMark> for Mark {
    fn from(m: &ReadMark) -> Self {
        Self {
            conversation_id: m.conversation_id.as_str().to_owned(),
            user_id: m.user_id.as_str().to_owned(),
            up_to: m.up_to.0,
            at: ms(m.at),
        }
    }
}

impl From<&DomainNotification> for Notification {
    fn from(n: &DomainNotification) -> Self {
        Self {
            id: n.id.as_str().to_owned(),
            recipient: n.recipient.as_str().to_owned(),
            kind: n.kind.clone(),
            title: n.title.clone(),
            message: n.message.clone(),
            reference_id: n.reference_id.clone(),
            data: data_to_json(&n.data),
            created_at: ms(n.created_at),
            delivered_at: n.delivered_at.map(ms),
            read_at: n.read_at.map(ms),
        }
    }
}

impl From<&CallSession> for Call {
    fn from(c: &CallSession) -> Self {
        Self {
            id: c.id.as_str().to_owned(),
            conversation_id: c.conversation_id.as_str().to_owned(),
            caller: c.caller.as_str().to_owned(),
            callee: c.callee.as_str().to_owned(),
            call_type: c.call_type.as_str().to_owned(),
            started_at: ms(c.started_at),
            accepted_at: match c.state {
                CallState::Ringing => None,
                CallState::Active { accepted_at } => Some(ms(accepted_at)),
            },
        }
    }
}

impl From<&FinishedCall> for Finished {
    fn from(f: &FinishedCall) -> Self {
        Self {
            session: (&f.session).into(),
            reason: end_reason_name(f.reason).to_owned(),
            ended_by: f.ended_by.as_ref().map(|u| u.as_str().to_owned()),
            ended_at: ms(f.ended_at),
        }
    }
}

fn end_reason_name(reason: EndReason) -> &'static str {
    match reason {
        EndReason::HungUp => "hungUp",
        EndReason::Declined => "declined",
        EndReason::Timeout => "timeout",
        EndReason::Busy => "busy",
        EndReason::Cancelled => "cancelled",
        EndReason::Disconnected => "disconnected",
    }
}

fn end_reason(name: &str) -> Result<EndReason> {
    Ok(match name {
        "hungUp" => EndReason::HungUp,
        "declined" => EndReason::Declined,
        "timeout" => EndReason::Timeout,
        "busy" => EndReason::Busy,
        "cancelled" => EndReason::Cancelled,
        "disconnected" => EndReason::Disconnected,
        other => return Err(invalid("end reason", other)),
    })
}

// --- back to the domain --------------------------------------------------------------------

fn user(raw: String) -> Result<UserId> {
    UserId::parse(raw).map_err(|e| invalid("user id", e))
}

fn user_list(raw: Vec<String>) -> Result<Vec<UserId>> {
    raw.into_iter().map(user).collect()
}

fn conversation(raw: String) -> Result<ConversationId> {
    ConversationId::parse(raw).map_err(|e| invalid("conversation id", e))
}

fn at(raw: i64) -> Timestamp {
    Timestamp::from_millis(raw)
}

impl TryFrom<Envelope> for EventEnvelope {
    type Error = EventCodecError;

    fn try_from(envelope: Envelope) -> Result<Self> {
        Ok(EventEnvelope::new(
            envelope.event.try_into()?,
            envelope
                .origin
                .map(|o| ConnectionRef::new(NodeId::new(o.node), o.conn)),
        ))
    }
}

impl TryFrom<Event> for DomainEvent {
    type Error = EventCodecError;

    fn try_from(event: Event) -> Result<Self> {
        Ok(match event {
            Event::MessagePosted {
                participants,
                message,
                receipt,
                sender,
                context,
                alert,
            } => DomainEvent::MessagePosted {
                participants: user_list(participants)?,
                message: message.try_into()?,
                receipt: MessageReceipt {
                    delivered: receipt.delivered,
                    is_read: receipt.is_read,
                    read_by: receipt
                        .read_by
                        .into_iter()
                        .map(|(u, t)| Ok((user(u)?, at(t))))
                        .collect::<Result<_>>()?,
                },
                sender: sender.try_into()?,
                context: ConversationContext::new(context)
                    .map_err(|e| invalid("conversation context", e))?,
                alert: user_list(alert)?,
            },
            Event::MessageEdited {
                participants,
                message,
            } => DomainEvent::MessageEdited {
                participants: user_list(participants)?,
                message: message.try_into()?,
            },
            Event::MessagesDelivered { participants, mark } => DomainEvent::MessagesDelivered {
                participants: user_list(participants)?,
                mark: mark.try_into()?,
            },
            Event::MessagesRead {
                participants,
                mark,
                message_id,
            } => DomainEvent::MessagesRead {
                participants: user_list(participants)?,
                mark: mark.try_into()?,
                message_id: message_id
                    .map(|m| MessageId::parse(m).map_err(|e| invalid("message id", e)))
                    .transpose()?,
            },
            Event::ConversationJoined {
                participants,
                conversation_id,
                user_id,
            } => DomainEvent::ConversationJoined {
                participants: user_list(participants)?,
                conversation_id: conversation(conversation_id)?,
                user_id: user(user_id)?,
            },
            Event::NotificationCreated { notification } => {
                DomainEvent::NotificationCreated(notification.try_into()?)
            }
            Event::NotificationsRead {
                user_id,
                notification_id,
            } => DomainEvent::NotificationsRead {
                user_id: user(user_id)?,
                notification_id: notification_id
                    .map(|n| NotificationId::parse(n).map_err(|e| invalid("notification id", e)))
                    .transpose()?,
            },
            Event::PresenceChanged { change, contacts } => DomainEvent::PresenceChanged {
                change: PresenceChange {
                    user_id: user(change.user_id)?,
                    online: change.online,
                    last_active: change.last_active.map(at),
                },
                contacts: user_list(contacts)?,
            },
            Event::TypingChanged {
                participants,
                change,
                user_name,
            } => DomainEvent::TypingChanged {
                participants: user_list(participants)?,
                change: TypingChange {
                    conversation_id: conversation(change.conversation_id)?,
                    user_id: user(change.user_id)?,
                    typing: change.typing,
                    at: at(change.at),
                },
                user_name,
            },
            Event::CallRinging { call, offer } => DomainEvent::CallRinging {
                call: call.try_into()?,
                offer: data_from_json(&offer),
            },
            Event::CallAccepted { call, answer } => DomainEvent::CallAccepted {
                call: call.try_into()?,
                answer: data_from_json(&answer),
            },
            Event::CallBusy { call } => DomainEvent::CallBusy {
                call: call.try_into()?,
            },
            Event::CallDeclined { finished } => DomainEvent::CallDeclined {
                finished: finished.try_into()?,
            },
            Event::CallEnded { finished } => DomainEvent::CallEnded {
                finished: finished.try_into()?,
            },
            Event::CallSignal {
                call,
                from,
                to,
                payload,
            } => DomainEvent::CallSignal {
                call: call.try_into()?,
                from: user(from)?,
                to: user(to)?,
                payload: data_from_json(&payload),
            },
        })
    }
}

fn call_type(raw: &str) -> Result<CallType> {
    CallType::parse(raw).ok_or_else(|| invalid("call type", raw))
}

impl TryFrom<Message> for crate::domain::Message {
    type Error = EventCodecError;

    fn try_from(m: Message) -> Result<Self> {
        let call = m
            .call
            .map(|c| -> Result<CallInfo> {
                Ok(CallInfo {
                    call_type: call_type(&c.call_type)?,
                    duration_secs: c.duration_secs,
                    status: CallOutcome::parse(&c.status)
                        .ok_or_else(|| invalid("call status", &c.status))?,
                })
            })
            .transpose()?;
        Ok(crate::domain::Message {
            id: MessageId::parse(m.id).map_err(|e| invalid("message id", e))?,
            conversation_id: conversation(m.conversation_id)?,
            seq: Seq(m.seq),
            sender: user(m.sender)?,
            // Stored by a node that checked it: the content is carried as it is.
            body: MessageBody {
                kind: MessageKind::parse(&m.kind)
                    .ok_or_else(|| invalid("message kind", &m.kind))?,
                text: m.text,
                attachments: m
                    .attachments
                    .into_iter()
                    .map(|a| DomainAttachment {
                        url: a.url,
                        kind: a.kind,
                        name: a.name,
                        size: a.size,
                    })
                    .collect(),
                call,
            },
            client_key: m
                .client_key
                .map(|k| ClientKey::new(k).map_err(|e| invalid("client key", e)))
                .transpose()?,
            created_at: at(m.created_at),
            edited_at: m.edited_at.map(at),
        })
    }
}

impl TryFrom<Profile> for UserProfile {
    type Error = EventCodecError;

    fn try_from(p: Profile) -> Result<Self> {
        Ok(UserProfile {
            id: user(p.id)?,
            name: p.name,
            email: p.email,
            avatar: p.avatar,
            role: p.role.as_deref().and_then(Role::new),
            last_active: p.last_active.map(at),
        })
    }
}

impl TryFrom<Mark> for ReadMark {
    type Error = EventCodecError;

    fn try_from(m: Mark) -> Result<Self> {
        Ok(ReadMark {
            conversation_id: conversation(m.conversation_id)?,
            user_id: user(m.user_id)?,
            up_to: Seq(m.up_to),
            at: at(m.at),
        })
    }
}

impl TryFrom<Notification> for DomainNotification {
    type Error = EventCodecError;

    fn try_from(n: Notification) -> Result<Self> {
        Ok(DomainNotification {
            id: NotificationId::parse(n.id).map_err(|e| invalid("notification id", e))?,
            recipient: user(n.recipient)?,
            kind: n.kind,
            title: n.title,
            message: n.message,
            reference_id: n.reference_id,
            data: data_from_json(&n.data),
            created_at: at(n.created_at),
            delivered_at: n.delivered_at.map(at),
            read_at: n.read_at.map(at),
        })
    }
}

impl TryFrom<Call> for CallSession {
    type Error = EventCodecError;

    fn try_from(c: Call) -> Result<Self> {
        Ok(CallSession {
            id: CallId::parse(c.id).map_err(|e| invalid("call id", e))?,
            conversation_id: conversation(c.conversation_id)?,
            caller: user(c.caller)?,
            callee: user(c.callee)?,
            call_type: call_type(&c.call_type)?,
            started_at: at(c.started_at),
            state: match c.accepted_at {
                None => CallState::Ringing,
                Some(accepted_at) => CallState::Active {
                    accepted_at: at(accepted_at),
                },
            },
        })
    }
}

impl TryFrom<Finished> for FinishedCall {
    type Error = EventCodecError;

    fn try_from(f: Finished) -> Result<Self> {
        Ok(FinishedCall {
            session: f.session.try_into()?,
            reason: end_reason(&f.reason)?,
            ended_by: f.ended_by.map(user).transpose()?,
            ended_at: at(f.ended_at),
        })
    }
}
