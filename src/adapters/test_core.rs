//! The core on in-memory adapters, for the inbound adapters' tests: memory stores, the
//! in-process bus and registries, the system clock and ObjectId ids. Built here rather than
//! by the composition root, so that tests of adapters need no configuration.

use std::sync::Arc;
use std::time::Duration;

use super::outbound::inprocess::{InProcessEventBus, LocalPresenceRegistry, LocalTypingRegistry};
use super::outbound::local::{LocalDiskBlobStore, ObjectIdGenerator, SystemClock};
use super::outbound::memory::memory_stores;
use crate::app::{Ports, Rules, UseCases};
use crate::ports::{Clock, EventBus, PresenceRegistry};

pub struct TestCore {
    pub use_cases: UseCases,
    pub bus: Arc<dyn EventBus>,
    pub presence: Arc<dyn PresenceRegistry>,
    pub clock: Arc<dyn Clock>,
    /// Where uploads go; removed with the core.
    uploads: tempfile::TempDir,
}

/// The largest upload of the test core.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

impl TestCore {
    pub async fn new() -> Self {
        let uploads = tempfile::tempdir().expect("a temporary upload directory");
        let blobs = LocalDiskBlobStore::open(uploads.path(), MAX_FILE_BYTES, "/uploads")
            .await
            .expect("the upload directory");
        let bus: Arc<dyn EventBus> = Arc::new(InProcessEventBus::new(1024));
        let presence: Arc<dyn PresenceRegistry> = Arc::new(LocalPresenceRegistry::new());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ports = Ports {
            stores: memory_stores(),
            bus: bus.clone(),
            presence: presence.clone(),
            typing: Arc::new(LocalTypingRegistry::new(Duration::from_secs(5))),
            blobs: Arc::new(blobs),
            clock: clock.clone(),
            ids: Arc::new(ObjectIdGenerator::new()),
        };
        Self {
            use_cases: UseCases::new(ports, Rules::default()),
            bus,
            presence,
            clock,
            uploads,
        }
    }

    /// The directory the blob store writes uploads to (the fuzz targets check that no
    /// client file name reaches outside it).
    pub fn uploads_dir(&self) -> &std::path::Path {
        self.uploads.path()
    }
}
