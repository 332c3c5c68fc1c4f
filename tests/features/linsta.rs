//! Steps of the `linsta` dialect (docs/DIALECTS.md): the `auth.token` handshake, chat rooms over REST,
//! `join_room` / `send_message` / `receive_message`, `get_history`, and notifications.

use cucumber::{given, then, when};
use serde_json::{Value, json};

use crate::common::{REFERENCE_ID, assert_iso};
use crate::support::{self, Claims};
use crate::world::{Switchboard, list, texts};

async fn connect(w: &mut Switchboard, client: &str, user: &str, options: Value) -> Value {
    let url = w.app().url("linsta").to_owned();
    w.connect(client, user, url, options).await
}

fn assert_connected(reply: &Value, client: &str) {
    assert_eq!(
        reply["connected"], true,
        "{client} could not connect to linsta: {reply}"
    );
}

// --- handshake ---------------------------------------------------------------------------------

#[given(expr = "{string} connects to linsta")]
#[when(expr = "{string} connects to linsta")]
async fn connects(w: &mut Switchboard, user: String) {
    let token = w.user(&user).token.clone();
    let reply = connect(w, &user, &user, json!({ "auth": { "token": token } })).await;
    assert_connected(&reply, &user);
}

#[when(expr = "{string} connects to linsta over polling")]
async fn connects_polling(w: &mut Switchboard, user: String) {
    let token = w.user(&user).token.clone();
    let options = json!({ "auth": { "token": token }, "transports": ["polling"] });
    let reply = connect(w, &user, &user, options).await;
    assert_connected(&reply, &user);
}

#[given(expr = "{string} also connects to linsta as {string}")]
#[when(expr = "{string} also connects to linsta as {string}")]
async fn connects_again(w: &mut Switchboard, user: String, client: String) {
    let token = w.user(&user).token.clone();
    let reply = connect(w, &client, &user, json!({ "auth": { "token": token } })).await;
    assert_connected(&reply, &client);
}

// A refused connection still completes the Socket.IO connect (docs/DIALECTS.md, "Refused
// connections"): the steps after these check the error and the server's disconnect.
#[when(expr = "{string} connects to linsta without a token")]
async fn connects_without_token(w: &mut Switchboard, user: String) {
    connect(w, &user, &user, json!({})).await;
}

#[when(expr = "{string} connects to linsta with a token signed with another secret")]
async fn connects_forged(w: &mut Switchboard, user: String) {
    let id = w.user(&user).id.clone();
    let claims = Claims {
        sub: &id,
        name: None,
        email: None,
        role: None,
        exp_in_secs: 3600,
    };
    let token = support::token_signed_with(&claims, "not-the-server-secret");
    connect(w, &user, &user, json!({ "auth": { "token": token } })).await;
}

#[when(expr = "{string} connects to linsta with an expired token")]
async fn connects_expired(w: &mut Switchboard, user: String) {
    let id = w.user(&user).id.clone();
    let claims = Claims {
        sub: &id,
        name: None,
        email: None,
        role: None,
        // Well past the server's leeway.
        exp_in_secs: -3600,
    };
    let token = support::token(&claims);
    connect(w, &user, &user, json!({ "auth": { "token": token } })).await;
}

// --- chat rooms over REST ----------------------------------------------------------------------

async fn open_room(w: &mut Switchboard, user: Option<&str>, body: Value) {
    let url = format!("{}/api/chat/rooms", w.app().url("linsta"));
    w.http_as(user, "POST", url, Some(body)).await;
    let (status, body) = w.response().clone();
    if status == 200
        && let Some(id) = body["chatRoomId"].as_str()
    {
        w.set_conversation(id);
    }
}

#[when(expr = "{string} opens a chat room with {string}")]
async fn opens_room(w: &mut Switchboard, user: String, other: String) {
    let other = w.user(&other).id.clone();
    open_room(w, Some(&user), json!({ "otherUserId": other })).await;
}

