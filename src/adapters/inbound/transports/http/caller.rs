//! Who is calling a REST route, as axum extractors on [`RestState`]: [`UserCaller`] (a user's
//! token from `Authorization: Bearer`, `x-auth-token`, a `token` cookie or a `token` query
//! parameter, resolved to an `Actor`), [`ServiceCaller`] (the configured service key, as
//! `Authorization: Bearer` or `x-api-key`) and [`UserOrService`] (either). A caller that is
//! none of what the route needs gets 401 `{ message }` before the body is read.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::RestState;
use super::error::ApiError;
use crate::adapters::inbound::auth::{Credentials, authenticate, is_service_call, parse_query};
use crate::app::{Actor, Requester};

/// A user authenticated by their token. The actor has no origin: a REST request is no
/// connection's own, so every connection of the user receives what it causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCaller(pub Actor);

impl FromRequestParts<RestState> for UserCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &RestState) -> Result<Self, ApiError> {
        let query = parse_query(parts.uri.query());
        let credentials = Credentials::from_request(&parts.headers, &query, &state.cookie_origins);
        // A request carries no bare user id to trust: only a token identifies it.
        let identity = authenticate(state.tokens.as_deref(), &credentials, false)?;
        state.rate_limits.check_user(&identity.user_id)?;
        let actor = state.use_cases.resolve_actor(&identity, None).await?;
        Ok(Self(actor))
    }
}

/// A trusted server holding the service key. Without a configured key every request is
/// refused, so a deployment that forgot the key exposes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCaller;

pub const SERVICE_KEY_REQUIRED: &str =
    "a valid service key is required (x-api-key or Authorization: Bearer)";

impl FromRequestParts<RestState> for ServiceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &RestState) -> Result<Self, ApiError> {
        if is_service_call(&parts.headers, state.service_key.as_deref()) {
            Ok(Self)
        } else {
            Err(ApiError::unauthorized(SERVICE_KEY_REQUIRED))
        }
    }
}

/// Either a trusted server or a user acting for themselves. The service key is tried first:
/// it travels in the same `Authorization` header a token would, and it is no JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserOrService {
    Service,
    User(Actor),
}

impl UserOrService {
    /// The requester as the use cases see it.
    pub fn requester(&self) -> Requester {
        match self {
            Self::Service => Requester::Service,
            Self::User(actor) => Requester::User(actor.id().clone()),
        }
    }
}

impl FromRequestParts<RestState> for UserOrService {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &RestState) -> Result<Self, ApiError> {
        if ServiceCaller::from_request_parts(parts, state)
            .await
            .is_ok()
        {
            return Ok(Self::Service);
        }
        let UserCaller(actor) = UserCaller::from_request_parts(parts, state).await?;
        Ok(Self::User(actor))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::extract::Request;
    use axum::http::StatusCode;
    use axum::routing::get;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::super::harness::{
        Harness, SECRET, SERVICE_KEY, has_message, request, token, token_with,
    };
    use super::*;
    use crate::adapters::inbound::dialects::native::Native;

    /// A router that answers who the caller is, for each extractor.
    async fn whoami_router() -> Router {
        let state = Harness::new(&Native::default()).await.state;
        Router::new()
            .route(
                "/user",
                get(|UserCaller(actor): UserCaller| async move {
                    axum::Json(json!({ "id": actor.id().as_str(), "name": actor.profile.name }))
                }),
            )
            .route("/service", get(|_: ServiceCaller| async { "ok" }))
            .route(
                "/either",
                get(|caller: UserOrService| async move {
                    match caller {
                        UserOrService::Service => "service".to_owned(),
                        UserOrService::User(actor) => actor.id().to_string(),
                    }
                }),
            )
            .with_state(state)
    }

