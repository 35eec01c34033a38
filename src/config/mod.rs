//! The configuration: the settings model (`settings.rs`), the integration-name rules
//! (`name.rs`), editing the file in place (`edit.rs`), and here loading and reading
//! the TOML into settings.
//!
//! Parsing walks a `toml_edit` document rather than using serde so that every
//! problem (unknown key, wrong type, bad URL, duplicate name) is reported at
//! once with its line, not just the first one.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::io::Read;

use toml_edit::{Item, TableLike};

use crate::fs_trust::{self, Rule, TrustError, file_message, io_wrong};

use crate::catalogue::{FactorKey, FactorSettings, Parameter};
use crate::identity::OsType;
pub(crate) mod edit;
pub mod name;
pub(crate) mod reader;
pub mod settings;

use crate::tenant::url::ConsoleUrl;
use crate::version::Version;
pub use name::{
    IntegrationName, NAME_RULE, name_key, same_name, shell_word, token_slug, valid_name,
};
pub use settings::{
    CONFIG_ENV, Config, DEFAULT_MAX_AGE, DEFAULT_MORE_INFO_URL, DEFAULT_RELAY_MAX_AGE,
    HttpSettings, Integration, PublishSettings, RelayEndpoint, RelaySettings, SnapshotSettings,
    default_config_path, default_snapshot_path,
};

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file does not exist.
    #[error(
        "{}",
        file_message(
            "configuration file",
            .0,
            "does not exist",
            &format!("add a tenant with `s1trust integration add` (as root), or pass --config PATH / set {CONFIG_ENV}"),
        )
    )]
    NotFound(PathBuf),
    /// The file could not be read.
    #[error(
        "{}",
        file_message("configuration file", path, &io_wrong(source), read_fix(source))
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Someone other than root (SYSTEM) could have written it or a folder above it.
    #[error("{}", file_message("configuration file", path, why, UNTRUSTED_FIX))]
    Untrusted {
        /// The file as named.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The file has problems; each is listed with its line.
    #[error("{}", render_problems(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

const UNTRUSTED_FIX: &str = "only a configuration that root owns, with every folder above it, on a file system root mounted, counts; `s1trust doctor` as root shows what to fix";

fn read_fix(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "run as root, or let others read it and enter the folders above it (`s1trust doctor` as root checks both)"
        }
        std::io::ErrorKind::InvalidData => "a configuration is TOML text in UTF-8, at most 1 MiB",
        _ => "check the file and the disk it is on",
    }
}

/// Problems shown at most; the rest are counted (a file of nothing but unknown keys
/// must not bury the terminal).
pub const MAX_SHOWN_PROBLEMS: usize = 100;

pub(crate) fn render_problems(path: &Path, problems: &[Problem]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(MAX_SHOWN_PROBLEMS)
        .map(|p| match p.line {
            Some(line) => format!("{}:{line}: {}", path.display(), p.message),
            None => format!("{}: {}", path.display(), p.message),
        })
        .collect();
    if problems.len() > MAX_SHOWN_PROBLEMS {
        lines.push(format!(
            "{}: and {} more problem(s)",
            path.display(),
            problems.len() - MAX_SHOWN_PROBLEMS
        ));
    }
    lines.join("\n")
}

/// Largest configuration read; a real one is a few KiB.
pub const MAX_CONFIG: u64 = 1024 * 1024;

/// Reads and validates the configuration file at `path`, whoever owns it (for
/// commands whose answer is not a trust decision, such as `config validate`).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = read_text(path)?;
    from_text(&text, path)
}

/// Reads the configuration only if root (SYSTEM) owns it and every folder above it,
/// judged on the open file: the rule for anything that steers a posture answer.
/// Relative paths in it resolve against its real folder, not a symbolic link's.
pub fn load_trusted(path: &Path) -> Result<Config, ConfigError> {
    let rule = Rule::system(MAX_CONFIG).following();
    let (bytes, real) = fs_trust::read(path, &rule).map_err(|e| match e {
        TrustError::Missing(_) => ConfigError::NotFound(path.to_owned()),
        TrustError::Io { source, .. } => ConfigError::Read {
            path: path.to_owned(),
            source,
        },
        untrusted @ TrustError::Untrusted { .. } => ConfigError::Untrusted {
            path: path.to_owned(),
            why: untrusted.wrong(path),
        },
    })?;
    let text = utf8(path, bytes)?;
    let mut config = parse(&text).map_err(|problems| ConfigError::Invalid {
        path: path.to_owned(),
        problems,
    })?;
    resolve_relative_paths(&mut config, &real);
    config.path = Some(path.to_owned());
    Ok(config)
}

