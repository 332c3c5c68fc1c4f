//! Ports: what the core needs from the world, as small traits named for their role.
//! They depend only on the domain; adapters implement them, use cases call them.

pub mod auth;
pub mod blob;
pub mod clock;
pub mod connection;
pub mod event_bus;
pub mod ids;
pub mod import;
pub mod presence;
pub mod store;
pub mod typing;

pub use auth::{TokenError, TokenVerifier};
pub use blob::{Blob, BlobError, BlobStore, StoredBlob};
pub use clock::Clock;
pub use connection::{ConnectionRef, NodeId};
pub use event_bus::{BusError, EventBus, EventEnvelope, EventSubscription};
pub use ids::IdGenerator;
pub use import::{
    Batches, ImportProgress, ImportSink, LegacyConversation, LegacyCounts, LegacyMessage,
    LegacyRead, LegacySource, Quiet, Read, SourceError,
};
pub use presence::{PresenceError, PresenceRegistry};
pub use store::{
    Appended, CallSessionStore, ConversationStore, MessageStore, NotificationStore, Page,
    StoreError, Stores, UserDirectory,
};
pub use typing::{TypingError, TypingRegistry};
