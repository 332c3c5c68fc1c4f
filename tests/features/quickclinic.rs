//! Steps of the `quickclinic` dialect (docs/DIALECTS.md): doctor–patient relations over REST, the
//! relation handshake and its `connected` greeting, `send_message` / `new_message`, typing,
//! read receipts, paged `get_initial_messages`, and the chats REST routes.

use cucumber::{given, then, when};
use serde_json::{Value, json};

use crate::common::assert_iso;
use crate::world::{Switchboard, list, texts};

fn relations_url(w: &Switchboard) -> String {
    format!("{}/api/doctorpatientrelations", w.app().url("quickclinic"))
}

fn chats_url(w: &Switchboard) -> String {
    format!("{}/{}/chats", relations_url(w), w.conversation())
}

// --- relations over REST -----------------------------------------------------------------------

#[when(expr = "{string} opens the relation between doctor {string} and patient {string}")]
async fn opens_relation(w: &mut Switchboard, user: String, doctor: String, patient: String) {
    let body = json!({ "doctorId": w.user(&doctor).id, "patientId": w.user(&patient).id });
    let url = relations_url(w);
    w.http_as(Some(&user), "POST", url, Some(body)).await;
    let (status, body) = w.response().clone();
    if matches!(status, 200 | 201)
        && let Some(id) = body["id"].as_str()
    {
        w.set_conversation(id);
    }
}

#[given(expr = "a relation between doctor {string} and patient {string}")]
async fn relation(w: &mut Switchboard, doctor: String, patient: String) {
    opens_relation(w, doctor.clone(), doctor, patient).await;
    let (status, body) = w.response();
    assert!(
        matches!(status, 200 | 201),
        "POST /api/doctorpatientrelations: {status} {body}"
    );
}

#[then(expr = "the relation names doctor {string} and patient {string}")]
async fn relation_names(w: &mut Switchboard, doctor: String, patient: String) {
    let (status, body) = w.response().clone();
    assert!(matches!(status, 200 | 201), "{status} {body}");
    assert!(body["id"].is_string(), "id in {body}");
    assert_eq!(body["doctorId"], w.user(&doctor).id.as_str(), "in {body}");
    assert_eq!(body["patientId"], w.user(&patient).id.as_str(), "in {body}");
    assert_iso(&body["createdAt"], "createdAt");
}

// --- handshake -------------------------------------------------------------------------------

async fn connect(w: &mut Switchboard, user: &str, options: Value) -> Value {
    let url = w.app().url("quickclinic").to_owned();
    w.connect(user, user, url, options).await
}

async fn connect_to_relation(w: &mut Switchboard, user: &str, extra: Value) {
    let token = w.user(user).token.clone();
    let mut options = json!({ "auth": { "token": token, "relationId": w.conversation() } });
    if let (Some(options), Some(extra)) = (options.as_object_mut(), extra.as_object()) {
        options.extend(extra.clone());
    }
    let reply = connect(w, user, options).await;
    assert_eq!(
        reply["connected"], true,
        "{user} could not connect to quickclinic: {reply}"
    );
}

#[given(expr = "{string} connects to quickclinic for the relation")]
#[when(expr = "{string} connects to quickclinic for the relation")]
async fn connects(w: &mut Switchboard, user: String) {
    connect_to_relation(w, &user, json!({})).await;
}

#[when(expr = "{string} connects to quickclinic for the relation over polling")]
async fn connects_polling(w: &mut Switchboard, user: String) {
    connect_to_relation(w, &user, json!({ "transports": ["polling"] })).await;
}

#[when(expr = "{string} connects to quickclinic for the relation with the handshake in the query")]
async fn connects_query(w: &mut Switchboard, user: String) {
    let token = w.user(&user).token.clone();
    let options = json!({ "query": { "token": token, "relationId": w.conversation() } });
    let reply = connect(w, &user, options).await;
    assert_eq!(reply["connected"], true, "{reply}");
}

#[given(expr = "{string} and {string} are connected to the relation")]
async fn both_connected(w: &mut Switchboard, a: String, b: String) {
    for user in [a, b] {
        connects(w, user.clone()).await;
        w.expect(&user, "connected", |_| true).await;
    }
}

// Refusals complete the Socket.IO connect; the steps after them check the error and the
// server's disconnect.
#[when(expr = "{string} connects to quickclinic for an unknown relation")]
async fn connects_unknown(w: &mut Switchboard, user: String) {
    let token = w.user(&user).token.clone();
    let options = json!({ "auth": { "token": token, "relationId": "000000000000000000000000" } });
    connect(w, &user, options).await;
}

