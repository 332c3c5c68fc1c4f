//! Every capability of the core through the native protocol, on the memory store.

use std::time::Duration;

use serde_json::json;

use super::{connect, connect_with, message, notify, open};
use crate::support::{self, TestApp};

super::stores::on_every_store!(
    conversations_messages_and_receipts,
    notifications_presence_and_typing,
    a_call_rings_is_answered_relays_signals_and_ends,
    a_resumed_connection_gets_what_it_missed_then_live_events,
);

/// Nothing more arrives within a moment (what a test checks after the events it expects).
const QUIET: Duration = Duration::from_millis(200);

async fn conversations_messages_and_receipts(app: &TestApp) {
    let alice = connect(app, "alice").await;
    let mut bob = connect(app, "bob").await;

    let opened = alice
        .request(
            "conversations.open",
            json!({ "participantIds": ["bob"], "context": { "orderId": "o-1" } }),
        )
        .await
        .unwrap();
    assert_eq!(opened["created"], true);
    let id = opened["conversation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        opened["conversation"]["context"],
        json!({ "orderId": "o-1" })
    );
    let again = alice
        .request(
            "conversations.open",
            json!({ "participantIds": ["bob"], "context": { "orderId": "o-1" } }),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            again["created"].clone(),
            again["conversation"]["id"].as_str()
        ),
        (json!(false), Some(id.as_str()))
    );

    // Post with an idempotency key: the answer is the stored message with its seq; the other
    // participant gets it as message.new; a resend with the same key is the same message.
    let sent = alice
        .request(
            "messages.send",
            json!({ "conversationId": id, "text": "hello", "clientKey": "k-1" }),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            sent["seq"].as_u64(),
            sent["text"].as_str(),
            sent["clientKey"].as_str()
        ),
        (Some(1), Some("hello"), Some("k-1"))
    );
    let live = bob.next("message.new").await;
    assert_eq!(
        (
            live["id"].clone(),
            live["seq"].clone(),
            live["senderId"].clone()
        ),
        (sent["id"].clone(), json!(1), json!("alice"))
    );
    let resent = alice
        .request(
            "messages.send",
            json!({ "conversationId": id, "text": "hello", "clientKey": "k-1" }),
        )
        .await
        .unwrap();
    assert_eq!(resent["id"], sent["id"]);
    let reply = bob
        .request(
            "messages.send",
            json!({ "conversationId": id, "text": "hi alice" }),
        )
        .await
        .unwrap();
    assert_eq!(reply["seq"], 2);
    // The sender's own connection gets message.new as well (every connection sees every
    // seq); the resend is not announced again.
    assert_eq!(bob.next("message.new").await["id"], reply["id"]);
    assert!(
        bob.try_next_event(QUIET).await.is_none(),
        "the resend is not announced again"
    );

    // Lists with unread counts (posting reads everything before one's own message); history
    // by seq ranges.
    let list = alice
        .request("conversations.list", json!({}))
        .await
        .unwrap();
    let mine = &list["conversations"][0];
    assert_eq!(
        (
            mine["id"].as_str(),
            mine["unread"].as_u64(),
            mine["lastSeq"].as_u64()
        ),
        (Some(id.as_str()), Some(1), Some(2))
    );
    let seqs = |page: &serde_json::Value| -> Vec<u64> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    };
    let all = bob
        .request("messages.history", json!({ "conversationId": id }))
        .await
        .unwrap();
    assert_eq!(seqs(&all), [1, 2]);
    let after = bob
        .request(
            "messages.history",
            json!({ "conversationId": id, "afterSeq": 1 }),
        )
        .await
        .unwrap();
    assert_eq!(seqs(&after), [2]);
    let before = bob
        .request(
            "messages.history",
            json!({ "conversationId": id, "beforeSeq": 2 }),
        )
        .await
        .unwrap();
    assert_eq!(seqs(&before), [1]);
    let none = bob
        .request(
            "messages.history",
            json!({ "conversationId": id, "beforeSeq": 1 }),
        )
        .await
        .unwrap();
    assert_eq!(seqs(&none), Vec::<u64>::new());

    // Bob reads Alice's next message: Alice is told, and "read by" is derived from the marks.
    let mut alice = alice;
    let more = alice
        .request(
            "messages.send",
            json!({ "conversationId": id, "text": "more" }),
        )
        .await
        .unwrap();
    assert_eq!(bob.next("message.new").await["seq"], 3);
    let read = bob
        .request("messages.read", json!({ "messageId": more["id"] }))
        .await
        .unwrap();
    assert_eq!(
        (read["seq"].as_u64(), read["userId"].as_str()),
        (Some(3), Some("bob"))
    );
    let receipt = alice.next("receipt").await;
    assert_eq!(
        (
            receipt["kind"].as_str(),
            receipt["seq"].as_u64(),
            receipt["userId"].as_str()
        ),
        (Some("read"), Some(3), Some("bob"))
    );
    let history = alice
        .request(
            "messages.history",
            json!({ "conversationId": id, "afterSeq": 2 }),
        )
        .await
        .unwrap();
    assert_eq!(history["messages"][0]["readBy"][0]["userId"], "bob");
    assert_eq!(history["messages"][0]["read"], true);
    bob.request(
        "messages.send",
        json!({ "conversationId": id, "text": "seen?" }),
    )
    .await
    .unwrap();
    message(&mut alice, 4).await;
    let list = alice
        .request("conversations.list", json!({}))
        .await
        .unwrap();
    assert_eq!(list["conversations"][0]["unread"], 1);
    let marked = alice
        .request("conversations.read", json!({ "conversationId": id }))
        .await
        .unwrap();
    assert_eq!(marked["moved"], true);
    let receipt = bob.next("receipt").await;
    assert_eq!(
        (
            receipt["kind"].as_str(),
            receipt["seq"].as_u64(),
            receipt["userId"].as_str()
        ),
        (Some("read"), Some(4), Some("alice"))
    );
    let list = alice
        .request("conversations.list", json!({}))
        .await
        .unwrap();
    assert_eq!(list["conversations"][0]["unread"], 0);
    let marked = alice
        .request("conversations.delivered", json!({ "conversationId": id }))
        .await
        .unwrap();
    assert_eq!(marked["moved"], false, "reading covers delivery");

    // Edits reach the other participant; only the sender edits.
    let edited = alice
        .request(
            "messages.edit",
            json!({ "messageId": sent["id"], "text": "hello!" }),
        )
        .await
        .unwrap();
    assert_eq!(edited["text"], "hello!");
    assert!(edited["editedAt"].is_string());
    let seen = bob.next("message.edited").await;
    assert_eq!(
        (seen["id"].clone(), seen["text"].clone()),
        (sent["id"].clone(), json!("hello!"))
    );
    let refused = bob
        .request(
            "messages.edit",
            json!({ "messageId": sent["id"], "text": "mine now" }),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, "forbidden", "{refused:?}");

    // Hiding drops it from the list until a newer message.
    bob.request("conversations.hide", json!({ "conversationId": id }))
        .await
        .unwrap();
    let list = bob.request("conversations.list", json!({})).await.unwrap();
    assert_eq!(list["conversations"], json!([]));
    alice
        .request(
            "messages.send",
            json!({ "conversationId": id, "text": "back" }),
        )
        .await
        .unwrap();
    bob.next("message.new").await;
    let list = bob.request("conversations.list", json!({})).await.unwrap();
    assert_eq!(list["conversations"][0]["id"], id.as_str());
}

