//! What is particular to the MongoDB adapter, beyond the store contract suite: the document
//! layout a team sees in its database, the ordered writes on a server without transactions
//! (several nodes racing, a crash between the two writes of an append), and an outage.
//!
//! Needs the MongoDB test servers of `tests/support/mongo.rs` (and `secantusd-py` for the
//! outage); without them the tests skip outside CI and fail under CI.
#![cfg(feature = "mongo")]

#[path = "mongo/layout.rs"]
mod layout;
#[path = "support/mongo.rs"]
mod mongo_support;
#[path = "mongo/outage.rs"]
mod outage;
#[path = "support/real_servers.rs"]
mod real_servers;
#[path = "mongo/writes.rs"]
mod writes;
