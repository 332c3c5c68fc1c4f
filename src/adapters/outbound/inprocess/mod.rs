//! In-process outbound adapters for a single node: the event bus on a tokio broadcast
//! channel and the presence registry in sharded maps. A cluster swaps both for their Redis
//! twins; nothing else changes.

pub mod event_bus;
pub mod presence;

pub use event_bus::InProcessEventBus;
pub use presence::LocalPresenceRegistry;