async fn notifications_presence_and_typing(app: &TestApp) {
    let mut alice = connect(app, "alice").await;
    let mut bob = connect(app, "bob").await;
    let id = open(&alice, "bob").await;

    notify(app, "bob", "Ann liked your post").await;
    let live = bob.next("notification.new").await;
    assert_eq!(
        (live["type"].as_str(), live["message"].as_str()),
        (Some("LIKE"), Some("Ann liked your post"))
    );
    assert_eq!(
        bob.request("notifications.unreadCount", json!(null))
            .await
            .unwrap()["count"],
        1
    );
    let list = bob
        .request("notifications.list", json!({ "limit": 10 }))
        .await
        .unwrap();
    assert_eq!(list["notifications"][0]["id"], live["id"]);
    let read = bob
        .request(
            "notifications.read",
            json!({ "notificationId": live["id"] }),
        )
        .await
        .unwrap();
    assert!(read["readAt"].is_string());
    assert_eq!(
        bob.next("notifications.read").await["notificationId"],
        live["id"]
    );
    notify(app, "bob", "second").await;
    bob.next("notification.new").await;
    assert_eq!(
        bob.request("notifications.readAll", json!(null))
            .await
            .unwrap()["count"],
        1
    );
    assert_eq!(
        bob.request("notifications.unreadCount", json!(null))
            .await
            .unwrap()["count"],
        0
    );

    // Pending: what was stored while the user had no connection comes on request.
    drop(bob);
    tokio::time::sleep(Duration::from_millis(100)).await;
    notify(app, "bob", "while away").await;
    let mut bob = connect(app, "bob").await;
    let pending = bob
        .request("notifications.pending", json!(null))
        .await
        .unwrap();
    assert_eq!(pending["count"], 1);
    assert_eq!(bob.next("notification.new").await["message"], "while away");
    assert_eq!(
        bob.request("notifications.pending", json!(null))
            .await
            .unwrap()["count"],
        0
    );

    // Presence of contacts, asked and told.
    let status = bob
        .request("presence.get", json!({ "userId": "alice" }))
        .await
        .unwrap();
    assert_eq!(status["online"], true);
    let set = alice
        .request("presence.set", json!({ "online": false }))
        .await
        .unwrap();
    assert_eq!(set["online"], false);
    let told = bob.next("presence").await;
    assert_eq!(
        (told["userId"].as_str(), told["online"].as_bool()),
        (Some("alice"), Some(false))
    );
    alice
        .request("presence.set", json!({ "online": true }))
        .await
        .unwrap();
    assert_eq!(bob.next("presence").await["online"], true);

    // Typing reaches the others, not the typist.
    alice
        .request("typing.start", json!({ "conversationId": id }))
        .await
        .unwrap();
    let typing = bob.next("typing").await;
    assert_eq!(
        (typing["userId"].as_str(), typing["typing"].as_bool()),
        (Some("alice"), Some(true))
    );
    alice
        .request("typing.stop", json!({ "conversationId": id }))
        .await
        .unwrap();
    assert_eq!(bob.next("typing").await["typing"], false);
    while let Some((kind, _)) = alice.try_next_event(Duration::from_millis(200)).await {
        assert_ne!(kind, "typing", "the typist is not told about itself");
    }
}