#[when(expr = "{string} connects to quickclinic without a relation")]
async fn connects_without_relation(w: &mut Switchboard, user: String) {
    let token = w.user(&user).token.clone();
    connect(w, &user, json!({ "auth": { "token": token } })).await;
}

#[when(expr = "{string} connects to quickclinic for the relation without a token")]
async fn connects_without_token(w: &mut Switchboard, user: String) {
    let options = json!({ "auth": { "relationId": w.conversation() } });
    connect(w, &user, options).await;
}

#[then(expr = "{string} is greeted as {string}")]
async fn greeted(w: &mut Switchboard, client: String, role: String) {
    let user = w.user_of(&client).clone();
    let got = w.expect(&client, "connected", |_| true).await;
    assert_eq!(
        got.payload(),
        &json!({ "userId": user.id, "userName": user.name, "userRole": role })
    );
}

// --- chatting over Socket.IO ------------------------------------------------------------------

async fn send(w: &mut Switchboard, client: &str, payload: Value) {
    w.bridge().emit(client, "send_message", vec![payload]).await;
}

#[when(expr = "{string} sends {string} in the relation")]
async fn sends(w: &mut Switchboard, client: String, text: String) {
    send(w, &client, json!({ "text": text })).await;
}

#[when(expr = "{string} sends a blank message in the relation")]
async fn sends_blank(w: &mut Switchboard, client: String) {
    send(w, &client, json!({ "text": " " })).await;
}

#[when(expr = "{string} sends a message of {int} characters in the relation")]
async fn sends_long(w: &mut Switchboard, client: String, chars: usize) {
    send(w, &client, json!({ "text": "x".repeat(chars) })).await;
}

#[then(expr = "{string} receives the quickclinic message {string} from {string} as {string}")]
async fn receives_message(
    w: &mut Switchboard,
    client: String,
    text: String,
    sender: String,
    role: String,
) {
    let relation = w.conversation();
    let sender_id = w.user(&sender).id.clone();
    let got = w
        .expect(&client, "new_message", |r| {
            r.payload()["message"]["text"] == text.as_str()
        })
        .await;
    let message = &got.payload()["message"];
    assert!(message["id"].is_string(), "id in {message}");
    assert_eq!(message["relationId"], relation.as_str(), "in {message}");
    assert_eq!(message["senderId"], sender_id.as_str(), "in {message}");
    assert_eq!(message["senderRole"], role.as_str(), "in {message}");
    assert_eq!(message["isRead"], false, "in {message}");
    assert!(message["readAt"].is_null(), "readAt in {message}");
    assert_iso(&message["createdAt"], "createdAt");
    w.last_message.insert(client, message.clone());
}

#[then(expr = "{string} receives a quickclinic message of {int} characters")]
async fn receives_long(w: &mut Switchboard, client: String, chars: usize) {
    let got = w.expect(&client, "new_message", |_| true).await;
    let len = got.payload()["message"]["text"]
        .as_str()
        .map(|t| t.chars().count());
    assert_eq!(len, Some(chars));
}

#[when(expr = "{string} is typing")]
async fn is_typing(w: &mut Switchboard, client: String) {
    w.bridge().emit(&client, "user_typing", vec![]).await;
}

#[then(expr = "{string} sees {string} typing")]
async fn sees_typing(w: &mut Switchboard, client: String, typist: String) {
    let user = w.user(&typist).clone();
    let got = w.expect(&client, "user_typing", |_| true).await;
    assert_eq!(
        got.payload(),
        &json!({ "userId": user.id, "userName": user.name })
    );
}

#[when(expr = "{string} marks that message as read")]
async fn marks_read(w: &mut Switchboard, client: String) {
    let id = w
        .last_message
        .get(&client)
        .and_then(|m| m["id"].as_str())
        .unwrap_or_else(|| panic!("{client} has received no message to mark"))
        .to_owned();
    w.bridge()
        .emit(&client, "mark_as_read", vec![json!({ "messageId": id })])
        .await;
}

#[when(expr = "{string} marks an unknown message as read")]
async fn marks_unknown_read(w: &mut Switchboard, client: String) {
    let payload = json!({ "messageId": "000000000000000000000000" });
    w.bridge()
        .emit(&client, "mark_as_read", vec![payload])
        .await;
}

