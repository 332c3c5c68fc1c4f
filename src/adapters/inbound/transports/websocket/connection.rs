//! One raw WebSocket connection: the `hello`, the session, then each request in arrival
//! order; a writer task sends what the outbox holds and pings; the connection closes when
//! the client goes, stays silent past the idle timeout, stops reading (cut off), is refused,
//! or the server shuts down.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::outbox::{Next, Outbox};
use super::{Shared, frames};
use crate::adapters::inbound::auth::Credentials;
use crate::adapters::inbound::protocol::{ErrorCode, Handshake, WireError};
use crate::adapters::inbound::session::{Answer, Session};

type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Close codes (RFC 6455 §7.4.1).
const NORMAL: u16 = 1000;
const GOING_AWAY: u16 = 1001;
const POLICY: u16 = 1008;
const TOO_BIG: u16 = 1009;

/// How long a close frame may take to go out to a client that is being cut off.
const CLOSE_PATIENCE: Duration = Duration::from_secs(1);

pub(super) async fn run(
    shared: &Shared,
    socket: Socket,
    headers: axum::http::HeaderMap,
    query: Vec<(String, String)>,
) {
    let ctx = shared.ctx.clone();
    let (write, mut read) = socket.split();
    let outbox = Arc::new(Outbox::holding(ctx.limits.outbound_buffer_bytes));
    let mut writer = tokio::spawn(write_loop(
        write,
        outbox.clone(),
        shared.keepalive.ping_interval,
        ctx.limits.slow_reader_timeout,
    ));
    let mut closing = shared.closing.clone();
    let mut writer_done = false;

    let hello =
        match tokio::time::timeout(shared.keepalive.hello_timeout, next_text(&mut read)).await {
            Ok(Some(Ok(text))) => frames::parse_hello(&text),
            Ok(Some(Err(refusal))) if refusal.code() == ErrorCode::TooLarge => {
                tracing::info!(listener = %ctx.name, "hello too large: connection closed");
                outbox.close(TOO_BIG, "frame too large");
                let _ = tokio::time::timeout(CLOSE_PATIENCE, writer).await;
                return;
            }
            Ok(Some(Err(refusal))) => Err(refusal),
            Ok(None) => {
                outbox.end("closed before hello".into());
                return;
            }
            Err(_) => Err(WireError::coded(
                ErrorCode::BadFrame,
                "no hello: send {\"type\":\"hello\",\"data\":{\"token\":…}} first",
            )),
        };
    let hello = match hello {
        Ok(hello) => hello,
        Err(error) => {
            refuse(&outbox, &error, &mut writer).await;
            return;
        }
    };
    let credentials = Credentials::from_handshake(&hello, &headers, &query, &ctx.cookie_origins);
    drop(headers);
    let handshake = Handshake {
        auth: &hello,
        query: &query,
    };
    let opened = Box::pin(Session::open(
        ctx.clone(),
        &credentials,
        &handshake,
        outbox.clone(),
    ))
    .await;
    let mut session = match opened {
        Ok((session, greeting)) => {
            for emit in greeting {
                outbox.push(frames::event_value(emit.event, &emit.payload));
            }
            // Live events that came during the greeting go out now, after it.
            outbox.release();
            session
        }
        Err(refusal) => {
            tracing::info!(listener = %ctx.name, reason = %refusal.error, "connection refused");
            for emit in refusal.sent {
                outbox.push(frames::event_value(emit.event, &emit.payload));
            }
            refuse(&outbox, &refusal.error, &mut writer).await;
            return;
        }
    };
    drop(hello);
    drop(query);

    loop {
        let message = tokio::select! {
            message = tokio::time::timeout(shared.keepalive.idle_timeout, read.next()) => message,
            _ = &mut writer => {
                writer_done = true;
                break;
            }
            _ = closing.wait_for(|closing| *closing) => {
                outbox.close(GOING_AWAY, "the server is shutting down");
                break;
            }
        };
        let text = match message {
            Err(_) => {
                tracing::debug!(listener = %ctx.name, "idle connection closed");
                outbox.close(POLICY, "no frame or pong within the idle timeout");
                break;
            }
            Ok(None | Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(Message::Binary(_)))) => {
                let error = WireError::coded(ErrorCode::BadFrame, "frames are JSON text");
                outbox.push(frames::refused(&Value::Null, &error));
                continue;
            }
            // Pings are answered by tungstenite; any frame keeps the connection alive.
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(WsError::Capacity(e)))) => {
                tracing::info!(listener = %ctx.name, error = %e, "frame too large: connection closed");
                outbox.close(TOO_BIG, "frame too large");
                break;
            }
            Ok(Some(Err(e))) => {
                tracing::debug!(listener = %ctx.name, error = %e, "websocket read failed");
                break;
            }
        };
        let request = match frames::parse(&text) {
            Ok(request) => request,
            Err(bad) => {
                outbox.push(frames::refused(&bad.id, &bad.error));
                continue;
            }
        };
        drop(text);
        // A client that does not read what it was sent gets no more answers: its requests
        // wait, unread, in its socket, until it reads or is cut off.
        if !outbox.settled().await {
            break;
        }
        let answer = Box::pin(session.handle(&request.kind, &request.data, true)).await;
        if send(&outbox, &request.id, answer) {
            tracing::info!(listener = %ctx.name, "connection refused");
            outbox.close(POLICY, "refused");
            break;
        }
    }
    Box::pin(session.close()).await;
    outbox.close(NORMAL, "");
    if !writer_done {
        let _ = tokio::time::timeout(CLOSE_PATIENCE, writer).await;
    }
}

