//! Contract checks for `ConversationStore`.

use switchboard::domain::{MarkKind, ReadMark, Seq, Watermark};
use switchboard::ports::{Page, StoreError, Stores};

use super::support::*;

/// MUST return the same conversation to every caller: same participants in any order and the
/// same context give the existing one; another context is another conversation.
pub async fn get_or_create_returns_the_existing_conversation(stores: &Stores) {
    let first = conversation("c1", &["a", "b"]);
    let (stored, created) = stores.conversations.get_or_create(&first).await.unwrap();
    assert!(created);
    assert_eq!(stored, first);

    let reordered = conversation("c2", &["b", "a"]);
    let (again, created) = stores
        .conversations
        .get_or_create(&reordered)
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, first, "the existing conversation, as it was created");

    let (same_id, created) = stores.conversations.get_or_create(&first).await.unwrap();
    assert!(!created);
    assert_eq!(same_id.id, first.id);

    let about_an_order = conversation_at("c3", &["a", "b"], &[("orderId", "o1")], t(5));
    let (other, created) = stores
        .conversations
        .get_or_create(&about_an_order)
        .await
        .unwrap();
    assert!(created, "another context is another conversation");
    assert_eq!(other, about_an_order);
    assert_eq!(stores.conversations.get(&cid("c2")).await.unwrap(), None);
}

