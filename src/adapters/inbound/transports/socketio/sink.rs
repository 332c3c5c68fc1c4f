//! The hub's and the session's way into a Socket.IO connection: its outbox.

use std::sync::Arc;

use serde_json::value::RawValue;

use super::outbox::Outbox;
use crate::adapters::inbound::hub::ConnectionSink;

pub(super) struct SocketSink(Arc<Outbox>);

impl SocketSink {
    pub fn new(outbox: Arc<Outbox>) -> Self {
        Self(outbox)
    }
}

#[async_trait::async_trait]
impl ConnectionSink for SocketSink {
    fn send(&self, event: &str, payload: &RawValue) {
        self.0.send(event, payload);
    }

    async fn settled(&self) -> bool {
        self.0.settled().await
    }
}
