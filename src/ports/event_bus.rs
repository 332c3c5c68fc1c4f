//! The event bus: use cases publish domain events after persisting; the connection hub
//! subscribes. In-process for one node; shared (Redis) for several.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::DomainEvent;

/// Which connection caused an event, so that the hub can skip echoing it back to that
/// connection. Opaque to the core.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin(pub String);

#[derive(Debug, Clone, PartialEq)]
pub struct EventEnvelope {
    pub event: DomainEvent,
    pub origin: Option<Origin>,
}

impl EventEnvelope {
    pub fn new(event: DomainEvent, origin: Option<Origin>) -> Self {
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
    /// A subscriber that falls too far behind skips the oldest events (and the adapter
    /// logs how many) rather than holding up everyone else.
    async fn next(&mut self) -> Option<Arc<EventEnvelope>>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait EventBus: Send + Sync {
    /// # Errors
    /// MUST return an error when the event could not be handed to the bus; it is then lost
    /// for live delivery (the data it announces is already stored).
    async fn publish(&self, envelope: EventEnvelope) -> Result<(), BusError>;

    fn subscribe(&self) -> Box<dyn EventSubscription>;
}
