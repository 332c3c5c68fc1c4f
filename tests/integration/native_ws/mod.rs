//! The native protocol over the raw WebSocket, end to end with the reference client
//! (`support::native_client`): every capability (`flows`), every error path (`errors`), and
//! resuming without loss across forced drops (`drops`); each on memory, SQLite, PostgreSQL and
//! MongoDB (`stores`).

mod drops;
mod errors;
mod flows;
mod stores;

use serde_json::{Value, json};

use crate::support::native_client::NativeClient;
use crate::support::raw_http::request;
use crate::support::{self, TestApp};

/// A connected client of `user`, its `welcome` read.
async fn connect(app: &TestApp, user: &str) -> NativeClient {
    connect_with(app, user, Value::Null).await
}

/// A connected client of `user` resuming from `resume`, its `welcome` read.
async fn connect_with(app: &TestApp, user: &str, resume: Value) -> NativeClient {
    let mut client = NativeClient::connect(
        app.url("native"),
        json!({ "token": support::user_token(user), "resume": resume }),
    )
    .await
    .expect("the native endpoint accepts the connection");
    let welcome = client.next("welcome").await;
    assert_eq!(welcome["user"]["id"], user, "{welcome}");
    client
}

/// The `message.new` of this seq, skipping earlier ones (a connection also gets its own
/// messages, and those of a conversation it is not looking at).
async fn message(client: &mut NativeClient, seq: u64) -> Value {
    loop {
        let message = client.next("message.new").await;
        let got = message["seq"].as_u64().unwrap_or_default();
        if got == seq {
            return message;
        }
        assert!(got < seq, "seq {got} came before {seq}: {message}");
    }
}

/// Opens (gets or creates) the conversation of `a` and `b`; its id.
async fn open(client: &NativeClient, other: &str) -> String {
    let opened = client
        .request("conversations.open", json!({ "participantIds": [other] }))
        .await
        .expect("conversations.open");
    opened["conversation"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// Stores a notification for `user` through the provisioning API.
async fn notify(app: &TestApp, user: &str, message: &str) {
    let body = json!({ "userId": user, "type": "LIKE", "message": message }).to_string();
    let answer = request(
        app.url("native"),
        "POST",
        "/api/v1/notifications",
        &[
            ("x-api-key", support::SERVICE_KEY.to_owned()),
            ("content-type", "application/json".to_owned()),
        ],
        &body,
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}
