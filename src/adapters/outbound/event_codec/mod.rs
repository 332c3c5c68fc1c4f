//! Domain events as bytes, to cross from one node to the others (the Redis event bus): every
//! `DomainEvent` variant with its origin, as JSON, through serializable mirrors of the domain
//! types (`dto`), so that the domain stays free of serde. Ids, keys and names are read back
//! through the domain's own constructors: what another node sends is checked like any input.

mod dto;
#[cfg(test)]
mod tests;

use crate::ports::EventEnvelope;

#[derive(Debug, thiserror::Error)]
pub enum EventCodecError {
    #[error("event is not valid JSON of a known shape: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("event carries an invalid {0}")]
    Invalid(String),
}

/// The envelope as JSON bytes.
///
/// # Errors
/// Only if serde_json refuses the tree of strings, numbers and string-keyed maps the event
/// becomes, which it does not.
pub fn encode(envelope: &EventEnvelope) -> Result<Vec<u8>, EventCodecError> {
    Ok(serde_json::to_vec(&dto::Envelope::from(envelope))?)
}

/// An envelope from its JSON bytes.
///
/// # Errors
/// When the bytes are not an encoded envelope, or a value in it breaks a domain rule.
pub fn decode(bytes: &[u8]) -> Result<EventEnvelope, EventCodecError> {
    serde_json::from_slice::<dto::Envelope>(bytes)?.try_into()
}
