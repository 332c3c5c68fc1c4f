//! Query strings of any make on every REST route that reads one (the history and list
//! pages' `limit`, `skip` and `page`), as Alice: numbers past `u32` and `u64`, negative,
//! fractional, blank, repeated, badly escaped. Each is answered with a 2xx or a 4xx
//! `{ message }`, never a 5xx.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::rest_routes::{Site, answered_properly, segment};
use super::runner::{check, runtime};
use super::strategy::{ids, string};
use crate::adapters::inbound::dialects::by_name;
use crate::adapters::inbound::dialects::fixtures::ALICE;
use crate::adapters::inbound::transports::http::harness::token;

/// Per dialect; each case is one request.
const CASES: u32 = 500;

/// Longest query string sent (ASCII once encoded, so any cut is a valid string).
const MAX_QUERY: usize = 8 * 1024;

/// The dialects' query-reading routes (`GET`) and their parameters; `{conversation}` is a
/// conversation Alice is in.
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("linsta", "/api/chat/rooms", &["limit", "skip"]),
    (
        "linsta",
        "/api/chat/messages/{conversation}",
        &["limit", "skip"],
    ),
    (
        "quickclinic",
        "/api/doctorpatientrelations/{conversation}/chats",
        &["page", "limit"],
    ),
    ("kaajkaam", "/api/chat/conversations", &["limit", "skip"]),
    (
        "kaajkaam",
        "/api/chat/conversations/{conversation}/messages",
        &["limit", "skip"],
    ),
];

/// Values as numbers are written in URLs, right and wrong.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "20",
    "200",
    "201",
    "-1",
    "1.5",
    "1e3",
    "",
    " 5",
    "+5",
    "0x10",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "NaN",
];

fn query(params: &'static [&'static str]) -> impl Strategy<Value = String> {
    let name = prop_oneof![4 => select(params), 1 => select(&["token", "", "limit[]"][..])];
    let value = prop_oneof![
        4 => select(NUMBERS).prop_map(str::to_owned),
        1 => string(ids(&[])),
    ];
    // Repeats included: a parameter given twice. Cut to what a URL can carry (the HTTP
    // server refuses longer request lines before any route sees them).
    let encoded = vec((name, value), 0..4).prop_map(|pairs| {
        let mut query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        query.truncate(MAX_QUERY);
        query
    });
    prop_oneof![4 => encoded, 1 => "[a-z=&%0-9+;.-]{0,30}"]
}

#[test]
fn query_strings_never_fail_on_the_server() {
    let rt = runtime();
    for dialect_name in ["linsta", "quickclinic", "kaajkaam"] {
        let dialect = by_name(dialect_name).expect("a registered dialect");
        let site = rt.block_on(Site::new(dialect.as_ref()));
        let routes: Vec<_> = ROUTES.iter().filter(|r| r.0 == dialect_name).collect();
        let known = ids(&[site.conversation.as_str()]);
        let strategy = select(routes)
            .prop_flat_map(move |route| (Just(route), segment(known.clone()), query(route.2)));
        let target = format!("{dialect_name} REST query strings");
        check(
            &target,
            CASES,
            strategy,
            |((_, path, _), segment, query)| {
                let parameter = segment.as_deref().unwrap_or(&site.conversation);
                let uri = format!("{}?{query}", path.replace("{conversation}", parameter));
                let request = axum::http::Request::get(uri)
                    .header("authorization", format!("Bearer {}", token(ALICE)))
                    .body(axum::body::Body::empty())
                    .expect("a valid request");
                let (status, answer) = rt.block_on(site.harness.send(request));
                answered_properly(&format!("GET {path}"), segment.is_none(), status, &answer)
            },
        );
    }
}
