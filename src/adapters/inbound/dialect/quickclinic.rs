//! quickclinic (seed 004): a chat is a doctor–patient *relation*. The handshake carries the
//! token and the `relationId`, the connection is bound to that relation's room, and the
//! events (`get_initial_messages`, `send_message`, `user_typing`, `mark_as_read`) need no
//! relation id of their own. Ids are `id` (the PostgreSQL family), not `_id`.

use serde_json::{Value, json};

use super::args;
use super::{
    Audience, Command, Delivery, DialectCodec, Handshake, HistoryWindow, Outcome, Reply,
    SessionView, WireError,
};
use crate::adapters::inbound::wire_time::iso_millis;
use crate::app::config::Dialect;
use crate::app::messages::History;
use crate::domain::{ConversationContext, DomainEvent, Message, MessageReceipt, UserId};

pub struct Quickclinic;

/// Context keys that make a conversation a relation, and the roles they give.
pub const DOCTOR_KEY: &str = "doctorId";
pub const PATIENT_KEY: &str = "patientId";

/// The seed client's page size.
const DEFAULT_LIMIT: u32 = 20;

impl DialectCodec for Quickclinic {
    fn dialect(&self) -> Dialect {
        Dialect::Quickclinic
    }

    fn on_connect(&self, handshake: &Handshake<'_>) -> Result<Vec<Command>, WireError> {
        let relation = handshake
            .param("relationId")
            .ok_or_else(|| WireError::new("relationId is required"))?;
        let relation = crate::domain::ConversationId::parse(relation)
            .map_err(|e| WireError::new(format!("relationId: {e}")))?;
        Ok(vec![Command::Bind(relation)])
    }

    fn decode(
        &self,
        session: &SessionView<'_>,
        event: &str,
        args: &Value,
    ) -> Result<Command, WireError> {
        // Events without arguments are common here (`user_typing()`); absent means empty.
        let empty = Value::Object(serde_json::Map::new());
        let args = if args.is_null() { &empty } else { args };
        match event {
            "get_initial_messages" => {
                let obj = args::object(args, event)?;
                Ok(Command::History {
                    conversation: session.bound_id()?.clone(),
                    window: HistoryWindow::Numbered {
                        page: args::small_count(obj, "page", 1)?.max(1),
                        limit: args::small_count(obj, "limit", DEFAULT_LIMIT)?,
                    },
                })
            }
            "send_message" => {
                let obj = args::object(args, event)?;
                Ok(Command::Post {
                    conversation: session.bound_id()?.clone(),
                    text: args::text(obj, "text")?.to_owned(),
                })
            }
            "user_typing" => Ok(Command::Typing {
                conversation: session.bound_id()?.clone(),
                typing: true,
            }),
            "mark_as_read" => {
                let obj = args::object(args, event)?;
                Ok(Command::MarkMessageRead(args::message_id(
                    obj,
                    "messageId",
                )?))
            }
            other => Err(WireError::new(format!("unknown event {other:?}"))),
        }
    }

    fn reply(&self, session: &SessionView<'_>, outcome: &Outcome) -> Reply {
        let context = session.bound.map(|c| &c.context);
        match outcome {
            Outcome::Bound(relation) | Outcome::Joined(relation) => Reply::event(
                "connected",
                json!({
                    "userId": session.user.id.as_str(),
                    "userName": session.user.display_name(),
                    "userRole": role_in(&relation.context, &session.user.id)
                        .or(session.user.role.as_ref().map(|r| r.as_str())),
                }),
            ),
            Outcome::Left(id) => Reply::ack_only(json!({ "relationId": id.as_str() })),
            Outcome::Posted(message) => Reply::ack_only(json!({
                "message": message_json(message, context, &MessageReceipt::default()),
            })),
            Outcome::History { history, window } => {
                Reply::event("initial_messages", page_json(history, *window))
            }
            Outcome::Subscribed | Outcome::Typing => Reply::ack_only(json!({})),
            Outcome::Pending(list) => Reply::ack_only(json!({ "count": list.len() })),
            Outcome::MessageRead { message, by } => Reply::ack_only(json!({
                "messageId": message.id.as_str(),
                "readBy": by.as_str(),
            })),
        }
    }

