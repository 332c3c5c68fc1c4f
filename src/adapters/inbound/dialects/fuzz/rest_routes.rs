//! What the REST targets share: the routes that take a body (POST, PUT, PATCH) of each
//! dialect and of the provisioning API, with who may call them; a router over the in-memory
//! core with a conversation of Alice and Bob for the paths to name; and what every answer
//! must be whatever the body (never a 5xx; a refusal in `{ message }`; JSON on success).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use super::strategy::id;
use crate::adapters::inbound::dialects::fixtures::{ALICE, BOB};
use crate::adapters::inbound::protocol::Dialect;
use crate::adapters::inbound::transports::http::harness::{
    Harness, SERVICE_KEY, has_message, token,
};
use crate::app::Requester;
use crate::domain::{ConversationContext, UserId};

/// Who a route admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    User,
    Service,
    /// The service key or a user's token (the provisioning API's conversations).
    Either,
}

/// A route that reads a body. `{conversation}` and `{user}` in the path stand for a
/// conversation Alice is in and for Alice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub caller: Caller,
    /// The body fields the handler reads (see the route's handler), for near-valid bodies.
    pub fields: &'static [&'static str],
    /// A body the route accepts (a template for `examples::fill`).
    pub example: &'static str,
}

const fn route(
    method: &'static str,
    path: &'static str,
    caller: Caller,
    (fields, example): (&'static [&'static str], &'static str),
) -> Route {
    Route {
        method,
        path,
        caller,
        fields,
        example,
    }
}

/// The body-reading routes of `dialect` (for `native`: the provisioning API, which every
/// REST listener serves); `None` for a dialect this table does not know yet, so that a new
/// dialect fails these targets until its routes are listed here.
pub fn routes_of(dialect: &str) -> Option<&'static [Route]> {
    Some(match dialect {
        "native" => PROVISIONING,
        "linsta" => LINSTA,
        "quickclinic" => QUICKCLINIC,
        "calmora" => CALMORA,
        // Socket.IO only.
        "marketplace" => &[],
        "kaajkaam" => KAAJKAAM,
        _ => return None,
    })
}

const PROVISIONING: &[Route] = &[
    route(
        "POST",
        "/api/v1/conversations",
        Caller::Either,
        (
            &["participantIds", "context"],
            r#"{ "participantIds": ["{alice}", "{bob}"], "context": { "orderId": "o1" } }"#,
        ),
    ),
    route(
        "PUT",
        "/api/v1/users/{user}",
        Caller::Service,
        (
            &["name", "email", "avatar", "role"],
            r#"{ "name": "Alice", "email": "alice@example.com", "avatar": null,
                 "role": "patient" }"#,
        ),
    ),
    route(
        "POST",
        "/api/v1/notifications",
        Caller::Service,
        (
            &["userId", "type", "title", "message", "referenceId", "data"],
            r#"{ "userId": "{bob}", "type": "LIKE", "title": "New like",
                 "message": "Alice liked your post", "referenceId": "p1", "data": { "n": 1 } }"#,
        ),
    ),
];

