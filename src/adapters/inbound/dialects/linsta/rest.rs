//! linsta's REST routes, Bearer JWT on all of them:
//! `POST /api/chat/rooms { otherUserId }` opens (or finds) the one-to-one room,
//! `GET /api/chat/rooms` lists the caller's rooms with the participants populated, and
//! `GET /api/chat/messages/{chatRoomId}?limit=50&skip=0` pages a room's history
//! (chronological, `skip` counting back from the newest, as the socket's `get_history`).
//! Messages render through the same functions as the socket events, so the shapes agree.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::DEFAULT_LIMIT;
use super::json::{message_with_sender_json, user_json};
use crate::adapters::inbound::protocol::args;
use crate::adapters::inbound::transports::http::{
    ApiError, ApiPath, ApiQuery, JsonBody, RestState, UserCaller,
};
use crate::adapters::inbound::wire_time::iso_millis;
use crate::app::Requester;
use crate::domain::{ConversationContext, ConversationId, UserId};
use crate::ports::Page;

pub fn router() -> Router<RestState> {
    Router::new()
        .route("/api/chat/rooms", post(open_room).get(list_rooms))
        .route("/api/chat/messages/{chatRoomId}", get(room_messages))
}

/// `200 { chatRoomId, participants: [ids], createdAt }`, the same room however often and by
/// whichever of the two it is asked for (the family's server answered 200 whether it created
/// the room or not).
async fn open_room(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let other = UserId::parse(args::string(&body, "otherUserId")?)
        .map_err(|e| ApiError::bad_id("otherUserId", &e))?;
    if &other == actor.id() {
        return Err(ApiError::bad_request(
            "otherUserId must be another user: a chat room has two participants",
        ));
    }
    let (room, _) = state
        .use_cases
        .open_conversation(
            &Requester::User(actor.id().clone()),
            vec![actor.id().clone(), other],
            ConversationContext::default(),
        )
        .await?;
    Ok(Json(json!({
        "chatRoomId": room.id.as_str(),
        "participants": room.participant_ids().map(UserId::as_str).collect::<Vec<_>>(),
        "createdAt": iso_millis(room.created_at),
    })))
}

/// `[{ _id, participants: [{ _id, name, email }], createdAt }]`, newest activity first. The
/// family's server answered every room at once; here one page of at most `Page::MAX_LIMIT`
/// (the default), and `?limit=&skip=` reach further back.
async fn list_rooms(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiQuery(window): ApiQuery<Window>,
) -> Result<Json<Value>, ApiError> {
    let page = Page::new(
        window.limit.unwrap_or(Page::MAX_LIMIT),
        window.skip.unwrap_or(0),
    );
    let (rooms, people) = state
        .use_cases
        .conversations_with_profiles(&actor, page)
        .await?;
    let listed: Vec<Value> = rooms
        .iter()
        .map(|room| {
            json!({
                "_id": room.id.as_str(),
                "participants": room
                    .participant_ids()
                    .map(|id| user_json(&people.get(id)))
                    .collect::<Vec<_>>(),
                "createdAt": iso_millis(room.created_at),
            })
        })
        .collect();
    Ok(Json(Value::Array(listed)))
}

#[derive(Debug, Deserialize)]
struct Window {
    limit: Option<u32>,
    skip: Option<u64>,
}