/// The text of a configuration file (at most [`MAX_CONFIG`] bytes, UTF-8, a regular file).
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ConfigError::NotFound(path.to_owned())
        } else {
            ConfigError::Read {
                path: path.to_owned(),
                source,
            }
        }
    };
    let file = fs_trust::open_regular(path).map_err(read_error)?;
    let len = file.metadata().map_err(read_error)?.len();
    if len > MAX_CONFIG {
        return Err(too_large(path));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_CONFIG {
        return Err(too_large(path));
    }
    utf8(path, bytes)
}

fn too_large(path: &Path) -> ConfigError {
    ConfigError::Read {
        path: path.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} KiB", MAX_CONFIG / 1024),
        ),
    }
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, ConfigError> {
    String::from_utf8(bytes).map_err(|_| ConfigError::Read {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
    })
}

/// Parses the text of the config file at `path`: relative paths in it are resolved
/// against its folder.
pub fn from_text(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let mut config = parse(text).map_err(|problems| ConfigError::Invalid {
        path: path.to_owned(),
        problems,
    })?;
    // One rule for every command: relative paths resolve against the file's real
    // folder, as `load_trusted` does, never a symbolic link's.
    resolve_relative_paths(&mut config, &real_path(path));
    config.path = Some(path.to_owned());
    Ok(config)
}

/// Parses configuration text, returning every problem found.
pub fn parse(text: &str) -> Result<Config, Vec<Problem>> {
    let (doc, problems) = reader::Problems::parse(text)?;
    let mut collector = ProblemCollector(problems);
    let config = collector.config(doc.as_table());
    collector.0.finish(config)
}

