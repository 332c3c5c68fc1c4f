//! Per-connection limits on inbound events: how many per second, and how large.

use std::time::{Duration, Instant};

use serde_json::Value;

/// A token bucket: bursts up to one second's worth of events, refilled continuously.
pub(super) struct RateLimiter {
    per_second: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl RateLimiter {
    pub(super) fn new(per_second: u32) -> Self {
        Self {
            per_second: f64::from(per_second),
            tokens: f64::from(per_second),
            last: None,
        }
    }

    pub(super) fn admit(&mut self, now: Instant) -> bool {
        if self.per_second <= 0.0 {
            return true;
        }
        let elapsed = self
            .last
            .map_or(Duration::ZERO, |last| now.saturating_duration_since(last));
        self.last = Some(now);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.per_second).min(self.per_second);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The payload's size as compact JSON, counted without building the text.
pub(super) fn json_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail, and a Value always serializes.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rate_limiter_allows_a_burst_then_refills() {
        let mut limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.admit(t0)));
        assert!(!limiter.admit(t0));
        assert!(limiter.admit(t0 + Duration::from_millis(340)));
        assert!(!limiter.admit(t0 + Duration::from_millis(340)));
    }

    #[test]
    fn zero_means_no_limit() {
        let mut limiter = RateLimiter::new(0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| limiter.admit(t0)));
    }

    #[test]
    fn json_size_is_the_compact_length() {
        let v = json!({ "text": "héllo", "n": [1, 2] });
        assert_eq!(json_size(&v), serde_json::to_vec(&v).unwrap().len());
    }
}
