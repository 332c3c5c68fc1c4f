//! The native requests' `data`, read into typed requests. Every field error names the
//! field; ids are checked here, content rules by the use cases.

use serde_json::{Map, Value};

use crate::adapters::inbound::protocol::{
    AcceptCall, EditMessage, ErrorCode, ListConversations, ListNotifications, OpenConversation,
    PlaceCall, ReadSeqRange, RelaySignal, Resume, SendMessage, SeqRange, SessionView, SetOnline,
    SetTyping, WireError, args,
};
use crate::adapters::json::data_from_json;
use crate::app::PostMessage;
use crate::domain::{Attachment, CallType, ConversationId, MessageKind, Seq, UserId};
use crate::ports::Page;

/// The page size when a request gives none.
const DEFAULT_LIMIT: u32 = 50;
/// The most conversations one resume may name (each costs a read).
pub const MAX_RESUME_CONVERSATIONS: usize = 500;
/// The most messages one resume sends; the rest is paged with `messages.history`.
pub const RESUME_MESSAGE_LIMIT: usize = 1000;
/// The most attachments one message may carry.
const MAX_ATTACHMENTS: usize = 20;

/// `data` as an object; a request without `data` reads as an empty object.
fn data<'a>(args: &'a Value, kind: &str) -> Result<&'a Map<String, Value>, WireError> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    match args {
        Value::Null => Ok(&EMPTY),
        _ => args::object(args, kind),
    }
}

pub fn conversation(args: &Value, kind: &str) -> Result<ConversationId, WireError> {
    args::conversation_id(data(args, kind)?, "conversationId")
}

pub fn message_id(args: &Value, kind: &str) -> Result<crate::domain::MessageId, WireError> {
    args::message_id(data(args, kind)?, "messageId")
}

pub fn notification_id(
    args: &Value,
    kind: &str,
) -> Result<crate::domain::NotificationId, WireError> {
    args::notification_id(data(args, kind)?, "notificationId")
}

pub fn user(args: &Value, kind: &str) -> Result<UserId, WireError> {
    args::user_id(data(args, kind)?, "userId")
}

fn page(obj: &Map<String, Value>) -> Result<Page, WireError> {
    Ok(Page::new(
        args::small_count(obj, "limit", DEFAULT_LIMIT)?,
        args::count(obj, "skip", 0)?,
    ))
}

pub fn open(view: &SessionView<'_>, args: &Value) -> Result<OpenConversation, WireError> {
    let obj = data(args, "conversations.open")?;
    let ids = match obj.get("participantIds") {
        Some(Value::Array(items)) => items,
        _ => {
            return Err(WireError::new(
                "participantIds must be an array of user ids",
            ));
        }
    };
    let mut participants = vec![view.user.id.clone()];
    for (i, item) in ids.iter().enumerate() {
        let id = item
            .as_str()
            .and_then(|s| UserId::parse(s).ok())
            .ok_or_else(|| WireError::new(format!("participantIds[{i}] must be a user id")))?;
        participants.push(id);
    }
    let context = args::context(obj)?;
    Ok(OpenConversation {
        participants,
        context,
    })
}

pub fn list(_: &SessionView<'_>, args: &Value) -> Result<ListConversations, WireError> {
    Ok(ListConversations(page(data(args, "conversations.list")?)?))
}

pub fn list_notifications(
    _: &SessionView<'_>,
    args: &Value,
) -> Result<ListNotifications, WireError> {
    Ok(ListNotifications(page(data(args, "notifications.list")?)?))
}

/// `{ conversationId, text, kind?, attachments?, clientKey? }`.
pub fn send(_: &SessionView<'_>, args: &Value) -> Result<SendMessage, WireError> {
    let obj = data(args, "messages.send")?;
    let kind = match obj.get("kind") {
        None | Some(Value::Null) => MessageKind::Text,
        Some(Value::String(s)) => MessageKind::parse(s)
            .filter(|k| !matches!(k, MessageKind::Call | MessageKind::System))
            .ok_or_else(|| WireError::new("kind must be text, image, file or meeting"))?,
        Some(_) => return Err(WireError::new("kind must be a string")),
    };
    let text = match obj.get("text") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(WireError::new("text must be a string")),
    };
    let client_key = match obj.get("clientKey") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(WireError::new("clientKey must be a string")),
    };
    Ok(SendMessage(PostMessage {
        attachments: attachments(obj)?,
        kind,
        text,
        client_key,
        ..PostMessage::text(args::conversation_id(obj, "conversationId")?, "")
    }))
}

