//! Outbound adapters, one folder per technology; each optional one behind its Cargo feature.

// What crosses between nodes: the Redis adapters' form of domain events.
#[cfg(feature = "redis")]
pub mod event_codec;
pub mod inprocess;
pub mod jwt;
pub mod local;
pub mod memory;
#[cfg(feature = "mongo")]
pub mod mongo;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mongo"))]
mod stored;
