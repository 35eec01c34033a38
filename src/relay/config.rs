//! The relay's configuration file (docs/relay.md "Configuration"): parsing only, every
//! problem with its line; reading the files it names is the caller's job.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_edit::{Item, TableLike};

pub use crate::config::Problem;
use crate::config::reader::Problems;
use crate::config::{MAX_CONFIG, render_problems};
use crate::fs_trust::{self, Rule, TrustError, file_message, io_wrong};
use crate::tenant::ConsoleUrl;

/// Where the service unit and the container look for the configuration.
pub const DEFAULT_CONFIG: &str = "/etc/s1trust-relay/relay.toml";

/// Below the tenant's documented `/agents` limit of 25 requests/s per token (docs/relay.md
/// "Tenant requests, replicas and sizing"), leaving room for the token's other users.
pub const DEFAULT_MAX_REQUESTS_PER_SECOND: f64 = 10.0;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayConfig {
    /// `[server]`.
    pub server: ServerSettings,
    /// `[sync]`.
    pub sync: SyncSettings,
    /// `[[integration]]`, at least one.
    pub integrations: Vec<IntegrationSettings>,
}

/// `[server]`: where and to whom the relay answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// The devices' address (agents lookups only).
    pub listen: SocketAddr,
    /// The operators' address: `/healthz`, `/readyz`, `/metrics`, without client auth.
    pub ops_listen: SocketAddr,
    /// The relay's certificate chain (PEM); `None` only with plain HTTP on loopback.
    pub cert_file: Option<PathBuf>,
    /// Its private key (PEM).
    pub key_file: Option<PathBuf>,
    /// Devices must present a certificate chaining to one of these CAs.
    pub client_ca_file: Option<PathBuf>,
    /// Revocation lists (PEM) for device certificates: a lost device is refused.
    pub client_crl_files: Vec<PathBuf>,
    /// Devices must send `Authorization: Bearer <one of these files' secrets>`.
    pub secret_files: Vec<PathBuf>,
    /// Plain HTTP, allowed only when `listen` is a loopback address (tests, benchmarks).
    pub plain_http_on_loopback: bool,
    /// Requests per second one client may make, on average.
    pub per_client_rate: f64,
    /// Requests one client may make at once.
    pub per_client_burst: f64,
}

/// `[sync]`: how the inventory is kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncSettings {
    /// Time between the starts of two full syncs.
    pub interval: Duration,
    /// Tenant requests per second, at most, per integration.
    pub max_requests_per_second: f64,
    /// Time allowed for one tenant request.
    pub request_timeout: Duration,
    /// Time allowed for a whole sync, retries included.
    pub timeout: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(300),
            max_requests_per_second: DEFAULT_MAX_REQUESTS_PER_SECOND,
            request_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(600),
        }
    }
}

