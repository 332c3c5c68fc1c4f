//! Adapters: inbound (transports, dialects, the session that runs connections) and outbound
//! (stores, bus, presence, typing, blobs, clock, ids, tokens), and the JSON form of the
//! domain's open-ended data that both sides share.

pub mod inbound;
pub mod json;
pub mod outbound;
#[cfg(test)]
pub(crate) mod test_core;
