//! The settings model: what a configuration says, as plain values.
//!
//! `posture/` and `tenant/` depend on these types only; how they are read from
//! TOML (and reported when wrong) is [`crate::config`]'s job.

use std::path::PathBuf;
use std::time::Duration;

use crate::catalogue::FactorSettings;
use crate::tenant::url::ConsoleUrl;

/// Environment variable that overrides the config path.
pub const CONFIG_ENV: &str = "S1TRUST_CONFIG";

/// The configuration file's location when neither `--config` nor `S1TRUST_CONFIG` is given.
pub fn default_config_path() -> PathBuf {
    if cfg!(windows) {
        let base = std::env::var_os("ProgramData").unwrap_or_else(|| r"C:\ProgramData".into());
        PathBuf::from(base).join("s1trust").join("config.toml")
    } else if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/s1trust/config.toml")
    } else {
        PathBuf::from("/etc/s1trust/config.toml")
    }
}

/// The posture snapshot's location when the config does not set `[snapshot] path`:
/// beside the config on macOS and Windows, under /var/lib on Linux (docs/install.md).
pub fn default_snapshot_path() -> PathBuf {
    if cfg!(any(windows, target_os = "macos")) {
        default_config_path().with_file_name("posture.json")
    } else {
        PathBuf::from("/var/lib/s1trust/posture.json")
    }
}

/// Default `[snapshot] max_age`.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 60);

/// A parsed, validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from (relative paths in it are resolved against its folder).
    pub path: Option<PathBuf>,
    /// The tenants to query, in file order.
    pub integrations: Vec<Integration>,
    /// Network limits.
    pub http: HttpSettings,
    /// Where the posture snapshot lives and how long it is good for.
    pub snapshot: SnapshotSettings,
    /// Which native stores a refresh keeps in step with the snapshot.
    pub publish: PublishSettings,
    /// What an answer through a relay must satisfy.
    pub relay: RelaySettings,
}

/// The `[relay]` table (docs/relay.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelaySettings {
    /// Oldest relay inventory an answer may come from; older is `unknown`/`relay_stale`.
    pub max_age: Duration,
}

/// Three of the relay's default 5-minute syncs: one failed sync does not make every
/// device's answer unknown, a relay cut off from its tenant for 15 minutes does.
pub const DEFAULT_RELAY_MAX_AGE: Duration = Duration::from_secs(15 * 60);

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            max_age: DEFAULT_RELAY_MAX_AGE,
        }
    }
}

/// How a device reaches its tenant through an `s1trust-relay`, which holds the API
/// token instead of the device (`relay` in an `[[integration]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayEndpoint {
    /// The relay's address.
    pub url: ConsoleUrl,
    /// A file holding the relay's bearer secret (owner-only, like a token file).
    pub secret_file: Option<PathBuf>,
    /// The device's client certificate (PEM) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// Its private key (PEM, owner-only).
    pub client_key: Option<PathBuf>,
}

/// The `[publish]` table: the stores zero-trust clients and MDMs read without
/// running s1trust. Each is on unless switched off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSettings {
    /// The `trusted` marker file beside the snapshot (every OS).
    pub marker: bool,
    /// `/Library/Preferences/com.s1trust.posture.plist` (macOS).
    pub plist: bool,
    /// `HKLM\SOFTWARE\s1trust\Posture` (Windows).
    pub registry: bool,
    /// The page Intune's compliance rules link to (`MoreInfoUrl`), http(s).
    pub more_info_url: String,
}

/// Default `[publish] more_info_url`: a placeholder, reserved by RFC 2606, that
/// `generate intune-rules` replaces with the configured page.
pub const DEFAULT_MORE_INFO_URL: &str = "https://support.example.com/s1trust";

impl Default for PublishSettings {
    fn default() -> Self {
        Self {
            marker: true,
            plist: true,
            registry: true,
            more_info_url: DEFAULT_MORE_INFO_URL.into(),
        }
    }
}

/// The `[snapshot]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSettings {
    /// The snapshot file.
    pub path: PathBuf,
    /// Oldest snapshot `check` accepts.
    pub max_age: Duration,
}

impl Default for SnapshotSettings {
    fn default() -> Self {
        Self {
            path: default_snapshot_path(),
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

/// One SentinelOne tenant (an `[[integration]]` table).
#[derive(Debug, Clone)]
pub struct Integration {
    /// Unique name as people write it (e.g. "Production SentinelOne"), shown as written
    /// in every output and accepted on the command line (compared as `same_name` does).
    pub name: super::name::IntegrationName,
    /// Free text for admins.
    pub description: Option<String>,
    /// The console address.
    pub url: ConsoleUrl,
    /// File holding the API token (owner-only permissions).
    pub token_file: Option<PathBuf>,
    /// The relay to ask instead of the console (then there is no `token_file`).
    pub relay: Option<RelayEndpoint>,
    /// Extra CA certificate(s) in PEM, trusted in addition to the OS store.
    pub ca_file: Option<PathBuf>,
    /// Records outside these accounts are not accepted (empty: any).
    pub account_ids: Vec<String>,
    /// Records outside these sites are not accepted (empty: any).
    pub site_ids: Vec<String>,
    /// Settings for every factor of the catalogue, in catalogue order.
    pub factors: Vec<FactorSettings>,
}

/// The `[http]` table: the tenant client's own settings type.
pub use crate::tenant::client::HttpSettings;

impl Config {
    /// The integration called `name`, compared as [`same_name`] does (ignoring case
    /// and surrounding spaces), so `--integration "production sentinelone"` finds
    /// "Production SentinelOne".
    pub fn integration(&self, name: &str) -> Option<&Integration> {
        self.integrations
            .iter()
            .find(|i| super::name::same_name(&i.name, name))
    }
}
