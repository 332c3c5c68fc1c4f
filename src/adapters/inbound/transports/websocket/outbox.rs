//! What a raw WebSocket connection is sent, in order, within a byte budget.
//!
//! Frames wait here until the connection's writer hands them to the socket. A client that
//! stops reading is cut off: when what waits outgrows `outbound_buffer_bytes`, or when one
//! frame cannot be written for `slow_reader_timeout` (the writer's policy). Then everything
//! waiting is dropped, the session ends and the socket is closed.
//!
//! Live events (from the hub) can be *held* while a connection is being greeted: a resumed
//! connection first gets the messages it missed, then what arrived meanwhile. The messages
//! the greeting sent are remembered (per conversation, up to which seq), and live copies of
//! them are skipped, then and later: each message reaches the connection once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::value::RawValue;
use tokio::sync::Notify;

use super::frames;
use crate::adapters::inbound::hub::ConnectionSink;
use crate::adapters::inbound::protocol::Position;
use crate::domain::{ConversationId, Seq};

pub(super) struct Outbox {
    max_bytes: usize,
    state: Mutex<State>,
    /// Woken when a frame is queued or the connection is cut off (the writer waits on it).
    queued: Notify,
    /// Woken when the queue empties or the connection is cut off.
    settled: Notify,
}

#[derive(Default)]
struct State {
    frames: VecDeque<String>,
    /// Live events held back while the connection is greeted, with their positions.
    held: Option<Vec<(String, Option<Position>)>>,
    /// Bytes of `frames` and `held`.
    bytes: usize,
    /// Per conversation, the seq up to which the greeting sent the messages.
    sent_up_to: HashMap<ConversationId, Seq>,
    cut_off: Option<String>,
    /// The connection ended without a slow reader (it is gone, or closed already): nothing
    /// more to say to it.
    gone: bool,
    /// Set when the connection is to be closed once what is queued went out.
    close: Option<Close>,
}

/// A close frame's code and reason (RFC 6455 §7.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Close {
    pub code: u16,
    pub reason: String,
}

/// What the writer does next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    Frame(String),
    /// Everything queued went out: close the connection.
    Close(Close),
    /// The connection was cut off as a slow reader: close it, nothing more is sent.
    CutOff,
    /// The connection is gone or closed: stop.
    Gone,
}

impl State {
    /// Cuts a slow reader off (logged once).
    fn cut_off(&mut self, why: String) {
        if self.cut_off.is_none() {
            tracing::info!(why, "slow reader: connection closed");
        }
        self.stop(why);
    }

    /// Drops everything waiting; nothing more is queued.
    fn stop(&mut self, why: String) {
        if self.cut_off.is_none() {
            self.frames.clear();
            self.held = None;
            self.bytes = 0;
            self.cut_off = Some(why);
        }
    }

    fn already_sent(&self, position: Option<&Position>) -> bool {
        position.is_some_and(|(conversation, seq)| {
            self.sent_up_to
                .get(conversation)
                .is_some_and(|up_to| seq <= up_to)
        })
    }
}

