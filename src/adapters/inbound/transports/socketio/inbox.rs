//! Keeping a connection's events in order. socketioxide runs every event handler in its own
//! task, so two quick events could be handled out of order (two messages stored swapped).
//! Its extractors, though, run synchronously in arrival order: [`Inbound`] queues the event
//! there, and the connection's one session loop takes them in that order.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::{AckSender, Event, TryData};
use socketioxide::handler::FromMessageParts;
use socketioxide::socket::Socket;
use socketioxide_core::Value as PacketValue;
use tokio::sync::mpsc;

use super::outbox::Outbox;
use crate::adapters::inbound::protocol::{ErrorCode, WireError};
use crate::adapters::inbound::session::Answer;

pub(super) struct InboundEvent {
    pub event: String,
    pub args: Value,
    pub ack: AckSender,
    pub wants_ack: bool,
}

/// What the channel carries. Boxed because a tokio channel allocates its slots 32 at a time
/// when it is created: 32 boxes are 256 bytes on an idle connection, 32 events 4 KB.
pub(super) type Queued = Box<InboundEvent>;

/// The sending half, kept in the socket's extensions until it disconnects.
#[derive(Clone)]
pub(super) struct Inbox {
    tx: mpsc::Sender<Queued>,
}

impl Inbox {
    pub fn new(tx: mpsc::Sender<Queued>) -> Self {
        Self { tx }
    }
}

/// The receiving half, handed from the connect middleware to the connection's loop.
#[derive(Clone)]
pub(super) struct Receiver(Arc<Mutex<Option<mpsc::Receiver<Queued>>>>);

impl Receiver {
    pub fn new(rx: mpsc::Receiver<Queued>) -> Self {
        Self(Arc::new(Mutex::new(Some(rx))))
    }

    pub fn take(&self) -> Option<mpsc::Receiver<Queued>> {
        self.0.lock().ok()?.take()
    }
}

/// The extractor that queues the event (see the module comment).
pub(super) struct Inbound;

impl FromMessageParts<LocalAdapter> for Inbound {
    type Error = Infallible;

    fn from_message_parts(
        socket: &Arc<Socket<LocalAdapter>>,
        value: &mut PacketValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        let Some(inbox) = socket.extensions.get::<Inbox>() else {
            return Ok(Inbound);
        };
        let Ok(ack) = AckSender::from_message_parts(socket, value, ack_id);
        let event = match Event::from_message_parts(socket, value, ack_id) {
            Ok(Event(event)) => event,
            Err(_) => return Ok(Inbound),
        };
        // No argument, or one that is not JSON: the dialect reports what it expected.
        let args = match TryData::<Value>::from_message_parts(socket, value, ack_id) {
            Ok(TryData(Ok(args))) => args,
            _ => Value::Null,
        };
        let event = Box::new(InboundEvent {
            event,
            args,
            ack,
            wants_ack: ack_id.is_some(),
        });
        if let Err(mpsc::error::TrySendError::Full(event)) = inbox.tx.try_send(event)
            && let Some(outbox) = socket.extensions.get::<Arc<Outbox>>()
        {
            let error = WireError::coded(ErrorCode::SlowDown, "too many events waiting: slow down");
            // A refusal never closes the connection by itself; an answer that cannot even
            // be queued does (the outbox's policy).
            super::send(&outbox, event.ack, Answer::refusal(&error, event.wants_ack));
        }
        Ok(Inbound)
    }
}
