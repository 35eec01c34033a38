//! The device under test: its identity (debug builds read it from
//! `S1TRUST_TEST_IDENTITY` instead of the hardware), its record in the tenant, and
//! its files.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::config::Config;
use super::files::path_arg;
use super::records::{agent, now_rfc3339, overlay};
use super::run::{Run, run_s1trust};
use super::tenant::{TOKEN, Tenant};

/// The agent UUID of the device most tests play.
pub const UUID: &str = "b7b2d39171be4ae1af90f93d7ed20f07";
/// The hardware serial of the device most tests play.
pub const SERIAL: &str = "PF2ABCDE";

/// The record of the device ([`UUID`], [`SERIAL`]), active just now; `overrides`
/// replace or add fields.
pub fn device_record(overrides: Value) -> Value {
    agent(
        1,
        UUID,
        Some(SERIAL),
        overlay(json!({ "lastActiveDate": now_rfc3339() }), &overrides),
    )
}

/// Writes a device identity for `S1TRUST_TEST_IDENTITY`: a Linux host with the agent
/// installed and running, no serial and no agent UUID, and `overrides` on top.
pub fn write_identity(path: &Path, overrides: Value) {
    let base = json!({
        "serialNumber": null, "serialSource": "test", "serialCandidates": [], "virtual": false,
        "agentInstalled": true, "agentRunning": true, "agentUuid": null, "agentUuidSource": "test",
        "agentVersion": "24.1.2.6", "managementUrl": null, "hostname": "test-host",
        "osType": "linux", "osName": "Debian 12", "arch": "x86_64", "problems": []
    });
    assert!(overrides.is_object(), "an object of overrides");
    std::fs::write(path, overlay(base, &overrides).to_string()).unwrap();
}

/// A device configured for one tenant, its files in a folder of the tenant's: the
/// configuration (mode 0644), the identity (the device's [`UUID`] and [`SERIAL`]
/// until [`Device::set_identity`]) and the snapshot path (`state/posture.json`).
pub struct Device<'t> {
    pub tenant: &'t Tenant,
    pub config: PathBuf,
    pub identity: PathBuf,
    pub snapshot: PathBuf,
    /// Every run asserts [`Tenant::assert_token_kept_secret`], not only the outputs.
    watch_requests: bool,
}

impl<'t> Device<'t> {
    /// The device with [`Config::of`] `tenant`.
    pub fn new(tenant: &'t Tenant) -> Self {
        Self::with_config(tenant, Config::of(tenant))
    }

    /// The device with `config`, its snapshot path set to the device's.
    pub fn with_config(tenant: &'t Tenant, config: Config) -> Self {
        Self::in_folder(tenant, tenant.dir.path(), config)
    }

    /// [`Device::with_config`] with its files in `folder`.
    pub fn in_folder(tenant: &'t Tenant, folder: &Path, config: Config) -> Self {
        let device = Self {
            tenant,
            config: folder.join("s1trust.toml"),
            identity: folder.join("identity.json"),
            snapshot: folder.join("state").join("posture.json"),
            watch_requests: false,
        };
        config.snapshot(&device.snapshot).write(&device.config);
        device.set_identity(json!({"serialNumber": SERIAL, "agentUuid": UUID}));
        device
    }

    /// Makes every run also assert the token travelled only in the header of each
    /// request (for tenants that accept no other token).
    pub fn watching_requests(mut self) -> Self {
        self.watch_requests = true;
        self
    }

    /// Replaces the identity: [`write_identity`] with `overrides`.
    pub fn set_identity(&self, overrides: Value) {
        write_identity(&self.identity, overrides);
    }

    /// `s1trust <args>` with this device's configuration and identity.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// [`Device::run`] with more environment variables.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let identity = path_arg(&self.identity);
        let mut all = vec![("S1TRUST_TEST_IDENTITY", identity.as_str())];
        all.extend_from_slice(env);
        let run = run_s1trust(args, &self.config, &all);
        if self.watch_requests {
            self.tenant.assert_token_kept_secret(&run);
        }
        run
    }

    /// `check --json <args>`: the run and its report, which is valid against the
    /// schema, with the token in neither output.
    pub fn check(&self, args: &[&str]) -> (Run, Value) {
        let mut all = vec!["check", "--json"];
        all.extend_from_slice(args);
        let run = self.run(&all);
        let report = run.json();
        super::schema::validate_posture(&report);
        assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
        (run, report)
    }
}
