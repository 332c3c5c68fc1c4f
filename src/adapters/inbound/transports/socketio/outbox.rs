//! What a connection is sent, and the policy for a client that does not read it.
//!
//! socketioxide queues a connection's packets in a buffer of `TRANSPORT_BUFFER` packets and
//! refuses more when it is full. Whatever then arrives for the connection waits here, in
//! order, within `outbound_buffer_bytes`; a drain task hands it on as the client reads. A
//! connection is closed (cut off) when that backlog outgrows its byte budget or when the
//! client has read nothing for `slow_reader_timeout`: a client that stops reading costs at
//! most its budget, never the server's memory.
//!
//! The answers to a request follow the same order. The connection's session waits for the
//! backlog to empty before it handles the next request (so a client that does not read
//! cannot have more requests answered), and an acknowledgement that still cannot be queued
//! closes the connection: every request gets its answer or the connection ends, never a
//! silent drop.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use serde_json::value::RawValue;
use socketioxide::SendError;
use socketioxide::extract::{AckSender, SocketRef};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::inbox::Inbox;

/// socketioxide's own buffer, in packets: enough for bursts, small enough that what it holds
/// for a client that does not read stays a small part of the connection's budget.
pub(super) const TRANSPORT_BUFFER: usize = 128;

/// How often a backlog is offered to the transport again: from `FIRST_RETRY`, doubling up to
/// `LAST_RETRY` while the client reads nothing.
const FIRST_RETRY: Duration = Duration::from_millis(2);
const LAST_RETRY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy)]
pub(super) struct OutboxLimits {
    pub max_bytes: usize,
    pub stall_timeout: Duration,
}

pub(super) struct Outbox {
    socket: SocketRef,
    limits: OutboxLimits,
    backlog: Mutex<Backlog>,
    /// Woken whenever the backlog empties or the connection is cut off.
    settled: Notify,
}

#[derive(Default)]
struct Backlog {
    events: VecDeque<(String, Box<RawValue>)>,
    bytes: usize,
    draining: bool,
    cut_off: bool,
}

impl Outbox {
    pub fn new(socket: SocketRef, limits: OutboxLimits) -> Arc<Self> {
        Arc::new(Self {
            socket,
            limits,
            backlog: Mutex::new(Backlog::default()),
            settled: Notify::new(),
        })
    }

    /// Sends an event now, or queues it behind the ones waiting.
    pub fn send(self: &Arc<Self>, event: &str, payload: &RawValue) {
        let mut backlog = self.lock();
        if backlog.cut_off {
            return;
        }
        if backlog.events.is_empty() {
            match self.socket.emit(event, payload) {
                Ok(()) => return,
                Err(SendError::Socket(socketioxide::SocketError::InternalChannelFull)) => {}
                Err(e) => {
                    // Closed: the session ends soon anyway.
                    tracing::debug!(sid = %self.socket.id, error = %e, "event not sent");
                    return;
                }
            }
        }
        backlog.bytes += event.len() + payload.get().len();
        backlog
            .events
            .push_back((event.to_owned(), payload.to_owned()));
        if backlog.bytes > self.limits.max_bytes {
            let waiting = backlog.bytes;
            self.cut_off(&mut backlog, &format!("{waiting} bytes waiting"));
            return;
        }
        if !backlog.draining {
            backlog.draining = true;
            tokio::spawn(self.clone().drain());
        }
    }

    /// Sends an event given as a JSON value (answers, greetings).
    pub fn send_value(self: &Arc<Self>, event: &str, payload: &Value) {
        match serde_json::value::to_raw_value(payload) {
            Ok(raw) => self.send(event, &raw),
            Err(e) => tracing::error!(error = %e, event, "event payload not encodable"),
        }
    }