#[then(expr = "{string} receives a read receipt from {string}")]
async fn receives_receipt(w: &mut Switchboard, client: String, reader: String) {
    let message_id = w
        .last_message
        .get(&reader)
        .map(|m| m["id"].clone())
        .unwrap_or_else(|| panic!("{reader} has received no message"));
    let reader_id = w.user_of(&reader).id.clone();
    let got = w.expect(&client, "message_read", |_| true).await;
    assert_eq!(
        got.payload(),
        &json!({ "messageId": message_id, "readBy": reader_id })
    );
}

#[when(expr = "{string} asks for page {int} of the messages with limit {int}")]
async fn asks_page(w: &mut Switchboard, client: String, page: u32, limit: u32) {
    w.bridge()
        .emit(
            &client,
            "get_initial_messages",
            vec![json!({ "page": page, "limit": limit })],
        )
        .await;
}

#[then(expr = "{string} receives the initial messages {string}")]
async fn receives_page(w: &mut Switchboard, client: String, expected: String) {
    let got = w.expect(&client, "initial_messages", |_| true).await;
    let page = got.payload();
    assert_eq!(texts(&page["messages"]), list(&expected), "in {page}");
    // Kept for the pagination step.
    w.response = Some((200, page.clone()));
}

#[then(expr = "the pagination is page {int}, limit {int}, total {int}, {int} pages, more: {word}")]
async fn pagination(
    w: &mut Switchboard,
    page: u32,
    limit: u32,
    total: u32,
    pages: u32,
    more: String,
) {
    let (_, body) = w.response();
    let has_more = match more.as_str() {
        "yes" => true,
        "no" => false,
        other => panic!("more: yes or no, not {other:?}"),
    };
    assert_eq!(
        body["pagination"],
        json!({ "page": page, "limit": limit, "total": total, "totalPages": pages, "hasMore": has_more })
    );
}

// --- chats over REST ---------------------------------------------------------------------------

#[when(expr = "{string} posts {string} to the relation chats")]
async fn posts(w: &mut Switchboard, user: String, text: String) {
    let url = chats_url(w);
    w.http_as(Some(&user), "POST", url, Some(json!({ "text": text })))
        .await;
}

#[given(expr = "{string} posted the messages {string} to the relation")]
async fn posted_many(w: &mut Switchboard, user: String, messages: String) {
    for text in list(&messages) {
        posts(w, user.clone(), text).await;
        let (status, body) = w.response();
        assert_eq!(*status, 201, "POST chats: {body}");
    }
}

#[then(expr = "the response is the quickclinic message {string} from {string} as {string}")]
async fn response_is_message(w: &mut Switchboard, text: String, sender: String, role: String) {
    let (status, body) = w.response().clone();
    assert_eq!(status, 201, "body: {body}");
    let message = &body["message"];
    assert!(message["id"].is_string(), "id in {body}");
    assert_eq!(message["relationId"], w.conversation().as_str());
    assert_eq!(message["senderId"], w.user(&sender).id.as_str());
    assert_eq!(message["senderRole"], role.as_str());
    assert_eq!(message["text"], text.as_str());
    assert_iso(&message["createdAt"], "createdAt");
}

#[when(expr = "{string} fetches the relation chats")]
async fn fetches(w: &mut Switchboard, user: String) {
    let url = format!("{}?page=1&limit=20", chats_url(w));
    w.http_as(Some(&user), "GET", url, None).await;
}

#[then(expr = "the message {string} is read")]
async fn message_is_read(w: &mut Switchboard, text: String) {
    let (status, body) = w.response().clone();
    assert_eq!(status, 200, "body: {body}");
    let message = body["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages in {body}"))
        .iter()
        .find(|m| m["text"] == text.as_str())
        .unwrap_or_else(|| panic!("no message {text:?} in {body}"))
        .clone();
    assert_eq!(message["isRead"], true, "in {message}");
    assert_iso(&message["readAt"], "readAt");
}

// --- operations --------------------------------------------------------------------------------

#[when(expr = "someone checks the health of the quickclinic listener")]
async fn checks_health(w: &mut Switchboard) {
    let url = format!("{}/health", w.app().url("quickclinic"));
    w.http_as(None, "GET", url, None).await;
}

#[then("the health check says ok")]
async fn health_ok(w: &mut Switchboard) {
    let (_, body) = w.response();
    assert_eq!(body["status"], "ok", "in {body}");
    assert_iso(&body["timestamp"], "timestamp");
}