/// `path` with every symbolic link resolved, or as given when it does not exist yet.
pub(crate) fn real_path(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

fn resolve_relative_paths(config: &mut Config, config_path: &Path) {
    let Some(dir) = config_path.parent() else {
        return;
    };
    if config.snapshot.path.is_relative() {
        config.snapshot.path = dir.join(&config.snapshot.path);
    }
    for integration in &mut config.integrations {
        let relay_files = integration
            .relay
            .as_mut()
            .map(|r| [&mut r.secret_file, &mut r.client_cert, &mut r.client_key]);
        for file in [&mut integration.token_file, &mut integration.ca_file]
            .into_iter()
            .chain(relay_files.into_iter().flatten())
            .flatten()
        {
            if file.is_relative() {
                *file = dir.join(&*file);
            }
        }
    }
}

const TOP_KEYS: &[&str] = &["integration", "http", "snapshot", "publish", "relay"];
const INTEGRATION_KEYS: &[&str] = &[
    "name",
    "description",
    "url",
    "token_file",
    "relay",
    "relay_secret_file",
    "client_cert",
    "client_key",
    "ca_file",
    "account_ids",
    "site_ids",
    "factors",
];
const HTTP_KEYS: &[&str] = &["connect_timeout", "request_timeout", "deadline"];
const SNAPSHOT_KEYS: &[&str] = &["path", "max_age"];
const PUBLISH_KEYS: &[&str] = &["marker", "plist", "registry", "more_info_url"];
const RELAY_KEYS: &[&str] = &["max_age"];
const FACTOR_KEYS: &[&str] = &["enabled", "os", "remediation"];

/// Reads the device's tables, collecting problems ([`reader::Problems`] does the
/// reading every table shares).
struct ProblemCollector(reader::Problems);

impl std::ops::Deref for ProblemCollector {
    type Target = reader::Problems;

    fn deref(&self) -> &reader::Problems {
        &self.0
    }
}

impl std::ops::DerefMut for ProblemCollector {
    fn deref_mut(&mut self) -> &mut reader::Problems {
        &mut self.0
    }
}

impl ProblemCollector {
    /// The top-level table `key` read by `read`; its defaults when absent or not a table.
    fn section<T: Default>(
        &mut self,
        root: &dyn TableLike,
        key: &str,
        read: fn(&mut Self, &dyn TableLike) -> T,
    ) -> T {
        let Some(item) = root.get(key) else {
            return T::default();
        };
        match item.as_table_like() {
            Some(table) => read(self, table),
            None => {
                self.problem(item.span(), format!("`{key}` must be a table: [{key}]"));
                T::default()
            }
        }
    }

    fn config(&mut self, root: &dyn TableLike) -> Config {
        self.check_keys(root, TOP_KEYS, "the top level");
        let http = self.section(root, "http", Self::http);
        let snapshot = self.section(root, "snapshot", Self::snapshot);
        let publish = self.section(root, "publish", Self::publish);
        let relay = self.section(root, "relay", Self::relay);
        Config {
            path: None,
            integrations: self.integrations(root.get("integration")),
            http,
            snapshot,
            publish,
            relay,
        }
    }

    fn relay(&mut self, table: &dyn TableLike) -> RelaySettings {
        self.check_keys(table, RELAY_KEYS, "[relay]");
        RelaySettings {
            max_age: self.duration(table, "max_age", DEFAULT_RELAY_MAX_AGE),
        }
    }

    /// `relay` and its credentials: either the relay or a token file, never both, and a
    /// relay needs a way to prove who asks (a secret, a client certificate, or both).
    fn relay_endpoint(
        &mut self,
        table: &toml_edit::Table,
        token_file: bool,
    ) -> Option<RelayEndpoint> {
        let file = |this: &mut Self, key| this.string(table, key).map(PathBuf::from);
        let secret_file = file(self, "relay_secret_file");
        let client_cert = file(self, "client_cert");
        let client_key = file(self, "client_key");
        let span = |key: &str| table.get(key).and_then(Item::span);
        let Some(text) = self.string(table, "relay") else {
            for key in ["relay_secret_file", "client_cert", "client_key"] {
                if table.contains_key(key) {
                    self.problem(span(key), format!("`{key}` is set but `relay` is not; it only applies to an integration reached through a relay"));
                }
            }
            return None;
        };
        let url = match ConsoleUrl::parse(&text) {
            Ok(url) => url,
            Err(e) => {
                self.problem(span("relay"), format!("relay: {e}"));
                return None;
            }
        };
        if token_file {
            self.problem(span("relay"), "set either `token_file` (this device asks the console) or `relay` (the relay holds the token), not both".into());
        }
        if client_cert.is_some() != client_key.is_some() {
            self.problem(span("relay"), "`client_cert` and `client_key` go together: set both for mutual TLS with the relay, or neither".into());
        } else if secret_file.is_none() && client_cert.is_none() {
            self.problem(span("relay"), "a relay needs a credential: set `relay_secret_file`, or `client_cert` and `client_key` (docs/relay.md)".into());
        }
        Some(RelayEndpoint {
            url,
            secret_file,
            client_cert,
            client_key,
        })
    }

    fn publish(&mut self, table: &dyn TableLike) -> PublishSettings {
        self.check_keys(table, PUBLISH_KEYS, "[publish]");
        let defaults = PublishSettings::default();
        PublishSettings {
            marker: self.switch(table, "marker", defaults.marker),
            plist: self.switch(table, "plist", defaults.plist),
            registry: self.switch(table, "registry", defaults.registry),
            more_info_url: self.web_page(table, "more_info_url", defaults.more_info_url),
        }
    }

    /// An http(s) address people open in a browser.
    fn web_page(&mut self, table: &dyn TableLike, key: &str, default: String) -> String {
        let Some(text) = self.string(table, key) else {
            return default;
        };
        match url::Url::parse(&text) {
            Ok(page) if matches!(page.scheme(), "https" | "http") && page.has_host() => text,
            _ => {
                let span = table.get(key).and_then(|item| item.span());
                self.problem(
                    span,
                    format!("`{key}` must be an http(s) address, e.g. \"https://intranet.example.com/device-trust\""),
                );
                default
            }
        }
    }

    fn snapshot(&mut self, table: &dyn TableLike) -> SnapshotSettings {
        self.check_keys(table, SNAPSHOT_KEYS, "[snapshot]");
        let defaults = SnapshotSettings::default();
        SnapshotSettings {
            path: self
                .string(table, "path")
                .map_or(defaults.path, PathBuf::from),
            max_age: self.duration(table, "max_age", defaults.max_age),
        }
    }

    fn factors(&mut self, integration: &toml_edit::Table) -> Vec<FactorSettings> {
        let mut all = FactorSettings::defaults();
        let Some(item) = integration.get("factors") else {
            return all;
        };
        let Some(table) = item.as_table_like() else {
            self.problem(
                item.span(),
                "`factors` must be a table: [integration.factors.<key>]".into(),
            );
            return all;
        };
        for (name, entry) in table.iter() {
            let span = table.key(name).and_then(|k| k.span());
            let Some(key) = FactorKey::parse(name) else {
                let known: Vec<&str> = FactorKey::all().map(FactorKey::as_str).collect();
                self.problem(
                    span,
                    format!("unknown factor `{name}` (known: {})", known.join(", ")),
                );
                continue;
            };
            match entry.as_table_like() {
                Some(settings) => self.factor(key, settings, span, &mut all),
                None => self.problem(
                    span,
                    format!("factor `{name}` must be a table: [integration.factors.{name}]"),
                ),
            }
        }
        all
    }

    fn factor(
        &mut self,
        key: FactorKey,
        table: &dyn TableLike,
        span: Option<Range<usize>>,
        all: &mut [FactorSettings],
    ) {
        let allowed: Vec<&str> = FACTOR_KEYS
            .iter()
            .copied()
            .chain(key.factor().parameters.iter().map(|p| p.key()))
            .collect();
        self.check_keys(
            table,
            &allowed,
            &format!("[integration.factors.{}]", key.as_str()),
        );
        let Some(settings) = all.iter_mut().find(|s| s.key == key) else {
            return;
        };
        if let Some(item) = table.get("enabled") {
            match item.as_bool() {
                Some(on) => settings.enabled = on,
                None => self.problem(item.span(), "`enabled` must be true or false".into()),
            }
        }
        if let Some(item) = table.get("os") {
            settings.os = self.os_list(item);
        }
        if settings.enabled && settings.os.is_empty() {
            self.problem(span, format!("factor `{}` is enabled but selects no operating system; list at least one of macos, windows, linux in `os`", key.as_str()));
        }
        if let Some(text) = self.string(table, "remediation") {
            settings.remediation = Some(text);
        }
        // Parameters the factor does not take are unknown keys (above); their values
        // are still checked, so that every problem is reported at once.
        let max_inactive = Parameter::MaxInactive.key();
        settings.max_inactive = self.duration(table, max_inactive, settings.max_inactive);
        if let Some(version) = self.version(table, Parameter::MinVersion.key()) {
            settings.min_version = Some(version);
        }
    }

    fn version(&mut self, table: &dyn TableLike, key: &str) -> Option<Version> {
        let text = self.string(table, key)?;
        let version = Version::parse(&text);
        if version.is_none() {
            self.problem(
                table.get(key).and_then(Item::span),
                format!("`{key}` {text:?} must be a dotted version such as \"24.1.2.6\""),
            );
        }
        version
    }

    fn os_list(&mut self, item: &Item) -> Vec<OsType> {
        let parsed: Option<Vec<OsType>> = item.as_array().and_then(|array| {
            array
                .iter()
                .map(|v| match v.as_str()? {
                    "macos" => Some(OsType::Macos),
                    "windows" => Some(OsType::Windows),
                    "linux" => Some(OsType::Linux),
                    _ => None,
                })
                .collect()
        });
        parsed.unwrap_or_else(|| {
            self.problem(
                item.span(),
                "`os` must be a list of \"macos\", \"windows\", \"linux\"".into(),
            );
            Vec::new()
        })
    }

    fn integrations(&mut self, item: Option<&Item>) -> Vec<Integration> {
        let Some(item) = item else {
            return Vec::new();
        };
        let Some(tables) = item.as_array_of_tables() else {
            self.problem(
                item.span(),
                "`integration` must be written as [[integration]] tables".into(),
            );
            return Vec::new();
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for table in tables.iter() {
            let name = table.get("name").and_then(Item::as_str);
            if let Some(name) = name.filter(|n| !seen.insert(name_key(n))) {
                let span = table.get("name").and_then(Item::span);
                self.problem(
                    span,
                    format!(
                        "integration name {name:?} is used twice; names must be unique, ignoring case and surrounding spaces"
                    ),
                );
            }
            out.extend(self.integration(table));
        }
        out
    }

    fn integration(&mut self, table: &toml_edit::Table) -> Option<Integration> {
        self.check_keys(table, INTEGRATION_KEYS, "[[integration]]");
        let name = self.required_string(table, "name");
        let url_text = self.required_string(table, "url");
        let url = url_text.and_then(|text| match ConsoleUrl::parse(&text) {
            Ok(url) => Some(url),
            Err(e) => {
                self.problem(table.get("url").and_then(Item::span), e.to_string());
                None
            }
        });
        let description = self.string(table, "description");
        let token_file = self.string(table, "token_file").map(PathBuf::from);
        let relay = self.relay_endpoint(table, token_file.is_some());
        let ca_file = self.string(table, "ca_file").map(PathBuf::from);
        let account_ids = self.id_list(table, "account_ids");
        let site_ids = self.id_list(table, "site_ids");
        let factors = self.factors(table);
        let name = match name.map(|n| IntegrationName::parse(&n)) {
            Some(Ok(name)) => name,
            Some(Err(why)) => {
                self.problem(table.get("name").and_then(Item::span), why);
                return None;
            }
            None => return None,
        };
        Some(Integration {
            name,
            description,
            url: url?,
            token_file,
            relay,
            ca_file,
            account_ids,
            site_ids,
            factors,
        })
    }

    fn required_string(&mut self, table: &toml_edit::Table, key: &str) -> Option<String> {
        if table.get(key).is_none() {
            self.problem(table.span(), format!("[[integration]] is missing `{key}`"));
            return None;
        }
        self.string(table, key)
    }

    fn id_list(&mut self, table: &dyn TableLike, key: &str) -> Vec<String> {
        let Some(item) = table.get(key) else {
            return Vec::new();
        };
        let values: Option<Vec<&str>> = item
            .as_array()
            .and_then(|array| array.iter().map(|v| v.as_str()).collect());
        match values {
            Some(ids) if ids.iter().all(|id| is_numeric_id(id)) => {
                ids.into_iter().map(str::to_owned).collect()
            }
            _ => {
                self.problem(
                    item.span(),
                    format!("`{key}` must be a list of numeric SentinelOne IDs as strings, e.g. [\"901345720792880606\"]"),
                );
                Vec::new()
            }
        }
    }

    fn http(&mut self, table: &dyn TableLike) -> HttpSettings {
        self.check_keys(table, HTTP_KEYS, "[http]");
        let defaults = HttpSettings::default();
        HttpSettings {
            connect_timeout: self.duration(table, "connect_timeout", defaults.connect_timeout),
            request_timeout: self.duration(table, "request_timeout", defaults.request_timeout),
            deadline: self.duration(table, "deadline", defaults.deadline),
        }
    }

    fn duration(&mut self, table: &dyn TableLike, key: &str, default: Duration) -> Duration {
        self.0.duration(table, key, default, max_duration(key))
    }
}

/// Network limits beyond an hour only hide a dead console; posture ages can be longer.
fn max_duration(key: &str) -> Duration {
    const HOUR: u64 = 3600;
    match key {
        "max_age" => Duration::from_secs(7 * 24 * HOUR),
        "max_inactive" => Duration::from_secs(30 * 24 * HOUR),
        _ => Duration::from_secs(HOUR),
    }
}

/// Whether `id` looks like a SentinelOne account or site ID (digits only).
pub fn is_numeric_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 24 && id.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
# company tenant
[[integration]]
name = "corp"
description = "Production console"
url = "https://usea1.sentinelone.net"
token_file = "tokens/corp.token"
site_ids = ["901345720792880606"]

[http]
deadline = "20s"
connect_timeout = "2s"
"#;

    #[test]
    fn parses_a_good_config() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.integrations.len(), 1);
        let corp = config.integration("corp").unwrap();
        assert_eq!(corp.url.as_str(), "https://usea1.sentinelone.net");
        assert_eq!(corp.site_ids, ["901345720792880606"]);
        assert_eq!(config.http.deadline, Duration::from_secs(20));
        assert_eq!(config.http.request_timeout, Duration::from_secs(15));
        assert_eq!(config.publish, PublishSettings::default());
    }

    #[test]
    fn publish_switches_each_store_and_refuses_anything_but_booleans() {
        let config = parse(&format!(
            "{GOOD}\n[publish]\nmarker = false\nregistry = false\n"
        ))
        .unwrap();
        assert!(!config.publish.marker && config.publish.plist && !config.publish.registry);
        let problems =
            parse(&format!("{GOOD}\n[publish]\nplist = \"no\"\nfile = true\n")).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("`plist` must be true or false"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("unknown key `file` in [publish]"))
        );
    }

    const RELAYED: &str = r#"[[integration]]
