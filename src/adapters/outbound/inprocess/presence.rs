//! `LocalPresenceRegistry`: connection counts, the manual offline switch and "viewing"
//! counts for the users of this process, in a fixed set of mutex-guarded shards so that
//! connects and disconnects of different users rarely contend. Locks are taken inside
//! synchronous helpers only, so no guard can live across an `.await`.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::domain::{ConversationId, PresenceState, UserId};
use crate::ports::{PresenceError, PresenceRegistry};

/// A power of two a little above the core counts we target; more shards buy nothing once
/// contention is rare.
const SHARDS: usize = 16;

#[derive(Debug, Default)]
struct UserEntry {
    state: PresenceState,
    /// Open viewing connections per conversation; an entry is removed when it reaches zero.
    viewing: HashMap<ConversationId, u32>,
}

impl UserEntry {
    /// An entry that records nothing can go, so the map does not grow with every user ever seen.
    /// A manual offline switch is kept: it must survive reconnects.
    fn is_empty(&self) -> bool {
        self.state.connections == 0 && !self.state.manual_offline && self.viewing.is_empty()
    }
}

type Shard = HashMap<UserId, UserEntry>;

/// The presence registry of one process.
pub struct LocalPresenceRegistry {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
}

impl Default for LocalPresenceRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalPresenceRegistry {
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, user: &UserId) -> MutexGuard<'_, Shard> {
        let index = (self.hasher.hash_one(user) as usize) % self.shards.len();
        // The updates below cannot panic halfway, so a poisoned shard still holds consistent
        // counts; keep serving presence rather than fail every later call.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies `change` to the user's entry and returns the state before and after.
    fn update(
        &self,
        user: &UserId,
        change: impl FnOnce(&mut UserEntry),
    ) -> (PresenceState, PresenceState) {
        let mut shard = self.shard(user);
        let entry = shard.entry(user.clone()).or_default();
        let before = entry.state;
        change(entry);
        let after = entry.state;
        if entry.is_empty() {
            shard.remove(user);
        }
        (before, after)
    }
}

#[async_trait]
impl PresenceRegistry for LocalPresenceRegistry {
    async fn connection_opened(
        &self,
        user: &UserId,
    ) -> Result<(PresenceState, PresenceState), PresenceError> {
        Ok(self.update(user, |entry| {
            entry.state.connections = entry.state.connections.saturating_add(1);
        }))
    }

    async fn connection_closed(
        &self,
        user: &UserId,
    ) -> Result<(PresenceState, PresenceState), PresenceError> {
        Ok(self.update(user, |entry| {
            entry.state.connections = entry.state.connections.saturating_sub(1);
            // With no connection left nothing can be viewing; this also cleans up after a
            // caller that missed a `set_viewing(false)` on the way out.
            if entry.state.connections == 0 {
                entry.viewing.clear();
            }
        }))
    }

    async fn set_manual_offline(
        &self,
        user: &UserId,
        offline: bool,
    ) -> Result<(PresenceState, PresenceState), PresenceError> {
        Ok(self.update(user, |entry| entry.state.manual_offline = offline))
    }

    async fn state(&self, user: &UserId) -> Result<PresenceState, PresenceError> {
        Ok(self
            .shard(user)
            .get(user)
            .map(|entry| entry.state)
            .unwrap_or_default())
    }

