//! Storage for uploaded files (message attachments), served back at a URL.

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob is larger than the {max} byte limit")]
    TooLarge { max: u64 },
    #[error("blob storage failed: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Opaque key to fetch it again.
    pub key: String,
    /// Where clients fetch it (relative to the server, or absolute).
    pub url: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under a new key. `name` is the client's file name, kept only as a hint.
    ///
    /// # Errors
    /// MUST return `TooLarge` above the configured limit, without storing anything.
    async fn put(
        &self,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<StoredBlob, BlobError>;

    /// `Ok(None)` for an unknown key.
    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError>;
}