name = "corp"
url = "https://usea1-corp.sentinelone.net"
relay = "https://relay.corp.example:8443"
"#;

    fn relay_problems(extra: &str) -> Vec<String> {
        match parse(&format!("{RELAYED}{extra}")) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.into_iter().map(|p| p.message).collect(),
        }
    }

    #[test]
    fn a_relay_replaces_the_token_file_and_needs_a_credential() {
        let text = format!(
            "{RELAYED}relay_secret_file = \"tokens/corp.relay\"\n[relay]\nmax_age = \"5m\"\n"
        );
        let config = from_text(&text, Path::new("/etc/s1trust/config.toml")).unwrap();
        let relay = config.integrations[0].relay.as_ref().unwrap();
        assert_eq!(relay.url.as_str(), "https://relay.corp.example:8443");
        assert_eq!(
            relay.secret_file.as_deref(),
            Some(Path::new("/etc/s1trust/tokens/corp.relay"))
        );
        assert_eq!(config.relay.max_age, Duration::from_secs(300));
        assert!(relay_problems("client_cert = \"d.pem\"\nclient_key = \"d.key\"\n").is_empty());
        let stray = "[[integration]]\nname = \"a\"\nurl = \"https://a.example\"\ntoken_file = \"t\"\nrelay_secret_file = \"s\"\n";
        assert!(
            parse(stray).unwrap_err()[0]
                .message
                .starts_with("`relay_secret_file` is set but `relay` is not")
        );
        let cases = [
            ("", "a relay needs a credential"),
            (
                "client_cert = \"d.pem\"\n",
                "`client_cert` and `client_key` go together",
            ),
            (
                "relay_secret_file = \"s\"\ntoken_file = \"t\"\n",
                "set either `token_file`",
            ),
        ];
        for (extra, wanted) in cases {
            let problems = relay_problems(extra);
            assert!(
                problems.iter().any(|p| p.contains(wanted)),
                "{extra:?}: {problems:?}"
            );
        }
        let plain = relay_problems("relay_secret_file = \"s\"\n")
            .into_iter()
            .chain(
                match parse(&RELAYED.replace("https://relay", "http://relay")) {
                    Ok(_) => Vec::new(),
                    Err(p) => p.into_iter().map(|p| p.message).collect(),
                },
            )
            .collect::<Vec<_>>();
        assert!(
            plain
                .iter()
                .any(|p| p.starts_with("relay: refusing plain http://")),
            "{plain:?}"
        );
    }

    #[test]
    fn more_info_url_takes_a_web_address_only() {
        let config = parse(&format!(
            "{GOOD}\n[publish]\nmore_info_url = \"https://intranet.contoso.com/trust\"\n"
        ))
        .unwrap();
        assert_eq!(
            config.publish.more_info_url,
            "https://intranet.contoso.com/trust"
        );
        for bad in ["\"intranet/trust\"", "\"file:///etc/passwd\"", "42"] {
            let problems =
                parse(&format!("{GOOD}\n[publish]\nmore_info_url = {bad}\n")).unwrap_err();
            assert_eq!(problems.len(), 1, "{bad}: {problems:#?}");
            assert!(
                problems[0].message.contains("`more_info_url` must be"),
                "{bad}"
            );
            assert!(problems[0].line.is_some(), "{bad}");
        }
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        let text = r#"[[integration]]
name = "a"
url = "http://console.example"
tokn_file = "x"

[[integration]]
name = "a"
url = "https://ok.example"
account_ids = ["abc"]

[http]
deadline = "soon"
retries = 3
"#;
        let problems = parse(text).unwrap_err();
        let lines: Vec<Option<usize>> = problems.iter().map(|p| p.line).collect();
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert_eq!(lines, [3, 4, 7, 9, 12, 13].map(Some));
        assert!(problems[0].message.contains("plain http"));
        assert!(problems[1].message.contains("tokn_file"));
        assert!(problems[2].message.contains("used twice"));
        assert!(problems[3].message.contains("account_ids"));
        assert!(problems[4].message.contains("deadline"));
        assert!(problems[5].message.contains("retries"));
    }

    #[test]
    fn names_as_people_write_them() {
        for good in [
            "Production SentinelOne",
            "corp",
            "eu_prod.2",
            "Société Générale — Paris",
            "生产环境",
            " padded ",
            "a",
            &"x".repeat(64),
            &"é".repeat(64),
        ] {
            assert!(valid_name(good), "{good:?}");
        }
        for bad in [
            "",
            "   ",
            "tab\there",
            "line\nbreak",
            "nul\0",
            "bell\u{7}",
            "right\u{202E}to-left",
            "zero\u{200B}width",
            "\u{FEFF}bom",
            &"x".repeat(65),
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        let config = parse(
            "[[integration]]\nname = \"Production SentinelOne\"\nurl = \"https://usea1.sentinelone.net\"\n",
        )
        .unwrap();
        let found = config.integration(" production SENTINELONE ").unwrap();
        assert_eq!(found.name.as_str(), "Production SentinelOne");
        // Unique ignoring case and surrounding spaces.
        let twice = "[[integration]]\nname = \"Prod\"\nurl = \"https://a.sentinelone.net\"\n\n[[integration]]\nname = \" prod \"\nurl = \"https://b.sentinelone.net\"\n";
        let problems = parse(twice).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(problems[0].line, Some(6));
        assert!(problems[0].message.contains("used twice"));
        let control =
            parse("[[integration]]\nname = \"a\\tb\"\nurl = \"https://a.sentinelone.net\"\n")
                .unwrap_err();
        assert!(
            control[0].message.contains("control characters"),
            "{control:#?}"
        );
    }

    #[test]
    fn token_file_names_are_slugs_of_the_name() {
        for (name, slug) in [
            ("Production SentinelOne", "production-sentinelone"),
            ("corp", "corp"),
            ("Corp_EU.2", "corp_eu.2"),
            ("  Prod -- (EU)  ", "prod-eu"),
            ("Société Générale", "societe-generale"),
            ("Straße Ærø", "strasse-aero"),
            ("生产", "integration"),
            ("..", "integration"),
            ("../../etc/passwd", "etc-passwd"),
            (".hidden", "hidden"),
            ("CON", "integration-con"),
            ("com1", "integration-com1"),
            ("console", "console"),
        ] {
            assert_eq!(token_slug(name), slug, "{name:?}");
        }
        assert!(token_slug(&"ab ".repeat(30)).len() <= 64);
        assert_eq!(shell_word("corp"), "corp");
        assert_eq!(
            shell_word("Production SentinelOne"),
            "\"Production SentinelOne\""
        );
        assert_eq!(shell_word("a\"$b"), "\"a\\\"\\$b\"");
    }

    #[test]
    fn factor_tables_and_snapshot() {
        let text = r#"
[[integration]]
name = "corp"
url = "https://usea1.sentinelone.net"

[integration.factors.agent_active]
enabled = true
os = ["macos", "windows"]
max_inactive = "2h"
remediation = "Connect to the VPN"

[integration.factors.not_active_threat]
enabled = false

[integration.factors.agent_up_to_date]
min_version = "24.1.2"

[snapshot]
max_age = "10m"
"#;
        let config = parse(text).unwrap();
        let factors = &config.integrations[0].factors;
        assert_eq!(factors.len(), FactorKey::all().count());
        let active = factors
            .iter()
            .find(|f| f.key == FactorKey::AgentActive)
            .unwrap();
        assert!(active.enabled);
        assert_eq!(active.os, [OsType::Macos, OsType::Windows]);
        assert_eq!(active.max_inactive, Duration::from_secs(7200));
        assert_eq!(active.remediation.as_deref(), Some("Connect to the VPN"));
        let threat = factors
            .iter()
            .find(|f| f.key == FactorKey::NotActiveThreat)
            .unwrap();
        assert!(!threat.enabled);
        let up_to_date = factors
            .iter()
            .find(|f| f.key == FactorKey::AgentUpToDate)
            .unwrap();
        assert_eq!(up_to_date.min_version, Version::parse("24.1.2.0"));
        assert_eq!(
            up_to_date.min_version.as_ref().unwrap().to_string(),
            "24.1.2"
        );
        let registered = factors
            .iter()
            .find(|f| f.key == FactorKey::RegisteredWith)
            .unwrap();
        assert!(registered.enabled && registered.os.len() == 3);
        assert_eq!(config.snapshot.max_age, Duration::from_secs(600));
    }

    #[test]
    fn factor_problems() {
        let text = r#"
[[integration]]
name = "corp"
url = "https://usea1.sentinelone.net"
[integration.factors.agent_active]
enabled = true
os = []
min_version = "1.0"
[integration.factors.is_cool]
enabled = true
[integration.factors.agent_up_to_date]
min_version = "latest"
os = ["beos"]
"#;
        let problems = parse(text).unwrap_err();
        let messages: Vec<String> = problems
            .iter()
            .map(|p| format!("{:?}: {}", p.line, p.message))
            .collect();
        for expected in [
            "unknown key `min_version`",
            "selects no operating system",
            "unknown factor `is_cool`",
            "Some(12): `min_version` \"latest\" must be a dotted version such as \"24.1.2.6\"",
            "`os` must be a list",
        ] {
            assert!(
                messages.iter().any(|m| m.contains(expected)),
                "{expected:?} not in {messages:#?}"
            );
        }
    }

    #[test]
    fn many_problems_keep_their_lines_and_are_capped_when_shown() {
        let text: String = (0..20_000).map(|i| format!("k{i} = 1\n")).collect();
        let problems = parse(&text).unwrap_err();
        assert_eq!(problems.len(), 20_000);
        assert_eq!(problems[19_999].line, Some(20_000));
        let shown = render_problems(Path::new("c.toml"), &problems);
        assert_eq!(shown.lines().count(), MAX_SHOWN_PROBLEMS + 1);
        assert!(shown.ends_with("c.toml: and 19900 more problem(s)"));
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_of_at_most_a_mebibyte_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(
            load(&fifo)
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        let big = dir.path().join("big.toml");
        std::fs::write(&big, "#".repeat(MAX_CONFIG as usize + 1)).unwrap();
        assert!(
            load(&big)
                .unwrap_err()
                .to_string()
                .contains("larger than 1024 KiB")
        );
        let latin1 = dir.path().join("latin1.toml");
        std::fs::write(&latin1, b"# caf\xe9\n").unwrap();
        assert!(load(&latin1).unwrap_err().to_string().contains("not UTF-8"));
    }

    #[test]
    fn syntax_error_has_a_line() {
        let problems = parse("[[integration]]\nname = \"a\nurl = 1\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(2));
    }

    #[test]
    fn missing_keys_and_wrong_types() {
        let problems = parse("[[integration]]\ndescription = 3\n").unwrap_err();
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(messages.iter().any(|m| m.contains("missing `name`")));
        assert!(messages.iter().any(|m| m.contains("missing `url`")));
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`description` must be a string"))
        );
        assert!(parse("integration = 3").is_err());
    }

    #[test]
    fn relative_files_resolve_against_config_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, GOOD).unwrap();
        let config = load(&path).unwrap();
        assert_eq!(
            config.integrations[0].token_file.as_deref(),
            Some(dir.path().join("tokens/corp.token").as_path())
        );
        assert!(matches!(
            load(&dir.path().join("nope.toml")),
            Err(ConfigError::NotFound(_))
        ));
    }

    #[test]
    fn text_that_crashed_the_toml_parser_is_a_problem() {
        // Found by fuzz/fuzz_targets/config.rs: toml_edit 0.23 panicked ("all items
        // have spans") on a bad key line followed by a bad table header.
        for text in ["==\n[.", "==\n[.]\n", "x = 1\n==\n[."] {
            let problems = parse(text).unwrap_err();
            assert!(!problems.is_empty(), "{text:?}");
            assert!(problems.iter().all(|p| p.line.is_some()), "{text:?}");
        }
    }
}
