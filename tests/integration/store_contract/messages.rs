//! Contract checks for `MessageStore`.

use switchboard::domain::{
    Attachment, CallInfo, CallOutcome, CallType, ClientKey, LastMessage, Message, MessageBody,
    MessageKind, MessageRules, NewMessage, Seq, Watermark,
};
use switchboard::ports::{Page, StoreError, Stores};

use super::support::*;

fn seqs(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.seq.0).collect()
}

fn keyed(conversation: &str, sender: &str, key: &str, text: &str) -> NewMessage {
    NewMessage {
        client_key: Some(ClientKey::new(key).unwrap()),
        ..text_message(&cid(conversation), sender, text, t(1))
    }
}

/// MUST assign seqs 1, 2, 3, … per conversation with no gap and no repeat; the
/// conversation's last seq, last message and activity time move in the same step.
pub async fn append_assigns_gap_free_seqs(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    let c2 = create(stores, conversation("c2", &["a", "c"])).await.id;
    let mut in_c1 = Vec::new();
    for (i, conversation) in [&c1, &c2, &c1, &c2, &c1].into_iter().enumerate() {
        let new = text_message(conversation, "a", &format!("text {i}"), t(100 + i as i64));
        let appended = stores.messages.append(&new).await.unwrap();
        assert!(!appended.duplicate);
        assert_eq!(appended.message.body, new.body);
        assert_eq!(appended.message.edited_at, None);
        if conversation == &c1 {
            in_c1.push(appended.message);
        }
    }
    assert_eq!(seqs(&in_c1), [1, 2, 3]);
    let c1_now = stores.conversations.get(&c1).await.unwrap().unwrap();
    assert_eq!(c1_now.last_seq, Seq(3));
    assert_eq!(c1_now.updated_at, t(104));
    assert_eq!(
        c1_now.last_message,
        Some(LastMessage {
            seq: Seq(3),
            text: "text 4".into(),
            sender: uid("a"),
            at: t(104),
        })
    );
    assert_eq!(
        stores
            .conversations
            .get(&c2)
            .await
            .unwrap()
            .unwrap()
            .last_seq,
        Seq(2)
    );
}

/// MUST assign gap-free seqs also under concurrent appends.
pub async fn concurrent_appends_get_seqs_one_to_n(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let stores = stores.clone();
            let new = text_message(&c1, if i % 2 == 0 { "a" } else { "b" }, "hi", t(i));
            tokio::spawn(async move { stores.messages.append(&new).await.unwrap() })
        })
        .collect();
    let mut assigned = Vec::new();
    for task in tasks {
        let appended = task.await.unwrap();
        assert!(!appended.duplicate);
        assigned.push(appended.message.seq.0);
    }
    assert_eq!(sorted(assigned), (1..=50).collect::<Vec<_>>());
    let c1_now = stores.conversations.get(&c1).await.unwrap().unwrap();
    assert_eq!(c1_now.last_seq, Seq(50));
    let stored = stores.messages.after(&c1, Seq::ZERO, 100).await.unwrap();
    assert_eq!(seqs(&stored), (1..=50).collect::<Vec<_>>());
}

/// MUST return the earlier message with `duplicate: true` and write nothing when the sender
/// already posted with the same client key in the same conversation.
pub async fn a_resent_client_key_is_stored_once(stores: &Stores) {
    create(stores, conversation("c1", &["a", "b"])).await;
    create(stores, conversation("c2", &["a", "b", "c"])).await;
    let first = stores
        .messages
        .append(&keyed("c1", "a", "k1", "first"))
        .await
        .unwrap();
    assert!(!first.duplicate);

    let resend = keyed("c1", "a", "k1", "resent");
    let again = stores.messages.append(&resend).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    assert_eq!(stores.messages.get(&resend.id).await.unwrap(), None);
    let c1 = stores.conversations.get(&cid("c1")).await.unwrap().unwrap();
    assert_eq!(c1.last_seq, Seq(1), "nothing was written");
    assert_eq!(c1.last_message.unwrap().text, "first");

    let other_sender = stores
        .messages
        .append(&keyed("c1", "b", "k1", "b's"))
        .await
        .unwrap();
    assert!(!other_sender.duplicate);
    assert_eq!(other_sender.message.seq, Seq(2));
    let other_conversation = stores
        .messages
        .append(&keyed("c2", "a", "k1", "c2"))
        .await
        .unwrap();
    assert!(!other_conversation.duplicate);
    assert_eq!(other_conversation.message.seq, Seq(1));
}

