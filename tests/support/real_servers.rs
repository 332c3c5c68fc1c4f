//! Real database servers for the tests that need them: where to find them, and what an
//! unreachable one means. Outside CI a missing server skips those tests with a note on
//! stderr; with `CI=true` (as `.ci/run` sets it) it fails them, so CI never passes without
//! having run them.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::fmt::Display;

/// Whether a missing server must fail the test (`CI` set to `true` or `1`).
pub fn servers_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Reports that `service` could not be reached: panics under CI, else prints a note and
/// returns, and the caller skips its test.
///
/// # Panics
/// Under CI, always.
pub fn unreachable(service: &str, detail: impl Display) {
    if servers_required() {
        panic!("{service} is required under CI but could not be used: {detail}");
    }
    eprintln!("skipped: {service} is not reachable ({detail}); CI=true makes this a failure");
}

/// The value of `variable`, or `default` when it is unset or empty.
pub fn env_or(variable: &str, default: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A name no other test run uses, for a throwaway database: `prefix`, the process id, a
/// counter and the time, in characters every database accepts in a name.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
