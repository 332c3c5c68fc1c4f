//! Connection handshakes: any `auth` payload, query string and credential headers through
//! the query parser, `Handshake::param`, `Credentials::from_handshake` and every dialect's
//! `on_connect`. Nothing panics; a parameter is only ever what the client sent; a refused
//! connection is told why; quickclinic connects exactly when `relationId` is a valid id.

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use super::runner::check;
use super::strategy::{ids, key, payload, string};
use super::vocabulary::HANDSHAKE;
use crate::adapters::inbound::auth::{CookieOrigins, Credentials, parse_query};
use crate::adapters::inbound::dialects::{by_name, registry};
use crate::adapters::inbound::protocol::{Dialect, Handshake};
use crate::domain::ConversationId;

const CASES: u32 = 2_000;

/// The query string as a client library encodes it, or raw (bad escapes, stray `&` and `=`).
fn query() -> impl Strategy<Value = String> {
    let encoded = vec((key(HANDSHAKE), string(ids(&[]))), 0..5).prop_map(|pairs| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    });
    prop_oneof![
        3 => encoded,
        1 => "[a-zA-Z=&%0-9+;]{0,40}",
        1 => any::<String>(),
    ]
}

/// Credential headers, well-formed or not (values that HTTP cannot carry are dropped, as
/// the server would never see them).
fn headers() -> impl Strategy<Value = HeaderMap> {
    let name = select(
        &[
            "authorization",
            "x-auth-token",
            "cookie",
            "origin",
            "x-api-key",
        ][..],
    );
    let value = prop_oneof![
        string(ids(&[])).prop_map(|s| format!("Bearer {s}").into_bytes()),
        string(ids(&[])).prop_map(|s| format!("a=b; token={s}; c").into_bytes()),
        vec(any::<u8>(), 0..40),
    ];
    vec((name, value), 0..4).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                map.append(HeaderName::from_static(name), value);
            }
        }
        map
    })
}

#[test]
fn handshakes_are_read_without_panics_and_refused_with_reasons() {
    let strategy = (payload(HANDSHAKE, ids(&[])), query(), headers());
    check(
        "handshakes",
        CASES,
        strategy,
        |(auth, raw_query, headers)| {
            let query = parse_query(Some(&raw_query));
            let handshake = Handshake {
                auth: &auth,
                query: &query,
            };
            for name in HANDSHAKE {
                param_is_what_was_sent(&handshake, name)?;
            }
            credentials(&auth, &headers, &query)?;
            for dialect in registry() {
                connects_or_says_why(dialect.as_ref(), &handshake)?;
            }
            let quickclinic = by_name("quickclinic").expect("quickclinic is registered");
            let relation = handshake.param("relationId");
            let valid = relation.is_some_and(|r| ConversationId::parse(r).is_ok());
            prop_assert_eq!(quickclinic.on_connect(&handshake).is_ok(), valid);
            Ok(if valid {
                "quickclinic connects"
            } else {
                "quickclinic refuses"
            })
        },
    );
}

/// `param` finds a non-empty value the client put in `auth` (a string or a number) or the
/// query, nothing else.
fn param_is_what_was_sent(handshake: &Handshake<'_>, name: &str) -> Result<(), TestCaseError> {
    let Some(found) = handshake.param(name) else {
        return Ok(());
    };
    prop_assert!(!found.is_empty());
    let in_auth = match handshake.auth.get(name) {
        Some(Value::String(s)) => *s == found,
        Some(Value::Number(n)) => n.to_string() == found,
        _ => false,
    };
    let in_query = handshake
        .query
        .iter()
        .any(|(k, v)| k == name && *v == found);
    prop_assert!(
        in_auth || in_query,
        "{} = {:?} came from nowhere",
        name,
        found
    );
    Ok(())
}

/// Credentials are non-blank when present; a plain `auth.token` is taken as sent (trimmed)
/// before anything else.
fn credentials(
    auth: &Value,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<(), TestCaseError> {
    let found = Credentials::from_handshake(auth, headers, query, &CookieOrigins::default());
    if let Some(token) = &found.token {
        prop_assert!(!token.trim().is_empty(), "blank token {:?}", token);
    }
    if let Some(user) = &found.claimed_user {
        prop_assert!(
            !user.is_empty() && user.trim() == user,
            "claimed {:?}",
            user
        );
    }
    if let Some(sent) = auth.get("token").and_then(Value::as_str).map(str::trim)
        && !sent.is_empty()
        && !sent.to_ascii_lowercase().starts_with("bearer ")
    {
        prop_assert_eq!(found.token.as_deref(), Some(sent));
    }
    Ok(())
}

fn connects_or_says_why(
    dialect: &dyn Dialect,
    handshake: &Handshake<'_>,
) -> Result<(), TestCaseError> {
    let first = dialect.on_connect(handshake).map(|calls| calls.len());
    if let Err(e) = &first {
        prop_assert!(
            !e.0.trim().is_empty(),
            "{} refused in no words",
            dialect.name()
        );
    }
    let again = dialect.on_connect(handshake).map(|calls| calls.len());
    prop_assert_eq!(
        first,
        again,
        "{} connected twice differently",
        dialect.name()
    );
    Ok(())
}
