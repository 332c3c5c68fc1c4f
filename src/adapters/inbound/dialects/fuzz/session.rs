//! Whole socket sessions: every dialect's events (its table's, its identify event, and
//! unknown names) with any arguments, through the session as a transport drives it (limits,
//! decoding, the use cases on the in-memory core, the reply). Decoding alone would miss a
//! panic in what a decoded request does with extreme values (a `skip` near `u64::MAX`, a
//! page past the end). Each answer follows the ack-or-error policy, and no request fails
//! on the server's side: a refusal is always about the input.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::runner::{check, runtime};
use super::socket_events::argument;
use super::strategy::{ids, payload};
use super::vocabulary::fields_of;
use crate::adapters::inbound::auth::Credentials;
use crate::adapters::inbound::dialects::fixtures::{ALICE, BOB};
use crate::adapters::inbound::dialects::registry;
use crate::adapters::inbound::protocol::{Dialect, IdentityMode};
use crate::adapters::inbound::session::Answer;
use crate::adapters::inbound::session::harness::Harness;
use crate::app::AppError;

/// Per dialect; each case is one event.
const CASES: u32 = 600;

#[test]
fn every_event_is_answered_by_the_ack_or_error_policy() {
    let rt = runtime();
    for dialect in registry() {
        if dialect.events().is_empty() {
            continue;
        }
        let h = rt.block_on(Harness::new());
        let room = rt.block_on(h.conversation(&[ALICE, BOB]));
        let listener = h.listener(dialect.clone(), true);
        // quickclinic binds the connection to the relation of its handshake.
        let auth = json!({ "relationId": room.as_str() });
        // An async lock, as the client is used across awaits (and a case that panics
        // mid-event must leave it usable for the next while shrinking).
        let client = Mutex::new(rt.block_on(listener.connect_as(ALICE, auth)));

        let identify = match dialect.identity() {
            IdentityMode::AfterConnect(identify) => Some(identify.event),
            IdentityMode::Handshake => None,
        };
        let mut events: Vec<String> = dialect
            .events()
            .events()
            .into_iter()
            .map(str::to_owned)
            .collect();
        events.extend(identify.map(str::to_owned));
        let name = dialect.name();
        let conversation = room.as_str().to_owned();
        let known = ids(&[room.as_str()]);
        let fields = fields_of(name);
        let known_event = select(events).prop_flat_map(move |event| {
            let args = argument(name, &event, &conversation, known.clone());
            (Just(event), args)
        });
        let unknown_event = ("[a-z_:-]{1,12}", payload(fields, ids(&[room.as_str()])));
        let strategy = (
            prop_oneof![4 => known_event, 1 => unknown_event],
            any::<bool>(),
            // A connection that has not identified yet (after-connect dialects only).
            any::<bool>(),
        );
        let target = format!("{} session", dialect.name());
        let outcomes = check(
            &target,
            CASES,
            strategy,
            |((event, args), wants_ack, fresh)| {
                rt.block_on(async {
                    if fresh && identify.is_some() {
                        // Legacy identity: the identify event is the only credential.
                        let mut newcomer = listener
                            .connect(Credentials::default(), Value::Null)
                            .await
                            .map_err(|r| TestCaseError::fail(format!("refused: {}", r.error)))?;
                        let answer = newcomer.answer(&event, &args, wants_ack).await;
                        newcomer.close().await;
                        follows_policy(dialect.as_ref(), &event, &answer, wants_ack, true)
                    } else {
                        let answer = client.lock().await.answer(&event, &args, wants_ack).await;
                        follows_policy(dialect.as_ref(), &event, &answer, wants_ack, false)
                    }
                })
            },
        );
        outcomes.assert_reached(&target, "an event answered", |o| o == "answered");
        rt.block_on(client.into_inner().close());
    }
}

/// The ack exactly when asked for; a refusal in words, in the ack or an `error` event;
/// never the server's own failure; the connection closed only by a failed identify event
/// on a connection that was not yet identified.
fn follows_policy(
    dialect: &dyn Dialect,
    event: &str,
    answer: &Answer,
    wants_ack: bool,
    fresh: bool,
) -> Result<&'static str, TestCaseError> {
    prop_assert_eq!(answer.ack.is_some(), wants_ack, "{}: {:?}", event, answer);
    let mut refusals: Vec<&Value> = answer
        .emits
        .iter()
        .filter(|e| e.event == "error")
        .map(|e| &e.payload["message"])
        .collect();
    if let Some(ack) = &answer.ack
        && let Some(error) = ack.get("error")
    {
        refusals.push(error);
    }
    let server_failed = AppError::Unavailable.to_string();
    let outcome = if refusals.is_empty() {
        "answered"
    } else {
        "refused"
    };
    for refusal in refusals {
        let words = refusal.as_str().unwrap_or_default();
        prop_assert!(!words.trim().is_empty(), "{}: {:?}", event, answer);
        prop_assert_ne!(
            words,
            server_failed.as_str(),
            "{} failed on the server",
            event
        );
    }
    let identifies = matches!(
        dialect.identity(),
        IdentityMode::AfterConnect(identify) if identify.event == event
    );
    if answer.close {
        prop_assert!(fresh && identifies, "{} closed the connection", event);
    }
    Ok(outcome)
}
