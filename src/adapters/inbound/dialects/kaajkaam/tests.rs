//! kaajkaam's table, decoders and renderings, and its socket flows (messages, presence,
//! typing, reads, calls) in process. The REST API is tested in `rest_tests`.

use serde_json::json;

use super::*;
use crate::adapters::inbound::dialects::fixtures::{
    ALICE, AT, BOB, ROOM, message, profile, uid, view,
};
use crate::domain::call::EndReason;
use crate::domain::{
    Attachment, CallId, CallInfo, CallOutcome, CallState, ConversationId, DataValue, MessageKind,
};

#[test]
fn the_table_has_the_family_events() {
    assert_eq!(
        Kaajkaam::default().events().events(),
        [
            "call:accept",
            "call:end",
            "call:initiate",
            "call:reject",
            "join_conversation",
            "mark_read",
            "send_message",
            "stop_typing",
            "typing",
            "user_online",
            "webrtc:ice-candidate",
        ]
    );
}

#[test]
fn call_events_read_the_seed_shapes_and_only_ones_own_from() {
    let alice = profile(ALICE, "Alice");
    let v = view(&alice);
    let placed = decode_initiate(
        &v,
        &json!({ "conversationId": ROOM, "callType": "video", "offer": { "sdp": "v=0" }, "from": ALICE, "to": BOB }),
    )
    .unwrap();
    assert_eq!(placed.callee, uid(BOB));
    assert_eq!(placed.call_type, CallType::Video);
    assert_eq!(placed.conversation.as_str(), ROOM);
    assert_eq!(data_to_json(&placed.offer), json!({ "sdp": "v=0" }));
    for (args, expected) in [
        (
            json!({ "conversationId": ROOM, "callType": "fax", "to": BOB }),
            "callType must be audio or video",
        ),
        (
            json!({ "conversationId": ROOM, "callType": "audio" }),
            "to is required",
        ),
        (
            json!({ "conversationId": ROOM, "callType": "audio", "from": BOB, "to": ALICE }),
            "from must be your own user id",
        ),
    ] {
        let error = decode_initiate(&v, &args).unwrap_err().0;
        assert!(error.contains(expected), "{args}: {error}");
    }
    let accepted = decode_accept(
        &v,
        &json!({ "conversationId": ROOM, "to": BOB, "answer": { "type": "answer" } }),
    )
    .unwrap();
    assert_eq!(data_to_json(&accepted.answer), json!({ "type": "answer" }));
    let candidate = decode_candidate(
        &v,
        &json!({ "to": BOB, "candidate": { "candidate": "c1" } }),
    )
    .unwrap();
    assert_eq!(candidate.to, uid(BOB));
    assert!(decode_candidate(&v, &json!({ "candidate": {} })).is_err());
}

#[test]
fn user_online_names_ones_own_user() {
    let alice = profile(ALICE, "Alice");
    let v = view(&alice);
    assert_eq!(decode_online(&v, &json!(ALICE)), Ok(AnnounceOnline));
    assert!(decode_online(&v, &json!(BOB)).is_err());
}

#[test]
fn a_message_has_the_model_shape_with_read_by_from_the_watermarks() {
    let mut m = message("Hello!", 1);
    m.body.attachments = vec![Attachment {
        url: "/uploads/k.png".into(),
        kind: "image".into(),
        name: "a.png".into(),
        size: 3,
    }];
    let receipt = MessageReceipt {
        read_by: vec![(uid(BOB), AT)],
        ..MessageReceipt::default()
    };
    assert_eq!(
        message_json(&m, &receipt),
        json!({
            "_id": m.id.as_str(),
            "conversationId": ROOM,
            "sender": ALICE,
            "text": "Hello!",
            "messageType": "text",
            "attachments": [{ "url": "/uploads/k.png", "type": "image", "name": "a.png", "size": 3 }],
            "callInfo": null,
            "readBy": [{ "userId": BOB, "readAt": "2026-01-05T12:00:00.000Z" }],
            "isEdited": false,
            "editedAt": null,
            "createdAt": "2026-01-05T12:00:00.000Z",
        })
    );
    let mut call = message("call", 2);
    call.body.text = String::new();
    call.body.kind = MessageKind::Call;
    call.body.call = Some(CallInfo {
        call_type: CallType::Audio,
        duration_secs: 42,
        status: CallOutcome::Completed,
    });
    let rendered = message_json(&call, &MessageReceipt::default());
    assert_eq!(rendered["messageType"], "call");
    assert_eq!(
        rendered["callInfo"],
        json!({ "callType": "audio", "duration": 42, "status": "completed" })
    );
}

