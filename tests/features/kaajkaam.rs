//! Steps of the `kaajkaam` dialect (docs/DIALECTS.md): the REST API under `/api/chat` with
//! `x-auth-token` (conversations, messages, files, reads), and the socket (a token or the
//! legacy `query.userId`) for `receive_message`, `new_notification`, typing, presence and
//! the `call:*` / `webrtc:ice-candidate` signaling.

use cucumber::{given, then, when};
use serde_json::{Value, json};

use crate::common::assert_iso;
use crate::support;
use crate::world::{Switchboard, list};

/// The offer every call step sends, and the answer every accept.
fn offer() -> Value {
    json!({ "type": "offer", "sdp": "v=0 offer" })
}

fn answer() -> Value {
    json!({ "type": "answer", "sdp": "v=0 answer" })
}

/// The picture every upload step sends: bytes that are not text.
fn picture() -> Vec<u8> {
    (0..=255u8).cycle().take(20_000).collect()
}

fn api(w: &Switchboard, path: &str) -> String {
    format!("{}/api/chat{path}", w.app().url("kaajkaam"))
}

fn auth(w: &Switchboard, user: &str) -> Value {
    json!({ "x-auth-token": w.user(user).token })
}

async fn call_api(w: &mut Switchboard, user: &str, method: &str, path: &str, body: Option<Value>) {
    let (url, headers) = (api(w, path), auth(w, user));
    w.http(method, url, headers, body).await;
}

async fn connect(w: &mut Switchboard, listener: &str, client: &str, user: &str, options: Value) {
    let url = w.app().url(listener).to_owned();
    let reply = w.connect(client, user, url, options).await;
    assert_eq!(
        reply["connected"], true,
        "{client} could not connect: {reply}"
    );
}

fn with_token(w: &Switchboard, user: &str) -> Value {
    json!({ "auth": { "token": w.user(user).token } })
}

fn id_of(w: &Switchboard, user: &str) -> String {
    w.user(user).id.clone()
}

#[given(expr = "a buyer {string} and a seller {string}")]
async fn buyer_and_seller(w: &mut Switchboard, buyer: String, seller: String) {
    w.add_user(&buyer, Some("client")).await;
    w.add_user(&seller, Some("provider")).await;
}

// --- conversations ------------------------------------------------------------------------------

async fn open(w: &mut Switchboard, user: &str, other: &str, context: Value) {
    let mut body = json!({ "participantId": id_of(w, other) });
    if let (Some(body), Value::Object(context)) = (body.as_object_mut(), context) {
        body.extend(context);
    }
    call_api(w, user, "POST", "/conversations", Some(body)).await;
    let (status, body) = w.response().clone();
    assert!(matches!(status, 200 | 201), "opening: {status} {body}");
    let id = body["_id"].as_str().expect("an _id").to_owned();
    w.set_conversation(&id);
}

#[when(expr = "{string} opens a kaajkaam conversation with {string} about order {string}")]
async fn opens_about_order(w: &mut Switchboard, user: String, other: String, order: String) {
    open(w, &user, &other, json!({ "orderId": order })).await;
    assert_eq!(w.response().1["orderId"], order.as_str());
}

#[given(expr = "{string} has a kaajkaam conversation with {string}")]
async fn has_conversation(w: &mut Switchboard, user: String, other: String) {
    open(w, &user, &other, json!({})).await;
}

