//! Reading client arguments: each helper names the field and what was wrong with it, so a
//! malformed event gets an error its developer can act on instead of a generic failure.

use serde_json::{Map, Value};

use super::dialect::SessionView;
use super::wire::WireError;
use crate::domain::{ConversationContext, ConversationId, MessageId, NotificationId, UserId};

/// The first argument as an object. `what` names the event for the message.
pub fn object<'a>(args: &'a Value, what: &str) -> Result<&'a Map<String, Value>, WireError> {
    args.as_object()
        .ok_or_else(|| WireError::new(format!("{what} expects an object payload")))
}

/// A required string field (blank strings count as missing).
pub fn string<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a str, WireError> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(WireError::new(format!("{field} is required"))),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(WireError::new(format!("{field} is required")))
        }
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(WireError::new(format!("{field} must be a string"))),
    }
}

/// A string field that may be absent; present, it must be a string. Blank is kept: whether
/// blank text is allowed is the core's rule.
pub fn text<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a str, WireError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(WireError::new(format!("{field} must be a string"))),
    }
}

/// A non-negative whole number, or `default` when absent. Numeric strings are accepted,
/// as query strings carry them.
pub fn count(obj: &Map<String, Value>, field: &str, default: u64) -> Result<u64, WireError> {
    let bad = || WireError::new(format!("{field} must be a non-negative whole number"));
    match obj.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => n.as_u64().ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

/// `count` for limits and page numbers, which are small.
pub fn small_count(obj: &Map<String, Value>, field: &str, default: u32) -> Result<u32, WireError> {
    let n = count(obj, field, u64::from(default))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// `context`: an object of ids (`{ "orderId": "…" }`); absent or `null` is no context.
pub fn context(obj: &Map<String, Value>) -> Result<ConversationContext, WireError> {
    let map = match obj.get("context") {
        None | Some(Value::Null) => return Ok(ConversationContext::default()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(WireError::new("context must be an object")),
    };
    let pairs = map
        .iter()
        .map(|(key, value)| match value {
            Value::String(s) => Ok((key.clone(), s.clone())),
            _ => Err(WireError::new(format!("context.{key} must be a string"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    ConversationContext::new(pairs).map_err(|e| WireError::new(format!("context: {e}")))
}

pub fn conversation_id(obj: &Map<String, Value>, field: &str) -> Result<ConversationId, WireError> {
    ConversationId::parse(string(obj, field)?).map_err(|e| WireError::new(format!("{field}: {e}")))
}

pub fn message_id(obj: &Map<String, Value>, field: &str) -> Result<MessageId, WireError> {
    MessageId::parse(string(obj, field)?).map_err(|e| WireError::new(format!("{field}: {e}")))
}

pub fn notification_id(obj: &Map<String, Value>, field: &str) -> Result<NotificationId, WireError> {
    NotificationId::parse(string(obj, field)?).map_err(|e| WireError::new(format!("{field}: {e}")))
}

pub fn user_id(obj: &Map<String, Value>, field: &str) -> Result<UserId, WireError> {
    UserId::parse(string(obj, field)?).map_err(|e| WireError::new(format!("{field}: {e}")))
}

/// A bare string argument (`joinRoom("abc")`, not an object); `what` names it for the
/// message (`"joinRoom expects the chatId as a string"`).
pub fn bare<'a>(args: &'a Value, event: &str, what: &str) -> Result<&'a str, WireError> {
    match args {
        Value::String(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(WireError::new(format!(
            "{event} expects the {what} as a string"
        ))),
    }
}

/// A bare conversation id argument.
pub fn bare_conversation_id(
    args: &Value,
    event: &str,
    what: &str,
) -> Result<ConversationId, WireError> {
    ConversationId::parse(bare(args, event, what)?)
        .map_err(|e| WireError::new(format!("{what}: {e}")))
}

/// A bare user id argument.
pub fn bare_user_id(args: &Value, event: &str) -> Result<UserId, WireError> {
    UserId::parse(bare(args, event, "userId")?).map_err(|e| WireError::new(format!("userId: {e}")))
}

/// A user id the client sends about itself: it must be the connection's own user (nobody
/// acts as another user, legacy identity or not).
pub fn own_user(view: &SessionView<'_>, claimed: &UserId) -> Result<(), WireError> {
    if claimed == &view.user.id {
        Ok(())
    } else {
        Err(WireError::new("userId must be your own user id"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_the_field_and_the_problem() {
        let args = json!({ "chatRoomId": 5, "blank": "  ", "limit": -1 });
        let obj = object(&args, "join_room").unwrap();
        assert_eq!(
            string(obj, "chatRoomId").unwrap_err().0,
            "chatRoomId must be a string"
        );
        assert_eq!(string(obj, "missing").unwrap_err().0, "missing is required");
        assert_eq!(string(obj, "blank").unwrap_err().0, "blank is required");
        assert!(count(obj, "limit", 50).unwrap_err().0.contains("limit"));
        assert_eq!(count(obj, "absent", 50).unwrap(), 50);
        assert_eq!(
            object(&json!("x"), "join_room").unwrap_err().0,
            "join_room expects an object payload"
        );
    }

    #[test]
    fn bare_arguments_are_non_blank_strings() {
        assert_eq!(bare(&json!("c1"), "joinRoom", "chatId").unwrap(), "c1");
        for bad in [
            json!(""),
            json!(" "),
            json!(7),
            json!({ "chatId": "c1" }),
            Value::Null,
        ] {
            assert_eq!(
                bare(&bad, "joinRoom", "chatId").unwrap_err().0,
                "joinRoom expects the chatId as a string"
            );
        }
        assert!(bare_conversation_id(&json!("a b"), "joinRoom", "chatId").is_err());
    }

    #[test]
    fn counts_accept_numeric_strings() {
        let args = json!({ "page": "2" });
        assert_eq!(count(object(&args, "e").unwrap(), "page", 1).unwrap(), 2);
    }
}
