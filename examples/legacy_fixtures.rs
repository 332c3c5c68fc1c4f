//! Writes a generated legacy database of one of the Node servers (tests/support/
//! legacy_fixtures.rs) to a MongoDB database or a PostgreSQL one, for trying and timing
//! `switchboard import`, and prints the manifest's totals as JSON:
//!
//! ```sh
//! cargo run --release --example legacy_fixtures -- --family quickclinic \
//!     --postgres postgres://postgres@127.0.0.1/legacy_qc --conversations 10000 --max-messages 200 --seed 1
//! cargo run --release --example legacy_fixtures -- --family kaajkaam \
//!     --mongo mongodb://127.0.0.1:27017 --database legacy_kk --conversations 100 --manifest kk.json
//! ```
//!
//! The PostgreSQL database must exist (the tables are created when missing); a MongoDB
//! database is created by the first insert. Either should be empty: ids repeat from run to
//! run with the same seed.

#[cfg(any(feature = "mongo", feature = "postgres"))]
#[path = "../tests/support/legacy_fixtures.rs"]
mod legacy_fixtures;

#[cfg(any(feature = "mongo", feature = "postgres"))]
mod cli {
    use std::path::PathBuf;
    use std::time::Instant;

    use clap::Parser;
    use serde_json::json;

    use super::legacy_fixtures::{Family, Plan, Target, write};

    /// Writes a generated legacy database and prints the manifest's totals as JSON.
    #[derive(Debug, Parser)]
    struct Args {
        /// kaajkaam, linsta, calmora, marketplace (MongoDB) or quickclinic (PostgreSQL).
        #[arg(long)]
        family: String,
        /// A MongoDB URI (with --database).
        #[arg(long, conflicts_with = "postgres", requires = "database")]
        mongo: Option<String>,
        /// The MongoDB database to write to.
        #[arg(long)]
        database: Option<String>,
        /// A PostgreSQL URL (the database must exist).
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 100)]
        conversations: usize,
        /// Each conversation has 0 to this many messages (about half on average).
        #[arg(long, default_value_t = 50)]
        max_messages: usize,
        /// Default: the fewest that give every conversation its own pair of users.
        #[arg(long)]
        users: Option<usize>,
        #[arg(long, default_value_t = 5)]
        notifications_per_user: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write the whole manifest (every conversation's facts) as JSON to this file.
        #[arg(long)]
        manifest: Option<PathBuf>,
    }

    pub async fn main() -> Result<(), String> {
        let args = Args::parse();
        let family =
            Family::parse(&args.family).ok_or_else(|| format!("no family {:?}", args.family))?;
        let mut plan = Plan::new(family, args.conversations, args.max_messages, args.seed);
        if let Some(users) = args.users {
            let least = Plan::min_users(family, args.conversations);
            if users < least {
                return Err(format!(
                    "{} conversations need at least {least} users",
                    args.conversations
                ));
            }
            plan.users = users;
        }
        plan.notifications_per_user = args.notifications_per_user;
        plan.keep_details = args.manifest.is_some();
        let target = match (&args.mongo, &args.database, &args.postgres) {
            (Some(uri), Some(database), None) => Target::Mongo { uri, database },
            (None, _, Some(url)) => Target::Postgres { url },
            _ => return Err("give --mongo URI --database NAME, or --postgres URL".into()),
        };
        if family.on_postgres() != matches!(target, Target::Postgres { .. }) {
            let store = if family.on_postgres() {
                "PostgreSQL (--postgres)"
            } else {
                "MongoDB (--mongo)"
            };
            return Err(format!("{}'s legacy database is {store}", family.name()));
        }
        let started = Instant::now();
        let manifest = write(&plan, &target).await;
        let seconds = started.elapsed().as_secs_f64();
        if let Some(path) = &args.manifest {
            let body = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
            std::fs::write(path, body).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let summary = json!({
            "family": family.name(),
            "seed": plan.seed,
            "users": plan.users,
            "totals": manifest.totals,
            "features": manifest.features,
            "disagreements": manifest.disagreements.len(),
            "unreadCountMismatches": manifest.unread_count_mismatches.len(),
            "inactiveConversations": manifest.inactive_conversations,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
        );
        Ok(())
    }
}

#[cfg(any(feature = "mongo", feature = "postgres"))]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    match cli::main().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("legacy_fixtures: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(any(feature = "mongo", feature = "postgres")))]
fn main() {
    eprintln!("legacy_fixtures needs the `mongo` or `postgres` feature");
    std::process::exit(1);
}