/// The client key rule holds under concurrent resends too: one message is stored.
pub async fn concurrent_resends_are_stored_once(stores: &Stores) {
    create(stores, conversation("c1", &["a", "b"])).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let stores = stores.clone();
            let new = keyed("c1", "a", "same", &format!("try {i}"));
            tokio::spawn(async move { stores.messages.append(&new).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert_eq!(results.iter().filter(|r| !r.duplicate).count(), 1);
    assert!(results.iter().all(|r| r.message == results[0].message));
    let c1 = stores.conversations.get(&cid("c1")).await.unwrap().unwrap();
    assert_eq!(c1.last_seq, Seq(1));
}

/// MUST return `NotFound` when the conversation does not exist.
pub async fn append_to_an_unknown_conversation_is_not_found(stores: &Stores) {
    let new = text_message(&cid("nope"), "a", "hi", t(1));
    let result = stores.messages.append(&new).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    assert_eq!(stores.messages.get(&new.id).await.unwrap(), None);
}

/// The sender's read and delivered marks move to the new message; unread is derived.
pub async fn append_moves_the_senders_marks(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    let marks = |user: &'static str| async move {
        let c = stores.conversations.get(&cid("c1")).await.unwrap().unwrap();
        let p = c.participant(&uid(user)).unwrap().clone();
        (p.read, p.delivered, c.unread_for(&uid(user)))
    };
    let mark = |seq: u64, at: i64| Watermark {
        seq: Seq(seq),
        at: Some(t(at)),
    };

    post(stores, &c1, "a", t(10)).await;
    assert_eq!(marks("a").await, (mark(1, 10), mark(1, 10), 0));
    assert_eq!(
        marks("b").await,
        (Watermark::default(), Watermark::default(), 1)
    );

    post(stores, &c1, "a", t(20)).await;
    post(stores, &c1, "b", t(30)).await;
    assert_eq!(marks("b").await, (mark(3, 30), mark(3, 30), 0));
    assert_eq!(marks("a").await, (mark(2, 20), mark(2, 20), 1));
}

/// `get` reads back every part of a message, and `Ok(None)` for an unknown id.
pub async fn get_reads_back_every_field(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    let rules = MessageRules::default();
    let attachment = Attachment {
        url: "/blobs/x.pdf".into(),
        kind: "pdf".into(),
        name: "x.pdf".into(),
        size: 12_345,
    };
    let with_file = NewMessage {
        body: MessageBody::new(
            MessageKind::File,
            "see file",
            vec![attachment],
            None,
            &rules,
        )
        .unwrap(),
        client_key: Some(ClientKey::new("key-1").unwrap()),
        ..text_message(&c1, "a", "replaced", t(7))
    };
    let call = CallInfo {
        call_type: CallType::Audio,
        duration_secs: 65,
        status: CallOutcome::Completed,
    };
    let call_record = NewMessage {
        body: MessageBody::call_record(call),
        ..text_message(&c1, "b", "replaced", t(8))
    };
    for new in [with_file, call_record] {
        let stored = stores.messages.append(&new).await.unwrap().message;
        assert_eq!(stored, new.clone().stored_as(stored.seq));
        assert_eq!(stores.messages.get(&new.id).await.unwrap(), Some(stored));
    }
    let unknown = switchboard::domain::MessageId::parse("nope").unwrap();
    assert_eq!(stores.messages.get(&unknown).await.unwrap(), None);
}

/// A page skips the newest `skip` messages, takes up to `limit` older ones, oldest first.
pub async fn page_selects_newest_and_returns_oldest_first(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    for at in 1..=10 {
        post(stores, &c1, "a", t(at)).await;
    }
    let page = |page| stores.messages.page(&c1, page);
    assert_eq!(seqs(&page(Page::new(3, 0)).await.unwrap()), [8, 9, 10]);
    assert_eq!(seqs(&page(Page::new(3, 3)).await.unwrap()), [5, 6, 7]);
    assert_eq!(
        seqs(&page(Page::numbered(2, 4)).await.unwrap()),
        [3, 4, 5, 6]
    );
    assert_eq!(seqs(&page(Page::new(5, 8)).await.unwrap()), [1, 2]);
    assert!(page(Page::new(5, 10)).await.unwrap().is_empty());
    assert!(page(Page::new(5, u64::MAX)).await.unwrap().is_empty());
    assert_eq!(page(Page::new(50, 0)).await.unwrap().len(), 10);
    assert!(
        stores
            .messages
            .page(&cid("nope"), Page::new(5, 0))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Catch-up: up to `limit` messages with a seq greater than `after`, oldest first.
pub async fn after_returns_newer_messages_oldest_first(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    let c2 = create(stores, conversation("c2", &["a", "c"])).await.id;
    for at in 1..=10 {
        post(stores, &c1, "a", t(at)).await;
    }
    post(stores, &c2, "a", t(11)).await;
    let after = |seq, limit| stores.messages.after(&c1, Seq(seq), limit);
    assert_eq!(seqs(&after(7, 10).await.unwrap()), [8, 9, 10]);
    assert_eq!(seqs(&after(2, 3).await.unwrap()), [3, 4, 5]);
    assert!(after(10, 5).await.unwrap().is_empty());
    assert_eq!(
        seqs(&after(0, 100).await.unwrap()),
        (1..=10).collect::<Vec<_>>()
    );
    assert!(
        after(0, 100)
            .await
            .unwrap()
            .iter()
            .all(|m| m.conversation_id == c1)
    );
}

/// An edit saves the text and `edited_at`. MUST return `NotFound` for an unknown message.
pub async fn save_edit_updates_text_and_edit_time(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    let original = post(stores, &c1, "a", t(1)).await;
    post(stores, &c1, "b", t(2)).await;
    let edited = original
        .decide_edit(&uid("a"), "edited text", &MessageRules::default(), t(99))
        .unwrap();
    stores.messages.save_edit(&edited).await.unwrap();
    let read = stores.messages.get(&original.id).await.unwrap().unwrap();
    assert_eq!(read, edited);
    assert_eq!(read.seq, original.seq);
    let history = stores.messages.page(&c1, Page::new(10, 0)).await.unwrap();
    assert_eq!(history[0].body.text, "edited text");
    assert_eq!(
        history[1].body.text, "hello",
        "other messages are untouched"
    );

    let stranger = text_message(&c1, "a", "never stored", t(3)).stored_as(Seq(9));
    let result = stores.messages.save_edit(&stranger).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}
