//! kaajkaam: a gig marketplace whose chat runs mostly over REST (see `rest`: conversations
//! per pair and order, gig or job; messages with files; read marks; call records), with
//! Socket.IO for what is live: messages as `receive_message` to the conversation's room and
//! the other participant's personal room, `new_notification`, typing, read receipts,
//! presence (`user_online` / `user_offline` to contacts), and WebRTC call signaling over the
//! core's call state machine (`call:*`, `webrtc:ice-candidate`). The handshake carries a token
//! or, with legacy identity, `query.userId`.

mod form;
mod json;
mod rest;
#[cfg(test)]
mod rest_tests;
#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use crate::adapters::inbound::protocol::args;
use crate::adapters::inbound::protocol::{
    AcceptCall, AnnounceOnline, Audience, ConversationRead, DeclineCall, Delivery, Dialect, HangUp,
    JoinConversation, MarkConversationRead, PlaceCall, RelaySignal, Reply, SendMessage,
    SessionView, SetTyping, WireError,
};
use crate::adapters::inbound::session::EventTable;
use crate::adapters::inbound::transports::http::RestState;
use crate::adapters::inbound::wire_time::iso_millis;
use crate::adapters::json::{data_from_json, data_to_json};
use crate::app::{PostMessage, Posted};
use crate::domain::call::FinishedCall;
use crate::domain::{CallSession, CallType, Conversation, DomainEvent, MessageReceipt};
use json::{
    call_ack_json, call_from_json, finished_ack_json, incoming_json, message_json,
    message_notification_json, notification_json,
};

pub struct Kaajkaam {
    events: EventTable,
}

impl Default for Kaajkaam {
    fn default() -> Self {
        Self {
            events: EventTable::new()
                .on("join_conversation", decode_join, |_, c: &Conversation| {
                    Reply::ack_only(json!({ "conversationId": c.id.as_str() }))
                })
                .on("send_message", decode_send, |_, p: &Posted| {
                    Reply::ack_only(message_json(&p.message, &MessageReceipt::default()))
                })
                .on(
                    "typing",
                    |_, a| decode_typing(a, "typing", true),
                    |_, ()| Reply::ack_only(json!({})),
                )
                .on(
                    "stop_typing",
                    |_, a| decode_typing(a, "stop_typing", false),
                    |_, ()| Reply::ack_only(json!({})),
                )
                .on("mark_read", decode_read, |_, r: &ConversationRead| {
                    Reply::ack_only(json!({
                        "userId": r.by.as_str(),
                        "conversationId": r.conversation.as_str(),
                    }))
                })
                .on("user_online", decode_online, |view, ()| {
                    Reply::ack_only(json!({ "userId": view.user.id.as_str() }))
                })
                .on("call:initiate", decode_initiate, |_, call: &CallSession| {
                    Reply::ack_only(call_ack_json(call))
                })
                .on("call:accept", decode_accept, |_, call: &CallSession| {
                    Reply::ack_only(call_ack_json(call))
                })
                .on("call:reject", |_, _| Ok(DeclineCall), reply_finished)
                .on("call:end", |_, _| Ok(HangUp), reply_finished)
                .on("webrtc:ice-candidate", decode_candidate, |_, ()| {
                    Reply::ack_only(json!({}))
                }),
        }
    }
}

impl Dialect for Kaajkaam {
    fn name(&self) -> &'static str {
        "kaajkaam"
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
                sender,
                ..
            } => {
                let rendered = message_json(message, receipt);
                let others: Vec<_> = participants
                    .iter()
                    .filter(|p| **p != message.sender)
                    .cloned()
                    .collect();
                let mut deliveries = vec![
                    Delivery::new(
                        Audience::Room(message.conversation_id.clone()),
                        "receive_message",
                        rendered.clone(),
                    )
                    .including_origin(),
                    Delivery::new(Audience::Users(others.clone()), "receive_message", rendered),
                ];
                deliveries.extend(others.iter().map(|to| {
                    Delivery::new(
                        Audience::Users(vec![to.clone()]),
                        "new_notification",
                        message_notification_json(message, sender, to),
                    )
                }));
                deliveries
            }
            DomainEvent::TypingChanged { change, .. } => {
                let user = change.user_id.as_str();
                let (name, payload) = if change.typing {
                    (
                        "user_typing",
                        json!({ "userId": user, "timestamp": iso_millis(change.at) }),
                    )
                } else {
                    ("user_stop_typing", json!({ "userId": user }))
                };
                vec![
                    Delivery::new(
                        Audience::Room(change.conversation_id.clone()),
                        name,
                        payload,
                    )
                    .except(&change.user_id),
                ]
            }
            DomainEvent::MessagesRead { mark, .. } => vec![
                Delivery::new(
                    Audience::Room(mark.conversation_id.clone()),
                    "messages_read",
                    json!({
                        "userId": mark.user_id.as_str(),
                        "conversationId": mark.conversation_id.as_str(),
                    }),
                )
                .including_origin(),
            ],
            DomainEvent::PresenceChanged { change, contacts } => vec![Delivery::new(
                Audience::Users(contacts.clone()),
                if change.online {
                    "user_online"
                } else {
                    "user_offline"
                },
                json!({ "userId": change.user_id.as_str() }),
            )],
            DomainEvent::NotificationCreated(n) => vec![Delivery::new(
                Audience::Users(vec![n.recipient.clone()]),
                "new_notification",
                notification_json(n),
            )],
            DomainEvent::CallRinging { call, offer } => vec![Delivery::new(
                Audience::Users(vec![call.callee.clone()]),
                "call:incoming",
                incoming_json(call, data_to_json(offer)),
            )],
            DomainEvent::CallAccepted { call, answer } => vec![Delivery::new(
                Audience::Users(vec![call.caller.clone()]),
                "call:accepted",
                json!({
                    "callId": call.id.as_str(),
                    "answer": data_to_json(answer),
                    "from": call.callee.as_str(),
                }),
            )],
            // The caller's own request found the callee busy: its connection is told too.
            DomainEvent::CallBusy { call } => vec![
                Delivery::new(
                    Audience::Users(vec![call.caller.clone()]),
                    "call:busy",
                    call_from_json(call, &call.callee),
                )
                .including_origin(),
            ],
            DomainEvent::CallDeclined { finished } => vec![Delivery::new(
                Audience::Users(vec![finished.session.caller.clone()]),
                "call:rejected",
                call_from_json(&finished.session, &finished.session.callee),
            )],
            DomainEvent::CallEnded { finished } => ended(finished),
            DomainEvent::CallSignal {
                from, to, payload, ..
            } => vec![Delivery::new(
                Audience::Users(vec![to.clone()]),
                "webrtc:ice-candidate",
                json!({ "candidate": data_to_json(payload), "from": from.as_str() }),
            )],
            _ => vec![],
        }
    }

    fn rest(&self) -> axum::Router<RestState> {
        rest::router()
    }
}