    /// Sends an acknowledgement, which cannot wait in the backlog: if the transport has no
    /// room for it, the connection is closed rather than the request left unanswered.
    pub fn acknowledge(self: &Arc<Self>, ack: AckSender, value: &Value) {
        match ack.send(value) {
            Ok(()) => {}
            Err(SendError::Socket(socketioxide::SocketError::InternalChannelFull)) => {
                let mut backlog = self.lock();
                self.cut_off(&mut backlog, "an answer could not be queued");
            }
            Err(e) => tracing::debug!(sid = %self.socket.id, error = %e, "ack not sent"),
        }
    }

    /// Waits until nothing is waiting for the transport. `false` when the connection was cut
    /// off meanwhile (or before).
    pub async fn settled(&self) -> bool {
        loop {
            let notified = self.settled.notified();
            {
                let backlog = self.lock();
                if backlog.cut_off {
                    return false;
                }
                if backlog.events.is_empty() {
                    return true;
                }
            }
            notified.await;
        }
    }

    /// Hands the backlog to the transport as the client reads it.
    async fn drain(self: Arc<Self>) {
        let mut wait = FIRST_RETRY;
        let mut progress_at = Instant::now();
        loop {
            tokio::time::sleep(wait).await;
            let mut backlog = self.lock();
            if backlog.cut_off {
                return;
            }
            let mut moved = false;
            while let Some((event, payload)) = backlog.events.front() {
                match self.socket.emit(event, payload) {
                    Ok(()) => {
                        let size = event.len() + payload.get().len();
                        backlog.bytes -= size;
                        backlog.events.pop_front();
                        moved = true;
                    }
                    Err(SendError::Socket(socketioxide::SocketError::InternalChannelFull)) => {
                        break;
                    }
                    Err(_) => {
                        // Closed: nobody will read the rest.
                        backlog.events.clear();
                        backlog.bytes = 0;
                        break;
                    }
                }
            }
            if backlog.events.is_empty() {
                backlog.draining = false;
                drop(backlog);
                self.settled.notify_waiters();
                return;
            }
            if moved {
                progress_at = Instant::now();
                wait = FIRST_RETRY;
            } else if progress_at.elapsed() >= self.limits.stall_timeout {
                let stalled = progress_at.elapsed();
                self.cut_off(&mut backlog, &format!("nothing read for {stalled:?}"));
                return;
            } else {
                wait = (wait * 2).min(LAST_RETRY);
            }
        }
    }

    /// Closes the connection of a client that does not read: its backlog is dropped, its
    /// session ends.
    fn cut_off(&self, backlog: &mut Backlog, why: &str) {
        if backlog.cut_off {
            return;
        }
        backlog.cut_off = true;
        backlog.events.clear();
        backlog.bytes = 0;
        tracing::info!(sid = %self.socket.id, why, "slow reader: connection closed");
        self.settled.notify_waiters();
        // The session ends now: without its inbox's sender, its loop runs out, and the
        // connection is let go (presence, rooms) whatever the transport still holds.
        self.socket.extensions.remove::<Inbox>();
        tokio::spawn(close_when_room(
            self.socket.clone(),
            self.limits.stall_timeout,
        ));
    }

    fn lock(&self) -> MutexGuard<'_, Backlog> {
        // A poisoned lock only means a panic elsewhere mid-update of a plain queue.
        self.backlog.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The Socket.IO disconnect packet needs room in the transport's buffer: it is sent as soon
/// as the client reads enough for it. A client that reads nothing at all is closed by the
/// engine's heartbeat instead, whose ping finds the buffer full.
async fn close_when_room(socket: SocketRef, patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        match socket.clone().disconnect() {
            Err(socketioxide::SocketError::InternalChannelFull) if Instant::now() < deadline => {
                tokio::time::sleep(LAST_RETRY).await;
            }
            Err(socketioxide::SocketError::InternalChannelFull) => {
                tracing::debug!(sid = %socket.id, "disconnect left to the heartbeat");
                return;
            }
            _ => return,
        }
    }
}