/// The next text frame of the hello phase; a frame of another kind is refused.
async fn next_text(read: &mut SplitStream<Socket>) -> Option<Result<String, WireError>> {
    loop {
        return match read.next().await? {
            Ok(Message::Text(text)) => Some(Ok(text.as_str().to_owned())),
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
            Err(WsError::Capacity(_)) => Some(Err(WireError::coded(
                ErrorCode::TooLarge,
                "frame too large",
            ))),
            Ok(Message::Close(_)) | Err(_) => None,
            Ok(Message::Binary(_)) => Some(Err(WireError::coded(
                ErrorCode::BadFrame,
                "frames are JSON text",
            ))),
        };
    }
}

/// Sends the error event, then closes the connection.
async fn refuse(outbox: &Outbox, error: &WireError, writer: &mut JoinHandle<()>) {
    outbox.push(frames::error_event(error));
    outbox.close(POLICY, close_reason(error));
    let _ = tokio::time::timeout(CLOSE_PATIENCE, writer).await;
}

/// A close reason fits in 123 bytes.
fn close_reason(error: &WireError) -> &'static str {
    match error.code() {
        ErrorCode::Unauthenticated => "unauthenticated",
        ErrorCode::BadFrame => "bad hello",
        _ => "refused",
    }
}

/// Queues what the session answered a request: its events, then the answer. Returns
/// whether the connection is to be closed.
fn send(outbox: &Outbox, id: &Value, answer: Answer) -> bool {
    // Every native request has an id, so a refusal is in the answer, never an event.
    for emit in answer.emits {
        outbox.push(frames::event_value(emit.event, &emit.payload));
    }
    match (&answer.refused, &answer.ack) {
        (Some(error), _) => outbox.push(frames::refused(id, error)),
        (None, Some(data)) => outbox.push(frames::ok(id, data)),
        (None, None) => outbox.push(frames::ok(id, &Value::Null)),
    }
    answer.close
}

/// Writes what the outbox holds, batching what is ready into one flush, and pings. A frame
/// the client does not take within `stall` cuts the connection off.
async fn write_loop(
    mut sink: SplitSink<Socket, Message>,
    outbox: Arc<Outbox>,
    ping_interval: Duration,
    stall: Duration,
) {
    let mut ping =
        tokio::time::interval_at(tokio::time::Instant::now() + ping_interval, ping_interval);
    loop {
        let next = tokio::select! {
            next = outbox.next() => next,
            _ = ping.tick() => {
                let ping = sink.send(Message::Ping(Default::default()));
                if !within(stall, &outbox, ping).await {
                    return;
                }
                continue;
            }
        };
        match next {
            Next::Frame(frame) => {
                let batch = async {
                    sink.feed(Message::text(frame)).await?;
                    while let Some(frame) = outbox.try_next() {
                        sink.feed(Message::text(frame)).await?;
                    }
                    sink.flush().await
                };
                if !within(stall, &outbox, batch).await {
                    return;
                }
            }
            Next::Close(close) => {
                send_close(&mut sink, close.code, close.reason).await;
                outbox.end("closed".into());
                return;
            }
            Next::CutOff => return send_close(&mut sink, POLICY, "slow reader".into()).await,
            Next::Gone => return,
        }
    }
}

/// Runs a write; `false` (and the connection ended) when it failed, or when the client did
/// not take it within `stall` (cut off as a slow reader).
async fn within(
    stall: Duration,
    outbox: &Outbox,
    write: impl Future<Output = Result<(), WsError>>,
) -> bool {
    match tokio::time::timeout(stall, write).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            outbox.end(format!("write failed: {e}"));
            false
        }
        Err(_) => {
            outbox.cut_off(format!("nothing read for {stall:?}"));
            false
        }
    }
}

/// A close frame, if the client takes it soon.
async fn send_close(sink: &mut SplitSink<Socket, Message>, code: u16, reason: String) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    let close = sink.send(Message::Close(Some(frame)));
    let _ = tokio::time::timeout(CLOSE_PATIENCE, close).await;
}
