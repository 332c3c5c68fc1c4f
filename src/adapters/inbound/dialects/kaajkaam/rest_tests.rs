//! kaajkaam's REST API through its router, on the in-memory core: conversations, messages
//! with files, reads, call records and every error status.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode as S};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::Kaajkaam;
use crate::adapters::inbound::transports::http::harness::{
    Harness, MAX_BODY, MAX_FILE_BYTES, has_message, request, token,
};
use crate::domain::{Role, UserId, UserProfile};

async fn harness() -> Harness {
    let h = Harness::new(&Kaajkaam::default()).await;
    for (id, name) in [("buyer", "Bina Buyer"), ("seller", "Sami Seller")] {
        h.use_cases
            .upsert_user(UserProfile {
                name: Some(name.into()),
                email: Some(format!("{id}@example.com")),
                avatar: Some(format!("https://cdn.example/{id}.png")),
                role: Role::new("user"),
                ..UserProfile::bare(UserId::parse(id).unwrap())
            })
            .await
            .unwrap();
    }
    h
}

/// `method uri` as `user`, with the token in `x-auth-token` as the family sends it.
async fn as_user(
    h: &Harness,
    user: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (S, Value) {
    let headers = [("x-auth-token", token(user))];
    h.send(request(method, uri, &headers, body)).await
}

async fn open(h: &Harness, by: &str, body: Value) -> (S, Value) {
    as_user(h, by, "POST", "/api/chat/conversations", Some(body)).await
}

async fn opened(h: &Harness) -> String {
    let (status, body) = open(h, "buyer", json!({ "participantId": "seller" })).await;
    assert!(status.is_success(), "{body}");
    body["_id"].as_str().unwrap().to_owned()
}

async fn post_text(h: &Harness, by: &str, id: &str, text: &str) -> Value {
    let (status, body) = as_user(
        h,
        by,
        "POST",
        &format!("/api/chat/conversations/{id}/messages"),
        Some(json!({ "text": text })),
    )
    .await;
    assert_eq!(status, S::CREATED, "{body}");
    body
}

/// A `multipart/form-data` body of `(field, file name, content type, bytes)` parts; a part
/// without a file name is a plain field.
fn multipart(by: &str, uri: &str, parts: &[(&str, Option<&str>, &str, &[u8])]) -> Request<Body> {
    const BOUNDARY: &str = "----kaajkaam-test-boundary";
    let mut body = Vec::new();
    for (field, file, content_type, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{field}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("authorization", format!("Bearer {}", token(by)))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn a_conversation_is_got_or_created_per_pair_and_context() {
    let h = harness().await;
    let (status, first) = open(
        &h,
        "buyer",
        json!({ "participantId": "seller", "orderId": "order456" }),
    )
    .await;
    assert_eq!(status, S::CREATED, "{first}");
    assert_eq!(first["orderId"], "order456");
    assert_eq!(first["gigId"], Value::Null);
    assert_eq!(first["isActive"], true);
    assert_eq!(first["lastMessage"], Value::Null);
    assert_eq!(first["unreadCount"], json!({ "buyer": 0, "seller": 0 }));
    assert_eq!(
        first["participants"][1],
        json!({
            "_id": "seller",
            "name": "Sami Seller",
            "email": "seller@example.com",
            "avatar": "https://cdn.example/seller.png",
        })
    );
    // The same pair and order, from either side: the same conversation.
    let (status, again) = open(
        &h,
        "seller",
        json!({ "participantId": "buyer", "orderId": "order456" }),
    )
    .await;
    assert_eq!((status, &again["_id"]), (S::OK, &first["_id"]));
    // Another context: another conversation.
    let (status, other) = open(
        &h,
        "buyer",
        json!({ "participantId": "seller", "gigId": "gig1" }),
    )
    .await;
    assert_eq!(status, S::CREATED);
    assert_ne!(other["_id"], first["_id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_opens_make_one_conversation() {
    let h = harness().await;
    let mut opens = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let router = h.router.clone();
        let headers = [("x-auth-token", token("buyer"))];
        let body = json!({ "participantId": "seller", "jobId": "job9" });
        opens.spawn(async move {
            let response = router
                .oneshot(request(
                    "POST",
                    "/api/chat/conversations",
                    &headers,
                    Some(body),
                ))
                .await
                .unwrap();
            let status = response.status();
            let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        });
    }
    let results = opens.join_all().await;
    let ids: std::collections::HashSet<_> = results
        .iter()
        .map(|(status, body)| {
            assert!(status.is_success(), "{body}");
            body["_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    let created = results.iter().filter(|(s, _)| *s == S::CREATED).count();
    assert_eq!(created, 1);
}

#[tokio::test]
async fn opening_refuses_bad_input_and_missing_tokens() {
    let h = harness().await;
    for body in [
        json!({}),
        json!({ "participantId": 5 }),
        json!({ "participantId": "buyer" }),
        json!({ "participantId": "seller", "orderId": 7 }),
    ] {
        let (status, answer) = open(&h, "buyer", body.clone()).await;
        assert_eq!(status, S::BAD_REQUEST, "{body}: {answer}");
        assert!(has_message(&answer), "{answer}");
    }
    let (status, answer) = h
        .call(
            "POST",
            "/api/chat/conversations",
            None,
            Some(json!({ "participantId": "seller" })),
        )
        .await;
    assert_eq!(status, S::UNAUTHORIZED);
    assert!(has_message(&answer));
    let (status, _) = h
        .call("GET", "/api/chat/conversations", Some("not-a-jwt"), None)
        .await;
    assert_eq!(status, S::UNAUTHORIZED);
}

#[tokio::test]
async fn messages_are_posted_listed_and_counted() {
    let h = harness().await;
    let id = opened(&h).await;
    let mut events = h.bus.subscribe();
    let sent = post_text(&h, "buyer", &id, "Hello!").await;
    assert_eq!(sent["text"], "Hello!");
    assert_eq!(sent["sender"], "buyer");
    assert_eq!(sent["conversationId"], id.as_str());
    assert_eq!(sent["messageType"], "text");
    assert_eq!(sent["readBy"], json!([]));
    // Stored, then announced.
    let event = events.next().await.unwrap();
    assert!(
        matches!(
            event.event,
            crate::domain::DomainEvent::MessagePosted { .. }
        ),
        "{event:?}"
    );
    post_text(&h, "buyer", &id, "Are you there?").await;

    let (status, page) = as_user(
        &h,
        "seller",
        "GET",
        &format!("/api/chat/conversations/{id}/messages?limit=50&skip=0"),
        None,
    )
    .await;
    assert_eq!(status, S::OK);
    let texts: Vec<_> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(texts, [json!("Hello!"), json!("Are you there?")]);
    let (_, skipped) = as_user(
        &h,
        "seller",
        "GET",
        &format!("/api/chat/conversations/{id}/messages?limit=1&skip=1"),
        None,
    )
    .await;
    assert_eq!(skipped.as_array().unwrap().len(), 1);
    assert_eq!(skipped[0]["text"], "Hello!");

    let unread = |user: &'static str| {
        let h = &h;
        async move { as_user(h, user, "GET", "/api/chat/unread-count", None).await }
    };
    assert_eq!(unread("seller").await, (S::OK, json!({ "count": 2 })));
    assert_eq!(unread("buyer").await.1, json!({ "count": 0 }));
    let (status, listed) = as_user(&h, "seller", "GET", "/api/chat/conversations", None).await;
    assert_eq!(status, S::OK);
    assert_eq!(listed[0]["unreadCount"]["seller"], 2);
    assert_eq!(listed[0]["lastMessage"]["text"], "Are you there?");
    assert_eq!(listed[0]["lastMessage"]["sender"], "buyer");

    let (status, _) = as_user(
        &h,
        "seller",
        "PUT",
        &format!("/api/chat/conversations/{id}/read"),
        None,
    )
    .await;
    assert_eq!(status, S::OK);
    assert_eq!(unread("seller").await.1, json!({ "count": 0 }));
    let (_, page) = as_user(
        &h,
        "buyer",
        "GET",
        &format!("/api/chat/conversations/{id}/messages"),
        None,
    )
    .await;
    assert_eq!(page[1]["readBy"][0]["userId"], "seller");
}

#[tokio::test]
async fn conversations_list_newest_activity_first_and_hide_for_one_side_only() {
    let h = harness().await;
    let older = opened(&h).await;
    let (_, newer) = open(
        &h,
        "buyer",
        json!({ "participantId": "seller", "orderId": "o2" }),
    )
    .await;
    let newer = newer["_id"].as_str().unwrap().to_owned();
    // Activity is kept to the millisecond: let the bump come in a later one.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    post_text(&h, "seller", &older, "bump").await;
    let ids = |listed: &Value| -> Vec<String> {
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, listed) = as_user(&h, "buyer", "GET", "/api/chat/conversations", None).await;
    assert_eq!(ids(&listed), [older.clone(), newer.clone()]);

    let (status, answer) = as_user(
        &h,
        "buyer",
        "DELETE",
        &format!("/api/chat/conversations/{older}"),
        None,
    )
    .await;
    assert_eq!(status, S::OK, "{answer}");
    let (_, listed) = as_user(&h, "buyer", "GET", "/api/chat/conversations", None).await;
    assert_eq!(ids(&listed), std::slice::from_ref(&newer));
    let (_, theirs) = as_user(&h, "seller", "GET", "/api/chat/conversations", None).await;
    assert_eq!(
        ids(&theirs).len(),
        2,
        "the other participant still lists it"
    );
    // A new message shows it again.
    post_text(&h, "seller", &older, "still there?").await;
    let (_, listed) = as_user(&h, "buyer", "GET", "/api/chat/conversations", None).await;
    assert_eq!(ids(&listed), [older, newer]);
}

#[tokio::test]
async fn strangers_unknown_ids_and_bad_input_get_their_statuses() {
    let h = harness().await;
    let id = opened(&h).await;
    let unknown = "66f0000000000000000000ff";
    for (user, method, uri, body, expected) in [
        (
            "eve",
            "GET",
            format!("/api/chat/conversations/{id}"),
            None,
            S::FORBIDDEN,
        ),
        (
            "eve",
            "GET",
            format!("/api/chat/conversations/{id}/messages"),
            None,
            S::FORBIDDEN,
        ),
        (
            "eve",
            "POST",
            format!("/api/chat/conversations/{id}/messages"),
            Some(json!({ "text": "hi" })),
            S::FORBIDDEN,
        ),
        (
            "eve",
            "PUT",
            format!("/api/chat/conversations/{id}/read"),
            None,
            S::FORBIDDEN,
        ),
        (
            "eve",
            "DELETE",
            format!("/api/chat/conversations/{id}"),
            None,
            S::FORBIDDEN,
        ),
        (
            "eve",
            "POST",
            format!("/api/chat/conversations/{id}/call-record"),
            Some(json!({ "callType": "audio", "duration": 3, "status": "completed" })),
            S::FORBIDDEN,
        ),
        (
            "buyer",
            "GET",
            format!("/api/chat/conversations/{unknown}"),
            None,
            S::NOT_FOUND,
        ),
        (
            "buyer",
            "POST",
            format!("/api/chat/conversations/{unknown}/messages"),
            Some(json!({ "text": "hi" })),
            S::NOT_FOUND,
        ),
        (
            "buyer",
            "POST",
            format!("/api/chat/conversations/{id}/messages"),
            Some(json!({ "text": "   " })),
            S::BAD_REQUEST,
        ),
        (
            "buyer",
            "POST",
            format!("/api/chat/conversations/{id}/messages"),
            Some(json!({ "text": 5 })),
            S::BAD_REQUEST,
        ),
        (
            "buyer",
            "POST",
            format!("/api/chat/conversations/{id}/messages"),
            Some(json!(["not", "an", "object"])),
            S::BAD_REQUEST,
        ),
        (
            "buyer",
            "POST",
            format!("/api/chat/conversations/{id}/messages"),
            Some(json!({ "text": "x".repeat(10_001) })),
            S::BAD_REQUEST,
        ),
        (
            "buyer",
            "GET",
            format!("/api/chat/conversations/{id}/messages?limit=many"),
            None,
            S::BAD_REQUEST,
        ),
    ] {
        let (status, answer) = as_user(&h, user, method, &uri, body).await;
        assert_eq!(status, expected, "{user} {method} {uri}: {answer}");
        assert!(has_message(&answer), "{answer}");
    }
    // A JSON body over the body limit.
    let (status, answer) = as_user(
        &h,
        "buyer",
        "POST",
        &format!("/api/chat/conversations/{id}/messages"),
        Some(json!({ "text": "x".repeat(MAX_BODY + 1) })),
    )
    .await;
    assert_eq!(status, S::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(has_message(&answer));
}

#[tokio::test]
async fn files_are_stored_linked_and_served_back_byte_for_byte() {
    let h = harness().await;
    let id = opened(&h).await;
    let uri = format!("/api/chat/conversations/{id}/messages");
    let picture: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let (status, sent) = h
        .send(multipart(
            "buyer",
            &uri,
            &[
                ("text", None, "", b"Here is the design"),
                ("attachments", Some("design.png"), "image/png", &picture),
                (
                    "attachments",
                    Some("../../brief.pdf"),
                    "application/pdf",
                    b"%PDF-1.4",
                ),
            ],
        ))
        .await;
    assert_eq!(status, S::CREATED, "{sent}");
    assert_eq!(sent["text"], "Here is the design");
    let attachments = sent["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["type"], "image");
    assert_eq!(attachments[0]["name"], "design.png");
    assert_eq!(attachments[0]["size"], 5000);
    assert_eq!(attachments[1]["type"], "pdf");
    assert_eq!(attachments[1]["name"], "../../brief.pdf");
    let url = attachments[0]["url"].as_str().unwrap();
    assert!(url.starts_with("/uploads/"), "{url}");
    assert!(!attachments[1]["url"].as_str().unwrap().contains(".."));

    let response = h
        .router
        .clone()
        .oneshot(Request::get(url).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), S::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    let served = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert_eq!(served.as_ref(), picture.as_slice());

    // A file alone is a message; its text may be empty.
    let (status, file_only) = h
        .send(multipart(
            "seller",
            &uri,
            &[("attachments", Some("notes.txt"), "text/plain", b"notes")],
        ))
        .await;
    assert_eq!(status, S::CREATED, "{file_only}");
    assert_eq!(file_only["text"], "");
    assert_eq!(file_only["attachments"][0]["type"], "doc");
    // Neither text nor a file is nothing to send.
    let (status, empty) = h
        .send(multipart("seller", &uri, &[("text", None, "", b" ")]))
        .await;
    assert_eq!(status, S::BAD_REQUEST, "{empty}");
}

#[tokio::test]
async fn oversize_and_too_many_files_are_refused_and_nothing_is_posted() {
    let h = harness().await;
    let id = opened(&h).await;
    let uri = format!("/api/chat/conversations/{id}/messages");
    let big = vec![7u8; usize::try_from(MAX_FILE_BYTES).unwrap() + 1];
    let (status, answer) = h
        .send(multipart(
            "buyer",
            &uri,
            &[(
                "attachments",
                Some("big.bin"),
                "application/octet-stream",
                &big,
            )],
        ))
        .await;
    assert_eq!(status, S::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(has_message(&answer));
    let four: Vec<_> = (0..4)
        .map(|_| ("attachments", Some("a.txt"), "text/plain", b"a".as_slice()))
        .collect();
    let (status, answer) = h.send(multipart("buyer", &uri, &four)).await;
    assert_eq!(status, S::BAD_REQUEST, "{answer}");
    // A stranger's upload is refused before it is read.
    let (status, _) = h
        .send(multipart(
            "eve",
            &uri,
            &[("attachments", Some("a.txt"), "text/plain", b"a")],
        ))
        .await;
    assert_eq!(status, S::FORBIDDEN);
    let (_, page) = as_user(&h, "buyer", "GET", &uri, None).await;
    assert_eq!(page, json!([]));
}

#[tokio::test]
async fn a_call_record_is_a_call_message_from_its_recorder() {
    let h = harness().await;
    let id = opened(&h).await;
    let uri = format!("/api/chat/conversations/{id}/call-record");
    let (status, record) = as_user(
        &h,
        "buyer",
        "POST",
        &uri,
        Some(json!({ "callType": "video", "duration": 125, "status": "completed" })),
    )
    .await;
    assert_eq!(status, S::CREATED, "{record}");
    assert_eq!(record["messageType"], "call");
    assert_eq!(record["sender"], "buyer");
    assert_eq!(
        record["callInfo"],
        json!({ "callType": "video", "duration": 125, "status": "completed" })
    );
    for body in [
        json!({ "callType": "fax", "duration": 1, "status": "completed" }),
        json!({ "callType": "audio", "duration": 1, "status": "ok" }),
        json!({ "callType": "audio", "duration": 1.5, "status": "missed" }),
        json!({ "callType": "audio", "duration": -1, "status": "missed" }),
        json!({ "duration": 1, "status": "missed" }),
    ] {
        let (status, answer) = as_user(&h, "buyer", "POST", &uri, Some(body.clone())).await;
        assert_eq!(status, S::BAD_REQUEST, "{body}: {answer}");
        assert!(has_message(&answer));
    }
}
