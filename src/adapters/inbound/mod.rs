//! Inbound adapters: transports and dialect codecs (Socket.IO, WebSocket, REST).

pub mod rest;
pub mod wire_time;
