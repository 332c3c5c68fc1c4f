//! linsta (seed 003): JWT in the handshake's `auth.token`; chat rooms joined with
//! `join_room`, messages as `receive_message` to the whole room (sender included), history
//! by `limit`/`skip`, and notifications pushed as `notification`, pending ones on connect.

use serde_json::{Value, json};

use super::args;
use super::{
    Audience, Command, Delivery, DialectCodec, Emit, Handshake, HistoryWindow, Outcome, Reply,
    SessionView, WireError,
};
use crate::adapters::inbound::wire_time::iso_millis;
use crate::app::config::Dialect;
use crate::domain::{DomainEvent, Message, Notification, UserProfile};

pub struct Linsta;

/// The seed's default page size for history.
const DEFAULT_LIMIT: u32 = 50;

impl DialectCodec for Linsta {
    fn dialect(&self) -> Dialect {
        Dialect::Linsta
    }

    fn on_connect(&self, _: &Handshake<'_>) -> Result<Vec<Command>, WireError> {
        Ok(vec![Command::DeliverPending])
    }

    fn decode(&self, _: &SessionView<'_>, event: &str, args: &Value) -> Result<Command, WireError> {
        match event {
            "join_room" => {
                let obj = args::object(args, event)?;
                Ok(Command::Join(args::conversation_id(obj, "chatRoomId")?))
            }
            "send_message" => {
                let obj = args::object(args, event)?;
                Ok(Command::Post {
                    conversation: args::conversation_id(obj, "chatRoomId")?,
                    text: args::text(obj, "text")?.to_owned(),
                })
            }
            "get_history" => {
                let obj = args::object(args, event)?;
                Ok(Command::History {
                    conversation: args::conversation_id(obj, "chatRoomId")?,
                    window: HistoryWindow::Skip {
                        limit: args::small_count(obj, "limit", DEFAULT_LIMIT)?,
                        skip: args::count(obj, "skip", 0)?,
                    },
                })
            }
            "subscribe_notifications" => Ok(Command::SubscribeNotifications),
            other => Err(WireError::new(format!("unknown event {other:?}"))),
        }
    }

