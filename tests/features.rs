//! The Gherkin specs in `features/`, run end to end: every scenario gets its own server
//! (memory store, a listener per dialect on ephemeral ports) and drives
//! its clients through `tests/js/bridge.mjs`, i.e. the real socket.io-client.
//!
//! `cargo test --all-features --test features` runs them; `SCENARIO=text` runs only the
//! scenarios whose name contains `text` (any case); `TEST_LOG=1` shows the server's logs.
//! The process exits non-zero when a scenario fails or a step has no definition.

#[path = "features/bridge.rs"]
mod bridge;
#[path = "features/calmora.rs"]
mod calmora;
#[path = "features/common.rs"]
mod common;
#[path = "features/kaajkaam.rs"]
mod kaajkaam;
#[path = "features/linsta.rs"]
mod linsta;
#[path = "features/marketplace.rs"]
mod marketplace;
#[path = "features/quickclinic.rs"]
mod quickclinic;
#[path = "support/mod.rs"]
mod support;
#[path = "features/world.rs"]
mod world;

use cucumber::World as _;

use world::Switchboard;

/// The one test this binary reports to libtest-style runners.
const TEST_NAME: &str = "features";

/// Libtest flags that take a value (as `--flag value`), so that the value is not taken for a filter.
const FLAGS_WITH_VALUE: [&str; 6] = [
    "--format",
    "--test-threads",
    "--color",
    "--skip",
    "--logfile",
    "-Z",
];

/// What the command line asks for. The binary is run by `cargo test` (no arguments, or a
/// filter and libtest flags) and by cargo-nextest, which first lists the tests
/// (`--list --format terse [--ignored]`) and then runs each by name (`features --exact …`).
/// The whole Gherkin suite is one test named `features`.
enum Mode {
    List { ignored: bool },
    Run,
    NothingMatches,
}

fn mode(args: &[String]) -> Mode {
    if args.iter().any(|a| a == "--list") {
        return Mode::List {
            ignored: args.iter().any(|a| a == "--ignored"),
        };
    }
    let exact = args.iter().any(|a| a == "--exact");
    let mut filters = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if FLAGS_WITH_VALUE.contains(&arg.as_str()) {
            rest.next();
        } else if !arg.starts_with('-') {
            filters.push(arg.as_str());
        }
    }
    let matches = |filter: &&str| {
        if exact {
            *filter == TEST_NAME
        } else {
            TEST_NAME.contains(*filter)
        }
    };
    if filters.is_empty() || filters.iter().any(matches) {
        Mode::Run
    } else {
        Mode::NothingMatches
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match mode(&args) {
        Mode::List { ignored } => {
            if !ignored {
                println!("{TEST_NAME}: test");
            }
        }
        Mode::NothingMatches => println!("{TEST_NAME}: filtered out"),
        Mode::Run => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(run()),
    }
}

async fn run() {
    let only = std::env::var("SCENARIO").ok().map(|s| s.to_lowercase());
    Switchboard::cucumber()
        // Each scenario runs a server and a Node process: a few at a time suit 2 cores.
        .max_concurrent_scenarios(3)
        .with_default_cli()
        .fail_on_skipped()
        .after(|_feature, _rule, _scenario, _finished, world| {
            Box::pin(async move {
                if let Some(world) = world {
                    world.stop().await;
                }
            })
        })
        .filter_run_and_exit(
            concat!(env!("CARGO_MANIFEST_DIR"), "/features"),
            move |_feature, _rule, scenario| {
                only.as_deref()
                    .is_none_or(|text| scenario.name.to_lowercase().contains(text))
            },
        )
        .await;
}
