//! The event bus: use cases publish domain events after persisting; the connection hub of
//! every node subscribes. In-process for one node; shared (Redis) for several. Every adapter
//! passes the same contract suite (`tests/integration/bus_contract.rs`), which checks the MUST
//! sentences below.

use std::sync::Arc;

use async_trait::async_trait;

use super::connection::ConnectionRef;
use crate::domain::DomainEvent;

/// A domain event and the connection whose request caused it (`None`: a REST call, a timer),
/// so that a node can leave that one connection out where its dialect answers it otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct EventEnvelope {
    pub event: DomainEvent,
    pub origin: Option<ConnectionRef>,
}

impl EventEnvelope {
    pub fn new(event: DomainEvent, origin: Option<ConnectionRef>) -> Self {
        Self { event, origin }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
}

/// One subscriber's stream of events.
#[async_trait]
pub trait EventSubscription: Send {
    /// The next event, shared with the other subscribers; `None` once the bus is gone.
    ///
    /// A subscription MUST yield every event published after it was created, on any node,
    /// each once, with its origin, and the events of one publisher in the order they were
    /// published. Publishers MAY wait, for a bounded time, for a subscriber that fell a
    /// whole queue behind (backpressure: better slower acks than events lost); a subscriber
    /// that does not catch up within that time MUST skip the oldest events (and the adapter
    /// logs how many) rather than hold up the publishers or the other subscribers longer.
    async fn next(&mut self) -> Option<Arc<EventEnvelope>>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Hands the event to every subscription, on every node.
    ///
    /// Publishing while nobody subscribes MUST succeed: there is nobody to tell.
    ///
    /// # Errors
    /// When the event could not be handed to the bus; it is then lost for live delivery
    /// (the data it announces is already stored).
    async fn publish(&self, envelope: EventEnvelope) -> Result<(), BusError>;

    /// A new subscription. It MUST be ready when this returns: nothing published afterwards
    /// is missed, so a node subscribes before it serves.
    fn subscribe(&self) -> Box<dyn EventSubscription>;
}
