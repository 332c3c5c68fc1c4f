//! The HTTP/1.1 server loop of one listener: axum's `serve`, plus what it does not offer.
//! - A header-read timeout: a client must send a request's headers within
//!   `http.header_read_timeout_secs`, or its connection is closed, so slow-drip clients
//!   (slowloris) cannot hold connections forever. Upgraded connections (WebSockets) are past
//!   their headers and unaffected.
//! - `TCP_NODELAY` on every connection, as Node's http server sets it.
//! - The peer address on every request (`ConnectInfo<SocketAddr>`), for the per-address
//!   rate limit.
//!
//! On `stopped`, it stops accepting and asks every open connection to finish its request in
//! flight and close; the caller bounds how long that may take.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// After a failed accept (usually out of file descriptors), wait this long before the next,
/// rather than spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` until `stopped` turns true, then waits for the open
/// connections to close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let mut stop = stopped.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Small frames (a chat event, an ack) go out at once: with Nagle's
                    // algorithm on, each waits for the previous one's ACK (tens of ms).
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(error = %e, "TCP_NODELAY not set");
                    }
                    connections.spawn(serve_connection(
                        stream,
                        peer,
                        router.clone(),
                        header_read_timeout,
                        stopped.clone(),
                    ));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            // Finished connections are reaped as they go, so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = stopping(&mut stop) => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Serves one connection; on `stopped`, lets its request in flight finish, then closes it.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    header_read_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let with_peer = router.map_request(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(with_peer))
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            return;
        }
        () = stopping(&mut stopped) => conn.as_mut().graceful_shutdown(),
    }
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, %peer, "connection ended with an error");
    }
}

/// Resolves once `stopped` is true (or its sender is gone, which means stop too).
async fn stopping(stopped: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, before anything else awaits.
    let _ = stopped.wait_for(|stop| *stop).await;
}
