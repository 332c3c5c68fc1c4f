//! What is particular to the MongoDB adapter, beyond the store contract suite: the document
//! layout a team sees in its database, the ordered writes on a server without transactions
//! (several nodes racing, a crash between the two writes of an append), and an outage.
//!
//! Needs the MongoDB test servers of `tests/support/mongo.rs` (and `secantusd-py` for the
//! outage); without them the tests skip outside CI and fail under CI.

mod layout;
mod outage;
mod writes;
