//! chat: `clients` clients in `rooms` rooms (client i in room i mod rooms), everyone sending.
//!
//! Open loop (`chat`): `rate` messages per second in all, taken in turn by the clients, for
//! `duration` seconds, whatever the server answers: delivered/s below the offered rate, or
//! latency growing through the run, is the server falling behind.
//! Closed loop (`chat-closed`): each client keeps `window` messages unacknowledged, sending
//! the next on each ack, for `duration` seconds: the acks per second are the capacity.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::time::sleep;

use hdrhistogram::Histogram;

use super::{Target, close, connect_all, drain, end_warmup, join_all, log, pace, round, us_each};
use crate::probe::Window;
use crate::provision::{Users, open_room, token};
use crate::sio::Conn;
use crate::track::{self, Counts, Layout, Traffic};

pub struct Chat {
    pub clients: usize,
    pub rooms: usize,
    pub duration_s: f64,
    /// Open loop: messages per second in all.
    pub rate: f64,
    /// Closed loop: messages each client keeps unacknowledged (0: open loop).
    pub window: usize,
    /// Seconds of the same traffic before the measured window, unmeasured: Node's JIT
    /// compiles the hot paths in the first seconds.
    pub warmup_s: f64,
}

/// Sends for `secs` seconds: at the rate (open loop; returns the send lag) or keeping the
/// windows full (closed loop; returns the counts and the seconds at the stop).
async fn drive(
    traffic: &Traffic,
    conns: &[Option<Conn>],
    o: &Chat,
    secs: f64,
) -> (Option<Histogram<u64>>, Option<(Counts, f64)>) {
    if o.window == 0 {
        let senders: Vec<usize> = (0..conns.len()).collect();
        let total = (o.rate * secs).round() as u64;
        return (
            Some(pace(traffic, conns, &senders, o.rate, total).await),
            None,
        );
    }
    let before = traffic.counts();
    traffic.set_closed_loop(true);
    let start = Instant::now();
    for (i, conn) in conns.iter().enumerate() {
        let conn = conn.as_ref().expect("all connected");
        for _ in 0..o.window {
            conn.send(traffic.send_frame(i, Instant::now()));
        }
    }
    sleep(Duration::from_secs_f64(secs)).await;
    traffic.set_closed_loop(false);
    let mut at = traffic.counts();
    at.acked -= before.acked;
    at.complete -= before.complete;
    (None, Some((at, start.elapsed().as_secs_f64())))
}

