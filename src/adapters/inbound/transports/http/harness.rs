//! The REST tests' harness: the core on memory adapters (`TestCore`), a listener's router
//! over it as the composition root assembles one, and tokens signed with the test secret.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{RestLimits, RestState, router, uploads_router};
use crate::adapters::inbound::dialects;
use crate::adapters::inbound::protocol::Dialect;
use crate::adapters::outbound::jwt::JwtVerifier;
pub use crate::adapters::test_core::MAX_FILE_BYTES;
use crate::adapters::test_core::TestCore;
use crate::app::UseCases;
use crate::ports::EventBus;

pub const SECRET: &str = "rest-test-secret";
pub const SERVICE_KEY: &str = "rest-test-service-key";
/// Small, so that the oversize-body case needs no big payload.
pub const MAX_BODY: usize = 16 * 1024;

pub struct Harness {
    pub router: Router,
    /// The state the router was built with, for tests that mount routes of their own.
    pub state: RestState,
    pub use_cases: UseCases,
    pub bus: Arc<dyn EventBus>,
    core: TestCore,
}

impl Harness {
    /// `dialect`'s routes with the provisioning API and health, as a listener serves them.
    pub async fn new(dialect: &dyn Dialect) -> Self {
        let core = TestCore::new().await;
        let verifier = JwtVerifier::new(Some(SECRET.as_bytes()), None, Duration::from_secs(30))
            .expect("a test secret");
        let state = RestState {
            use_cases: core.use_cases.clone(),
            tokens: Some(Arc::new(verifier)),
            service_key: Some(SERVICE_KEY.into()),
            limits: RestLimits {
                max_body_bytes: MAX_BODY,
                max_file_bytes: MAX_FILE_BYTES,
                max_files: 3,
            },
            rate_limits: super::RateLimits::unlimited(),
            cookie_origins: Default::default(),
        };
        Self {
            router: router(
                dialect
                    .rest()
                    .merge(dialects::provisioning())
                    .merge(uploads_router("/uploads")),
                state.clone(),
                core.clock.clone(),
                MAX_BODY,
            ),
            state,
            use_cases: core.use_cases.clone(),
            bus: core.bus.clone(),
            core,
        }
    }

    /// Where the router's uploads are stored.
    pub fn uploads_dir(&self) -> &std::path::Path {
        self.core.uploads_dir()
    }

    /// Sends one request; the body is parsed as JSON (`Null` when empty).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1024 * 1024).await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, body)
    }

    /// `method uri` with `Authorization: Bearer <bearer>` when given and a JSON body.
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let headers: Vec<(&str, String)> = bearer
            .map(|b| ("authorization", format!("Bearer {b}")))
            .into_iter()
            .collect();
        self.send(request(method, uri, &headers, body)).await
    }
}

pub fn request(
    method: &str,
    uri: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// An HS256 token for `sub` with the given extra claims, valid for an hour.
pub fn token_with(sub: &str, extra: Value, secret: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({ "sub": sub, "iat": now, "exp": now + 3600 });
    if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

pub fn token(sub: &str) -> String {
    token_with(sub, json!({}), SECRET)
}

/// A `{ message }` body with something in it.
pub fn has_message(body: &Value) -> bool {
    body["message"].as_str().is_some_and(|m| !m.is_empty())
}
