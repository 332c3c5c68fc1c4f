//! Outbound adapters that need nothing but the local machine: uploaded files on disk, the
//! system clock, and ObjectId-shaped id generation.

pub mod blob_store;
pub mod clock;
mod entropy;
mod hex;
pub mod object_id;

pub use blob_store::LocalDiskBlobStore;
pub use clock::SystemClock;
pub use object_id::ObjectIdGenerator;
