//! marketplace's table, replies and renderings, and its flows in process.

use serde_json::json;

use super::*;
use crate::adapters::inbound::dialects::fixtures::{ALICE, BOB, ROOM, message, profile, uid, view};
use crate::domain::{PresenceChange, Timestamp, TypingChange};

#[test]
fn the_table_has_the_family_events() {
    assert_eq!(
        Marketplace::default().events().events(),
        [
            "get-online-status",
            "get-unread-count",
            "join-chat",
            "join-notifications",
            "leave-chat",
            "mark-all-notifications-read",
            "mark-messages-read",
            "mark-notification-read",
            "send-message",
            "set-online-status",
            "typing-start",
            "typing-stop",
        ]
    );
}

#[test]
fn send_message_reads_content_type_and_media() {
    let alice = profile(ALICE, "Alice");
    let v = view(&alice);
    let SendMessage(plain) =
        decode_send(&v, &json!({ "chatId": ROOM, "content": "Hello there!" })).unwrap();
    assert_eq!(
        (plain.kind, plain.text.as_str()),
        (MessageKind::Text, "Hello there!")
    );
    assert!(plain.attachments.is_empty());
    let SendMessage(with_media) = decode_send(
        &v,
        &json!({
            "chatId": ROOM, "content": "", "messageType": "image",
            "media": ["https://x/1.png", { "url": "https://x/2.pdf", "type": "pdf", "name": "2.pdf", "size": 10 }],
        }),
    )
    .unwrap();
    assert_eq!(with_media.kind, MessageKind::Image);
    assert_eq!(with_media.attachments.len(), 2);
    assert_eq!(with_media.attachments[0].kind, "");
    assert_eq!(with_media.attachments[1].kind, "pdf");
    for (args, expected) in [
        (json!({ "content": "x" }), "chatId is required"),
        (
            json!({ "chatId": ROOM, "content": 1 }),
            "content must be a string",
        ),
        (
            json!({ "chatId": ROOM, "content": "x", "messageType": "gif" }),
            "messageType must be",
        ),
        (
            json!({ "chatId": ROOM, "content": "x", "messageType": "call" }),
            "messageType must be",
        ),
        (
            json!({ "chatId": ROOM, "content": "x", "media": "a.png" }),
            "media must be an array",
        ),
        (
            json!({ "chatId": ROOM, "content": "x", "media": [5] }),
            "media[0]",
        ),
    ] {
        let error = decode_send(&v, &args).unwrap_err().0;
        assert!(error.contains(expected), "{args}: {error}");
    }
}

#[test]
fn events_about_a_user_must_be_about_the_connections_own() {
    let alice = profile(ALICE, "Alice");
    let v = view(&alice);
    assert!(decode_join_notifications(&v, &json!(ALICE)).is_ok());
    assert!(decode_unread_count(&v, &json!(ALICE)).is_ok());
    assert!(decode_read_all(&v, &json!(ALICE)).is_ok());
    for error in [
        decode_join_notifications(&v, &json!(BOB)).unwrap_err(),
        decode_unread_count(&v, &json!(BOB)).unwrap_err(),
        decode_read_all(&v, &json!(BOB)).unwrap_err(),
        decode_set_online(&v, &json!({ "userId": BOB, "isOnline": false })).unwrap_err(),
    ] {
        assert_eq!(error.0, "userId must be your own user id");
    }
    assert_eq!(
        decode_set_online(&v, &json!({ "userId": ALICE, "isOnline": false })),
        Ok(SetOnline(false))
    );
    // Anyone's status may be asked.
    assert_eq!(
        decode_status_of(&v, &json!(BOB)),
        Ok(OnlineStatusOf(uid(BOB)))
    );
}

#[test]
fn typing_takes_a_chat_id_or_a_room_id() {
    let room = ConversationId::parse(ROOM).unwrap();
    for args in [
        json!({ "chatId": ROOM }),
        json!({ "roomId": ROOM, "userId": ALICE }),
    ] {
        assert_eq!(
            decode_typing(&args, "typing-start", true),
            Ok(SetTyping {
                conversation: room.clone(),
                typing: true
            })
        );
    }
    assert!(decode_typing(&json!({}), "typing-stop", false).is_err());
}

