//! The connection hub: the one place that knows which connections exist, who they belong
//! to and which conversations they joined. It subscribes to domain events and delivers each
//! to the connections that must see it, rendered by each listener's dialect: once per
//! listener, the encoded bytes shared by every receiving connection. Sessions register their
//! connections with the [`ConnectionSink`] their transport provides, so the hub does not know
//! Socket.IO from WebSocket.

#[cfg(test)]
pub(crate) mod recorder;
mod registry;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::value::RawValue;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::adapters::inbound::protocol::{Dialect, Position};
use crate::domain::{ConversationId, DomainEvent, UserId};
use crate::ports::{ConnectionRef, EventEnvelope, EventSubscription, NodeId};

use registry::Registry;

/// A connection's number, unique within this process.
pub type ConnId = u64;

/// Where the hub sends a connection's events. Implementations queue and return at once:
/// a slow client must not hold up delivery to the others.
#[async_trait::async_trait]
pub trait ConnectionSink: Send + Sync {
    /// An event of the connection's own session (an answer, a greeting, a replay).
    fn send(&self, event: &str, payload: &RawValue);

    /// An event the hub delivers, with the message it carries if any (see `Position`).
    fn deliver(&self, event: &str, payload: &RawValue, _position: Option<&Position>) {
        self.send(event, payload);
    }

    /// The connection's session has sent it this conversation's messages up to this seq (a
    /// resume): live copies at or below it are to be skipped.
    fn sent_up_to(&self, _position: &Position) {}

    /// Waits until everything sent so far is in the transport's hands (queued for the
    /// client); `false` when the connection was closed first. For a sender that must know
    /// what was queued (pending notifications are marked delivered only then).
    async fn settled(&self) -> bool {
        true
    }
}

/// Every listener's connections, and the event loop that feeds them.
pub struct Hub {
    /// Tags origins made here, so an event that comes back (from a shared bus) is matched to
    /// the connection it came from only on this node.
    node: NodeId,
    next_conn: AtomicU64,
    listeners: RwLock<Vec<Arc<ListenerHub>>>,
}

/// The connections of one listener, all speaking its dialect.
pub struct ListenerHub {
    dialect: Arc<dyn Dialect>,
    registry: RwLock<Registry>,
}

impl Hub {
    pub fn new(node: NodeId) -> Arc<Self> {
        Arc::new(Self {
            node,
            next_conn: AtomicU64::new(1),
            listeners: RwLock::new(Vec::new()),
        })
    }

    /// Adds a listener whose connections speak `dialect`.
    pub fn add_listener(&self, dialect: Arc<dyn Dialect>) -> Arc<ListenerHub> {
        let listener = Arc::new(ListenerHub {
            dialect,
            registry: RwLock::new(Registry::default()),
        });
        write(&self.listeners).push(listener.clone());
        listener
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// The origin that marks changes made by this connection.
    pub fn origin(&self, conn: ConnId) -> ConnectionRef {
        ConnectionRef::new(self.node.clone(), conn)
    }

    fn local_conn(&self, origin: Option<&ConnectionRef>) -> Option<ConnId> {
        origin
            .filter(|origin| origin.node == self.node)
            .map(|origin| origin.conn)
    }

    /// Delivers one event to every listener's connections that must see it.
    pub fn deliver(&self, envelope: &EventEnvelope) {
        let origin = self.local_conn(envelope.origin.as_ref());
        let listeners = read(&self.listeners).clone();
        for listener in listeners {
            listener.deliver(&envelope.event, origin);
        }
    }

    /// Feeds bus events to `deliver` until `stop` turns true or the bus closes. Subscribe
    /// before serving so that nothing published in between is missed.
    pub fn spawn(
        self: Arc<Self>,
        mut events: Box<dyn EventSubscription>,
        mut stop: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    next = events.next() => match next {
                        Some(envelope) => self.deliver(&envelope),
                        None => break,
                    },
                    _ = stop.wait_for(|stop| *stop) => break,
                }
            }
        })
    }
}

impl ListenerHub {
    pub fn dialect(&self) -> &Arc<dyn Dialect> {
        &self.dialect
    }

    pub fn register(&self, conn: ConnId, user: UserId, sink: Arc<dyn ConnectionSink>) {
        write(&self.registry).insert(conn, user, sink);
    }

    pub fn join(&self, conn: ConnId, conversation: &ConversationId) {
        write(&self.registry).join(conn, conversation);
    }

    pub fn leave(&self, conn: ConnId, conversation: &ConversationId) {
        write(&self.registry).leave(conn, conversation);
    }

    pub fn unregister(&self, conn: ConnId) {
        write(&self.registry).remove(conn);
    }

    pub fn connection_count(&self) -> usize {
        read(&self.registry).len()
    }

    fn deliver(&self, event: &DomainEvent, origin: Option<ConnId>) {
        if read(&self.registry).is_empty() {
            return;
        }
        let deliveries = self.dialect.render(event);
        // A set: a 1,000-member room is 1,000 lookups, not a scan of the ones already sent.
        let mut sent: HashSet<(&'static str, ConnId)> = HashSet::new();
        for delivery in deliveries {
            let payload = match serde_json::value::to_raw_value(&delivery.payload) {
                Ok(raw) => raw,
                Err(e) => {
                    tracing::error!(error = %e, event = delivery.event, "event payload not encodable");
                    continue;
                }
            };
            let targets = read(&self.registry).resolve(&delivery, origin);
            for (conn, sink) in targets {
                // A connection in several rooms that receive the same event gets it once.
                if !sent.insert((delivery.event, conn)) {
                    continue;
                }
                sink.deliver(delivery.event, &payload, delivery.position.as_ref());
            }
        }
    }
}

// A poisoned lock only means another thread panicked mid-update of plain maps; the maps are
// still usable, and refusing all delivery from then on would be worse.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::recorder::RecordingSink;
    use super::*;
    use crate::adapters::inbound::protocol::{Audience, Delivery};
    use crate::adapters::inbound::session::EventTable;