    fn reply(&self, _: &SessionView<'_>, outcome: &Outcome) -> Reply {
        match outcome {
            Outcome::Joined(c) | Outcome::Bound(c) => {
                Reply::ack_only(json!({ "chatRoomId": c.id.as_str() }))
            }
            Outcome::Left(id) => Reply::ack_only(json!({ "chatRoomId": id.as_str() })),
            Outcome::Posted(message) => Reply::ack_only(message_json(message)),
            Outcome::History { history, .. } => Reply::event(
                "message_history",
                json!({
                    "chatRoomId": history.conversation.id.as_str(),
                    "messages": history.messages.iter().map(message_json).collect::<Vec<_>>(),
                }),
            ),
            Outcome::Subscribed => Reply::event("notification_subscribed", json!({})),
            Outcome::Pending(list) => Reply {
                ack: json!({ "count": list.len() }),
                emits: list
                    .iter()
                    .map(|n| Emit::new("notification", notification_json(n)))
                    .collect(),
            },
            Outcome::Typing => Reply::ack_only(json!({})),
            Outcome::MessageRead { message, .. } => {
                Reply::ack_only(json!({ "messageId": message.id.as_str() }))
            }
        }
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessagePosted { message, .. } => vec![
                Delivery::new(
                    Audience::Room(message.conversation_id.clone()),
                    "receive_message",
                    message_json(message),
                )
                // The seed broadcasts to the room with io.to(): the sender's UI shows its own
                // message when it comes back.
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
}

/// `receive_message` and history entries: `{ _id, chatRoomId, senderId, text, createdAt }`.
pub fn message_json(m: &Message) -> Value {
    json!({
        "_id": m.id.as_str(),
        "chatRoomId": m.conversation_id.as_str(),
        "senderId": m.sender.as_str(),
        "text": m.body.text,
        "createdAt": iso_millis(m.created_at),
    })
}

/// REST history entries: the sender populated as `{ _id, name, email }`.
pub fn message_with_sender_json(m: &Message, sender: &UserProfile) -> Value {
    let mut value = message_json(m);
    value["senderId"] = user_json(sender);
    value
}

/// A populated user reference: `{ _id, name, email }`.
pub fn user_json(user: &UserProfile) -> Value {
    json!({
        "_id": user.id.as_str(),
        "name": user.display_name(),
        "email": user.email,
    })
}

/// `notification`: `{ _id, userId, type, message, referenceId, isRead, createdAt }`.
pub fn notification_json(n: &Notification) -> Value {
    json!({
        "_id": n.id.as_str(),
        "userId": n.recipient.as_str(),
        "type": n.kind,
        "message": n.message,
        "referenceId": n.reference_id,
        "isRead": n.is_read(),
        "createdAt": iso_millis(n.created_at),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::adapters::inbound::dialect::fixtures::{
        ALICE, BOB, ROOM, conversation, message, notification, profile, uid,
    };
    use crate::app::messages::History;
    use crate::domain::{ConversationId, MessageReceipt};

    fn view(user: &UserProfile) -> SessionView<'_> {
        SessionView { user, bound: None }
    }

    #[test]
    fn decodes_the_seed_events() {
        let alice = profile(ALICE, "Alice");
        let room = ConversationId::parse(ROOM).unwrap();
        let cases = [
            (
                "join_room",
                json!({ "chatRoomId": ROOM }),
                Command::Join(room.clone()),
            ),
            (
                "send_message",
                json!({ "chatRoomId": ROOM, "text": "Hey, how are you?" }),
                Command::Post {
                    conversation: room.clone(),
                    text: "Hey, how are you?".into(),
                },
            ),
            (
                "get_history",
                json!({ "chatRoomId": ROOM, "limit": 50, "skip": 0 }),
                Command::History {
                    conversation: room.clone(),
                    window: HistoryWindow::Skip { limit: 50, skip: 0 },
                },
            ),
            (
                // The seed's React example leaves skip out.
                "get_history",
                json!({ "chatRoomId": ROOM, "limit": 20 }),
                Command::History {
                    conversation: room.clone(),
                    window: HistoryWindow::Skip { limit: 20, skip: 0 },
                },
            ),
            (
                "subscribe_notifications",
                Value::Null,
                Command::SubscribeNotifications,
            ),
        ];
        for (event, args, expected) in cases {
            assert_eq!(
                Linsta.decode(&view(&alice), event, &args),
                Ok(expected),
                "{event}"
            );
        }
    }

    #[test]
    fn bad_input_names_the_problem() {
        let alice = profile(ALICE, "Alice");
        let cases = [
            ("join_room", json!({}), "chatRoomId is required"),
            (
                "join_room",
                json!({ "chatRoomId": 7 }),
                "chatRoomId must be a string",
            ),
            (
                "join_room",
                json!(ROOM),
                "join_room expects an object payload",
            ),
            (
                "send_message",
                json!({ "chatRoomId": ROOM, "text": 5 }),
                "text must be a string",
            ),
            (
                "get_history",
                json!({ "chatRoomId": ROOM, "skip": -1 }),
                "skip must be",
            ),
            ("delete_everything", json!({}), "unknown event"),
        ];
        for (event, args, expected) in cases {
            let err = Linsta.decode(&view(&alice), event, &args).unwrap_err();
            assert!(
                err.0.contains(expected),
                "{event}: {} lacks {expected}",
                err.0
            );
        }
    }

    #[test]
    fn messages_render_in_the_seed_shape_to_the_whole_room() {
        let m = message("Hey, how are you?", 1);
        let event = DomainEvent::MessagePosted {
            participants: vec![uid(ALICE), uid(BOB)],
            message: m.clone(),
            receipt: MessageReceipt::default(),
            sender: profile(ALICE, "Alice"),
            context: Default::default(),
            alert: vec![],
        };
        let deliveries = Linsta.render(&event);
        assert_eq!(deliveries.len(), 1);
        let d = &deliveries[0];
        assert_eq!(d.event, "receive_message");
        assert_eq!(d.audience, Audience::Room(m.conversation_id.clone()));
        assert!(d.to_origin, "the seed's io.to(room) includes the sender");
        assert_eq!(
            d.payload,
            json!({
                "_id": m.id.as_str(),
                "chatRoomId": ROOM,
                "senderId": ALICE,
                "text": "Hey, how are you?",
                "createdAt": "2026-01-05T12:00:00.000Z",
            })
        );
    }

    #[test]
    fn joins_are_told_to_the_others_in_the_room() {
        let event = DomainEvent::ConversationJoined {
            participants: vec![uid(ALICE), uid(BOB)],
            conversation_id: ConversationId::parse(ROOM).unwrap(),
            user_id: uid(ALICE),
        };
        let d = &Linsta.render(&event)[0];
        assert_eq!(d.event, "user_joined");
        assert!(!d.to_origin);
        assert_eq!(d.payload, json!({ "userId": ALICE, "chatRoomId": ROOM }));
    }

    #[test]
    fn notifications_go_to_the_recipient_in_the_seed_shape() {
        let n = notification();
        let d = &Linsta.render(&DomainEvent::NotificationCreated(n.clone()))[0];
        assert_eq!(d.event, "notification");
        assert_eq!(d.audience, Audience::Users(vec![uid(BOB)]));
        assert_eq!(
            d.payload,
            json!({
                "_id": n.id.as_str(),
                "userId": BOB,
                "type": "LIKE",
                "message": "User liked your post",
                "referenceId": "66f1234567890abcdef30001",
                "isRead": false,
                "createdAt": "2026-01-05T12:00:00.000Z",
            })
        );
    }

    #[test]
    fn history_answers_message_history_with_the_room() {
        let alice = profile(ALICE, "Alice");
        let history = History {
            conversation: conversation(false),
            messages: vec![message("one", 1), message("two", 2)],
        };
        let reply = Linsta.reply(
            &view(&alice),
            &Outcome::History {
                history,
                window: HistoryWindow::Skip { limit: 50, skip: 0 },
            },
        );
        assert_eq!(reply.emits.len(), 1);
        assert_eq!(reply.emits[0].event, "message_history");
        let payload = &reply.emits[0].payload;
        assert_eq!(payload["chatRoomId"], ROOM);
        let texts: Vec<_> = payload["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["one", "two"]);
        assert_eq!(&reply.ack, payload, "the ack gets the same result");
    }

    #[test]
    fn pending_notifications_are_pushed_one_event_each() {
        let bob = profile(BOB, "Bob");
        let reply = Linsta.reply(&view(&bob), &Outcome::Pending(vec![notification(); 2]));
        assert_eq!(reply.emits.len(), 2);
        assert!(reply.emits.iter().all(|e| e.event == "notification"));
    }

    #[test]
    fn other_events_are_not_part_of_linsta() {
        let event = DomainEvent::NotificationsRead {
            user_id: uid(BOB),
            notification_id: None,
        };
        assert!(Linsta.render(&event).is_empty());
    }

    #[test]
    fn rest_history_populates_the_sender() {
        let m = message("hi", 1);
        let value = message_with_sender_json(&m, &profile(ALICE, "Alice"));
        assert_eq!(
            value["senderId"],
            json!({ "_id": ALICE, "name": "Alice", "email": "alice@example.com" })
        );
    }
}
