//! A reference client of the native protocol (docs/PROTOCOL.md), small enough to copy: it
//! connects to `/ws`, says `hello` (with what it holds, to resume), sends requests and
//! matches answers by id, and hands events over in arrival order. [`Inbox`] is the part
//! that makes a dropped connection lose nothing: it keeps, per conversation, every message
//! in seq order, knows the last seq it holds without a gap (what `hello` resumes from), and
//! drops a message it already holds.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The requests waiting for their answers, by id.
type Waiting = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, Refused>>>>>;

/// How long the client waits for an answer or an event.
pub const WAIT: Duration = Duration::from_secs(10);

/// A refused request: the error's stable code and its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: String,
    pub message: String,
}

/// How a connection ended, as the server's close frame said (`None`: no close frame).
pub type Closed = Option<(u16, String)>;

pub struct NativeClient {
    write: Mutex<SplitSink<Socket, Message>>,
    next_id: AtomicU64,
    waiting: Waiting,
    events: mpsc::UnboundedReceiver<(String, Value)>,
    closed: Option<oneshot::Receiver<Closed>>,
    reader: tokio::task::JoinHandle<()>,
}

impl NativeClient {
    /// Connects to `base` (`http://host:port`), says `hello` with `data` (`{ token, resume }`),
    /// and returns the client; the greeting (`welcome`, a resume's messages) arrives as events.
    pub async fn connect(base: &str, hello: Value) -> Result<Self, String> {
        Self::connect_to(&endpoint(base), hello).await
    }

    /// `connect`, to the endpoint's full URL (`ws://host:port/ws?…`).
    pub async fn connect_to(url: &str, hello: Value) -> Result<Self, String> {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("connect {url}: {e}"))?;
        let (mut write, mut read) = socket.split();
        let frame = json!({ "type": "hello", "data": hello }).to_string();
        write
            .send(Message::text(frame))
            .await
            .map_err(|e| format!("hello: {e}"))?;
        let waiting: Waiting = Arc::default();
        let (events_tx, events) = mpsc::unbounded_channel();
        let (closed_tx, closed) = oneshot::channel();
        let answers = waiting.clone();
        let reader = tokio::spawn(async move {
            let mut close = None;
            while let Some(Ok(message)) = read.next().await {
                let text = match message {
                    Message::Text(text) => text,
                    Message::Close(frame) => {
                        close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                        break;
                    }
                    _ => continue,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                match frame.get("id").and_then(Value::as_u64) {
                    Some(id) if frame.get("ok").is_some() => {
                        if let Some(tx) = answers.lock().await.remove(&id) {
                            let _ = tx.send(answer(&frame));
                        }
                    }
                    _ => {
                        let kind = frame["type"].as_str().unwrap_or_default().to_owned();
                        // Answers without a known id (a bad frame) come as events named "answer".
                        let kind = if kind.is_empty() {
                            "answer".into()
                        } else {
                            kind
                        };
                        let data = frame.get("data").cloned().unwrap_or(frame);
                        let _ = events_tx.send((kind, data));
                    }
                }
            }
            let _ = closed_tx.send(close);
        });
        Ok(Self {
            write: Mutex::new(write),
            next_id: AtomicU64::new(1),
            waiting,
            events,
            closed: Some(closed),
            reader,
        })
    }