const LINSTA: &[Route] = &[route(
    "POST",
    "/api/chat/rooms",
    Caller::User,
    (&["otherUserId"], r#"{ "otherUserId": "{bob}" }"#),
)];

const QUICKCLINIC: &[Route] = &[
    route(
        "POST",
        "/api/doctorpatientrelations",
        Caller::User,
        (
            &["doctorId", "patientId"],
            r#"{ "doctorId": "{alice}", "patientId": "{bob}" }"#,
        ),
    ),
    route(
        "POST",
        "/api/doctorpatientrelations/{conversation}/chats",
        Caller::User,
        (&["text"], r#"{ "text": "Hello" }"#),
    ),
];

const CALMORA: &[Route] = &[route(
    "POST",
    "/emit-notification",
    Caller::Service,
    (
        &["userId", "type", "message", "extra"],
        r#"{ "userId": "{bob}", "type": "appointment", "message": "In 10 minutes",
             "extra": { "sessionId": "s1" } }"#,
    ),
)];

const KAAJKAAM: &[Route] = &[
    route(
        "POST",
        "/api/chat/conversations",
        Caller::User,
        (
            &["participantId", "orderId", "gigId", "jobId"],
            r#"{ "participantId": "{bob}", "orderId": "order456" }"#,
        ),
    ),
    route(
        "POST",
        "/api/chat/conversations/{conversation}/messages",
        Caller::User,
        (&["text"], r#"{ "text": "Is it available?" }"#),
    ),
    // Reads no body: whatever is sent is ignored.
    route(
        "PUT",
        "/api/chat/conversations/{conversation}/read",
        Caller::User,
        (&[], "{}"),
    ),
    route(
        "POST",
        "/api/chat/conversations/{conversation}/call-record",
        Caller::User,
        (
            &["callType", "duration", "status"],
            r#"{ "callType": "video", "duration": 125, "status": "completed" }"#,
        ),
    ),
];

/// A dialect's router over the in-memory core, with a conversation of Alice and Bob.
pub struct Site {
    pub harness: Harness,
    pub conversation: String,
}

impl Route {
    /// `POST /a/{b}`, for messages.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

impl Site {
    pub async fn new(dialect: &dyn Dialect) -> Self {
        let harness = Harness::new(dialect).await;
        let people = [ALICE, BOB].map(|u| UserId::parse(u).unwrap()).to_vec();
        let (conversation, _) = harness
            .use_cases
            .open_conversation(&Requester::Service, people, ConversationContext::default())
            .await
            .expect("a conversation");
        Self {
            harness,
            conversation: conversation.id.into_string(),
        }
    }

    /// The route's path with its parameter: the real one, or `segment` (as it would appear
    /// in the URL: already percent-encoded).
    pub fn uri(&self, route: &Route, segment: Option<&str>) -> String {
        let (conversation, user) = match segment {
            Some(s) => (s, s),
            None => (self.conversation.as_str(), ALICE),
        };
        route
            .path
            .replace("{conversation}", conversation)
            .replace("{user}", user)
    }

    /// A request of `route` as Alice or, where the route admits it, as a trusted server.
    pub fn request(
        &self,
        route: &Route,
        segment: Option<&str>,
        as_service: bool,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Request<Body> {
        let service = match route.caller {
            Caller::Service => true,
            Caller::User => false,
            Caller::Either => as_service,
        };
        let credential = if service {
            ("x-api-key", SERVICE_KEY.to_owned())
        } else {
            ("authorization", format!("Bearer {}", token(ALICE)))
        };
        let mut builder = Request::builder()
            .method(route.method)
            .uri(self.uri(route, segment))
            .header(credential.0, credential.1);
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder.body(Body::from(body)).expect("a valid request")
    }
}

/// A path parameter: mostly the real one (`None`), else an id of any shape, percent-encoded,
/// or a segment that decodes badly (not UTF-8, a NUL, a slash, a dot-dot).
pub fn segment(known: Vec<String>) -> impl Strategy<Value = Option<String>> {
    let encoded = id(known).prop_map(|s| form_urlencoded::byte_serialize(s.as_bytes()).collect());
    let raw = select(
        &[
            "%FF%FE", "%00", "%2F", "..", "%2e%2e", "a%20b", "%", "%zz", "x;y", "~", "%C0%AF",
        ][..],
    )
    .prop_map(str::to_owned);
    prop_oneof![8 => Just(None), 2 => encoded.prop_map(Some), 1 => raw.prop_map(Some)]
}

/// What any answer to any request of `what` (a method and route) must be. With the real
/// path parameter the route must also exist (so that the targets' tables cannot quietly
/// drift from the routers). The status is the case's outcome.
pub fn answered_properly(
    what: &str,
    real_path: bool,
    status: StatusCode,
    body: &Value,
) -> Result<u16, TestCaseError> {
    prop_assert!(!status.is_server_error(), "{}: {} {}", what, status, body);
    if status.is_success() {
        prop_assert!(body.is_object() || body.is_array(), "{}: {}", what, body);
    } else {
        prop_assert!(has_message(body), "{}: {} {}", what, status, body);
    }
    if real_path {
        prop_assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{}", what);
        prop_assert!(body["message"] != "no such route", "{}", what);
    }
    Ok(status.as_u16())
}

/// Every registered dialect with its body-reading routes (none is left out: an unknown
/// dialect fails here).
pub fn dialects_with_routes() -> Vec<(Arc<dyn Dialect>, &'static [Route])> {
    crate::adapters::inbound::dialects::registry()
        .iter()
        .map(|d| {
            let routes = routes_of(d.name())
                .unwrap_or_else(|| panic!("list the REST routes of {} in fuzz", d.name()));
            (d.clone(), routes)
        })
        .filter(|(_, routes)| !routes.is_empty())
        .collect()
}
