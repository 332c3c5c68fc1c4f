//! Every `DomainEvent` variant survives encoding and decoding unchanged, with its origin; and
//! what breaks the domain's rules on the way in is refused.

use std::collections::BTreeMap;

use super::*;
use crate::domain::{
    Attachment, CallId, CallInfo, CallOutcome, CallSession, CallState, CallType, ClientKey,
    ConversationContext, ConversationId, DataValue, DomainEvent, EndReason, FinishedCall, Message,
    MessageBody, MessageId, MessageKind, MessageReceipt, Notification, NotificationId,
    PresenceChange, ReadMark, Role, Seq, Timestamp, TypingChange, UserId, UserProfile,
};
use crate::ports::{ConnectionRef, EventEnvelope, NodeId};

/// The variant's position in the enum. A new variant fails to compile here until it is
/// given a number, and then fails `every_variant_round_trips` until `samples` has one.
fn variant(event: &DomainEvent) -> usize {
    match event {
        DomainEvent::MessagePosted { .. } => 0,
        DomainEvent::MessageEdited { .. } => 1,
        DomainEvent::MessagesDelivered { .. } => 2,
        DomainEvent::MessagesRead { .. } => 3,
        DomainEvent::ConversationJoined { .. } => 4,
        DomainEvent::NotificationCreated(_) => 5,
        DomainEvent::NotificationsRead { .. } => 6,
        DomainEvent::PresenceChanged { .. } => 7,
        DomainEvent::TypingChanged { .. } => 8,
        DomainEvent::CallRinging { .. } => 9,
        DomainEvent::CallAccepted { .. } => 10,
        DomainEvent::CallBusy { .. } => 11,
        DomainEvent::CallDeclined { .. } => 12,
        DomainEvent::CallEnded { .. } => 13,
        DomainEvent::CallSignal { .. } => 14,
    }
}
const VARIANTS: usize = 15;

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn cid() -> ConversationId {
    ConversationId::parse("66f1234567890abcdef01234").unwrap()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// Every field set, optional ones both ways across the samples.
fn message(edited: bool, call: bool) -> Message {
    Message {
        id: MessageId::parse("m1").unwrap(),
        conversation_id: cid(),
        seq: Seq(42),
        sender: uid("ann"),
        body: MessageBody {
            kind: if call {
                MessageKind::Call
            } else {
                MessageKind::Image
            },
            text: "héllo ✓".into(),
            attachments: vec![Attachment {
                url: "/uploads/a.png".into(),
                kind: "image".into(),
                name: "a.png".into(),
                size: 1_234,
            }],
            call: call.then_some(CallInfo {
                call_type: CallType::Video,
                duration_secs: 61,
                status: CallOutcome::Completed,
            }),
        },
        client_key: (!call).then(|| ClientKey::new("k-1").unwrap()),
        created_at: at(1_767_614_400_000),
        edited_at: edited.then_some(at(1_767_614_500_000)),
    }
}

fn mark() -> ReadMark {
    ReadMark {
        conversation_id: cid(),
        user_id: uid("bob"),
        up_to: Seq(7),
        at: at(9),
    }
}

fn data() -> DataValue {
    DataValue::Map(BTreeMap::from([
        ("sdp".to_owned(), DataValue::String("v=0".into())),
        ("n".to_owned(), DataValue::Number(3.0)),
        ("f".to_owned(), DataValue::Number(0.5)),
        (
            "list".to_owned(),
            DataValue::List(vec![DataValue::Bool(true), DataValue::Null]),
        ),
    ]))
}

fn call(active: bool) -> CallSession {
    CallSession {
        id: CallId::parse("call-1").unwrap(),
        conversation_id: cid(),
        caller: uid("ann"),
        callee: uid("bob"),
        call_type: CallType::Audio,
        started_at: at(100),
        state: if active {
            CallState::Active {
                accepted_at: at(200),
            }
        } else {
            CallState::Ringing
        },
    }
}

fn finished(reason: EndReason, by: Option<&str>) -> FinishedCall {
    FinishedCall {
        session: call(reason == EndReason::HungUp),
        reason,
        ended_by: by.map(uid),
        ended_at: at(300),
    }
}

fn samples() -> Vec<DomainEvent> {
    let participants = vec![uid("ann"), uid("bob")];
    let profile = UserProfile {
        name: Some("Ann".into()),
        email: Some("ann@example.com".into()),
        avatar: Some("https://x/a.png".into()),
        role: Role::new("doctor"),
        last_active: Some(at(5)),
        ..UserProfile::bare(uid("ann"))
    };
    let context = ConversationContext::new([("orderId".to_owned(), "o1".to_owned())]).unwrap();
    let notification = Notification {
        id: NotificationId::parse("n1").unwrap(),
        recipient: uid("bob"),
        kind: "LIKE".into(),
        title: Some("New like".into()),
        message: "Ann liked your post".into(),
        reference_id: Some("post-1".into()),
        data: data(),
        created_at: at(1),
        delivered_at: Some(at(2)),
        read_at: None,
    };
    let typing = TypingChange {
        conversation_id: cid(),
        user_id: uid("bob"),
        typing: true,
        at: at(4),
    };
    vec![
        DomainEvent::MessagePosted {
            participants: participants.clone(),
            message: message(false, false),
            receipt: MessageReceipt {
                delivered: true,
                is_read: false,
                read_by: vec![(uid("bob"), at(8))],
            },
            sender: profile.clone(),
            context,
            alert: vec![uid("bob")],
        },
        DomainEvent::MessagePosted {
            participants: participants.clone(),
            message: message(false, true),
            receipt: MessageReceipt::default(),
            sender: UserProfile::bare(uid("ann")),
            context: ConversationContext::default(),
            alert: vec![],
        },
        DomainEvent::MessageEdited {
            participants: participants.clone(),
            message: message(true, false),
        },
        DomainEvent::MessagesDelivered {
            participants: participants.clone(),
            mark: mark(),
        },
        DomainEvent::MessagesRead {
            participants: participants.clone(),
            mark: mark(),
            message_id: Some(MessageId::parse("m7").unwrap()),
        },
        DomainEvent::MessagesRead {
            participants: participants.clone(),
            mark: mark(),
            message_id: None,
        },
        DomainEvent::ConversationJoined {
            participants: participants.clone(),
            conversation_id: cid(),
            user_id: uid("bob"),
        },
        DomainEvent::NotificationCreated(notification),
        DomainEvent::NotificationsRead {
            user_id: uid("bob"),
            notification_id: Some(NotificationId::parse("n1").unwrap()),
        },
        DomainEvent::NotificationsRead {
            user_id: uid("bob"),
            notification_id: None,
        },
        DomainEvent::PresenceChanged {
            change: PresenceChange {
                user_id: uid("ann"),
                online: false,
                last_active: Some(at(3)),
            },
            contacts: vec![uid("bob")],
        },
        DomainEvent::TypingChanged {
            participants: participants.clone(),
            change: typing,
            user_name: Some("Bob".into()),
        },
        DomainEvent::CallRinging {
            call: call(false),
            offer: data(),
        },
        DomainEvent::CallAccepted {
            call: call(true),
            answer: DataValue::String("answer".into()),
        },
        DomainEvent::CallBusy { call: call(false) },
        DomainEvent::CallDeclined {
            finished: finished(EndReason::Declined, Some("bob")),
        },
        DomainEvent::CallEnded {
            finished: finished(EndReason::Timeout, None),
        },
        DomainEvent::CallEnded {
            finished: finished(EndReason::HungUp, Some("ann")),
        },
        DomainEvent::CallSignal {
            call: call(true),
            from: uid("ann"),
            to: uid("bob"),
            payload: data(),
        },
    ]
}

#[test]
fn every_variant_round_trips() {
    let samples = samples();
    let mut covered = [false; VARIANTS];
    for (n, event) in samples.into_iter().enumerate() {
        covered[variant(&event)] = true;
        let origin = (n % 2 == 0).then(|| ConnectionRef::new(NodeId::new("node-a"), n as u64));
        let envelope = EventEnvelope::new(event, origin);
        let bytes = encode(&envelope).unwrap();
        let back =
            decode(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
        assert_eq!(back, envelope);
    }
    let missing: Vec<usize> = (0..VARIANTS).filter(|v| !covered[*v]).collect();
    assert!(missing.is_empty(), "variants without a sample: {missing:?}");
}

#[test]
fn every_end_reason_round_trips() {
    for reason in [
        EndReason::HungUp,
        EndReason::Declined,
        EndReason::Timeout,
        EndReason::Busy,
        EndReason::Cancelled,
        EndReason::Disconnected,
    ] {
        let envelope = EventEnvelope::new(
            DomainEvent::CallEnded {
                finished: finished(reason, None),
            },
            None,
        );
        assert_eq!(decode(&encode(&envelope).unwrap()).unwrap(), envelope);
    }
}

#[test]
fn what_breaks_the_rules_is_refused() {
    let envelope = EventEnvelope::new(
        DomainEvent::NotificationsRead {
            user_id: uid("bob"),
            notification_id: None,
        },
        None,
    );
    let text = String::from_utf8(encode(&envelope).unwrap()).unwrap();
    let bad_user = text.replace("\"bob\"", "\"b o b\"");
    assert!(matches!(
        decode(bad_user.as_bytes()),
        Err(EventCodecError::Invalid(_))
    ));
    let unknown = text.replace("notificationsRead", "somethingElse");
    assert!(matches!(
        decode(unknown.as_bytes()),
        Err(EventCodecError::Malformed(_))
    ));
    assert!(decode(b"not json").is_err());
}
