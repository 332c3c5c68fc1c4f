//! Running the listeners: every configured address is bound first (so a taken port fails the
//! start before anything serves), then each gets its own axum server, and all of them stop
//! together on the shutdown signal, letting requests in flight finish for a short while.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use super::config::{ListenerSettings, Settings};
use super::http_server;
use super::sweeper::spawn_sweeper;
use super::{App, ListenerService, build};

/// How long open connections may take to finish after the shutdown signal. Long-lived
/// connections (WebSockets) would otherwise hold the process up forever.
const GRACE: Duration = Duration::from_secs(10);

/// How often typing expiry and ring timeouts are checked: well under their own durations.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A listener whose address is bound, not yet serving.
pub struct BoundListener {
    pub name: String,
    pub dialect: String,
    /// The actual address: with port 0 in the settings, the one the OS picked.
    pub addr: SocketAddr,
    settings: ListenerSettings,
    listener: TcpListener,
}

/// Binds every listener, or none: the first failure is returned naming the listener.
///
/// # Errors
/// When an address cannot be resolved or bound.
pub async fn bind(listeners: &[ListenerSettings]) -> anyhow::Result<Vec<BoundListener>> {
    let mut bound = Vec::with_capacity(listeners.len());
    for settings in listeners {
        let listener = TcpListener::bind(&settings.bind)
            .await
            .with_context(|| format!("listener {:?}: binding {}", settings.name, settings.bind))?;
        let addr = listener.local_addr()?;
        bound.push(BoundListener {
            name: settings.name.clone(),
            dialect: settings.dialect.clone(),
            addr,
            settings: settings.clone(),
            listener,
        });
    }
    Ok(bound)
}

/// Serves every bound listener until `shutdown` completes or a server fails.
///
/// # Errors
/// The first server error; the other servers are stopped too.
pub async fn run(
    app: &App,
    listeners: Vec<BoundListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let prepared = prepare(app, listeners)?;
    serve_prepared(app, prepared, shutdown).await
}

/// Bound listeners with their routes built.
type Prepared = Vec<(BoundListener, ListenerService)>;

/// Builds every listener's routes before anything serves: a listener this build cannot
/// serve fails the start, not the first request.
fn prepare(app: &App, listeners: Vec<BoundListener>) -> anyhow::Result<Prepared> {
    listeners
        .into_iter()
        .map(|bound| {
            let service = app.listener_service(&bound.settings)?;
            Ok((bound, service))
        })
        .collect()
}

