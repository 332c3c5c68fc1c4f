//! The Socket.IO v4 transport (socketioxide), WebSocket and HTTP long-polling, on the
//! default path `/socket.io/` and namespace `/`: what the families' clients connect to
//! unchanged. It only moves frames: every connection is a [`Session`], fed in arrival order,
//! and sends back what the session answers.
//!
//! A refused connection completes the Socket.IO connect, then gets `error { message }` and a
//! server-side disconnect, as the Node servers did it (not a middleware `connect_error`).

mod inbox;
mod sink;

use std::convert::Infallible;
use std::sync::Arc;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::{AckSender, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::socket::Socket;
use tokio::sync::mpsc;

use crate::adapters::inbound::auth::{Credentials, parse_query};
use crate::adapters::inbound::protocol::Handshake;
use crate::adapters::inbound::session::{Answer, ListenerContext, Session};
use inbox::{Inbound, Inbox};
use sink::SocketSink;

/// Events a connection may have waiting; beyond that the client is told to slow down.
const INBOX_CAPACITY: usize = 64;

/// The Socket.IO layer of one listener. `max_frame_bytes` is the largest event payload
/// the sessions accept with a clear error; the transport cuts off only frames far beyond it.
pub fn layer(ctx: Arc<ListenerContext>) -> (SocketIoLayer, SocketIo) {
    let hard_limit = ctx.limits.max_frame_bytes.saturating_mul(4).max(64 * 1024);
    let (layer, io) = SocketIo::builder()
        // Room for bursts (a busy room, pending notifications on connect): a full buffer
        // drops events, and the buffer costs memory only while it holds them.
        .max_buffer_size(1024)
        .max_payload(hard_limit as u64)
        .ws_max_message_size(hard_limit)
        .ws_max_frame_size(hard_limit)
        .build_layer();
    let connect = move |socket: SocketRef, TryData(auth): TryData<Value>| {
        let ctx = ctx.clone();
        async move { run_connection(ctx, socket, auth.unwrap_or(Value::Null)).await }
    };
    // Runs before the client learns it is connected, so that events it sends right away
    // (socket.io-client flushes its buffer on connect) already find the inbox.
    let prepare = |socket: SocketRef| async move {
        prepare_connection(&socket);
        Ok::<(), Infallible>(())
    };
    io.ns("/", connect.with(prepare));
    (layer, io)
}

fn prepare_connection(socket: &SocketRef) {
    let (tx, rx) = mpsc::channel(INBOX_CAPACITY);
    socket.extensions.insert(Inbox::new(tx));
    socket.extensions.insert(inbox::Receiver::new(rx));
    socket.on_fallback(async |_: Inbound| {});
    socket.on_disconnect(async |socket: SocketRef| {
        // Dropping the sender ends the session loop once queued events are handled.
        socket.extensions.remove::<Inbox>();
    });
}

async fn run_connection(ctx: Arc<ListenerContext>, socket: SocketRef, auth: Value) {
    let Some(mut events) = socket
        .extensions
        .remove::<inbox::Receiver>()
        .and_then(|r| r.take())
    else {
        return;
    };
    let parts = socket.req_parts();
    let query = parse_query(parts.uri.query());
    let credentials =
        Credentials::from_handshake(&auth, &parts.headers, &query, &ctx.cookie_origins);
    let handshake = Handshake {
        auth: &auth,
        query: &query,
    };
    let sink = Arc::new(SocketSink::new(socket.clone()));
    let (mut session, greeting) =
        match Session::open(ctx.clone(), &credentials, &handshake, sink).await {
            Ok(opened) => opened,
            Err(refusal) => {
                tracing::info!(listener = %ctx.name, reason = %refusal.error, "connection refused");
                for emit in refusal.events() {
                    let _ = socket.emit(emit.event, &emit.payload);
                }
                let _ = socket.disconnect();
                return;
            }
        };
    for emit in greeting {
        let _ = socket.emit(emit.event, &emit.payload);
    }
    while let Some(event) = events.recv().await {
        let answer = session
            .handle(&event.event, &event.args, event.wants_ack)
            .await;
        if send(&socket, event.ack, answer) {
            tracing::info!(listener = %ctx.name, "connection refused");
            let _ = socket.clone().disconnect();
            break;
        }
    }
    session.close().await;
}

/// Sends what the session answered an event: its events, then the ack. Returns whether the
/// connection is to be closed.
fn send(socket: &Socket<LocalAdapter>, ack: AckSender, answer: Answer) -> bool {
    for emit in answer.emits {
        let _ = socket.emit(emit.event, &emit.payload);
    }
    if let Some(value) = answer.ack {
        let _ = ack.send(&value);
    }
    answer.close
}
