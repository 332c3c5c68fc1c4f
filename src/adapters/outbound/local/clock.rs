//! `SystemClock`: the wall clock, for production. Tests use a mock `Clock` instead.

use crate::domain::Timestamp;
use crate::ports::Clock;

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(chrono::Utc::now().timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_current_time_in_milliseconds() {
        let before = chrono::Utc::now().timestamp_millis();
        let now = SystemClock.now().as_millis();
        let after = chrono::Utc::now().timestamp_millis();
        assert!(before <= now && now <= after);
    }
}
