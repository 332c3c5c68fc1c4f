//! fanout: `members` clients in one room; the first sends `messages` at `rate` per second and
//! every member receives each (the sender its echo). The server's CPU per socket delivery
//! is the figure; the join phase (each join tells every member already there, so about
//! members²/2 `user_joined` events) is measured apart.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::time::sleep;

use super::{Target, close, connect_all, drain, end_warmup, join_all, log, pace, round, us_each};
use crate::probe::Window;
use crate::provision::{Users, open_room, token};
use crate::track::{self, Layout, Traffic};

pub struct Fanout {
    pub members: usize,
    pub messages: u64,
    pub rate: f64,
    /// Seconds of the same traffic before the measured window (see chat's).
    pub warmup_s: f64,
}

pub async fn run(target: &Target, o: &Fanout) -> Result<(Value, String), String> {
    if o.members < 2 {
        return Err("fanout needs at least two members".to_owned());
    }
    let users = Users::new();
    let ids: Vec<String> = (0..o.members).map(|i| users.id(i)).collect();
    let room = open_room(&target.rest, &target.service_key, &ids).await?;
    let tokens: Vec<String> = ids.iter().map(|id| token(id, &target.secret)).collect();
    let traffic = Arc::new(Traffic::new(
        Layout {
            users: ids,
            conn_room: vec![0; o.members],
            rooms: vec![room],
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

    let join_window = Window::start(target.pid.as_deref());
    join_all(&connected, &traffic, Duration::from_secs(120)).await?;
    let expected_joined = (o.members * (o.members - 1) / 2) as u64;
    wait_user_joined(&traffic, expected_joined).await;
    let join_span = join_window.close();
    let user_joined = traffic.user_joined.load(Ordering::Relaxed);
    sleep(Duration::from_secs(1)).await;

    log(&format!(
        "fanout: {} members, {} messages at {}/s",
        o.members, o.messages, o.rate
    ));
    let mut warmup = Value::Null;
    if o.warmup_s > 0.0 {
        let messages = (o.rate * o.warmup_s).round() as u64;
        pace(&traffic, &connected.conns, &[0], o.rate, messages).await;
        warmup = end_warmup(&traffic, target.drain_timeout).await;
    }
    let window = Window::start(target.pid.as_deref());
    let lag = pace(&traffic, &connected.conns, &[0], o.rate, o.messages).await;
    let timed_out = drain(&traffic, target.drain_timeout).await;
    let span = window.close();
    close(&connected, &traffic).await;

    let out = traffic.finish();
    let c = out.counts;
    // Every copy the server wrote to a socket: the other members' and the sender's echo.
    let socket_deliveries = c.deliveries + c.echoes;
    let per_s = |n: u64| {
        if out.active_s > 0.0 {
            round(n as f64 / out.active_s, 0)
        } else {
            0.0
        }
    };
    let report = json!({
        "params": {
            "members": o.members, "messages": o.messages, "rate_msg_per_s": o.rate,
            "offered_deliveries_per_s": o.rate * o.members as f64, "text_bytes": target.text_bytes,
            "warmup_s": o.warmup_s,
        },
        "setup": connected.setup_json(),
        "join": {
            "user_joined_events": user_joined,
            "user_joined_expected": expected_joined,
            "server_cpu_us_per_user_joined": us_each(join_span.server_cpu_s, user_joined),
            "window": join_span,
        },
        "result": {
            "sent": c.sent,
            "acked": c.acked,
            "refused": c.refused,
            "unanswered": out.unanswered,
            "deliveries": c.deliveries,
            "socket_deliveries": socket_deliveries,
            "lost": out.lost,
            "duplicates": c.duplicates,
            "unexpected": c.unexpected,
            "echoes_missing": out.echoes_missing,
            "error_events": c.error_events,
            "lost_connections": traffic.lost_connections.load(Ordering::Relaxed),
            "drain_timed_out": timed_out,
            "active_s": round(out.active_s, 3),
            "deliveries_per_s": per_s(socket_deliveries),
            "latency": track::summary(&out.delivery),
            "last_member_latency": track::summary(&out.last_member),
            "ack_latency": track::summary(&out.ack),
            "send_lag": track::summary(&lag),
            "server_cpu_us_per_delivery": us_each(span.server_cpu_s, socket_deliveries),
            "server_cpu_us_per_msg": us_each(span.server_cpu_s, c.acked + c.refused),
            "server_cores": span.server_cores().map(|x| round(x, 3)),
            "loadgen_cpu_us_per_delivery": us_each(Some(span.loadgen_cpu_s), socket_deliveries),
            "loadgen_cores": round(span.loadgen_cores(), 3),
            "others_cores": span.others_cpu_s.map(|s| round(s / span.wall_s, 3)),
            "warmup": warmup,
            "errors": out.errors,
        },
        "window": span,
    });
    let r = &report["result"];
    let line = format!(
        "{} deliveries/s; lost {} dup {}; delivery p50 {} p99 {} ms, last member p99 {} ms; server {} µs/delivery ({} cores); loadgen {} cores",
        r["deliveries_per_s"],
        out.lost,
        c.duplicates,
        r["latency"]["p50_ms"],
        r["latency"]["p99_ms"],
        r["last_member_latency"]["p99_ms"],
        r["server_cpu_us_per_delivery"],
        r["server_cores"],
        r["loadgen_cores"],
    );
    Ok((report, line))
}

/// The join flood is over when all `user_joined` events came, or none came for 2 s.
async fn wait_user_joined(traffic: &Traffic, expected: u64) {
    let mut last = traffic.user_joined.load(Ordering::Relaxed);
    let mut since = Instant::now();
    loop {
        let now = traffic.user_joined.load(Ordering::Relaxed);
        if now >= expected {
            return;
        }
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() > Duration::from_secs(2) {
            log(&format!("user_joined: {now} of {expected}; going on"));
            return;
        }
        sleep(Duration::from_millis(20)).await;
    }
}
