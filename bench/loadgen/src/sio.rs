//! A minimal Socket.IO v5 client over Engine.IO v4, WebSocket transport only: what the
//! benchmark needs and nothing else (no polling, no reconnection, no binary packets, the
//! default namespace only).
//!
//! Frames are text: the first character is the Engine.IO type (`0` open, `1` close, `2`
//! ping, `3` pong, `4` message), and a message carries a Socket.IO packet whose first
//! character is its type (`0` connect, `1` disconnect, `2` event, `3` ack, `4` connect
//! error), then an optional ack id, then a JSON array: `42["event",{…}]`, `4212["event",…]`
//! asks for ack 12, `4312[{…}]` answers it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{WebSocketStream, client_async};

pub type Ws = WebSocketStream<TcpStream>;

/// Where the Socket.IO server listens: `http://host:port[/path/]`, path `/socket.io/` by default.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub addr: String,
    pub path: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("ws://"))
            .ok_or_else(|| format!("{url}: only http:// or ws:// URLs"))?;
        let (addr, path) = match rest.find('/') {
            Some(i) if rest.len() > i + 1 => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], "/socket.io/".to_owned()),
            None => (rest, "/socket.io/".to_owned()),
        };
        Ok(Self {
            addr: addr.to_owned(),
            path,
        })
    }
}

/// Opens a WebSocket, reads Engine.IO's open packet and connects to the default namespace
/// with `auth` (a JSON object). Returns once the server accepted (`40{"sid":…}`).
pub async fn open(endpoint: &Endpoint, auth: &str) -> Result<Ws, String> {
    let tcp = TcpStream::connect(&endpoint.addr)
        .await
        .map_err(|e| format!("connect {}: {e}", endpoint.addr))?;
    // Browsers and socket.io-client send each frame at once; so do we, or Nagle would add
    // delayed-ACK waits to every measured latency.
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let url = format!(
        "ws://{}{}?EIO=4&transport=websocket",
        endpoint.addr, endpoint.path
    );
    let (mut ws, _) = client_async(url, tcp)
        .await
        .map_err(|e| format!("websocket upgrade: {e}"))?;
    match next_text(&mut ws).await? {
        t if t.starts_with('0') => {}
        t => return Err(format!("expected the Engine.IO open packet, got {t:.80}")),
    }
    send(&mut ws, format!("40{auth}")).await?;
    loop {
        let t = next_text(&mut ws).await?;
        if t == "2" {
            send(&mut ws, "3".to_owned()).await?;
        } else if t.starts_with("40") {
            return Ok(ws);
        } else if let Some(why) = t.strip_prefix("44") {
            return Err(format!("connect refused: {why:.200}"));
        } else if t.starts_with("42") {
            // An event before the connect packet (an `error` event, then a disconnect, is how
            // a server that checks the token after connecting refuses it).
            if t.contains("\"error\"") {
                return Err(format!("refused: {t:.200}"));
            }
        } else if t.starts_with('1') || t.starts_with("41") {
            return Err("closed during the connect".to_owned());
        }
    }
}

async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(_))) | None => return Err("closed".to_owned()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
        }
    }
}

async fn send(ws: &mut Ws, frame: String) -> Result<(), String> {
    ws.send(Message::text(frame))
        .await
        .map_err(|e| e.to_string())
}

/// What a connection does with the packets it receives.
pub trait Handler: Send + Sync + 'static {
    /// A Socket.IO packet (the Engine.IO `4` stripped) arrived on connection `conn` at `at`;
    /// frames pushed to `out` are sent right after it, on the same connection.
    fn packet(&self, conn: usize, packet: &str, at: Instant, out: &mut Vec<String>);
    /// The connection ended; `asked` when the benchmark closed it itself.
    fn closed(&self, conn: usize, asked: bool, why: &str);
}

enum Command {
    Send(String),
    Close,
}

/// The handle of a running connection: frames to send, and closing it.
pub struct Conn {
    tx: mpsc::UnboundedSender<Command>,
}

impl Conn {
    pub fn send(&self, frame: String) {
        // A connection that already ended drops the frame; its end was reported.
        let _ = self.tx.send(Command::Send(frame));
    }

    pub fn close(&self) {
        let _ = self.tx.send(Command::Close);
    }
}

/// Runs an open connection in its own task: answers pings, hands packets to `handler` and
/// writes what the benchmark and the handler send.
pub fn spawn(conn: usize, ws: Ws, handler: Arc<dyn Handler>) -> Conn {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(conn, ws, rx, handler));
    Conn { tx }
}

