//! Steps of the `marketplace` dialect (docs/DIALECTS.md): `user-join` after connecting (with
//! a token, or with legacy identity) and the `user-status-changed` it causes, chat rooms,
//! `send-message` / `new-message` / `message-notification`, typing, read marks, the online
//! status, and notifications.

use cucumber::{given, then, when};
use serde_json::{Value, json};

use crate::common::assert_iso;
use crate::world::Switchboard;

async fn connect(w: &mut Switchboard, listener: &str, client: &str, user: &str, options: Value) {
    let url = w.app().url(listener).to_owned();
    let reply = w.connect(client, user, url, options).await;
    assert_eq!(
        reply["connected"], true,
        "{client} could not connect: {reply}"
    );
}

async fn user_join(w: &mut Switchboard, client: &str) {
    let user = w.user_of(client).id.clone();
    let ack = w
        .bridge()
        .emit_with_ack(client, "user-join", vec![json!(user)])
        .await;
    assert_eq!(
        ack,
        json!({ "userId": user, "isOnline": true }),
        "user-join"
    );
}

fn with_token(w: &Switchboard, user: &str) -> Value {
    json!({ "auth": { "token": w.user(user).token } })
}

#[given(expr = "a client {string} and a provider {string}")]
async fn client_and_provider(w: &mut Switchboard, client: String, provider: String) {
    w.add_user(&client, Some("client")).await;
    w.add_user(&provider, Some("provider")).await;
}

// --- identity and presence ---------------------------------------------------------------------

#[when(expr = "{string} connects to marketplace")]
async fn connects(w: &mut Switchboard, user: String) {
    let options = with_token(w, &user);
    connect(w, "marketplace", &user, &user, options).await;
}

#[given(expr = "{string} joins marketplace")]
#[when(expr = "{string} joins marketplace")]
async fn joins_marketplace(w: &mut Switchboard, user: String) {
    connects(w, user.clone()).await;
    user_join(w, &user).await;
}

#[given(expr = "{string} also joins marketplace as {string}")]
#[when(expr = "{string} also joins marketplace as {string}")]
async fn joins_again(w: &mut Switchboard, user: String, client: String) {
    let options = with_token(w, &user);
    connect(w, "marketplace", &client, &user, options).await;
    user_join(w, &client).await;
}

#[given(expr = "{string} joins marketplace on the restricted listener")]
async fn joins_restricted(w: &mut Switchboard, user: String) {
    let options = with_token(w, &user);
    connect(w, "marketplace_restricted", &user, &user, options).await;
    user_join(w, &user).await;
}

#[when(expr = "{string} connects to marketplace without a token")]
async fn connects_without_token(w: &mut Switchboard, user: String) {
    connect(w, "marketplace", &user, &user, json!({})).await;
}

#[when(expr = "{string} connects to marketplace with legacy identity")]
async fn connects_legacy(w: &mut Switchboard, user: String) {
    connect(w, "marketplace_legacy", &user, &user, json!({})).await;
}

#[when(expr = "{string} joins marketplace with legacy identity")]
async fn joins_legacy(w: &mut Switchboard, user: String) {
    connects_legacy(w, user.clone()).await;
    user_join(w, &user).await;
}

#[when(expr = "{string} says user-join")]
async fn says_user_join(w: &mut Switchboard, client: String) {
    user_join(w, &client).await;
}

async fn hears_status(w: &mut Switchboard, client: &str, user: &str, online: bool) {
    let id = w.user(user).id.clone();
    let got = w
        .expect(client, "user-status-changed", |r| {
            r.payload()["userId"] == id.as_str() && r.payload()["isOnline"] == online
        })
        .await;
    let status = got.payload();
    assert_eq!(status["isOnline"], online, "{status}");
    if online {
        assert!(status["lastActive"].is_null(), "{status}");
    } else {
        assert_iso(&status["lastActive"], "lastActive");
    }
}

#[then(expr = "{string} hears that {string} is online")]
async fn hears_online(w: &mut Switchboard, client: String, user: String) {
    hears_status(w, &client, &user, true).await;
}

