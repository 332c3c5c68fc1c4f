//! The `switchboard` binary: loads the settings, starts logging, builds the app and runs its
//! listeners until SIGINT or SIGTERM; `check-config` shows what a start would use, `migrate`
//! brings the store's schema up to date, `import` brings a Node server's data into the store.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use switchboard::bootstrap::config::{LogSettings, Settings};
use switchboard::bootstrap::serve;
use switchboard::bootstrap::{build, migrate};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about)]
struct Cli {
    /// Settings file (TOML). Default: config/default.toml, when it exists.
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the configured listeners (the default).
    Serve,
    /// Print the effective settings with secrets masked, then every problem found;
    /// exits non-zero when there is one.
    CheckConfig,
    /// Apply the configured store's pending schema migrations, then exit (the server also
    /// applies them at start).
    Migrate,
    /// Import a Node server's data (conversations, messages with their read state,
    /// notifications, users) into the configured store; safe to run again, which imports
    /// only what is new (docs/MIGRATION.md).
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// Which Node server's layout the data has.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(switchboard::bootstrap::import_families()))]
    family: String,
    /// Its database: mongodb://… (database from the URI or --database) or postgres://….
    #[arg(long, value_name = "URI")]
    from: String,
    /// The MongoDB database to read, when the URI names none.
    #[arg(long)]
    database: Option<String>,
    /// A TOML file overriding the family's default field and collection names.
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Read everything and report what would change, writing nothing.
    #[arg(long)]
    dry_run: bool,
    /// Records per read and per write.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Opt-in (`--features mimalloc`): the trade is in Cargo.toml and docs/PERFORMANCE.md.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => check_config(cli.config.as_deref()),
        Command::Serve => {
            let Some(settings) = start(cli.config.as_deref()) else {
                return ExitCode::FAILURE;
            };
            match serve(&settings).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    tracing::error!("{err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Import(args) => {
            let Some(settings) = start(cli.config.as_deref()) else {
                return ExitCode::FAILURE;
            };
            import(&settings, args).await
        }
        Command::Migrate => {
            let Some(settings) = start(cli.config.as_deref()) else {
                return ExitCode::FAILURE;
            };
            match migrate(&settings.store).await {
                Ok(done) => {
                    println!("{done}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    tracing::error!("{err:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Loads valid settings and starts logging; `None` after saying why on stderr. Until logging
/// is up, problems can only go to stderr; after that, to the log.
fn start(path: Option<&Path>) -> Option<Settings> {
    let started = load_valid(path).and_then(|settings| {
        init_tracing(&settings.log)?;
        Ok(settings)
    });
    match started {
        Ok(settings) => Some(settings),
        Err(err) => {
            eprintln!("error: {err:#}");
            None
        }
    }
}

fn check_config(path: Option<&Path>) -> ExitCode {
    let settings = match Settings::load(path) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: cannot load the configuration: {err}");
            return ExitCode::from(2);
        }
    };
    println!("{}", settings.masked());
    match settings.validate() {
        Ok(()) => {
            eprintln!("configuration is valid");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

fn load_valid(path: Option<&Path>) -> anyhow::Result<Settings> {
    let settings = Settings::load(path).context("loading the configuration")?;
    settings.validate()?;
    Ok(settings)
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = build(settings).await?;
    let listeners = serve::bind(&settings.listeners).await?;
    serve::run(&app, listeners, serve::shutdown_signal()).await
}

async fn import(settings: &Settings, args: ImportArgs) -> ExitCode {
    use switchboard::app::import::ImportOptions;
    use switchboard::bootstrap::{ImportRequest, run_import};
    let request = ImportRequest {
        family: args.family,
        from: args.from,
        database: args.database,
        mapping: args.mapping,
        options: ImportOptions {
            batch: args.batch as usize,
            dry_run: args.dry_run,
        },
    };
    let progress = switchboard::adapters::inbound::progress_bar::TerminalProgress::new();
    match run_import(&settings.store, &request, &progress).await {
        Ok(report) => {
            if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(json) => println!("{json}"),
                    Err(err) => eprintln!("error: {err}"),
                }
            } else {
                print!("{report}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `RUST_LOG`, when set, overrides `log.filter`, as Rust developers expect.
fn init_tracing(log: &LogSettings) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => {
            EnvFilter::try_new(&value).with_context(|| format!("RUST_LOG={value:?}"))?
        }
        _ => EnvFilter::try_new(&log.filter).context("log.filter")?,
    };
    // Colour codes only help a human at a terminal; in files and log collectors they are noise.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    let installed = if log.json {
        subscriber.json().try_init()
    } else {
        subscriber.try_init()
    };
    installed.map_err(|err| anyhow::anyhow!("starting logging: {err}"))
}