/// `[{ _id, chatRoomId, senderId: { _id, name, email }, text, createdAt }]`, oldest first.
async fn room_messages(
    State(state): State<RestState>,
    UserCaller(actor): UserCaller,
    ApiPath(room): ApiPath<String>,
    ApiQuery(window): ApiQuery<Window>,
) -> Result<Json<Value>, ApiError> {
    let room = ConversationId::parse(room).map_err(|e| ApiError::bad_id("chatRoomId", &e))?;
    let page = Page::new(
        window.limit.unwrap_or(DEFAULT_LIMIT),
        window.skip.unwrap_or(0),
    );
    let (history, senders) = state
        .use_cases
        .history_with_profiles(&actor, &room, page)
        .await?;
    let messages: Vec<Value> = history
        .messages
        .iter()
        .map(|m| message_with_sender_json(m, &senders.get(&m.sender)))
        .collect();
    Ok(Json(Value::Array(messages)))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::http::StatusCode as S;
    use serde_json::json;

    use super::*;
    use crate::adapters::inbound::transports::http::harness::{
        Harness, MAX_BODY, SECRET, has_message, request, token, token_with,
    };
    use crate::app::{Actor, PostMessage};
    use crate::domain::{Role, UserProfile};

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    async fn harness() -> Harness {
        let h = Harness::new(&super::super::Linsta::default()).await;
        for (id, name, email) in [
            ("ann", "Ann Lee", "ann@example.com"),
            ("bob", "Bob Ray", "bob@example.com"),
        ] {
            h.use_cases
                .upsert_user(UserProfile {
                    name: Some(name.into()),
                    email: Some(email.into()),
                    role: Role::new("user"),
                    ..UserProfile::bare(uid(id))
                })
                .await
                .unwrap();
        }
        h
    }

    async fn open(h: &Harness, by: &str, other: &str) -> Value {
        let (status, body) = h
            .call(
                "POST",
                "/api/chat/rooms",
                Some(&token(by)),
                Some(json!({ "otherUserId": other })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn post(h: &Harness, by: &str, room: &str, text: &str) {
        let actor = Actor {
            profile: UserProfile::bare(uid(by)),
            origin: None,
        };
        h.use_cases
            .post_message(
                &actor,
                PostMessage::text(ConversationId::parse(room).unwrap(), text),
            )
            .await
            .unwrap();
    }

    fn is_iso_millis(v: &Value) -> bool {
        v.as_str()
            .is_some_and(|s| s.len() == 24 && s.ends_with('Z') && s.as_bytes()[19] == b'.')
    }

    #[tokio::test]
    async fn opening_a_room_is_idempotent_from_either_side() {
        let h = harness().await;
        let first = open(&h, "ann", "bob").await;
        let room = first["chatRoomId"].as_str().unwrap();
        assert_eq!(first["participants"], json!(["ann", "bob"]));
        assert!(is_iso_millis(&first["createdAt"]), "{first}");
        assert_eq!(open(&h, "ann", "bob").await, first);
        assert_eq!(open(&h, "bob", "ann").await["chatRoomId"], room);
    }

    #[tokio::test]
    async fn the_room_list_is_one_bounded_page() {
        let h = harness().await;
        for other in ["bob", "cat", "dan"] {
            open(&h, "ann", other).await;
        }
        let list = |query: &'static str| {
            let h = &h;
            async move {
                let (status, body) = h
                    .call(
                        "GET",
                        &format!("/api/chat/rooms{query}"),
                        Some(&token("ann")),
                        None,
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body.as_array().unwrap().len()
            }
        };
        assert_eq!(list("").await, 3);
        assert_eq!(list("?limit=2").await, 2);
        assert_eq!(list("?limit=2&skip=2").await, 1);
        // A limit past the largest page is accepted (and clamped: `Page::new`).
        assert_eq!(list("?limit=4000000000").await, 3);
    }

    #[tokio::test]
    async fn lists_rooms_with_participants_populated() {
        let h = harness().await;
        let room = open(&h, "ann", "bob").await["chatRoomId"].clone();
        // A stranger to the directory still shows, named by id; the caller's token fills in
        // what the directory does not know about them.
        let other = open(&h, "ann", "ghost").await["chatRoomId"].clone();
        let (status, body) = h
            .call("GET", "/api/chat/rooms", Some(&token("ann")), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let rooms = body.as_array().unwrap();
        assert_eq!(rooms.len(), 2);
        let by_id = |id: &Value| rooms.iter().find(|r| &r["_id"] == id).unwrap().clone();
        let mut listed = by_id(&room);
        assert!(is_iso_millis(&listed["createdAt"]));
        listed["createdAt"] = Value::Null;
        assert_eq!(
            listed,
            json!({
                "_id": room,
                "participants": [
                    { "_id": "ann", "name": "Ann Lee", "email": "ann@example.com" },
                    { "_id": "bob", "name": "Bob Ray", "email": "bob@example.com" },
                ],
                "createdAt": null,
            })
        );
        assert_eq!(
            by_id(&other)["participants"][1],
            json!({ "_id": "ghost", "name": "ghost", "email": null })
        );

        let (_, bobs) = h
            .call("GET", "/api/chat/rooms", Some(&token("bob")), None)
            .await;
        assert_eq!(bobs.as_array().map(Vec::len), Some(1));
        let (_, nobody) = h
            .call("GET", "/api/chat/rooms", Some(&token("zed")), None)
            .await;
        assert_eq!(nobody, json!([]));
    }

    #[tokio::test]
    async fn the_callers_claims_fill_in_for_an_unknown_caller() {
        let h = harness().await;
        let zed = token_with(
            "zed",
            json!({ "name": "Zed", "email": "z@example.com" }),
            SECRET,
        );
        let (status, _) = h
            .call(
                "POST",
                "/api/chat/rooms",
                Some(&zed),
                Some(json!({ "otherUserId": "ann" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, rooms) = h.call("GET", "/api/chat/rooms", Some(&zed), None).await;
        assert_eq!(
            rooms[0]["participants"][0],
            json!({ "_id": "zed", "name": "Zed", "email": "z@example.com" })
        );
    }

    #[tokio::test]
    async fn pages_history_oldest_first_with_senders_populated() {
        let h = harness().await;
        let room = open(&h, "ann", "bob").await["chatRoomId"]
            .as_str()
            .unwrap()
            .to_owned();
        for (by, text) in [
            ("ann", "m1"),
            ("bob", "m2"),
            ("ann", "m3"),
            ("bob", "m4"),
            ("ann", "m5"),
        ] {
            post(&h, by, &room, text).await;
        }
        let texts = |body: &Value| -> Vec<String> {
            body.as_array()
                .unwrap()
                .iter()
                .map(|m| m["text"].as_str().unwrap().to_owned())
                .collect()
        };
        let cases = [
            ("", vec!["m1", "m2", "m3", "m4", "m5"]),
            ("?limit=50&skip=0", vec!["m1", "m2", "m3", "m4", "m5"]),
            ("?limit=2", vec!["m4", "m5"]),
            ("?limit=2&skip=1", vec!["m3", "m4"]),
            ("?limit=2&skip=4", vec!["m1"]),
            ("?skip=9", vec![]),
        ];
        for (query, expected) in cases {
            let uri = format!("/api/chat/messages/{room}{query}");
            let (status, body) = h.call("GET", &uri, Some(&token("bob")), None).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            assert_eq!(texts(&body), expected, "{query}");
        }
        let (_, body) = h
            .call(
                "GET",
                &format!("/api/chat/messages/{room}?limit=1"),
                Some(&token("bob")),
                None,
            )
            .await;
        let m = &body[0];
        assert!(
            m["_id"].is_string() && is_iso_millis(&m["createdAt"]),
            "{m}"
        );
        assert_eq!(m["chatRoomId"], room.as_str());
        assert_eq!(
            m["senderId"],
            json!({ "_id": "ann", "name": "Ann Lee", "email": "ann@example.com" })
        );
    }

    #[tokio::test]
    async fn refusals_have_their_status_and_a_message() {
        let h = harness().await;
        let room = open(&h, "ann", "bob").await["chatRoomId"]
            .as_str()
            .unwrap()
            .to_owned();
        let ann = || Some(token("ann"));
        let messages = format!("/api/chat/messages/{room}");
        let open = |bearer, body| ("POST", "/api/chat/rooms".to_owned(), bearer, Some(body));
        let get = |uri: &str, bearer| ("GET", uri.to_owned(), bearer, None);
        let cases = [
            (
                "no token",
                open(None, json!({ "otherUserId": "bob" })),
                S::UNAUTHORIZED,
            ),
            (
                "bad token",
                get("/api/chat/rooms", Some("nope".into())),
                S::UNAUTHORIZED,
            ),
            (
                "no token for history",
                get(&messages, None),
                S::UNAUTHORIZED,
            ),
            ("no otherUserId", open(ann(), json!({})), S::BAD_REQUEST),
            (
                "otherUserId a number",
                open(ann(), json!({ "otherUserId": 7 })),
                S::BAD_REQUEST,
            ),
            (
                "blank otherUserId",
                open(ann(), json!({ "otherUserId": " " })),
                S::BAD_REQUEST,
            ),
            (
                "spaced otherUserId",
                open(ann(), json!({ "otherUserId": "a b" })),
                S::BAD_REQUEST,
            ),
            (
                "a room with oneself",
                open(ann(), json!({ "otherUserId": "ann" })),
                S::BAD_REQUEST,
            ),
            (
                "body not an object",
                open(ann(), json!("bob")),
                S::BAD_REQUEST,
            ),
            (
                "bad limit",
                get(&format!("{messages}?limit=many"), ann()),
                S::BAD_REQUEST,
            ),
            (
                "negative skip",
                get(&format!("{messages}?skip=-1"), ann()),
                S::BAD_REQUEST,
            ),
            (
                "non-participant",
                get(&messages, Some(token("mallory"))),
                S::FORBIDDEN,
            ),
            (
                "unknown room",
                get("/api/chat/messages/66f1234567890abcdef0", ann()),
                S::NOT_FOUND,
            ),
        ];
        for (label, (method, uri, bearer, body), expected) in cases {
            let (status, answer) = h.call(method, &uri, bearer.as_deref(), body).await;
            assert_eq!(status, expected, "{label}: {answer}");
            assert!(has_message(&answer), "{label}: {answer}");
        }
    }

    #[tokio::test]
    async fn body_trouble_is_json_too() {
        let h = harness().await;
        let auth = ("authorization", format!("Bearer {}", token("ann")));
        let raw = |ct: &str, body: String| {
            axum::http::Request::post("/api/chat/rooms")
                .header(auth.0, auth.1.clone())
                .header("content-type", ct)
                .body(axum::body::Body::from(body))
                .unwrap()
        };
        let huge = format!(
            r#"{{"otherUserId":"bob","pad":"{}"}}"#,
            "x".repeat(MAX_BODY)
        );
        let cases = [
            (
                raw("application/json", "{\"otherUserId\":".into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                raw("text/plain", r#"{"otherUserId":"bob"}"#.into()),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (raw("application/json", huge), StatusCode::PAYLOAD_TOO_LARGE),
        ];
        for (req, expected) in cases {
            let (status, body) = h.send(req).await;
            assert_eq!(status, expected, "{body}");
            assert!(has_message(&body), "{body}");
        }
        // Credentials are checked before the body is read.
        let (status, _) = h
            .send(request("POST", "/api/chat/rooms", &[], Some(json!("x"))))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
