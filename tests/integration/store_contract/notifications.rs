//! Contract checks for `NotificationStore`.

use std::collections::BTreeMap;

use switchboard::domain::{DataValue, Notification, NotificationId, Timestamp};
use switchboard::ports::{Page, StoreError, Stores};

use super::support::*;

fn ids(notifications: &[Notification]) -> Vec<&str> {
    notifications.iter().map(|n| n.id.as_str()).collect()
}

async fn unread(stores: &Stores, user: &str) -> u64 {
    stores.notifications.unread_count(&uid(user)).await.unwrap()
}

async fn list(stores: &Stores, user: &str, page: Page) -> Vec<Notification> {
    stores
        .notifications
        .list_for(&uid(user), page)
        .await
        .unwrap()
}

async fn take(stores: &Stores, user: &str, at: Timestamp, limit: usize) -> Vec<Notification> {
    stores
        .notifications
        .take_pending(&uid(user), at, limit)
        .await
        .unwrap()
}

async fn release(stores: &Stores, raw: &[&str]) -> u64 {
    let ids: Vec<NotificationId> = raw.iter().map(|id| nid(id)).collect();
    stores.notifications.release(&ids).await.unwrap()
}

async fn insert_all(stores: &Stores, notifications: &[Notification]) {
    for n in notifications {
        stores.notifications.insert(n).await.unwrap();
    }
}

/// `get` reads back every field, including open-ended data, and `Ok(None)` for an unknown id.
pub async fn insert_then_get_reads_back_every_field(stores: &Stores) {
    let data = DataValue::Map(BTreeMap::from([
        ("postId".to_string(), DataValue::String("p1".into())),
        ("count".to_string(), DataValue::Number(3.0)),
        ("ratio".to_string(), DataValue::Number(0.25)),
        ("urgent".to_string(), DataValue::Bool(true)),
        ("nothing".to_string(), DataValue::Null),
        (
            "tags".to_string(),
            DataValue::List(vec![DataValue::String("a".into()), DataValue::empty_map()]),
        ),
    ]));
    let full = Notification {
        title: Some("New like".into()),
        reference_id: Some("p1".into()),
        data,
        ..notification("n1", "u1", t(5))
    };
    insert_all(stores, std::slice::from_ref(&full)).await;
    assert_eq!(
        stores.notifications.get(&nid("n1")).await.unwrap(),
        Some(full)
    );
    assert_eq!(stores.notifications.get(&nid("nope")).await.unwrap(), None);
}

/// MUST return `Conflict` when the id is taken.
pub async fn insert_with_a_taken_id_conflicts(stores: &Stores) {
    let original = notification("n1", "u1", t(1));
    insert_all(stores, std::slice::from_ref(&original)).await;
    let clash = Notification {
        message: "another".into(),
        ..notification("n1", "u2", t(2))
    };
    let result = stores.notifications.insert(&clash).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(
        stores.notifications.get(&nid("n1")).await.unwrap(),
        Some(original)
    );
}

/// Returns the ids that were not delivered before; each id at most once, ever.
pub async fn mark_delivered_returns_only_newly_delivered(stores: &Stores) {
    insert_all(
        stores,
        &[
            notification("n1", "u1", t(1)),
            notification("n2", "u1", t(2)),
            notification("n3", "u2", t(3)),
        ],
    )
    .await;
    let first = stores
        .notifications
        .mark_delivered(&[nid("n1"), nid("n2")], t(10))
        .await
        .unwrap();
    assert_eq!(sorted(first), [nid("n1"), nid("n2")]);
    let second = stores
        .notifications
        .mark_delivered(&[nid("n1"), nid("n2"), nid("n3"), nid("nope")], t(20))
        .await
        .unwrap();
    assert_eq!(second, [nid("n3")]);
    let third = stores
        .notifications
        .mark_delivered(&[nid("n1"), nid("n3")], t(30))
        .await
        .unwrap();
    assert!(third.is_empty());
    assert!(
        stores
            .notifications
            .mark_delivered(&[], t(40))
            .await
            .unwrap()
            .is_empty()
    );
    let n1 = stores.notifications.get(&nid("n1")).await.unwrap().unwrap();
    assert_eq!(
        n1.delivered_at,
        Some(t(10)),
        "the first delivery time stays"
    );
}

