//! The REST transport: axum routers for the HTTP endpoints. Every listener that serves REST
//! gets the health check and the native provisioning API (`/api/v1/…`); each dialect adds
//! the routes its clients call. Errors are JSON `{ "message": … }` with the right status.

pub mod caller;
pub mod error;
pub mod health;
pub mod linsta;
pub mod provisioning;
pub mod quickclinic;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;

use crate::app::UseCases;
use crate::app::config::Dialect;
use crate::ports::{Clock, TokenVerifier};
use error::ApiError;

/// What every REST handler of a listener may use.
#[derive(Clone)]
pub struct RestState {
    pub use_cases: UseCases,
    pub tokens: Option<Arc<dyn TokenVerifier>>,
    /// The key of server-to-server calls; `None`: those routes refuse everything.
    pub service_key: Option<Arc<str>>,
    /// Whether a bare `userId` identifies a caller on this listener (see DIALECTS.md).
    pub legacy_identity: bool,
}

/// The routes of a listener speaking `dialect`, with the request body limit applied.
pub fn router(
    dialect: Dialect,
    state: RestState,
    clock: Arc<dyn Clock>,
    max_body_bytes: usize,
) -> Router {
    let dialect_routes = match dialect {
        Dialect::Linsta => linsta::router(),
        Dialect::Quickclinic => quickclinic::router(),
        Dialect::Calmora | Dialect::Marketplace | Dialect::Kaajkaam | Dialect::Native => {
            Router::new()
        }
    };
    // The fallbacks are set before `with_state`, which turns them into services once: a
    // handler fallback on a stateless router is rebuilt for every request, and so would be
    // every layer around it (the Socket.IO layer would lose its sessions).
    dialect_routes
        .merge(provisioning::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .merge(health::router(clock))
        .layer(DefaultBodyLimit::max(max_body_bytes))
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
