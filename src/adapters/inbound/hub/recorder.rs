//! A sink that records what a connection is sent, for tests of the hub and the session.

use std::sync::Mutex;

use serde_json::Value;
use serde_json::value::RawValue;

use super::ConnectionSink;

#[derive(Default)]
pub struct RecordingSink(Mutex<Vec<(String, Value)>>);

impl RecordingSink {
    /// Every event received so far, with its payload, in order.
    pub fn received(&self) -> Vec<(String, Value)> {
        self.lock().clone()
    }

    /// The names of the events received so far, in order.
    pub fn events(&self) -> Vec<String> {
        self.lock().iter().map(|(e, _)| e.clone()).collect()
    }

    /// Removes and returns the first `event` received, if any.
    pub fn take(&self, event: &str) -> Option<Value> {
        let mut received = self.lock();
        let index = received.iter().position(|(e, _)| e == event)?;
        Some(received.remove(index).1)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, Value)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl ConnectionSink for RecordingSink {
    fn send(&self, event: &str, payload: &RawValue) {
        let value = serde_json::from_str(payload.get()).expect("payloads are JSON");
        self.lock().push((event.to_owned(), value));
    }
}
