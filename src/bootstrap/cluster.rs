//! What nodes share when there are several: the event bus and the presence and typing
//! registries. One node runs them in process; the Redis adapters (feature `redis`) are the
//! next arm here, picked by configuration like the store.

use std::sync::Arc;

use super::config::Settings;
use crate::adapters::outbound::inprocess::{
    InProcessEventBus, LocalPresenceRegistry, LocalTypingRegistry,
};
use crate::ports::{EventBus, PresenceRegistry, TypingRegistry};

pub(super) struct Cluster {
    pub bus: Arc<dyn EventBus>,
    pub presence: Arc<dyn PresenceRegistry>,
    pub typing: Arc<dyn TypingRegistry>,
}

pub(super) fn open(settings: &Settings) -> Cluster {
    Cluster {
        bus: Arc::new(InProcessEventBus::new(settings.bus.capacity)),
        presence: Arc::new(LocalPresenceRegistry::new()),
        typing: Arc::new(LocalTypingRegistry::new(settings.chat.typing_expiry())),
    }
}
