//! The REST transport: a listener's HTTP routes on axum, with everything they share: who
//! the caller is (`caller`), JSON errors and extractors (`error`), health, the fallbacks,
//! and the body limit. Errors are JSON `{ "message": … }` with the right status. The routes
//! themselves come from the listener's dialect and the provisioning API.

mod caller;
mod error;
#[cfg(test)]
pub(crate) mod harness;
mod health;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;

use crate::app::UseCases;
use crate::ports::{Clock, TokenVerifier};

pub use caller::{SERVICE_KEY_REQUIRED, ServiceCaller, UserCaller, UserOrService};
pub use error::{ApiError, ApiPath, ApiQuery, JsonBody};

/// What every REST handler of a listener may use.
#[derive(Clone)]
pub struct RestState {
    /// The core as the listener sees it (with its conversation policy).
    pub use_cases: UseCases,
    pub tokens: Option<Arc<dyn TokenVerifier>>,
    /// The key of server-to-server calls; `None`: those routes refuse everything.
    pub service_key: Option<Arc<str>>,
}

/// A listener's HTTP service: `routes`, then JSON answers for unknown routes and methods,
/// health, and the request body limit.
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