    async fn set_viewing(
        &self,
        user: &UserId,
        conversation: &ConversationId,
        viewing: bool,
    ) -> Result<(), PresenceError> {
        self.update(user, |entry| {
            if viewing {
                let count = entry.viewing.entry(conversation.clone()).or_insert(0);
                *count = count.saturating_add(1);
            } else if let Some(count) = entry.viewing.get_mut(conversation) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    entry.viewing.remove(conversation);
                }
            }
        });
        Ok(())
    }

    async fn is_viewing(
        &self,
        user: &UserId,
        conversation: &ConversationId,
    ) -> Result<bool, PresenceError> {
        Ok(self
            .shard(user)
            .get(user)
            .is_some_and(|entry| entry.viewing.contains_key(conversation)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn cid(s: &str) -> ConversationId {
        ConversationId::parse(s).unwrap()
    }

    fn st(connections: u32, manual_offline: bool) -> PresenceState {
        PresenceState {
            connections,
            manual_offline,
        }
    }

    #[tokio::test]
    async fn connections_count_up_and_down_with_before_and_after() {
        let reg = LocalPresenceRegistry::new();
        let u = uid("u1");
        assert_eq!(
            reg.connection_opened(&u).await.unwrap(),
            (st(0, false), st(1, false))
        );
        assert_eq!(
            reg.connection_opened(&u).await.unwrap(),
            (st(1, false), st(2, false))
        );
        assert_eq!(
            reg.connection_closed(&u).await.unwrap(),
            (st(2, false), st(1, false))
        );
        assert_eq!(reg.state(&u).await.unwrap(), st(1, false));
        assert_eq!(reg.state(&uid("other")).await.unwrap(), st(0, false));
    }

    #[tokio::test]
    async fn connections_never_go_below_zero() {
        let reg = LocalPresenceRegistry::new();
        let u = uid("u1");
        assert_eq!(
            reg.connection_closed(&u).await.unwrap(),
            (st(0, false), st(0, false))
        );
        reg.connection_opened(&u).await.unwrap();
        assert_eq!(reg.state(&u).await.unwrap(), st(1, false));
    }

    #[tokio::test]
    async fn manual_offline_survives_reconnects_until_cleared() {
        let reg = LocalPresenceRegistry::new();
        let u = uid("u1");
        reg.connection_opened(&u).await.unwrap();
        assert_eq!(
            reg.set_manual_offline(&u, true).await.unwrap(),
            (st(1, false), st(1, true))
        );
        reg.connection_closed(&u).await.unwrap();
        assert_eq!(
            reg.connection_opened(&u).await.unwrap(),
            (st(0, true), st(1, true))
        );
        assert_eq!(
            reg.set_manual_offline(&u, false).await.unwrap(),
            (st(1, true), st(1, false))
        );
    }

    #[tokio::test]
    async fn viewing_lasts_while_any_connection_views() {
        let reg = LocalPresenceRegistry::new();
        let (u, c) = (uid("u1"), cid("c1"));
        reg.connection_opened(&u).await.unwrap();
        reg.connection_opened(&u).await.unwrap();
        reg.set_viewing(&u, &c, true).await.unwrap();
        reg.set_viewing(&u, &c, true).await.unwrap();
        reg.set_viewing(&u, &c, false).await.unwrap();
        assert!(reg.is_viewing(&u, &c).await.unwrap());
        reg.set_viewing(&u, &c, false).await.unwrap();
        assert!(!reg.is_viewing(&u, &c).await.unwrap());
        assert!(!reg.is_viewing(&u, &cid("c2")).await.unwrap());
        assert!(!reg.is_viewing(&uid("u2"), &c).await.unwrap());
    }

    #[tokio::test]
    async fn viewing_never_goes_below_zero() {
        let reg = LocalPresenceRegistry::new();
        let (u, c) = (uid("u1"), cid("c1"));
        reg.connection_opened(&u).await.unwrap();
        reg.set_viewing(&u, &c, false).await.unwrap();
        reg.set_viewing(&u, &c, true).await.unwrap();
        assert!(reg.is_viewing(&u, &c).await.unwrap());
    }

    #[tokio::test]
    async fn the_last_disconnect_ends_viewing() {
        let reg = LocalPresenceRegistry::new();
        let (u, c) = (uid("u1"), cid("c1"));
        reg.connection_opened(&u).await.unwrap();
        reg.set_viewing(&u, &c, true).await.unwrap();
        reg.connection_closed(&u).await.unwrap();
        assert!(!reg.is_viewing(&u, &c).await.unwrap());
    }

    #[tokio::test]
    async fn forgotten_users_leave_no_entry_behind() {
        let reg = LocalPresenceRegistry::new();
        for n in 0..100 {
            let u = uid(&format!("u{n}"));
            reg.connection_opened(&u).await.unwrap();
            reg.connection_closed(&u).await.unwrap();
        }
        let entries: usize = reg.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert_eq!(entries, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_connects_are_all_counted() {
        let reg = std::sync::Arc::new(LocalPresenceRegistry::new());
        let u = uid("u1");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (reg, u) = (reg.clone(), u.clone());
                tokio::spawn(async move {
                    for _ in 0..500 {
                        reg.connection_opened(&u).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(reg.state(&u).await.unwrap().connections, 4_000);
    }
}