#[then(expr = "the conversation lists {string} with name, email and avatar")]
async fn lists_participant(w: &mut Switchboard, user: String) {
    let u = w.user(&user).clone();
    let (_, body) = w.response();
    let person = body["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["_id"] == u.id.as_str())
        .unwrap_or_else(|| panic!("{user} is not among {body}"));
    assert_eq!(
        person,
        &json!({
            "_id": u.id,
            "name": u.name,
            "email": u.email,
            "avatar": format!("https://example.com/{}.png", u.id),
        })
    );
    assert_eq!(body["isActive"], true);
    assert_iso(&body["createdAt"], "createdAt");
}

#[then("the last conversation is a new one")]
async fn last_is_new(w: &mut Switchboard) {
    let opened = &w.opened;
    let last = opened.last().expect("a conversation");
    assert!(
        opened[..opened.len() - 1].iter().all(|id| id != last),
        "{opened:?}"
    );
}

#[when(expr = "{string} deletes the kaajkaam conversation")]
async fn deletes(w: &mut Switchboard, user: String) {
    let path = format!("/conversations/{}", w.conversation());
    call_api(w, &user, "DELETE", &path, None).await;
    assert_eq!(w.response().0, 200, "{}", w.response().1);
}

#[then(regex = r#"^"([^"]+)" lists (\d+) kaajkaam conversations?$"#)]
async fn lists_conversations(w: &mut Switchboard, user: String, count: usize) {
    call_api(w, &user, "GET", "/conversations", None).await;
    let (status, body) = w.response();
    assert_eq!(*status, 200, "{body}");
    assert_eq!(body.as_array().expect("a list").len(), count, "{body}");
}

// --- messages -----------------------------------------------------------------------------------

#[when(expr = "{string} posts {string} over REST")]
async fn posts(w: &mut Switchboard, user: String, text: String) {
    let path = format!("/conversations/{}/messages", w.conversation());
    call_api(w, &user, "POST", &path, Some(json!({ "text": text }))).await;
}

fn assert_message(w: &Switchboard, m: &Value, text: &str, sender: &str) {
    assert!(m["_id"].is_string(), "_id in {m}");
    assert_eq!(m["conversationId"], w.conversation().as_str(), "{m}");
    assert_eq!(m["sender"], w.user(sender).id.as_str(), "{m}");
    assert_eq!(m["text"], text, "{m}");
    assert!(m["attachments"].is_array() && m["readBy"].is_array(), "{m}");
    assert_eq!(m["isEdited"], false, "{m}");
    assert_iso(&m["createdAt"], "createdAt");
}

#[then(expr = "{string} receives the kaajkaam message {string} from {string}")]
async fn receives_message(w: &mut Switchboard, client: String, text: String, sender: String) {
    let got = w
        .expect(&client, "receive_message", |r| {
            r.payload()["text"] == text.as_str()
        })
        .await;
    assert_message(w, got.payload(), &text, &sender);
}

#[then(expr = "{string} is notified of the kaajkaam message {string} from {string}")]
async fn notified(w: &mut Switchboard, client: String, text: String, sender: String) {
    let got = w
        .expect(&client, "new_notification", |r| {
            r.payload()["message"] == text.as_str()
        })
        .await;
    let n = got.payload();
    assert_eq!(n["type"], "message", "{n}");
    assert_eq!(n["userId"], w.user_of(&client).id.as_str(), "{n}");
    assert_eq!(n["title"], w.user(&sender).name.as_str(), "{n}");
    assert_eq!(
        n["data"]["conversationId"],
        w.conversation().as_str(),
        "{n}"
    );
    assert_eq!(n["data"]["senderId"], w.user(&sender).id.as_str(), "{n}");
    assert_eq!(n["isRead"], false, "{n}");
}

#[then(regex = r#"^"([^"]+)" has (\d+) unread kaajkaam messages?$"#)]
async fn unread(w: &mut Switchboard, user: String, count: u64) {
    call_api(w, &user, "GET", "/unread-count", None).await;
    assert_eq!(w.response(), &(200, json!({ "count": count })));
}

#[when(expr = "{string} marks the kaajkaam conversation read")]
async fn marks_read(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    w.bridge()
        .emit(&client, "mark_read", vec![json!(chat)])
        .await;
}

#[then(expr = "{string} hears that {string} read the kaajkaam conversation")]
async fn hears_read(w: &mut Switchboard, client: String, reader: String) {
    let want = json!({ "userId": id_of(w, &reader), "conversationId": w.conversation() });
    let got = w.expect(&client, "messages_read", |_| true).await;
    assert_eq!(got.payload(), &want);
}

#[then(expr = "every message {string} lists was read by {string}")]
async fn all_read_by(w: &mut Switchboard, user: String, reader: String) {
    let path = format!(
        "/conversations/{}/messages?limit=50&skip=0",
        w.conversation()
    );
    call_api(w, &user, "GET", &path, None).await;
    let reader = id_of(w, &reader);
    let (status, body) = w.response();
    assert_eq!(*status, 200, "{body}");
    let messages = body.as_array().expect("a list");
    assert!(!messages.is_empty());
    for m in messages {
        assert_eq!(m["readBy"][0]["userId"], reader.as_str(), "{m}");
        assert_iso(&m["readBy"][0]["readAt"], "readAt");
    }
}

#[then(expr = "{string} lists no kaajkaam messages")]
async fn no_messages(w: &mut Switchboard, user: String) {
    let path = format!("/conversations/{}/messages", w.conversation());
    call_api(w, &user, "GET", &path, None).await;
    assert_eq!(w.response(), &(200, json!([])));
}

#[when(expr = "{string} reads the messages of an unknown kaajkaam conversation")]
async fn reads_unknown(w: &mut Switchboard, user: String) {
    call_api(
        w,
        &user,
        "GET",
        "/conversations/66f00000000000000000dead/messages",
        None,
    )
    .await;
}

#[when("someone lists kaajkaam conversations without a token")]
async fn lists_without_token(w: &mut Switchboard) {
    let url = api(w, "/conversations");
    w.http("GET", url, json!({}), None).await;
}

// --- files --------------------------------------------------------------------------------------

async fn upload(w: &mut Switchboard, user: &str, text: Option<&str>, file: (&str, &str, &[u8])) {
    let url = api(w, &format!("/conversations/{}/messages", w.conversation()));
    let headers = auth(w, user);
    let fields = text.map_or(json!({}), |t| json!({ "text": t }));
    let (name, content_type, bytes) = file;
    let response = w
        .bridge()
        .upload(
            &url,
            headers,
            fields,
            &[("attachments", name, content_type, bytes)],
        )
        .await;
    w.response = Some(response);
}

#[when(expr = "{string} uploads the picture {string} with the text {string}")]
async fn uploads_picture(w: &mut Switchboard, user: String, name: String, text: String) {
    upload(w, &user, Some(&text), (&name, "image/png", &picture())).await;
}

#[when(expr = "{string} uploads a file one byte over the limit")]
async fn uploads_too_big(w: &mut Switchboard, user: String) {
    let big = vec![0u8; usize::try_from(support::MAX_FILE_BYTES).expect("a small limit") + 1];
    upload(
        w,
        &user,
        None,
        ("big.bin", "application/octet-stream", &big),
    )
    .await;
}

#[then(expr = "the message has the image attachment {string}")]
async fn has_attachment(w: &mut Switchboard, name: String) {
    let (_, body) = w.response();
    let a = &body["attachments"][0];
    assert_eq!(a["type"], "image", "{body}");
    assert_eq!(a["name"], name.as_str(), "{body}");
    assert_eq!(a["size"], picture().len(), "{body}");
    assert!(
        a["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("/uploads/")),
        "{body}"
    );
}

#[then(expr = "{string} downloads the attachment and gets the same bytes as {string}")]
async fn downloads(w: &mut Switchboard, _user: String, content_type: String) {
    let path = w.response().1["attachments"][0]["url"]
        .as_str()
        .expect("an attachment url")
        .to_owned();
    let url = format!("{}{path}", w.app().url("kaajkaam"));
    let (status, got_type, bytes) = w.bridge().download(&url).await;
    assert_eq!(status, 200);
    assert_eq!(got_type, content_type);
    assert!(
        bytes == picture(),
        "the served bytes differ from the upload"
    );
}

// --- sockets: identity, rooms, presence, typing ---------------------------------------------------

#[given(expr = "{string} connects to kaajkaam")]
#[when(expr = "{string} connects to kaajkaam")]
async fn connects(w: &mut Switchboard, user: String) {
    let options = with_token(w, &user);
    connect(w, "kaajkaam", &user, &user, options).await;
}

#[when(expr = "{string} also connects to kaajkaam as {string}")]
async fn connects_again(w: &mut Switchboard, user: String, client: String) {
    let options = with_token(w, &user);
    connect(w, "kaajkaam", &client, &user, options).await;
}

#[when(expr = "{string} connects to kaajkaam with legacy identity")]
async fn connects_legacy(w: &mut Switchboard, user: String) {
    let options = json!({ "query": { "userId": id_of(w, &user) } });
    connect(w, "kaajkaam_legacy", &user, &user, options).await;
}

#[when(expr = "{string} connects to kaajkaam with only a userId")]
async fn connects_bare(w: &mut Switchboard, user: String) {
    let options = json!({ "query": { "userId": id_of(w, &user) } });
    connect(w, "kaajkaam", &user, &user, options).await;
}

#[when(expr = "{string} connects to kaajkaam with a bad token")]
async fn connects_bad_token(w: &mut Switchboard, user: String) {
    connect(
        w,
        "kaajkaam",
        &user,
        &user,
        json!({ "auth": { "token": "not-a-jwt" } }),
    )
    .await;
}

#[given(expr = "{string} is in the kaajkaam conversation")]
async fn in_conversation(w: &mut Switchboard, user: String) {
    connects(w, user.clone()).await;
    let chat = w.conversation();
    let ack = w
        .bridge()
        .emit_with_ack(&user, "join_conversation", vec![json!(chat)])
        .await;
    assert_eq!(ack, json!({ "conversationId": chat }), "join_conversation");
}

async fn hears_presence(w: &mut Switchboard, client: &str, user: &str, event: &str) {
    let id = id_of(w, user);
    let got = w
        .expect(client, event, |r| r.payload()["userId"] == id.as_str())
        .await;
    assert_eq!(got.payload(), &json!({ "userId": id }));
}

#[then(expr = "{string} hears that {string} is online on kaajkaam")]
async fn hears_online(w: &mut Switchboard, client: String, user: String) {
    hears_presence(w, &client, &user, "user_online").await;
}

#[then(expr = "{string} hears that {string} is offline on kaajkaam")]
async fn hears_offline(w: &mut Switchboard, client: String, user: String) {
    hears_presence(w, &client, &user, "user_offline").await;
}

#[when(expr = "{string} types in the kaajkaam conversation")]
async fn types(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    w.bridge().emit(&client, "typing", vec![json!(chat)]).await;
}

#[when(expr = "{string} stops typing in the kaajkaam conversation")]
async fn stops_typing(w: &mut Switchboard, client: String) {
    let chat = w.conversation();
    w.bridge()
        .emit(&client, "stop_typing", vec![json!(chat)])
        .await;
}

#[then(expr = "{string} is told that {string} is typing on kaajkaam")]
async fn told_typing(w: &mut Switchboard, client: String, typist: String) {
    let got = w.expect(&client, "user_typing", |_| true).await;
    assert_eq!(got.payload()["userId"], id_of(w, &typist).as_str());
    assert_iso(&got.payload()["timestamp"], "timestamp");
}

#[then(expr = "{string} is told that {string} stopped typing on kaajkaam")]
async fn told_stopped(w: &mut Switchboard, client: String, typist: String) {
    let got = w.expect(&client, "user_stop_typing", |_| true).await;
    assert_eq!(got.payload(), &json!({ "userId": id_of(w, &typist) }));
}

// --- calls --------------------------------------------------------------------------------------

async fn place_call(w: &mut Switchboard, caller: &str, callee: &str, kind: &str, chat: String) {
    let payload = json!({
        "conversationId": chat,
        "callType": kind,
        "offer": offer(),
        "from": id_of(w, caller),
        "to": id_of(w, callee),
    });
    w.bridge()
        .emit(caller, "call:initiate", vec![payload])
        .await;
}

#[when(expr = "{string} calls {string} by {word}")]
async fn calls(w: &mut Switchboard, caller: String, callee: String, kind: String) {
    let chat = w.conversation();
    place_call(w, &caller, &callee, &kind, chat).await;
}

#[when(expr = "{string} calls {string} by {word} about her own conversation")]
async fn calls_elsewhere(w: &mut Switchboard, caller: String, callee: String, kind: String) {
    let theirs = w.conversation();
    open(w, &caller, &callee, json!({})).await;
    let own = w.conversation();
    w.set_conversation(&theirs);
    place_call(w, &caller, &callee, &kind, own).await;
}

#[then(expr = "{string} is rung by {string} with the offer")]
async fn rung(w: &mut Switchboard, callee: String, caller: String) {
    let got = w.expect(&callee, "call:incoming", |_| true).await;
    let incoming = got.payload();
    assert!(incoming["callId"].is_string(), "{incoming}");
    assert_eq!(incoming["conversationId"], w.conversation().as_str());
    assert_eq!(incoming["offer"], offer());
    assert_eq!(incoming["from"], id_of(w, &caller).as_str());
    assert!(matches!(
        incoming["callType"].as_str(),
        Some("audio" | "video")
    ));
}

#[then(expr = "{string} is not rung again")]
async fn not_rung(w: &mut Switchboard, callee: String) {
    w.expect_none(&callee, "call:incoming", |_| true).await;
}

/// The other party of `client`'s call in this conversation: the one participant who is not
/// them.
fn peer_of(w: &Switchboard, client: &str) -> String {
    let me = w.user_of(client).id.clone();
    ["bina", "sami"]
        .into_iter()
        .map(|u| id_of(w, u))
        .find(|id| *id != me)
        .expect("a peer")
}

#[when(expr = "{string} accepts the call")]
async fn accepts(w: &mut Switchboard, callee: String) {
    let payload = json!({ "conversationId": w.conversation(), "to": peer_of(w, &callee), "answer": answer() });
    w.bridge().emit(&callee, "call:accept", vec![payload]).await;
}

#[when(expr = "{string} rejects the call")]
async fn rejects(w: &mut Switchboard, callee: String) {
    let payload = json!({ "conversationId": w.conversation(), "to": peer_of(w, &callee) });
    w.bridge().emit(&callee, "call:reject", vec![payload]).await;
}

#[when(expr = "{string} ends the call")]
async fn ends(w: &mut Switchboard, client: String) {
    let payload = json!({ "conversationId": w.conversation(), "to": peer_of(w, &client) });
    w.bridge().emit(&client, "call:end", vec![payload]).await;
}

#[then(expr = "{string} hears the call accepted with the answer")]
async fn hears_accepted(w: &mut Switchboard, caller: String) {
    let got = w.expect(&caller, "call:accepted", |_| true).await;
    assert_eq!(got.payload()["answer"], answer());
    assert!(got.payload()["callId"].is_string());
    assert_eq!(got.payload()["from"], peer_of(w, &caller).as_str());
}

#[when(expr = "{string} sends an ICE candidate to {string}")]
async fn sends_ice(w: &mut Switchboard, client: String, to: String) {
    let payload =
        json!({ "to": id_of(w, &to), "candidate": { "candidate": "candidate:1", "sdpMid": "0" } });
    w.bridge()
        .emit(&client, "webrtc:ice-candidate", vec![payload])
        .await;
}

#[then(expr = "{string} receives the ICE candidate from {string}")]
async fn receives_ice(w: &mut Switchboard, client: String, from: String) {
    let got = w.expect(&client, "webrtc:ice-candidate", |_| true).await;
    assert_eq!(
        got.payload(),
        &json!({ "candidate": { "candidate": "candidate:1", "sdpMid": "0" }, "from": id_of(w, &from) })
    );
}

async fn hears_call_event(w: &mut Switchboard, client: &str, event: &str, from: &str) {
    let got = w.expect(client, event, |_| true).await;
    assert!(got.payload()["callId"].is_string(), "{}", got.payload());
    assert_eq!(got.payload()["from"], id_of(w, from).as_str());
}

#[then(expr = "{string} hears the call ended by {string}")]
async fn hears_ended(w: &mut Switchboard, client: String, by: String) {
    hears_call_event(w, &client, "call:ended", &by).await;
}

#[then(expr = "{string} hears the call rejected by {string}")]
async fn hears_rejected(w: &mut Switchboard, client: String, by: String) {
    hears_call_event(w, &client, "call:rejected", &by).await;
}

#[then(expr = "{string} hears that {string} is busy")]
async fn hears_busy(w: &mut Switchboard, client: String, callee: String) {
    hears_call_event(w, &client, "call:busy", &callee).await;
}

#[then("after the ring timeout both hear the call ended")]
async fn ring_timeout(w: &mut Switchboard) {
    // The scenario waits out the server's ring time (short in tests) and a sweep.
    tokio::time::sleep(std::time::Duration::from_secs(
        support::RING_TIMEOUT_SECS + 1,
    ))
    .await;
    hears_call_event(w, "bina", "call:ended", "sami").await;
    hears_call_event(w, "sami", "call:ended", "bina").await;
}

#[then(expr = "the kaajkaam conversation has the call records {string}")]
async fn call_records(w: &mut Switchboard, statuses: String) {
    let path = format!("/conversations/{}/messages", w.conversation());
    call_api(w, "bina", "GET", &path, None).await;
    let (status, body) = w.response();
    assert_eq!(*status, 200, "{body}");
    let bina = id_of(w, "bina");
    let got: Vec<String> = body
        .as_array()
        .expect("a list")
        .iter()
        .filter(|m| m["messageType"] == "call")
        .map(|m| {
            assert_eq!(
                m["sender"],
                bina.as_str(),
                "the caller sends the record: {m}"
            );
            assert!(m["callInfo"]["duration"].is_u64(), "{m}");
            m["callInfo"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(got, list(&statuses));
}
