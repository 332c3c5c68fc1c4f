//! The scenarios, and the steps they share: connecting many clients with bounded
//! concurrency, joining rooms, pacing an open loop, waiting for the traffic to settle.

pub mod chat;
pub mod fanout;
pub mod idle;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::time::{MissedTickBehavior, interval, sleep};

use crate::sio::{self, Conn, Endpoint, Handler};
use crate::track::{self, Traffic};

/// The server under test and how to drive it (options common to every scenario).
pub struct Target {
    pub socket: Endpoint,
    pub rest: String,
    pub secret: String,
    pub service_key: String,
    pub pid: Option<String>,
    pub connect_concurrency: usize,
    pub drain_timeout: Duration,
    pub text_bytes: usize,
}

pub fn log(line: &str) {
    eprintln!("[loadgen] {line}");
}

/// Open connections; `conns[i]` is `None` where connecting failed.
pub struct Connected {
    pub conns: Vec<Option<Conn>>,
    pub failed: usize,
    pub connect_ms: Histogram<u64>,
    pub errors: Vec<String>,
}

impl Connected {
    pub fn count(&self) -> usize {
        self.conns.len() - self.failed
    }

    pub fn setup_json(&self) -> Value {
        json!({
            "connected": self.count(),
            "connect_failures": self.failed,
            "connect_ms": track::summary(&self.connect_ms),
            "connect_errors": self.errors,
        })
    }

    pub fn close_all(&self) {
        for conn in self.conns.iter().flatten() {
            conn.close();
        }
    }
}

/// Connects one client per token, `target.connect_concurrency` handshakes at a time. Each
/// handshake is timed from the TCP connect to the server's Socket.IO connect packet.
pub async fn connect_all(
    target: &Target,
    tokens: &[String],
    handler: Arc<dyn Handler>,
) -> Connected {
    let next = AtomicUsize::new(0);
    let results = Mutex::new((
        (0..tokens.len()).map(|_| None).collect::<Vec<_>>(),
        track::histogram(),
        Vec::new(),
    ));
    let started = Instant::now();
    let lane = || async {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(token) = tokens.get(i) else { break };
            let auth = json!({ "token": token }).to_string();
            let t0 = Instant::now();
            let opened = sio::open(&target.socket, &auth).await;
            let at = Instant::now();
            let mut r = results.lock().unwrap();
            match opened {
                Ok(ws) => {
                    track::record(&mut r.1, t0, at);
                    r.0[i] = Some(sio::spawn(i, ws, handler.clone(), target.socket.native));
                }
                Err(e) if r.2.len() < 20 => r.2.push(format!("client {i}: {e}")),
                Err(_) => {}
            }
            if (i + 1).is_multiple_of(2000) {
                log(&format!(
                    "{} connecting, {:.1} s",
                    i + 1,
                    started.elapsed().as_secs_f64()
                ));
            }
        }
    };
    let lanes: Vec<_> = (0..target.connect_concurrency.max(1))
        .map(|_| lane())
        .collect();
    futures_util::future::join_all(lanes).await;
    let (conns, connect_ms, errors) = results.into_inner().unwrap();
    let failed = conns.iter().filter(|c| c.is_none()).count();
    log(&format!(
        "{} connected, {failed} failed, in {:.1} s",
        conns.len() - failed,
        started.elapsed().as_secs_f64()
    ));
    Connected {
        conns,
        failed,
        connect_ms,
        errors,
    }
}

/// Every connection joins its room; waits for all the acks (or `timeout`).
pub async fn join_all(
    connected: &Connected,
    traffic: &Traffic,
    timeout: Duration,
) -> Result<(), String> {
    for (i, conn) in connected.conns.iter().enumerate() {
        if let Some(conn) = conn {
            conn.send(traffic.join_frame(i));
        }
    }
    let want = connected.count() as u64;
    let deadline = Instant::now() + timeout;
    loop {
        let answered =
            traffic.joined.load(Ordering::Relaxed) + traffic.join_refused.load(Ordering::Relaxed);
        if answered >= want {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "only {answered} of {want} joins answered in {timeout:?}"
            ));
        }
        sleep(Duration::from_millis(20)).await;
    }
    match traffic.join_refused.load(Ordering::Relaxed) {
        0 => Ok(()),
        n => Err(format!("{n} joins refused")),
    }
}

/// Open loop: `total` messages at `rate` per second, message k from `senders[k % len]`, sent
/// when due whatever the server answers. Returns how late the sends were behind schedule
/// (the generator's own lag, in µs; large values mean the generator could not keep up).
pub async fn pace(
    traffic: &Traffic,
    conns: &[Option<Conn>],
    senders: &[usize],
    rate: f64,
    total: u64,
) -> Histogram<u64> {
    let mut lag = track::histogram();
    // Tokio's timer has millisecond resolution: each tick sends everything that came due.
    let mut tick = interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let t0 = Instant::now();
    let mut next = 0u64;
    while next < total {
        tick.tick().await;
        let due = ((t0.elapsed().as_secs_f64() * rate) as u64 + 1).min(total);
        while next < due {
            let sender = senders[(next % senders.len() as u64) as usize];
            let scheduled = t0 + Duration::from_secs_f64(next as f64 / rate);
            let now = Instant::now();
            track::record(&mut lag, scheduled, now);
            if let Some(conn) = &conns[sender] {
                conn.send(traffic.send_frame(sender, now));
            }
            next += 1;
        }
    }
    lag
}

/// Waits until every message is answered and delivered, or nothing moved for `timeout`.
/// Returns whether it gave up.
pub async fn drain(traffic: &Traffic, timeout: Duration) -> bool {
    let mut last = traffic.counts();
    let mut since = Instant::now();
    let mut logged = Instant::now();
    loop {
        let c = traffic.counts();
        if c.settled() {
            return false;
        }
        if c != last {
            last = c;
            since = Instant::now();
        } else if since.elapsed() > timeout {
            log(&format!(
                "drain: nothing moved for {timeout:?}; giving up: {c:?}"
            ));
            return true;
        }
        if logged.elapsed() > Duration::from_secs(5) {
            logged = Instant::now();
            log(&format!(
                "draining: {} of {} answered, {} of {} delivered",
                c.acked + c.refused,
                c.sent,
                c.deliveries,
                c.expected_deliveries
            ));
        }
        sleep(Duration::from_millis(10)).await;
    }
}

/// Ends a warm-up: waits for it to settle, keeps what it came to (a loss there is as much
/// a bug as later), and forgets its counts so that the measured window starts clean.
pub async fn end_warmup(traffic: &Traffic, timeout: Duration) -> Value {
    let timed_out = drain(traffic, timeout).await;
    let out = traffic.finish();
    traffic.reset();
    json!({
        "sent": out.counts.sent,
        "refused": out.counts.refused,
        "lost": out.lost,
        "duplicates": out.counts.duplicates,
        "drain_timed_out": timed_out,
    })
}

/// Closes every connection and gives the server a moment to see it.
pub async fn close(connected: &Connected, traffic: &Traffic) {
    traffic.closing();
    connected.close_all();
    sleep(Duration::from_millis(500)).await;
}

pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// `cpu_s` spread over `n` things, in microseconds each.
pub fn us_each(cpu_s: Option<f64>, n: u64) -> Option<f64> {
    cpu_s
        .filter(|_| n > 0)
        .map(|s| round(s * 1e6 / n as f64, 2))
}
