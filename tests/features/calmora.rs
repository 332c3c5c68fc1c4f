//! Steps of the `calmora` dialect (docs/DIALECTS.md): `registerUser` after connecting (with a
//! token, or with legacy identity), chats named by the client, `sendMessage` /
//! `receiveMessage`, `joinRoom` / `leaveRoom` and the chat notifications they decide, and the
//! API's `POST /emit-notification`.

use std::sync::atomic::{AtomicU64, Ordering};

use cucumber::{given, then, when};
use serde_json::{Value, json};

use crate::common::assert_iso;
use crate::world::{Switchboard, service_headers};

/// Connects `client` as `user` to the listener `listener` with `options`.
async fn connect(w: &mut Switchboard, listener: &str, client: &str, user: &str, options: Value) {
    let url = w.app().url(listener).to_owned();
    let reply = w.connect(client, user, url, options).await;
    assert_eq!(
        reply["connected"], true,
        "{client} could not connect: {reply}"
    );
}

async fn register(w: &mut Switchboard, client: &str, user: &str) {
    let id = w.user(user).id.clone();
    let ack = w
        .bridge()
        .emit_with_ack(client, "registerUser", vec![json!(id)])
        .await;
    w.ack = Some(ack);
}

fn with_token(w: &Switchboard, user: &str) -> Value {
    json!({ "auth": { "token": w.user(user).token } })
}

// --- identity ----------------------------------------------------------------------------------

#[when(expr = "{string} connects to calmora")]
async fn connects(w: &mut Switchboard, user: String) {
    let options = with_token(w, &user);
    connect(w, "calmora", &user, &user, options).await;
}

#[given(expr = "{string} connects to calmora and registers")]
#[when(expr = "{string} connects to calmora and registers")]
async fn connects_and_registers(w: &mut Switchboard, user: String) {
    connects(w, user.clone()).await;
    register(w, &user, &user).await;
    let ack = w.ack.clone().unwrap_or_default();
    assert!(ack.get("error").is_none(), "registerUser refused: {ack}");
}

#[given(expr = "{string} also connects to calmora as {string}")]
async fn connects_again(w: &mut Switchboard, user: String, client: String) {
    let options = with_token(w, &user);
    connect(w, "calmora", &client, &user, options).await;
    register(w, &client, &user).await;
}

#[when(expr = "{string} connects to calmora without a token")]
async fn connects_without_token(w: &mut Switchboard, user: String) {
    connect(w, "calmora", &user, &user, json!({})).await;
}

#[when(expr = "{string} connects to calmora with legacy identity")]
async fn connects_legacy(w: &mut Switchboard, user: String) {
    connect(w, "calmora_legacy", &user, &user, json!({})).await;
}

#[when(expr = "{string} connects to calmora with legacy identity and registers")]
async fn connects_legacy_and_registers(w: &mut Switchboard, user: String) {
    connects_legacy(w, user.clone()).await;
    register(w, &user, &user).await;
}

#[when(expr = "{string} registers as {string} with an acknowledgement")]
async fn registers_as(w: &mut Switchboard, client: String, user: String) {
    register(w, &client, &user).await;
}

#[then(expr = "the acknowledgement is the registration of {string}")]
async fn ack_is_registration(w: &mut Switchboard, user: String) {
    let want = json!({ "userId": w.user(&user).id });
    assert_eq!(w.ack.as_ref(), Some(&want));
}

// --- chats and messages --------------------------------------------------------------------------

/// A chat id as the Calmora app makes them (an ObjectId-like hex string).
fn new_chat_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("66c4{:020x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn send(w: &mut Switchboard, client: &str, to: &str, text: &str, acked: bool) {
    let sender = w.user_of(client).id.clone();
    let payload = json!({
        "senderId": sender,
        "recipientId": w.user(to).id,
        "message": text,
        "chatId": w.conversation(),
    });
    if acked {
        let ack = w
            .bridge()
            .emit_with_ack(client, "sendMessage", vec![payload])
            .await;
        w.ack = Some(ack);
    } else {
        w.bridge().emit(client, "sendMessage", vec![payload]).await;
    }
}

#[when(expr = "{string} sends {string} to {string} in a new calmora chat")]
async fn sends_new(w: &mut Switchboard, client: String, text: String, to: String) {
    w.set_conversation(&new_chat_id());
    send(w, &client, &to, &text, false).await;
}

#[when(expr = "{string} sends {string} to {string} in a new calmora chat with an acknowledgement")]
async fn sends_new_acked(w: &mut Switchboard, client: String, text: String, to: String) {
    w.set_conversation(&new_chat_id());
    send(w, &client, &to, &text, true).await;
}

#[when(expr = "{string} sends {string} to {string} in the calmora chat")]
async fn sends(w: &mut Switchboard, client: String, text: String, to: String) {
    send(w, &client, &to, &text, false).await;
}

#[when(expr = "{string} sends {string} to {string} in the calmora chat with an acknowledgement")]
async fn sends_acked(w: &mut Switchboard, client: String, text: String, to: String) {
    send(w, &client, &to, &text, true).await;
}

#[when(expr = "{string} sends a message of {int} characters to {string} in the calmora chat")]
async fn sends_long(w: &mut Switchboard, client: String, chars: usize, to: String) {
    send(w, &client, &to, &"x".repeat(chars), false).await;
}