async fn run(
    conn: usize,
    mut ws: Ws,
    mut rx: mpsc::UnboundedReceiver<Command>,
    handler: Arc<dyn Handler>,
) {
    let mut out: Vec<String> = Vec::new();
    let (asked, why) = loop {
        let mut close = false;
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    let at = Instant::now();
                    let t = t.as_str();
                    match t.as_bytes().first() {
                        Some(b'2') => out.push("3".to_owned()),
                        Some(b'4') => handler.packet(conn, &t[1..], at, &mut out),
                        Some(b'1') => break (false, "the server closed the Engine.IO session".to_owned()),
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None => break (false, "the server closed the WebSocket".to_owned()),
                Some(Ok(_)) => {}
                Some(Err(e)) => break (false, e.to_string()),
            },
            command = rx.recv() => match command {
                Some(Command::Send(frame)) => {
                    out.push(frame);
                    // Whatever else is queued goes out in the same flush.
                    while let Ok(command) = rx.try_recv() {
                        match command {
                            Command::Send(frame) => out.push(frame),
                            Command::Close => close = true,
                        }
                    }
                }
                Some(Command::Close) | None => close = true,
            },
        }
        if let Err(e) = flush(&mut ws, &mut out).await {
            break (false, e);
        }
        if close {
            // Engine.IO close, then the WebSocket close; don't wait long for the server's echo.
            let _ = ws.send(Message::text("1")).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
            break (true, "closed by the benchmark".to_owned());
        }
    };
    handler.closed(conn, asked, &why);
}

async fn flush(ws: &mut Ws, out: &mut Vec<String>) -> Result<(), String> {
    if out.is_empty() {
        return Ok(());
    }
    for frame in out.drain(..) {
        ws.feed(Message::text(frame))
            .await
            .map_err(|e| e.to_string())?;
    }
    ws.flush().await.map_err(|e| e.to_string())
}

/// A Socket.IO packet, borrowed from the frame.
#[derive(Debug, PartialEq)]
pub enum Packet<'a> {
    /// `2[…]`: `payload` is the JSON array `["name", args…]`.
    Event {
        name: &'a str,
        payload: &'a str,
    },
    /// `3<id>[…]`: `payload` is the JSON array of the ack's arguments.
    Ack {
        id: u64,
        payload: &'a str,
    },
    Disconnect,
    ConnectError(&'a str),
    Other,
}

pub fn parse(packet: &str) -> Packet<'_> {
    let Some(kind) = packet.as_bytes().first() else {
        return Packet::Other;
    };
    let mut rest = &packet[1..];
    // A namespace other than "/" would come first, up to a comma; the benchmark uses "/".
    if rest.starts_with('/') {
        rest = rest.find(',').map_or("", |i| &rest[i + 1..]);
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = rest[..digits].parse::<u64>().ok();
    let payload = &rest[digits..];
    match (kind, id) {
        (b'2', _) => match event_name(payload) {
            Some(name) => Packet::Event { name, payload },
            None => Packet::Other,
        },
        (b'3', Some(id)) => Packet::Ack { id, payload },
        (b'1', _) => Packet::Disconnect,
        (b'4', _) => Packet::ConnectError(payload),
        _ => Packet::Other,
    }
}

/// The event name of `["name",…]` without decoding the rest (names carry no escapes).
fn event_name(payload: &str) -> Option<&str> {
    let rest = payload.strip_prefix("[\"")?;
    rest.find('"').map(|end| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_and_acks() {
        assert_eq!(
            parse(r#"2["user_joined",{"userId":"a"}]"#),
            Packet::Event {
                name: "user_joined",
                payload: r#"["user_joined",{"userId":"a"}]"#
            }
        );
        assert_eq!(
            parse(r#"312[{"_id":"x"}]"#),
            Packet::Ack {
                id: 12,
                payload: r#"[{"_id":"x"}]"#
            }
        );
        assert_eq!(
            parse(r#"3/chat,7[{}]"#),
            Packet::Ack {
                id: 7,
                payload: "[{}]"
            }
        );
        assert_eq!(parse("1"), Packet::Disconnect);
        assert_eq!(parse(""), Packet::Other);
    }

    #[test]
    fn parses_endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:3001").unwrap();
        assert_eq!(
            (e.addr.as_str(), e.path.as_str()),
            ("127.0.0.1:3001", "/socket.io/")
        );
        let e = Endpoint::parse("ws://localhost:80/io/").unwrap();
        assert_eq!((e.addr.as_str(), e.path.as_str()), ("localhost:80", "/io/"));
    }
}
