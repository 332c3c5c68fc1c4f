//! The REST error type, `ApiError`: every refusal is JSON `{ "message": … }` with its status
//! (400 bad input, 401 no or bad credentials, 403 not allowed, 404 unknown, 409 conflict,
//! 413 too large, 415 not JSON, 500 our fault). Also the body, query and path extractors
//! (`JsonBody`, `ApiQuery`, `ApiPath`) that wrap axum's own so that their rejections, plain
//! text by default, come out in that same shape: the Node servers' clients read
//! `response.data.message` and would show nothing for a plain-text body.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::adapters::inbound::auth::AuthFailure;
use crate::adapters::inbound::protocol::WireError;
use crate::adapters::json::{NUL_REFUSED, contains_nul};
use crate::app::AppError;
use crate::domain::IdError;

/// A refused request: the status and the words the client sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for a rate limit.
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// 429: over a rate limit; the client may try again after `wait` (whole seconds, at
    /// least 1).
    pub fn too_many_requests(what: &str, wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let secs = secs.max(1);
        Self {
            retry_after_secs: Some(secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many requests {what}: try again in {secs} s"),
            )
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// A bad id in the field (or path segment) `field`.
    pub fn bad_id(field: &str, e: &IdError) -> Self {
        Self::bad_request(format!("{field}: {e}"))
    }

    /// Our own failure: the cause goes to the log, the client gets a generic message.
    fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed on the server side");
        AppError::Unavailable.into()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "message": self.message }))).into_response();
        // HTTP asks a 401 to say which scheme would do; both tokens and the service key
        // travel as Bearer.
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = match &e {
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Limited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            // 500, not 503: it is the status the Node servers documented for "server error", so it is
            // the one their clients already handle. The message stays generic; the use case
            // logged the cause.
            AppError::Unavailable => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, e.to_string())
    }
}

impl From<AuthFailure> for ApiError {
    fn from(e: AuthFailure) -> Self {
        Self::unauthorized(e.to_string())
    }
}

/// The argument readers shared with the socket events only ever complain about bad input.
impl From<WireError> for ApiError {
    fn from(e: WireError) -> Self {
        Self::bad_request(e.0)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(status, "the request body is too large"),
            // Axum answers 422 for well-formed JSON of the wrong shape; the contract says 400
            // for all bad input.
            StatusCode::UNPROCESSABLE_ENTITY => Self::bad_request(rejection.body_text()),
            s if s.is_server_error() => Self::internal(&rejection.body_text()),
            _ => Self::new(status, rejection.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        if rejection.status().is_server_error() {
            return Self::internal(&rejection.body_text());
        }
        Self::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        // A path that does not fit the route's parameters is a routing mistake on our side;
        // a segment that does not decode is the client's.
        if rejection.status().is_server_error() {
            return Self::internal(&rejection.body_text());
        }
        Self::bad_request(rejection.body_text())
    }
}

/// A JSON request body (`Content-Type: application/json`), read as an object. Handlers take
/// fields out of it with the dialects' argument readers, so a wrong field gets a message that
/// names it, the same words a socket client gets. Not JSON: 400; not an object: 400; wrong
/// content type: 415; over the listener's body limit: 413; a NUL in any string: 400.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<Value>::from_request(req, state).await?;
        if contains_nul(&value) {
            return Err(ApiError::bad_request(NUL_REFUSED));
        }
        match value {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(ApiError::bad_request(
                "the request body must be a JSON object",
            )),
        }
    }
}

/// `axum::extract::Query` whose rejection is a 400 `{ message }` naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// `axum::extract::Path` whose rejection is a `{ message }` too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::extract::DefaultBodyLimit;
    use axum::http::Request;
    use axum::routing::{get, post};
    use serde::Deserialize;
    use tower::ServiceExt;

    use super::*;

    async fn body_json(response: Response) -> Value {
        let bytes = to_bytes(response.into_body(), 64 * 1024).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn app_errors_map_to_their_statuses_with_a_message() {
        let cases = [
            (AppError::Invalid("bad".into()), StatusCode::BAD_REQUEST),
            (AppError::Forbidden("no".into()), StatusCode::FORBIDDEN),
            (AppError::not_found("conversation"), StatusCode::NOT_FOUND),
            (AppError::Conflict("taken".into()), StatusCode::CONFLICT),
            (AppError::Unavailable, StatusCode::INTERNAL_SERVER_ERROR),
        ];
        for (error, status) in cases {
            let expected = error.to_string();
            let response = ApiError::from(error).into_response();
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()["content-type"], "application/json");
            assert_eq!(body_json(response).await, json!({ "message": expected }));
        }
    }

    #[tokio::test]
    async fn auth_failures_are_401_bearer_with_their_text() {
        let response = ApiError::from(AuthFailure::Expired).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let expected = json!({ "message": AuthFailure::Expired.to_string() });
        assert_eq!(body_json(response).await, expected);
    }

    #[derive(Deserialize)]
    struct Paging {
        limit: Option<u32>,
    }

    fn router() -> Router {
        Router::new()
            .route(
                "/echo",
                post(|JsonBody(body): JsonBody| async move { Json(Value::Object(body)) }),
            )
            .route(
                "/paged/{n}",
                get(
                    |ApiPath(n): ApiPath<u32>, ApiQuery(q): ApiQuery<Paging>| async move {
                        Json(json!({ "n": n, "limit": q.limit }))
                    },
                ),
            )
            .layer(DefaultBodyLimit::max(64))
    }

    fn post_raw(content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
        let mut builder = Request::post("/echo");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(body.into()).unwrap()
    }

    #[tokio::test]
    async fn body_rejections_are_json_with_the_right_status() {
        let json_ct = Some("application/json");
        let cases = [
            (
                "malformed",
                post_raw(json_ct, "{\"a\":"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "not an object",
                post_raw(json_ct, "[1,2]"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "no content type",
                post_raw(None, "{}"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "text/plain",
                post_raw(Some("text/plain"), "{}"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "too large",
                post_raw(json_ct, format!("{{\"a\":\"{}\"}}", "x".repeat(100))),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                "a NUL in a nested string",
                post_raw(json_ct, r#"{"a":{"b":["x\u0000"]}}"#),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (label, request, status) in cases {
            let response = router().oneshot(request).await.unwrap();
            assert_eq!(response.status(), status, "{label}");
            let body = body_json(response).await;
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{label}: {body}"
            );
        }
    }

    #[tokio::test]
    async fn a_json_object_passes_through() {
        let response = router()
            .oneshot(post_raw(Some("application/json"), r#"{"a":1}"#))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_json(response).await, json!({ "a": 1 }));
    }

    #[tokio::test]
    async fn query_and_path_rejections_are_400_naming_the_parameter() {
        for (uri, needle) in [("/paged/1?limit=many", "limit"), ("/paged/x", "")] {
            let response = router()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{uri}");
            let message = body_json(response).await["message"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(message.contains(needle), "{uri}: {message}");
        }
        let ok = router()
            .oneshot(
                Request::get("/paged/3?limit=2")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(body_json(ok).await, json!({ "n": 3, "limit": 2 }));
    }
}
