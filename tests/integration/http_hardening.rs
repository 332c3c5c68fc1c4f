//! The HTTP server against abusive clients, over real TCP: a client that drips its headers
//! is cut off after the header-read timeout; REST requests over the per-user or per-address
//! rate are answered 429 with `Retry-After`, while the service key is not limited by address.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::support::raw_http::{self, host};
use crate::support::{self, memory_store, user_token as token};

/// One request without a body: the status, the head (lowercased) and the body as JSON.
async fn call(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
) -> (u16, String, Value) {
    let answer = raw_http::request(url, method, path, headers, "").await;
    let body = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    (answer.status, answer.head, body)
}

#[tokio::test]
async fn a_client_that_drips_its_headers_is_cut_off() {
    let app = support::spawn_app_with(memory_store(), &["native".into()], |s| {
        s.http.header_read_timeout_secs = 1;
    })
    .await;
    let mut stream = TcpStream::connect(host(app.url("native"))).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: test\r\n")
        .await
        .unwrap();
    // One header byte every 200 ms, never finishing: without a header-read timeout this
    // holds the connection forever.
    let started = Instant::now();
    let mut closed = false;
    for _ in 0..50 {
        if stream.write_all(b"x").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        // Whatever the server says first (a 408, or nothing), it then closes.
        let read = timeout(Duration::from_millis(200), stream.read(&mut buf)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            closed = true;
            break;
        }
    }
    assert!(
        closed,
        "the connection is still open after {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // A prompt client is served as before.
    let (status, _, body) = call(app.url("native"), "GET", "/health", &[]).await;
    assert_eq!((status, &body["status"]), (200, &json!("ok")));
    app.stop().await;
}

#[tokio::test]
async fn requests_over_a_users_rate_are_answered_429_with_retry_after() {
    let app = support::spawn_app_with(memory_store(), &["linsta".into()], |s| {
        s.limits.rest_requests_per_second_per_user = 5;
    })
    .await;
    let url = app.url("linsta");
    let ann = [("authorization", format!("Bearer {}", token("ann")))];
    let mut statuses = Vec::new();
    for _ in 0..15 {
        statuses.push(call(url, "GET", "/api/chat/rooms", &ann).await);
    }
    let refused: Vec<_> = statuses.iter().filter(|(s, _, _)| *s == 429).collect();
    assert!(
        !refused.is_empty(),
        "{:?}",
        statuses.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    let (_, head, body) = refused[0];
    assert!(head.contains("\r\nretry-after: 1"), "{head}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("too many requests"))
    );
    // Another user is not held back by Ann.
    let bob = [("authorization", format!("Bearer {}", token("bob")))];
    assert_eq!(call(url, "GET", "/api/chat/rooms", &bob).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn requests_over_an_addresss_rate_are_refused_but_not_the_service_key() {
    let app = support::spawn_app_with(memory_store(), &["native".into()], |s| {
        s.limits.rest_requests_per_second_per_address = 5;
    })
    .await;
    let url = app.url("native");
    let mut anonymous = Vec::new();
    for _ in 0..15 {
        anonymous.push(call(url, "POST", "/api/v1/conversations", &[]).await.0);
    }
    assert_eq!(anonymous[0], 401, "the route answers as usual at first");
    assert!(anonymous.contains(&429), "{anonymous:?}");
    // The operator's own servers are not limited by address.
    let key = [("x-api-key", support::SERVICE_KEY.to_owned())];
    for i in 0..15 {
        let (status, _, body) = call(url, "PUT", &format!("/api/v1/users/u{i}"), &key).await;
        assert_ne!(status, 429, "{body}");
    }
    app.stop().await;
}
