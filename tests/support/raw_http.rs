//! One HTTP/1.1 request on a TCP connection of its own, written by hand: for the tests that
//! must see exactly what goes over the wire (a status, a header, a long-poll's packets)
//! without a client library in between.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long the whole answer may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What came back.
pub struct Answer {
    pub status: u16,
    /// The status line and headers, lowercased.
    pub head: String,
    /// The body, de-chunked when it came chunked.
    pub body: String,
}

/// `host:port` of a listener URL (`http://host:port`).
pub fn host(url: &str) -> &str {
    url.trim_start_matches("http://")
}

/// Sends one request (`connection: close`) and reads the answer to its end.
pub async fn request(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Answer {
    let host = host(url);
    let mut stream = TcpStream::connect(host).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    timeout(ANSWER_TIMEOUT, stream.read_to_end(&mut raw))
        .await
        .unwrap_or_else(|_| panic!("an answer within {ANSWER_TIMEOUT:?}"))
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let head = head.to_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Answer { status, head, body }
}

/// The data of a chunked body (answers here are small: a crude reading is enough).
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
