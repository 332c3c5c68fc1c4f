//! How every persistent store (SQLite, PostgreSQL, MongoDB) encodes the domain's values that
//! are not plain text, whatever the database: seqs as signed 64-bit integers, message kinds,
//! call types, outcomes and states by their names, client keys; and `Corrupt` for a stored
//! value that does not read back. Each store adds only what its database does differently
//! (times, JSON or BSON, ids).

use crate::domain::{
    CallInfo, CallOutcome, CallState, CallType, ClientKey, MessageKind, Seq, Timestamp,
};
use crate::ports::StoreError;

pub fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

/// Seqs are `u64` in the domain and signed 64-bit integers in the databases. No conversation
/// reaches 2^63 messages, so saturating is only a guard against nonsense marks.
pub fn seq_to_db(seq: Seq) -> i64 {
    i64::try_from(seq.0).unwrap_or(i64::MAX)
}

pub fn seq_from_db(raw: i64) -> Result<Seq, StoreError> {
    u64::try_from(raw)
        .map(Seq)
        .map_err(|_| corrupt("negative seq", raw))
}

pub fn message_kind(raw: &str) -> Result<MessageKind, StoreError> {
    MessageKind::parse(raw).ok_or_else(|| corrupt("message kind", raw))
}

pub fn call_type(raw: &str) -> Result<CallType, StoreError> {
    CallType::parse(raw).ok_or_else(|| corrupt("call type", raw))
}

/// A call message's record from its stored parts (duration in whole seconds).
pub fn call_info(
    call_type_name: &str,
    duration: i64,
    status: &str,
) -> Result<CallInfo, StoreError> {
    Ok(CallInfo {
        call_type: call_type(call_type_name)?,
        duration_secs: u32::try_from(duration).map_err(|_| corrupt("call duration", duration))?,
        status: CallOutcome::parse(status).ok_or_else(|| corrupt("call status", status))?,
    })
}

pub fn client_key(raw: Option<String>) -> Result<Option<ClientKey>, StoreError> {
    raw.map(|k| ClientKey::new(k).map_err(|e| corrupt("client key", e)))
        .transpose()
}

pub const RINGING: &str = "ringing";
pub const ACTIVE: &str = "active";

/// A call state as its stored name and acceptance time (each store encodes the time as it
/// keeps times).
pub fn call_state_to_db(state: CallState) -> (&'static str, Option<Timestamp>) {
    match state {
        CallState::Ringing => (RINGING, None),
        CallState::Active { accepted_at } => (ACTIVE, Some(accepted_at)),
    }
}

pub fn call_state_from_db(
    name: &str,
    accepted_at: Option<Timestamp>,
) -> Result<CallState, StoreError> {
    match (name, accepted_at) {
        (RINGING, _) => Ok(CallState::Ringing),
        (ACTIVE, Some(accepted_at)) => Ok(CallState::Active { accepted_at }),
        (other, _) => Err(corrupt("call state", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_seqs_are_corrupt() {
        assert!(matches!(seq_from_db(-1), Err(StoreError::Corrupt(_))));
        assert_eq!(seq_to_db(Seq(u64::MAX)), i64::MAX);
    }

    #[test]
    fn call_states_survive_their_stored_form_and_unknown_ones_are_corrupt() {
        let active = CallState::Active {
            accepted_at: Timestamp::from_millis(5),
        };
        for state in [CallState::Ringing, active] {
            let (name, at) = call_state_to_db(state);
            assert_eq!(call_state_from_db(name, at).unwrap(), state);
        }
        assert!(matches!(
            call_state_from_db(ACTIVE, None),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            call_state_from_db("ended", None),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn unknown_names_are_corrupt() {
        assert!(matches!(message_kind("gif"), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            call_info("video", -1, "completed"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            call_info("video", 3, "lost"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
