//! The `switchboard` binary: loads the settings, starts logging, builds the app and runs its
//! listeners until SIGINT or SIGTERM; `check-config` shows what a start would use, `migrate`
//! brings the store's schema up to date.

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
