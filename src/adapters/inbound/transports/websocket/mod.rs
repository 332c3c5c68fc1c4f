//! The raw WebSocket transport, on `GET /ws`: JSON text frames in the native framing
//! (`frames`), each connection a [`Session`](crate::adapters::inbound::session::Session) fed
//! in arrival order. It carries whichever dialect its listener speaks (the native one by
//! default); the framing, the `hello` handshake, keepalive and the outbound policy are its own.
//!
//! Upgrading is done here, on the connection hyper hands over, with the same tungstenite
//! as socketioxide's WebSocket: one WebSocket implementation in the build, not two.

mod connection;
mod frames;
mod outbox;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use tokio::sync::{Notify, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::adapters::inbound::auth::parse_query;
use crate::adapters::inbound::session::ListenerContext;

/// The path of the endpoint.
pub const PATH: &str = "/ws";

/// Room for the framing (`id`, `type`) around a payload of `max_frame_bytes`.
const FRAMING_BYTES: usize = 1024;

/// What a connection reads into at a time (tungstenite's default is 128 KiB per connection);
/// a larger frame is still read whole, in more reads.
const READ_BUFFER_BYTES: usize = 1024;

/// The transport's timings: how long a client has to say `hello`, how often the server
/// pings, and how long a connection may stay silent (no frame, no pong) before it is closed.
#[derive(Debug, Clone, Copy)]
pub struct Keepalive {
    pub hello_timeout: Duration,
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
}

impl Default for Keepalive {
    /// Socket.IO's defaults: a ping every 25 s, closed after 20 s more without an answer.
    fn default() -> Self {
        Self {
            hello_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(45),
        }
    }
}

struct Shared {
    ctx: Arc<ListenerContext>,
    keepalive: Keepalive,
    config: WebSocketConfig,
    closing: watch::Receiver<bool>,
    live: Arc<Live>,
}

/// The open connections, to close them at shutdown and wait for their sessions to end.
#[derive(Default)]
struct Live {
    count: AtomicUsize,
    gone: Notify,
}

/// Closes a listener's WebSocket connections (shutdown).
pub struct Closer {
    closing: watch::Sender<bool>,
    live: Arc<Live>,
}

impl Closer {
    /// Tells every connection to close (code 1001, going away) and waits, up to `grace`,
    /// until their sessions gave back what they held.
    pub async fn close(self, grace: Duration) {
        let _ = self.closing.send(true);
        let wait = async {
            loop {
                let gone = self.live.gone.notified();
                if self.live.count.load(Ordering::Acquire) == 0 {
                    return;
                }
                gone.await;
            }
        };
        if tokio::time::timeout(grace, wait).await.is_err() {
            tracing::warn!("websocket connections still open after the grace period");
        }
    }
}

/// The endpoint of one listener, and what closes its connections.
pub fn router(ctx: Arc<ListenerContext>, keepalive: Keepalive) -> (Router, Closer) {
    let frame_limit = ctx.limits.max_frame_bytes.saturating_add(FRAMING_BYTES);
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(frame_limit))
        .max_frame_size(Some(frame_limit));
    let (closing_tx, closing) = watch::channel(false);
    let live = Arc::new(Live::default());
    let shared = Arc::new(Shared {
        ctx,
        keepalive,
        config,
        closing,
        live: live.clone(),
    });
    let router = Router::new().route(PATH, get(upgrade).with_state(shared));
    (
        router,
        Closer {
            closing: closing_tx,
            live,
        },
    )
}

/// Answers the WebSocket handshake (RFC 6455 §4.2) and runs the connection once hyper hands
/// it over.
async fn upgrade(State(shared): State<Arc<Shared>>, mut request: Request) -> Response {
    let headers = request.headers();
    if !is_websocket_upgrade(headers) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "error": "this is the native WebSocket endpoint: connect with a WebSocket client",
            })),
        )
            .into_response();
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13")) {
        return (
            StatusCode::UPGRADE_REQUIRED,
            [(header::SEC_WEBSOCKET_VERSION, "13")],
        )
            .into_response();
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return (StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing").into_response();
    };
    let accept = derive_accept_key(key.as_bytes());
    let query = parse_query(request.uri().query());
    // What the session may read credentials from (Authorization, x-auth-token, the cookie
    // and its origin); the rest of the request is let go.
    let mut kept = HeaderMap::new();
    for name in [
        header::AUTHORIZATION,
        header::HeaderName::from_static("x-auth-token"),
        header::COOKIE,
        header::ORIGIN,
    ] {
        if let Some(value) = request.headers().get(&name) {
            kept.insert(name, value.clone());
        }
    }
    if *shared.closing.borrow() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        )
            .into_response();
    }
    let on_upgrade = hyper::upgrade::on(&mut request);
    drop(request);
    // Counted from now, so that a shutdown waits for a connection still upgrading.
    let guard = LiveGuard::new(&shared.live);
    tokio::spawn(async move {
        let _guard = guard;
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(shared.config),
                )
                .await;
                connection::run(&shared, socket, kept, query).await;
            }
            Err(e) => tracing::debug!(error = %e, "websocket upgrade failed"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    has_token(header::CONNECTION, "upgrade") && has_token(header::UPGRADE, "websocket")
}

struct LiveGuard(Arc<Live>);

impl LiveGuard {
    fn new(live: &Arc<Live>) -> Self {
        live.count.fetch_add(1, Ordering::AcqRel);
        Self(live.clone())
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.gone.notify_waiters();
        }
    }
}
