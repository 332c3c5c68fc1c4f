//! Every registered dialect's socket event decoders, and the identify event of those that
//! identify after connecting, on any argument: none panics, each answers a decoded call or a
//! `WireError` with words in it, and answers the same again for the same input (decoders are
//! pure: the session may rely on a refusal being about the input, not about luck). An event
//! outside the table has no decoder. Each event's documented example decodes.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use super::examples::event_example;
use super::runner::check;
use super::strategy::{ids, near, payload};
use super::vocabulary::fields_of;
use crate::adapters::inbound::dialects::fixtures::{ALICE, ROOM, conversation, profile};
use crate::adapters::inbound::dialects::registry;
use crate::adapters::inbound::protocol::{Dialect, IdentityMode, SessionView, WireError};

/// Per dialect; each case decodes one event.
const CASES: u32 = 600;
/// Per dialect that identifies after connecting.
const IDENTIFY_CASES: u32 = 500;

/// An argument for `event` of `dialect`: its example changed a little, or anything.
pub fn argument(
    dialect: &str,
    event: &str,
    conversation: &str,
    known: Vec<String>,
) -> BoxedStrategy<Value> {
    let fields = fields_of(dialect);
    let example = event_example(dialect, event, conversation)
        .unwrap_or_else(|| panic!("add an example of {dialect} {event} to fuzz/examples.rs"));
    prop_oneof![near(example, fields, known.clone()), payload(fields, known)].boxed()
}

#[test]
fn every_event_decoder_answers_a_call_or_a_wire_error() {
    for dialect in registry() {
        let events = dialect.events().events();
        if events.is_empty() {
            continue;
        }
        for event in &events {
            let example = event_example(dialect.name(), event, ROOM).unwrap_or(Value::Null);
            let decoded = decodes(dialect.as_ref(), event, &example, true);
            assert!(
                matches!(decoded, Ok("decoded")),
                "{} {event}: the example {example}: {decoded:?}",
                dialect.name()
            );
        }
        let name = dialect.name();
        let strategy = select(events).prop_flat_map(move |event| {
            (
                Just(event),
                argument(name, event, ROOM, ids(&[])),
                any::<bool>(),
            )
        });
        let target = format!("{name} event decoders");
        check(&target, CASES, strategy, |(event, args, bound)| {
            decodes(dialect.as_ref(), event, &args, bound)
        });
    }
}

fn decodes(
    dialect: &dyn Dialect,
    event: &str,
    args: &Value,
    bound: bool,
) -> Result<&'static str, TestCaseError> {
    let user = profile(ALICE, "Alice");
    let bound_to = conversation(false);
    let view = SessionView {
        user: &user,
        bound: bound.then_some(&bound_to),
    };
    let outcome = || match dialect.events().decode(&view, event, args) {
        None => Err(TestCaseError::fail(format!("{event} has no decoder"))),
        Some(Ok(_call)) => Ok(None),
        Some(Err(WireError(message, _))) => Ok(Some(message)),
    };
    let first = outcome()?;
    if let Some(message) = &first {
        prop_assert!(!message.trim().is_empty(), "{} refused in no words", event);
    }
    prop_assert_eq!(&first, &outcome()?, "{} decoded twice differently", event);
    // Only the table's events decode.
    let unknown = format!("{event}?");
    prop_assert!(dialect.events().decode(&view, &unknown, args).is_none());
    Ok(if first.is_none() {
        "decoded"
    } else {
        "refused"
    })
}

#[test]
fn identify_events_take_a_non_blank_user_id_string() {
    for dialect in registry() {
        let IdentityMode::AfterConnect(identify) = dialect.identity() else {
            continue;
        };
        let strategy = argument(dialect.name(), identify.event, ROOM, ids(&[]));
        let target = format!("{} {}", dialect.name(), identify.event);
        check(&target, IDENTIFY_CASES, strategy, |args| {
            let sent = args.as_str().filter(|s| !s.trim().is_empty());
            match (identify.decode)(&args) {
                // The claim as sent: it is checked (and refused if no user id) by the session.
                Ok(claimed) => {
                    prop_assert_eq!(Some(claimed.as_str()), sent);
                    Ok("claimed")
                }
                Err(e) => {
                    prop_assert!(sent.is_none(), "{:?} refused: {}", sent, e);
                    prop_assert!(e.0.contains(identify.event), "{}", e);
                    Ok("refused")
                }
            }
        });
    }
}
