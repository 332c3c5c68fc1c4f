//! Domain events as native events. Message events go to every connection of every
//! participant (a native client keeps all its conversations current, not only the one on
//! screen), the sender's own included: a call's record message, posted by the request that
//! ended the call, reaches that connection too, so every connection sees every seq (a client
//! drops a seq it holds already, e.g. from the answer to its `messages.send`). They carry the
//! message's position for resumed connections. Other events skip the connection the change
//! came from, which has the answer to its request.

use serde_json::json;

use super::json::{
    call_json, finished_json, message_json, notification_json, presence_json, receipt_json,
};
use crate::adapters::inbound::protocol::{Audience, Delivery};
use crate::adapters::json::data_to_json;
use crate::domain::DomainEvent;

pub fn render(event: &DomainEvent) -> Vec<Delivery> {
    match event {
        DomainEvent::MessagePosted {
            participants,
            message,
            receipt,
            ..
        } => vec![
            Delivery::new(
                Audience::Users(participants.clone()),
                "message.new",
                message_json(message, Some(receipt)),
            )
            .at(&message.conversation_id, message.seq)
            .including_origin(),
        ],
        DomainEvent::MessageEdited {
            participants,
            message,
        } => vec![Delivery::new(
            Audience::Users(participants.clone()),
            "message.edited",
            message_json(message, None),
        )],
        DomainEvent::MessagesDelivered { participants, mark } => vec![Delivery::new(
            Audience::Users(participants.clone()),
            "receipt",
            receipt_json(mark, "delivered", None),
        )],
        DomainEvent::MessagesRead {
            participants,
            mark,
            message_id,
        } => vec![Delivery::new(
            Audience::Users(participants.clone()),
            "receipt",
            receipt_json(mark, "read", message_id.as_ref().map(|id| id.as_str())),
        )],
        DomainEvent::ConversationJoined { .. } => vec![],
        DomainEvent::NotificationCreated(n) => vec![Delivery::new(
            Audience::Users(vec![n.recipient.clone()]),
            "notification.new",
            notification_json(n),
        )],
        DomainEvent::NotificationsRead {
            user_id,
            notification_id,
        } => vec![Delivery::new(
            Audience::Users(vec![user_id.clone()]),
            "notifications.read",
            json!({ "notificationId": notification_id.as_ref().map(|id| id.as_str()) }),
        )],
        DomainEvent::PresenceChanged { change, contacts } => vec![Delivery::new(
            Audience::Users(contacts.clone()),
            "presence",
            presence_json(&change.user_id, change.online, change.last_active),
        )],
        DomainEvent::TypingChanged {
            participants,
            change,
            user_name,
        } => vec![
            Delivery::new(
                Audience::Users(participants.clone()),
                "typing",
                json!({
                    "conversationId": change.conversation_id.as_str(),
                    "userId": change.user_id.as_str(),
                    "name": user_name,
                    "typing": change.typing,
                }),
            )
            .except(&change.user_id),
        ],
        DomainEvent::CallRinging { call, offer } => vec![Delivery::new(
            Audience::Users(vec![call.callee.clone()]),
            "call.ringing",
            json!({ "call": call_json(call), "offer": data_to_json(offer) }),
        )],
        DomainEvent::CallAccepted { call, answer } => vec![Delivery::new(
            // The callee's other connections stop ringing.
            Audience::Users(vec![call.caller.clone(), call.callee.clone()]),
            "call.accepted",
            json!({ "call": call_json(call), "answer": data_to_json(answer) }),
        )],
        // The answer to `call.place` shows the call as placed; this says it ended at once.
        DomainEvent::CallBusy { call } => vec![
            Delivery::new(
                Audience::Users(vec![call.caller.clone()]),
                "call.busy",
                json!({ "call": call_json(call) }),
            )
            .including_origin(),
        ],
        DomainEvent::CallDeclined { finished } | DomainEvent::CallEnded { finished } => {
            let session = &finished.session;
            vec![Delivery::new(
                Audience::Users(vec![session.caller.clone(), session.callee.clone()]),
                "call.ended",
                json!({ "call": finished_json(finished) }),
            )]
        }
        DomainEvent::CallSignal {
            call,
            from,
            to,
            payload,
        } => vec![Delivery::new(
            Audience::Users(vec![to.clone()]),
            "call.signal",
            json!({
                "callId": call.id.as_str(),
                "from": from.as_str(),
                "payload": data_to_json(payload),
            }),
        )],
    }
}
