//! `loadgen table FILE...`: the result files as Markdown tables, one per scenario, rows in
//! the order given, each figure next to its ratio to the run labelled `node` of the same
//! scenario (measured in the same comparison), and the generator's own CPU on every row.

use serde_json::Value;

pub fn render(paths: &[String]) -> Result<String, String> {
    let mut runs = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        runs.push(serde_json::from_str::<Value>(&text).map_err(|e| format!("{path}: {e}"))?);
    }
    let mut md = String::new();
    for scenario in ["chat", "chat-closed", "fanout", "idle"] {
        let rows: Vec<&Value> = runs.iter().filter(|r| r["scenario"] == scenario).collect();
        if rows.is_empty() {
            continue;
        }
        let node = rows
            .iter()
            .find(|r| r["label"].as_str().is_some_and(|l| l.starts_with("node")))
            .copied();
        md += &match scenario {
            "chat" => chat(&rows, node),
            "chat-closed" => chat_closed(&rows, node),
            "fanout" => fanout(&rows, node),
            _ => idle(&rows, node),
        };
        md.push('\n');
    }
    Ok(md)
}

fn num(v: &Value, digits: usize) -> String {
    v.as_f64()
        .map_or("–".to_owned(), |x| format!("{x:.digits$}"))
}

/// `value (×ratio)` against the same figure of the Node run.
fn vs(run: &Value, node: Option<&Value>, path: &[&str], digits: usize) -> String {
    let get = |r: &Value| path.iter().fold(r.clone(), |v, k| v[*k].clone());
    let ours = get(run);
    match (ours.as_f64(), node.and_then(|n| get(n).as_f64())) {
        (Some(a), Some(b)) if b > 0.0 && !std::ptr::eq(run, node.unwrap()) => {
            format!("{} (×{:.2})", num(&ours, digits), a / b)
        }
        _ => num(&ours, digits),
    }
}

fn lat(l: &Value, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| num(&l[*k], 2))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Lost in the measured window, and in the warm-up before it when any.
fn lost(x: &Value) -> String {
    match x["warmup"]["lost"].as_u64() {
        Some(w) if w > 0 => format!("{} (+{w} in warm-up)", x["lost"]),
        _ => x["lost"].to_string(),
    }
}

fn label(r: &Value) -> &str {
    r["label"].as_str().unwrap_or("?")
}

fn chat(rows: &[&Value], node: Option<&Value>) -> String {
    let mut s = format!(
        "#### chat, open loop: {} clients in {} rooms, {} msg/s offered for {} s\n\n",
        rows[0]["params"]["clients"],
        rows[0]["params"]["rooms"],
        rows[0]["params"]["offered_msg_per_s"],
        rows[0]["params"]["duration_s"]
    );
    s += "| server | delivered msg/s | refused | lost | dup | latency ms p50 / p90 / p99 / max | server CPU µs/msg | server cores | load-gen cores | others' cores |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|\n";
    for r in rows {
        let x = &r["result"];
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            label(r),
            vs(r, node, &["result", "delivered_msg_per_s"], 0),
            x["refused"],
            lost(x),
            x["duplicates"],
            lat(&x["latency"], &["p50_ms", "p90_ms", "p99_ms", "max_ms"]),
            vs(r, node, &["result", "server_cpu_us_per_msg"], 1),
            num(&x["server_cores"], 2),
            num(&x["loadgen_cores"], 2),
            num(&x["others_cores"], 2),
        );
    }
    s
}

fn chat_closed(rows: &[&Value], node: Option<&Value>) -> String {
    let mut s = format!(
        "#### chat, closed loop: {} clients in {} rooms, {} messages in flight per client, {} s\n\n",
        rows[0]["params"]["clients"],
        rows[0]["params"]["rooms"],
        rows[0]["params"]["window"],
        rows[0]["params"]["duration_s"]
    );
    s += "| server | capacity msg/s | refused | lost | dup | latency ms p50 / p99 / max | server CPU µs/msg | server cores | load-gen cores | others' cores |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|\n";
    for r in rows {
        let x = &r["result"];
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            label(r),
            vs(r, node, &["result", "capacity_msg_per_s"], 0),
            x["refused"],
            lost(x),
            x["duplicates"],
            lat(&x["latency"], &["p50_ms", "p99_ms", "max_ms"]),
            vs(r, node, &["result", "server_cpu_us_per_msg"], 1),
            num(&x["server_cores"], 2),
            num(&x["loadgen_cores"], 2),
            num(&x["others_cores"], 2),
        );
    }
    s
}

fn fanout(rows: &[&Value], node: Option<&Value>) -> String {
    let p = &rows[0]["params"];
    let mut s = format!(
        "#### fan-out: {} members in one room, {} messages at {} msg/s\n\n",
        p["members"], p["messages"], p["rate_msg_per_s"]
    );
    s += "| server | deliveries/s | lost | dup | delivery ms p50 / p99 | last member ms p50 / p99 | server CPU µs/delivery | server cores | load-gen cores | others' cores | join: user_joined events, server µs each |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|---|\n";
    for r in rows {
        let x = &r["result"];
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}, {} |\n",
            label(r),
            num(&x["deliveries_per_s"], 0),
            lost(x),
            x["duplicates"],
            lat(&x["latency"], &["p50_ms", "p99_ms"]),
            lat(&x["last_member_latency"], &["p50_ms", "p99_ms"]),
            vs(r, node, &["result", "server_cpu_us_per_delivery"], 2),
            num(&x["server_cores"], 2),
            num(&x["loadgen_cores"], 2),
            num(&x["others_cores"], 2),
            r["join"]["user_joined_events"],
            vs(r, node, &["join", "server_cpu_us_per_user_joined"], 2),
        );
    }
    s
}

fn idle(rows: &[&Value], node: Option<&Value>) -> String {
    let p = &rows[0]["params"];
    let mut s = format!(
        "#### idle connections: {} clients, {} connecting at a time, held {} s\n\n",
        p["connections"], p["concurrency"], p["hold_s"]
    );
    s += "| server | connected | still connected | RSS MB before → connected → closed | KB per connection | server CPU µs per connection | load-gen µs per connection | load-gen cores | others' cores |\n";
    s += "|---|---|---|---|---|---|---|---|---|\n";
    let mb = |v: &Value| {
        v.as_f64()
            .map_or("–".to_owned(), |kb| format!("{:.0}", kb / 1024.0))
    };
    for r in rows {
        let x = &r["result"];
        s += &format!(
            "| {} | {} | {} | {} → {} → {} | {} | {} | {} | {} | {} |\n",
            label(r),
            x["connected"],
            x["still_connected"],
            mb(&x["rss_kb"]["before"]),
            mb(&x["rss_kb"]["connected"]),
            mb(&x["rss_kb"]["after_close"]),
            vs(r, node, &["result", "kb_per_connection"], 1),
            vs(r, node, &["result", "server_cpu_us_per_connection"], 0),
            num(&x["loadgen_cpu_us_per_connection"], 0),
            num(&x["connect_loadgen_cores"], 2),
            num(&x["connect_others_cores"], 2),
        );
    }
    s
}