impl Outbox {
    /// An outbox that holds live events until `release`.
    pub fn holding(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            state: Mutex::new(State {
                held: Some(Vec::new()),
                ..State::default()
            }),
            queued: Notify::new(),
            settled: Notify::new(),
        }
    }

    /// Queues a frame for the writer.
    pub fn push(&self, frame: String) {
        let mut state = self.lock();
        if state.cut_off.is_some() || state.close.is_some() {
            return;
        }
        state.bytes += frame.len();
        state.frames.push_back(frame);
        self.check_budget(&mut state);
        drop(state);
        self.queued.notify_one();
    }

    /// Sends the held live events (except the messages the greeting already sent) and stops
    /// holding.
    pub fn release(&self) {
        let mut state = self.lock();
        let Some(held) = state.held.take() else {
            return;
        };
        for (frame, position) in held {
            if state.already_sent(position.as_ref()) {
                state.bytes -= frame.len();
            } else {
                state.frames.push_back(frame);
            }
        }
        drop(state);
        self.queued.notify_one();
    }

    /// What the writer does next, once there is something.
    pub async fn next(&self) -> Next {
        loop {
            let queued = self.queued.notified();
            {
                let mut state = self.lock();
                if state.gone {
                    return Next::Gone;
                }
                if state.cut_off.is_some() {
                    return Next::CutOff;
                }
                if let Some(frame) = self.pop(&mut state) {
                    return Next::Frame(frame);
                }
                if let Some(close) = state.close.take() {
                    return Next::Close(close);
                }
            }
            queued.await;
        }
    }

    /// The next queued frame if there is one now (the writer batches what is ready).
    pub fn try_next(&self) -> Option<String> {
        let mut state = self.lock();
        if state.cut_off.is_some() {
            return None;
        }
        self.pop(&mut state)
    }

    fn pop(&self, state: &mut State) -> Option<String> {
        let frame = state.frames.pop_front()?;
        state.bytes -= frame.len();
        if state.frames.is_empty() {
            self.settled.notify_waiters();
        }
        Some(frame)
    }

    /// Closes the connection once what is queued went out; nothing queued after is sent.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        let mut state = self.lock();
        if state.close.is_none() {
            state.close = Some(Close {
                code,
                reason: reason.into(),
            });
        }
        drop(state);
        self.queued.notify_one();
    }

    /// Waits until every queued frame went to the writer. `false` when the connection was
    /// cut off meanwhile (or before).
    pub async fn settled(&self) -> bool {
        loop {
            let settled = self.settled.notified();
            {
                let state = self.lock();
                if state.cut_off.is_some() {
                    return false;
                }
                if state.frames.is_empty() {
                    return true;
                }
            }
            settled.await;
        }
    }

    /// Drops everything waiting and ends the connection (the writer and the session stop).
    pub fn cut_off(&self, why: String) {
        self.stop(why, false);
    }

    /// Ends the connection without a word (it is gone already, or closed).
    pub fn end(&self, why: String) {
        self.stop(why, true);
    }

    fn stop(&self, why: String, gone: bool) {
        let mut state = self.lock();
        state.gone |= gone;
        if gone {
            state.stop(why);
        } else {
            state.cut_off(why);
        }
        drop(state);
        self.queued.notify_one();
        self.settled.notify_waiters();
    }

    #[cfg(test)]
    pub fn is_cut_off(&self) -> bool {
        self.lock().cut_off.is_some()
    }

    fn check_budget(&self, state: &mut MutexGuard<'_, State>) {
        if state.bytes > self.max_bytes && state.cut_off.is_none() {
            let why = format!(
                "{} bytes waiting, the limit is {}",
                state.bytes, self.max_bytes
            );
            state.cut_off(why);
            self.settled.notify_waiters();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere mid-update of plain queues.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl ConnectionSink for Outbox {
    fn send(&self, event: &str, payload: &RawValue) {
        self.push(frames::event(event, payload));
    }

    fn deliver(&self, event: &str, payload: &RawValue, position: Option<&Position>) {
        let mut state = self.lock();
        if state.cut_off.is_some() || state.already_sent(position) {
            return;
        }
        let frame = frames::event(event, payload);
        state.bytes += frame.len();
        match &mut state.held {
            Some(held) => held.push((frame, position.cloned())),
            None => state.frames.push_back(frame),
        }
        self.check_budget(&mut state);
        drop(state);
        self.queued.notify_one();
    }

    fn sent_up_to(&self, position: &Position) {
        let (conversation, seq) = position;
        let mut state = self.lock();
        let entry = state.sent_up_to.entry(conversation.clone()).or_default();
        *entry = (*entry).max(*seq);
    }

    async fn settled(&self) -> bool {
        Outbox::settled(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    fn at(conversation: &str, seq: u64) -> Position {
        (ConversationId::parse(conversation).unwrap(), Seq(seq))
    }

    fn drain(outbox: &Outbox) -> Vec<String> {
        std::iter::from_fn(|| outbox.try_next()).collect()
    }

    #[test]
    fn held_events_follow_the_greeting_without_what_it_sent() {
        let outbox = Outbox::holding(1 << 20);
        outbox.deliver("message.new", &raw("5"), Some(&at("c", 5)));
        outbox.deliver("message.new", &raw("6"), Some(&at("c", 6)));
        outbox.deliver("typing", &raw("{}"), None);
        outbox.sent_up_to(&at("c", 5));
        outbox.send("welcome", &raw("{}"));
        assert_eq!(drain(&outbox), [r#"{"type":"welcome","data":{}}"#]);
        outbox.release();
        assert_eq!(
            drain(&outbox),
            [
                r#"{"type":"message.new","data":6}"#,
                r#"{"type":"typing","data":{}}"#
            ]
        );
        // A live copy that comes late is skipped as well; later messages pass.
        outbox.deliver("message.new", &raw("4"), Some(&at("c", 4)));
        outbox.deliver("message.new", &raw("7"), Some(&at("c", 7)));
        outbox.deliver("message.new", &raw("1"), Some(&at("d", 1)));
        assert_eq!(
            drain(&outbox),
            [
                r#"{"type":"message.new","data":7}"#,
                r#"{"type":"message.new","data":1}"#
            ]
        );
    }

    #[tokio::test]
    async fn outgrowing_the_budget_cuts_the_connection_off() {
        let outbox = Outbox::holding(100);
        outbox.release();
        outbox.push("x".repeat(60));
        assert!(!outbox.is_cut_off());
        outbox.push("y".repeat(60));
        assert!(outbox.is_cut_off());
        assert!(!outbox.settled().await);
        assert_eq!(outbox.next().await, Next::CutOff);
    }

    #[tokio::test]
    async fn held_events_count_against_the_budget() {
        let outbox = Outbox::holding(100);
        for _ in 0..10 {
            outbox.deliver("e", &raw(&"1".repeat(20)), None);
        }
        assert!(outbox.is_cut_off());
    }

    #[tokio::test]
    async fn settled_once_the_writer_took_everything() {
        let outbox = Outbox::holding(1 << 20);
        outbox.release();
        outbox.push("a".into());
        outbox.push("b".into());
        outbox.close(1000, "bye");
        assert_eq!(outbox.next().await, Next::Frame("a".into()));
        assert_eq!(outbox.try_next(), Some("b".into()));
        assert!(outbox.settled().await);
        assert_eq!(
            outbox.next().await,
            Next::Close(Close {
                code: 1000,
                reason: "bye".into()
            })
        );
    }
}