#[test]
fn a_message_reaches_the_room_and_the_receivers_every_connection() {
    let m = message("Hello there!", 1);
    let event = DomainEvent::MessagePosted {
        participants: vec![uid(ALICE), uid(BOB)],
        message: m.clone(),
        receipt: MessageReceipt::default(),
        sender: profile(ALICE, "Alice"),
        context: Default::default(),
        alert: vec![],
    };
    let deliveries = Marketplace::default().render(&event);
    let expected = json!({
        "_id": m.id.as_str(),
        "chatId": ROOM,
        "sender": ALICE,
        "content": "Hello there!",
        "messageType": "text",
        "media": [],
        "delivered": false,
        "isRead": false,
        "createdAt": "2026-01-05T12:00:00.000Z",
    });
    assert_eq!(deliveries[0].event, "new-message");
    assert_eq!(
        deliveries[0].audience,
        Audience::Room(m.conversation_id.clone())
    );
    assert!(deliveries[0].to_origin, "the sender is part of the room");
    assert_eq!(deliveries[0].payload, expected);
    assert_eq!(deliveries[1].event, "message-notification");
    assert_eq!(deliveries[1].audience, Audience::Users(vec![uid(BOB)]));
    assert_eq!(
        deliveries[1].payload,
        json!({ "chatId": ROOM, "message": expected })
    );
}

#[test]
fn typing_reads_and_presence_render_in_the_family_shape() {
    let room = ConversationId::parse(ROOM).unwrap();
    let typing = DomainEvent::TypingChanged {
        participants: vec![uid(ALICE), uid(BOB)],
        change: TypingChange {
            conversation_id: room.clone(),
            user_id: uid(BOB),
            typing: false,
            at: Timestamp::from_millis(1),
        },
        user_name: None,
    };
    let d = &Marketplace::default().render(&typing)[0];
    assert_eq!(
        (d.event, d.except_user.clone()),
        ("user-typing", Some(uid(BOB)))
    );
    assert_eq!(d.payload, json!({ "userId": BOB, "isTyping": false }));

    let presence = DomainEvent::PresenceChanged {
        change: PresenceChange {
            user_id: uid(BOB),
            online: false,
            last_active: Some(Timestamp::from_millis(1_767_614_400_000)),
        },
        contacts: vec![uid(ALICE)],
    };
    let d = &Marketplace::default().render(&presence)[0];
    assert_eq!(d.event, "user-status-changed");
    assert_eq!(d.audience, Audience::Users(vec![uid(ALICE)]));
    assert_eq!(
        d.payload,
        json!({ "userId": BOB, "isOnline": false, "lastActive": "2026-01-05T12:00:00.000Z" })
    );
}

mod in_process {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::super::Marketplace;
    use crate::adapters::inbound::auth::Credentials;
    use crate::adapters::inbound::session::harness::{Client, Harness, Listener};
    use crate::domain::{DataValue, NewNotification, UserId};

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    async fn joined(listener: &Listener, user: &str) -> Client {
        let mut client = listener
            .connect(Credentials::default(), Value::Null)
            .await
            .unwrap();
        let ack = client.request("user-join", json!(user)).await;
        assert_eq!(ack, json!({ "userId": user, "isOnline": true }));
        client
    }

