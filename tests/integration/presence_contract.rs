//! The presence registry contract suite: the MUST sentences of `src/ports/presence.rs`,
//! checked on every adapter. A registry is given as two handles (two nodes of a cluster, or
//! one process twice); connections opened through either count for the same users. Adding
//! an adapter is one `presence_contract_tests!` line at the bottom.

use std::sync::Arc;

use switchboard::domain::{ConversationId, PresenceState, PresenceTransition, UserId};
use switchboard::ports::{ConnectionRef, NodeId, PresenceRegistry};

/// Two handles to one registry, used by nodes `a` and `b`.
pub struct Registries {
    pub here: Arc<dyn PresenceRegistry>,
    pub there: Arc<dyn PresenceRegistry>,
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn cid(s: &str) -> ConversationId {
    ConversationId::parse(s).unwrap()
}

/// Connection `n` on node `a` (`here`) or `b` (`there`).
fn on_a(n: u64) -> ConnectionRef {
    ConnectionRef::new(NodeId::new("a"), n)
}

fn on_b(n: u64) -> ConnectionRef {
    ConnectionRef::new(NodeId::new("b"), n)
}

fn st(connections: u32, manual_offline: bool) -> PresenceState {
    PresenceState {
        connections,
        manual_offline,
    }
}

fn transition(user: &str, before: u32, after: u32) -> PresenceTransition {
    PresenceTransition {
        user_id: uid(user),
        before: st(before, false),
        after: st(after, false),
    }
}

pub async fn connections_count_up_and_down_with_before_and_after(r: Registries) {
    let u = uid("u1");
    assert_eq!(
        r.here.connection_opened(&on_a(1), &u).await.unwrap(),
        transition("u1", 0, 1)
    );
    assert_eq!(
        r.there.connection_opened(&on_b(1), &u).await.unwrap(),
        transition("u1", 1, 2)
    );
    assert_eq!(
        r.here.connection_closed(&on_a(1)).await.unwrap(),
        Some(transition("u1", 2, 1))
    );
    assert_eq!(r.there.state(&u).await.unwrap(), st(1, false));
    assert_eq!(r.here.state(&uid("other")).await.unwrap(), st(0, false));
    assert_eq!(
        r.there.connection_closed(&on_b(1)).await.unwrap(),
        Some(transition("u1", 1, 0))
    );
}

pub async fn opening_a_connection_twice_counts_it_once(r: Registries) {
    let u = uid("u1");
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    assert_eq!(
        r.here.connection_opened(&on_a(1), &u).await.unwrap(),
        transition("u1", 1, 1)
    );
    assert_eq!(r.there.state(&u).await.unwrap(), st(1, false));
}

pub async fn reopening_a_connection_for_another_user_moves_it(r: Registries) {
    let (u, v) = (uid("u1"), uid("u2"));
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    r.here
        .set_viewing(&on_a(1), &cid("c1"), true)
        .await
        .unwrap();
    assert_eq!(
        r.there.connection_opened(&on_a(1), &v).await.unwrap(),
        transition("u2", 0, 1)
    );
    assert_eq!(r.here.state(&u).await.unwrap(), st(0, false));
    assert!(!r.here.is_viewing(&u, &cid("c1")).await.unwrap());
    assert_eq!(
        r.here.connection_closed(&on_a(1)).await.unwrap(),
        Some(transition("u2", 1, 0))
    );
}

pub async fn closing_a_connection_that_is_not_open_is_none(r: Registries) {
    assert_eq!(r.here.connection_closed(&on_a(9)).await.unwrap(), None);
    let u = uid("u1");
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    assert!(r.here.connection_closed(&on_a(1)).await.unwrap().is_some());
    assert_eq!(r.there.connection_closed(&on_a(1)).await.unwrap(), None);
    assert_eq!(r.here.state(&u).await.unwrap(), st(0, false));
}

pub async fn the_same_number_on_two_nodes_is_two_connections(r: Registries) {
    let (u, v) = (uid("u1"), uid("u2"));
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    r.there.connection_opened(&on_b(1), &v).await.unwrap();
    assert_eq!(
        r.there.connection_closed(&on_b(1)).await.unwrap(),
        Some(transition("u2", 1, 0))
    );
    assert_eq!(r.here.state(&u).await.unwrap(), st(1, false));
}

pub async fn manual_offline_survives_reconnects_until_cleared(r: Registries) {
    let u = uid("u1");
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    let off = r.here.set_manual_offline(&u, true).await.unwrap();
    assert_eq!((off.before, off.after), (st(1, false), st(1, true)));
    r.here.connection_closed(&on_a(1)).await.unwrap();
    let back = r.there.connection_opened(&on_b(2), &u).await.unwrap();
    assert_eq!((back.before, back.after), (st(0, true), st(1, true)));
    let on = r.there.set_manual_offline(&u, false).await.unwrap();
    assert_eq!((on.before, on.after), (st(1, true), st(1, false)));
}

pub async fn viewing_lasts_while_any_connection_views(r: Registries) {
    let (u, c) = (uid("u1"), cid("c1"));
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    r.there.connection_opened(&on_b(1), &u).await.unwrap();
    r.here.set_viewing(&on_a(1), &c, true).await.unwrap();
    // Repeats change nothing: one stop undoes any number of starts of one connection.
    r.here.set_viewing(&on_a(1), &c, true).await.unwrap();
    r.there.set_viewing(&on_b(1), &c, true).await.unwrap();
    r.here.set_viewing(&on_a(1), &c, false).await.unwrap();
    assert!(r.here.is_viewing(&u, &c).await.unwrap());
    r.there.set_viewing(&on_b(1), &c, false).await.unwrap();
    r.there.set_viewing(&on_b(1), &c, false).await.unwrap();
    assert!(!r.there.is_viewing(&u, &c).await.unwrap());
    assert!(!r.here.is_viewing(&u, &cid("c2")).await.unwrap());
    assert!(!r.here.is_viewing(&uid("u2"), &c).await.unwrap());
}

pub async fn closing_a_connection_ends_its_viewing(r: Registries) {
    let (u, c) = (uid("u1"), cid("c1"));
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    r.here.connection_opened(&on_a(2), &u).await.unwrap();
    r.here.set_viewing(&on_a(1), &c, true).await.unwrap();
    r.here.connection_closed(&on_a(1)).await.unwrap();
    assert!(!r.there.is_viewing(&u, &c).await.unwrap());
    // A later open of the same number starts with nothing viewed.
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    assert!(!r.here.is_viewing(&u, &c).await.unwrap());
}

pub async fn viewing_by_a_connection_that_is_not_open_is_ignored(r: Registries) {
    let (u, c) = (uid("u1"), cid("c1"));
    r.here.set_viewing(&on_a(1), &c, true).await.unwrap();
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    assert!(!r.here.is_viewing(&u, &c).await.unwrap());
    assert_eq!(r.here.state(&u).await.unwrap(), st(1, false));
}

pub async fn a_gone_node_takes_only_its_own_connections(r: Registries) {
    let (u, v, w) = (uid("u1"), uid("u2"), uid("u3"));
    let c = cid("c1");
    r.here.connection_opened(&on_a(1), &u).await.unwrap();
    r.here.connection_opened(&on_a(2), &u).await.unwrap();
    r.here.connection_opened(&on_a(3), &v).await.unwrap();
    r.there.connection_opened(&on_b(1), &v).await.unwrap();
    r.there.connection_opened(&on_b(2), &w).await.unwrap();
    r.here.set_viewing(&on_a(3), &c, true).await.unwrap();
    let mut gone = r.there.node_gone(&NodeId::new("a")).await.unwrap();
    gone.sort_by(|x, y| x.user_id.cmp(&y.user_id));
    assert_eq!(gone, vec![transition("u1", 2, 0), transition("u2", 2, 1)]);
    assert_eq!(r.here.state(&u).await.unwrap(), st(0, false));
    assert_eq!(r.here.state(&v).await.unwrap(), st(1, false));
    assert_eq!(r.here.state(&w).await.unwrap(), st(1, false));
    assert!(!r.here.is_viewing(&v, &c).await.unwrap());
    assert_eq!(r.here.connection_closed(&on_a(1)).await.unwrap(), None);
    assert!(
        r.here
            .node_gone(&NodeId::new("a"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn concurrent_opens_are_all_counted_each_with_its_own_before(r: Registries) {
    let u = uid("u1");
    let tasks: Vec<_> = (0..4u64)
        .map(|task| {
            let (registry, u) = (
                if task % 2 == 0 {
                    r.here.clone()
                } else {
                    r.there.clone()
                },
                u.clone(),
            );
            tokio::spawn(async move {
                let mut befores = Vec::new();
                for n in 0..50 {
                    let conn = ConnectionRef::new(NodeId::new(format!("n{task}")), n);
                    let t = registry.connection_opened(&conn, &u).await.unwrap();
                    assert_eq!(t.after.connections, t.before.connections + 1);
                    befores.push(t.before.connections);
                }
                befores
            })
        })
        .collect();
    let mut befores = Vec::new();
    for task in tasks {
        befores.extend(task.await.unwrap());
    }
    befores.sort_unstable();
    assert_eq!(befores, (0..200).collect::<Vec<u32>>());
    assert_eq!(r.here.state(&u).await.unwrap(), st(200, false));
}

macro_rules! presence_contract_tests {
    ($adapter:ident, $registries:expr) => {
        mod $adapter {
            use super::*;

            presence_contract_tests!(@each $registries;
                connections_count_up_and_down_with_before_and_after,
                opening_a_connection_twice_counts_it_once,
                reopening_a_connection_for_another_user_moves_it,
                closing_a_connection_that_is_not_open_is_none,
                the_same_number_on_two_nodes_is_two_connections,
                manual_offline_survives_reconnects_until_cleared,
                viewing_lasts_while_any_connection_views,
                closing_a_connection_ends_its_viewing,
                viewing_by_a_connection_that_is_not_open_is_ignored,
                a_gone_node_takes_only_its_own_connections,
                concurrent_opens_are_all_counted_each_with_its_own_before,
            );
        }
    };
    (@each $registries:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                super::$check($registries).await;
            }
        )*
    };
}

// One process: both handles are the same registry.
presence_contract_tests!(local, {
    let registry: Arc<dyn PresenceRegistry> =
        Arc::new(switchboard::adapters::outbound::inprocess::LocalPresenceRegistry::new());
    Registries {
        here: registry.clone(),
        there: registry,
    }
});
