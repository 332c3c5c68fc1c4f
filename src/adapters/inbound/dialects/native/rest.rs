//! The provisioning API under `/api/v1`, served on every REST listener for the main
//! applications' servers, with the service key:
//! `POST /api/v1/conversations { participantIds, context? }` gets or creates a conversation
//! (`201 { id, participantIds }` either way: the contract gives one answer, and a provisioning
//! script need not care whether it ran before);
//! `PUT /api/v1/users/{id} { name, email, avatar, role }` creates or replaces a profile;
//! `POST /api/v1/notifications { userId, type, title?, message, referenceId?, data? }` stores
//! a notification, which the use case pushes at once to an online recipient.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::adapters::inbound::protocol::args;
use crate::adapters::inbound::transports::http::{
    ApiError, ApiPath, JsonBody, RestState, ServiceCaller, UserOrService,
};
use crate::adapters::inbound::wire_time::iso_millis;
use crate::adapters::json::{data_from_json, data_to_json};
use crate::domain::{DataValue, NewNotification, Notification, Role, UserId, UserProfile};

pub fn router() -> Router<RestState> {
    Router::new()
        .route("/api/v1/conversations", post(open_conversation))
        .route("/api/v1/users/{id}", put(upsert_user))
        .route("/api/v1/notifications", post(create_notification))
}

/// The service key may open any conversation; a user's token only one they take part in
/// (a client app creating its own chat), which the use case checks.
async fn open_conversation(
    State(state): State<RestState>,
    caller: UserOrService,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let participants = participant_ids(&body)?;
    let context = args::context(&body)?;
    let (conversation, _) = state
        .use_cases
        .open_conversation(&caller.requester(), participants, context)
        .await?;
    let ids: Vec<&str> = conversation.participant_ids().map(UserId::as_str).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": conversation.id.as_str(), "participantIds": ids })),
    ))
}

fn participant_ids(body: &Map<String, Value>) -> Result<Vec<UserId>, ApiError> {
    let items = match body.get("participantIds") {
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request("participantIds is required"));
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::bad_request(
                "participantIds must be an array of user ids",
            ));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = format!("participantIds[{i}]");
            match item {
                Value::String(s) => {
                    UserId::parse(s.as_str()).map_err(|e| ApiError::bad_id(&field, &e))
                }
                _ => Err(ApiError::bad_request(format!("{field} must be a string"))),
            }
        })
        .collect()
}

/// `200 { id, name, email, avatar, role }`: the profile as stored. Fields left out (or blank)
/// are cleared, as a PUT replaces; when the user was last active is kept.
async fn upsert_user(
    State(state): State<RestState>,
    _: ServiceCaller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let id = UserId::parse(id).map_err(|e| ApiError::bad_id("id", &e))?;
    let profile = UserProfile {
        name: optional_string(&body, "name")?,
        email: optional_string(&body, "email")?,
        avatar: optional_string(&body, "avatar")?,
        role: optional_string(&body, "role")?
            .as_deref()
            .and_then(Role::new),
        ..UserProfile::bare(id)
    };
    state.use_cases.upsert_user(profile.clone()).await?;
    Ok(Json(json!({
        "id": profile.id.as_str(),
        "name": profile.name,
        "email": profile.email,
        "avatar": profile.avatar,
        "role": profile.role.as_ref().map(Role::as_str),
    })))
}

/// `201` with the stored notification (`delivered` tells whether it was pushed already).
async fn create_notification(
    State(state): State<RestState>,
    _: ServiceCaller,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let recipient = UserId::parse(args::string(&body, "userId")?)
        .map_err(|e| ApiError::bad_id("userId", &e))?;
    let new = NewNotification {
        recipient,
        kind: args::string(&body, "type")?.to_owned(),
        title: optional_string(&body, "title")?,
        message: args::string(&body, "message")?.to_owned(),
        reference_id: optional_string(&body, "referenceId")?,
        data: match body.get("data") {
            None | Some(Value::Null) => DataValue::empty_map(),
            Some(value) => data_from_json(value),
        },
    };
    let notification = state.use_cases.notify(new).await?;
    Ok((StatusCode::CREATED, Json(notification_json(&notification))))
}

