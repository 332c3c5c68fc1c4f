//! Adapters: inbound (transports, dialect codecs) and outbound (stores, bus, presence, …).

pub mod inbound;
pub mod outbound;
