//! `ObjectIdGenerator`: ids in MongoDB's ObjectId layout, 24 lowercase hex characters made of
//! 4 bytes of big-endian Unix seconds, 5 random bytes chosen once per generator, and a 3-byte
//! counter that starts at a random value. Mongo-born clients see the ids they are used to,
//! and ids sort by creation second on every store.

use std::sync::atomic::{AtomicU32, Ordering};

use super::entropy::random_u64;
use super::hex::hex;
use crate::ports::IdGenerator;

const COUNTER_MASK: u32 = 0x00FF_FFFF;

pub struct ObjectIdGenerator {
    /// Tells this generator's ids from those of other processes and nodes made in the same second.
    process_unique: [u8; 5],
    counter: AtomicU32,
}

impl Default for ObjectIdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

impl ObjectIdGenerator {
    pub fn new() -> Self {
        let random = random_u64().to_be_bytes();
        let mut process_unique = [0u8; 5];
        process_unique.copy_from_slice(&random[..5]);
        // The low three bytes are unused by `process_unique`; use them as the counter's start.
        let start = u32::from_be_bytes([0, random[5], random[6], random[7]]);
        Self {
            process_unique,
            counter: AtomicU32::new(start),
        }
    }

    fn make(&self, seconds: u32) -> String {
        // The counter wraps at 2^24 like MongoDB's: 16 million ids per second before reuse.
        let count = self.counter.fetch_add(1, Ordering::Relaxed) & COUNTER_MASK;
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&seconds.to_be_bytes());
        bytes[4..9].copy_from_slice(&self.process_unique);
        bytes[9..].copy_from_slice(&count.to_be_bytes()[1..]);
        hex(&bytes)
    }
}

impl IdGenerator for ObjectIdGenerator {
    fn next_id(&self) -> String {
        // ObjectId seconds are unsigned 32-bit: fine until 2106. A clock before 1970 is
        // nonsense, and a zero prefix still gives a unique, valid id.
        let seconds = u32::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
        self.make(seconds)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    fn is_object_id(id: &str) -> bool {
        id.len() == 24
            && id
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    }

    #[test]
    fn ids_look_like_object_ids() {
        let ids = ObjectIdGenerator::new();
        for _ in 0..100 {
            let id = ids.next_id();
            assert!(is_object_id(&id), "{id}");
        }
    }

    #[test]
    fn ids_start_with_the_current_seconds() {
        let id = ObjectIdGenerator::new().next_id();
        let seconds = u32::from_str_radix(&id[..8], 16).unwrap();
        let now = chrono::Utc::now().timestamp();
        assert!((now - i64::from(seconds)).abs() <= 1, "{id}");
    }

    #[test]
    fn a_hundred_thousand_ids_are_unique() {
        let ids = ObjectIdGenerator::new();
        let seen: HashSet<String> = (0..100_000).map(|_| ids.next_id()).collect();
        assert_eq!(seen.len(), 100_000);
    }

    #[test]
    fn ids_from_several_threads_are_unique() {
        let ids = Arc::new(ObjectIdGenerator::new());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let ids = ids.clone();
                std::thread::spawn(move || (0..25_000).map(|_| ids.next_id()).collect::<Vec<_>>())
            })
            .collect();
        let mut seen = HashSet::new();
        for handle in handles {
            for id in handle.join().unwrap() {
                assert!(seen.insert(id));
            }
        }
        assert_eq!(seen.len(), 100_000);
    }

    #[test]
    fn two_generators_differ_in_their_middle_bytes() {
        let (a, b) = (ObjectIdGenerator::new(), ObjectIdGenerator::new());
        assert_ne!(a.next_id()[8..18], b.next_id()[8..18]);
    }

    #[test]
    fn the_counter_wraps_within_three_bytes() {
        let ids = ObjectIdGenerator::new();
        ids.counter.store(COUNTER_MASK, Ordering::Relaxed);
        assert!(ids.make(1).ends_with("ffffff"));
        assert!(ids.make(1).ends_with("000000"));
    }

    #[test]
    fn ids_sort_by_second() {
        let ids = ObjectIdGenerator::new();
        assert!(ids.make(0x6000_0000) < ids.make(0x6000_0001));
    }
}