fn assert_calmora_message(w: &Switchboard, m: &Value, text: &str, sender: &str, to: &str) {
    let (sender, to) = (w.user(sender), w.user(to));
    assert!(m["_id"].is_string(), "_id in {m}");
    assert_eq!(m["chatId"], w.conversation().as_str(), "chatId in {m}");
    assert_eq!(m["senderId"], sender.id.as_str(), "senderId in {m}");
    assert_eq!(m["recipientId"], to.id.as_str(), "recipientId in {m}");
    assert_eq!(m["message"], text, "message in {m}");
    assert_iso(&m["createdAt"], "createdAt");
    assert_eq!(m["sender"]["_id"], sender.id.as_str(), "sender in {m}");
    assert_eq!(m["sender"]["name"], sender.name.as_str(), "sender in {m}");
    assert!(m["sender"]["avatar"].is_string(), "sender in {m}");
}

#[then(expr = "{string} receives the calmora message {string} from {string} to {string}")]
async fn receives_message(
    w: &mut Switchboard,
    client: String,
    text: String,
    sender: String,
    to: String,
) {
    let got = w
        .expect(&client, "receiveMessage", |r| {
            r.payload()["message"] == text.as_str()
        })
        .await;
    assert_calmora_message(w, got.payload(), &text, &sender, &to);
}

#[then(expr = "the acknowledgement is the calmora message {string} from {string} to {string}")]
async fn ack_is_message(w: &mut Switchboard, text: String, sender: String, to: String) {
    let ack = w.ack.clone().expect("no acknowledgement yet");
    assert_calmora_message(w, &ack, &text, &sender, &to);
}

#[then(expr = "{string} receives a calmora message of {int} characters")]
async fn receives_long(w: &mut Switchboard, client: String, chars: usize) {
    let got = w.expect(&client, "receiveMessage", |_| true).await;
    let len = got.payload()["message"].as_str().map(|t| t.chars().count());
    assert_eq!(len, Some(chars));
}

#[when(expr = "{string} joins the calmora chat")]
async fn joins(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    let ack = w
        .bridge()
        .emit_with_ack(&client, "joinRoom", vec![json!(chat)])
        .await;
    assert_eq!(ack, json!({ "chatId": chat }), "joinRoom");
}

#[when(expr = "{string} leaves the calmora chat")]
async fn leaves(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    let ack = w
        .bridge()
        .emit_with_ack(&client, "leaveRoom", vec![json!(chat)])
        .await;
    assert_eq!(ack, json!({ "chatId": chat }), "leaveRoom");
}

#[then(expr = "{string} receives a chat notification from {string}")]
async fn receives_chat_alert(w: &mut Switchboard, client: String, sender: String) {
    let chat = w.conversation();
    let got = w
        .expect(&client, "new_notification", |r| {
            r.payload()["type"] == "chat" && r.payload()["extra"]["chatId"] == chat.as_str()
        })
        .await;
    let n = got.payload();
    let (sender, recipient) = (w.user(&sender), w.user_of(&client));
    assert!(n["_id"].is_string(), "_id in {n}");
    assert_eq!(n["userId"], recipient.id.as_str());
    assert!(n["message"].is_string(), "message in {n}");
    assert_eq!(
        n["extra"],
        json!({ "chatId": chat, "senderId": sender.id, "senderName": sender.name })
    );
    assert_iso(&n["createdAt"], "createdAt");
}

// --- the API's notifications ---------------------------------------------------------------------

async fn emit_notification(w: &mut Switchboard, headers: Value, body: Value) {
    let url = format!("{}/emit-notification", w.app().url("calmora"));
    w.http("POST", url, headers, Some(body)).await;
}

#[when(expr = "the API emits a {string} notification {string} to {string}")]
async fn api_emits(w: &mut Switchboard, kind: String, message: String, user: String) {
    let body = json!({
        "userId": w.user(&user).id,
        "type": kind,
        "message": message,
        "extra": { "sessionId": "s-1" },
    });
    emit_notification(w, service_headers(), body).await;
}

fn assert_calmora_notification(n: &Value, message: &str, user_id: &str) {
    assert!(n["_id"].is_string(), "_id in {n}");
    assert_eq!(n["userId"], user_id, "userId in {n}");
    assert_eq!(n["message"], message, "message in {n}");
    assert_eq!(n["extra"], json!({ "sessionId": "s-1" }), "extra in {n}");
    assert_iso(&n["createdAt"], "createdAt");
}

#[then(expr = "the response is a calmora notification {string} for {string}")]
async fn response_is_notification(w: &mut Switchboard, message: String, user: String) {
    let (_, body) = w.response().clone();
    assert_eq!(body["success"], true, "{body}");
    assert_calmora_notification(&body["notification"], &message, &w.user(&user).id);
}

#[then(expr = "{string} receives the calmora notification {string}")]
async fn receives_notification(w: &mut Switchboard, client: String, message: String) {
    let got = w
        .expect(&client, "new_notification", |r| {
            r.payload()["message"] == message.as_str()
        })
        .await;
    let user_id = w.user_of(&client).id.clone();
    assert_calmora_notification(got.payload(), &message, &user_id);
}

#[when(expr = "the API emits a notification to {string} without the service key")]
async fn api_emits_without_key(w: &mut Switchboard, user: String) {
    let body = json!({ "userId": w.user(&user).id, "type": "chat", "message": "x" });
    emit_notification(w, json!({}), body).await;
}

#[when("the API emits a notification without a user")]
async fn api_emits_without_user(w: &mut Switchboard) {
    let body = json!({ "type": "chat", "message": "x" });
    emit_notification(w, service_headers(), body).await;
}