pub async fn run(target: &Target, o: &Chat) -> Result<(Value, String), String> {
    if o.rooms == 0 || o.clients < 2 * o.rooms {
        return Err("chat needs at least two clients per room".to_owned());
    }
    let users = Users::new();
    let ids: Vec<String> = (0..o.clients).map(|i| users.id(i)).collect();
    let conn_room: Vec<usize> = (0..o.clients).map(|i| i % o.rooms).collect();
    let mut rooms = Vec::with_capacity(o.rooms);
    for r in 0..o.rooms {
        let members: Vec<String> = (r..o.clients)
            .step_by(o.rooms)
            .map(|i| ids[i].clone())
            .collect();
        rooms.push(open_room(&target.rest, &target.service_key, &members).await?);
    }
    let tokens: Vec<String> = ids.iter().map(|id| token(id, &target.secret)).collect();
    let traffic = Arc::new(Traffic::new(
        Layout {
            users: ids,
            conn_room,
            rooms,
        },
        target.text_bytes,
    ));

    let connected = connect_all(target, &tokens, traffic.clone()).await;
    if connected.failed > 0 {
        return Err(format!(
            "{} clients could not connect: {:?}",
            connected.failed, connected.errors
        ));
    }
    join_all(&connected, &traffic, Duration::from_secs(30)).await?;
    // Let the user_joined events pass before measuring.
    sleep(Duration::from_secs(1)).await;

    let closed = o.window > 0;
    log(&if closed {
        format!(
            "chat-closed: {} clients, {} rooms, window {}, {} s",
            o.clients, o.rooms, o.window, o.duration_s
        )
    } else {
        format!(
            "chat: {} clients, {} rooms, {} msg/s for {} s",
            o.clients, o.rooms, o.rate, o.duration_s
        )
    });
    let mut warmup = Value::Null;
    if o.warmup_s > 0.0 {
        drive(&traffic, &connected.conns, o, o.warmup_s).await;
        warmup = end_warmup(&traffic, target.drain_timeout).await;
    }
    let window = Window::start(target.pid.as_deref());
    let (lag, at_stop) = drive(&traffic, &connected.conns, o, o.duration_s).await;
    let timed_out = drain(&traffic, target.drain_timeout).await;
    let span = window.close();
    close(&connected, &traffic).await;

    let out = traffic.finish();
    let c = out.counts;
    let handled = c.acked + c.refused;
    let delivered_per_s = if out.active_s > 0.0 {
        c.complete as f64 / out.active_s
    } else {
        0.0
    };
    let mut result = json!({
        "sent": c.sent,
        "acked": c.acked,
        "refused": c.refused,
        "unanswered": out.unanswered,
        "deliveries": c.deliveries,
        "lost": out.lost,
        "duplicates": c.duplicates,
        "unexpected": c.unexpected,
        "echoes_missing": out.echoes_missing,
        "error_events": c.error_events,
        "lost_connections": traffic.lost_connections.load(std::sync::atomic::Ordering::Relaxed),
        "drain_timed_out": timed_out,
        "active_s": round(out.active_s, 3),
        "delivered_msg_per_s": round(delivered_per_s, 1),
        "latency": track::summary(&out.delivery),
        "echo_latency": track::summary(&out.echo),
        "ack_latency": track::summary(&out.ack),
        "server_cpu_us_per_msg": us_each(span.server_cpu_s, handled),
        "server_cores": span.server_cores().map(|x| round(x, 3)),
        "loadgen_cpu_us_per_msg": us_each(Some(span.loadgen_cpu_s), handled),
        "loadgen_cores": round(span.loadgen_cores(), 3),
        "others_cores": span.others_cpu_s.map(|s| round(s / span.wall_s, 3)),
        "warmup": warmup,
        "errors": out.errors,
    });
    if let Some(lag) = &lag {
        result["send_lag"] = track::summary(lag);
    }
    if let Some((at, secs)) = at_stop {
        // Capacity: what the server answered while the clients kept their windows full.
        result["capacity_msg_per_s"] = json!(round(at.acked as f64 / secs, 1));
        result["delivered_msg_per_s"] = json!(round(at.complete as f64 / secs, 1));
    }
    let offered = if closed { Value::Null } else { json!(o.rate) };
    let report = json!({
        "params": {
            "clients": o.clients, "rooms": o.rooms, "duration_s": o.duration_s,
            "offered_msg_per_s": offered, "window": if closed { json!(o.window) } else { Value::Null },
            "text_bytes": target.text_bytes, "warmup_s": o.warmup_s,
        },
        "setup": connected.setup_json(),
        "result": result,
        "window": span,
    });
    let r = &report["result"];
    let head = if closed {
        format!("capacity {} msg/s", r["capacity_msg_per_s"])
    } else {
        format!(
            "offered {} msg/s, delivered {} msg/s",
            o.rate, r["delivered_msg_per_s"]
        )
    };
    let line = format!(
        "{head}; refused {} lost {} dup {}; latency p50 {} p99 {} max {} ms; server {} µs/msg ({} cores); loadgen {} cores",
        c.refused,
        out.lost,
        c.duplicates,
        r["latency"]["p50_ms"],
        r["latency"]["p99_ms"],
        r["latency"]["max_ms"],
        r["server_cpu_us_per_msg"],
        r["server_cores"],
        r["loadgen_cores"],
    );
    Ok((report, line))
}
