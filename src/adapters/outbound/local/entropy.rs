//! Unpredictable 64-bit values from the standard library alone. `RandomState` is seeded once
//! per thread from the operating system's randomness, and every new instance gets different
//! SipHash keys, so hashing anything with a fresh one gives a value outsiders cannot guess
//! and that differs from the previous call. That is all ids and file names need; nothing here
//! is used as a cryptographic key.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    // The inputs only add variety; the fresh keys are what makes the output unpredictable.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_differ_from_call_to_call() {
        let values: std::collections::HashSet<u64> = (0..10_000).map(|_| random_u64()).collect();
        assert_eq!(values.len(), 10_000);
    }
}
