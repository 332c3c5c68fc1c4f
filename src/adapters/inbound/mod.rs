//! Inbound adapters: how clients reach the core. Transports carry frames; dialects give
//! them meaning (a table of events, the rendering of domain events, REST routes); the
//! session runs one connection (identity, limits, order, acks and errors); the hub delivers
//! what happened to every listener's connections.

pub mod auth;
pub mod dialects;
pub mod hub;
/// The terminal progress bar of `switchboard import`.
pub mod progress_bar;
pub mod protocol;
pub mod session;
pub mod transports;
pub mod wire_time;