#[test]
fn a_message_reaches_the_room_the_other_participant_and_their_notifications() {
    let m = message("Hello!", 1);
    let event = DomainEvent::MessagePosted {
        participants: vec![uid(ALICE), uid(BOB)],
        message: m.clone(),
        receipt: MessageReceipt::default(),
        sender: profile(ALICE, "Alice"),
        context: Default::default(),
        alert: vec![],
    };
    let deliveries = Kaajkaam::default().render(&event);
    let rendered = message_json(&m, &MessageReceipt::default());
    assert_eq!(
        (deliveries[0].event, &deliveries[0].audience),
        (
            "receive_message",
            &Audience::Room(m.conversation_id.clone())
        )
    );
    assert!(deliveries[0].to_origin, "the seed emits to the whole room");
    assert_eq!(deliveries[0].payload, rendered);
    assert_eq!(
        (deliveries[1].event, &deliveries[1].audience),
        ("receive_message", &Audience::Users(vec![uid(BOB)]))
    );
    assert_eq!(deliveries[2].event, "new_notification");
    assert_eq!(deliveries[2].audience, Audience::Users(vec![uid(BOB)]));
    assert_eq!(
        deliveries[2].payload,
        json!({
            "_id": m.id.as_str(),
            "userId": BOB,
            "type": "message",
            "title": "Alice",
            "message": "Hello!",
            "data": { "conversationId": ROOM, "messageId": m.id.as_str(), "senderId": ALICE },
            "isRead": false,
            "createdAt": "2026-01-05T12:00:00.000Z",
        })
    );
    assert_eq!(deliveries.len(), 3);
}

fn call(state: CallState) -> CallSession {
    CallSession {
        id: CallId::parse("call1").unwrap(),
        conversation_id: ConversationId::parse(ROOM).unwrap(),
        caller: uid(ALICE),
        callee: uid(BOB),
        call_type: CallType::Video,
        started_at: AT,
        state,
    }
}

#[test]
fn calls_render_to_the_party_they_concern() {
    let k = Kaajkaam::default();
    let ringing = k.render(&DomainEvent::CallRinging {
        call: call(CallState::Ringing),
        offer: DataValue::String("sdp-offer".into()),
    });
    assert_eq!(ringing[0].event, "call:incoming");
    assert_eq!(ringing[0].audience, Audience::Users(vec![uid(BOB)]));
    assert_eq!(
        ringing[0].payload,
        json!({ "callId": "call1", "conversationId": ROOM, "callType": "video", "offer": "sdp-offer", "from": ALICE })
    );
    let accepted = k.render(&DomainEvent::CallAccepted {
        call: call(CallState::Active { accepted_at: AT }),
        answer: DataValue::String("sdp-answer".into()),
    });
    assert_eq!(accepted[0].audience, Audience::Users(vec![uid(ALICE)]));
    assert_eq!(
        accepted[0].payload,
        json!({ "callId": "call1", "answer": "sdp-answer", "from": BOB })
    );
    let busy = k.render(&DomainEvent::CallBusy {
        call: call(CallState::Ringing),
    });
    assert!(
        busy[0].to_origin,
        "the caller's own request found them busy"
    );
    assert_eq!(
        (busy[0].event, &busy[0].audience, &busy[0].payload),
        (
            "call:busy",
            &Audience::Users(vec![uid(ALICE)]),
            &json!({ "callId": "call1", "from": BOB })
        )
    );
    let finished = |reason, by: Option<&str>| FinishedCall {
        session: call(CallState::Active { accepted_at: AT }),
        reason,
        ended_by: by.map(uid),
        ended_at: AT,
    };
    let declined = k.render(&DomainEvent::CallDeclined {
        finished: finished(EndReason::Declined, Some(BOB)),
    });
    assert_eq!(
        (declined[0].event, &declined[0].audience),
        ("call:rejected", &Audience::Users(vec![uid(ALICE)]))
    );
    let hung_up = k.render(&DomainEvent::CallEnded {
        finished: finished(EndReason::HungUp, Some(ALICE)),
    });
    assert_eq!(hung_up.len(), 1);
    assert_eq!(
        (hung_up[0].event, &hung_up[0].audience, &hung_up[0].payload),
        (
            "call:ended",
            &Audience::Users(vec![uid(BOB)]),
            &json!({ "callId": "call1", "from": ALICE })
        )
    );
    let timed_out = k.render(&DomainEvent::CallEnded {
        finished: finished(EndReason::Timeout, None),
    });
    assert_eq!(timed_out.len(), 2, "an unanswered call ends for both");
    let signal = k.render(&DomainEvent::CallSignal {
        from: uid(ALICE),
        to: uid(BOB),
        call: call(CallState::Active { accepted_at: AT }),
        payload: DataValue::String("ice".into()),
    });
    assert_eq!(
        (signal[0].event, &signal[0].audience, &signal[0].payload),
        (
            "webrtc:ice-candidate",
            &Audience::Users(vec![uid(BOB)]),
            &json!({ "candidate": "ice", "from": ALICE })
        )
    );
}

