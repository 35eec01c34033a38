//! The command line: argument definitions, logging, and dispatch to commands.

mod check;
mod check_table;
mod config_cmd;
mod device;
mod error;
mod identity;
mod integration;
mod lookup;
mod output;
mod target;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use error::CliError;

use crate::exit::Outcome;

/// Is this device registered and healthy in our SentinelOne tenant?
#[derive(Debug, Parser)]
#[command(name = "s1trust", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// More detail on stderr (-v info, -vv debug, -vvv everything incl. libraries).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Configuration file [env: S1TRUST_CONFIG] [default: the OS's path, e.g. /etc/s1trust/config.toml].
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Is this device trusted? Reads the fresh snapshot, else evaluates live when it can.
    Check(CheckArgs),
    /// Evaluate live and write the posture snapshot (privileged; run by the scheduler).
    Refresh,
    /// Find a device's agent record by serial number or agent UUID (PingOne DaVinci JSON).
    Lookup(LookupArgs),
    /// Show this device's serial number, SentinelOne agent UUID and host facts, read locally.
    Identity(IdentityArgs),
    /// Work with configured integrations (tenants).
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Work with the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `s1trust check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the versioned JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Always evaluate live (needs the API token and the device identity: root).
    #[arg(long, conflicts_with = "snapshot")]
    pub live: bool,
    /// Only use the snapshot; never evaluate live.
    #[arg(long)]
    pub snapshot: bool,
}

/// How to reach a tenant when not (only) from the config.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// Console URL, e.g. https://usea1.sentinelone.net (instead of a configured integration).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// File holding the API token (owner-only permissions); else $S1_API_TOKEN, else the integration's token_file.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Extra CA certificate(s) in PEM to trust besides the OS store.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Give up after this many seconds, retries included [default: [http] deadline, 30s].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<std::time::Duration>,
}

/// `s1trust lookup`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("key").required(true).args(["serial", "uuid"])))]
pub struct LookupArgs {
    /// Hardware serial number (exact match; placeholders are refused).
    #[arg(long, value_name = "SERIAL")]
    pub serial: Option<String>,
    /// SentinelOne agent UUID (any spelling: dashes, braces, case).
    #[arg(long, value_name = "UUID")]
    pub uuid: Option<String>,
    /// Configured integration to ask (default: the only one configured).
    #[arg(long, value_name = "NAME", conflicts_with = "url")]
    pub integration: Option<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `s1trust identity`.
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `s1trust integration ...`.
#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Test the connection: reachability, authentication and scope, read access to agents.
    Test(IntegrationTestArgs),
}

/// `s1trust integration test`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["name", "url"])))]
pub struct IntegrationTestArgs {
    /// Name of a configured integration.
    #[arg(value_name = "NAME", conflicts_with = "url")]
    pub name: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `s1trust config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file and report every problem with its line.
    Validate {
        /// File to check [default: --config, $S1TRUST_CONFIG, or the OS's path].
        path: Option<PathBuf>,
    },
}

fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 3600.0) {
        return Err("must be more than 0 and at most 3600 seconds".into());
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// Parses the command line, runs the command, and returns the exit status.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let outcome = match run(&cli) {
        Ok(outcome) => outcome,
        Err(e) => {
            e.report();
            e.outcome()
        }
    };
    outcome.into()
}

fn run(cli: &Cli) -> Result<Outcome, CliError> {
    match &cli.command {
        Command::Check(args) => check::check(cli, args),
        Command::Refresh => check::refresh(cli),
        Command::Lookup(args) => lookup::run(cli, args),
        Command::Identity(args) => identity::run(args),
        Command::Integration(IntegrationCommand::Test(args)) => integration::test(cli, args),
        Command::Config(ConfigCommand::Validate { path }) => {
            config_cmd::validate(cli, path.as_deref())
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let ours = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (_, 0) => LevelFilter::WARN,
        (_, 1) => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let others = if verbose >= 3 {
        LevelFilter::TRACE
    } else {
        LevelFilter::ERROR
    };
    let filter = Targets::new()
        .with_target(
            "s1trust",
            if verbose >= 3 {
                LevelFilter::TRACE
            } else {
                ours
            },
        )
        .with_default(others);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(verbose >= 2)
        .without_time();
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}
