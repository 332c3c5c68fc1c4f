//! The whole core, built by the composition root from settings, on the durable default store:
//! one conversation's life from two users' point of view, watched through the event bus.

use switchboard::app::{Actor, PostMessage, Requester};
use switchboard::bootstrap::build;
use switchboard::bootstrap::config::{Settings, StoreKind};
use switchboard::domain::{ConversationContext, DomainEvent, Seq, UserId, UserProfile};
use switchboard::ports::Page;

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn actor(s: &str) -> Actor {
    Actor {
        profile: UserProfile::bare(uid(s)),
        origin: None,
    }
}

#[tokio::test]
async fn a_conversation_on_sqlite_from_creation_to_read() {
    let tmp = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.store.kind = StoreKind::Sqlite;
    settings.store.sqlite_path = tmp.path().join("flow.db");
    let app = build(&settings).await.unwrap();
    let core = &app.use_cases;
    let mut events = app.bus.subscribe();

    let (conversation, created) = core
        .open_conversation(
            &Requester::User(uid("ann")),
            vec![uid("ann"), uid("bob")],
            ConversationContext::default(),
        )
        .await
        .unwrap();
    assert!(created);
    let (again, created_again) = core
        .open_conversation(
            &Requester::Service,
            vec![uid("bob"), uid("ann")],
            ConversationContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        (again.id.clone(), created_again),
        (conversation.id.clone(), false)
    );

    for (i, body) in ["hi", "are you there?"].into_iter().enumerate() {
        let request = PostMessage {
            client_key: Some(format!("k{i}")),
            ..PostMessage::text(conversation.id.clone(), body)
        };
        let message = core
            .post_message(&actor("ann"), request.clone())
            .await
            .unwrap()
            .message;
        assert_eq!(message.seq, Seq(i as u64 + 1));
        // A resend is the same message.
        assert_eq!(
            core.post_message(&actor("ann"), request)
                .await
                .unwrap()
                .message
                .id,
            message.id
        );
    }
    assert_eq!(core.total_unread(&uid("bob")).await.unwrap(), 2);
    assert_eq!(core.total_unread(&uid("ann")).await.unwrap(), 0);

    let history = core
        .history(&uid("bob"), &conversation.id, Page::new(50, 0))
        .await
        .unwrap();
    let texts: Vec<&str> = history
        .messages
        .iter()
        .map(|m| m.body.text.as_str())
        .collect();
    assert_eq!(texts, ["hi", "are you there?"]);
    assert_eq!(history.total(), 2);

    let mark = core
        .mark_conversation_read(&actor("bob"), &conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mark.up_to, Seq(2));
    assert_eq!(core.total_unread(&uid("bob")).await.unwrap(), 0);
    let history = core
        .history(&uid("ann"), &conversation.id, Page::new(50, 0))
        .await
        .unwrap();
    let receipt = history.conversation.receipt_for(&history.messages[0]);
    assert!(receipt.is_read && receipt.delivered);
    assert_eq!(receipt.read_by.len(), 1);

    // Announced: two posts (resends are not announced), then the read.
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(events.next().await.unwrap());
    }
    assert!(matches!(seen[0].event, DomainEvent::MessagePosted { .. }));
    assert!(matches!(seen[1].event, DomainEvent::MessagePosted { .. }));
    assert!(matches!(seen[2].event, DomainEvent::MessagesRead { .. }));

    // An outsider sees nothing and changes nothing.
    assert!(
        core.history(&uid("eve"), &conversation.id, Page::new(50, 0))
            .await
            .is_err()
    );
}
