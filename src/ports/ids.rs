//! New ids for things the server creates (messages, notifications, calls, conversations).

#[cfg_attr(test, mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new id, unique across nodes. Implementations should make ids that sort by creation
    /// time, and that are valid MongoDB ObjectIds, so that Mongo-born clients see familiar ids.
    fn next_id(&self) -> String;
}
