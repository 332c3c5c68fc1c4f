//! The bookkeeping of one run's messages: which were sent when and by whom, which came back
//! to whom (lost, duplicated, unexpected), and the latencies, all from one monotonic clock
//! (`Instant`) in this process.
//!
//! Every message carries its number as the first word of its text, and asks for the ack
//! whose id is that number + 1 (ack id 0 is `join_room`'s). Latencies, in microseconds:
//! - delivery: send → `receive_message` at each other member of the room;
//! - last member: send → the moment the last other member of the room had it;
//! - echo: send → `receive_message` back at the sender (linsta broadcasts to the sender too);
//! - ack: send → the ack.
//!
//! "Send" is the instant the generator hands the frame to the connection's writer task,
//! right before it is written to the socket.

use std::borrow::Cow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::sio::{self, Handler, Packet};

/// Who is where: connection i is user `users[i]` in room `rooms[conn_room[i]]`.
pub struct Layout {
    pub users: Vec<String>,
    pub conn_room: Vec<usize>,
    pub rooms: Vec<String>,
}

pub struct Traffic {
    layout: Layout,
    /// Room ids as JSON strings, ready for frames.
    room_json: Vec<String>,
    room_size: Vec<u64>,
    padding: String,
    /// Closed loop: every ack lets its sender send the next message while this holds.
    closed_loop: AtomicBool,
    closing: AtomicBool,
    pub joined: AtomicU64,
    pub join_refused: AtomicU64,
    pub user_joined: AtomicU64,
    pub lost_connections: AtomicU64,
    state: Mutex<State>,
}

struct Sent {
    at: Instant,
    sender: usize,
    answered: bool,
    echoed: bool,
    others_got: u64,
}

#[derive(Default, Serialize, Clone, Copy, PartialEq, Debug)]
pub struct Counts {
    pub sent: u64,
    pub acked: u64,
    /// Acks with `{ error }`: the server refused the message.
    pub refused: u64,
    /// Copies received by the other members of the room.
    pub deliveries: u64,
    /// Messages that reached every other member of their room.
    pub complete: u64,
    /// Copies received back by the sender.
    pub echoes: u64,
    pub duplicates: u64,
    /// Copies that name a message, room or sender that does not fit, or cannot be read.
    pub unexpected: u64,
    pub error_events: u64,
    /// Deliveries and echoes owed for the messages not refused.
    pub expected_deliveries: u64,
    pub expected_echoes: u64,
}

impl Counts {
    /// Every message answered, delivered everywhere and echoed.
    pub fn settled(&self) -> bool {
        self.acked + self.refused >= self.sent
            && self.deliveries >= self.expected_deliveries
            && self.echoes >= self.expected_echoes
    }
}

struct State {
    msgs: Vec<Sent>,
    /// Per connection, a bit per message number: which it has received.
    seen: Vec<Vec<u64>>,
    delivery: Histogram<u64>,
    last_member: Histogram<u64>,
    echo: Histogram<u64>,
    ack: Histogram<u64>,
    counts: Counts,
    first_send: Option<Instant>,
    last_event: Option<Instant>,
    errors: Vec<String>,
}

impl State {
    fn note(&mut self, error: String) {
        if self.errors.len() < 20 {
            self.errors.push(error);
        }
    }

    fn seen_before(&mut self, conn: usize, n: usize) -> bool {
        let words = &mut self.seen[conn];
        if words.len() <= n / 64 {
            words.resize(n / 64 + 1, 0);
        }
        let bit = 1u64 << (n % 64);
        let before = words[n / 64] & bit != 0;
        words[n / 64] |= bit;
        before
    }
}