    /// Renders every event as fixed deliveries, to test the hub's routing alone.
    struct Fixed(Vec<Delivery>, EventTable);

    impl Dialect for Fixed {
        fn name(&self) -> &'static str {
            "fixed"
        }
        fn events(&self) -> &EventTable {
            &self.1
        }
        fn render(&self, _: &DomainEvent) -> Vec<Delivery> {
            self.0.clone()
        }
    }

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn room(s: &str) -> ConversationId {
        ConversationId::parse(s).unwrap()
    }

    fn any_event() -> EventEnvelope {
        EventEnvelope::new(
            DomainEvent::NotificationsRead {
                user_id: uid("a"),
                notification_id: None,
            },
            None,
        )
    }

    struct Setup {
        hub: Arc<Hub>,
        listener: Arc<ListenerHub>,
        sinks: Vec<Arc<RecordingSink>>,
    }

    /// Connections: 1 = a (in r1, r2), 2 = a (in r1), 3 = b (in r1), 4 = c (no room).
    fn setup(deliveries: Vec<Delivery>) -> Setup {
        let hub = Hub::new(NodeId::new("node1"));
        let listener = hub.add_listener(Arc::new(Fixed(deliveries, EventTable::new())));
        let mut sinks = Vec::new();
        for (user, rooms) in [
            ("a", &["r1", "r2"][..]),
            ("a", &["r1"]),
            ("b", &["r1"]),
            ("c", &[]),
        ] {
            let sink = Arc::new(RecordingSink::default());
            let conn = hub.next_conn_id();
            listener.register(conn, uid(user), sink.clone());
            for r in rooms {
                listener.join(conn, &room(r));
            }
            sinks.push(sink);
        }
        Setup {
            hub,
            listener,
            sinks,
        }
    }

    fn counts(setup: &Setup) -> Vec<usize> {
        setup.sinks.iter().map(|s| s.events().len()).collect()
    }

    #[test]
    fn room_deliveries_reach_joined_connections_except_the_origin() {
        let s = setup(vec![Delivery::new(
            Audience::Room(room("r1")),
            "m",
            json!({}),
        )]);
        let origin = s.hub.origin(1);
        s.hub
            .deliver(&EventEnvelope::new(any_event().event, Some(origin)));
        assert_eq!(counts(&s), [0, 1, 1, 0]);
    }

    #[test]
    fn including_origin_reaches_the_sender_too() {
        let s = setup(vec![
            Delivery::new(Audience::Room(room("r1")), "m", json!({})).including_origin(),
        ]);
        s.hub.deliver(&EventEnvelope::new(
            any_event().event,
            Some(s.hub.origin(1)),
        ));
        assert_eq!(counts(&s), [1, 1, 1, 0]);
    }

    #[test]
    fn an_origin_from_another_node_is_not_a_local_connection() {
        let s = setup(vec![Delivery::new(
            Audience::Room(room("r1")),
            "m",
            json!({}),
        )]);
        let foreign = ConnectionRef::new(NodeId::new("node2"), 1);
        s.hub
            .deliver(&EventEnvelope::new(any_event().event, Some(foreign)));
        assert_eq!(counts(&s), [1, 1, 1, 0]);
    }

    #[test]
    fn user_deliveries_reach_every_connection_of_the_user() {
        let s = setup(vec![Delivery::new(
            Audience::Users(vec![uid("a"), uid("c")]),
            "n",
            json!({}),
        )]);
        s.hub.deliver(&any_event());
        assert_eq!(counts(&s), [1, 1, 0, 1]);
    }

    #[test]
    fn the_same_event_reaches_a_connection_once_across_rooms() {
        let s = setup(vec![
            Delivery::new(Audience::Room(room("r1")), "m", json!({})),
            Delivery::new(Audience::Room(room("r2")), "m", json!({})),
            Delivery::new(Audience::Users(vec![uid("a")]), "m", json!({})),
            Delivery::new(Audience::Users(vec![uid("a")]), "other", json!({})),
        ]);
        s.hub.deliver(&any_event());
        assert_eq!(s.sinks[0].events(), ["m", "other"]);
        assert_eq!(s.sinks[1].events(), ["m", "other"]);
    }

    #[test]
    fn an_excepted_user_gets_nothing() {
        let s = setup(vec![
            Delivery::new(Audience::Room(room("r1")), "t", json!({})).except(&uid("a")),
        ]);
        s.hub.deliver(&any_event());
        assert_eq!(counts(&s), [0, 0, 1, 0]);
    }

    #[test]
    fn leaving_and_unregistering_stop_delivery() {
        let s = setup(vec![Delivery::new(
            Audience::Room(room("r1")),
            "m",
            json!({}),
        )]);
        s.listener.leave(2, &room("r1"));
        s.listener.unregister(3);
        s.hub.deliver(&any_event());
        assert_eq!(counts(&s), [1, 0, 0, 0]);
        assert_eq!(s.listener.connection_count(), 3);
    }

    #[test]
    fn payloads_arrive_as_rendered() {
        let s = setup(vec![Delivery::new(
            Audience::Users(vec![uid("c")]),
            "n",
            json!({ "text": "héllo", "n": 1 }),
        )]);
        s.hub.deliver(&any_event());
        let got = s.sinks[3].received();
        assert_eq!(got, [("n".to_owned(), json!({ "text": "héllo", "n": 1 }))]);
    }
}
