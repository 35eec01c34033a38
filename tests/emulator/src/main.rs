//! `s1-emulator`: run the emulated SentinelOne tenant from the command line,
//! for demos and for scripts that test the `s1trust` binary end to end.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use s1_emulator::{Emulator, EmulatorConfig, TokenSpec};

const BUNDLED_AGENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/agents.json");
const TOKEN_ENV: &str = "S1_EMULATOR_TOKEN";

const AFTER_HELP: &str = r#"TOKENS
  Every --token is an account-scoped Viewer token that can read agents and
  expires in 180 days. Without --token or --tokens-file, the token is read from
  S1_EMULATOR_TOKEN; with none at all the emulator refuses to start.
  Clients authenticate with the header:  Authorization: ApiToken <token>

  --tokens-file FILE takes a JSON list of full token specs, e.g.
    [{"token":"site-tok","role":"Viewer","scope":"site","site_ids":["1750386224336785844"],
      "expires_at":"2030-01-01T00:00:00Z","can_read_agents":true},
     {"token":"no-agents","role":"Viewer","scope":"account","can_read_agents":false}]
  (expires_at: RFC 3339 or null = never; can_read_agents defaults to true;
   site_ids limits which agents the token sees).

AGENTS FILE
  A JSON array of agent objects in SentinelOne's shape, or a captured
  {"data":[...]} response. Records are returned verbatim, ordered by id.

ENDPOINTS (base /web/api/v2.1)
  GET  /system/status                 no auth: {"data":{"health":"ok"}}
  GET  /system/info                   build/version info
  GET  /user                          the token's user, scope and expiry
  POST /users/api-token-details       body {"data":{"apiToken":"..."}}
  GET  /agents                        filters: uuid, uuids, ids, serialNumber__contains,
                                      uuid__contains, computerName, computerName__contains,
                                      siteIds, accountIds, groupIds, isDecommissioned,
                                      isUninstalled, isActive, limit (1-1000, default 10),
                                      cursor, skip (0-1000), countOnly, skipCount.
                                      Decommissioned agents are hidden unless
                                      isDecommissioned is given.
  GET  /agents/count                  same filters, {"data":{"total":N}}

FAULTS FILE
  A JSON list of rules, checked in order; the first matching rule with uses
  left applies. Common keys: "kind" (required), "path" (path prefix to match),
  "token" (only requests with this token), "times" (apply to the first N
  matching requests only; omitted = always), "after" (let the first N matching
  requests through before applying, e.g. a listing that dies after page N). Kinds:
    {"kind":"latency","ms":1500}                   delay, then answer normally
    {"kind":"status","code":503,"retry_after":"2"} the console's error envelope
                                                   (+ Retry-After when given)
    {"kind":"html","status":200}                   an HTML login/proxy page
    {"kind":"malformed_json"}                      200 application/json, not JSON
    {"kind":"truncated_json"}                      200, connection cut mid-body
    {"kind":"oversized","bytes":20000000}          200, valid JSON padded to size
    {"kind":"raw_json","body":"{...}"}             200 application/json, this exact body
    {"kind":"wrong_shape"}                         200, valid JSON not in the API's shape
    {"kind":"trickle","ms":100}                    the real answer, one byte per 100 ms
    {"kind":"drop_mid_body"}                       the real answer (chunked), cut mid-body
    {"kind":"redirect","status":302,"location":"https://127.0.0.1:1/"}
                                                   a redirect (status defaults to 302)
    {"kind":"error_detail","status":401,"detail":"bad {authorization}"}
                                                   the error envelope with this detail;
                                                   {authorization} and {token} echo the
                                                   request's (status defaults to 500)
    {"kind":"drop"}                                close without any response
    {"kind":"hang"}                                never answer
  Example: [{"kind":"status","code":429,"retry_after":"1","path":"/web/api/v2.1/agents","times":2}]