async fn a_call_rings_is_answered_relays_signals_and_ends(app: &TestApp) {
    let mut alice = connect(app, "alice").await;
    let mut bob = connect(app, "bob").await;
    let id = open(&alice, "bob").await;

    let call = alice
        .request("call.place", json!({ "conversationId": id, "calleeId": "bob", "callType": "video", "offer": { "sdp": "o" } }))
        .await
        .unwrap();
    assert_eq!(
        (call["state"].as_str(), call["callType"].as_str()),
        (Some("ringing"), Some("video"))
    );
    let ringing = bob.next("call.ringing").await;
    assert_eq!(
        (ringing["call"]["id"].clone(), ringing["offer"].clone()),
        (call["id"].clone(), json!({ "sdp": "o" }))
    );
    let accepted = bob
        .request("call.accept", json!({ "answer": { "sdp": "a" } }))
        .await
        .unwrap();
    assert_eq!(accepted["state"], "active");
    assert_eq!(
        alice.next("call.accepted").await["answer"],
        json!({ "sdp": "a" })
    );
    alice
        .request(
            "call.signal",
            json!({ "to": "bob", "payload": { "candidate": "c1" } }),
        )
        .await
        .unwrap();
    let signal = bob.next("call.signal").await;
    assert_eq!(
        (signal["from"].as_str(), signal["payload"].clone()),
        (Some("alice"), json!({ "candidate": "c1" }))
    );
    let ended = alice.request("call.hangup", json!(null)).await.unwrap();
    assert_eq!(
        (ended["state"].as_str(), ended["reason"].as_str()),
        (Some("ended"), Some("hung_up"))
    );
    assert_eq!(bob.next("call.ended").await["call"]["reason"], "hung_up");

    // A second call, declined.
    alice
        .request(
            "call.place",
            json!({ "conversationId": id, "calleeId": "bob" }),
        )
        .await
        .unwrap();
    bob.next("call.ringing").await;
    let declined = bob.request("call.decline", json!(null)).await.unwrap();
    assert_eq!(declined["reason"], "declined");
    assert_eq!(alice.next("call.ended").await["call"]["reason"], "declined");
}

