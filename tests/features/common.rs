//! Steps every dialect's features use: users, connections ending, errors and disconnects,
//! HTTP responses, acknowledgements, raw events, and the server-to-server routes
//! (notifications, provisioning) that the main applications call with the service key.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use serde_json::{Value, json};

use crate::world::{Switchboard, is_iso_millis, list, service_headers, texts};

// --- users -------------------------------------------------------------------------------

#[given(expr = "a user {string}")]
async fn a_user(w: &mut Switchboard, name: String) {
    w.add_user(&name, None).await;
}

#[given(expr = "users {string} and {string}")]
async fn two_users(w: &mut Switchboard, a: String, b: String) {
    for name in [a, b] {
        w.add_user(&name, None).await;
    }
}

#[given(expr = "users {string}, {string} and {string}")]
async fn three_users(w: &mut Switchboard, a: String, b: String, c: String) {
    for name in [a, b, c] {
        w.add_user(&name, None).await;
    }
}

#[given(expr = "a doctor {string} and a patient {string}")]
async fn doctor_and_patient(w: &mut Switchboard, doctor: String, patient: String) {
    w.add_user(&doctor, Some("doctor")).await;
    w.add_user(&patient, Some("patient")).await;
}

// --- connections ---------------------------------------------------------------------------

#[when(expr = "{string} disconnects")]
async fn disconnects(w: &mut Switchboard, client: String) {
    w.bridge().disconnect(&client).await;
}

#[then(expr = "{string} receives an error")]
async fn receives_error(w: &mut Switchboard, client: String) {
    let error = w.expect(&client, "error", |_| true).await;
    let message = &error.payload()["message"];
    assert!(
        message.as_str().is_some_and(|m| !m.is_empty()),
        "an error event must be {{ message }}, got {}",
        error.payload()
    );
}

#[then(expr = "{string} receives no error")]
async fn receives_no_error(w: &mut Switchboard, client: String) {
    w.expect_none(&client, "error", |_| true).await;
}

#[then(expr = "{string} is disconnected by the server")]
async fn disconnected_by_server(w: &mut Switchboard, client: String) {
    let gone = w.expect(&client, "disconnect", |_| true).await;
    assert_eq!(
        gone.payload(),
        "io server disconnect",
        "the server must close the connection itself"
    );
}

#[then(expr = "{string} stays connected")]
async fn stays_connected(w: &mut Switchboard, client: String) {
    w.expect_none(&client, "error", |_| true).await;
    w.expect_none(&client, "disconnect", |_| true).await;
}

/// Only the connection: an unknown event may be answered with an error, as long as the
/// connection stays open.
#[then(expr = "{string} is still connected")]
async fn still_connected(w: &mut Switchboard, client: String) {
    w.expect_none(&client, "disconnect", |_| true).await;
}

#[then(expr = "{string} receives {string}")]
async fn receives_event(w: &mut Switchboard, client: String, event: String) {
    w.expect(&client, &event, |_| true).await;
}

#[then(expr = "{string} does not receive {string}")]
async fn does_not_receive(w: &mut Switchboard, client: String, event: String) {
    w.expect_none(&client, &event, |_| true).await;
}

/// Sends an event with a raw JSON payload (a docstring), as a buggy or hostile client might.
#[when(expr = "{string} emits {string} with the payload:")]
async fn emits_raw(w: &mut Switchboard, step: &Step, client: String, event: String) {
    let payload = docstring_json(step);
    w.bridge().emit(&client, &event, vec![payload]).await;
}

#[when(expr = "{string} emits {string} with an acknowledgement and the payload:")]
async fn emits_raw_with_ack(w: &mut Switchboard, step: &Step, client: String, event: String) {
    let payload = docstring_json(step);
    let ack = w
        .bridge()
        .emit_with_ack(&client, &event, vec![payload])
        .await;
    w.ack = Some(ack);
}

fn docstring_json(step: &Step) -> Value {
    let text = step
        .docstring
        .as_deref()
        .expect("the step needs a docstring");
    serde_json::from_str(text).unwrap_or_else(|err| panic!("the docstring is not JSON: {err}"))
}

#[then("the acknowledgement is an error")]
async fn ack_is_error(w: &mut Switchboard) {
    let ack = w.ack.as_ref().expect("no acknowledgement yet");
    assert!(
        ack.get("error").is_some_and(|e| !e.is_null() && e != ""),
        "expected {{ error }}, got {ack}"
    );
}

// --- HTTP responses --------------------------------------------------------------------------

#[then(expr = "the response status is {int}")]
async fn response_status(w: &mut Switchboard, status: u16) {
    let (got, body) = w.response();
    assert_eq!(*got, status, "body: {body}");
}