#[given(expr = "{string} has a chat room with {string}")]
async fn has_room(w: &mut Switchboard, user: String, other: String) {
    opens_room(w, user, other).await;
    let (status, body) = w.response();
    assert_eq!(*status, 200, "POST /api/chat/rooms: {body}");
}

#[when(expr = "someone opens a chat room with {string} without a token")]
async fn opens_room_anonymously(w: &mut Switchboard, other: String) {
    let other = w.user(&other).id.clone();
    open_room(w, None, json!({ "otherUserId": other })).await;
}

#[when(expr = "{string} opens a chat room without naming the other user")]
async fn opens_room_without_other(w: &mut Switchboard, user: String) {
    open_room(w, Some(&user), json!({})).await;
}

#[then(expr = "the chat room has participants {string} and {string}")]
async fn room_participants(w: &mut Switchboard, a: String, b: String) {
    let (status, body) = w.response().clone();
    assert_eq!(status, 200, "body: {body}");
    assert!(body["chatRoomId"].is_string(), "chatRoomId in {body}");
    let mut got: Vec<String> = body["participants"]
        .as_array()
        .unwrap_or_else(|| panic!("participants in {body}"))
        .iter()
        .map(|p| p.as_str().unwrap_or_default().to_owned())
        .collect();
    got.sort();
    let mut want = vec![w.user(&a).id.clone(), w.user(&b).id.clone()];
    want.sort();
    assert_eq!(got, want);
    assert_iso(&body["createdAt"], "createdAt");
}

#[when(expr = "{string} lists the chat rooms")]
async fn lists_rooms(w: &mut Switchboard, user: String) {
    let url = format!("{}/api/chat/rooms", w.app().url("linsta"));
    w.http_as(Some(&user), "GET", url, None).await;
}

#[then(expr = "the list shows the chat room with {string} and {string}")]
async fn list_shows_room(w: &mut Switchboard, a: String, b: String) {
    let room_id = w.conversation();
    let (status, body) = w.response().clone();
    assert_eq!(status, 200, "body: {body}");
    let room = body
        .as_array()
        .unwrap_or_else(|| panic!("a list of rooms, got {body}"))
        .iter()
        .find(|r| r["_id"] == room_id.as_str())
        .unwrap_or_else(|| panic!("room {room_id} is not in {body}"))
        .clone();
    assert_iso(&room["createdAt"], "createdAt");
    let mut got: Vec<Value> = room["participants"]
        .as_array()
        .unwrap_or_else(|| panic!("participants in {room}"))
        .iter()
        .map(|p| json!({ "_id": p["_id"], "name": p["name"], "email": p["email"] }))
        .collect();
    got.sort_by_key(|p| p["_id"].to_string());
    let mut want: Vec<Value> = [a, b]
        .iter()
        .map(|name| {
            let u = w.user(name);
            json!({ "_id": u.id, "name": u.name, "email": u.email })
        })
        .collect();
    want.sort_by_key(|p| p["_id"].to_string());
    assert_eq!(got, want);
}

#[when(expr = "{string} fetches the chat room messages")]
async fn fetches_messages(w: &mut Switchboard, user: String) {
    let url = format!(
        "{}/api/chat/messages/{}?limit=50&skip=0",
        w.app().url("linsta"),
        w.conversation()
    );
    w.http_as(Some(&user), "GET", url, None).await;
}

#[when(expr = "{string} fetches the messages of an unknown chat room")]
async fn fetches_unknown(w: &mut Switchboard, user: String) {
    let url = format!(
        "{}/api/chat/messages/000000000000000000000000",
        w.app().url("linsta")
    );
    w.http_as(Some(&user), "GET", url, None).await;
}

