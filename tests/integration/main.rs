//! The integration tests, in one binary (one link, one build): the contract suites every
//! adapter of a port passes (stores, event bus, presence, typing), the core built from
//! settings, what is particular to the database adapters, and the wire-compatibility suite
//! that runs the real socket.io-client against the whole server.
//!
//! Tests that need a real server (PostgreSQL, a MongoDB wire server) find it as
//! `support::real_servers` describes: a missing one skips the test with a note outside CI and
//! fails it under `CI=true`.

#[path = "../support/mod.rs"]
mod support;

mod app_flow;
mod bus_contract;
mod http_hardening;
// Reads MongoDB and PostgreSQL sources into every durable store.
#[cfg(all(feature = "sqlite", feature = "postgres", feature = "mongo"))]
mod import;
mod js_wire;
#[cfg(any(feature = "mongo", feature = "postgres"))]
mod legacy_fixtures_check;
#[cfg(any(feature = "mongo", feature = "postgres"))]
mod legacy_source;
mod listener_policy;
#[cfg(feature = "mongo")]
mod mongo;
mod native_ws;
#[cfg(feature = "postgres")]
mod postgres_outage;
mod presence_contract;
#[cfg(all(feature = "sqlite", target_os = "linux"))]
mod server_process;
mod socket_limits;
#[cfg(all(feature = "sqlite", target_os = "linux"))]
mod sqlite_disk_full;
#[cfg(all(feature = "sqlite", target_os = "linux"))]
mod sqlite_kill;
mod store_contract;
mod typing_contract;
