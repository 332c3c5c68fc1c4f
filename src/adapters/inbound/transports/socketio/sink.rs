//! The hub's way into a Socket.IO connection: queue an already-encoded event.

use serde_json::value::RawValue;
use socketioxide::extract::SocketRef;

use crate::adapters::inbound::hub::ConnectionSink;

pub(super) struct SocketSink(SocketRef);

impl SocketSink {
    pub fn new(socket: SocketRef) -> Self {
        Self(socket)
    }
}

impl ConnectionSink for SocketSink {
    fn send(&self, event: &str, payload: &RawValue) {
        if let Err(e) = self.0.emit(event, payload) {
            // A full buffer means the client stopped reading; socketioxide closes it soon.
            tracing::debug!(sid = %self.0.id, error = %e, "event not queued");
        }
    }
}
