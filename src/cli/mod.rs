//! The command line: argument definitions, logging, and dispatch to commands.

mod check;
mod check_table;
mod config_cmd;
mod doctor;
#[cfg(windows)]
mod eventlog;
mod generate;
mod identity;
mod integration;
mod lookup;
mod mdm;
mod output;
mod render;
mod setup;
mod status_line;
mod verdict;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub(crate) use generate::GenerateCommand;
pub(crate) use setup::SetupCommand;

use crate::app::{Connection, Error, Options};
use crate::config::{CONFIG_ENV, default_config_path};
use crate::exit::Outcome;
use crate::token::TOKEN_ENV;

/// Is this device registered and healthy in our SentinelOne tenant?
#[derive(Debug, Parser)]
#[command(name = "s1trust", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// More detail on stderr (-v info, and refresh's steps; -vv debug; -vvv everything incl. libraries).
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
pub(crate) enum Command {
    /// Is this device trusted? Reads the fresh snapshot, else evaluates live when it can.
    Check(CheckArgs),
    /// Evaluate live and write the posture snapshot (privileged; run by the scheduler).
    ///
    /// With -v, each step is a line on stderr as it ends, with how long it took: the
    /// identity read, each tenant's answer, the evaluation, the snapshot written (or
    /// kept) and the stores published. On a terminal a status line on stderr counts
    /// the seconds of the step under way.
    Refresh,
    /// Check everything a support engineer would: config, tenants, identity, factors, snapshot, scheduler.
    Doctor(DoctorArgs),
    /// Find a device's agent record by serial number or agent UUID (PingOne DaVinci JSON).
    ///
    /// On a terminal: a summary, and while the tenant is asked a status line on stderr
    /// ("asking <tenant> … 1.2s") that is erased before it. Through a pipe, or with
    /// --json: the JSON object alone.
    Lookup(LookupArgs),
    /// Show this device's serial number, SentinelOne agent UUID and host facts, read locally.
    Identity(IdentityArgs),
    /// Work with configured integrations (tenants).
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Work with the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check a signed verdict (from `check --jwt`) with the device's public key.
    Verify(VerifyArgs),
    /// The device key that signs verdicts: show its public half, or replace it.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Serve nonce-bound verdicts on a local socket (privileged; run by the socket unit).
    Attest(AttestArgs),
    /// Man pages and shell completions from this definition (used by the package builds).
    #[command(subcommand, hide = true)]
    Generate(GenerateCommand),
    /// The Windows installer's steps: data folders, ACLs, scheduled task.
    #[command(subcommand, hide = true)]
    Setup(SetupCommand),
}

/// `s1trust doctor`.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Print the checklist as one versioned JSON document (schema: src/app/doctor-v1.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `s1trust check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Print the versioned JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Always evaluate live (needs the API token and the device identity: root).
    #[arg(long, conflicts_with = "snapshot")]
    pub live: bool,
    /// Only use the snapshot; never evaluate live.
    #[arg(long)]
    pub snapshot: bool,
    /// Print the signed verdict (a JWT) for the snapshot instead; exits like check.
    #[arg(long, conflicts_with_all = ["json", "live"])]
    pub jwt: bool,
    /// Get a verdict signed now and bound to this nonce, from the signer (`attest`).
    #[arg(long, requires = "jwt", value_name = "NONCE")]
    pub nonce: Option<String>,
    /// The audience to bind the nonce-bound verdict to.
    #[arg(long, requires = "nonce", value_name = "AUD")]
    pub aud: Option<String>,
    /// The signer's socket [default: /run/s1trust/attest.sock; macOS /var/run/s1trust/attest.sock].
    #[arg(long, requires = "nonce", value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Print one line as an MDM script reads it; intune, jamf and workspace-one exit
    /// 0 with the answer in the line, kandji exits 0 only when trusted.
    #[arg(long, value_name = "MDM", conflicts_with_all = ["json", "jwt"])]
    pub format: Option<MdmFormat>,
}

/// `check --format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum MdmFormat {
    /// One line of JSON for an Intune custom compliance discovery script.
    Intune,
    /// A Jamf Pro extension attribute: `<result>…</result>`.
    Jamf,
    /// A Kandji audit script: exit 0 only when trusted.
    Kandji,
    /// A Workspace ONE sensor: the answer alone.
    WorkspaceOne,
}