/// Both id spellings, so that clients of the Mongo-born and the PostgreSQL-born families can
/// each read the one they know.
fn notification_json(n: &Notification) -> Value {
    json!({
        "_id": n.id.as_str(),
        "id": n.id.as_str(),
        "userId": n.recipient.as_str(),
        "type": n.kind,
        "title": n.title,
        "message": n.message,
        "referenceId": n.reference_id,
        "data": data_to_json(&n.data),
        "isRead": n.is_read(),
        "delivered": n.is_delivered(),
        "createdAt": iso_millis(n.created_at),
    })
}

/// A string field that may be absent or `null`; blank counts as absent.
fn optional_string(body: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("{field} must be a string"))),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use super::*;
    use crate::adapters::inbound::dialects::native::Native;
    use crate::adapters::inbound::transports::http::harness::{
        Harness, SERVICE_KEY, has_message, request, token,
    };
    use crate::app::Actor;
    use crate::app::test_support::conn;
    use crate::domain::{ConversationId, DomainEvent};

    const CONVERSATIONS: &str = "/api/v1/conversations";
    const NOTIFICATIONS: &str = "/api/v1/notifications";
    const ANN: &str = "/api/v1/users/ann";

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    async fn as_service(h: &Harness, method: &str, uri: &str, body: Value) -> (StatusCode, Value) {
        let key = [("x-api-key", SERVICE_KEY.to_owned())];
        h.send(request(method, uri, &key, Some(body))).await
    }

    #[tokio::test]
    async fn conversations_are_got_or_created_with_201_either_way() {
        let h = Harness::new(&Native::default()).await;
        let body = json!({ "participantIds": ["ann", "bob"] });
        let (status, first) = as_service(&h, "POST", CONVERSATIONS, body).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert!(first["id"].is_string());
        assert_eq!(first["participantIds"], json!(["ann", "bob"]));
        // Same set in another order: the same conversation; the key also works as a Bearer.
        let bearer = [("authorization", format!("Bearer {SERVICE_KEY}"))];
        let again = json!({ "participantIds": ["bob", "ann"] });
        let (status, second) = h
            .send(request("POST", CONVERSATIONS, &bearer, Some(again)))
            .await;
        assert_eq!((status, &second["id"]), (StatusCode::CREATED, &first["id"]));
        // A context makes another conversation.
        let with_order =
            json!({ "participantIds": ["ann", "bob"], "context": { "orderId": "o1" } });
        let (status, third) = as_service(&h, "POST", CONVERSATIONS, with_order).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_ne!(third["id"], first["id"]);
        let id = ConversationId::parse(third["id"].as_str().unwrap()).unwrap();
        let stored = h
            .use_cases
            .conversation_for(&uid("ann"), &id)
            .await
            .unwrap();
        assert_eq!(stored.context.get("orderId"), Some("o1"));
    }

    #[tokio::test]
    async fn conversation_sizes_are_capped_per_caller() {
        let h = Harness::new(&Native::default()).await;
        let ann = [("authorization", format!("Bearer {}", token("ann")))];
        let pair = json!({ "participantIds": ["ann", "bob", "ann"] });
        let (status, body) = h
            .send(request("POST", CONVERSATIONS, &ann, Some(pair)))
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "a pair, once deduplicated: {body}"
        );
        let group = json!({ "participantIds": ["ann", "bob", "carl"] });
        let (status, body) = h
            .send(request("POST", CONVERSATIONS, &ann, Some(group.clone())))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(has_message(&body));
        let (status, _) = as_service(&h, "POST", CONVERSATIONS, group).await;
        assert_eq!(status, StatusCode::CREATED, "the service key opens groups");
    }

    #[tokio::test]
    async fn users_are_upserted_and_answered_as_stored() {
        let h = Harness::new(&Native::default()).await;
        let profile = json!({
            "name": "Ann Lee", "email": "ann@example.com", "avatar": "https://x/a.png",
            "role": "Doctor",
        });
        let (status, body) = as_service(&h, "PUT", ANN, profile).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let expected = json!({
            "id": "ann", "name": "Ann Lee", "email": "ann@example.com",
            "avatar": "https://x/a.png", "role": "doctor",
        });
        assert_eq!(body, expected);
        let stored = h.use_cases.user_profile(&uid("ann")).await.unwrap();
        let stored = stored.unwrap();
        assert_eq!(stored.name.as_deref(), Some("Ann Lee"));
        assert_eq!(stored.role, Role::new("doctor"));
        // A PUT replaces: what is left out is cleared.
        let (_, body) = as_service(&h, "PUT", ANN, json!({ "name": "Ann" })).await;
        let expected =
            json!({ "id": "ann", "name": "Ann", "email": null, "avatar": null, "role": null });
        assert_eq!(body, expected);
    }

    #[tokio::test]
    async fn notifications_are_stored_and_rendered() {
        let h = Harness::new(&Native::default()).await;
        let data = json!({
            "postId": "post-1", "count": 3, "ratio": 0.5, "tags": ["a", true, null],
            "nested": { "x": -2 },
        });
        let body = json!({
            "userId": "ann", "type": "LIKE", "title": "New like", "message": "Bob liked your post",
            "referenceId": "post-1", "data": data,
        });
        let (status, n) = as_service(&h, "POST", NOTIFICATIONS, body).await;
        assert_eq!(status, StatusCode::CREATED, "{n}");
        assert!(n["_id"].is_string() && n["_id"] == n["id"], "{n}");
        assert!(n["createdAt"].as_str().is_some_and(|s| s.ends_with('Z')));
        let mut rest = n.clone();
        for key in ["_id", "id", "createdAt"] {
            rest.as_object_mut().unwrap().remove(key);
        }
        let expected = json!({
            "userId": "ann", "type": "LIKE", "title": "New like",
            "message": "Bob liked your post", "referenceId": "post-1", "data": data,
            "isRead": false, "delivered": false,
        });
        assert_eq!(rest, expected);
        // Ann was offline: it waits for her next connection.
        let pending = h
            .use_cases
            .take_pending_notifications(&uid("ann"), 10)
            .await;
        let pending = pending.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id.as_str(), n["id"].as_str().unwrap());

        let minimal = json!({ "userId": "ann", "type": "COMMENT", "message": "hi" });
        let (status, bare) = as_service(&h, "POST", NOTIFICATIONS, minimal).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            (&bare["title"], &bare["referenceId"], &bare["data"]),
            (&Value::Null, &Value::Null, &json!({}))
        );
    }

    #[tokio::test]
    async fn a_notification_for_an_online_user_is_pushed_and_delivered() {
        let h = Harness::new(&Native::default()).await;
        let ann = Actor {
            profile: UserProfile::bare(uid("ann")),
            origin: None,
        };
        h.use_cases.open_connection(&ann, &conn(1)).await.unwrap();
        let mut events = h.bus.subscribe();
        let body = json!({ "userId": "ann", "type": "LIKE", "message": "liked" });
        let (status, n) = as_service(&h, "POST", NOTIFICATIONS, body).await;
        assert_eq!(status, StatusCode::CREATED, "{n}");
        assert_eq!(n["delivered"], true, "{n}");
        let mut pushed = false;
        while let Ok(Some(envelope)) =
            tokio::time::timeout(std::time::Duration::from_millis(200), events.next()).await
        {
            if let DomainEvent::NotificationCreated(created) = &envelope.event {
                pushed |= created.id.as_str() == n["id"].as_str().unwrap();
            }
        }
        assert!(pushed);
    }

    #[tokio::test]
    async fn a_user_may_open_only_a_conversation_they_take_part_in() {
        let h = Harness::new(&Native::default()).await;
        let body = json!({ "participantIds": ["ann", "bob"] });
        for (user, expected) in [("ann", StatusCode::CREATED), ("zed", StatusCode::FORBIDDEN)] {
            let headers = vec![("authorization", format!("Bearer {}", token(user)))];
            let (status, answer) = h
                .send(request("POST", CONVERSATIONS, &headers, Some(body.clone())))
                .await;
            assert_eq!(status, expected, "{user}: {answer}");
        }
    }

    #[tokio::test]
    async fn every_route_needs_the_service_key() {
        let h = Harness::new(&Native::default()).await;
        let routes = [
            (
                "POST",
                CONVERSATIONS,
                json!({ "participantIds": ["ann", "bob"] }),
            ),
            ("PUT", ANN, json!({ "name": "Ann" })),
            (
                "POST",
                NOTIFICATIONS,
                json!({ "userId": "ann", "type": "LIKE", "message": "x" }),
            ),
        ];
        let user = format!("Bearer {}", token("ann"));
        let credentials = [
            ("none", vec![]),
            ("wrong key", vec![("x-api-key", "guess".to_owned())]),
            ("a user's token", vec![("authorization", user)]),
        ];
        for (method, uri, body) in &routes {
            for (label, headers) in &credentials {
                if *uri == CONVERSATIONS && label.starts_with("a user") {
                    continue; // users may open their own conversations: see below
                }
                let req = request(method, uri, headers, Some(body.clone()));
                let (status, answer) = h.send(req).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri} {label}: {answer}");
                assert!(has_message(&answer), "{uri} {label}: {answer}");
            }
        }
    }

    #[tokio::test]
    async fn bad_input_is_400_naming_the_field() {
        let h = Harness::new(&Native::default()).await;
        let pair = |extra: Value| {
            let mut body = json!({ "participantIds": ["ann", "bob"] });
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            body
        };
        let note = |extra: Value| {
            let mut body = json!({ "userId": "ann", "type": "LIKE", "message": "x" });
            let body_map = body.as_object_mut().unwrap();
            for (k, v) in extra.as_object().unwrap() {
                if v.is_null() {
                    body_map.remove(k);
                } else {
                    body_map.insert(k.clone(), v.clone());
                }
            }
            body
        };
        let cases = [
            (CONVERSATIONS, json!({}), "participantIds"),
            (
                CONVERSATIONS,
                json!({ "participantIds": "ann,bob" }),
                "participantIds",
            ),
            (
                CONVERSATIONS,
                json!({ "participantIds": ["ann", 2] }),
                "participantIds[1]",
            ),
            (
                CONVERSATIONS,
                json!({ "participantIds": ["ann", ""] }),
                "participantIds[1]",
            ),
            (
                CONVERSATIONS,
                json!({ "participantIds": ["ann", "ann"] }),
                "two distinct",
            ),
            (CONVERSATIONS, pair(json!({ "context": [] })), "context"),
            (
                CONVERSATIONS,
                pair(json!({ "context": { "orderId": 5 } })),
                "context.orderId",
            ),
            (
                CONVERSATIONS,
                pair(json!({ "context": { "bad key": "x" } })),
                "context",
            ),
            (ANN, json!({ "name": 5 }), "name"),
            (ANN, json!({ "role": ["doctor"] }), "role"),
            ("/api/v1/users/a%20b", json!({ "name": "x" }), "id"),
            (NOTIFICATIONS, note(json!({ "userId": null })), "userId"),
            (NOTIFICATIONS, note(json!({ "userId": 1 })), "userId"),
            (NOTIFICATIONS, note(json!({ "type": null })), "type"),
            (
                NOTIFICATIONS,
                note(json!({ "type": "x".repeat(65) })),
                "type",
            ),
            (NOTIFICATIONS, note(json!({ "message": null })), "message"),
            (NOTIFICATIONS, note(json!({ "message": " " })), "message"),
            (NOTIFICATIONS, note(json!({ "title": 1 })), "title"),
            (
                NOTIFICATIONS,
                note(json!({ "referenceId": {} })),
                "referenceId",
            ),
        ];
        for (uri, body, needle) in cases {
            let method = if uri.starts_with("/api/v1/users") {
                "PUT"
            } else {
                "POST"
            };
            let (status, answer) = as_service(&h, method, uri, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}: {answer}");
            let message = answer["message"].as_str().unwrap_or_default();
            assert!(
                message.contains(needle),
                "{uri} {body}: {message:?} lacks {needle:?}"
            );
        }
    }
}