/// Takes the user's undelivered notifications, marked delivered at `at`, oldest first; a
/// notification is taken once.
pub async fn take_pending_takes_each_notification_once(stores: &Stores) {
    insert_all(
        stores,
        &[
            notification("n1", "u1", t(1)),
            notification("n2", "u1", t(3)),
            notification("n3", "u1", t(2)),
            notification("n4", "u1", t(0)),
            notification("n5", "u2", t(1)),
        ],
    )
    .await;
    stores
        .notifications
        .mark_delivered(&[nid("n4")], t(5))
        .await
        .unwrap();

    let taken = take(stores, "u1", t(10), 100).await;
    assert_eq!(ids(&taken), ["n1", "n3", "n2"]);
    assert!(taken.iter().all(|n| n.delivered_at == Some(t(10))));
    assert!(take(stores, "u1", t(11), 100).await.is_empty());
    let n5 = stores.notifications.get(&nid("n5")).await.unwrap().unwrap();
    assert_eq!(
        n5.delivered_at, None,
        "other users' notifications stay pending"
    );

    insert_all(stores, &[notification("n6", "u1", t(12))]).await;
    let later = take(stores, "u1", t(13), 100).await;
    assert_eq!(ids(&later), ["n6"]);
}

/// Takes at most `limit`: the oldest (by creation time, then id), returned oldest first; the
/// next call takes the next oldest. `limit` 0 takes nothing.
pub async fn take_pending_takes_the_oldest_up_to_the_limit(stores: &Stores) {
    insert_all(
        stores,
        &[
            notification("n5", "u1", t(5)),
            notification("n1", "u1", t(1)),
            notification("n3b", "u1", t(3)),
            notification("n7", "u1", t(7)),
            notification("n3a", "u1", t(3)),
            notification("n2", "u1", t(2)),
            notification("n6", "u1", t(6)),
            notification("other", "u2", t(0)),
        ],
    )
    .await;

    assert!(take(stores, "u1", t(9), 0).await.is_empty());
    assert_eq!(
        stores
            .notifications
            .get(&nid("n1"))
            .await
            .unwrap()
            .unwrap()
            .delivered_at,
        None,
        "a limit of 0 marks nothing"
    );

    let first = take(stores, "u1", t(10), 3).await;
    assert_eq!(ids(&first), ["n1", "n2", "n3a"], "ties on time break by id");
    assert!(first.iter().all(|n| n.delivered_at == Some(t(10))));
    let n5 = stores.notifications.get(&nid("n5")).await.unwrap().unwrap();
    assert_eq!(n5.delivered_at, None, "beyond the limit stays pending");

    let second = take(stores, "u1", t(11), 3).await;
    assert_eq!(ids(&second), ["n3b", "n5", "n6"]);
    let third = take(stores, "u1", t(12), 3).await;
    assert_eq!(ids(&third), ["n7"]);
    assert!(take(stores, "u1", t(13), 3).await.is_empty());
    assert_eq!(ids(&take(stores, "u2", t(14), 1).await), ["other"]);
}

/// A notification is taken by at most one call, also under concurrent calls.
pub async fn concurrent_take_pending_calls_are_disjoint(stores: &Stores) {
    let all: Vec<Notification> = (0..30)
        .map(|i| notification(&format!("n{i:02}"), "u1", t(i)))
        .collect();
    insert_all(stores, &all).await;
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let stores = stores.clone();
            tokio::spawn(async move { take(&stores, "u1", t(100 + i), 100).await })
        })
        .collect();
    let mut taken: Vec<NotificationId> = Vec::new();
    for task in tasks {
        taken.extend(task.await.unwrap().into_iter().map(|n| n.id));
    }
    let expected: Vec<NotificationId> = all.into_iter().map(|n| n.id).collect();
    assert_eq!(sorted(taken), expected, "every one taken, none twice");
}