    /// Sends a request and waits for its answer.
    pub async fn request(&self, kind: &str, data: Value) -> Result<Value, Refused> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().await.insert(id, tx);
        self.send_raw(&json!({ "id": id, "type": kind, "data": data }).to_string())
            .await;
        match tokio::time::timeout(WAIT, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(Refused {
                code: "closed".into(),
                message: format!("the connection closed before {kind} was answered"),
            }),
            Err(_) => Err(Refused {
                code: "timeout".into(),
                message: format!("no answer to {kind} within {WAIT:?}"),
            }),
        }
    }

    /// Sends any text frame as it is (for testing what the server does with it).
    pub async fn send_raw(&self, text: &str) {
        let _ = self
            .write
            .lock()
            .await
            .send(Message::text(text.to_owned()))
            .await;
    }

    pub async fn send_binary(&self, bytes: Vec<u8>) {
        let _ = self.write.lock().await.send(Message::binary(bytes)).await;
    }

    /// The next event: its type and data.
    pub async fn next_event(&mut self) -> Option<(String, Value)> {
        tokio::time::timeout(WAIT, self.events.recv()).await.ok()?
    }

    /// The next event named `kind`, skipping others.
    pub async fn next(&mut self, kind: &str) -> Value {
        loop {
            match self.next_event().await {
                Some((k, data)) if k == kind => return data,
                Some(_) => {}
                None => panic!("no {kind} event within {WAIT:?}"),
            }
        }
    }

    /// An event that is already here or arrives within `wait`.
    pub async fn try_next_event(&mut self, wait: Duration) -> Option<(String, Value)> {
        tokio::time::timeout(wait, self.events.recv()).await.ok()?
    }

    /// Waits for the server to close the connection; its close frame.
    pub async fn closed(&mut self) -> Closed {
        let closed = self.closed.take().expect("closed() is called once");
        tokio::time::timeout(WAIT, closed)
            .await
            .expect("the server closes the connection")
            .unwrap_or(None)
    }

    /// Drops the connection without a close frame, as a network failure would: the TCP
    /// connection is closed under the server. (Dropping the client does the same.)
    pub fn drop_transport(self) {
        drop(self);
    }
}

impl Drop for NativeClient {
    fn drop(&mut self) {
        // The reader task owns the socket's read half: without it, the socket closes.
        self.reader.abort();
    }
}

/// The native endpoint of a listener's base URL (`http://host:port`).
pub fn endpoint(base: &str) -> String {
    format!("{}/ws", base.replacen("http", "ws", 1))
}

fn answer(frame: &Value) -> Result<Value, Refused> {
    if frame["ok"] == json!(true) {
        Ok(frame.get("data").cloned().unwrap_or(Value::Null))
    } else {
        Err(Refused {
            code: frame["error"]["code"].as_str().unwrap_or_default().into(),
            message: frame["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .into(),
        })
    }
}

/// A client's messages, per conversation, in seq order, each once.
#[derive(Default)]
pub struct Inbox {
    conversations: HashMap<String, Conversation>,
    /// Messages received that the inbox already held (a live copy after a replay, or a
    /// replay of something received out of order before the drop).
    pub duplicates: u64,
}

#[derive(Default)]
struct Conversation {
    /// Every seq up to this one is in `messages` (what a resume starts after).
    contiguous: u64,
    messages: BTreeMap<u64, Value>,
}

impl Inbox {
    /// Takes a `message.new`; `false` when it was a duplicate.
    pub fn accept(&mut self, message: &Value) -> bool {
        let conversation = message["conversationId"].as_str().unwrap_or_default();
        let seq = message["seq"]
            .as_u64()
            .expect("every message carries its seq");
        let entry = self
            .conversations
            .entry(conversation.to_owned())
            .or_default();
        if entry.messages.contains_key(&seq) {
            self.duplicates += 1;
            return false;
        }
        entry.messages.insert(seq, message.clone());
        while entry.messages.contains_key(&(entry.contiguous + 1)) {
            entry.contiguous += 1;
        }
        true
    }

    /// Starts keeping a conversation the client knows of, holding nothing yet.
    pub fn track(&mut self, conversation: &str) {
        self.conversations
            .entry(conversation.to_owned())
            .or_default();
    }

    /// What `hello` resumes from: per conversation, the last seq held without a gap.
    pub fn resume(&self) -> Value {
        let conversations: serde_json::Map<String, Value> = self
            .conversations
            .iter()
            .map(|(id, c)| (id.clone(), json!(c.contiguous)))
            .collect();
        json!({ "conversations": conversations })
    }

    /// A conversation's messages, in seq order.
    pub fn messages(&self, conversation: &str) -> Vec<&Value> {
        self.conversations
            .get(conversation)
            .map(|c| c.messages.values().collect())
            .unwrap_or_default()
    }
}
