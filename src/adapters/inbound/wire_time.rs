//! Timestamps as every wire format shows them: ISO-8601 in UTC with milliseconds and a `Z`
//! (`2026-01-05T12:00:00.000Z`), the shape JavaScript's `Date.toJSON()` gives the Node
//! clients today.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::Timestamp;

pub fn iso_millis(ts: Timestamp) -> String {
    let millis = ts.as_millis();
    // Out of chrono's range (±262,000 years) only corrupt data can be; show the nearest
    // representable instant rather than fail a whole response over one field.
    let at = DateTime::<Utc>::from_timestamp_millis(millis).unwrap_or(if millis < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_utc_with_milliseconds() {
        assert_eq!(
            iso_millis(Timestamp::from_millis(1_767_614_400_000)),
            "2026-01-05T12:00:00.000Z"
        );
        assert_eq!(
            iso_millis(Timestamp::from_millis(1_767_614_400_042)),
            "2026-01-05T12:00:00.042Z"
        );
        assert_eq!(
            iso_millis(Timestamp::from_millis(0)),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn out_of_range_values_do_not_panic() {
        assert!(iso_millis(Timestamp::from_millis(i64::MAX)).ends_with('Z'));
        assert!(iso_millis(Timestamp::from_millis(i64::MIN)).ends_with('Z'));
    }
}