mod in_process {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::super::Kaajkaam;
    use crate::adapters::inbound::auth::Credentials;
    use crate::adapters::inbound::session::harness::{Client, Harness, Listener};
    use crate::domain::{ConversationId, UserId};
    use crate::ports::Page;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn setup(h: &Harness) -> Listener {
        h.listener(Arc::new(Kaajkaam::default()), true)
    }

    /// A connection identified by the legacy handshake `query.userId`.
    async fn legacy(listener: &Listener, user: &str) -> Client {
        let credentials = Credentials {
            token: None,
            claimed_user: Some(user.into()),
        };
        listener.connect(credentials, Value::Null).await.unwrap()
    }

    #[tokio::test]
    async fn a_socket_message_reaches_the_room_and_the_other_participant_once() {
        let h = Harness::new().await;
        let listener = setup(&h);
        let chat = h.conversation(&["buyer", "seller"]).await;
        let mut buyer = listener.connect_as("buyer", Value::Null).await;
        let mut seller_in_chat = legacy(&listener, "seller").await;
        let seller_elsewhere = listener.connect_as("seller", Value::Null).await;
        for c in [&mut buyer, &mut seller_in_chat] {
            let joined = c.request("join_conversation", json!(chat.as_str())).await;
            assert_eq!(joined, json!({ "conversationId": chat.as_str() }));
        }
        let sent = buyer
            .request(
                "send_message",
                json!({ "conversationId": chat.as_str(), "text": "Is it available?" }),
            )
            .await;
        assert_eq!(sent["text"], "Is it available?");
        assert_eq!(sent["sender"], "buyer");
        for c in [&buyer, &seller_in_chat, &seller_elsewhere] {
            assert_eq!(c.next("receive_message").await["_id"], sent["_id"]);
        }
        // In the room and in the personal room, the joined connection has it once.
        seller_in_chat.none("receive_message").await;
        for c in [&seller_in_chat, &seller_elsewhere] {
            let note = c.next("new_notification").await;
            assert_eq!(note["data"]["messageId"], sent["_id"]);
        }
        buyer.none("new_notification").await;
    }

    #[tokio::test]
    async fn typing_and_reads_reach_the_room_and_reads_show_in_read_by() {
        let h = Harness::new().await;
        let listener = setup(&h);
        let chat = h.conversation(&["buyer", "seller"]).await;
        let mut buyer = listener.connect_as("buyer", Value::Null).await;
        let mut seller = listener.connect_as("seller", Value::Null).await;
        for c in [&mut buyer, &mut seller] {
            c.request("join_conversation", json!(chat.as_str())).await;
        }
        buyer.emit("typing", json!(chat.as_str())).await;
        let typing = seller.next("user_typing").await;
        assert_eq!(typing["userId"], "buyer");
        assert!(typing["timestamp"].is_string(), "{typing}");
        buyer.none("user_typing").await;
        buyer.emit("stop_typing", json!(chat.as_str())).await;
        assert_eq!(
            seller.next("user_stop_typing").await,
            json!({ "userId": "buyer" })
        );

        buyer
            .request(
                "send_message",
                json!({ "conversationId": chat.as_str(), "text": "hi" }),
            )
            .await;
        let read = seller.request("mark_read", json!(chat.as_str())).await;
        let expected = json!({ "userId": "seller", "conversationId": chat.as_str() });
        assert_eq!(read, expected);
        for c in [&buyer, &seller] {
            assert_eq!(c.next("messages_read").await, expected);
        }
        let history = h
            .use_cases
            .history(&uid("buyer"), &chat, Page::new(10, 0))
            .await
            .unwrap();
        let receipt = history.conversation.receipt_for(&history.messages[0]);
        assert_eq!(receipt.read_by.len(), 1);
        assert_eq!(receipt.read_by[0].0, uid("seller"));
    }