/// `s1trust verify`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("keys").required(true).args(["key", "jwks"])))]
pub(crate) struct VerifyArgs {
    /// The token; `-` or none reads it from standard input.
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
    /// The device's public key, PEM or JWK (from `s1trust key show`).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// A JWKS file (`{"keys": [...]}`) of many devices' keys; picked by `kid`.
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
    /// The nonce the verifier sent; required for a nonce-bound token.
    #[arg(long, value_name = "NONCE")]
    pub nonce: Option<String>,
    /// The verifier's audience; required for a token that names one.
    #[arg(long, value_name = "AUD")]
    pub aud: Option<String>,
    /// Refuse a token issued longer ago than this (e.g. 5m, 1h).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub max_age: Option<std::time::Duration>,
    /// Print the verified claims as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `s1trust key ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Print the device's public key (any user).
    Show {
        /// pem, jwk or thumbprint (the `kid` of its verdicts).
        #[arg(long, value_enum, default_value = "jwk")]
        format: KeyFormat,
    },
    /// Replace the device key (root); the next refresh signs with the new one.
    Rotate,
}

/// `key show --format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum KeyFormat {
    /// SubjectPublicKeyInfo PEM.
    Pem,
    /// JSON Web Key.
    Jwk,
    /// RFC 7638 thumbprint.
    Thumbprint,
}

/// `s1trust attest`.
#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    /// Bind this socket instead of using the socket unit's (tests, containers).
    #[arg(long, value_name = "PATH")]
    pub listen: Option<PathBuf>,
}