/// MUST return the same conversation to every caller, also under concurrent calls.
pub async fn get_or_create_is_idempotent_under_concurrency(stores: &Stores) {
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let stores = stores.clone();
            let users = if i % 2 == 0 { ["a", "b"] } else { ["b", "a"] };
            tokio::spawn(async move {
                let candidate = conversation(&format!("race{i}"), &users);
                stores
                    .conversations
                    .get_or_create(&candidate)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let winner = results[0].0.id.clone();
    assert!(results.iter().all(|(c, _)| c.id == winner));
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    let listed = stores
        .conversations
        .list_for_user(&uid("a"), Page::new(50, 0))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}

/// MUST return `Conflict` when `candidate.id` is taken by a conversation with another key.
pub async fn get_or_create_conflicts_when_the_id_is_taken(stores: &Stores) {
    let original = create(stores, conversation("c1", &["a", "b"])).await;
    let clash = conversation("c1", &["a", "c"]);
    let result = stores.conversations.get_or_create(&clash).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(
        stores.conversations.get(&cid("c1")).await.unwrap(),
        Some(original)
    );
    let of_c = stores
        .conversations
        .list_for_user(&uid("c"), Page::new(10, 0))
        .await
        .unwrap();
    assert!(of_c.is_empty(), "nothing was stored for the clash");
}

/// A group as large as the service key may open (1,000 by default), with long ids: its
/// identity key runs to tens of kilobytes, past what an index entry holds in some
/// databases (PostgreSQL's btree: 2,704 bytes). Got or created once all the same.
pub async fn a_large_group_is_got_or_created_once(stores: &Stores) {
    let ids: Vec<String> = (0..1_000)
        .map(|n| format!("member-{n:04}-{}", "x".repeat(24)))
        .collect();
    let users: Vec<&str> = ids.iter().map(String::as_str).collect();
    let group = create(stores, conversation("big", &users)).await;
    let (again, created) = stores
        .conversations
        .get_or_create(&conversation("big-again", &users))
        .await
        .unwrap();
    assert!(
        !created,
        "the same members and context are the same conversation"
    );
    assert_eq!(again, group);
    assert_eq!(again.participants.len(), 1_000);
}

/// `get` returns what was stored, and `Ok(None)` for an unknown id.
pub async fn get_reads_back_or_returns_none(stores: &Stores) {
    assert_eq!(stores.conversations.get(&cid("nope")).await.unwrap(), None);
    let stored = create(
        stores,
        conversation_at(
            "c1",
            &["z", "a", "m"],
            &[("gigId", "g1"), ("jobId", "j1")],
            t(42),
        ),
    )
    .await;
    let read = stores.conversations.get(&cid("c1")).await.unwrap().unwrap();
    assert_eq!(read, stored);
    let order: Vec<&str> = read.participant_ids().map(|u| u.as_str()).collect();
    assert_eq!(
        order,
        ["z", "a", "m"],
        "participants keep their creation order"
    );
}

/// The user's visible conversations, newest activity first, paged.
pub async fn list_for_user_is_newest_activity_first(stores: &Stores) {
    create(stores, conversation_at("c1", &["a", "b"], &[], t(10))).await;
    create(stores, conversation_at("c2", &["a", "c"], &[], t(20))).await;
    create(stores, conversation_at("c3", &["d", "a"], &[], t(30))).await;
    create(stores, conversation_at("c4", &["b", "c"], &[], t(40))).await;
    let ids = |list: Vec<switchboard::domain::Conversation>| {
        list.into_iter()
            .map(|c| c.id.into_string())
            .collect::<Vec<_>>()
    };
    let a = uid("a");
    let list = |page| stores.conversations.list_for_user(&a, page);

    assert_eq!(
        ids(list(Page::new(10, 0)).await.unwrap()),
        ["c3", "c2", "c1"]
    );
    post(stores, &cid("c1"), "b", t(50)).await;
    let listed = list(Page::new(10, 0)).await.unwrap();
    assert_eq!(listed[0].last_seq, Seq(1), "lists carry the latest state");
    assert_eq!(ids(listed), ["c1", "c3", "c2"]);
    assert_eq!(ids(list(Page::new(2, 0)).await.unwrap()), ["c1", "c3"]);
    assert_eq!(ids(list(Page::new(2, 2)).await.unwrap()), ["c2"]);
    assert!(list(Page::new(2, 4)).await.unwrap().is_empty());
    let of_stranger = stores
        .conversations
        .list_for_user(&uid("zed"), Page::new(10, 0))
        .await
        .unwrap();
    assert!(of_stranger.is_empty());
}

/// Hidden conversations leave the user's list until a message after `through` arrives.
pub async fn hidden_conversations_reappear_with_a_new_message(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    let c2 = create(stores, conversation("c2", &["b", "c"])).await.id;
    post(stores, &c1, "a", t(10)).await;
    let visible_to = |user: &'static str| async move {
        let list = stores
            .conversations
            .list_for_user(&uid(user), Page::new(10, 0))
            .await
            .unwrap();
        list.into_iter()
            .map(|c| c.id.into_string())
            .collect::<Vec<_>>()
    };

    stores
        .conversations
        .hide_for(&c1, &uid("b"), Seq(1))
        .await
        .unwrap();
    assert_eq!(visible_to("b").await, ["c2"]);
    assert_eq!(visible_to("a").await, ["c1"], "hiding is per user");

    // A conversation without messages can be hidden too, until its first message.
    stores
        .conversations
        .hide_for(&c2, &uid("b"), Seq::ZERO)
        .await
        .unwrap();
    assert!(visible_to("b").await.is_empty());

    post(stores, &c1, "a", t(20)).await;
    assert_eq!(visible_to("b").await, ["c1"]);
    post(stores, &c2, "c", t(30)).await;
    assert_eq!(visible_to("b").await, ["c2", "c1"]);
}

/// MUST return `NotFound` when the conversation does not exist or `user` is not in it.
pub async fn hide_for_needs_a_participant(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    let unknown = stores
        .conversations
        .hide_for(&cid("nope"), &uid("a"), Seq(1))
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
    let stranger = stores.conversations.hide_for(&c1, &uid("z"), Seq(1)).await;
    assert!(
        matches!(stranger, Err(StoreError::NotFound(_))),
        "{stranger:?}"
    );
}

/// Marks move up to `up_to`, never down; a read mark also moves the delivered mark; the
/// result says whether anything moved. MUST return `NotFound` for a non-participant.
pub async fn save_mark_moves_marks_up_only(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    for at in [10, 20, 30] {
        post(stores, &c1, "a", t(at)).await;
    }
    let mark = |up_to: u64, at: i64| ReadMark {
        conversation_id: c1.clone(),
        user_id: uid("b"),
        up_to: Seq(up_to),
        at: t(at),
    };
    let marks_of_b = || async {
        let c = stores.conversations.get(&c1).await.unwrap().unwrap();
        let p = c.participant(&uid("b")).unwrap().clone();
        (p.delivered, p.read, c.unread_for(&uid("b")))
    };
    let at = |seq: u64, millis: i64| Watermark {
        seq: Seq(seq),
        at: Some(t(millis)),
    };

    assert!(
        stores
            .conversations
            .save_mark(&mark(2, 100), MarkKind::Delivered)
            .await
            .unwrap()
    );
    assert_eq!(marks_of_b().await, (at(2, 100), Watermark::default(), 3));
    assert!(
        !stores
            .conversations
            .save_mark(&mark(1, 110), MarkKind::Delivered)
            .await
            .unwrap()
    );
    assert!(
        !stores
            .conversations
            .save_mark(&mark(2, 120), MarkKind::Delivered)
            .await
            .unwrap()
    );
    assert_eq!(marks_of_b().await, (at(2, 100), Watermark::default(), 3));

    assert!(
        stores
            .conversations
            .save_mark(&mark(1, 200), MarkKind::Read)
            .await
            .unwrap()
    );
    assert_eq!(
        marks_of_b().await,
        (at(2, 100), at(1, 200), 2),
        "delivered stays ahead"
    );
    assert!(
        stores
            .conversations
            .save_mark(&mark(3, 300), MarkKind::Read)
            .await
            .unwrap()
    );
    assert_eq!(
        marks_of_b().await,
        (at(3, 300), at(3, 300), 0),
        "reading delivers"
    );
    assert!(
        !stores
            .conversations
            .save_mark(&mark(3, 400), MarkKind::Read)
            .await
            .unwrap()
    );
    assert!(
        !stores
            .conversations
            .save_mark(&mark(2, 400), MarkKind::Read)
            .await
            .unwrap()
    );
    assert_eq!(marks_of_b().await, (at(3, 300), at(3, 300), 0));

    let stranger = ReadMark {
        user_id: uid("z"),
        ..mark(1, 500)
    };
    let result = stores
        .conversations
        .save_mark(&stranger, MarkKind::Read)
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    let unknown = ReadMark {
        conversation_id: cid("nope"),
        ..mark(1, 500)
    };
    let result = stores
        .conversations
        .save_mark(&unknown, MarkKind::Delivered)
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

/// Unread messages over all of the user's conversations, hidden ones included.
pub async fn total_unread_counts_every_conversation(stores: &Stores) {
    let c1 = create(stores, conversation("c1", &["a", "b"])).await.id;
    let c2 = create(stores, conversation("c2", &["a", "c"])).await.id;
    for at in [1, 2] {
        post(stores, &c1, "b", t(at)).await;
    }
    for at in [3, 4, 5] {
        post(stores, &c2, "c", t(at)).await;
    }
    assert_eq!(
        stores.conversations.total_unread(&uid("a")).await.unwrap(),
        5
    );

    post(stores, &c1, "a", t(6)).await;
    assert_eq!(
        stores.conversations.total_unread(&uid("a")).await.unwrap(),
        3,
        "posting reads everything before"
    );
    assert_eq!(
        stores.conversations.total_unread(&uid("b")).await.unwrap(),
        1
    );

    stores
        .conversations
        .hide_for(&c2, &uid("a"), Seq(3))
        .await
        .unwrap();
    assert_eq!(
        stores.conversations.total_unread(&uid("a")).await.unwrap(),
        3
    );
    assert_eq!(
        stores
            .conversations
            .total_unread(&uid("zed"))
            .await
            .unwrap(),
        0
    );
}

/// Everyone who shares a conversation with the user, without the user, no repeats.
pub async fn contacts_of_lists_everyone_once(stores: &Stores) {
    create(stores, conversation("c1", &["a", "b"])).await;
    create(
        stores,
        conversation_at("c2", &["b", "a"], &[("orderId", "o1")], t(0)),
    )
    .await;
    create(stores, conversation("c3", &["c", "a", "d"])).await;
    create(stores, conversation("c4", &["b", "e"])).await;
    let contacts = stores.conversations.contacts_of(&uid("a")).await.unwrap();
    assert_eq!(sorted(contacts), [uid("b"), uid("c"), uid("d")]);
    assert!(
        stores
            .conversations
            .contacts_of(&uid("zed"))
            .await
            .unwrap()
            .is_empty()
    );
}
