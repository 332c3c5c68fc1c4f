//! The current time, injected so that rules with deadlines (ring timeouts, typing expiry)
//! are testable with a mock clock.

use crate::domain::Timestamp;

#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}
