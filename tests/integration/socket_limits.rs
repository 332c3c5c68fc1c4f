//! The limits of a Socket.IO connection, driven over raw HTTP long-polling (so that the
//! test decides exactly when the client reads): a client that reads less than it is sent is
//! cut off once its backlog outgrows its byte budget, instead of pinning memory; a burst of
//! requests whose answers cannot all be queued gets every answer or a closed connection,
//! never a silent drop; a backlog of pending notifications larger than the transport's
//! buffer arrives whole; a user's connections are capped; and a frame over the size limit
//! closes the connection before it is parsed.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard::bootstrap::config::Settings;
use tokio::time::Instant;

use crate::support::{self, TestApp, memory_store, raw_http, user_token as token};

/// Engine.IO's separator between packets of one polling payload.
const RECORD_SEPARATOR: char = '\u{1e}';

async fn app(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    support::spawn_app_with(memory_store(), &["native".into(), "linsta".into()], adjust).await
}

/// One request: the status and the body.
async fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    let answer = raw_http::request(url, method, path, headers, body).await;
    (answer.status, answer.body)
}

/// A Socket.IO client on HTTP long-polling that reads only when told to.
struct Poller {
    url: String,
    sid: String,
}

impl Poller {
    /// Opens the Engine.IO session and connects to the main namespace with `auth`.
    async fn connect(url: &str, auth: Value) -> Self {
        let (status, body) = http(url, "GET", "/socket.io/?EIO=4&transport=polling", &[], "").await;
        assert_eq!(status, 200, "{body}");
        let open: Value = serde_json::from_str(&body[1..]).expect("an open packet");
        let poller = Self {
            url: url.to_owned(),
            sid: open["sid"].as_str().unwrap().to_owned(),
        };
        poller.post(&format!("40{auth}")).await;
        poller
    }

    fn path(&self) -> String {
        format!("/socket.io/?EIO=4&transport=polling&sid={}", self.sid)
    }

    async fn post(&self, payload: &str) -> u16 {
        http(
            &self.url,
            "POST",
            &self.path(),
            &[("content-type", "text/plain".into())],
            payload,
        )
        .await
        .0
    }

    /// One long-poll: the packets it brings (answering pings), or `None` when the session is
    /// gone (the server closed it).
    async fn read(&self) -> Option<Vec<String>> {
        let (status, body) = http(&self.url, "GET", &self.path(), &[], "").await;
        if status != 200 {
            eprintln!("long-poll answered {status}: {body}");
            return None;
        }
        let packets: Vec<String> = body.split(RECORD_SEPARATOR).map(str::to_owned).collect();
        if packets.iter().any(|p| p == "2") {
            self.post("3").await;
        }
        Some(packets)
    }
}

/// The events among `packets`: `(name, first argument)`.
fn events(packets: &[String]) -> Vec<(String, Value)> {
    packets
        .iter()
        .filter_map(|p| p.strip_prefix("42"))
        .filter_map(|p| serde_json::from_str::<Value>(p).ok())
        .map(|v| (v[0].as_str().unwrap_or_default().to_owned(), v[1].clone()))
        .collect()
}

