//! How the SQLite store keeps values: times as INTEGER milliseconds since the Unix epoch and
//! open-ended values as JSON text, so the shared rows (`sql::rows`) are read with `i64` times
//! and `String` JSON; and id lists passed as one JSON parameter.

use serde_json::Value;

use crate::adapters::outbound::sql::rows as shared;
pub(super) use crate::adapters::outbound::sql::rows::{
    RINGING, call_state_to_db, count_from_db, db_error, notification_ids, seq_from_db, seq_to_db,
    user_ids,
};

pub(super) type ConversationRow = shared::ConversationRow<i64, String>;
pub(super) type ParticipantRow = shared::ParticipantRow<i64>;
pub(super) type MessageRow = shared::MessageRow<i64, String>;
pub(super) type NotificationRow = shared::NotificationRow<i64, String>;
pub(super) type UserRow = shared::UserRow<i64>;
pub(super) type CallRow = shared::CallRow<i64>;

/// A list of ids as a JSON array, for `IN (SELECT value FROM json_each(?))`: one statement
/// text whatever the list's length, so it stays prepared.
pub(super) fn json_list<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    Value::Array(ids.into_iter().map(|s| Value::String(s.into())).collect()).to_string()
}
