//! The REST transport: a listener's HTTP routes on axum, with everything they share: who
//! the caller is (`caller`), JSON errors and extractors (`error`), health, the fallbacks,
//! the body limit (and `body` for routes that lift it), and the uploaded files (`uploads`). Errors are JSON `{ "message": … }` with
//! the right status. The routes themselves come from the listener's dialect and the
//! provisioning API.

mod body;
mod caller;
mod error;
#[cfg(test)]
pub(crate) mod harness;
mod health;
mod rate_limit;
mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;

use crate::adapters::inbound::auth::CookieOrigins;
use crate::app::UseCases;
use crate::ports::{Clock, TokenVerifier};

pub use body::read_limited;
pub use caller::{SERVICE_KEY_REQUIRED, ServiceCaller, UserCaller, UserOrService};
pub use error::{ApiError, ApiPath, ApiQuery, JsonBody};
pub use rate_limit::{RateLimits, RateSettings};
pub use uploads::router as uploads_router;

/// What every REST handler of a listener may use.
#[derive(Clone)]
pub struct RestState {
    /// The core as the listener sees it (with its conversation policy).
    pub use_cases: UseCases,
    pub tokens: Option<Arc<dyn TokenVerifier>>,
    /// The key of server-to-server calls; `None`: those routes refuse everything.
    pub service_key: Option<Arc<str>>,
    pub limits: RestLimits,
    /// Request rates per user and per address, shared by every listener.
    pub rate_limits: Arc<RateLimits>,
    /// Origins whose pages may be identified by the `token` cookie.
    pub cookie_origins: CookieOrigins,
}

/// How much a request may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestLimits {
    /// A request body (routes that take files count those apart).
    pub max_body_bytes: usize,
    /// One uploaded file.
    pub max_file_bytes: u64,
    /// Files in one request.
    pub max_files: usize,
}

impl RestLimits {
    /// The most a request that takes files may carry: every file at its limit and the rest
    /// of the body. A refused request is read up to this much before it is answered.
    pub fn upload_budget(&self) -> u64 {
        (self.max_files as u64)
            .saturating_mul(self.max_file_bytes)
            .saturating_add(self.max_body_bytes as u64)
    }
}

/// A listener's HTTP service: `routes` under the per-address rate limit, then JSON answers
/// for unknown routes and methods, health, and the request body limit.
pub fn router(
    routes: Router<RestState>,
    state: RestState,
    clock: Arc<dyn Clock>,
    max_body_bytes: usize,
) -> Router {
    // The fallbacks are set before `with_state`, which turns them into services once: a
    // handler fallback on a stateless router is rebuilt for every request, and so would be
    // every layer around it (the Socket.IO layer would lose its sessions).
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit_by_address,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .merge(health::router(clock))
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

/// Only health: a listener without REST still answers load balancers.
pub fn health_only(clock: Arc<dyn Clock>) -> Router {
    health::router(clock)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}
