//! What each configured listener serves: its dialect (from the registry) over its
//! transports: the dialect's REST routes with the provisioning API, the uploaded files and
//! health, Socket.IO on `/socket.io/`, the raw WebSocket on `/ws`, and CORS; all under the
//! listener's conversation policy.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tower::util::MapRequestLayer;

use super::config::{HttpSettings, ListenerSettings, Transport};
use super::{App, policy};
use crate::adapters::inbound::auth::CookieOrigins;
use crate::adapters::inbound::dialects;
use crate::adapters::inbound::session::{ListenerContext, SessionLimits};
use crate::adapters::inbound::transports::{http, socketio, websocket};

/// What a listener serves: its HTTP routes, and its Socket.IO server and raw WebSocket
/// endpoint if it has them (kept to close their connections at shutdown).
pub struct ListenerService {
    pub router: Router,
    pub socket_io: Option<socketioxide::SocketIo>,
    pub websocket: Option<websocket::Closer>,
}

impl App {
    /// The routes and transports of one listener.
    ///
    /// # Errors
    /// When the listener asks for something this build cannot serve (an unknown dialect,
    /// Socket.IO or WebSocket for a dialect without socket events).
    pub fn listener_service(&self, listener: &ListenerSettings) -> anyhow::Result<ListenerService> {
        let name = &listener.name;
        let dialect = dialects::by_name(&listener.dialect).with_context(|| {
            format!(
                "listener {name:?}: unknown dialect {:?} (known: {})",
                listener.dialect,
                dialects::names().join(", ")
            )
        })?;
        let use_cases = self
            .use_cases
            .with_policy(policy(&listener.allowed_role_pairs));
        let transports = listener.transports();
        let mut router = if transports.contains(&Transport::Rest) {
            let state = http::RestState {
                use_cases: use_cases.clone(),
                tokens: self.tokens.clone(),
                service_key: self.settings.auth.service_key.as_deref().map(Arc::from),
                limits: http::RestLimits {
                    max_body_bytes: self.settings.http.max_body_bytes,
                    max_file_bytes: self.settings.blobs.max_bytes,
                    max_files: self.settings.blobs.max_files_per_message,
                },
                rate_limits: self.rate_limits.clone(),
                cookie_origins: cookie_origins(&self.settings.http),
            };
            let mut routes = dialect.rest().merge(dialects::provisioning());
            // A path: the files are served here; an absolute URL: a CDN or proxy serves them.
            let prefix = &self.settings.blobs.public_prefix;
            if prefix.starts_with('/') {
                routes = routes.merge(http::uploads_router(prefix));
            }
            http::router(
                routes,
                state,
                self.clock.clone(),
                self.settings.http.max_body_bytes,
            )
        } else {
            http::health_only(self.clock.clone())
        };
        let sockets =
            transports.contains(&Transport::SocketIo) || transports.contains(&Transport::WebSocket);
        anyhow::ensure!(
            !sockets || !dialect.events().is_empty(),
            "listener {name:?}: dialect {} has no socket events; serve it over rest",
            dialect.name()
        );
        let ctx = sockets.then(|| {
            Arc::new(ListenerContext {
                name: name.clone(),
                hub: self.hub.clone(),
                listener: self.hub.add_listener(dialect),
                use_cases,
                tokens: self.tokens.clone(),
                legacy_identity: listener.legacy_identity,
                cookie_origins: cookie_origins(&self.settings.http),
                limits: SessionLimits {
                    max_frame_bytes: self.settings.limits.max_frame_bytes,
                    events_per_second: self.settings.limits.events_per_second,
                    outbound_buffer_bytes: self.settings.limits.outbound_buffer_bytes,
                    slow_reader_timeout: std::time::Duration::from_secs(
                        self.settings.limits.slow_reader_timeout_secs,
                    ),
                },
            })
        });
        let mut socket_io = None;
        let mut websocket = None;
        if let Some(ctx) = ctx {
            if transports.contains(&Transport::WebSocket) {
                let (routes, closer) =
                    websocket::router(ctx.clone(), websocket::Keepalive::default());
                router = router.merge(routes);
                websocket = Some(closer);
            }
            if transports.contains(&Transport::SocketIo) {
                let (layer, io) = socketio::layer(ctx);
                router = router
                    .layer(layer)
                    .layer(MapRequestLayer::new(socketio::detach_request_head));
                socket_io = Some(io);
            }
        }
        Ok(ListenerService {
            router: router.layer(cors(&self.settings.http)),
            socket_io,
            websocket,
        })
    }
}

/// CORS. A list of origins is what the Node servers configured (`cors({ origin: FRONTEND_URL,
/// credentials: true })`): exactly those, with credentials. `*` lets any page call, but never
/// with credentials: a page's browser would otherwise send the user's cookie and read the
/// answer. (A list mixing `*` with origins is refused by the configuration check.)
fn cors(http: &HttpSettings) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};
    let methods = AllowMethods::mirror_request();
    let headers = AllowHeaders::mirror_request();
    if http.cors_origins.iter().any(|o| o == "*") {
        return CorsLayer::new()
            .allow_origin(AllowOrigin::any())
            .allow_methods(methods)
            .allow_headers(headers);
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            http.cors_origins
                .iter()
                .filter_map(|o| o.parse::<axum::http::HeaderValue>().ok()),
        ))
        .allow_credentials(true)
        .allow_methods(methods)
        .allow_headers(headers)
}

/// The origins whose pages the `token` cookie may identify: the listed CORS origins.
fn cookie_origins(http: &HttpSettings) -> CookieOrigins {
    CookieOrigins::new(&http.cors_origins)
}
