//! The hub's indexes of one listener: connections by id, by user and by joined
//! conversation. Plain maps behind the listener's lock; every operation is a few lookups.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{ConnId, ConnectionSink};
use crate::adapters::inbound::protocol::{Audience, Delivery};
use crate::domain::{ConversationId, UserId};

#[derive(Default)]
pub(super) struct Registry {
    conns: HashMap<ConnId, Conn>,
    by_user: HashMap<UserId, Vec<ConnId>>,
    by_room: HashMap<ConversationId, Vec<ConnId>>,
}

struct Conn {
    user: UserId,
    sink: Arc<dyn ConnectionSink>,
    /// A set: a connection may join every conversation its user is in, and a list made
    /// each join cost as much as all the joins before it.
    rooms: HashSet<ConversationId>,
}

impl Registry {
    pub(super) fn len(&self) -> usize {
        self.conns.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    pub(super) fn insert(&mut self, id: ConnId, user: UserId, sink: Arc<dyn ConnectionSink>) {
        self.by_user.entry(user.clone()).or_default().push(id);
        self.conns.insert(
            id,
            Conn {
                user,
                sink,
                rooms: HashSet::new(),
            },
        );
    }

    pub(super) fn join(&mut self, id: ConnId, room: &ConversationId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.rooms.insert(room.clone()) {
            self.by_room.entry(room.clone()).or_default().push(id);
        }
    }

    pub(super) fn leave(&mut self, id: ConnId, room: &ConversationId) {
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.rooms.remove(room);
        }
        remove_from(&mut self.by_room, room, id);
    }

    pub(super) fn remove(&mut self, id: ConnId) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        for room in &conn.rooms {
            remove_from(&mut self.by_room, room, id);
        }
        remove_from(&mut self.by_user, &conn.user, id);
    }

    /// The connections a delivery reaches, with their sinks.
    pub(super) fn resolve(
        &self,
        delivery: &Delivery,
        origin: Option<ConnId>,
    ) -> Vec<(ConnId, Arc<dyn ConnectionSink>)> {
        let ids: Vec<ConnId> = match &delivery.audience {
            Audience::Room(room) => self.by_room.get(room).cloned().unwrap_or_default(),
            Audience::Users(users) => users
                .iter()
                .filter_map(|u| self.by_user.get(u))
                .flatten()
                .copied()
                .collect(),
        };
        ids.into_iter()
            .filter(|id| delivery.to_origin || Some(*id) != origin)
            .filter_map(|id| {
                let conn = self.conns.get(&id)?;
                let excluded = delivery.except_user.as_ref() == Some(&conn.user);
                (!excluded).then(|| (id, conn.sink.clone()))
            })
            .collect()
    }
}

fn remove_from<K: std::hash::Hash + Eq>(index: &mut HashMap<K, Vec<ConnId>>, key: &K, id: ConnId) {
    if let Some(ids) = index.get_mut(key) {
        ids.retain(|c| *c != id);
        if ids.is_empty() {
            index.remove(key);
        }
    }
}