#[then(expr = "{string} hears that {string} is offline")]
async fn hears_offline(w: &mut Switchboard, client: String, user: String) {
    hears_status(w, &client, &user, false).await;
}

#[when(expr = "{string} asks whether {string} is online")]
async fn asks_status(w: &mut Switchboard, client: String, user: String) {
    let id = w.user(&user).id.clone();
    w.bridge()
        .emit(&client, "get-online-status", vec![json!(id)])
        .await;
}

#[then(expr = "{string} is told that {string} is online")]
async fn told_online(w: &mut Switchboard, client: String, user: String) {
    let id = w.user(&user).id.clone();
    let got = w.expect(&client, "online-status", |_| true).await;
    assert_eq!(
        got.payload(),
        &json!({ "userId": id, "isOnline": true, "lastActive": null })
    );
}

#[when(expr = "{string} sets herself offline")]
async fn sets_offline(w: &mut Switchboard, client: String) {
    let id = w.user_of(&client).id.clone();
    let ack = w
        .bridge()
        .emit_with_ack(
            &client,
            "set-online-status",
            vec![json!({ "userId": id, "isOnline": false })],
        )
        .await;
    assert_eq!(ack["isOnline"], false, "{ack}");
}

// --- chatting ------------------------------------------------------------------------------------

#[when(expr = "{string} joins the chat")]
async fn joins_chat(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    w.bridge()
        .emit(&client, "join-chat", vec![json!(chat)])
        .await;
}

#[given(expr = "{string} is in the marketplace chat")]
async fn in_chat(w: &mut Switchboard, user: String) {
    let chat = w.conversation();
    joins_marketplace(w, user.clone()).await;
    // With an ack, so that the join is done before the scenario goes on.
    let ack = w
        .bridge()
        .emit_with_ack(&user, "join-chat", vec![json!(chat)])
        .await;
    assert_eq!(ack, json!({ "chatId": chat }), "join-chat");
}

#[given(expr = "{string} and {string} are in the marketplace chat")]
async fn both_in_chat(w: &mut Switchboard, a: String, b: String) {
    for user in [a, b] {
        in_chat(w, user).await;
    }
}

#[when(expr = "{string} sends {string} in the marketplace chat")]
async fn sends(w: &mut Switchboard, client: String, text: String) {
    let chat = w.conversation();
    w.bridge()
        .emit(
            &client,
            "send-message",
            vec![json!({ "chatId": chat, "content": text })],
        )
        .await;
}

/// The picture every picture step sends.
const PICTURE: &str = "https://example.com/p.png";

#[when(expr = "{string} sends a picture without text in the marketplace chat")]
async fn sends_picture(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    let payload =
        json!({ "chatId": chat, "content": "", "messageType": "image", "media": [PICTURE] });
    let ack = w
        .bridge()
        .emit_with_ack(&client, "send-message", vec![payload])
        .await;
    assert!(ack.get("error").is_none(), "send-message refused: {ack}");
}

fn assert_market_message(w: &Switchboard, m: &Value, text: &str, sender: &str) {
    assert!(m["_id"].is_string(), "_id in {m}");
    assert_eq!(m["chatId"], w.conversation().as_str(), "chatId in {m}");
    assert_eq!(m["sender"], w.user(sender).id.as_str(), "sender in {m}");
    assert_eq!(m["content"], text, "content in {m}");
    assert!(
        m["delivered"].is_boolean() && m["isRead"].is_boolean(),
        "{m}"
    );
    assert_iso(&m["createdAt"], "createdAt");
}

#[then(expr = "{string} receives the marketplace message {string} from {string}")]
async fn receives_message(w: &mut Switchboard, client: String, text: String, sender: String) {
    let got = w
        .expect(&client, "new-message", |r| {
            r.payload()["content"] == text.as_str()
        })
        .await;
    assert_market_message(w, got.payload(), &text, &sender);
    assert_eq!(got.payload()["messageType"], "text");
    assert_eq!(got.payload()["media"], json!([]));
}

