//! Outbound adapters, one folder per technology; each optional one behind its Cargo feature.

// What crosses between nodes: the Redis adapters' form of domain events.
#[cfg(feature = "redis")]
pub mod event_codec;
pub mod inprocess;
pub mod jwt;
// Declared here rather than in a `legacy/mod.rs`, so that its technologies are gated at
// their `mod` lines in this file like every other adapter's (ARCHITECTURE.md's invariant).
#[cfg(any(feature = "mongo", feature = "postgres"))]
pub mod legacy {
    //! The `LegacySource` adapters: a Node server's existing database read as the import
    //! port's records. `family.rs` names the families and the database each was born on,
    //! `mapping.rs` where their records keep each field (defaults per family, docs/
    //! LEGACY_SHAPES.md, plus an operator's mapping file), `record.rs` maps one record (as
    //! JSON) through it, and the two sources stream their database in the order the import
    //! needs: `mongo_source.rs` and `postgres_source.rs`. The one place outside the
    //! dialects that names the families (ARCHITECTURE.md): their databases' layouts.

    pub mod family;
    pub mod mapping;
    #[cfg(feature = "mongo")]
    pub mod mongo_source;
    #[cfg(feature = "postgres")]
    pub mod postgres_source;
    pub mod record;

    pub use family::{Family, LegacyDatabase};
    pub use mapping::{Mapping, MappingError};
    #[cfg(feature = "mongo")]
    pub use mongo_source::MongoSource;
    #[cfg(feature = "postgres")]
    pub use postgres_source::PgSource;
}
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
