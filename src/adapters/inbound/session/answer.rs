//! The ack-or-error policy every dialect and transport follows: a request's reply goes out
//! as its events plus the ack (when the client asked for one); a refusal goes to the ack as
//! `{ "error": … }` when the client asked for one, else as an `error { message }` event to
//! the requesting connection. Nothing else is ever sent for a refusal.

use serde_json::{Value, json};

use crate::adapters::inbound::protocol::{Emit, Reply, WireError};

/// What a transport sends back for one inbound event, in this order.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub emits: Vec<Emit>,
    /// The acknowledgement, when the client asked for one.
    pub ack: Option<Value>,
    /// Whether the transport closes the connection after sending the answer (the event
    /// made the connection refused).
    pub close: bool,
    /// The refusal itself, for a transport that shows its code besides the words (the
    /// native protocol); `ack` and `emits` already carry it as the Socket.IO dialects show it.
    pub refused: Option<WireError>,
}

impl Answer {
    pub fn new(result: Result<Reply, WireError>, wants_ack: bool) -> Self {
        match result {
            Ok(reply) => Self {
                emits: reply.emits,
                ack: wants_ack.then_some(reply.ack),
                close: false,
                refused: None,
            },
            Err(error) => Self::refusal(&error, wants_ack),
        }
    }

    /// A refused request: the ack `{ error }`, or without one an `error { message }` event.
    pub fn refusal(error: &WireError, wants_ack: bool) -> Self {
        if wants_ack {
            Self {
                emits: Vec::new(),
                ack: Some(json!({ "error": error.0 })),
                close: false,
                refused: Some(error.clone()),
            }
        } else {
            Self {
                emits: vec![error_event(error)],
                ack: None,
                close: false,
                refused: Some(error.clone()),
            }
        }
    }
}

/// The `error { message }` event: how every dialect tells a connection what went wrong
/// (also a refused connection, before it is closed).
pub fn error_event(error: &WireError) -> Emit {
    Emit::new("error", json!({ "message": error.0 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_sends_its_events_and_the_ack_only_when_asked() {
        let reply = Reply::event("done", json!({ "n": 1 }));
        let with_ack = Answer::new(Ok(reply.clone()), true);
        assert_eq!(with_ack.emits, reply.emits);
        assert_eq!(with_ack.ack, Some(json!({ "n": 1 })));
        assert_eq!(Answer::new(Ok(reply), false).ack, None);
    }

    #[test]
    fn a_refusal_goes_to_the_ack_when_there_is_one_else_to_an_error_event() {
        let error = WireError::new("text is required");
        assert_eq!(
            Answer::new(Err(error.clone()), true),
            Answer {
                emits: vec![],
                ack: Some(json!({ "error": "text is required" })),
                close: false,
                refused: Some(WireError::new("text is required")),
            }
        );
        assert_eq!(
            Answer::new(Err(error), false),
            Answer {
                emits: vec![Emit::new("error", json!({ "message": "text is required" }))],
                ack: None,
                close: false,
                refused: Some(WireError::new("text is required")),
            }
        );
    }
}