async fn notify(app: &TestApp, user: &str, message: &str) {
    let key = [
        ("x-api-key", support::SERVICE_KEY.to_owned()),
        ("content-type", "application/json".to_owned()),
    ];
    let body = json!({ "userId": user, "type": "LIKE", "message": message }).to_string();
    let (status, answer) = http(
        app.url("native"),
        "POST",
        "/api/v1/notifications",
        &key,
        &body,
    )
    .await;
    assert_eq!(status, 201, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_less_than_it_is_sent_is_cut_off() {
    let app = app(|s| s.limits.outbound_buffer_bytes = 32 * 1024).await;
    let bob = Poller::connect(app.url("linsta"), json!({ "token": token("bob") })).await;
    let connected = bob.read().await.expect("the connect answer");
    assert!(
        connected.iter().any(|p| p.starts_with("40")),
        "{connected:?}"
    );
    // 600 live notifications of ~2 KB, far more than the transport's 128 packets and the
    // 32 KiB budget, while Bob reads one long-poll every 300 ms.
    let filler = "x".repeat(2000);
    let flood = async {
        for n in 0..600 {
            notify(&app, "bob", &format!("{n} {filler}")).await;
        }
    };
    let reader = async {
        let mut received = 0;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            match bob.read().await {
                None => return (received, true),
                Some(packets) => {
                    received += events(&packets).len();
                    if packets.iter().any(|p| p == "41" || p == "1") {
                        return (received, true);
                    }
                }
            }
        }
        (received, false)
    };
    let ((), (received, closed)) = tokio::join!(flood, reader);
    assert!(
        closed,
        "still connected after reading {received} of 600 events"
    );
    assert!(
        received < 600,
        "it was cut off before everything was queued for it"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_a_burst_is_answered_or_the_connection_closes() {
    let app = app(|_| {}).await;
    let ann = Poller::connect(app.url("linsta"), json!({ "token": token("ann") })).await;
    ann.read().await.expect("the connect answer");
    // 2,000 requests with acks in one polling payload, without reading: more answers than
    // the transport holds (and than socketioxide's default 1,024 packets), and more requests
    // than the inbox holds (64).
    let burst: Vec<String> = (0..2000)
        .map(|id| format!("42{id}[\"subscribe_notifications\",{{}}]"))
        .collect();
    ann.post(&burst.join(&RECORD_SEPARATOR.to_string())).await;
    let mut answered = std::collections::HashSet::new();
    let mut closed = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && answered.len() < 2000 {
        let Some(packets) = ann.read().await else {
            closed = true;
            break;
        };
        for packet in &packets {
            if let Some(ack) = packet.strip_prefix("43") {
                let id: String = ack.chars().take_while(char::is_ascii_digit).collect();
                answered.insert(id);
            }
            if packet == "41" || packet == "1" {
                closed = true;
            }
        }
        if closed {
            break;
        }
    }
    assert!(
        answered.len() == 2000 || closed,
        "{} of 2000 requests answered and the connection still open",
        answered.len()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_pending_notifications_larger_than_the_buffer_arrives_whole() {
    let app = app(|_| {}).await;
    // More than the transport holds, and than socketioxide's default 1,024 packets.
    for n in 0..1500 {
        notify(&app, "carol", &format!("pending {n}")).await;
    }
    let carol = Poller::connect(app.url("linsta"), json!({ "token": token("carol") })).await;
    let mut messages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while messages.len() < 1500 && Instant::now() < deadline {
        let packets = carol.read().await.expect("still connected");
        messages.extend(
            events(&packets)
                .into_iter()
                .filter(|(name, _)| name == "notification")
                .map(|(_, n)| n["message"].as_str().unwrap_or_default().to_owned()),
        );
    }
    let expected: Vec<String> = (0..1500).map(|n| format!("pending {n}")).collect();
    assert_eq!(
        messages, expected,
        "every pending notification, in order, once"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_may_have_only_so_many_connections() {
    let app = app(|s| s.limits.max_connections_per_user = 3).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let dan = Poller::connect(app.url("linsta"), json!({ "token": token("dan") })).await;
        let packets = dan.read().await.expect("connected");
        assert!(packets.iter().any(|p| p.starts_with("40")), "{packets:?}");
        open.push(dan);
    }
    let fourth = Poller::connect(app.url("linsta"), json!({ "token": token("dan") })).await;
    let mut refused = Vec::new();
    for _ in 0..3 {
        match fourth.read().await {
            Some(packets) => refused.extend(packets),
            None => break,
        }
        if refused.iter().any(|p| p == "41") {
            break;
        }
    }
    let error = events(&refused)
        .into_iter()
        .find(|(name, _)| name == "error")
        .map(|(_, e)| e);
    assert!(
        error.as_ref().is_some_and(|e| e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("too many open connections")),
        "{refused:?}"
    );
    // Another user is not affected.
    let eve = Poller::connect(app.url("linsta"), json!({ "token": token("eve") })).await;
    assert!(
        eve.read()
            .await
            .unwrap()
            .iter()
            .any(|p| p.starts_with("40"))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_limit_closes_the_connection_before_it_is_parsed() {
    let app = app(|s| s.limits.max_frame_bytes = 4000).await;
    let fay = Poller::connect(app.url("linsta"), json!({ "token": token("fay") })).await;
    fay.read().await.expect("the connect answer");
    // Within the limit: answered, the connection stays.
    let small = format!(
        "421[\"send_message\",{{\"text\":\"{}\"}}]",
        "s".repeat(3000)
    );
    assert_eq!(fay.post(&small).await, 200);
    let answer = fay.read().await.expect("still connected");
    assert!(answer.iter().any(|p| p.starts_with("431")), "{answer:?}");
    // 2.5 times the limit: refused by the transport, and the session is gone (socket.io's
    // maxHttpBufferSize); it is not parsed and answered with an error.
    let big = format!(
        "422[\"send_message\",{{\"text\":\"{}\"}}]",
        "b".repeat(10_000)
    );
    let status = fay.post(&big).await;
    let mut after = Vec::new();
    let mut closed = false;
    for _ in 0..3 {
        match fay.read().await {
            None => {
                closed = true;
                break;
            }
            Some(packets) => {
                closed = packets.iter().any(|p| p == "1" || p == "41");
                after.extend(packets);
                if closed {
                    break;
                }
            }
        }
    }
    assert!(closed, "posting it answered {status}, then {after:?}");
    assert!(
        !after.iter().any(|p| p.starts_with("432")),
        "the oversize frame was parsed and answered: {after:?}"
    );
    app.stop().await;
}