/// `call:ended { callId, from }`: to the party who did not end it; a call that ended by
/// itself (unanswered in time) ends for both, each told it came from the other.
fn ended(finished: &FinishedCall) -> Vec<Delivery> {
    let call = &finished.session;
    let to = |user: &crate::domain::UserId, from: &crate::domain::UserId| {
        Delivery::new(
            Audience::Users(vec![user.clone()]),
            "call:ended",
            call_from_json(call, from),
        )
    };
    match &finished.ended_by {
        Some(by) => vec![to(finished.other_party(), by)],
        None => vec![
            to(&call.caller, &call.callee),
            to(&call.callee, &call.caller),
        ],
    }
}

fn decode_join(_: &SessionView<'_>, args: &Value) -> Result<JoinConversation, WireError> {
    Ok(JoinConversation(args::bare_conversation_id(
        args,
        "join_conversation",
        "conversationId",
    )?))
}

fn decode_send(_: &SessionView<'_>, args: &Value) -> Result<SendMessage, WireError> {
    let obj = args::object(args, "send_message")?;
    Ok(SendMessage(PostMessage::text(
        args::conversation_id(obj, "conversationId")?,
        args::text(obj, "text")?,
    )))
}

fn decode_typing(args: &Value, event: &str, typing: bool) -> Result<SetTyping, WireError> {
    Ok(SetTyping {
        conversation: args::bare_conversation_id(args, event, "conversationId")?,
        typing,
    })
}

fn decode_read(_: &SessionView<'_>, args: &Value) -> Result<MarkConversationRead, WireError> {
    Ok(MarkConversationRead(args::bare_conversation_id(
        args,
        "mark_read",
        "conversationId",
    )?))
}

/// `user_online(userId)`: one's own, again.
fn decode_online(view: &SessionView<'_>, args: &Value) -> Result<AnnounceOnline, WireError> {
    args::own_user(view, &args::bare_user_id(args, "user_online")?)?;
    Ok(AnnounceOnline)
}

/// A `from`, when a call event carries one, must be the connection's own user.
fn own_from(view: &SessionView<'_>, obj: &serde_json::Map<String, Value>) -> Result<(), WireError> {
    match obj.get("from") {
        None | Some(Value::Null) => Ok(()),
        Some(_) => args::own_user(view, &args::user_id(obj, "from")?)
            .map_err(|_| WireError::new("from must be your own user id")),
    }
}

/// `{ conversationId, callType, offer, from, to }`.
fn decode_initiate(view: &SessionView<'_>, args: &Value) -> Result<PlaceCall, WireError> {
    let obj = args::object(args, "call:initiate")?;
    own_from(view, obj)?;
    let call_type = CallType::parse(args::string(obj, "callType")?)
        .ok_or_else(|| WireError::new("callType must be audio or video"))?;
    Ok(PlaceCall {
        conversation: args::conversation_id(obj, "conversationId")?,
        callee: args::user_id(obj, "to")?,
        call_type,
        offer: data_from_json(obj.get("offer").unwrap_or(&Value::Null)),
    })
}

/// `{ conversationId, to, answer }`: answers one's ringing call.
fn decode_accept(view: &SessionView<'_>, args: &Value) -> Result<AcceptCall, WireError> {
    let obj = args::object(args, "call:accept")?;
    own_from(view, obj)?;
    Ok(AcceptCall {
        answer: data_from_json(obj.get("answer").unwrap_or(&Value::Null)),
    })
}

/// `{ to, candidate }`: relayed to the other party of one's live call only.
fn decode_candidate(view: &SessionView<'_>, args: &Value) -> Result<RelaySignal, WireError> {
    let obj = args::object(args, "webrtc:ice-candidate")?;
    own_from(view, obj)?;
    Ok(RelaySignal {
        to: args::user_id(obj, "to")?,
        payload: data_from_json(obj.get("candidate").unwrap_or(&Value::Null)),
    })
}

fn reply_finished(_: &SessionView<'_>, finished: &FinishedCall) -> Reply {
    Reply::ack_only(finished_ack_json(finished))
}