    #[tokio::test]
    async fn presence_reaches_contacts_only_and_offline_waits_for_the_last_connection() {
        let h = Harness::new().await;
        let listener = setup(&h);
        h.conversation(&["buyer", "seller"]).await;
        let mut buyer = listener.connect_as("buyer", Value::Null).await;
        let stranger = listener.connect_as("eve", Value::Null).await;
        let mut seller = listener.connect_as("seller", Value::Null).await;
        let seller_phone = listener.connect_as("seller", Value::Null).await;
        assert_eq!(
            buyer.next("user_online").await,
            json!({ "userId": "seller" })
        );
        stranger.none("user_online").await;

        // Announcing again, as the client does on every (re)connect.
        let again = seller.request("user_online", json!("seller")).await;
        assert_eq!(again, json!({ "userId": "seller" }));
        assert_eq!(
            buyer.next("user_online").await,
            json!({ "userId": "seller" })
        );
        let someone_else = seller.request("user_online", json!("buyer")).await;
        assert!(someone_else["error"].is_string(), "{someone_else}");

        seller.close().await;
        buyer.none("user_offline").await;
        seller_phone.close().await;
        assert_eq!(
            buyer.next("user_offline").await,
            json!({ "userId": "seller" })
        );
        stranger.none("user_offline").await;
        let refused = buyer.request("user_online", json!("seller")).await;
        assert!(refused["error"].is_string(), "{refused}");
    }

    fn initiate(chat: &ConversationId, to: &str) -> Value {
        json!({
            "conversationId": chat.as_str(),
            "callType": "video",
            "offer": { "type": "offer", "sdp": "v=0 offer" },
            "to": to,
        })
    }

    #[tokio::test]
    async fn a_call_rings_every_callee_connection_and_is_recorded_when_it_ends() {
        let h = Harness::new().await;
        let listener = setup(&h);
        let chat = h.conversation(&["buyer", "seller"]).await;
        let mut buyer = listener.connect_as("buyer", Value::Null).await;
        let mut seller = listener.connect_as("seller", Value::Null).await;
        let seller_phone = listener.connect_as("seller", Value::Null).await;
        buyer
            .request("join_conversation", json!(chat.as_str()))
            .await;

        let placed = buyer
            .request("call:initiate", initiate(&chat, "seller"))
            .await;
        let call_id = placed["callId"].as_str().expect("a call id").to_owned();
        for c in [&seller, &seller_phone] {
            assert_eq!(
                c.next("call:incoming").await,
                json!({
                    "callId": call_id,
                    "conversationId": chat.as_str(),
                    "callType": "video",
                    "offer": { "type": "offer", "sdp": "v=0 offer" },
                    "from": "buyer",
                })
            );
        }
        // Trickle ICE may start while it rings; it goes to the peer only.
        buyer
            .emit(
                "webrtc:ice-candidate",
                json!({ "to": "seller", "candidate": { "candidate": "c1" } }),
            )
            .await;
        assert_eq!(
            seller.next("webrtc:ice-candidate").await,
            json!({ "candidate": { "candidate": "c1" }, "from": "buyer" })
        );
        let elsewhere = buyer
            .request(
                "webrtc:ice-candidate",
                json!({ "to": "eve", "candidate": "c2" }),
            )
            .await;
        assert!(elsewhere["error"].is_string(), "{elsewhere}");

        seller
            .emit(
                "call:accept",
                json!({ "conversationId": chat.as_str(), "to": "buyer", "answer": { "type": "answer" } }),
            )
            .await;
        assert_eq!(
            buyer.next("call:accepted").await,
            json!({ "callId": call_id, "answer": { "type": "answer" }, "from": "seller" })
        );
        let ended = buyer
            .request(
                "call:end",
                json!({ "conversationId": chat.as_str(), "to": "seller" }),
            )
            .await;
        assert_eq!(ended["status"], "completed");
        assert_eq!(
            seller.next("call:ended").await,
            json!({ "callId": call_id, "from": "buyer" })
        );
        let record = buyer.next("receive_message").await;
        assert_eq!(record["messageType"], "call");
        assert_eq!(record["sender"], "buyer");
        assert_eq!(record["callInfo"]["status"], "completed");
        assert_eq!(record["callInfo"]["callType"], "video");
        assert!(record["callInfo"]["duration"].is_u64(), "{record}");
        // Over: no more signaling.
        let late = buyer
            .request(
                "webrtc:ice-candidate",
                json!({ "to": "seller", "candidate": "c3" }),
            )
            .await;
        assert!(late["error"].is_string(), "{late}");
    }

