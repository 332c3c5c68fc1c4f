//! The native protocol's framing (docs/PROTOCOL.md): JSON text frames. A client sends
//! requests `{ "id", "type", "data" }`; the server sends events `{ "type", "data" }` and
//! answers `{ "id", "ok": true, "data" }` or `{ "id", "ok": false, "error": { code, message } }`.

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::adapters::inbound::protocol::{ErrorCode, WireError};

/// The longest request id accepted, as a string.
const MAX_ID_CHARS: usize = 64;

/// One inbound request.
#[derive(Debug, PartialEq)]
pub(super) struct Request {
    /// As the client sent it: a string or a whole number, echoed in the answer.
    pub id: Value,
    pub kind: String,
    pub data: Value,
}

/// A frame that is not a request, and the id to answer it under when one could be read.
#[derive(Debug, PartialEq)]
pub(super) struct BadFrame {
    pub id: Value,
    pub error: WireError,
}

fn bad(id: Value, message: impl Into<String>) -> BadFrame {
    BadFrame {
        id,
        error: WireError::coded(ErrorCode::BadFrame, message),
    }
}

/// Reads a text frame as a request.
pub(super) fn parse(text: &str) -> Result<Request, BadFrame> {
    let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(text) else {
        return Err(bad(Value::Null, "a frame must be a JSON object"));
    };
    let id = match obj.remove("id") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_ID_CHARS => {
            Value::String(s)
        }
        Some(Value::Number(n)) if n.is_u64() => Value::Number(n),
        None | Some(Value::Null) => {
            return Err(bad(
                Value::Null,
                "a request needs an id (a string or a number)",
            ));
        }
        Some(_) => {
            return Err(bad(
                Value::Null,
                format!(
                    "id must be a whole number (0 or more) or a string of 1 to {MAX_ID_CHARS} \
                     characters"
                ),
            ));
        }
    };
    let kind = match obj.remove("type") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(bad(id, "a request needs a type (a string)")),
    };
    Ok(Request {
        id,
        kind,
        data: obj.remove("data").unwrap_or(Value::Null),
    })
}

/// Reads the first frame: `{ "type": "hello", "data": { token?, resume? } }` (an `id` is
/// allowed and ignored). Returns its `data`.
pub(super) fn parse_hello(text: &str) -> Result<Value, WireError> {
    let not_hello = || {
        WireError::coded(
            ErrorCode::BadFrame,
            "the first frame must be {\"type\":\"hello\",\"data\":{…}}",
        )
    };
    let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(text) else {
        return Err(not_hello());
    };
    if obj.get("type").and_then(Value::as_str) != Some("hello") {
        return Err(not_hello());
    }
    match obj.remove("data") {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(data @ Value::Object(_)) => Ok(data),
        Some(_) => Err(WireError::new("hello's data must be an object")),
    }
}

/// An event frame around an encoded payload.
pub(super) fn event(event: &str, payload: &RawValue) -> String {
    // Event names are the dialect's own constants; encoding them keeps the frame JSON
    // whatever they hold.
    let name = serde_json::to_string(event).unwrap_or_else(|_| "\"\"".into());
    format!(r#"{{"type":{name},"data":{}}}"#, payload.get())
}

pub(super) fn event_value(event: &str, payload: &Value) -> String {
    json!({ "type": event, "data": payload }).to_string()
}

pub(super) fn ok(id: &Value, data: &Value) -> String {
    json!({ "id": id, "ok": true, "data": data }).to_string()
}

pub(super) fn refused(id: &Value, error: &WireError) -> String {
    json!({ "id": id, "ok": false, "error": error_json(error) }).to_string()
}

/// The `error` event: a refusal that answers no request (a bad hello, a refused connection).
pub(super) fn error_event(error: &WireError) -> String {
    event_value("error", &error_json(error))
}

fn error_json(error: &WireError) -> Value {
    json!({ "code": error.code().as_str(), "message": error.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_has_an_id_a_type_and_maybe_data() {
        let r = parse(r#"{"id":7,"type":"messages.send","data":{"text":"hi"}}"#).unwrap();
        assert_eq!(r.id, json!(7));
        assert_eq!(r.kind, "messages.send");
        assert_eq!(r.data, json!({"text":"hi"}));
        let r = parse(r#"{"id":"a1","type":"conversations.list"}"#).unwrap();
        assert_eq!(r.data, Value::Null);
    }

    #[test]
    fn frames_that_are_not_requests_are_refused_with_their_id_when_known() {
        for (text, id) in [
            ("nope", Value::Null),
            ("[1]", Value::Null),
            (r#"{"type":"x"}"#, Value::Null),
            (r#"{"id":1.5,"type":"x"}"#, Value::Null),
            (r#"{"id":-1,"type":"x"}"#, Value::Null),
            (r#"{"id":{},"type":"x"}"#, Value::Null),
            (r#"{"id":1}"#, json!(1)),
            (r#"{"id":"k","type":3}"#, json!("k")),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.id, id, "{text}");
            assert_eq!(e.error.code(), ErrorCode::BadFrame, "{text}");
        }
        let long = format!(r#"{{"id":"{}","type":"x"}}"#, "i".repeat(65));
        assert!(parse(&long).is_err());
    }

    #[test]
    fn hello_carries_its_data() {
        assert_eq!(
            parse_hello(r#"{"type":"hello","data":{"token":"t"}}"#).unwrap(),
            json!({"token":"t"})
        );
        assert_eq!(parse_hello(r#"{"type":"hello"}"#).unwrap(), json!({}));
        assert!(parse_hello(r#"{"type":"messages.send"}"#).is_err());
        assert!(parse_hello(r#"{"type":"hello","data":[]}"#).is_err());
    }

    #[test]
    fn frames_are_json() {
        let raw = RawValue::from_string(r#"{"a":1}"#.into()).unwrap();
        let frame: Value = serde_json::from_str(&event("message.new", &raw)).unwrap();
        assert_eq!(frame, json!({"type":"message.new","data":{"a":1}}));
        let e = WireError::coded(ErrorCode::NotFound, "conversation not found");
        let frame: Value = serde_json::from_str(&refused(&json!("x"), &e)).unwrap();
        assert_eq!(
            frame,
            json!({"id":"x","ok":false,"error":{"code":"not_found","message":"conversation not found"}})
        );
    }
}
