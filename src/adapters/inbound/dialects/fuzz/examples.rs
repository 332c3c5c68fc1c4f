//! A valid example of every socket event's argument (from the families' documented
//! payloads, as the dialects' own tests use them), which the targets mutate a little into
//! near-valid input: one field missing, one of the wrong kind, one too many. The decoder
//! target also checks that each example decodes, so this table cannot drift from the
//! decoders unnoticed.

use serde_json::Value;

use crate::adapters::inbound::dialects::fixtures::{ALICE, BOB};

/// `event`'s example in `dialect`, naming `conversation` where it names one (a JSON text
/// template: `{conversation}`, `{alice}` (the connection's user) and `{bob}`). `None` for an
/// event this table does not know.
pub fn event_example(dialect: &str, event: &str, conversation: &str) -> Option<Value> {
    let template = match (dialect, event) {
        ("linsta", "join_room") => r#"{ "chatRoomId": "{conversation}" }"#,
        ("linsta", "send_message") => r#"{ "chatRoomId": "{conversation}", "text": "Hey" }"#,
        ("linsta", "get_history") => {
            r#"{ "chatRoomId": "{conversation}", "limit": 50, "skip": 0 }"#
        }
        ("linsta", "subscribe_notifications") => "null",
        ("quickclinic", "get_initial_messages") => r#"{ "page": 1, "limit": 20 }"#,
        ("quickclinic", "send_message") => r#"{ "text": "Hello doctor" }"#,
        ("quickclinic", "user_typing") => "null",
        ("quickclinic", "mark_as_read") => r#"{ "messageId": "66f1234567890abcdef10001" }"#,
        ("calmora", "joinRoom" | "leaveRoom") => r#""{conversation}""#,
        ("calmora", "sendMessage") => {
            r#"{ "senderId": "{alice}", "recipientId": "{bob}", "message": "Hi",
                 "chatId": "{conversation}" }"#
        }
        ("calmora", "registerUser") => r#""{alice}""#,
        ("marketplace", "join-chat" | "leave-chat") => r#""{conversation}""#,
        ("marketplace", "send-message") => {
            r#"{ "chatId": "{conversation}", "content": "Deal?", "messageType": "text",
                 "media": ["https://cdn.example.com/a.png",
                           { "url": "https://cdn.example.com/b.pdf", "type": "file",
                             "name": "b.pdf", "size": 10 }] }"#
        }
        ("marketplace", "typing-start" | "typing-stop" | "mark-messages-read") => {
            r#"{ "chatId": "{conversation}" }"#
        }
        ("marketplace", "get-online-status") => r#""{bob}""#,
        ("marketplace", "set-online-status") => r#"{ "userId": "{alice}", "isOnline": true }"#,
        (
            "marketplace",
            "join-notifications" | "mark-all-notifications-read" | "get-unread-count" | "user-join",
        ) => r#""{alice}""#,
        ("marketplace", "mark-notification-read") => {
            r#"{ "notificationId": "66f1234567890abcdef20001" }"#
        }
        ("kaajkaam", "join_conversation" | "typing" | "stop_typing" | "mark_read") => {
            r#""{conversation}""#
        }
        ("kaajkaam", "send_message") => r#"{ "conversationId": "{conversation}", "text": "Hi" }"#,
        ("kaajkaam", "user_online") => r#""{alice}""#,
        ("kaajkaam", "call:initiate") => {
            r#"{ "conversationId": "{conversation}", "callType": "video",
                 "offer": { "sdp": "v=0" }, "from": "{alice}", "to": "{bob}" }"#
        }
        ("kaajkaam", "call:accept") => r#"{ "to": "{bob}", "answer": { "type": "answer" } }"#,
        ("kaajkaam", "call:reject" | "call:end") => "null",
        ("kaajkaam", "webrtc:ice-candidate") => {
            r#"{ "to": "{bob}", "candidate": { "candidate": "c1" } }"#
        }
        ("native", "conversations.open") => {
            r#"{ "participantIds": ["{bob}"], "context": { "orderId": "o1" } }"#
        }
        ("native", "conversations.list" | "notifications.list") => r#"{ "limit": 20, "skip": 0 }"#,
        (
            "native",
            "conversations.hide"
            | "conversations.join"
            | "conversations.leave"
            | "conversations.read"
            | "conversations.delivered"
            | "typing.start"
            | "typing.stop",
        ) => r#"{ "conversationId": "{conversation}" }"#,
        ("native", "messages.send") => {
            r#"{ "conversationId": "{conversation}", "text": "Hi", "clientKey": "k-1",
                 "attachments": [{ "url": "/uploads/a.png", "kind": "image", "name": "a.png", "size": 3 }] }"#
        }
        ("native", "messages.edit") => {
            r#"{ "messageId": "66f1234567890abcdef10001", "text": "Hi again" }"#
        }
        ("native", "messages.history") => {
            r#"{ "conversationId": "{conversation}", "afterSeq": 10, "limit": 50 }"#
        }
        ("native", "messages.read") => r#"{ "messageId": "66f1234567890abcdef10001" }"#,
        ("native", "notifications.read") => r#"{ "notificationId": "66f1234567890abcdef20001" }"#,
        (
            "native",
            "notifications.pending"
            | "notifications.readAll"
            | "notifications.unreadCount"
            | "call.decline"
            | "call.hangup",
        ) => "null",
        ("native", "presence.get") => r#"{ "userId": "{bob}" }"#,
        ("native", "presence.set") => r#"{ "online": false }"#,
        ("native", "call.place") => {
            r#"{ "conversationId": "{conversation}", "calleeId": "{bob}", "callType": "video",
                 "offer": { "type": "offer", "sdp": "v=0" } }"#
        }
        ("native", "call.accept") => r#"{ "answer": { "type": "answer", "sdp": "v=0" } }"#,
        ("native", "call.signal") => r#"{ "to": "{bob}", "payload": { "candidate": "c1" } }"#,
        _ => return None,
    };
    Some(fill(template, conversation))
}

/// A JSON text template with its placeholders filled in.
pub fn fill(template: &str, conversation: &str) -> Value {
    let text = template
        .replace("{conversation}", conversation)
        .replace("{alice}", ALICE)
        .replace("{bob}", BOB);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("example {template}: {e}"))
}
