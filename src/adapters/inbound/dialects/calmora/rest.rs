//! calmora's REST route, for the main API server (with the service key, as
//! `Authorization: Bearer` or `x-api-key`): `POST /emit-notification { userId, type, message,
//! extra }` stores a notification and pushes it as `new_notification` to the user's
//! connections when they are online; `200 { success: true, notification }`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::json::notification_json;
use crate::adapters::inbound::protocol::args;
use crate::adapters::inbound::transports::http::{ApiError, JsonBody, RestState, ServiceCaller};
use crate::adapters::json::data_from_json;
use crate::domain::{DataValue, NewNotification};

pub fn router() -> Router<RestState> {
    Router::new().route("/emit-notification", post(emit_notification))
}

async fn emit_notification(
    State(state): State<RestState>,
    _: ServiceCaller,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let new = NewNotification {
        recipient: args::user_id(&body, "userId")?,
        kind: args::string(&body, "type")?.to_owned(),
        title: None,
        message: args::string(&body, "message")?.to_owned(),
        reference_id: None,
        data: match body.get("extra") {
            None | Some(Value::Null) => DataValue::empty_map(),
            Some(extra @ Value::Object(_)) => data_from_json(extra),
            Some(_) => return Err(ApiError::bad_request("extra must be an object")),
        },
    };
    let notification = state.use_cases.notify(new).await?;
    Ok(Json(json!({
        "success": true,
        "notification": notification_json(&notification),
    })))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use super::super::Calmora;
    use crate::adapters::inbound::transports::http::harness::{
        Harness, SERVICE_KEY, has_message, request, token,
    };

    const ROUTE: &str = "/emit-notification";

    #[tokio::test]
    async fn a_notification_is_stored_and_answered_with_success() {
        let h = Harness::new(&Calmora::default()).await;
        let key = [("x-api-key", SERVICE_KEY.to_owned())];
        let body = json!({
            "userId": "66f0000000000000000000a1", "type": "appointment",
            "message": "Your session starts in 10 minutes", "extra": { "sessionId": "s1", "n": 2 },
        });
        let (status, answer) = h.send(request("POST", ROUTE, &key, Some(body))).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["success"], true);
        let n = &answer["notification"];
        assert!(n["_id"].is_string() && n["createdAt"].is_string(), "{n}");
        assert_eq!(n["userId"], "66f0000000000000000000a1");
        assert_eq!(n["type"], "appointment");
        assert_eq!(n["message"], "Your session starts in 10 minutes");
        assert_eq!(n["extra"], json!({ "sessionId": "s1", "n": 2 }));
        let bearer = [("authorization", format!("Bearer {SERVICE_KEY}"))];
        let minimal = json!({ "userId": "u1", "type": "chat", "message": "New message" });
        let (status, answer) = h.send(request("POST", ROUTE, &bearer, Some(minimal))).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["notification"]["extra"], json!({}));
    }

    #[tokio::test]
    async fn without_the_service_key_401_and_bad_bodies_400() {
        let h = Harness::new(&Calmora::default()).await;
        let body = json!({ "userId": "u1", "type": "chat", "message": "hi" });
        for headers in [
            vec![],
            vec![("x-api-key", "guess".to_owned())],
            vec![("authorization", format!("Bearer {}", token("u1")))],
        ] {
            let (status, answer) = h
                .send(request("POST", ROUTE, &headers, Some(body.clone())))
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
            assert!(has_message(&answer));
        }
        let key = [("x-api-key", SERVICE_KEY.to_owned())];
        for bad in [
            json!({ "type": "chat", "message": "hi" }),
            json!({ "userId": "u1", "message": "hi" }),
            json!({ "userId": "u1", "type": "chat" }),
            json!({ "userId": "u1", "type": "chat", "message": " " }),
            json!({ "userId": 5, "type": "chat", "message": "hi" }),
            json!({ "userId": "u1", "type": "chat", "message": "hi", "extra": [1] }),
            json!("not an object"),
        ] {
            let (status, answer) = h
                .send(request("POST", ROUTE, &key, Some(bad.clone())))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
            assert!(has_message(&answer), "{bad}: {answer}");
        }
    }
}
