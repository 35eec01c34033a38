//! The configuration file's text, built from parts, so a test names only the
//! settings its scenario is about. Inputs a test is *about* (a broken file, a
//! line number in an error) stay written out in that test.

use std::path::{Path, PathBuf};

use super::files::path_arg;
use super::tenant::Tenant;

/// One `[[integration]]` table.
#[derive(Debug, Clone)]
pub struct Integration {
    name: String,
    url: String,
    /// `token_file`, or for an integration reached through a relay its `relay` line
    /// and credentials.
    access: String,
    ca_file: String,
    extra: String,
}

impl Integration {
    /// `name` at `url`, with the token and CA files a [`Tenant`] writes
    /// (`api.token`, `ca.pem`, relative to the config's folder).
    pub fn new(name: &str, url: &str) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            access: "token_file = \"api.token\"".into(),
            ca_file: "ca.pem".into(),
            extra: String::new(),
        }
    }

    /// The integration most tests use: "corp", at `tenant`.
    pub fn of(tenant: &Tenant) -> Self {
        Self::new("corp", &tenant.emulator.url())
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    pub fn token_file(mut self, path: &str) -> Self {
        self.access = format!("token_file = \"{path}\"");
        self
    }

    /// Asks the s1trust-relay at `url` instead of the console, presenting `credentials`
    /// (TOML lines: `relay_secret_file = …`, or `client_cert`/`client_key`); `ca_file`
    /// then vouches for the relay.
    pub fn relay(mut self, url: &str, credentials: &str) -> Self {
        self.access = format!("relay = \"{url}\"\n{}", credentials.trim_end());
        self
    }

    pub fn ca_file(mut self, path: &str) -> Self {
        self.ca_file = path.into();
        self
    }

    /// More keys and tables of this integration (`site_ids = …`,
    /// `[integration.factors.…]`), as TOML after its own keys.
    pub fn extra(mut self, toml: &str) -> Self {
        self.extra.push_str(toml);
        self
    }

    /// Turns on the factors named by `keys` (`[integration.factors.<key>] enabled = true`).
    pub fn factors(self, keys: &[&str]) -> Self {
        let tables: Vec<String> = keys
            .iter()
            .map(|key| format!("[integration.factors.{key}]\nenabled = true"))
            .collect();
        self.extra(&tables.join("\n"))
    }

    fn text(&self) -> String {
        let mut text = format!(
            "[[integration]]\nname = \"{}\"\nurl = \"{}\"\n{}\nca_file = \"{}\"\n",
            self.name, self.url, self.access, self.ca_file
        );
        if !self.extra.is_empty() {
            text.push_str(&self.extra);
            text.push('\n');
        }
        text
    }
}

/// A whole configuration: integrations, then `[http]`, then `[snapshot]`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    integrations: Vec<Integration>,
    deadline: Option<String>,
    snapshot: Option<PathBuf>,
    max_age: Option<String>,
    relay_max_age: Option<String>,
}

impl Config {
    /// One integration, [`Integration::of`] `tenant`.
    pub fn of(tenant: &Tenant) -> Self {
        Self::default().integration(Integration::of(tenant))
    }

    pub fn integration(mut self, integration: Integration) -> Self {
        self.integrations.push(integration);
        self
    }

    /// More keys and tables of the last integration (see [`Integration::extra`]).
    pub fn extra(mut self, toml: &str) -> Self {
        let last = self.integrations.pop().expect("an integration to extend");
        self.integration(last.extra(toml))
    }

    /// Turns on factors of the last integration (see [`Integration::factors`]).
    pub fn factors(mut self, keys: &[&str]) -> Self {
        let last = self.integrations.pop().expect("an integration to extend");
        self.integration(last.factors(keys))
    }

    /// `[http] deadline`, as written (`"10s"`).
    pub fn deadline(mut self, deadline: &str) -> Self {
        self.deadline = Some(deadline.into());
        self
    }

    /// `[snapshot] path`.
    pub fn snapshot(mut self, path: &Path) -> Self {
        self.snapshot = Some(path.to_owned());
        self
    }

    /// `[snapshot] max_age`, as written (`"7days"`).
    pub fn max_age(mut self, max_age: &str) -> Self {
        self.max_age = Some(max_age.into());
        self
    }

    /// `[relay] max_age`, as written (`"1s"`).
    pub fn relay_max_age(mut self, max_age: &str) -> Self {
        self.relay_max_age = Some(max_age.into());
        self
    }

    pub fn text(&self) -> String {
        let mut sections: Vec<String> = self.integrations.iter().map(Integration::text).collect();
        if let Some(deadline) = &self.deadline {
            sections.push(format!("[http]\ndeadline = \"{deadline}\"\n"));
        }
        if self.snapshot.is_some() || self.max_age.is_some() {
            let mut snapshot = String::from("[snapshot]\n");
            if let Some(path) = &self.snapshot {
                snapshot.push_str(&format!("path = \"{}\"\n", path_arg(path)));
            }
            if let Some(max_age) = &self.max_age {
                snapshot.push_str(&format!("max_age = \"{max_age}\"\n"));
            }
            sections.push(snapshot);
        }
        if let Some(max_age) = &self.relay_max_age {
            sections.push(format!("[relay]\nmax_age = \"{max_age}\"\n"));
        }
        sections.join("\n")
    }

    /// Writes the file as an administrator would: mode 0644 (the trust rules refuse a
    /// configuration others can write).
    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.text()).unwrap();
        #[cfg(unix)]
        super::files::set_mode(path, 0o644);
    }
}
