//! The JSON argument readers (`protocol::args`) on any payload and field name: none panics,
//! and each answer keeps the reader's contract (what it accepts, what it returns, and that a
//! refusal names the field).

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};

use super::runner::check;
use super::strategy::{ids, payload};
use super::vocabulary::ALL;
use crate::adapters::inbound::protocol::args;
use crate::domain::{ConversationId, MessageId, NotificationId, UserId};

const CASES: u32 = 2_000;

#[test]
fn argument_readers_keep_their_contracts() {
    // A field the payload has (when it is an object) or one of the names the readers are
    // asked for.
    let strategy = (
        payload(ALL, ids(&[])),
        select(ALL),
        any::<prop::sample::Index>(),
        any::<bool>(),
        any::<u32>(),
    );
    check(
        "argument readers",
        CASES,
        strategy,
        |(args, named, index, pick_present, default)| {
            let field = match args.as_object() {
                Some(obj) if pick_present && !obj.is_empty() => {
                    obj.keys().nth(index.index(obj.len())).unwrap().clone()
                }
                _ => named.to_owned(),
            };
            object_reader(&args)?;
            bare_readers(&args)?;
            match args.as_object() {
                Some(obj) => field_readers(obj, &field, default),
                None => Ok("not an object"),
            }
        },
    );
}

fn object_reader(args: &Value) -> Result<(), TestCaseError> {
    match args::object(args, "some_event") {
        Ok(obj) => prop_assert_eq!(Some(obj), args.as_object()),
        Err(e) => {
            prop_assert!(!args.is_object());
            prop_assert!(e.0.contains("some_event"), "{}", e.0);
        }
    }
    Ok(())
}

/// The readers of a bare string argument: a non-blank string, the same one; else a refusal
/// naming the event and what was expected.
fn bare_readers(args: &Value) -> Result<(), TestCaseError> {
    let non_blank = args.as_str().filter(|s| !s.trim().is_empty());
    match args::bare(args, "ev", "chatId") {
        Ok(s) => prop_assert_eq!(Some(s), non_blank),
        Err(e) => {
            prop_assert!(non_blank.is_none());
            prop_assert_eq!(e.0, "ev expects the chatId as a string");
        }
    }
    let parsed = non_blank.map(|s| (ConversationId::parse(s).ok(), UserId::parse(s).ok()));
    match args::bare_conversation_id(args, "ev", "chatId") {
        Ok(id) => prop_assert_eq!(Some(id.as_str()), non_blank),
        Err(e) => {
            prop_assert!(parsed.as_ref().is_none_or(|(c, _)| c.is_none()));
            prop_assert!(e.0.contains("chatId"), "{}", e.0);
        }
    }
    match args::bare_user_id(args, "ev") {
        Ok(id) => prop_assert_eq!(Some(id.as_str()), non_blank),
        Err(e) => {
            prop_assert!(parsed.as_ref().is_none_or(|(_, u)| u.is_none()));
            prop_assert!(e.0.contains("userId"), "{}", e.0);
        }
    }
    Ok(())
}

/// Which way the user id reader went, for the tally.
fn field_readers(
    obj: &Map<String, Value>,
    field: &str,
    default: u32,
) -> Result<&'static str, TestCaseError> {
    let value = obj.get(field).filter(|v| !v.is_null());
    let as_string = value.and_then(Value::as_str);
    let non_blank = as_string.filter(|s| !s.trim().is_empty());

    match args::string(obj, field) {
        Ok(s) => prop_assert_eq!(Some(s), non_blank),
        Err(e) => {
            prop_assert!(non_blank.is_none());
            prop_assert!(e.0.contains(field), "{}", e.0);
        }
    }

    match args::text(obj, field) {
        Ok(s) => prop_assert_eq!(s, as_string.unwrap_or_default()),
        Err(e) => {
            prop_assert!(value.is_some_and(|v| !v.is_string()));
            prop_assert!(e.0.contains(field), "{}", e.0);
        }
    }

    let whole = match value {
        None => Some(u64::from(default)),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    match args::count(obj, field, u64::from(default)) {
        Ok(n) => prop_assert_eq!(Some(n), whole),
        Err(e) => {
            prop_assert!(whole.is_none());
            prop_assert!(e.0.contains(field), "{}", e.0);
        }
    }
    match args::small_count(obj, field, default) {
        // Clamped, never wrapped.
        Ok(n) => prop_assert_eq!(
            Some(u64::from(n)),
            whole.map(|w| w.min(u64::from(u32::MAX)))
        ),
        Err(e) => {
            prop_assert!(whole.is_none());
            prop_assert!(e.0.contains(field), "{}", e.0);
        }
    }

    // Each id reader: an id exactly when the field holds a non-blank string that is a valid
    // id, and then that string.
    let ids = [
        (
            args::conversation_id(obj, field).map(ConversationId::into_string),
            non_blank.is_some_and(|s| ConversationId::parse(s).is_ok()),
        ),
        (
            args::message_id(obj, field).map(MessageId::into_string),
            non_blank.is_some_and(|s| MessageId::parse(s).is_ok()),
        ),
        (
            args::notification_id(obj, field).map(NotificationId::into_string),
            non_blank.is_some_and(|s| NotificationId::parse(s).is_ok()),
        ),
        (
            args::user_id(obj, field).map(UserId::into_string),
            non_blank.is_some_and(|s| UserId::parse(s).is_ok()),
        ),
    ];
    let outcome = if ids[3].1 { "id read" } else { "id refused" };
    for (read, valid) in ids {
        match read {
            Ok(id) => {
                prop_assert!(valid);
                prop_assert_eq!(Some(id.as_str()), non_blank);
                prop_assert!(id_is_clean(&id), "{:?}", id);
            }
            Err(e) => {
                prop_assert!(!valid);
                prop_assert!(e.0.contains(field), "{}", e.0);
            }
        }
    }
    Ok(outcome)
}

/// What every accepted id is, whatever its kind: non-empty, at most 128 bytes, without
/// whitespace or control characters (so it is safe in a log line, a room name, a path).
fn id_is_clean(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= crate::domain::ids::MAX_ID_LEN
        && !id.chars().any(|c| c.is_control() || c.is_whitespace())
}