#[then(expr = "{string} receives the marketplace picture from {string}")]
async fn receives_picture(w: &mut Switchboard, client: String, sender: String) {
    let got = w.expect(&client, "new-message", |_| true).await;
    assert_market_message(w, got.payload(), "", &sender);
    assert_eq!(got.payload()["messageType"], "image");
    assert_eq!(got.payload()["media"], json!([PICTURE]));
}

#[then(expr = "{string} is notified of the marketplace message {string}")]
async fn notified_of_message(w: &mut Switchboard, client: String, text: String) {
    let chat = w.conversation();
    let got = w
        .expect(&client, "message-notification", |r| {
            r.payload()["message"]["content"] == text.as_str()
        })
        .await;
    assert_eq!(got.payload()["chatId"], chat.as_str());
}

#[when(expr = "{string} starts typing")]
async fn starts_typing(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    w.bridge()
        .emit(&client, "typing-start", vec![json!({ "chatId": chat })])
        .await;
}

#[when(expr = "{string} stops typing")]
async fn stops_typing(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    w.bridge()
        .emit(&client, "typing-stop", vec![json!({ "chatId": chat })])
        .await;
}

async fn sees_typing(w: &mut Switchboard, client: &str, typist: &str, typing: bool) {
    let id = w.user(typist).id.clone();
    let got = w
        .expect(client, "user-typing", |r| r.payload()["isTyping"] == typing)
        .await;
    assert_eq!(got.payload(), &json!({ "userId": id, "isTyping": typing }));
}

#[then(expr = "{string} is told that {string} is typing")]
async fn sees_start(w: &mut Switchboard, client: String, typist: String) {
    sees_typing(w, &client, &typist, true).await;
}

#[then(expr = "{string} is told that {string} stopped typing")]
async fn sees_stop(w: &mut Switchboard, client: String, typist: String) {
    sees_typing(w, &client, &typist, false).await;
}

#[when(expr = "{string} marks the chat read")]
async fn marks_read(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    // After the message arrived, so that there is something to read.
    w.expect(&client, "new-message", |_| true).await;
    w.bridge()
        .emit(
            &client,
            "mark-messages-read",
            vec![json!({ "chatId": chat })],
        )
        .await;
}

#[then(expr = "{string} hears that {string} read the chat")]
async fn hears_read(w: &mut Switchboard, client: String, reader: String) {
    let want = json!({ "userId": w.user(&reader).id, "chatId": w.conversation() });
    let got = w.expect(&client, "messages-read", |_| true).await;
    assert_eq!(got.payload(), &want);
}

// --- notifications -------------------------------------------------------------------------------

#[when(regex = r#"^"([^"]+)" joins her notifications(?: again)?$"#)]
async fn joins_notifications(w: &mut Switchboard, client: String) {
    let id = w.user_of(&client).id.clone();
    w.bridge()
        .emit(&client, "join-notifications", vec![json!(id)])
        .await;
}

#[then(expr = "{string} receives the marketplace notification {string}")]
async fn receives_notification(w: &mut Switchboard, client: String, message: String) {
    let got = w
        .expect(&client, "new-notification", |r| {
            r.payload()["message"] == message.as_str()
        })
        .await;
    let n = got.payload();
    assert!(n["_id"].is_string(), "_id in {n}");
    assert_eq!(n["userId"], w.user_of(&client).id.as_str());
    assert_eq!(n["isRead"], false);
    assert_eq!(n["delivered"], true);
    assert!(n["data"].is_object(), "data in {n}");
    assert_iso(&n["createdAt"], "createdAt");
}

#[then(expr = "{string} has {int} unread notifications")]
async fn unread_count(w: &mut Switchboard, client: String, count: u64) {
    let id = w.user_of(&client).id.clone();
    let ack = w
        .bridge()
        .emit_with_ack(&client, "get-unread-count", vec![json!(id)])
        .await;
    assert_eq!(ack, json!({ "count": count }));
}

#[when(expr = "{string} marks all her notifications read")]
async fn marks_all_read(w: &mut Switchboard, client: String) {
    let id = w.user_of(&client).id.clone();
    w.bridge()
        .emit(&client, "mark-all-notifications-read", vec![json!(id)])
        .await;
    w.expect(&client, "all-notifications-read", |_| true).await;
}
