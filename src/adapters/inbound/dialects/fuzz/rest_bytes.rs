//! Bodies that are not the JSON a route expects: arbitrary bytes, JSON cut short, nesting
//! past the parser's limit, escapes it refuses (a lone surrogate, NUL), numbers out of
//! range, bodies at and past the size limit, under the right content type, a wrong one or
//! none. Every body-reading REST route of every dialect refuses them with a 4xx
//! `{ message }`, never a 5xx.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::rest_routes::{Site, answered_properly, dialects_with_routes, segment};
use super::runner::{check, runtime};
use super::strategy::{ids, payload};
use super::vocabulary::fields_of;
use crate::adapters::inbound::transports::http::harness::MAX_BODY;

/// Per dialect; each case is one request.
const CASES: u32 = 500;

/// Content types the JSON extractor accepts: the bytes reach the parser.
const JSON_TYPES: &[Option<&str>] = &[
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("APPLICATION/JSON"),
    Some("application/problem+json"),
];

/// Content types it refuses (415), or that send kaajkaam's message route to its multipart
/// reader.
const OTHER_TYPES: &[Option<&str>] = &[
    None,
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data"),
    Some("multipart/form-data; boundary="),
    Some("*/*"),
    Some("application/json\t; x=\"y"),
];

/// Texts the JSON parser must refuse, or accepts only to have the route refuse them.
const NEAR_JSON: &[&str] = &[
    "",
    "{",
    "}",
    "null",
    "[]",
    "\"text\"",
    "{\"text\":\"a\\u0000b\"}",
    "{\"text\":\"\\ud800\"}",
    "{\"text\":\"\\udc00\\ud800\"}",
    "{\"limit\":1e999999}",
    "{\"duration\":123456789012345678901234567890}",
    "{\"text\":\"a\",\"text\":5}",
    "{\"text\":\"\u{0}\"}",
    "{\"text\" \"a\"}",
    "{'text':'a'}",
    "\u{feff}{\"text\":\"a\"}",
    "{\"text\":\"a\"} trailing",
    "NaN",
];

fn bytes(fields: &'static [&'static str], known: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
    let cut = (payload(fields, known), any::<Index>()).prop_map(|(value, at)| {
        let text = value.to_string().into_bytes();
        let end = at.index(text.len() + 1);
        text[..end].to_vec()
    });
    let nested = (129usize..5_000, any::<bool>()).prop_map(|(depth, arrays)| {
        let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
        format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
    });
    let sized = (MAX_BODY - 16..MAX_BODY + 16).prop_map(|len| {
        let text = "x".repeat(len.saturating_sub(12));
        format!("{{\"text\":\"{text}\"}}").into_bytes()
    });
    prop_oneof![
        3 => vec(any::<u8>(), 0..512),
        3 => cut,
        2 => select(NEAR_JSON).prop_map(|s| s.as_bytes().to_vec()),
        1 => nested,
        1 => sized,
    ]
}

#[test]
fn malformed_bodies_are_refused_with_a_message() {
    let rt = runtime();
    for (dialect, routes) in dialects_with_routes() {
        let site = rt.block_on(Site::new(dialect.as_ref()));
        let known = ids(&[site.conversation.as_str()]);
        let strategy = (
            select(routes),
            segment(known.clone()),
            prop_oneof![3 => select(JSON_TYPES), 2 => select(OTHER_TYPES)],
            bytes(fields_of(dialect.name()), known),
            any::<bool>(),
        );
        let target = format!("{} REST malformed bodies", dialect.name());
        check(
            &target,
            CASES,
            strategy,
            |(route, segment, content_type, body, as_service)| {
                let request =
                    site.request(&route, segment.as_deref(), as_service, content_type, body);
                let (status, answer) = rt.block_on(site.harness.send(request));
                answered_properly(&route.name(), segment.is_none(), status, &answer)
            },
        );
    }
}
