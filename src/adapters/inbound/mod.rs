//! Inbound adapters: how clients reach the core. Transports (Socket.IO, REST) carry frames;
//! dialect codecs give them meaning; sessions run them; the hub delivers what happened.

pub mod auth;
pub mod dialect;
pub mod hub;
pub mod rest;
pub mod session;
pub mod socketio;
pub mod wire_time;