/// How to reach a tenant when not (only) from the config.
#[derive(Debug, Clone, Args)]
pub(crate) struct ConnectionArgs {
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
pub(crate) struct LookupArgs {
    /// Hardware serial number (exact match; placeholders are refused).
    #[arg(long, value_name = "SERIAL")]
    pub serial: Option<String>,
    /// SentinelOne agent UUID (any spelling: dashes, braces, case).
    #[arg(long, value_name = "UUID")]
    pub uuid: Option<String>,
    /// Configured integration to ask, by name as written (default: the only one configured).
    #[arg(long, value_name = "NAME", conflicts_with = "url")]
    pub integration: Option<String>,
    /// Print the DaVinci-shaped JSON object (the default when stdout is not a terminal).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `s1trust identity`.
#[derive(Debug, Args)]
pub(crate) struct IdentityArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `s1trust integration ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum IntegrationCommand {
    /// Test the connection: reachability, authentication and scope, read access to agents.
    ///
    /// On a terminal each step's line is printed as it ends, and a status line on
    /// stderr counts the seconds of the step under way; through a pipe the same table
    /// comes at the end, and nothing else.
    Test(IntegrationTestArgs),
    /// Add an integration: tests the connection and saves nothing unless it passes.
    ///
    /// The connection test shows its progress as `integration test` does.
    Add(IntegrationAddArgs),
    /// Change an integration: tests the new settings and saves nothing unless they pass.
    ///
    /// The connection test shows its progress as `integration test` does.
    Edit(IntegrationEditArgs),
    /// List configured integrations (tokens are never shown).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove an integration and the token file s1trust stored for it.
    Remove {
        /// The integration's name as written (quoted when it has spaces; case does not matter).
        name: String,
    },
}

/// Where a new token comes from.
#[derive(Debug, Clone, Args)]
#[group(multiple = false)]
pub(crate) struct TokenInput {
    /// Read the API token from this file (owner-only permissions).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Read the API token from standard input (keeps it out of shell history and `ps`);
    /// on a terminal, prompt for it without showing what is typed.
    #[arg(long)]
    pub token_stdin: bool,
}

/// Settings shared by `integration add` and `integration edit`.
#[derive(Debug, Clone, Args)]
pub(crate) struct IntegrationSettings {
    /// Free text for admins.
    #[arg(long)]
    pub description: Option<String>,
    /// Extra CA certificate(s) in PEM to trust besides the OS store.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Accept only records of this account (repeatable).
    #[arg(long = "account-id", value_name = "ID")]
    pub account_ids: Vec<String>,
    /// Accept only records of this site (repeatable).
    #[arg(long = "site-id", value_name = "ID")]
    pub site_ids: Vec<String>,
    /// Give up the connection test after this many seconds [default: [http] deadline].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<std::time::Duration>,
    /// Print the connection test as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `s1trust integration add`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("token").required(true).args(["token_file", "token_stdin"])))]
pub(crate) struct IntegrationAddArgs {
    /// Unique name as people say it, e.g. "Production SentinelOne" (1-64 printable
    /// characters; quote it in the shell). Shown as the source of its factors.
    #[arg(long)]
    pub name: String,
    /// Console URL, e.g. https://usea1.sentinelone.net.
    #[arg(long, value_name = "URL")]
    pub url: String,
    #[command(flatten)]
    pub token: TokenInput,
    #[command(flatten)]
    pub settings: IntegrationSettings,
}

/// `s1trust integration edit`.
#[derive(Debug, Args)]
pub(crate) struct IntegrationEditArgs {
    /// The integration to change, by name as written (quoted when it has spaces).
    pub name: String,
    /// New console URL.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub token: TokenInput,
    #[command(flatten)]
    pub settings: IntegrationSettings,
    /// Remove the account allow-list.
    #[arg(long, conflicts_with = "account_ids")]
    pub clear_account_ids: bool,
    /// Remove the site allow-list.
    #[arg(long, conflicts_with = "site_ids")]
    pub clear_site_ids: bool,
}

/// `s1trust integration test`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["name", "url"])))]
pub(crate) struct IntegrationTestArgs {
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
pub(crate) enum ConfigCommand {
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
    // The scheduled refresh's stderr is lost on Windows; its log goes to the event log.
    let to_event_log = cfg!(windows) && matches!(cli.command, Command::Refresh);
    init_logging(cli.verbose, cli.quiet, to_event_log);
    let options = options(&cli);
    let result = run(&cli, &options);
    if let Some((kind, message)) = render::stdout_error() {
        if *kind == std::io::ErrorKind::BrokenPipe {
            return std::process::ExitCode::from(render::closed_stdout_status());
        }
        render::errln!("s1trust: error: cannot write output: {message}");
        return Outcome::Unknown.into();
    }
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return std::process::ExitCode::from(render::closed_stdout_status());
        }
        Err(e) => {
            #[cfg(windows)]
            if to_event_log {
                eventlog::report_error(&format!("s1trust refresh: {e}"));
            }
            render::errln!("s1trust: error: {e}");
            if let Some(hint) = e.hint() {
                render::errln!("  hint: {hint}");
            }
            e.outcome()
        }
    };
    outcome.into()
}

/// The arguments and environment every command shares, resolved once: the config
/// file is `--config`, else `$S1TRUST_CONFIG`, else the OS default.
fn options(cli: &Cli) -> Options {
    let named = cli.config.clone().or_else(|| {
        std::env::var_os(CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    match named {
        Some(path) => Options::new(path, true),
        None => Options::new(default_config_path(), false),
    }
}

/// A command's connection options, with `$S1_API_TOKEN` read here once.
fn connection(args: &ConnectionArgs) -> Connection {
    Connection {
        url: args.url.clone(),
        token_file: args.token_file.clone(),
        env_token: std::env::var(TOKEN_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty()),
        ca_file: args.ca_file.clone(),
        timeout: args.timeout,
    }
}

fn run(cli: &Cli, options: &Options) -> Result<Outcome, Error> {
    match &cli.command {
        Command::Check(args) => check::check(options, args),
        Command::Refresh => check::refresh(options, cli.verbose > 0),
        Command::Doctor(args) => doctor::run(options, args.json),
        Command::Lookup(args) => lookup::run(options, args),
        Command::Identity(args) => identity::run(args),
        Command::Integration(IntegrationCommand::Test(args)) => integration::test(options, args),
        Command::Integration(IntegrationCommand::Add(args)) => integration::add(options, args),
        Command::Integration(IntegrationCommand::Edit(args)) => integration::edit(options, args),
        Command::Integration(IntegrationCommand::List { json }) => {
            integration::list(options, *json)
        }
        Command::Integration(IntegrationCommand::Remove { name }) => {
            integration::remove(options, name)
        }
        Command::Config(ConfigCommand::Validate { path }) => {
            config_cmd::validate(options, path.as_deref())
        }
        Command::Verify(args) => verdict::verify(args),
        Command::Key(KeyCommand::Show { format }) => verdict::key_show(options, *format),
        Command::Key(KeyCommand::Rotate) => verdict::key_rotate(options),
        Command::Attest(args) => verdict::attest(options, args),
        Command::Generate(command) => generate::run(options, command),
        Command::Setup(command) => setup::run(command),
    }
}

/// Colour only on a terminal that wants it (<https://no-color.org>, `TERM=dumb`).
fn colour_allowed() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

fn init_logging(verbose: u8, quiet: bool, to_event_log: bool) {
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
        .with_writer(status_line::log_writer)
        .with_ansi(colour_allowed())
        .with_target(verbose >= 2)
        .without_time();
    #[cfg(windows)]
    let registry = tracing_subscriber::registry()
        .with(layer.with_filter(filter.clone()))
        .with(
            to_event_log
                .then_some(eventlog::EventLogLayer)
                .with_filter(filter),
        );
    #[cfg(not(windows))]
    let registry = {
        let _ = to_event_log;
        tracing_subscriber::registry().with(layer.with_filter(filter))
    };
    let _ = registry.try_init();
}
