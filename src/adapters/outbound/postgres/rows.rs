//! How the PostgreSQL store keeps values: times as `timestamptz` (chrono's `DateTime<Utc>`)
//! and open-ended values as `jsonb` (`serde_json::Value`), so the shared rows (`sql::rows`)
//! are read with those types; and the one conversion that can go out of range, domain
//! milliseconds into `timestamptz`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::adapters::outbound::sql::rows as shared;
pub(super) use crate::adapters::outbound::sql::rows::{
    RINGING, call_state_to_db, count_from_db, db_error, notification_ids, seq_from_db, seq_to_db,
    user_ids,
};
use crate::domain::Timestamp;

pub(super) type ConversationRow = shared::ConversationRow<DateTime<Utc>, Value>;
pub(super) type ParticipantRow = shared::ParticipantRow<DateTime<Utc>>;
pub(super) type MessageRow = shared::MessageRow<DateTime<Utc>, Value>;
pub(super) type NotificationRow = shared::NotificationRow<DateTime<Utc>, Value>;
pub(super) type UserRow = shared::UserRow<DateTime<Utc>>;
pub(super) type CallRow = shared::CallRow<DateTime<Utc>>;

/// PostgreSQL's first instant, 4714-11-24 00:00 UTC BC, in Unix milliseconds.
const EARLIEST_MILLIS: i64 = -210_866_803_200_000;

/// A domain time as `timestamptz`. Any `i64` of milliseconds is a domain time, but
/// `timestamptz` starts in 4714 BC and chrono ends in 262143 AD: times outside that range are
/// nonsense, and saturating them (as `seq_to_db` does seqs) keeps a write from failing on them.
pub(super) fn time_to_db(at: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.as_millis().max(EARLIEST_MILLIS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

pub(super) fn times_to_db(at: Option<Timestamp>) -> Option<DateTime<Utc>> {
    at.map(time_to_db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::outbound::sql::rows::TimeColumn;

    #[test]
    fn times_round_trip_and_saturate_at_the_ends() {
        let now = Timestamp::from_millis(1_700_000_000_123);
        assert_eq!(time_to_db(now).into_timestamp(), now);
        assert_eq!(
            time_to_db(Timestamp::from_millis(i64::MIN)).into_timestamp(),
            Timestamp::from_millis(EARLIEST_MILLIS)
        );
        assert_eq!(
            time_to_db(Timestamp::from_millis(i64::MAX)),
            DateTime::<Utc>::MAX_UTC
        );
    }
}
