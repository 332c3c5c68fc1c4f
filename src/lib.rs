//! switchboard: one real-time chat and notification backend for the clients of several
//! existing Socket.IO servers. See ARCHITECTURE.md for the map.

pub mod adapters;
pub mod app;
pub mod bootstrap;
pub mod domain;
pub mod ports;
