//! `GET /health`: answers `200 {"status":"ok","timestamp":"…"}` while the process serves
//! requests, for load balancers and container orchestrators. It checks nothing else on
//! purpose: a database hiccup should not get every node pulled out of rotation at once.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::adapters::inbound::wire_time::iso_millis;
use crate::ports::Clock;

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    timestamp: String,
}

pub fn router(clock: Arc<dyn Clock>) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(clock)
}

async fn health(State(clock): State<Arc<dyn Clock>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        timestamp: iso_millis(clock.now()),
    })
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;
    use crate::domain::Timestamp;
    use crate::ports::clock::MockClock;

    #[tokio::test]
    async fn health_answers_ok_with_the_time() {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(Timestamp::from_millis(1_767_614_400_000));
        let response = router(Arc::new(clock))
            .oneshot(Request::get("/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = to_bytes(response.into_body(), 1024).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "status": "ok", "timestamp": "2026-01-05T12:00:00.000Z" })
        );
    }

    #[tokio::test]
    async fn other_paths_are_not_found() {
        let response = router(Arc::new(MockClock::new()))
            .oneshot(Request::get("/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
