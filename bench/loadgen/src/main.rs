//! loadgen: drives a Socket.IO chat server (switchboard's linsta listener, or the Node peer
//! in bench/node-peer) and reports what it delivered, how fast, and at what CPU and memory.
//! See bench/README.md for the scenarios and docs/PERFORMANCE.md for how the figures are
//! read.

mod probe;
mod provision;
mod scenarios;
mod sio;
mod table;
mod track;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use scenarios::{Target, chat, fanout, idle, log};

const USAGE: &str = "\
usage: loadgen chat        [--clients 100 --rooms 50 --rate 10000 --duration 10]
       loadgen chat-closed [--clients 100 --rooms 50 --window 4 --duration 10]
       loadgen fanout      [--members 1000 --messages 100 --rate 10]
       loadgen idle        [--connections 10000 --settle 3 --hold 30]
       loadgen table RESULT.json...   (Markdown tables of result files, in the given order)
common options:
  --url http://127.0.0.1:3001     the Socket.IO server (path /socket.io/ unless given);
                                  path /ws: switchboard's native protocol instead
  --rest http://127.0.0.1:3000    where POST /api/v1/conversations opens rooms
  --secret S                      HS256 secret of the tokens (default: $JWT_SECRET or bench-secret)
  --service-key K                 the service key for opening rooms (default bench-key)
  --pid PID                       the server's process: CPU and memory from /proc/PID
  --label NAME  --out FILE        name of the run, and where its JSON goes (default stdout)
  --threads 1                     the generator's worker threads
  --connect-concurrency 50        handshakes in flight at once
  --text-bytes 64                 length of each message's text
  --drain-timeout 10              seconds without progress before the missing count as lost
  --warmup 2                      chat, chat-closed, fanout: seconds of the same traffic first, unmeasured";

const COMMON: &[&str] = &[
    "url",
    "rest",
    "secret",
    "service-key",
    "pid",
    "label",
    "out",
    "threads",
    "connect-concurrency",
    "text-bytes",
    "drain-timeout",
];

struct Args {
    scenario: String,
    values: HashMap<String, String>,
}

impl Args {
    fn parse() -> Result<Self, String> {
        let mut argv = std::env::args().skip(1);
        let scenario = argv.next().ok_or(USAGE)?;
        let own: &[&str] = match scenario.as_str() {
            "chat" | "chat-closed" => &["clients", "rooms", "rate", "duration", "window", "warmup"],
            "fanout" => &["members", "messages", "rate", "warmup"],
            "idle" => &["connections", "settle", "hold"],
            _ => return Err(USAGE.to_owned()),
        };
        let mut values = HashMap::new();
        while let Some(arg) = argv.next() {
            let key = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected {arg}\n{USAGE}"))?;
            let (key, value) = match key.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (
                    key.to_owned(),
                    argv.next()
                        .ok_or_else(|| format!("--{key} needs a value"))?,
                ),
            };
            if !COMMON.contains(&key.as_str()) && !own.contains(&key.as_str()) {
                return Err(format!("--{key} is not an option of {scenario}\n{USAGE}"));
            }
            values.insert(key, value);
        }
        Ok(Self { scenario, values })
    }

    fn text(&self, key: &str, default: &str) -> String {
        self.values
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, String> {
        match self.values.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{key} {v}: not a number")),
        }
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("table") {
        match table::render(&argv[2..]) {
            Ok(md) => print!("{md}"),
            Err(e) => fail(&e),
        }
        return;
    }
    let args = Args::parse().unwrap_or_else(|e| fail(&e));
    let threads: usize = args.num("threads", 1).unwrap_or_else(|e| fail(&e));
    // One thread by default: on a 2-core machine the generator should leave the server a
    // core; --threads says how many it may take.
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .expect("a tokio runtime");
    if let Err(e) = runtime.block_on(run(&args, threads)) {
        fail(&e);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

async fn run(args: &Args, threads: usize) -> Result<(), String> {
    let target = Target {
        socket: sio::Endpoint::parse(&args.text("url", "http://127.0.0.1:3001"))?,
        rest: args.text("rest", "http://127.0.0.1:3000"),
        secret: args.text(
            "secret",
            &std::env::var("JWT_SECRET").unwrap_or_else(|_| "bench-secret".to_owned()),
        ),
        service_key: args.text("service-key", "bench-key"),
        pid: args.values.get("pid").cloned(),
        connect_concurrency: args.num("connect-concurrency", 50)?,
        drain_timeout: Duration::from_secs_f64(args.num("drain-timeout", 10.0)?),
        text_bytes: args.num("text-bytes", 64)?,
    };
    if let Some(pid) = &target.pid {
        probe::process_cpu_s(pid).ok_or_else(|| format!("cannot read /proc/{pid}/stat"))?;
    }
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (report, line) = match args.scenario.as_str() {
        "chat" | "chat-closed" => {
            let closed = args.scenario == "chat-closed";
            let o = chat::Chat {
                clients: args.num("clients", 100)?,
                rooms: args.num("rooms", 50)?,
                duration_s: args.num("duration", 10.0)?,
                rate: args.num("rate", 10_000.0)?,
                window: if closed { args.num("window", 4)? } else { 0 },
                warmup_s: args.num("warmup", 2.0)?,
            };
            if closed && o.window == 0 {
                return Err("--window must be at least 1".to_owned());
            }
            chat::run(&target, &o).await?
        }
        "fanout" => {
            let o = fanout::Fanout {
                members: args.num("members", 1000)?,
                messages: args.num("messages", 100)?,
                rate: args.num("rate", 10.0)?,
                warmup_s: args.num("warmup", 2.0)?,
            };
            fanout::run(&target, &o).await?
        }
        "idle" => {
            let o = idle::Idle {
                connections: args.num("connections", 10_000)?,
                settle_s: args.num("settle", 3.0)?,
                hold_s: args.num("hold", 30.0)?,
            };
            idle::run(&target, &o).await?
        }
        _ => unreachable!("checked by Args::parse"),
    };
    let label = args.text("label", &args.scenario);
    let mut full = json!({
        "scenario": args.scenario,
        "label": label,
        "started_unix_s": started,
        "machine": probe::machine(),
        "server_pid": target.pid,
        "loadgen_threads": threads,
    });
    for (k, v) in report.as_object().expect("an object") {
        full[k] = v.clone();
    }
    let text = serde_json::to_string_pretty(&full).expect("serializable");
    println!("{} [{label}]: {line}", args.scenario);
    match args.values.get("out") {
        Some(path) => std::fs::write(path, text + "\n").map_err(|e| format!("{path}: {e}"))?,
        None => println!("{text}"),
    }
    log("done");
    Ok(())
}
