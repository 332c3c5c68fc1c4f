//! idle: `connections` authenticated clients (one user each) that join nothing. Memory per
//! idle connection is the server's RSS growth from before the first connect to `settle`
//! seconds after the last, divided by the connections; CPU per new connection is the
//! server's CPU during the connect phase divided likewise. The clients then stay idle for
//! `hold` seconds (long enough for the servers' 25 s Engine.IO pings, which they answer) and
//! must all still be connected.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::sleep;

use super::{Target, close, connect_all, log, round, us_each};
use crate::probe::{Window, rss_kb};
use crate::provision::{Users, token};
use crate::track::{Layout, Traffic};

pub struct Idle {
    pub connections: usize,
    pub settle_s: f64,
    pub hold_s: f64,
}

pub async fn run(target: &Target, o: &Idle) -> Result<(Value, String), String> {
    let users = Users::new();
    let ids: Vec<String> = (0..o.connections).map(|i| users.id(i)).collect();
    let tokens: Vec<String> = ids.iter().map(|id| token(id, &target.secret)).collect();
    let traffic = Arc::new(Traffic::new(
        Layout {
            users: ids,
            conn_room: vec![0; o.connections],
            rooms: Vec::new(),
        },
        target.text_bytes,
    ));
    let pid = target.pid.as_deref();
    let rss = || pid.and_then(rss_kb);

    log(&format!(
        "idle: {} connections, {} at a time",
        o.connections, target.connect_concurrency
    ));
    let connect_window = Window::start(pid);
    let connected = connect_all(target, &tokens, traffic.clone()).await;
    let connect_span = connect_window.close();
    let n = connected.count() as u64;
    sleep(Duration::from_secs_f64(o.settle_s)).await;
    let rss_connected = rss();

    let hold_window = Window::start(pid);
    sleep(Duration::from_secs_f64(o.hold_s)).await;
    let hold_span = hold_window.close();
    let lost = traffic.lost_connections.load(Ordering::Relaxed);
    let rss_after_hold = rss();

    let close_window = Window::start(pid);
    close(&connected, &traffic).await;
    sleep(Duration::from_secs_f64(o.settle_s)).await;
    let close_span = close_window.close();

    let rss_before = connect_span.server_rss_kb_before;
    let kb_each = rss_before
        .zip(rss_connected)
        .filter(|_| n > 0)
        .map(|(a, b)| round((b as f64 - a as f64) / n as f64, 2));
    let report = json!({
        "params": {
            "connections": o.connections, "concurrency": target.connect_concurrency,
            "settle_s": o.settle_s, "hold_s": o.hold_s,
        },
        "setup": connected.setup_json(),
        "result": {
            "connected": n,
            "connect_failures": connected.failed,
            "lost_during_hold": lost,
            "still_connected": n.saturating_sub(lost),
            "connections_per_s": round(n as f64 / connect_span.wall_s, 0),
            "rss_kb": { "before": rss_before, "connected": rss_connected, "after_hold": rss_after_hold, "after_close": close_span.server_rss_kb_after },
            "kb_per_connection": kb_each,
            "server_cpu_us_per_connection": us_each(connect_span.server_cpu_s, n),
            "server_cpu_us_per_disconnect": us_each(close_span.server_cpu_s, n),
            "server_idle_cores": hold_span.server_cores().map(|x| round(x, 4)),
            "loadgen_cpu_us_per_connection": us_each(Some(connect_span.loadgen_cpu_s), n),
            "connect_server_cores": connect_span.server_cores().map(|x| round(x, 3)),
            "connect_loadgen_cores": round(connect_span.loadgen_cores(), 3),
            "connect_others_cores": connect_span.others_cpu_s.map(|s| round(s / connect_span.wall_s, 3)),
            "errors": traffic.finish().errors,
        },
        "window": connect_span,
        "hold_window": hold_span,
        "close_window": close_span,
    });
    let r = &report["result"];
    let line = format!(
        "{n} connected ({} failed), {} still after {} s; {} KB per connection; server {} µs per connection; loadgen {} µs per connection ({} cores)",
        connected.failed,
        r["still_connected"],
        o.hold_s,
        r["kb_per_connection"],
        r["server_cpu_us_per_connection"],
        r["loadgen_cpu_us_per_connection"],
        r["connect_loadgen_cores"],
    );
    Ok((report, line))
}