    #[tokio::test]
    async fn a_message_reaches_the_room_and_the_receiver_wherever_they_are() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Marketplace::default()), true);
        let chat = h.conversation(&["client1", "provider1"]).await;
        let mut client = joined(&listener, "client1").await;
        let mut provider = joined(&listener, "provider1").await;
        let provider_phone = joined(&listener, "provider1").await;
        for c in [&mut client, &mut provider] {
            c.request("join-chat", json!(chat.as_str())).await;
        }
        let ack = client
            .request(
                "send-message",
                json!({ "chatId": chat.as_str(), "content": "Hello there!" }),
            )
            .await;
        assert_eq!(ack["content"], "Hello there!");
        for c in [&client, &provider] {
            assert_eq!(c.next("new-message").await["_id"], ack["_id"]);
        }
        provider_phone.none("new-message").await;
        for c in [&provider, &provider_phone] {
            let note = c.next("message-notification").await;
            assert_eq!(note["chatId"], chat.as_str());
            assert_eq!(note["message"]["_id"], ack["_id"]);
        }
        client.none("message-notification").await;

        // Reading tells the room.
        let read = provider
            .request("mark-messages-read", json!({ "chatId": chat.as_str() }))
            .await;
        assert_eq!(
            read,
            json!({ "userId": "provider1", "chatId": chat.as_str() })
        );
        assert_eq!(
            client.next("messages-read").await,
            json!({ "userId": "provider1", "chatId": chat.as_str() })
        );
    }

    #[tokio::test]
    async fn joining_needs_a_chat_one_takes_part_in() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Marketplace::default()), true);
        let chat = h.conversation(&["client1", "provider1"]).await;
        let mut eve = joined(&listener, "eve").await;
        let stranger = eve.request("join-chat", json!(chat.as_str())).await;
        assert!(stranger["error"].is_string(), "{stranger}");
        let unknown = eve
            .request("join-chat", json!("66f0000000000000000000ff"))
            .await;
        assert!(unknown["error"].is_string(), "{unknown}");
        let sent = eve
            .request(
                "send-message",
                json!({ "chatId": chat.as_str(), "content": "hi" }),
            )
            .await;
        assert!(sent["error"].is_string(), "{sent}");
    }

    #[tokio::test]
    async fn contacts_hear_of_presence_and_strangers_do_not() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Marketplace::default()), true);
        h.conversation(&["client1", "provider1"]).await;
        let mut client = joined(&listener, "client1").await;
        let stranger = joined(&listener, "eve").await;
        let provider = joined(&listener, "provider1").await;
        let online = client.next("user-status-changed").await;
        assert_eq!(online["userId"], "provider1");
        assert_eq!(online["isOnline"], true);
        stranger.none("user-status-changed").await;

        let status = client.emit("get-online-status", json!("provider1")).await;
        assert_eq!(status.emits[0].event, "online-status");
        assert_eq!(status.emits[0].payload["isOnline"], true);

        provider.close().await;
        let offline = client.next("user-status-changed").await;
        assert_eq!(offline["isOnline"], false);
        assert!(offline["lastActive"].is_string(), "{offline}");

        let status = client
            .request("get-online-status", json!("provider1"))
            .await;
        assert_eq!(status["isOnline"], false);
        let set = client
            .request(
                "set-online-status",
                json!({ "userId": "client1", "isOnline": false }),
            )
            .await;
        assert_eq!(set["isOnline"], false);
    }

    #[tokio::test]
    async fn pending_notifications_come_once_on_join_notifications() {
        let h = Harness::new().await;
        let listener = h.listener(Arc::new(Marketplace::default()), true);
        for n in 0..2 {
            h.use_cases
                .notify(NewNotification {
                    recipient: uid("provider1"),
                    kind: "order".into(),
                    title: Some("New order".into()),
                    message: format!("order {n}"),
                    reference_id: None,
                    data: DataValue::empty_map(),
                })
                .await
                .unwrap();
        }
        let mut provider = joined(&listener, "provider1").await;
        let pending = provider
            .request("join-notifications", json!("provider1"))
            .await;
        assert_eq!(pending, json!({ "count": 2 }));
        let mut pushed = Vec::new();
        for _ in 0..2 {
            let n = provider.next("new-notification").await;
            pushed.push((
                n["message"].clone(),
                n["delivered"].clone(),
                n["_id"].clone(),
            ));
        }
        assert_eq!(
            pushed
                .iter()
                .map(|(m, d, _)| (m.clone(), d.clone()))
                .collect::<Vec<_>>(),
            [
                (json!("order 0"), json!(true)),
                (json!("order 1"), json!(true))
            ]
        );
        let again = provider
            .request("join-notifications", json!("provider1"))
            .await;
        assert_eq!(again, json!({ "count": 0 }));

        assert_eq!(
            provider
                .request("get-unread-count", json!("provider1"))
                .await,
            json!({ "count": 2 })
        );
        let id = pushed[0].2.as_str().unwrap().to_owned();
        let read = provider
            .emit("mark-notification-read", json!({ "notificationId": id }))
            .await;
        assert_eq!(read.emits[0].event, "notification-read");
        assert_eq!(read.emits[0].payload, json!({ "notificationId": id }));
        let all = provider
            .emit("mark-all-notifications-read", json!("provider1"))
            .await;
        assert_eq!(all.emits[0].event, "all-notifications-read");
        assert_eq!(
            provider
                .request("get-unread-count", json!("provider1"))
                .await,
            json!({ "count": 0 })
        );
        // Someone else's notification is none of theirs.
        let mut eve = joined(&listener, "eve").await;
        let theirs = eve
            .request("mark-notification-read", json!({ "notificationId": id }))
            .await;
        assert!(theirs["error"].is_string(), "{theirs}");
    }
}
