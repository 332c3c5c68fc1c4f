//! The seam between driver errors and `StoreError`: duplicate keys are `Conflict`, documents
//! that do not read back are `Corrupt`, and everything else (no server within the timeout, a
//! dropped connection, a failed command) is `Unavailable`: the operation did not happen, or
//! its outcome is unknown and the caller must not report it as done.

use mongodb::error::{Error, ErrorKind, TRANSIENT_TRANSACTION_ERROR, WriteFailure};

use crate::ports::StoreError;

/// MongoDB's code for a unique index violation.
const DUPLICATE_KEY: i32 = 11000;

pub(super) fn store_error(error: Error) -> StoreError {
    if is_duplicate_key(&error) {
        return StoreError::Conflict(error.to_string());
    }
    match *error.kind {
        ErrorKind::BsonDeserialization(_) => StoreError::Corrupt(error.to_string()),
        _ => StoreError::Unavailable(error.to_string()),
    }
}

pub(super) fn is_duplicate_key(error: &Error) -> bool {
    match &*error.kind {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        ErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// Whether a transaction that failed with `error` is worth running again at once: the
/// server says it may succeed (a write conflict with a concurrent transaction, a failover).
/// Not when no server could be reached: the driver has already waited for one for the whole
/// timeout, and the caller should hear about the outage now.
pub(super) fn is_worth_retrying(error: &Error) -> bool {
    error.contains_label(TRANSIENT_TRANSACTION_ERROR)
        && !matches!(
            *error.kind,
            ErrorKind::ServerSelection { .. }
                | ErrorKind::Io(_)
                | ErrorKind::ConnectionPoolCleared { .. }
                | ErrorKind::Shutdown
        )
}
