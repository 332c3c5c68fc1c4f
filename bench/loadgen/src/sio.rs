//! A minimal Socket.IO v5 client over Engine.IO v4, WebSocket transport only: what the
//! benchmark needs and nothing else (no polling, no reconnection, no binary packets, the
//! default namespace only). The same connections speak switchboard's native protocol
//! (docs/PROTOCOL.md) when the URL's path is `/ws`: the frames the scenarios build and read
//! stay Socket.IO packets, translated at the socket (`native` below), so every scenario and
//! its bookkeeping run unchanged on either protocol.
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
    /// The native protocol (path `/ws`) instead of Socket.IO.
    pub native: bool,
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
            native: path == "/ws",
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
    if endpoint.native {
        return native::open(endpoint, tcp, auth).await;
    }
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
pub fn spawn(conn: usize, ws: Ws, handler: Arc<dyn Handler>, native: bool) -> Conn {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(conn, ws, rx, handler, native));
    Conn { tx }
}

async fn run(
    conn: usize,
    mut ws: Ws,
    mut rx: mpsc::UnboundedReceiver<Command>,
    handler: Arc<dyn Handler>,
    native: bool,
) {
    // A native connection's frames become Socket.IO ones on the way in, and the other way
    // on the way out; its pings are WebSocket pings, which tungstenite answers.
    let outgoing = |frame: String| if native { native::request(&frame) } else { frame };
    let mut out: Vec<String> = Vec::new();
    let (asked, why) = loop {
        let mut close = false;
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    let at = Instant::now();
                    let t = t.as_str();
                    match t.as_bytes().first() {
                        Some(b'{') if native => match native::packet(t) {
                            Some(packet) => handler.packet(conn, &packet, at, &mut out),
                            None => {}
                        },
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
                    out.push(outgoing(frame));
                    // Whatever else is queued goes out in the same flush.
                    while let Ok(command) = rx.try_recv() {
                        match command {
                            Command::Send(frame) => out.push(outgoing(frame)),
                            Command::Close => close = true,
                        }
                    }
                }
                Some(Command::Close) | None => close = true,
            },
        }
        if native {
            for frame in &mut out {
                // What the handler answered with (the next message of a closed loop).
                if !frame.starts_with('{') {
                    *frame = native::request(frame);
                }
            }
        }
        if let Err(e) = flush(&mut ws, &mut out).await {
            break (false, e);
        }
        if close {
            // Engine.IO close, then the WebSocket close; don't wait long for the server's echo.
            if !native {
                let _ = ws.send(Message::text("1")).await;
            }
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

/// The native protocol, as seen by the Socket.IO-shaped scenarios.
mod native {
    use serde_json::Value;
    use tokio::net::TcpStream;
    use tokio_tungstenite::client_async;

    use super::{Endpoint, Ws, next_text, send};

    /// Upgrades on `/ws`, says `hello` with `auth` (`{"token":…}`) and waits for `welcome`.
    pub async fn open(endpoint: &Endpoint, tcp: TcpStream, auth: &str) -> Result<Ws, String> {
        let url = format!("ws://{}{}", endpoint.addr, endpoint.path);
        let (mut ws, _) = client_async(url, tcp)
            .await
            .map_err(|e| format!("websocket upgrade: {e}"))?;
        send(&mut ws, format!(r#"{{"type":"hello","data":{auth}}}"#)).await?;
        let t = next_text(&mut ws).await?;
        if t.starts_with(r#"{"type":"welcome""#) {
            Ok(ws)
        } else {
            Err(format!("refused: {t:.200}"))
        }
    }

    /// `42<id>["send_message",{"chatRoomId":…,"text":…}]` as the native request
    /// `{"id":<id>,"type":"messages.send","data":{"conversationId":…,"text":…}}`; `join_room`
    /// likewise becomes `conversations.join`.
    pub fn request(frame: &str) -> String {
        let Some(rest) = frame.strip_prefix("42") else {
            return frame.to_owned();
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (id, array) = rest.split_at(digits);
        let Some(body) = array.strip_prefix("[\"") else {
            return frame.to_owned();
        };
        let Some(end) = body.find('"') else {
            return frame.to_owned();
        };
        let name = &body[..end];
        let payload = body[end + 1..]
            .strip_prefix(',')
            .and_then(|p| p.strip_suffix(']'))
            .unwrap_or("null");
        let kind = match name {
            "send_message" => "messages.send",
            "join_room" => "conversations.join",
            other => other,
        };
        let payload = payload.replacen(r#""chatRoomId":"#, r#""conversationId":"#, 1);
        format!(r#"{{"id":{id},"type":"{kind}","data":{payload}}}"#)
    }

    /// A native frame as a Socket.IO packet (without the Engine.IO `4`): an event
    /// `{"type":"message.new","data":…}` as `2["receive_message",…]`, an answer
    /// `{"id":n,"ok":…}` as the ack `3<n>[…]` (a refusal as `[{"error":…}]`).
    pub fn packet(frame: &str) -> Option<String> {
        if let Some(rest) = frame.strip_prefix(r#"{"type":""#) {
            let end = rest.find('"')?;
            let name = match &rest[..end] {
                "message.new" => "receive_message",
                other => other,
            };
            let data = rest[end..]
                .strip_prefix(r#"","data":"#)?
                .strip_suffix('}')?;
            return Some(format!(r#"2["{name}",{data}]"#));
        }
        let answer: Value = serde_json::from_str(frame).ok()?;
        let id = answer.get("id")?.as_u64()?;
        let body = if answer["ok"] == Value::Bool(true) {
            answer.get("data").cloned().unwrap_or(Value::Null)
        } else {
            serde_json::json!({ "error": answer["error"] })
        };
        Some(format!("3{id}[{body}]"))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn frames_translate_both_ways() {
            assert_eq!(
                request(r#"427["send_message",{"chatRoomId":"r1","text":"6 xx"}]"#),
                r#"{"id":7,"type":"messages.send","data":{"conversationId":"r1","text":"6 xx"}}"#
            );
            assert_eq!(
                request(r#"420["join_room",{"chatRoomId":"r1"}]"#),
                r#"{"id":0,"type":"conversations.join","data":{"conversationId":"r1"}}"#
            );
            assert_eq!(
                packet(r#"{"type":"message.new","data":{"seq":1}}"#).unwrap(),
                r#"2["receive_message",{"seq":1}]"#
            );
            assert_eq!(
                packet(r#"{"id":7,"ok":true,"data":{"seq":1}}"#).unwrap(),
                r#"37[{"seq":1}]"#
            );
            assert_eq!(
                packet(r#"{"id":7,"ok":false,"error":{"code":"x"}}"#).unwrap(),
                r#"37[{"error":{"code":"x"}}]"#
            );
        }
    }
}
