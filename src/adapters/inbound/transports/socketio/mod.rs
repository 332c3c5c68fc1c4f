//! The Socket.IO v4 transport (socketioxide), WebSocket and HTTP long-polling, on the
//! default path `/socket.io/` and namespace `/`: what the families' clients connect to
//! unchanged. It only moves frames: every connection is a [`Session`], fed in arrival order,
//! and sends back what the session answers.
//!
//! A refused connection completes the Socket.IO connect, then gets `error { message }` and a
//! server-side disconnect, as the Node servers did it (not a middleware `connect_error`).

mod inbox;
mod outbox;
mod request_head;
mod sink;

use std::convert::Infallible;
use std::sync::Arc;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use tokio::sync::mpsc;

use crate::adapters::inbound::auth::{Credentials, parse_query};
use crate::adapters::inbound::protocol::Handshake;
use crate::adapters::inbound::session::{Answer, ListenerContext, Session};
use inbox::{Inbound, Inbox};
use outbox::{Outbox, OutboxLimits};
pub use request_head::detach_request_head;
use sink::SocketSink;

/// Events a connection may have waiting; beyond that the client is told to slow down.
const INBOX_CAPACITY: usize = 64;

/// What a WebSocket connection reads into at a time (tungstenite's buffer, allocated when the
/// connection opens and kept while it lives). socketioxide's 4 KiB default was an eighth of
/// an idle connection's memory; a chat event fits in 1 KiB, and a larger frame is still read
/// whole, in more reads.
const WS_READ_BUFFER_BYTES: usize = 1024;

/// Room for a Socket.IO packet's framing (type, event name, ack id) around a payload of
/// `max_frame_bytes`.
const FRAMING_BYTES: usize = 1024;

/// The Socket.IO layer of one listener. A frame larger than `max_frame_bytes` (and its
/// framing) is refused by the transport before it is parsed, which closes the connection,
/// as socket.io's own `maxHttpBufferSize` does.
pub fn layer(ctx: Arc<ListenerContext>) -> (SocketIoLayer, SocketIo) {
    let frame_limit = ctx.limits.max_frame_bytes.saturating_add(FRAMING_BYTES);
    let (layer, io) = SocketIo::builder()
        // What waits beyond this for a client that does not read is the outbox's, counted
        // in bytes (see `outbox`).
        .max_buffer_size(outbox::TRANSPORT_BUFFER)
        .max_payload(frame_limit as u64)
        .ws_max_message_size(frame_limit)
        .ws_max_frame_size(frame_limit)
        .ws_read_buffer_size(WS_READ_BUFFER_BYTES)
        .build_layer();
    let limits = OutboxLimits {
        max_bytes: ctx.limits.outbound_buffer_bytes,
        stall_timeout: ctx.limits.slow_reader_timeout,
    };
    let connect = move |socket: SocketRef, TryData(auth): TryData<Value>| {
        let ctx = ctx.clone();
        async move { run_connection(ctx, socket, auth.unwrap_or(Value::Null)).await }
    };
    // Runs before the client learns it is connected, so that events it sends right away
    // (socket.io-client flushes its buffer on connect) already find the inbox.
    let prepare = move |socket: SocketRef| async move {
        prepare_connection(&socket, limits);
        Ok::<(), Infallible>(())
    };
    io.ns("/", connect.with(prepare));
    (layer, io)
}

fn prepare_connection(socket: &SocketRef, limits: OutboxLimits) {
    let (tx, rx) = mpsc::channel(INBOX_CAPACITY);
    socket
        .extensions
        .insert(Outbox::new(socket.clone(), limits));
    socket.extensions.insert(Inbox::new(tx));
    socket.extensions.insert(inbox::Receiver::new(rx));
    socket.on_fallback(async |_: Inbound| {});
    socket.on_disconnect(async |socket: SocketRef| {
        // Dropping the sender ends the session loop once queued events are handled.
        socket.extensions.remove::<Inbox>();
    });
}

async fn run_connection(ctx: Arc<ListenerContext>, socket: SocketRef, auth: Value) {
    let (Some(mut events), Some(outbox)) = (
        socket
            .extensions
            .remove::<inbox::Receiver>()
            .and_then(|r| r.take()),
        socket.extensions.get::<Arc<Outbox>>(),
    ) else {
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
    let sink = Arc::new(SocketSink::new(outbox.clone()));
    // The session's futures are boxed while they run: an idle connection's task then holds
    // only this loop's small state, not room for the largest request's state machine
    // (memory per idle connection).
    let (mut session, greeting) =
        match Box::pin(Session::open(ctx.clone(), &credentials, &handshake, sink)).await {
            Ok(opened) => opened,
            Err(refusal) => {
                tracing::info!(listener = %ctx.name, reason = %refusal.error, "connection refused");
                for emit in refusal.events() {
                    outbox.send_value(emit.event, &emit.payload);
                }
                // The error first, then the disconnect.
                if outbox.settled().await {
                    let _ = socket.disconnect();
                }
                return;
            }
        };
    for emit in greeting {
        outbox.send_value(emit.event, &emit.payload);
    }
    while let Some(event) = events.recv().await {
        // A client that does not read what it was sent gets no more answers: its requests
        // wait here, and its inbox fills (see `inbox`), until it reads or is cut off.
        if !outbox.settled().await {
            break;
        }
        let answer = Box::pin(session.handle(&event.event, &event.args, event.wants_ack)).await;
        if send(&outbox, event.ack, answer) {
            tracing::info!(listener = %ctx.name, "connection refused");
            if outbox.settled().await {
                let _ = socket.clone().disconnect();
            }
            break;
        }
    }
    Box::pin(session.close()).await;
}

/// Sends what the session answered an event: its events, then the ack. Returns whether the
/// connection is to be closed.
fn send(outbox: &Arc<Outbox>, ack: AckSender, answer: Answer) -> bool {
    for emit in answer.emits {
        outbox.send_value(emit.event, &emit.payload);
    }
    if let Some(value) = answer.ack {
        outbox.acknowledge(ack, &value);
    }
    answer.close
}
