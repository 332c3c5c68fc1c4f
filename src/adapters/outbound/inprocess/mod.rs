//! In-process outbound adapters for a single node: the event bus on a tokio broadcast
//! channel, and the presence and typing registries in local maps. A cluster swaps the three
//! for shared (Redis) twins; nothing else changes.

pub mod event_bus;
pub mod presence;
pub mod typing;

pub use event_bus::InProcessEventBus;
pub use presence::LocalPresenceRegistry;
pub use typing::LocalTypingRegistry;
