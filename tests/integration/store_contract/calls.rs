//! Contract checks for `CallSessionStore`.

use switchboard::domain::{CallSession, CallState};
use switchboard::ports::{StoreError, Stores};

use super::support::*;

async fn live_call_id(stores: &Stores, user: &str) -> Option<String> {
    let live = stores.calls.live_call_of(&uid(user)).await.unwrap();
    live.map(|s| s.id.into_string())
}

/// A started call reads back by id and is the live call of both parties.
pub async fn start_then_read_back(stores: &Stores) {
    let call = ringing_call("k1", "a", "b", t(10));
    stores.calls.start(&call).await.unwrap();
    assert_eq!(
        stores.calls.get(&call_id("k1")).await.unwrap(),
        Some(call.clone())
    );
    assert_eq!(
        stores.calls.live_call_of(&uid("a")).await.unwrap(),
        Some(call.clone())
    );
    assert_eq!(
        stores.calls.live_call_of(&uid("b")).await.unwrap(),
        Some(call)
    );
    assert_eq!(live_call_id(stores, "c").await, None);
    assert_eq!(stores.calls.get(&call_id("nope")).await.unwrap(), None);
}

/// MUST return `Conflict`, and store nothing, when the caller or the callee already has a
/// call in this store.
pub async fn start_conflicts_when_either_party_is_busy(stores: &Stores) {
    stores
        .calls
        .start(&ringing_call("k1", "a", "b", t(10)))
        .await
        .unwrap();
    for (id, caller, callee) in [("k2", "a", "c"), ("k3", "c", "b"), ("k4", "b", "a")] {
        let result = stores
            .calls
            .start(&ringing_call(id, caller, callee, t(11)))
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict(_))),
            "{id}: {result:?}"
        );
        assert_eq!(
            stores.calls.get(&call_id(id)).await.unwrap(),
            None,
            "{id} not stored"
        );
    }
    assert_eq!(live_call_id(stores, "c").await, None);
    assert_eq!(live_call_id(stores, "a").await.as_deref(), Some("k1"));
    stores
        .calls
        .start(&ringing_call("k5", "c", "d", t(12)))
        .await
        .unwrap();
}

/// The busy rule holds under concurrent calls: of several callers ringing one callee at
/// once, exactly one gets through.
pub async fn concurrent_calls_to_one_callee_let_one_through(stores: &Stores) {
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let stores = stores.clone();
            let call = ringing_call(&format!("k{i}"), &format!("caller{i}"), "b", t(i));
            tokio::spawn(async move { (call.id.clone(), stores.calls.start(&call).await) })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (id, Ok(())) => winners.push(id.into_string()),
            (_, Err(StoreError::Conflict(_))) => {}
            (id, Err(other)) => panic!("{id}: unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(live_call_id(stores, "b").await.as_ref(), winners.first());
    let callers_in_a_call = {
        let mut n = 0;
        for i in 0..10 {
            n += usize::from(live_call_id(stores, &format!("caller{i}")).await.is_some());
        }
        n
    };
    assert_eq!(callers_in_a_call, 1, "the losers stored nothing");
}

/// `update` saves a state change; MUST return `NotFound` when the call is no longer there.
pub async fn update_saves_the_state_change(stores: &Stores) {
    let ringing = ringing_call("k1", "a", "b", t(10));
    stores.calls.start(&ringing).await.unwrap();
    let active = ringing.accept(&uid("b"), t(12)).unwrap();
    stores.calls.update(&active).await.unwrap();
    let read = stores.calls.get(&call_id("k1")).await.unwrap().unwrap();
    assert_eq!(read, active);
    assert_eq!(read.state, CallState::Active { accepted_at: t(12) });
    assert_eq!(
        stores.calls.live_call_of(&uid("a")).await.unwrap(),
        Some(active.clone())
    );

    assert!(stores.calls.finish(&call_id("k1")).await.unwrap());
    let result = stores.calls.update(&active).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

/// `finish` removes the call and says whether it was there, so that exactly one of several
/// racing enders records it; the parties are free again.
pub async fn finish_happens_exactly_once(stores: &Stores) {
    stores
        .calls
        .start(&ringing_call("k1", "a", "b", t(10)))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let stores = stores.clone();
            tokio::spawn(async move { stores.calls.finish(&call_id("k1")).await.unwrap() })
        })
        .collect();
    let mut finished = 0;
    for task in tasks {
        finished += usize::from(task.await.unwrap());
    }
    assert_eq!(finished, 1);
    assert_eq!(stores.calls.get(&call_id("k1")).await.unwrap(), None);
    assert_eq!(live_call_id(stores, "a").await, None);
    assert_eq!(live_call_id(stores, "b").await, None);
    assert!(!stores.calls.finish(&call_id("nope")).await.unwrap());
    stores
        .calls
        .start(&ringing_call("k2", "b", "a", t(20)))
        .await
        .unwrap();
}

/// Calls still ringing that were placed before the given time (strictly).
pub async fn ringing_since_before_finds_unanswered_calls(stores: &Stores) {
    let early = ringing_call("k1", "a", "b", t(10));
    let late = ringing_call("k2", "c", "d", t(20));
    let answered = ringing_call("k3", "e", "f", t(5));
    for call in [&early, &late, &answered] {
        stores.calls.start(call).await.unwrap();
    }
    stores
        .calls
        .update(&answered.accept(&uid("f"), t(6)).unwrap())
        .await
        .unwrap();
    let ringing = |before| async move {
        let mut found: Vec<CallSession> =
            stores.calls.ringing_since_before(t(before)).await.unwrap();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found
    };
    assert!(ringing(10).await.is_empty());
    assert_eq!(ringing(20).await, std::slice::from_ref(&early));
    assert_eq!(ringing(21).await, [early, late]);
}