/// Concurrent takers with small limits, each taking batches until one comes back empty,
/// share the backlog out: every notification is taken exactly once, none is left pending,
/// and every batch is within the limit and oldest first.
pub async fn concurrent_small_batches_take_each_notification_once(stores: &Stores) {
    const LIMIT: usize = 3;
    let all: Vec<Notification> = (0..40)
        .map(|i| notification(&format!("n{i:02}"), "u1", t(i / 2)))
        .collect();
    insert_all(stores, &all).await;
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let stores = stores.clone();
            tokio::spawn(async move {
                let mut batches = Vec::new();
                loop {
                    let batch = take(&stores, "u1", t(100 + i), LIMIT).await;
                    if batch.is_empty() {
                        return batches;
                    }
                    batches.push(batch);
                }
            })
        })
        .collect();
    let mut taken: Vec<NotificationId> = Vec::new();
    for task in tasks {
        for batch in task.await.unwrap() {
            assert!(batch.len() <= LIMIT, "{:?}", ids(&batch));
            let keys: Vec<_> = batch.iter().map(|n| (n.created_at, &n.id)).collect();
            assert!(keys.is_sorted(), "oldest first: {:?}", ids(&batch));
            taken.extend(batch.into_iter().map(|n| n.id));
        }
    }
    let expected: Vec<NotificationId> = all.into_iter().map(|n| n.id).collect();
    assert_eq!(sorted(taken), expected, "every one taken, none twice");
    assert!(take(stores, "u1", t(200), LIMIT).await.is_empty());
}

/// Concurrent takers that give some of their batches back (as a connection that could not
/// queue them does) lose none: every notification ends up in exactly one kept batch.
pub async fn concurrent_takers_giving_batches_back_lose_none(stores: &Stores) {
    const LIMIT: usize = 4;
    let all: Vec<Notification> = (0..40)
        .map(|i| notification(&format!("n{i:02}"), "u1", t(i)))
        .collect();
    insert_all(stores, &all).await;
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let stores = stores.clone();
            tokio::spawn(async move {
                let mut kept = Vec::new();
                for round in 0.. {
                    let batch = take(&stores, "u1", t(100 + i), LIMIT).await;
                    if batch.is_empty() {
                        return kept;
                    }
                    assert!(batch.len() <= LIMIT, "{:?}", ids(&batch));
                    let batch: Vec<NotificationId> = batch.into_iter().map(|n| n.id).collect();
                    // Every third batch of each taker could not be queued: it goes back.
                    if round % 3 == 1 {
                        let released = stores.notifications.release(&batch).await.unwrap();
                        assert_eq!(released, batch.len() as u64, "{batch:?}");
                    } else {
                        kept.extend(batch);
                    }
                }
                unreachable!("the rounds end when a take comes back empty")
            })
        })
        .collect();
    let mut taken: Vec<NotificationId> = Vec::new();
    for task in tasks {
        taken.extend(task.await.unwrap());
    }
    let expected: Vec<NotificationId> = all.into_iter().map(|n| n.id).collect();
    assert_eq!(sorted(taken), expected, "every one kept once, none lost");
}