async fn serve_prepared(
    app: &App,
    prepared: Prepared,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    // Subscribed before serving, so that no event published by a first request is missed.
    let hub = app.hub.clone().spawn(app.bus.subscribe(), stopped.clone());
    let sweep_every = app.settings.chat.typing_expiry().min(SWEEP_EVERY);
    let sweeper = spawn_sweeper(
        app.use_cases.clone(),
        app.rate_limits.clone(),
        sweep_every,
        stopped.clone(),
    );
    let mut servers = JoinSet::new();
    let mut socket_servers = Vec::new();
    let mut websockets = Vec::new();
    for (bound, service) in prepared {
        tracing::info!(
            listener = %bound.name,
            dialect = %bound.dialect,
            transports = ?bound.settings.transports,
            addr = %bound.addr,
            "listening"
        );
        socket_servers.extend(service.socket_io);
        websockets.extend(service.websocket);
        let server = http_server::serve(
            bound.listener,
            service.router,
            app.settings.http.header_read_timeout(),
            stopped.clone(),
        );
        servers.spawn(async move {
            server.await;
            Ok(())
        });
    }

    let mut first_error = None;
    tokio::select! {
        () = shutdown => tracing::info!("shutting down"),
        Some(result) = servers.join_next() => {
            // A server ended on its own: that is a failure, even if it says Ok.
            first_error = Some(match result {
                Ok(Ok(())) => anyhow::anyhow!("a listener stopped unexpectedly"),
                Ok(Err(err)) => err,
                Err(join) => anyhow::Error::new(join).context("a listener panicked"),
            });
        }
    }
    let _ = stop.send(true);
    // Long-lived Socket.IO and WebSocket connections would hold the servers up until the
    // grace period ends; closing them lets each session give back its presence first.
    for io in socket_servers {
        io.close().await;
    }
    for websocket in websockets {
        websocket.close(GRACE).await;
    }
    let _ = sweeper.await;
    let _ = hub.await;

    let drained = tokio::time::timeout(GRACE, async {
        while let Some(result) = servers.join_next().await {
            if let Ok(Err(err)) = result {
                tracing::warn!("{err:#}");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(grace = ?GRACE, "connections still open after the grace period; closing them");
        servers.shutdown().await;
    }
    first_error.map_or(Ok(()), Err)
}

/// A server running in the background (tests, embedding): its addresses and a way to stop it.
pub struct RunningServer {
    addrs: Vec<(String, SocketAddr)>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// The bound address of the listener named `listener`.
    ///
    /// # Panics
    /// When no listener has that name: a mistake in the caller's settings.
    pub fn addr(&self, listener: &str) -> SocketAddr {
        self.addrs
            .iter()
            .find(|(name, _)| name == listener)
            .map(|(_, addr)| *addr)
            .unwrap_or_else(|| panic!("no listener named {listener:?}"))
    }

    /// Stops every listener and waits for them, logging a failure.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("server stopped with an error: {e:#}"),
            Err(e) => tracing::warn!("server task failed: {e}"),
        }
    }
}

/// Builds the app from `settings`, binds every listener (port 0 picks a free port) and
/// serves in the background until `RunningServer::stop`.
///
/// # Errors
/// When the app cannot be built or a listener cannot be bound or served.
pub async fn start(settings: Settings) -> anyhow::Result<RunningServer> {
    let app = build(&settings).await?;
    let bound = bind(&settings.listeners).await?;
    let addrs = bound.iter().map(|b| (b.name.clone(), b.addr)).collect();
    let prepared = prepare(&app, bound)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        serve_prepared(&app, prepared, async {
            let _ = stopped.await;
        })
        .await
    });
    Ok(RunningServer { addrs, stop, task })
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM (what container runtimes send).
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(err) => {
                tracing::error!("cannot listen for SIGTERM: {err}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::config::StoreKind;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// A listener of the first registered dialect, over REST.
    fn listener(name: &str, bind: &str) -> ListenerSettings {
        let dialect = crate::adapters::inbound::dialects::names()[0];
        ListenerSettings {
            name: name.into(),
            ..ListenerSettings::new(dialect, bind, &[crate::bootstrap::config::Transport::Rest])
        }
    }

    async fn get_health(addr: SocketAddr) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn every_listener_serves_health_until_shutdown() {
        let tmp = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        settings.store.kind = StoreKind::Memory;
        settings.blobs.dir = tmp.path().to_path_buf();
        settings.listeners = vec![listener("a", "127.0.0.1:0"), listener("b", "127.0.0.1:0")];
        let app = build(&settings).await.unwrap();
        let bound = bind(&settings.listeners).await.unwrap();
        let addrs: Vec<SocketAddr> = bound.iter().map(|b| b.addr).collect();
        assert_ne!(addrs[0], addrs[1]);

        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            run(&app, bound, async {
                let _ = stopped.await;
            })
            .await
        });
        for addr in &addrs {
            let response = get_health(*addr).await;
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
            assert!(response.contains(r#""status":"ok""#), "{response}");
        }
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        for addr in addrs {
            assert!(TcpStream::connect(addr).await.is_err());
        }
    }

    #[tokio::test]
    async fn a_taken_port_fails_binding_with_the_listener_name() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let err = bind(&[listener("busy", &addr)]).await.err().unwrap();
        assert!(format!("{err:#}").contains("\"busy\""), "{err:#}");
    }
}
