//! The typing registry contract suite: the MUST sentences of `src/ports/typing.rs`, checked
//! on every adapter (built with a 5-second expiry). A registry is given as two handles (two
//! nodes of a cluster, or one process twice). Adding an adapter is one
//! `typing_contract_tests!` line at the bottom.

use std::sync::Arc;
use std::time::Duration;

use switchboard::domain::{ConversationId, Timestamp, TypingChange, UserId};
use switchboard::ports::TypingRegistry;

/// The expiry every adapter under test is built with.
pub const EXPIRY: Duration = Duration::from_secs(5);

/// Two handles to one registry.
pub struct Registries {
    pub here: Arc<dyn TypingRegistry>,
    pub there: Arc<dyn TypingRegistry>,
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn cid(s: &str) -> ConversationId {
    ConversationId::parse(s).unwrap()
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_millis(secs * 1_000)
}

fn stop(user: &str, conversation: &str, at: Timestamp) -> TypingChange {
    TypingChange {
        conversation_id: cid(conversation),
        user_id: uid(user),
        typing: false,
        at,
    }
}

fn sorted(mut changes: Vec<TypingChange>) -> Vec<TypingChange> {
    changes.sort_by(|a, b| (&a.user_id, &a.conversation_id).cmp(&(&b.user_id, &b.conversation_id)));
    changes
}

pub async fn a_start_lasts_until_the_expiry_then_stops_once(r: Registries) {
    let started = r.here.start(&uid("u1"), &cid("c1"), t(0)).await.unwrap();
    assert!(started.typing);
    assert_eq!(started.at, t(0));
    assert!(r.there.expire(t(4)).await.unwrap().is_empty());
    assert_eq!(
        r.there.expire(t(5)).await.unwrap(),
        vec![stop("u1", "c1", t(5))]
    );
    assert!(r.here.expire(t(60)).await.unwrap().is_empty());
}

pub async fn a_repeated_start_keeps_the_state_alive(r: Registries) {
    r.here.start(&uid("u1"), &cid("c1"), t(0)).await.unwrap();
    r.there.start(&uid("u1"), &cid("c1"), t(3)).await.unwrap();
    assert!(r.here.expire(t(6)).await.unwrap().is_empty());
    assert_eq!(r.here.expire(t(8)).await.unwrap().len(), 1);
}

pub async fn a_stop_ends_the_state_for_good(r: Registries) {
    r.here.start(&uid("u1"), &cid("c1"), t(0)).await.unwrap();
    let stopped = r.there.stop(&uid("u1"), &cid("c1"), t(1)).await.unwrap();
    assert_eq!(stopped, stop("u1", "c1", t(1)));
    assert!(r.here.expire(t(60)).await.unwrap().is_empty());
}

pub async fn clearing_a_user_stops_only_their_states_once(r: Registries) {
    r.here.start(&uid("u1"), &cid("c1"), t(0)).await.unwrap();
    r.there.start(&uid("u1"), &cid("c2"), t(0)).await.unwrap();
    r.here.start(&uid("u2"), &cid("c1"), t(0)).await.unwrap();
    assert_eq!(
        sorted(r.here.clear_user(&uid("u1"), t(1)).await.unwrap()),
        vec![stop("u1", "c1", t(1)), stop("u1", "c2", t(1))]
    );
    assert!(
        r.there
            .clear_user(&uid("u1"), t(2))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        r.there.expire(t(9)).await.unwrap(),
        vec![stop("u2", "c1", t(9))]
    );
}

pub async fn concurrent_sweeps_on_every_node_return_each_state_once(r: Registries) {
    for n in 0..100 {
        r.here
            .start(&uid(&format!("u{n}")), &cid("c1"), t(0))
            .await
            .unwrap();
    }
    let sweeps: Vec<_> = (0..4)
        .map(|n| {
            let r = if n % 2 == 0 {
                r.here.clone()
            } else {
                r.there.clone()
            };
            tokio::spawn(async move { r.expire(t(10)).await.unwrap().len() })
        })
        .collect();
    let mut total = 0;
    for sweep in sweeps {
        total += sweep.await.unwrap();
    }
    assert_eq!(total, 100);
}

macro_rules! typing_contract_tests {
    ($adapter:ident, $registry:expr) => {
        mod $adapter {
            use super::*;

            typing_contract_tests!(@each $registry;
                a_start_lasts_until_the_expiry_then_stops_once,
                a_repeated_start_keeps_the_state_alive,
                a_stop_ends_the_state_for_good,
                clearing_a_user_stops_only_their_states_once,
                concurrent_sweeps_on_every_node_return_each_state_once,
            );
        }
    };
    (@each $registry:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                super::$check($registry).await;
            }
        )*
    };
}

// One process: both handles are the same registry.
typing_contract_tests!(local, {
    let registry: Arc<dyn TypingRegistry> =
        Arc::new(switchboard::adapters::outbound::inprocess::LocalTypingRegistry::new(EXPIRY));
    Registries {
        here: registry.clone(),
        there: registry,
    }
});