    fn render(&self, event: &DomainEvent) -> Vec<Delivery> {
        match event {
            DomainEvent::MessagePosted {
                message,
                receipt,
                context,
                ..
            } => vec![Delivery::new(
                Audience::Room(message.conversation_id.clone()),
                "new_message",
                json!({ "message": message_json(message, Some(context), receipt) }),
            )],
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
}

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::adapters::inbound::dialect::fixtures::{
        ALICE, BOB, ROOM, conversation, message, profile, uid,
    };
    use crate::domain::{
        Conversation, ConversationId, MessageId, ReadMark, Seq, Timestamp, TypingChange,
        UserProfile,
    };

    fn view<'a>(user: &'a UserProfile, bound: &'a Conversation) -> SessionView<'a> {
        SessionView {
            user,
            bound: Some(bound),
        }
    }

    #[test]
    fn the_handshake_binds_the_relation_from_auth_or_query() {
        let auth = json!({ "token": "t", "relationId": ROOM });
        let from_auth = Handshake {
            auth: &auth,
            query: &[],
        };
        let room = ConversationId::parse(ROOM).unwrap();
        assert_eq!(
            Quickclinic.on_connect(&from_auth),
            Ok(vec![Command::Bind(room.clone())])
        );
        let query = [("relationId".to_owned(), ROOM.to_owned())];
        let from_query = Handshake {
            auth: &Value::Null,
            query: &query,
        };
        assert_eq!(
            Quickclinic.on_connect(&from_query),
            Ok(vec![Command::Bind(room)])
        );
        let none = Handshake {
            auth: &Value::Null,
            query: &[],
        };
        assert_eq!(
            Quickclinic.on_connect(&none).unwrap_err().0,
            "relationId is required"
        );
    }

    #[test]
    fn decodes_the_seed_events_against_the_bound_relation() {
        let alice = profile(ALICE, "Alice");
        let relation = conversation(true);
        let room = relation.id.clone();
        let cases = [
            (
                "get_initial_messages",
                json!({ "page": 1, "limit": 20 }),
                Command::History {
                    conversation: room.clone(),
                    window: HistoryWindow::Numbered { page: 1, limit: 20 },
                },
            ),
            (
                "get_initial_messages",
                Value::Null,
                Command::History {
                    conversation: room.clone(),
                    window: HistoryWindow::Numbered { page: 1, limit: 20 },
                },
            ),
            (
                "send_message",
                json!({ "text": "message" }),
                Command::Post {
                    conversation: room.clone(),
                    text: "message".into(),
                },
            ),
            (
                "user_typing",
                Value::Null,
                Command::Typing {
                    conversation: room.clone(),
                    typing: true,
                },
            ),
            (
                "mark_as_read",
                json!({ "messageId": "id1" }),
                Command::MarkMessageRead(MessageId::parse("id1").unwrap()),
            ),
        ];
        for (event, args, expected) in cases {
            assert_eq!(
                Quickclinic.decode(&view(&alice, &relation), event, &args),
                Ok(expected),
                "{event}"
            );
        }
        let err = Quickclinic
            .decode(&view(&alice, &relation), "mark_as_read", &json!({}))
            .unwrap_err();
        assert_eq!(err.0, "messageId is required");
    }

    #[test]
    fn connected_names_the_user_and_their_side_of_the_relation() {
        let bob = profile(BOB, "Bob");
        let relation = conversation(true);
        let reply = Quickclinic.reply(&view(&bob, &relation), &Outcome::Bound(relation.clone()));
        assert_eq!(reply.emits[0].event, "connected");
        assert_eq!(
            reply.emits[0].payload,
            json!({ "userId": BOB, "userName": "Bob", "userRole": "patient" })
        );
    }

    #[test]
    fn new_messages_carry_the_sender_role_and_skip_the_sending_connection() {
        let m = message("Hello doctor", 1);
        let relation = conversation(true);
        let event = DomainEvent::MessagePosted {
            participants: vec![uid(ALICE), uid(BOB)],
            message: m.clone(),
            receipt: crate::domain::MessageReceipt::default(),
            sender: profile(ALICE, "Alice"),
            context: relation.context.clone(),
            alert: vec![],
        };
        let d = &Quickclinic.render(&event)[0];
        assert_eq!(d.event, "new_message");
        assert!(!d.to_origin, "the sender gets its ack, not its own event");
        assert_eq!(
            d.payload,
            json!({ "message": {
                "id": m.id.as_str(),
                "relationId": ROOM,
                "senderId": ALICE,
                "senderRole": "doctor",
                "text": "Hello doctor",
                "isRead": false,
                "readAt": null,
                "createdAt": "2026-01-05T12:00:00.000Z",
            }})
        );
    }

    #[test]
    fn typing_goes_to_the_other_side_only() {
        let change = TypingChange {
            conversation_id: ConversationId::parse(ROOM).unwrap(),
            user_id: uid(BOB),
            typing: true,
            at: Timestamp::from_millis(1),
        };
        let event = DomainEvent::TypingChanged {
            participants: vec![uid(ALICE), uid(BOB)],
            change: change.clone(),
            user_name: Some("Bob".into()),
        };
        let d = &Quickclinic.render(&event)[0];
        assert_eq!(d.event, "user_typing");
        assert_eq!(d.except_user, Some(uid(BOB)));
        assert_eq!(d.payload, json!({ "userId": BOB, "userName": "Bob" }));
        let stopped = DomainEvent::TypingChanged {
            participants: vec![],
            change: TypingChange {
                typing: false,
                ..change
            },
            user_name: None,
        };
        assert!(
            Quickclinic.render(&stopped).is_empty(),
            "the seed has no stop event"
        );
    }

    #[test]
    fn read_receipts_name_the_message_and_the_reader() {
        let event = DomainEvent::MessagesRead {
            participants: vec![uid(ALICE), uid(BOB)],
            mark: ReadMark {
                conversation_id: ConversationId::parse(ROOM).unwrap(),
                user_id: uid(BOB),
                up_to: Seq(3),
                at: Timestamp::from_millis(1),
            },
            message_id: Some(MessageId::parse("m3").unwrap()),
        };
        let d = &Quickclinic.render(&event)[0];
        assert_eq!(d.event, "message_read");
        assert_eq!(d.payload, json!({ "messageId": "m3", "readBy": BOB }));
    }

    #[test]
    fn pages_count_from_the_newest() {
        let mut relation = conversation(true);
        relation.last_seq = Seq(45);
        let history = History {
            conversation: relation,
            messages: vec![message("a", 1)],
        };
        let page = page_json(&history, HistoryWindow::Numbered { page: 2, limit: 20 });
        assert_eq!(
            page["pagination"],
            json!({ "page": 2, "limit": 20, "total": 45, "totalPages": 3, "hasMore": true })
        );
        let last = page_json(&history, HistoryWindow::Numbered { page: 3, limit: 20 });
        assert_eq!(last["pagination"]["hasMore"], false);
    }
}
