//! The Rust end of `tests/js/bridge.mjs`: a Node.js process running the real socket.io-client
//! for the steps. Commands go out as JSON lines and are answered by id; every event a client
//! receives is kept in arrival order, so that a step can wait for one (taking it, so that the
//! next wait sees only later or other events) or check that one does not come.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};

/// How long a command may take to be answered (an HTTP call, a connect, an ack).
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// One event as a client received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub event: String,
    pub args: Vec<Value>,
}

impl Received {
    /// The first argument, which is the payload for every event the dialects send.
    pub fn payload(&self) -> &Value {
        self.args.first().unwrap_or(&Value::Null)
    }
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

#[derive(Default)]
struct Inbox {
    /// Per client, the events not taken yet.
    events: HashMap<String, Vec<Received>>,
    /// Lines the bridge wrote that are neither replies nor events: shown when a step fails.
    noise: Vec<String>,
}

pub struct Bridge {
    child: Child,
    stdin: ChildStdin,
    next_id: AtomicU64,
    pending: Pending,
    inbox: Arc<Mutex<Inbox>>,
    /// Bumped on every event, so that waiters re-check.
    arrivals: watch::Receiver<u64>,
    reader: JoinHandle<()>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

impl Bridge {
    /// Starts `node tests/js/bridge.mjs`.
    pub fn spawn() -> Self {
        let script = crate::support::js_dir().join("bridge.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .current_dir(crate::support::js_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot run node: Node.js 20 or later must be on PATH");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let pending: Pending = Arc::default();
        let inbox: Arc<Mutex<Inbox>> = Arc::default();
        let (arrived, arrivals) = watch::channel(0u64);

        let reader = {
            let pending = pending.clone();
            let inbox = inbox.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let Ok(value) = serde_json::from_str::<Value>(&line) else {
                        inbox.lock().unwrap().noise.push(line);
                        continue;
                    };
                    if value["type"] == "event" {
                        let client = value["client"].as_str().unwrap_or_default().to_owned();
                        let received = Received {
                            event: value["event"].as_str().unwrap_or_default().to_owned(),
                            args: value["args"].as_array().cloned().unwrap_or_default(),
                        };
                        inbox
                            .lock()
                            .unwrap()
                            .events
                            .entry(client)
                            .or_default()
                            .push(received);
                        arrived.send_modify(|n| *n += 1);
                    } else if let Some(id) = value["id"].as_u64() {
                        if let Some(reply) = pending.lock().unwrap().remove(&id) {
                            let _ = reply.send(value);
                        }
                    } else {
                        inbox.lock().unwrap().noise.push(line);
                    }
                }
            })
        };
        Self {
            child,
            stdin,
            next_id: AtomicU64::new(1),
            pending,
            inbox,
            arrivals,
            reader,
        }
    }

    /// Sends one command and returns its reply; `Err` carries the bridge's error text.
    pub async fn command(&mut self, mut cmd: Value) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        cmd["id"] = json!(id);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let mut line = serde_json::to_vec(&cmd).expect("a command is JSON");
        line.push(b'\n');
        self.stdin
            .write_all(&line)
            .await
            .map_err(|err| format!("the bridge is gone: {err}"))?;
        let reply = tokio::time::timeout(REPLY_TIMEOUT, rx)
            .await
            .map_err(|_| format!("no reply to {cmd} within {REPLY_TIMEOUT:?}"))?
            .map_err(|_| "the bridge exited".to_owned())?;
        if reply["ok"] == true {
            Ok(reply)
        } else {
            Err(reply["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_owned())
        }
    }

    /// Opens a socket.io-client connection named `client`; the reply says whether the
    /// handshake completed (`connected`), and the events follow on their own.
    pub async fn connect(&mut self, client: &str, url: &str, options: Value) -> Value {
        self.forget(client);
        self.command(json!({ "op": "connect", "client": client, "url": url, "options": options }))
            .await
            .unwrap_or_else(|err| panic!("connect {client}: {err}"))
    }

    pub async fn emit(&mut self, client: &str, event: &str, args: Vec<Value>) {
        self.command(json!({ "op": "emit", "client": client, "event": event, "args": args }))
            .await
            .unwrap_or_else(|err| panic!("{client} emit {event}: {err}"));
    }

    /// Emits with an acknowledgement callback and returns the ack's first argument.
    pub async fn emit_with_ack(&mut self, client: &str, event: &str, args: Vec<Value>) -> Value {
        let reply = self
            .command(json!({
                "op": "emit", "client": client, "event": event, "args": args, "ack": true,
            }))
            .await
            .unwrap_or_else(|err| panic!("{client} emit {event}: {err}"));
        reply["ack"][0].clone()
    }

    pub async fn disconnect(&mut self, client: &str) {
        self.command(json!({ "op": "disconnect", "client": client }))
            .await
            .unwrap_or_else(|err| panic!("disconnect {client}: {err}"));
    }

    /// An HTTP call made with Node's fetch; returns the status and the (JSON when possible) body.
    pub async fn http(
        &mut self,
        method: &str,
        url: &str,
        headers: Value,
        body: Option<Value>,
    ) -> (u16, Value) {
        let reply = self
            .command(json!({
                "op": "http", "method": method, "url": url, "headers": headers, "body": body,
            }))
            .await
            .unwrap_or_else(|err| panic!("{method} {url}: {err}"));
        let status = reply["status"].as_u64().expect("a status") as u16;
        (status, reply["body"].clone())
    }

    /// A multipart POST of text `fields` and `files` (`(field, file name, content type,
    /// bytes)`), as a browser's FormData sends it; returns the status and the body.
    pub async fn upload(
        &mut self,
        url: &str,
        headers: Value,
        fields: Value,
        files: &[(&str, &str, &str, &[u8])],
    ) -> (u16, Value) {
        let files: Vec<Value> = files
            .iter()
            .map(|(field, name, content_type, bytes)| {
                json!({ "field": field, "name": name, "type": content_type, "hex": hex(bytes) })
            })
            .collect();
        let reply = self
            .command(json!({
                "op": "upload", "url": url, "headers": headers, "fields": fields, "files": files,
            }))
            .await
            .unwrap_or_else(|err| panic!("upload to {url}: {err}"));
        let status = reply["status"].as_u64().expect("a status") as u16;
        (status, reply["body"].clone())
    }

    /// A GET of raw bytes: the status, the content type and the bytes.
    pub async fn download(&mut self, url: &str) -> (u16, String, Vec<u8>) {
        let reply = self
            .command(json!({ "op": "download", "url": url }))
            .await
            .unwrap_or_else(|err| panic!("download {url}: {err}"));
        let status = reply["status"].as_u64().expect("a status") as u16;
        let content_type = reply["contentType"].as_str().unwrap_or_default().to_owned();
        let bytes = unhex(reply["hex"].as_str().expect("the bytes in hex"));
        (status, content_type, bytes)
    }

    /// Drops what a client received so far (a new connection under an old name starts clean).
    fn forget(&mut self, client: &str) {
        self.inbox.lock().unwrap().events.remove(client);
    }

    fn take(
        &self,
        client: &str,
        event: &str,
        matches: &dyn Fn(&Received) -> bool,
    ) -> Option<Received> {
        let mut inbox = self.inbox.lock().unwrap();
        let events = inbox.events.get_mut(client)?;
        let index = events.iter().position(|r| r.event == event && matches(r))?;
        Some(events.remove(index))
    }

    fn describe(&self, client: &str) -> String {
        let inbox = self.inbox.lock().unwrap();
        let mut out = String::new();
        for r in inbox.events.get(client).into_iter().flatten() {
            let args = Value::from(r.args.clone()).to_string();
            let args: String = args.chars().take(300).collect();
            out.push_str(&format!("\n    {} {args}", r.event));
        }
        if out.is_empty() {
            out.push_str(" none");
        }
        for line in &inbox.noise {
            out.push_str(&format!("\n  (bridge said: {line})"));
        }
        out
    }

    /// Waits up to `wait` for the first `event` of `client` that `matches`, and takes it.
    pub async fn expect(
        &mut self,
        client: &str,
        event: &str,
        wait: Duration,
        matches: &dyn Fn(&Received) -> bool,
    ) -> Result<Received, String> {
        let deadline = Instant::now() + wait;
        let mut arrivals = self.arrivals.clone();
        loop {
            arrivals.borrow_and_update();
            if let Some(found) = self.take(client, event, matches) {
                return Ok(found);
            }
            if timeout_at(deadline, arrivals.changed()).await.is_err() {
                return Err(format!(
                    "{client:?} received no matching {event:?} within {wait:?}; what it has not consumed:{}",
                    self.describe(client)
                ));
            }
        }
    }

    /// Waits `quiet`, then fails if `client` has an untaken `event` that `matches`.
    pub async fn expect_none(
        &mut self,
        client: &str,
        event: &str,
        quiet: Duration,
        matches: &dyn Fn(&Received) -> bool,
    ) -> Result<(), String> {
        tokio::time::sleep(quiet).await;
        match self.take(client, event, matches) {
            None => Ok(()),
            Some(found) => Err(format!(
                "{client:?} received an unexpected {event:?}: {}",
                Value::from(found.args)
            )),
        }
    }

    /// Closes every client and ends the process.
    pub async fn shutdown(mut self) {
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            self.command(json!({ "op": "shutdown" })),
        )
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
        let _ = self.child.start_kill();
        self.reader.abort();
    }
}

/// Bytes as lowercase hex, the bridge's encoding of binary payloads.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex from the bridge"))
        .collect()
}