/// One `[[integration]]`: a tenant and its token.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationSettings {
    /// A name for logs and metrics.
    pub name: String,
    /// The console; devices name it in `x-s1trust-console`.
    pub url: ConsoleUrl,
    /// The API token file (root's, 0600, as on a device).
    pub token_file: PathBuf,
    /// Extra CA certificates for the console.
    pub ca_file: Option<PathBuf>,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}", file_message("relay configuration", path, &io_wrong(source), "give --config the relay's configuration file"))]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Someone but root could have written it (or a folder above it).
    #[error(
        "{}",
        file_message(
            "relay configuration",
            path,
            why,
            "it names the tenants the tokens are sent to: it must be root's, in folders only root can change"
        )
    )]
    Untrusted {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The file has problems, one per line of the message.
    #[error("{}", render_problems(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// Reads and checks the file at `path`; relative file names in it resolve against its folder.
pub fn load(path: &Path) -> Result<RelayConfig, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let rule = Rule::system(MAX_CONFIG).following();
    let (bytes, real) = fs_trust::read(path, &rule).map_err(|e| match e {
        TrustError::Missing(_) => read_error(std::io::ErrorKind::NotFound.into()),
        TrustError::Io { source, .. } => read_error(source),
        untrusted @ TrustError::Untrusted { .. } => ConfigError::Untrusted {
            path: path.to_owned(),
            why: untrusted.wrong(path),
        },
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| read_error(std::io::Error::other("not UTF-8 text")))?;
    let mut config = parse(&text).map_err(|problems| ConfigError::Invalid {
        path: path.to_owned(),
        problems,
    })?;
    if let Some(dir) = real.parent() {
        resolve(&mut config, dir);
    }
    Ok(config)
}

fn resolve(config: &mut RelayConfig, dir: &Path) {
    let server = &mut config.server;
    let files = [
        server.cert_file.as_mut(),
        server.key_file.as_mut(),
        server.client_ca_file.as_mut(),
    ]
    .into_iter()
    .flatten()
    .chain(server.secret_files.iter_mut())
    .chain(server.client_crl_files.iter_mut())
    .chain(
        config
            .integrations
            .iter_mut()
            .flat_map(|i| std::iter::once(&mut i.token_file).chain(i.ca_file.as_mut())),
    );
    for file in files {
        if file.is_relative() {
            *file = dir.join(&*file);
        }
    }
}

const TOP_KEYS: &[&str] = &["server", "sync", "integration"];
/// Longest sync interval or timeout: a relay that syncs less than daily serves
/// inventories every device would refuse as stale.
const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
const SERVER_KEYS: &[&str] = &[
    "listen",
    "ops_listen",
    "cert_file",
    "key_file",
    "client_ca_file",
    "client_crl_files",
    "secret_files",
    "plain_http_on_loopback",
    "per_client_rate",
    "per_client_burst",
];
const SYNC_KEYS: &[&str] = &[
    "interval",
    "max_requests_per_second",
    "request_timeout",
    "timeout",
];
const INTEGRATION_KEYS: &[&str] = &["name", "url", "token_file", "ca_file"];

/// Parses configuration text, returning every problem found, in line order.
pub fn parse(text: &str) -> Result<RelayConfig, Vec<Problem>> {
    let (doc, problems) = Problems::parse(text)?;
    let mut reader = Reader(problems);
    let config = reader.config(doc.as_table());
    reader.0.finish(config)
}

/// Reads the relay's tables, collecting problems ([`Problems`] does the reading every
/// table shares).
struct Reader(Problems);

impl std::ops::Deref for Reader {
    type Target = Problems;

    fn deref(&self) -> &Problems {
        &self.0
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Problems {
        &mut self.0
    }
}

impl Reader {
    fn config(&mut self, root: &dyn TableLike) -> RelayConfig {
        self.check_keys(root, TOP_KEYS, "the top level");
        let empty = toml_edit::Table::new();
        let server = self.table(root, "server").unwrap_or(&empty);
        let server = self.server(server, root.get("server").and_then(Item::span));
        let sync = match self.table(root, "sync") {
            Some(table) => self.sync(table),
            None => SyncSettings::default(),
        };
        let integrations = self.integrations(root.get("integration"));
        RelayConfig {
            server,
            sync,
            integrations,
        }
    }

    fn table<'d>(&mut self, root: &'d dyn TableLike, key: &str) -> Option<&'d dyn TableLike> {
        let item = root.get(key)?;
        let table = item.as_table_like();
        if table.is_none() {
            self.problem(item.span(), format!("`{key}` must be a table: [{key}]"));
        }
        table
    }

    fn server(&mut self, table: &dyn TableLike, span: Option<Range<usize>>) -> ServerSettings {
        self.check_keys(table, SERVER_KEYS, "[server]");
        let listen = self
            .address(table, "listen")
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 8443)));
        let ops_listen = self
            .address(table, "ops_listen")
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9464)));
        let plain = self.switch(table, "plain_http_on_loopback", false);
        let cert_file = self.path(table, "cert_file");
        let key_file = self.path(table, "key_file");
        let client_ca_file = self.path(table, "client_ca_file");
        let client_crl_files = self.path_list(table, "client_crl_files");
        if client_ca_file.is_none() && !client_crl_files.is_empty() {
            let at = table.get("client_crl_files").and_then(Item::span);
            self.problem(
                at,
                "`client_crl_files` revoke device certificates: it needs `client_ca_file`".into(),
            );
        }
        let secret_files = self.path_list(table, "secret_files");
        if plain && !listen.ip().is_loopback() {
            let at = table.get("plain_http_on_loopback").and_then(Item::span);
            self.problem(at, format!("plain_http_on_loopback is set but `listen` ({listen}) is not a loopback address; devices must reach the relay over TLS"));
        }
        if !plain && (cert_file.is_none() || key_file.is_none()) {
            self.problem(
                span.clone(),
                "[server] needs `cert_file` and `key_file`: the relay serves TLS".into(),
            );
        }
        if client_ca_file.is_none() && secret_files.is_empty() {
            self.problem(span, "[server] names no way for devices to authenticate: set `client_ca_file` (mutual TLS) and/or `secret_files` (bearer secrets)".into());
        }
        if plain && client_ca_file.is_some() {
            let at = table.get("client_ca_file").and_then(Item::span);
            self.problem(
                at,
                "`client_ca_file` needs TLS, but plain_http_on_loopback is set".into(),
            );
        }
        ServerSettings {
            listen,
            ops_listen,
            cert_file,
            key_file,
            client_ca_file,
            client_crl_files,
            secret_files,
            plain_http_on_loopback: plain,
            per_client_rate: self.positive(table, "per_client_rate", 10.0),
            per_client_burst: self.positive(table, "per_client_burst", 50.0),
        }
    }

    fn sync(&mut self, table: &dyn TableLike) -> SyncSettings {
        self.check_keys(table, SYNC_KEYS, "[sync]");
        let d = SyncSettings::default();
        SyncSettings {
            interval: self.duration(table, "interval", d.interval),
            max_requests_per_second: self.positive(
                table,
                "max_requests_per_second",
                d.max_requests_per_second,
            ),
            request_timeout: self.duration(table, "request_timeout", d.request_timeout),
            timeout: self.duration(table, "timeout", d.timeout),
        }
    }

    fn integrations(&mut self, item: Option<&Item>) -> Vec<IntegrationSettings> {
        let Some(item) = item else {
            self.problem(
                None,
                "no [[integration]]: name at least one tenant (name, url, token_file)".into(),
            );
            return Vec::new();
        };
        let Some(tables) = item.as_array_of_tables() else {
            self.problem(
                item.span(),
                "`integration` must be an array of tables: [[integration]]".into(),
            );
            return Vec::new();
        };
        let mut out: Vec<IntegrationSettings> = Vec::new();
        for table in tables.iter() {
            let Some(integration) = self.integration(table) else {
                continue;
            };
            let span = table.get("url").and_then(Item::span);
            if out.iter().any(|i| i.url == integration.url) {
                self.problem(
                    span,
                    format!(
                        "console {} is named twice; each [[integration]] must name another tenant",
                        integration.url.as_str()
                    ),
                );
            } else if out.iter().any(|i| i.name == integration.name) {
                let span = table.get("name").and_then(Item::span);
                self.problem(
                    span,
                    format!("integration name {:?} is used twice", integration.name),
                );
            } else {
                out.push(integration);
            }
        }
        out
    }

    fn integration(&mut self, table: &toml_edit::Table) -> Option<IntegrationSettings> {
        self.check_keys(table, INTEGRATION_KEYS, "[[integration]]");
        let required = |reader: &mut Self, key: &str| {
            if table.get(key).is_none() {
                reader.problem(table.span(), format!("[[integration]] is missing `{key}`"));
            }
            reader.string(table, key)
        };
        let name = required(self, "name");
        let url = required(self, "url");
        let token_file = required(self, "token_file");
        let ca_file = self.path(table, "ca_file");
        let url = match ConsoleUrl::parse(&url?) {
            Ok(url) => url,
            Err(e) => {
                self.problem(table.get("url").and_then(Item::span), e.to_string());
                return None;
            }
        };
        Some(IntegrationSettings {
            name: name?,
            url,
            token_file: PathBuf::from(token_file?),
            ca_file,
        })
    }

    fn string(&mut self, table: &dyn TableLike, key: &str) -> Option<String> {
        let value = self.0.string(table, key)?;
        if value.trim().is_empty() {
            let span = table.get(key).and_then(Item::span);
            self.problem(span, format!("`{key}` must be a non-empty string"));
            return None;
        }
        Some(value)
    }

    fn path(&mut self, table: &dyn TableLike, key: &str) -> Option<PathBuf> {
        self.string(table, key).map(PathBuf::from)
    }

    fn path_list(&mut self, table: &dyn TableLike, key: &str) -> Vec<PathBuf> {
        let Some(item) = table.get(key) else {
            return Vec::new();
        };
        let paths: Option<Vec<PathBuf>> = item.as_array().and_then(|array| {
            array
                .iter()
                .map(|v| v.as_str().filter(|s| !s.is_empty()).map(PathBuf::from))
                .collect()
        });
        match paths {
            Some(paths) if !paths.is_empty() => paths,
            _ => {
                self.problem(
                    item.span(),
                    format!("`{key}` must be a non-empty list of file names"),
                );
                Vec::new()
            }
        }
    }

    fn address(&mut self, table: &dyn TableLike, key: &str) -> Option<SocketAddr> {
        let item = table.get(key)?;
        let parsed = item.as_str().and_then(|s| s.trim().parse().ok());
        if parsed.is_none() {
            self.problem(
                item.span(),
                format!("`{key}` must be an address and port, e.g. \"0.0.0.0:8443\""),
            );
        }
        parsed
    }

    fn positive(&mut self, table: &dyn TableLike, key: &str, default: f64) -> f64 {
        let Some(item) = table.get(key) else {
            return default;
        };
        let value = item
            .as_float()
            .or_else(|| item.as_integer().map(|i| i as f64));
        match value {
            Some(v) if v > 0.0 && v.is_finite() => v,
            _ => {
                self.problem(item.span(), format!("`{key}` must be a positive number"));
                default
            }
        }
    }

    fn duration(&mut self, table: &dyn TableLike, key: &str, default: Duration) -> Duration {
        self.0.duration(table, key, default, MAX_DURATION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[server]
listen = "0.0.0.0:8443"
cert_file = "server.pem"
key_file = "server.key"
client_ca_file = "devices-ca.pem"

[sync]
interval = "2m"

[[integration]]
name = "corp"
url = "https://corp.sentinelone.net"
token_file = "/etc/s1trust-relay/corp.token"
"#;

    #[test]
    fn a_good_file() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.sync.interval, Duration::from_secs(120));
        assert_eq!(
            config.sync.max_requests_per_second,
            DEFAULT_MAX_REQUESTS_PER_SECOND
        );
        assert_eq!(config.server.ops_listen.to_string(), "127.0.0.1:9464");
        assert_eq!(config.integrations[0].name, "corp");
        let mut resolved = config.clone();
        resolve(&mut resolved, Path::new("/etc/s1trust-relay"));
        assert_eq!(
            resolved.server.cert_file.as_deref(),
            Some(Path::new("/etc/s1trust-relay/server.pem"))
        );
    }

    fn problems(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .into_iter()
            .map(|p| format!("{:?}: {}", p.line, p.message))
            .collect()
    }

    #[test]
    fn problems_have_lines() {
        let bad = GOOD
            .replace("interval = \"2m\"", "interval = \"often\"\ncolour = 1")
            .replace("client_ca_file = \"devices-ca.pem\"\n", "");
        let found = problems(&bad);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("Some(2): [server] names no way"),
            "{found:?}"
        );
        assert!(found[1].starts_with("Some(8): `interval`"), "{found:?}");
        assert!(
            found[2].starts_with("Some(9): unknown key `colour`"),
            "{found:?}"
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let plain = "[server]\nlisten = \"0.0.0.0:8080\"\nplain_http_on_loopback = true\nsecret_files = [\"s\"]\n[[integration]]\nname = \"a\"\nurl = \"https://a.sentinelone.net\"\ntoken_file = \"t\"\n";
        let found = problems(plain);
        assert!(found[0].contains("not a loopback address"), "{found:?}");
        assert!(parse(&plain.replace("0.0.0.0:8080", "127.0.0.1:8080")).is_ok());
    }

    #[test]
    fn integrations_are_required_and_distinct() {
        let empty = problems("[server]\n");
        assert!(empty.iter().any(|p| p.contains("cert_file")), "{empty:?}");
        assert!(
            empty.iter().any(|p| p.contains("no [[integration]]")),
            "{empty:?}"
        );
        let twice = format!(
            "{GOOD}\n[[integration]]\nname = \"other\"\nurl = \"https://corp.sentinelone.net/\"\ntoken_file = \"x\"\n"
        );
        assert!(problems(&twice)[0].contains("named twice"));
        assert!(problems("x = [")[0].starts_with("Some(1):"));
    }
}