    #[tokio::test]
    async fn rejected_cancelled_and_busy_calls_are_recorded_as_such() {
        let h = Harness::new().await;
        let listener = setup(&h);
        let chat = h.conversation(&["buyer", "seller"]).await;
        let other = h.conversation(&["rival", "seller"]).await;
        let mut buyer = listener.connect_as("buyer", Value::Null).await;
        let mut seller = listener.connect_as("seller", Value::Null).await;
        let mut rival = listener.connect_as("rival", Value::Null).await;
        let statuses = |h: &Harness, chat: ConversationId| {
            let use_cases = h.use_cases.clone();
            async move {
                let history = use_cases
                    .history(&uid("seller"), &chat, Page::new(10, 0))
                    .await
                    .unwrap();
                history
                    .messages
                    .iter()
                    .map(|m| m.body.call.expect("a call message").status.as_str())
                    .collect::<Vec<_>>()
            }
        };

        buyer
            .request("call:initiate", initiate(&chat, "seller"))
            .await;
        seller.next("call:incoming").await;
        seller
            .emit(
                "call:reject",
                json!({ "conversationId": chat.as_str(), "to": "buyer" }),
            )
            .await;
        assert_eq!(buyer.next("call:rejected").await["from"], "seller");

        buyer
            .request("call:initiate", initiate(&chat, "seller"))
            .await;
        seller.next("call:incoming").await;
        // The seller is ringing: a second caller finds them busy and does not ring them.
        let busy = rival
            .request("call:initiate", initiate(&other, "seller"))
            .await;
        assert!(busy["callId"].is_string(), "{busy}");
        assert_eq!(
            rival.next("call:busy").await,
            json!({ "callId": busy["callId"], "from": "seller" })
        );
        seller.none("call:incoming").await;
        // The caller gives up before an answer: missed.
        buyer
            .emit(
                "call:end",
                json!({ "conversationId": chat.as_str(), "to": "seller" }),
            )
            .await;
        assert_eq!(seller.next("call:ended").await["from"], "buyer");

        assert_eq!(statuses(&h, chat).await, ["declined", "missed"]);
        assert_eq!(statuses(&h, other).await, ["missed"]);
    }

    #[tokio::test]
    async fn a_disconnect_ends_a_live_call_as_completed() {
        let h = Harness::new().await;
        let listener = setup(&h);
        let chat = h.conversation(&["buyer", "seller"]).await;
        let mut buyer = listener.connect_as("buyer", Value::Null).await;
        let mut seller = listener.connect_as("seller", Value::Null).await;
        buyer
            .request("join_conversation", json!(chat.as_str()))
            .await;
        let placed = buyer
            .request("call:initiate", initiate(&chat, "seller"))
            .await;
        seller.next("call:incoming").await;
        seller
            .emit("call:accept", json!({ "to": "buyer", "answer": "a" }))
            .await;
        buyer.next("call:accepted").await;
        seller.close().await;
        assert_eq!(
            buyer.next("call:ended").await,
            json!({ "callId": placed["callId"], "from": "seller" })
        );
        let record = buyer.next("receive_message").await;
        assert_eq!(record["callInfo"]["status"], "completed");
    }

    #[tokio::test]
    async fn strangers_cannot_call_or_join() {
        let h = Harness::new().await;
        let listener = setup(&h);
        let chat = h.conversation(&["buyer", "seller"]).await;
        let mut eve = listener.connect_as("eve", Value::Null).await;
        let seller = listener.connect_as("seller", Value::Null).await;
        let call = eve
            .request("call:initiate", initiate(&chat, "seller"))
            .await;
        assert!(call["error"].is_string(), "{call}");
        seller.none("call:incoming").await;
        let joined = eve.request("join_conversation", json!(chat.as_str())).await;
        assert!(joined["error"].is_string(), "{joined}");
        let sent = eve
            .request(
                "send_message",
                json!({ "conversationId": chat.as_str(), "text": "hi" }),
            )
            .await;
        assert!(sent["error"].is_string(), "{sent}");
        let nothing = eve.request("call:accept", json!({ "answer": "a" })).await;
        assert!(nothing["error"].is_string(), "{nothing}");
    }
}