#[then(expr = "the response shows {string} as the sender of {string}")]
async fn response_sender(w: &mut Switchboard, sender: String, text: String) {
    let (status, body) = w.response().clone();
    assert_eq!(status, 200, "body: {body}");
    let message = body
        .as_array()
        .unwrap_or_else(|| panic!("a list of messages, got {body}"))
        .iter()
        .find(|m| m["text"] == text.as_str())
        .unwrap_or_else(|| panic!("no message {text:?} in {body}"));
    let u = w.user(&sender);
    assert_eq!(
        message["senderId"],
        json!({ "_id": u.id, "name": u.name, "email": u.email }),
        "REST messages carry the sender populated"
    );
    assert_eq!(message["chatRoomId"], w.conversation().as_str());
    assert_iso(&message["createdAt"], "createdAt");
}

// --- chatting over Socket.IO --------------------------------------------------------------------

#[given(expr = "{string} joins the chat room")]
#[when(expr = "{string} joins the chat room")]
async fn joins(w: &mut Switchboard, client: String) {
    let room = w.conversation();
    // With an ack, so that the join is done before the scenario goes on.
    let ack = w
        .bridge()
        .emit_with_ack(&client, "join_room", vec![json!({ "chatRoomId": room })])
        .await;
    assert!(ack.get("error").is_none(), "join_room refused: {ack}");
}

#[when(expr = "{string} tries to join the chat room")]
async fn tries_to_join(w: &mut Switchboard, client: String) {
    let room = w.conversation();
    w.bridge()
        .emit(&client, "join_room", vec![json!({ "chatRoomId": room })])
        .await;
}

#[given(expr = "{string} and {string} are in the chat room on linsta")]
async fn both_in_room(w: &mut Switchboard, a: String, b: String) {
    for user in [a, b] {
        connects(w, user.clone()).await;
        joins(w, user).await;
    }
}

#[then(expr = "{string} is told that {string} joined")]
async fn told_joined(w: &mut Switchboard, client: String, joiner: String) {
    let want = json!({ "userId": w.user(&joiner).id, "chatRoomId": w.conversation() });
    let got = w.expect(&client, "user_joined", |_| true).await;
    assert_eq!(got.payload(), &want);
}

async fn send(w: &mut Switchboard, client: &str, text: &str) {
    let room = w.conversation();
    w.bridge()
        .emit(
            client,
            "send_message",
            vec![json!({ "chatRoomId": room, "text": text })],
        )
        .await;
}

async fn send_acked(w: &mut Switchboard, client: &str, text: &str) {
    let room = w.conversation();
    let ack = w
        .bridge()
        .emit_with_ack(
            client,
            "send_message",
            vec![json!({ "chatRoomId": room, "text": text })],
        )
        .await;
    w.ack = Some(ack);
}

#[when(expr = "{string} sends {string} in the chat room")]
async fn sends(w: &mut Switchboard, client: String, text: String) {
    send(w, &client, &text).await;
}

#[when(expr = "{string} sends {string} in the chat room with an acknowledgement")]
async fn sends_acked(w: &mut Switchboard, client: String, text: String) {
    send_acked(w, &client, &text).await;
}

#[when(expr = "{string} sends a blank message in the chat room")]
async fn sends_blank(w: &mut Switchboard, client: String) {
    send(w, &client, "   ").await;
}

#[when(expr = "{string} sends a blank message in the chat room with an acknowledgement")]
async fn sends_blank_acked(w: &mut Switchboard, client: String) {
    send_acked(w, &client, "   ").await;
}

#[when(expr = "{string} sends a message of {int} characters in the chat room")]
async fn sends_long(w: &mut Switchboard, client: String, chars: usize) {
    send(w, &client, &"x".repeat(chars)).await;
}

#[given(expr = "{string} sent the messages {string} in the chat room")]
#[when(expr = "{string} sends the messages {string} in the chat room")]
async fn sends_many(w: &mut Switchboard, client: String, messages: String) {
    // One at a time, each acknowledged, so that their order is the order given.
    for text in list(&messages) {
        send_acked(w, &client, &text).await;
        let ack = w.ack.as_ref().expect("an ack");
        assert_eq!(ack["text"], text.as_str(), "send_message ack: {ack}");
    }
}