pub fn histogram() -> Histogram<u64> {
    // 1 µs to an hour, 3 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

pub fn record(h: &mut Histogram<u64>, from: Instant, to: Instant) {
    h.saturating_record(to.saturating_duration_since(from).as_micros() as u64);
}

/// Percentiles in milliseconds.
pub fn summary(h: &Histogram<u64>) -> Value {
    let ms = |us: u64| (us as f64 / 10.0).round() / 100.0;
    json!({
        "n": h.len(),
        "p50_ms": ms(h.value_at_quantile(0.50)),
        "p90_ms": ms(h.value_at_quantile(0.90)),
        "p99_ms": ms(h.value_at_quantile(0.99)),
        "max_ms": ms(h.max()),
        "mean_ms": (h.mean() / 10.0).round() / 100.0,
    })
}

#[derive(Deserialize)]
struct Delivered<'a> {
    // chatRoomId: linsta's; conversationId: the native protocol's.
    #[serde(borrow, rename = "chatRoomId", alias = "conversationId")]
    room: Cow<'a, str>,
    #[serde(borrow, rename = "senderId")]
    sender: Cow<'a, str>,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

/// What the run came to, once the traffic stopped.
pub struct Outcome {
    pub counts: Counts,
    pub lost: u64,
    pub echoes_missing: u64,
    pub unanswered: u64,
    /// First send to the last delivery, echo or ack, in seconds.
    pub active_s: f64,
    pub delivery: Histogram<u64>,
    pub last_member: Histogram<u64>,
    pub echo: Histogram<u64>,
    pub ack: Histogram<u64>,
    pub errors: Vec<String>,
}

impl Traffic {
    pub fn new(layout: Layout, text_bytes: usize) -> Self {
        let mut room_size = vec![0; layout.rooms.len()];
        for &r in &layout.conn_room {
            if let Some(size) = room_size.get_mut(r) {
                *size += 1;
            }
        }
        let conns = layout.users.len();
        Self {
            room_json: layout
                .rooms
                .iter()
                .map(|r| Value::from(r.as_str()).to_string())
                .collect(),
            room_size,
            padding: "x".repeat(text_bytes),
            closed_loop: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            joined: AtomicU64::new(0),
            join_refused: AtomicU64::new(0),
            user_joined: AtomicU64::new(0),
            lost_connections: AtomicU64::new(0),
            state: Mutex::new(State {
                msgs: Vec::new(),
                seen: vec![Vec::new(); conns],
                delivery: histogram(),
                last_member: histogram(),
                echo: histogram(),
                ack: histogram(),
                counts: Counts::default(),
                first_send: None,
                last_event: None,
                errors: Vec::new(),
            }),
            layout,
        }
    }

    pub fn join_frame(&self, conn: usize) -> String {
        let room = &self.room_json[self.layout.conn_room[conn]];
        format!(r#"420["join_room",{{"chatRoomId":{room}}}]"#)
    }

    /// Numbers a new message from `conn` and returns its frame; `at` is its send instant.
    pub fn send_frame(&self, conn: usize, at: Instant) -> String {
        let mut st = self.state.lock().unwrap();
        self.send_locked(&mut st, conn, at)
    }

    fn send_locked(&self, st: &mut State, conn: usize, at: Instant) -> String {
        let n = st.msgs.len();
        st.msgs.push(Sent {
            at,
            sender: conn,
            answered: false,
            echoed: false,
            others_got: 0,
        });
        let room = self.layout.conn_room[conn];
        st.counts.sent += 1;
        st.counts.expected_deliveries += self.room_size[room] - 1;
        st.counts.expected_echoes += 1;
        st.first_send.get_or_insert(at);
        // The text is the number, a space and padding up to --text-bytes.
        let digits = n.checked_ilog10().unwrap_or(0) as usize + 1;
        let pad = &self.padding[..self.padding.len().saturating_sub(digits + 1)];
        format!(
            r#"42{}["send_message",{{"chatRoomId":{},"text":"{n} {pad}"}}]"#,
            n + 1,
            self.room_json[room]
        )
    }

    pub fn set_closed_loop(&self, on: bool) {
        self.closed_loop.store(on, Ordering::SeqCst);
    }

    /// From now on a closed connection is the benchmark's doing, not a loss.
    pub fn closing(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    /// Forgets what was counted so far (after a warm-up, once it settled); message numbers
    /// go on, so a straggler from before is still recognised.
    pub fn reset(&self) {
        let mut guard = self.state.lock().unwrap();
        let st = &mut *guard;
        st.counts = Counts::default();
        for h in [
            &mut st.delivery,
            &mut st.last_member,
            &mut st.echo,
            &mut st.ack,
        ] {
            h.reset();
        }
        st.first_send = None;
        st.last_event = None;
    }

    pub fn counts(&self) -> Counts {
        self.state.lock().unwrap().counts
    }

    pub fn note(&self, error: String) {
        self.state.lock().unwrap().note(error);
    }

    pub fn finish(&self) -> Outcome {
        let st = self.state.lock().unwrap();
        let c = st.counts;
        let active_s = match (st.first_send, st.last_event) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        Outcome {
            counts: c,
            lost: c.expected_deliveries.saturating_sub(c.deliveries),
            echoes_missing: c.expected_echoes.saturating_sub(c.echoes),
            unanswered: c.sent.saturating_sub(c.acked + c.refused),
            active_s,
            delivery: st.delivery.clone(),
            last_member: st.last_member.clone(),
            echo: st.echo.clone(),
            ack: st.ack.clone(),
            errors: st.errors.clone(),
        }
    }

    fn received(&self, conn: usize, payload: &str, at: Instant) {
        let parsed = serde_json::from_str::<(&str, Delivered<'_>)>(payload).ok();
        let mut st = self.state.lock().unwrap();
        let Some((_, d)) = parsed else {
            st.counts.unexpected += 1;
            st.note(format!("unreadable receive_message: {payload:.200}"));
            return;
        };
        let n = d
            .text
            .split(' ')
            .next()
            .and_then(|w| w.parse::<usize>().ok());
        let room = self.layout.conn_room[conn];
        let fits = n.filter(|&n| {
            st.msgs.get(n).is_some_and(|m| {
                self.layout.conn_room[m.sender] == room
                    && self.layout.rooms.get(room).is_some_and(|r| *r == d.room)
                    && self.layout.users[m.sender] == d.sender
            })
        });
        let Some(n) = fits else {
            st.counts.unexpected += 1;
            st.note(format!(
                "unexpected receive_message at connection {conn}: {payload:.200}"
            ));
            return;
        };
        st.last_event = Some(at);
        let sent_at = st.msgs[n].at;
        if st.msgs[n].sender == conn {
            if st.msgs[n].echoed {
                st.counts.duplicates += 1;
            } else {
                st.msgs[n].echoed = true;
                st.counts.echoes += 1;
                record(&mut st.echo, sent_at, at);
            }
            return;
        }
        if st.seen_before(conn, n) {
            st.counts.duplicates += 1;
            return;
        }
        st.counts.deliveries += 1;
        record(&mut st.delivery, sent_at, at);
        st.msgs[n].others_got += 1;
        if st.msgs[n].others_got == self.room_size[room] - 1 {
            st.counts.complete += 1;
            record(&mut st.last_member, sent_at, at);
        }
    }

    fn answered(&self, conn: usize, n: usize, payload: &str, at: Instant, out: &mut Vec<String>) {
        let body = serde_json::from_str::<Vec<Value>>(payload).unwrap_or_default();
        let mut st = self.state.lock().unwrap();
        let Some(m) = st
            .msgs
            .get_mut(n)
            .filter(|m| m.sender == conn && !m.answered)
        else {
            st.counts.unexpected += 1;
            st.note(format!("unexpected ack {} at connection {conn}", n + 1));
            return;
        };
        m.answered = true;
        let sent_at = m.at;
        st.last_event = Some(at);
        match body.first() {
            Some(ack) if ack.get("error").is_none() => {
                st.counts.acked += 1;
                record(&mut st.ack, sent_at, at);
            }
            other => {
                st.counts.refused += 1;
                st.counts.expected_deliveries -= self.room_size[self.layout.conn_room[conn]] - 1;
                st.counts.expected_echoes -= 1;
                st.note(format!("send_message refused: {other:?}"));
            }
        }
        if self.closed_loop.load(Ordering::Relaxed) {
            out.push(self.send_locked(&mut st, conn, Instant::now()));
        }
    }

    fn join_answered(&self, conn: usize, payload: &str) {
        let body = serde_json::from_str::<Vec<Value>>(payload).unwrap_or_default();
        match body.first() {
            // linsta answers { chatRoomId }, the native protocol the conversation { id, … }.
            Some(ack) if ack.get("chatRoomId").is_some() || ack.get("id").is_some() => {
                self.joined.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                self.join_refused.fetch_add(1, Ordering::Relaxed);
                self.note(format!(
                    "join_room refused at connection {conn}: {payload:.200}"
                ));
            }
        }
    }
}

impl Handler for Traffic {
    fn packet(&self, conn: usize, packet: &str, at: Instant, out: &mut Vec<String>) {
        match sio::parse(packet) {
            Packet::Event {
                name: "receive_message",
                payload,
            } => self.received(conn, payload, at),
            Packet::Event {
                name: "user_joined",
                ..
            } => {
                self.user_joined.fetch_add(1, Ordering::Relaxed);
            }
            Packet::Event {
                name: "error",
                payload,
            } => {
                let mut st = self.state.lock().unwrap();
                st.counts.error_events += 1;
                st.note(format!("error event at connection {conn}: {payload:.200}"));
            }
            // Anything else the dialect pushes (notifications) is not ours to count.
            Packet::Event { .. } | Packet::Other => {}
            Packet::Ack { id: 0, payload } => self.join_answered(conn, payload),
            Packet::Ack { id, payload } => self.answered(conn, id as usize - 1, payload, at, out),
            Packet::Disconnect => {
                self.note(format!("connection {conn}: disconnected by the server"))
            }
            Packet::ConnectError(why) => self.note(format!("connection {conn}: {why:.200}")),
        }
    }

    fn closed(&self, conn: usize, asked: bool, why: &str) {
        if !asked && !self.closing.load(Ordering::SeqCst) {
            self.lost_connections.fetch_add(1, Ordering::Relaxed);
            self.note(format!("connection {conn} lost: {why}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> Traffic {
        Traffic::new(
            Layout {
                users: vec!["a".into(), "b".into()],
                conn_room: vec![0, 0],
                rooms: vec!["r".into()],
            },
            16,
        )
    }

    fn echo_of(frame: &str, sender: &str) -> String {
        let text = frame
            .split(r#""text":""#)
            .nth(1)
            .unwrap()
            .trim_end_matches(r#""}]"#);
        format!(
            r#"2["receive_message",{{"_id":"x","chatRoomId":"r","senderId":"{sender}","text":"{text}","createdAt":"t"}}]"#
        )
    }

    #[test]
    fn counts_deliveries_duplicates_and_refusals() {
        let t = pair();
        let now = Instant::now();
        let f0 = t.send_frame(0, now);
        let f1 = t.send_frame(0, now);
        assert!(f0.starts_with(r#"421["send_message",{"chatRoomId":"r","text":"0 "#));
        assert_eq!(f0.len(), f1.len());
        let mut out = Vec::new();
        t.packet(1, &echo_of(&f0, "a"), now, &mut out);
        t.packet(1, &echo_of(&f0, "a"), now, &mut out);
        t.packet(0, &echo_of(&f0, "a"), now, &mut out);
        t.packet(1, &echo_of(&f0, "b"), now, &mut out); // wrong sender
        t.packet(0, r#"31[{"_id":"x"}]"#, now, &mut out);
        t.packet(0, r#"32[{"error":"no"}]"#, now, &mut out);
        assert!(out.is_empty());
        let c = t.counts();
        assert_eq!(
            (c.deliveries, c.duplicates, c.echoes, c.unexpected),
            (1, 1, 1, 1)
        );
        assert_eq!((c.acked, c.refused, c.complete), (1, 1, 1));
        assert!(c.settled());
        let o = t.finish();
        assert_eq!((o.lost, o.unanswered), (0, 0));
    }

    #[test]
    fn closed_loop_sends_the_next_on_each_ack() {
        let t = pair();
        t.set_closed_loop(true);
        t.send_frame(1, Instant::now());
        let mut out = Vec::new();
        t.packet(1, r#"31[{"_id":"x"}]"#, Instant::now(), &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].starts_with("422["));
        assert!(!t.counts().settled());
    }
}
