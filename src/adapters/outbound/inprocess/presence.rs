//! `LocalPresenceRegistry`: the open connections of this process's users, what each is
//! viewing, and the manual offline switch, in a fixed set of mutex-guarded shards so that
//! connects and disconnects of different users rarely contend. Locks are taken inside
//! synchronous helpers only, so no guard can live across an `.await`.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::domain::{ConversationId, PresenceState, PresenceTransition, UserId};
use crate::ports::{ConnectionRef, NodeId, PresenceError, PresenceRegistry};

/// A power of two a little above the core counts we target; more shards buy nothing once
/// contention is rare.
const SHARDS: usize = 16;

#[derive(Debug, Default)]
struct UserEntry {
    /// Each open connection with the conversations it is viewing.
    connections: HashMap<ConnectionRef, Vec<ConversationId>>,
    /// How many of the connections view each conversation; no zero entries.
    viewing: HashMap<ConversationId, u32>,
    manual_offline: bool,
}

impl UserEntry {
    fn state(&self) -> PresenceState {
        PresenceState {
            connections: u32::try_from(self.connections.len()).unwrap_or(u32::MAX),
            manual_offline: self.manual_offline,
        }
    }

    /// An entry that records nothing can go, so the map does not grow with every user ever
    /// seen. A manual offline switch is kept: it must survive reconnects.
    fn is_empty(&self) -> bool {
        self.connections.is_empty() && !self.manual_offline
    }

    fn close(&mut self, conn: &ConnectionRef) -> bool {
        let Some(viewed) = self.connections.remove(conn) else {
            return false;
        };
        for conversation in viewed {
            self.stop_viewing(&conversation);
        }
        true
    }

    fn stop_viewing(&mut self, conversation: &ConversationId) {
        if let Some(count) = self.viewing.get_mut(conversation) {
            *count -= 1;
            if *count == 0 {
                self.viewing.remove(conversation);
            }
        }
    }
}

/// Lock-sharded maps with one hasher.
struct Sharded<K, V> {
    shards: Vec<Mutex<HashMap<K, V>>>,
    hasher: RandomState,
}

impl<K: Hash + Eq, V> Sharded<K, V> {
    fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &K) -> MutexGuard<'_, HashMap<K, V>> {
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        lock(&self.shards[index])
    }
}

// The updates below cannot panic halfway, so a poisoned shard still holds consistent
// entries; keep serving presence rather than fail every later call.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The presence registry of one process.
pub struct LocalPresenceRegistry {
    users: Sharded<UserId, UserEntry>,
    /// Whose each open connection is, to close it by its reference alone.
    owners: Sharded<ConnectionRef, UserId>,
}

impl Default for LocalPresenceRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalPresenceRegistry {
    pub fn new() -> Self {
        Self {
            users: Sharded::new(),
            owners: Sharded::new(),
        }
    }

    /// Applies `change` to the user's entry and returns the state before and after.
    fn update(&self, user: &UserId, change: impl FnOnce(&mut UserEntry)) -> PresenceTransition {
        let mut shard = self.users.shard(user);
        let entry = shard.entry(user.clone()).or_default();
        let before = entry.state();
        change(entry);
        let after = entry.state();
        if entry.is_empty() {
            shard.remove(user);
        }
        PresenceTransition {
            user_id: user.clone(),
            before,
            after,
        }
    }

    fn owner(&self, conn: &ConnectionRef) -> Option<UserId> {
        self.owners.shard(conn).get(conn).cloned()
    }

    /// How many users have an entry: for the tests that check nothing is left behind.
    #[cfg(test)]
    fn entries(&self) -> usize {
        self.users
            .shards
            .iter()
            .map(|s| lock(s).len())
            .sum::<usize>()
            + self
                .owners
                .shards
                .iter()
                .map(|s| lock(s).len())
                .sum::<usize>()
    }
}

#[async_trait]
impl PresenceRegistry for LocalPresenceRegistry {
    async fn connection_opened(
        &self,
        conn: &ConnectionRef,
        user: &UserId,
    ) -> Result<PresenceTransition, PresenceError> {
        let previous = self.owners.shard(conn).insert(conn.clone(), user.clone());
        if let Some(previous) = previous.filter(|p| p != user) {
            // The number was reused for another user without a close: it is theirs no more.
            self.update(&previous, |entry| {
                entry.close(conn);
            });
        }
        Ok(self.update(user, |entry| {
            entry.connections.entry(conn.clone()).or_default();
        }))
    }