    async fn send(router: &Router, request: Request) -> (StatusCode, Value) {
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, body)
    }

    #[tokio::test]
    async fn a_user_token_is_accepted_wherever_clients_put_it() {
        let router = whoami_router().await;
        let t = token_with("u1", json!({ "name": "Ann" }), SECRET);
        let cases: [(String, Vec<(&str, String)>); 5] = [
            (
                "/user".into(),
                vec![("authorization", format!("Bearer {t}"))],
            ),
            (
                "/user".into(),
                vec![("authorization", format!("bearer {t}"))],
            ),
            ("/user".into(), vec![("x-auth-token", t.clone())]),
            (
                "/user".into(),
                vec![("cookie", format!("theme=dark; token={t}"))],
            ),
            (format!("/user?token={t}"), vec![]),
        ];
        for (uri, headers) in cases {
            let (status, body) = send(&router, request("GET", &uri, &headers, None)).await;
            assert_eq!(status, StatusCode::OK, "{uri} {headers:?}: {body}");
            assert_eq!(body, json!({ "id": "u1", "name": "Ann" }));
        }
    }

    #[tokio::test]
    async fn a_missing_or_bad_token_is_401_with_a_message() {
        let router = whoami_router().await;
        let now = jsonwebtoken::get_current_timestamp();
        let expired = token_with(
            "u1",
            json!({ "iat": now - 7200, "exp": now - 3600 }),
            SECRET,
        );
        let cases = [
            ("none", vec![]),
            (
                "wrong secret",
                vec![(
                    "authorization",
                    format!("Bearer {}", token_with("u1", json!({}), "nope")),
                )],
            ),
            ("garbage", vec![("x-auth-token", "not a jwt".to_owned())]),
            (
                "expired",
                vec![("authorization", format!("Bearer {expired}"))],
            ),
            (
                "service key is no user",
                vec![("x-api-key", SERVICE_KEY.to_owned())],
            ),
        ];
        for (label, headers) in cases {
            let (status, body) = send(&router, request("GET", "/user", &headers, None)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}: {body}");
            assert!(has_message(&body), "{label}: {body}");
        }
    }

    #[tokio::test]
    async fn only_the_service_key_makes_a_service_call() {
        let router = whoami_router().await;
        let cases = [
            (vec![("x-api-key", SERVICE_KEY.to_owned())], StatusCode::OK),
            (
                vec![("authorization", format!("Bearer {SERVICE_KEY}"))],
                StatusCode::OK,
            ),
            (
                vec![("x-api-key", "guess".to_owned())],
                StatusCode::UNAUTHORIZED,
            ),
            (
                vec![("authorization", format!("Bearer {}", token("u1")))],
                StatusCode::UNAUTHORIZED,
            ),
            (vec![], StatusCode::UNAUTHORIZED),
        ];
        for (headers, expected) in cases {
            let (status, body) = send(&router, request("GET", "/service", &headers, None)).await;
            assert_eq!(status, expected, "{headers:?}: {body}");
            if expected == StatusCode::UNAUTHORIZED {
                assert_eq!(body, json!({ "message": SERVICE_KEY_REQUIRED }));
            }
        }
    }

    #[tokio::test]
    async fn either_a_service_or_a_user() {
        let router = whoami_router().await;
        let cases = [
            (
                vec![("x-api-key", SERVICE_KEY.to_owned())],
                StatusCode::OK,
                json!("service"),
            ),
            (
                vec![("authorization", format!("Bearer {}", token("u7")))],
                StatusCode::OK,
                json!("u7"),
            ),
        ];
        for (headers, status, body) in cases {
            assert_eq!(
                send(&router, request("GET", "/either", &headers, None)).await,
                (status, body)
            );
        }
        let (status, body) = send(&router, request("GET", "/either", &[], None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(has_message(&body));
    }

    #[tokio::test]
    async fn without_a_configured_key_nothing_is_a_service_call() {
        let state = RestState {
            tokens: None,
            service_key: None,
            ..Harness::new(&Native::default()).await.state
        };
        let router = Router::new()
            .route("/service", get(|_: ServiceCaller| async { "ok" }))
            .route("/user", get(|_: UserCaller| async { "ok" }))
            .with_state(state);
        let headers = [("x-api-key", String::new())];
        assert_eq!(
            send(&router, request("GET", "/service", &headers, None))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        // No verifier: a token cannot be checked, so it is refused, not trusted.
        let bearer = [("authorization", format!("Bearer {}", token("u1")))];
        assert_eq!(
            send(&router, request("GET", "/user", &bearer, None))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
}
