//! JSON bodies of any shape to every body-reading REST route of every dialect and of the
//! provisioning API, as Alice (a participant of the conversation the paths name) or with
//! the service key where the route wants it, so that the body is what decides the answer:
//! each route's example changed a little, or anything. Each route's example is accepted.

use proptest::prelude::*;
use proptest::sample::select;

use super::examples::fill;
use super::rest_routes::{Site, answered_properly, dialects_with_routes, segment};
use super::runner::{check, runtime};
use super::strategy::{ids, near, payload};
use super::vocabulary::fields_of;

/// Per dialect; each case is one request.
const CASES: u32 = 800;

#[test]
fn json_bodies_never_fail_on_the_server() {
    let rt = runtime();
    for (dialect, routes) in dialects_with_routes() {
        let site = rt.block_on(Site::new(dialect.as_ref()));
        for route in routes {
            let example = fill(route.example, &site.conversation);
            let request = site.request(route, None, false, Some("application/json"), {
                example.to_string().into_bytes()
            });
            let (status, answer) = rt.block_on(site.harness.send(request));
            assert!(
                status.is_success(),
                "{} {}: the example {example}: {status} {answer}",
                route.method,
                route.path
            );
        }
        let known = ids(&[site.conversation.as_str()]);
        let conversation = site.conversation.clone();
        // Bodies of the route's own fields, else of any field the dialect reads.
        let dialect_fields = fields_of(dialect.name());
        let strategy = select(routes).prop_flat_map(move |route| {
            let fields = if route.fields.is_empty() {
                dialect_fields
            } else {
                route.fields
            };
            let example = fill(route.example, &conversation);
            let body = prop_oneof![
                near(example, fields, known.clone()),
                payload(fields, known.clone()),
            ];
            (Just(route), segment(known.clone()), body, any::<bool>())
        });
        let target = format!("{} REST JSON bodies", dialect.name());
        let outcomes = check(
            &target,
            CASES,
            strategy,
            |(route, segment, body, as_service)| {
                let request = site.request(
                    &route,
                    segment.as_deref(),
                    as_service,
                    Some("application/json"),
                    body.to_string().into_bytes(),
                );
                let (status, answer) = rt.block_on(site.harness.send(request));
                answered_properly(&route.name(), segment.is_none(), status, &answer)
            },
        );
        outcomes.assert_reached(&target, "an accepted body", |status| {
            status.starts_with('2')
        });
    }
}