/// Released notifications are pending again: the next take returns them (once, oldest
/// first with the rest); releasing undelivered or unknown ids changes nothing and counts 0.
pub async fn release_gives_taken_notifications_back(stores: &Stores) {
    insert_all(
        stores,
        &(1..=5)
            .map(|i| notification(&format!("n{i}"), "u1", t(i)))
            .collect::<Vec<_>>(),
    )
    .await;
    let batch = take(stores, "u1", t(10), 3).await;
    assert_eq!(ids(&batch), ["n1", "n2", "n3"]);

    assert_eq!(release(stores, &["n2", "n3"]).await, 2);
    let n2 = stores.notifications.get(&nid("n2")).await.unwrap().unwrap();
    assert_eq!(n2.delivered_at, None, "released: no delivery time");
    let n1 = stores.notifications.get(&nid("n1")).await.unwrap().unwrap();
    assert_eq!(
        n1.delivered_at,
        Some(t(10)),
        "not released: still delivered"
    );

    let again = take(stores, "u1", t(20), 10).await;
    assert_eq!(ids(&again), ["n2", "n3", "n4", "n5"]);
    assert!(again.iter().all(|n| n.delivered_at == Some(t(20))));
    assert!(take(stores, "u1", t(21), 10).await.is_empty(), "taken once");

    insert_all(stores, &[notification("n6", "u1", t(6))]).await;
    assert_eq!(release(stores, &["n6", "nope"]).await, 0);
    assert_eq!(release(stores, &[]).await, 0);
    let n6 = stores.notifications.get(&nid("n6")).await.unwrap().unwrap();
    assert_eq!(n6, notification("n6", "u1", t(6)), "undelivered: unchanged");

    assert_eq!(release(stores, &["n1", "n1"]).await, 1);
    assert_eq!(release(stores, &["n1"]).await, 0, "already given back");
    assert_eq!(ids(&take(stores, "u1", t(30), 10).await), ["n1", "n6"]);
}

/// `mark_read` says whether it was unread (MUST return `NotFound` for an unknown id);
/// `mark_all_read` counts what was unread; `unread_count` follows both.
pub async fn read_marks_and_unread_counts(stores: &Stores) {
    insert_all(
        stores,
        &[
            notification("n1", "u1", t(1)),
            notification("n2", "u1", t(2)),
            notification("n3", "u1", t(3)),
            notification("n4", "u2", t(4)),
        ],
    )
    .await;
    assert_eq!(unread(stores, "u1").await, 3);

    assert!(
        stores
            .notifications
            .mark_read(&nid("n1"), t(10))
            .await
            .unwrap()
    );
    assert!(
        !stores
            .notifications
            .mark_read(&nid("n1"), t(11))
            .await
            .unwrap()
    );
    assert_eq!(
        stores
            .notifications
            .get(&nid("n1"))
            .await
            .unwrap()
            .unwrap()
            .read_at,
        Some(t(10))
    );
    assert_eq!(unread(stores, "u1").await, 2);
    let result = stores.notifications.mark_read(&nid("nope"), t(12)).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");

    assert_eq!(
        stores
            .notifications
            .mark_all_read(&uid("u1"), t(20))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        stores
            .notifications
            .mark_all_read(&uid("u1"), t(21))
            .await
            .unwrap(),
        0
    );
    assert_eq!(unread(stores, "u1").await, 0);
    assert_eq!(unread(stores, "u2").await, 1);
    assert_eq!(
        stores
            .notifications
            .get(&nid("n1"))
            .await
            .unwrap()
            .unwrap()
            .read_at,
        Some(t(10)),
        "marking all read keeps earlier read times"
    );
}

/// The user's notifications, newest first, paged.
pub async fn list_for_is_newest_first(stores: &Stores) {
    let mine: Vec<Notification> = (1..=5)
        .map(|i| notification(&format!("n{i}"), "u1", t(i)))
        .collect();
    insert_all(stores, &mine).await;
    insert_all(stores, &[notification("other", "u2", t(9))]).await;
    assert_eq!(
        ids(&list(stores, "u1", Page::new(10, 0)).await),
        ["n5", "n4", "n3", "n2", "n1"]
    );
    assert_eq!(
        ids(&list(stores, "u1", Page::new(2, 1)).await),
        ["n4", "n3"]
    );
    assert!(list(stores, "u1", Page::new(2, 5)).await.is_empty());
    assert_eq!(ids(&list(stores, "u2", Page::new(10, 0)).await), ["other"]);
    assert!(list(stores, "zed", Page::new(10, 0)).await.is_empty());
}