fn attachments(obj: &Map<String, Value>) -> Result<Vec<Attachment>, WireError> {
    let items = match obj.get("attachments") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= MAX_ATTACHMENTS => items,
        Some(Value::Array(_)) => {
            return Err(WireError::coded(
                ErrorCode::TooLarge,
                format!("at most {MAX_ATTACHMENTS} attachments per message"),
            ));
        }
        Some(_) => return Err(WireError::new("attachments must be an array")),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let what = format!("attachments[{i}]");
            let a = args::object(item, &what)?;
            Ok(Attachment {
                url: args::string(a, "url")?.to_owned(),
                kind: a
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("file")
                    .to_owned(),
                name: a
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                size: a.get("size").and_then(Value::as_u64).unwrap_or(0),
            })
        })
        .collect()
}

pub fn edit(_: &SessionView<'_>, args: &Value) -> Result<EditMessage, WireError> {
    let obj = data(args, "messages.edit")?;
    Ok(EditMessage {
        message: args::message_id(obj, "messageId")?,
        text: args::string(obj, "text")?.to_owned(),
    })
}

/// `{ conversationId, afterSeq? | beforeSeq?, limit? }`; neither: the newest page.
pub fn history(_: &SessionView<'_>, args: &Value) -> Result<ReadSeqRange, WireError> {
    let obj = data(args, "messages.history")?;
    let given = |field| obj.get(field).filter(|v| !v.is_null());
    let range = match (given("afterSeq"), given("beforeSeq")) {
        (Some(_), Some(_)) => {
            return Err(WireError::new("give afterSeq or beforeSeq, not both"));
        }
        (Some(_), None) => SeqRange::After(Seq(args::count(obj, "afterSeq", 0)?)),
        (None, Some(_)) => SeqRange::Before(Seq(args::count(obj, "beforeSeq", 0)?)),
        (None, None) => SeqRange::Before(Seq(u64::MAX)),
    };
    Ok(ReadSeqRange {
        conversation: args::conversation_id(obj, "conversationId")?,
        range,
        limit: args::small_count(obj, "limit", DEFAULT_LIMIT)?,
    })
}

pub fn typing(args: &Value, kind: &str, typing: bool) -> Result<SetTyping, WireError> {
    Ok(SetTyping {
        conversation: conversation(args, kind)?,
        typing,
    })
}

pub fn set_online(_: &SessionView<'_>, args: &Value) -> Result<SetOnline, WireError> {
    let obj = data(args, "presence.set")?;
    match obj.get("online") {
        Some(Value::Bool(online)) => Ok(SetOnline(*online)),
        _ => Err(WireError::new("online must be true or false")),
    }
}

pub fn place_call(_: &SessionView<'_>, args: &Value) -> Result<PlaceCall, WireError> {
    let obj = data(args, "call.place")?;
    let call_type = match obj.get("callType") {
        None | Some(Value::Null) => CallType::Audio,
        Some(Value::String(s)) => {
            CallType::parse(s).ok_or_else(|| WireError::new("callType must be audio or video"))?
        }
        Some(_) => return Err(WireError::new("callType must be audio or video")),
    };
    Ok(PlaceCall {
        conversation: args::conversation_id(obj, "conversationId")?,
        callee: args::user_id(obj, "calleeId")?,
        call_type,
        offer: data_from_json(obj.get("offer").unwrap_or(&Value::Null)),
    })
}

pub fn accept_call(_: &SessionView<'_>, args: &Value) -> Result<AcceptCall, WireError> {
    let obj = data(args, "call.accept")?;
    Ok(AcceptCall {
        answer: data_from_json(obj.get("answer").unwrap_or(&Value::Null)),
    })
}

pub fn signal(_: &SessionView<'_>, args: &Value) -> Result<RelaySignal, WireError> {
    let obj = data(args, "call.signal")?;
    Ok(RelaySignal {
        to: args::user_id(obj, "to")?,
        payload: data_from_json(obj.get("payload").unwrap_or(&Value::Null)),
    })
}

/// The `resume` of a `hello`: `{ "conversations": { "<conversationId>": <last seq held> } }`.
pub fn resume(value: &Value) -> Result<Resume, WireError> {
    let obj = args::object(value, "resume")?;
    let map = match obj.get("conversations") {
        Some(Value::Object(map)) => map,
        _ => {
            return Err(WireError::new(
                "resume.conversations must be an object of conversation id to seq",
            ));
        }
    };
    if map.len() > MAX_RESUME_CONVERSATIONS {
        return Err(WireError::coded(
            ErrorCode::TooLarge,
            format!("resume names at most {MAX_RESUME_CONVERSATIONS} conversations"),
        ));
    }
    let after = map
        .iter()
        .map(|(id, seq)| {
            let id = ConversationId::parse(id.as_str())
                .map_err(|e| WireError::new(format!("resume.conversations: {e}")))?;
            let seq = seq.as_u64().ok_or_else(|| {
                WireError::new(format!(
                    "resume.conversations.{} must be a seq (a whole number)",
                    id.as_str()
                ))
            })?;
            Ok((id, Seq(seq)))
        })
        .collect::<Result<Vec<_>, WireError>>()?;
    Ok(Resume {
        after,
        limit: RESUME_MESSAGE_LIMIT,
    })
}
