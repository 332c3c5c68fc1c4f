//! How every fuzz target runs: a bounded number of cases (`PROPTEST_CASES` overrides it for
//! longer local runs); no regression files written into the tree (a failure prints its
//! smallest input, which then becomes an ordinary unit test next to the fixed code); and a
//! tally of how the cases were answered, which also proves they all ran, so that a target
//! that silently stopped generating input, or never gets past the first check, fails
//! instead of passing.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

/// Runs at least this long are expected to reach every outcome a target asserts: the rarest
/// of them comes up in several percent of the cases.
const MIN_CASES_TO_REACH: u32 = 200;

/// How long shrinking a failure may take when the environment does not say: a failing CI
/// run should report soon, with the smallest input found by then.
const MAX_SHRINK_MILLIS: u32 = 30_000;

/// How a target's cases were answered: the number of cases of each outcome the property
/// named (a status code, `accepted`, `refused`, …).
#[derive(Debug, Default)]
pub struct Outcomes(BTreeMap<String, u32>);

impl Outcomes {
    pub fn total(&self) -> u32 {
        self.0.values().sum()
    }

    /// Cases whose outcome `matches`.
    pub fn count(&self, matches: impl Fn(&str) -> bool) -> u32 {
        self.0
            .iter()
            .filter(|(outcome, _)| matches(outcome))
            .map(|(_, n)| n)
            .sum()
    }

    /// Fails unless some case's outcome `matches` (`what` names it): input that never gets
    /// past the first check fuzzes nothing behind it, so a strategy that drifted from its
    /// parser must not pass unnoticed. Runs shorter than `MIN_CASES_TO_REACH` (a
    /// `PROPTEST_CASES` set low for a quick look) are not held to it.
    pub fn assert_reached(&self, target: &str, what: &str, matches: impl Fn(&str) -> bool) {
        if self.total() >= MIN_CASES_TO_REACH {
            assert!(
                self.count(matches) > 0,
                "fuzz target {target} never reached {what} ({self})"
            );
        }
    }
}

impl std::fmt::Display for Outcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(o, n)| format!("{o} {n}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// Runs `property` on `cases` inputs drawn from `strategy` and panics with the smallest
/// failing input, if any. A panic inside `property` counts as a failure. On success the
/// property names the case's outcome; the tally is printed (`--no-capture` shows it) and
/// returned.
pub fn check<S, O>(
    target: &str,
    cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<O, TestCaseError>,
) -> Outcomes
where
    S: Strategy,
    S::Value: Debug,
    O: ToString,
{
    let config = config(cases);
    let wanted = config.cases;
    let outcomes = RefCell::new(Outcomes::default());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |input| {
        let outcome = property(input)?.to_string();
        *outcomes.borrow_mut().0.entry(outcome).or_default() += 1;
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, input)) => {
            panic!("fuzz target {target} failed: {why}\nsmallest failing input: {input:#?}")
        }
        Err(TestError::Abort(why)) => panic!("fuzz target {target} aborted: {why}"),
    }
    let outcomes = outcomes.into_inner();
    // Fewer would mean the strategy gave up generating.
    assert_eq!(
        outcomes.total(),
        wanted,
        "fuzz target {target}: not every case ran"
    );
    println!("fuzz target {target}: {wanted} cases ({outcomes})");
    outcomes
}

/// proptest's defaults (which read its `PROPTEST_*` variables) with this target's case count
/// unless `PROPTEST_CASES` is set, and without failure files.
fn config(cases: u32) -> Config {
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if config.max_shrink_time == 0 {
        config.max_shrink_time = MAX_SHRINK_MILLIS;
    }
    config
}

/// A single-threaded runtime for a target whose cases are async: built once per target, so
/// a case costs a request, not a runtime.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime")
}