    async fn connection_closed(
        &self,
        conn: &ConnectionRef,
    ) -> Result<Option<PresenceTransition>, PresenceError> {
        let Some(user) = self.owners.shard(conn).remove(conn) else {
            return Ok(None);
        };
        Ok(Some(self.update(&user, |entry| {
            entry.close(conn);
        })))
    }

    async fn node_gone(&self, node: &NodeId) -> Result<Vec<PresenceTransition>, PresenceError> {
        let mut gone: HashMap<UserId, Vec<ConnectionRef>> = HashMap::new();
        for shard in &self.owners.shards {
            lock(shard).retain(|conn, user| {
                let on_node = &conn.node == node;
                if on_node {
                    gone.entry(user.clone()).or_default().push(conn.clone());
                }
                !on_node
            });
        }
        Ok(gone
            .into_iter()
            .map(|(user, conns)| {
                self.update(&user, |entry| {
                    for conn in &conns {
                        entry.close(conn);
                    }
                })
            })
            .collect())
    }

    async fn set_manual_offline(
        &self,
        user: &UserId,
        offline: bool,
    ) -> Result<PresenceTransition, PresenceError> {
        Ok(self.update(user, |entry| entry.manual_offline = offline))
    }

    async fn state(&self, user: &UserId) -> Result<PresenceState, PresenceError> {
        Ok(self
            .users
            .shard(user)
            .get(user)
            .map(UserEntry::state)
            .unwrap_or_default())
    }

    async fn set_viewing(
        &self,
        conn: &ConnectionRef,
        conversation: &ConversationId,
        viewing: bool,
    ) -> Result<(), PresenceError> {
        let Some(user) = self.owner(conn) else {
            return Ok(());
        };
        self.update(&user, |entry| {
            let Some(viewed) = entry.connections.get_mut(conn) else {
                return;
            };
            let position = viewed.iter().position(|c| c == conversation);
            match (viewing, position) {
                (true, None) => {
                    viewed.push(conversation.clone());
                    *entry.viewing.entry(conversation.clone()).or_insert(0) += 1;
                }
                (false, Some(index)) => {
                    viewed.swap_remove(index);
                    entry.stop_viewing(conversation);
                }
                _ => {}
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
            .users
            .shard(user)
            .get(user)
            .is_some_and(|entry| entry.viewing.contains_key(conversation)))
    }
}

// The behaviour every presence registry owes is checked by the contract suite
// (tests/integration/presence_contract.rs); these tests are about this adapter's own memory.
#[cfg(test)]
mod tests {
    use super::*;

    fn conn(n: u64) -> ConnectionRef {
        ConnectionRef::new(NodeId::new("node"), n)
    }

    #[tokio::test]
    async fn users_and_connections_that_are_gone_leave_no_entry_behind() {
        let reg = LocalPresenceRegistry::new();
        let c = ConversationId::parse("c1").unwrap();
        for n in 0..100 {
            let u = UserId::parse(format!("u{n}")).unwrap();
            reg.connection_opened(&conn(n), &u).await.unwrap();
            reg.set_viewing(&conn(n), &c, true).await.unwrap();
            reg.connection_closed(&conn(n)).await.unwrap();
        }
        for n in 100..110 {
            let u = UserId::parse(format!("u{n}")).unwrap();
            reg.connection_opened(&conn(n), &u).await.unwrap();
        }
        reg.node_gone(&NodeId::new("node")).await.unwrap();
        assert_eq!(reg.entries(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_connects_are_all_counted() {
        let reg = std::sync::Arc::new(LocalPresenceRegistry::new());
        let u = UserId::parse("u1").unwrap();
        let tasks: Vec<_> = (0..8u64)
            .map(|task| {
                let (reg, u) = (reg.clone(), u.clone());
                tokio::spawn(async move {
                    for n in 0..500 {
                        reg.connection_opened(&conn(task * 1_000 + n), &u)
                            .await
                            .unwrap();
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