OUTPUT
  The first line on stdout is the base URL (e.g. https://127.0.0.1:41234).
  Each request is logged on stderr (tokens are masked). Runs until Ctrl-C or
  SIGTERM."#;

/// Emulated SentinelOne Management API (v2.1) tenant, served on loopback.
#[derive(Debug, Parser)]
#[command(name = "s1-emulator", version, about, after_long_help = AFTER_HELP)]
struct Cli {
    /// Agent records (JSON array or {"data":[...]}) [default: the bundled fixtures/agents.json]
    #[arg(long, value_name = "FILE")]
    agents: Option<PathBuf>,

    /// Serve N generated agents (deterministic for a --seed; every 50th a decommissioned
    /// duplicate, about one in 1000 with a placeholder serial), added to --agents when
    /// that is given, in place of the bundled fixtures otherwise
    #[arg(long, value_name = "N")]
    generate_agents: Option<usize>,

    /// Seed for --generate-agents
    #[arg(
        long,
        value_name = "SEED",
        default_value_t = 1,
        requires = "generate_agents"
    )]
    seed: u64,

    /// Address to listen on; only loopback addresses are accepted
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// Write the generated CA certificate (PEM) here, for the client to trust
    #[arg(long, value_name = "PATH", conflicts_with = "plain_http")]
    ca_out: Option<PathBuf>,

    /// Accept this API token (repeatable); Viewer role, account scope, 180-day expiry
    #[arg(long = "token", value_name = "TOKEN")]
    tokens: Vec<String>,

    /// Accept the tokens described in this JSON file (see below)
    #[arg(long = "tokens-file", value_name = "FILE")]
    tokens_file: Option<PathBuf>,

    /// Serve plain HTTP instead of HTTPS
    #[arg(long)]
    plain_http: bool,

    /// Limit each token to N requests per second (over the limit: 429, Retry-After: 1)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit: Option<u32>,

    /// Inject faults described in this JSON file (format below)
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,

    /// Write the base URL to this file once listening, so scripts can wait for it
    #[arg(long, value_name = "PATH")]
    url_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("s1-emulator: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let config = build_config(&cli)?;
    let emulator = Emulator::start(config).map_err(|e| e.to_string())?;
    emulator.set_request_observer(Arc::new(|r| eprintln!("{r}")));
    if let Some(path) = &cli.ca_out {
        emulator.write_ca_pem(path).map_err(|e| e.to_string())?;
    }
    // Handlers go in before the URL is announced: a script may send SIGTERM
    // as soon as it has read the URL, and that must still shut down cleanly.
    let shutdown = Shutdown::install()?;
    announce(&emulator, cli.url_file.as_deref())?;
    shutdown.wait()?;
    eprintln!("s1-emulator: shutting down");
    Ok(())
}

fn build_config(cli: &Cli) -> Result<EmulatorConfig, String> {
    let agents_path = match (&cli.agents, cli.generate_agents) {
        (Some(path), _) => Some(path.clone()),
        (None, None) => Some(PathBuf::from(BUNDLED_AGENTS)),
        (None, Some(_)) => None,
    };
    let mut agents = match agents_path {
        Some(path) => s1_emulator::load_agents(&path).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    if let Some(n) = cli.generate_agents {
        agents.extend(s1_emulator::generate_agents(
            n,
            cli.seed,
            time::OffsetDateTime::now_utc(),
        ));
    }
    let faults = match &cli.faults {
        Some(path) => s1_emulator::load_faults(path).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    Ok(EmulatorConfig {
        agents,
        tokens: collect_tokens(cli)?,
        tls: !cli.plain_http,
        rate_limit_per_sec: cli.rate_limit,
        faults,
        bind: Some(cli.listen),
        cert_names: None,
    })
}

fn collect_tokens(cli: &Cli) -> Result<Vec<TokenSpec>, String> {
    let mut tokens: Vec<TokenSpec> = cli.tokens.iter().map(|t| TokenSpec::viewer(t)).collect();
    if let Some(path) = &cli.tokens_file {
        tokens.extend(s1_emulator::load_tokens(path).map_err(|e| e.to_string())?);
    }
    if tokens.is_empty() {
        match std::env::var(TOKEN_ENV) {
            Ok(t) if !t.trim().is_empty() => tokens.push(TokenSpec::viewer(t.trim())),
            _ => {
                return Err(format!(
                    "no API token configured: pass --token TOKEN (or --tokens-file FILE), \
                     or set {TOKEN_ENV}"
                ));
            }
        }
    }
    Ok(tokens)
}

/// Announces the URL once the server is accepting connections: the URL file
/// first, then stdout, so a script that has seen either can rely on both.
fn announce(emulator: &Emulator, url_file: Option<&Path>) -> Result<(), String> {
    let url = emulator.url();
    if let Some(path) = url_file {
        // Write then rename, so a watcher never reads a half-written URL.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, format!("{url}\n"))
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{url}")
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("writing to stdout: {e}"))?;
    eprintln!("s1-emulator: listening on {url} (Ctrl-C to stop)");
    Ok(())
}

/// Ctrl-C / SIGTERM, registered up front and awaited later.
struct Shutdown {
    runtime: tokio::runtime::Runtime,
    #[cfg(unix)]
    signals: [tokio::signal::unix::Signal; 2],
}

impl Shutdown {
    fn install() -> Result<Shutdown, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting signal handler: {e}"))?;
        #[cfg(unix)]
        let signals = {
            use tokio::signal::unix::{SignalKind, signal};
            let _guard = runtime.enter();
            let install =
                |kind| signal(kind).map_err(|e| format!("installing signal handler: {e}"));
            [
                install(SignalKind::interrupt())?,
                install(SignalKind::terminate())?,
            ]
        };
        Ok(Shutdown {
            runtime,
            #[cfg(unix)]
            signals,
        })
    }

    #[cfg(unix)]
    fn wait(self) -> Result<(), String> {
        let [mut int, mut term] = self.signals;
        self.runtime.block_on(async {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        });
        Ok(())
    }

    #[cfg(not(unix))]
    fn wait(self) -> Result<(), String> {
        self.runtime
            .block_on(tokio::signal::ctrl_c())
            .map_err(|e| format!("Ctrl-C handler: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn bundled_fixture_loads() {
        let agents = s1_emulator::load_agents(Path::new(BUNDLED_AGENTS)).unwrap();
        assert!(agents.len() >= 8);
    }
}
