//! Every way a native request or connection is refused: the code, the words, and what
//! happens to the connection.

use serde_json::{Value, json};

use super::{connect, open};
use crate::support::native_client::{NativeClient, endpoint};
use crate::support::{self, TestApp, memory_store};

async fn app() -> TestApp {
    support::spawn_app(&["native".into()]).await
}

super::stores::on_every_store!(bad_requests_get_stable_codes_and_the_connection_stays_usable);

/// Connects with this hello data and expects the refusal: its error code and close code.
async fn refused_at_hello(app: &TestApp, hello: Value) -> (String, Option<u16>) {
    let mut client = NativeClient::connect(app.url("native"), hello)
        .await
        .unwrap();
    let error = client.next("error").await;
    let closed = client.closed().await;
    (
        error["code"].as_str().unwrap_or_default().to_owned(),
        closed.map(|(code, _)| code),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_without_valid_credentials_are_refused() {
    let app = app().await;
    assert_eq!(
        refused_at_hello(&app, json!({})).await,
        ("unauthenticated".into(), Some(1008))
    );
    assert_eq!(
        refused_at_hello(&app, json!({ "token": "not-a-jwt" })).await,
        ("unauthenticated".into(), Some(1008))
    );
    let other_secret = support::user_token_signed_with("alice", "another-secret");
    assert_eq!(
        refused_at_hello(&app, json!({ "token": other_secret })).await,
        ("unauthenticated".into(), Some(1008))
    );
    assert_eq!(
        refused_at_hello(
            &app,
            json!({ "token": support::user_token("alice"), "resume": { "conversations": [] } })
        )
        .await,
        ("bad_request".into(), Some(1008)),
        "a resume that cannot be read refuses the connection"
    );
    // The token may come in the upgrade request instead (query string).
    let url = format!(
        "{}?token={}",
        endpoint(app.url("native")),
        support::user_token("alice")
    );
    let mut client = NativeClient::connect_to(&url, json!({})).await.unwrap();
    assert_eq!(client.next("welcome").await["user"]["id"], "alice");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_frame_that_is_not_hello_is_refused() {
    let app = app().await;
    let url = endpoint(app.url("native"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    socket
        .send(Message::text(r#"{"id":1,"type":"conversations.list"}"#))
        .await
        .unwrap();
    let Some(Ok(Message::Text(error))) = socket.next().await else {
        panic!("an error event")
    };
    let error: Value = serde_json::from_str(&error).unwrap();
    assert_eq!(
        (error["type"].as_str(), error["data"]["code"].as_str()),
        (Some("error"), Some("bad_frame"))
    );
    match socket.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1008),
        other => panic!("a close frame, not {other:?}"),
    }
    // Plain HTTP on the endpoint is told what it is.
    let answer = support::raw_http::request(app.url("native"), "GET", "/ws", &[], "").await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("WebSocket"), "{}", answer.body);
    app.stop().await;
}

async fn bad_requests_get_stable_codes_and_the_connection_stays_usable(app: &TestApp) {
    let mut alice = connect(app, "alice").await;
    let carol = connect(app, "carol").await;
    let theirs = open(&carol, "dave").await;

    // Frames that are not requests: answered with the id when it could be read, else null.
    alice.send_raw("not json").await;
    let answer = alice.next("answer").await;
    assert_eq!(
        (
            answer["id"].clone(),
            answer["ok"].clone(),
            answer["error"]["code"].as_str()
        ),
        (Value::Null, json!(false), Some("bad_frame"))
    );
    alice.send_raw(r#"{"type":"conversations.list"}"#).await;
    assert_eq!(alice.next("answer").await["error"]["code"], "bad_frame");
    alice.send_binary(vec![1, 2, 3]).await;
    assert_eq!(alice.next("answer").await["error"]["code"], "bad_frame");

    let code = |r: Result<Value, support::native_client::Refused>| r.unwrap_err().code;
    assert_eq!(
        code(alice.request("messages.teleport", json!({})).await),
        "unknown_type"
    );
    assert_eq!(
        code(
            alice
                .request("messages.send", json!({ "text": "hi" }))
                .await
        ),
        "bad_request"
    );
    assert_eq!(
        code(
            alice
                .request(
                    "messages.send",
                    json!({ "conversationId": 7, "text": "hi" })
                )
                .await
        ),
        "bad_request"
    );
    assert_eq!(
        code(alice.request("messages.send", json!("just text")).await),
        "bad_request"
    );
    assert_eq!(
        code(
            alice
                .request(
                    "messages.send",
                    json!({ "conversationId": "66f1234567890abcdef99999", "text": "hi" })
                )
                .await
        ),
        "not_found"
    );
    assert_eq!(
        code(
            alice
                .request(
                    "messages.send",
                    json!({ "conversationId": theirs, "text": "hi" })
                )
                .await
        ),
        "forbidden"
    );
    assert_eq!(
        code(
            alice
                .request("messages.history", json!({ "conversationId": theirs }))
                .await
        ),
        "forbidden"
    );
    let mine = open(&alice, "bob").await;
    assert_eq!(
        code(
            alice
                .request(
                    "messages.send",
                    json!({ "conversationId": mine, "text": "   " })
                )
                .await
        ),
        "bad_request"
    );
    assert_eq!(
        code(
            alice
                .request(
                    "messages.history",
                    json!({ "conversationId": mine, "afterSeq": 1, "beforeSeq": 3 })
                )
                .await
        ),
        "bad_request"
    );
    assert_eq!(
        code(
            alice
                .request("conversations.open", json!({ "participantIds": "bob" }))
                .await
        ),
        "bad_request"
    );
    assert_eq!(
        code(
            alice
                .request("presence.set", json!({ "online": "yes" }))
                .await
        ),
        "bad_request"
    );
    assert_eq!(
        code(
            alice
                .request(
                    "notifications.read",
                    json!({ "notificationId": "66f1234567890abcdef99999" })
                )
                .await
        ),
        "not_found"
    );
    assert_eq!(
        code(alice.request("call.accept", json!({})).await),
        "not_found"
    );
    // After all that, the connection still works.
    let sent = alice
        .request(
            "messages.send",
            json!({ "conversationId": mine, "text": "still here" }),
        )
        .await
        .unwrap();
    assert_eq!(sent["seq"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limits_apply_with_their_codes() {
    let app = support::spawn_app_with(memory_store(), &["native".into()], |s| {
        s.limits.events_per_second = 5;
        s.limits.max_frame_bytes = 2048;
    })
    .await;
    let alice = connect(&app, "alice").await;
    let id = open(&alice, "bob").await;
    let big = "x".repeat(1500);
    let refused = alice
        .request(
            "messages.send",
            json!({ "conversationId": id, "text": big, "clientKey": "k".repeat(600) }),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, "too_large", "{refused:?}");
    let mut codes = Vec::new();
    for _ in 0..10 {
        codes.push(match alice.request("conversations.list", json!({})).await {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.code,
        });
    }
    assert!(codes.iter().any(|c| c == "rate_limited"), "{codes:?}");
    // A frame past the transport's limit closes the connection (1009).
    let mut bob = connect(&app, "bob").await;
    bob.send_raw(&format!(
        r#"{{"id":1,"type":"x","data":"{}"}}"#,
        "y".repeat(8 * 1024)
    ))
    .await;
    assert_eq!(bob.closed().await.map(|(code, _)| code), Some(1009));
    // So does a hello past it.
    let mut carol =
        NativeClient::connect(app.url("native"), json!({ "token": "z".repeat(8 * 1024) }))
            .await
            .unwrap();
    let closed = carol.closed().await;
    assert_eq!(
        closed.as_ref().map(|(code, _)| *code),
        Some(1009),
        "{closed:?}"
    );
    app.stop().await;
}