async fn a_resumed_connection_gets_what_it_missed_then_live_events(app: &TestApp) {
    let alice = connect(app, "alice").await;
    let mut bob = connect(app, "bob").await;
    let id = open(&alice, "bob").await;
    alice
        .request(
            "messages.send",
            json!({ "conversationId": id, "text": "m1" }),
        )
        .await
        .unwrap();
    assert_eq!(bob.next("message.new").await["seq"], 1);
    drop(bob);
    for n in 2..=5 {
        alice
            .request(
                "messages.send",
                json!({ "conversationId": id, "text": format!("m{n}") }),
            )
            .await
            .unwrap();
    }
    let mut bob = connect_with(app, "bob", json!({ "conversations": { id.clone(): 1 } })).await;
    for n in 2..=5 {
        let message = bob.next_event().await.expect("a missed message");
        assert_eq!(
            (message.0.as_str(), message.1["seq"].as_u64()),
            ("message.new", Some(n))
        );
        assert_eq!(message.1["text"], format!("m{n}"));
    }
    let (kind, resumed) = bob.next_event().await.unwrap();
    assert_eq!(kind, "resumed");
    let entry = &resumed["conversations"][0];
    assert_eq!(
        (
            entry["afterSeq"].as_u64(),
            entry["lastSeq"].as_u64(),
            entry["sent"].as_u64(),
            entry["complete"].as_bool()
        ),
        (Some(1), Some(5), Some(4), Some(true))
    );
    assert_eq!(
        entry["conversation"]["participants"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    alice
        .request(
            "messages.send",
            json!({ "conversationId": id, "text": "m6" }),
        )
        .await
        .unwrap();
    assert_eq!(bob.next("message.new").await["seq"], 6);

    // A conversation the user is not in is reported, and the rest still resumes.
    let carol = connect(app, "carol").await;
    let dave = open(&carol, "dave").await;
    drop(carol);
    let mut bob = connect_with(
        app,
        "bob",
        json!({ "conversations": { id.clone(): 6, dave.clone(): 0 } }),
    )
    .await;
    let resumed = bob.next("resumed").await;
    let refused = resumed["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["conversationId"] == dave.as_str())
        .unwrap();
    assert_eq!(refused["error"]["code"], "forbidden", "{resumed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_larger_than_the_outbound_budget_is_sent_in_part_and_the_rest_paged() {
    let app = support::spawn_app_with(support::memory_store(), &["native".into()], |s| {
        s.limits.outbound_buffer_bytes = 16 * 1024;
        s.limits.events_per_second = 0;
    })
    .await;
    let mut alice = connect(&app, "alice").await;
    let id = open(&alice, "bob").await;
    for n in 1..=40 {
        let text = format!("m{n} {}", "x".repeat(300));
        alice
            .request(
                "messages.send",
                json!({ "conversationId": id, "text": text }),
            )
            .await
            .unwrap();
    }
    // Once Alice has her own last message back, the hub has delivered all 40: none is still
    // on its way to Bob's new connection, where it would wait (held) within the small budget.
    message(&mut alice, 40).await;
    let mut bob = connect_with(&app, "bob", json!({ "conversations": { id.clone(): 0 } })).await;
    let mut replayed = Vec::new();
    let resumed = loop {
        match bob.next_event().await.expect("the greeting") {
            (kind, message) if kind == "message.new" => {
                replayed.push(message["seq"].as_u64().unwrap())
            }
            (kind, resumed) if kind == "resumed" => break resumed,
            _ => {}
        }
    };
    let entry = &resumed["conversations"][0];
    let sent = replayed.len() as u64;
    assert!(sent > 0 && sent < 40, "{sent} of 40 fit in the budget");
    assert_eq!(replayed, (1..=sent).collect::<Vec<_>>());
    assert_eq!(
        (
            entry["sent"].as_u64(),
            entry["complete"].as_bool(),
            entry["lastSeq"].as_u64()
        ),
        (Some(sent), Some(false), Some(40))
    );
    // The client pages the rest (in pages that fit its budget), on the same connection.
    let mut seqs = Vec::new();
    let mut after = sent;
    while after < 40 {
        let page = bob
            .request(
                "messages.history",
                json!({ "conversationId": id, "afterSeq": after, "limit": 10 }),
            )
            .await
            .unwrap();
        for m in page["messages"].as_array().unwrap() {
            after = m["seq"].as_u64().unwrap();
            seqs.push(after);
        }
    }
    assert_eq!(seqs, (sent + 1..=40).collect::<Vec<_>>());
    app.stop().await;
}