fn assert_linsta_message(message: &Value, room: &str, sender_id: &str, text: Option<&str>) {
    assert!(message["_id"].is_string(), "_id in {message}");
    assert_eq!(message["chatRoomId"], room, "chatRoomId in {message}");
    assert_eq!(message["senderId"], sender_id, "senderId in {message}");
    if let Some(text) = text {
        assert_eq!(message["text"], text);
    }
    assert_iso(&message["createdAt"], "createdAt");
}

#[then(expr = "{string} receives the linsta message {string} from {string}")]
async fn receives_message(w: &mut Switchboard, client: String, text: String, sender: String) {
    let room = w.conversation();
    let sender_id = w.user(&sender).id.clone();
    let got = w
        .expect(&client, "receive_message", |r| {
            r.payload()["text"] == text.as_str()
        })
        .await;
    assert_linsta_message(got.payload(), &room, &sender_id, Some(&text));
    w.last_message.insert(client, got.payload().clone());
}

#[then(expr = "{string} receives a linsta message of {int} characters")]
async fn receives_long(w: &mut Switchboard, client: String, chars: usize) {
    let got = w.expect(&client, "receive_message", |_| true).await;
    let len = got.payload()["text"].as_str().map(|t| t.chars().count());
    assert_eq!(len, Some(chars));
}

#[then(expr = "the acknowledgement is the linsta message {string} from {string}")]
async fn ack_is_message(w: &mut Switchboard, text: String, sender: String) {
    let room = w.conversation();
    let sender_id = w.user(&sender).id.clone();
    let ack = w.ack.clone().expect("no acknowledgement yet");
    assert_linsta_message(&ack, &room, &sender_id, Some(&text));
}

#[when(expr = "{string} asks for the chat room history with limit {int} and skip {int}")]
async fn asks_history(w: &mut Switchboard, client: String, limit: u32, skip: u32) {
    let room = w.conversation();
    w.bridge()
        .emit(
            &client,
            "get_history",
            vec![json!({ "chatRoomId": room, "limit": limit, "skip": skip })],
        )
        .await;
}

#[then(expr = "{string} receives the history {string}")]
async fn receives_history(w: &mut Switchboard, client: String, expected: String) {
    let room = w.conversation();
    let got = w.expect(&client, "message_history", |_| true).await;
    let history = got.payload();
    assert_eq!(history["chatRoomId"], room.as_str(), "in {history}");
    assert_eq!(texts(&history["messages"]), list(&expected));
    for message in history["messages"].as_array().into_iter().flatten() {
        assert!(message["_id"].is_string(), "_id in {message}");
        assert_iso(&message["createdAt"], "createdAt");
    }
}

// --- notifications -------------------------------------------------------------------------------

#[given(expr = "{string} subscribes to notifications")]
#[when(expr = "{string} subscribes to notifications")]
async fn subscribes(w: &mut Switchboard, client: String) {
    w.bridge()
        .emit(&client, "subscribe_notifications", vec![])
        .await;
}

#[then(expr = "{string} receives a {string} notification {string}")]
async fn receives_notification(w: &mut Switchboard, client: String, kind: String, message: String) {
    let user_id = w.user_of(&client).id.clone();
    let got = w
        .expect(&client, "notification", |r| {
            r.payload()["message"] == message.as_str()
        })
        .await;
    let n = got.payload();
    assert!(n["_id"].is_string(), "_id in {n}");
    assert_eq!(n["userId"], user_id.as_str(), "userId in {n}");
    assert_eq!(n["type"], kind.as_str(), "type in {n}");
    assert_eq!(n["isRead"], false, "isRead in {n}");
    assert_iso(&n["createdAt"], "createdAt");
    // The app-level steps send REFERENCE_ID; a trigger without one may leave it null.
    assert!(
        n["referenceId"] == REFERENCE_ID || n["referenceId"].is_null(),
        "referenceId in {n}"
    );
}
