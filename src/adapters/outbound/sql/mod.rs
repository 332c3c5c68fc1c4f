//! What the sqlx stores (`sqlite`, `postgres`) share: the row structs and their mapping to the
//! domain, the JSON encodings of open-ended values, and the mapping of driver errors to
//! `StoreError`; what MongoDB encodes alike too (seqs, kind and state names) is in `stored`.
//! Schemas, SQL and transactions stay in each store, because the databases differ there
//! (types, locking, what one statement can do).

pub mod json;
pub mod rows;