#[then(expr = "the response status is {int} or {int}")]
async fn response_status_either(w: &mut Switchboard, one: u16, other: u16) {
    let (got, body) = w.response();
    assert!(*got == one || *got == other, "status {got}, body: {body}");
}

#[then("the response has a message")]
async fn response_has_message(w: &mut Switchboard) {
    let (status, body) = w.response();
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "an error answer must be {{ message }}; got {status} {body}"
    );
}

/// Both dialects' message lists: linsta answers an array, quickclinic `{ messages, pagination }`.
#[then(expr = "the response lists the texts {string}")]
async fn response_texts(w: &mut Switchboard, expected: String) {
    let (status, body) = w.response();
    assert_eq!(*status, 200, "body: {body}");
    let messages = if body.is_array() {
        body
    } else {
        &body["messages"]
    };
    assert_eq!(texts(messages), list(&expected));
}

#[then(regex = r"^every request returned the same (?:chat room|relation|conversation)$")]
async fn same_conversation(w: &mut Switchboard) {
    assert!(w.opened.len() >= 2, "only {:?} opened", w.opened);
    assert!(
        w.opened.iter().all(|id| *id == w.opened[0]),
        "different ids: {:?}",
        w.opened
    );
}

// --- the main applications' server-to-server calls -----------------------------------------

/// What the notifications of the scenarios refer to (the family's example post id).
pub const REFERENCE_ID: &str = "66f1234567890abcdef01234";

#[when(expr = "the app notifies {string} of a {string}: {string}")]
async fn app_notifies(w: &mut Switchboard, user: String, kind: String, message: String) {
    let user_id = w.user(&user).id.clone();
    let body = json!({
        "userId": user_id,
        "type": kind,
        "message": message,
        "referenceId": REFERENCE_ID,
    });
    let url = format!("{}/api/v1/notifications", w.app().url("native"));
    w.http("POST", url, service_headers(), Some(body)).await;
    let (status, body) = w.response();
    assert_eq!(*status, 201, "notification trigger: {body}");
}

#[when(expr = "the app notifies {string} through the {word} listener of a {string}: {string}")]
async fn app_notifies_on(
    w: &mut Switchboard,
    user: String,
    listener: String,
    kind: String,
    message: String,
) {
    let base = w.app().url(&listener).to_owned();
    let body = json!({ "userId": w.user(&user).id, "type": kind, "message": message });
    w.http(
        "POST",
        format!("{base}/api/v1/notifications"),
        service_headers(),
        Some(body),
    )
    .await;
    let (status, body) = w.response();
    assert_eq!(*status, 201, "notification trigger: {body}");
}

#[when(expr = "a notification for {string} is posted without the service key")]
async fn notification_without_key(w: &mut Switchboard, user: String) {
    let body = json!({ "userId": w.user(&user).id, "type": "LIKE", "message": "x" });
    let url = format!("{}/api/v1/notifications", w.app().url("native"));
    w.http("POST", url, json!({}), Some(body)).await;
}

#[when(expr = "a notification for {string} is posted with {string}'s token")]
async fn notification_with_user_token(w: &mut Switchboard, user: String, poster: String) {
    let body = json!({ "userId": w.user(&user).id, "type": "LIKE", "message": "x" });
    let url = format!("{}/api/v1/notifications", w.app().url("native"));
    w.http_as(Some(&poster), "POST", url, Some(body)).await;
}

#[given(expr = "the service provisions a conversation for {string} and {string}")]
async fn provision(w: &mut Switchboard, a: String, b: String) {
    provision_for(w, &[a, b]).await;
}

#[given(expr = "the service provisions a conversation for {string}, {string} and {string}")]
async fn provision_three(w: &mut Switchboard, a: String, b: String, c: String) {
    provision_for(w, &[a, b, c]).await;
}

async fn provision_for(w: &mut Switchboard, users: &[String]) {
    let ids: Vec<String> = users.iter().map(|u| w.user(u).id.clone()).collect();
    let url = format!("{}/api/v1/conversations", w.app().url("native"));
    let headers = json!({ "authorization": format!("Bearer {}", crate::support::SERVICE_KEY) });
    w.http("POST", url, headers, Some(json!({ "participantIds": ids })))
        .await;
    let (status, body) = w.response().clone();
    assert_eq!(status, 201, "provisioning: {body}");
    let id = body["id"].as_str().expect("an id").to_owned();
    let mut got: Vec<&str> = body["participantIds"]
        .as_array()
        .expect("participantIds")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    got.sort_unstable();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(got, want);
    w.set_conversation(&id);
}

/// Shared by both dialects' shape checks.
pub fn assert_iso(value: &Value, what: &str) {
    assert!(
        is_iso_millis(value),
        "{what} must be ISO-8601 UTC with milliseconds, got {value}"
    );
}
