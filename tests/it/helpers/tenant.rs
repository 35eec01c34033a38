//! An emulated tenant (tests/emulator) on loopback, with the token file and CA a
//! client needs to reach it.

use std::path::{Path, PathBuf};

use s1_emulator::{Emulator, EmulatorConfig, LoggedRequest, TokenSpec};
use serde_json::Value;

use super::files::{path_arg, scratch, write_private};
use super::run::{Run, run_s1trust};

/// The token every test tenant accepts; it must never show up in any output.
pub const TOKEN: &str = "s1t-Sup3rS3cr3t-7f1c2a9e4b8d0c6e5f3a1b2c3d4e5f60";

/// An emulated tenant plus the files a client needs to reach it.
pub struct Tenant {
    /// The running emulator.
    pub emulator: Emulator,
    /// Scratch folder holding the CA, token file and config.
    pub dir: tempfile::TempDir,
    /// The emulator's CA certificate.
    pub ca_file: PathBuf,
    /// A 0600 file holding [`TOKEN`].
    pub token_file: PathBuf,
    /// An empty config file, so the host's own config never interferes.
    pub config_file: PathBuf,
}

impl Tenant {
    /// Starts a tenant serving `agents`, with [`TOKEN`] as a Viewer token.
    pub fn start(agents: Vec<Value>) -> Self {
        Self::with_config(EmulatorConfig {
            agents,
            tokens: vec![TokenSpec::viewer(TOKEN)],
            ..EmulatorConfig::default()
        })
    }

    /// Starts a tenant from a full emulator configuration.
    pub fn with_config(config: EmulatorConfig) -> Self {
        let emulator = Emulator::start(config).expect("emulator starts on loopback");
        let dir = scratch();
        let ca_file = dir.path().join("ca.pem");
        if emulator.url().starts_with("https:") {
            emulator.write_ca_pem(&ca_file).unwrap();
        }
        let token_file = dir.path().join("api.token");
        write_private(&token_file, &format!("{TOKEN}\n"));
        let config_file = dir.path().join("config.toml");
        std::fs::write(&config_file, "# empty\n").unwrap();
        Self {
            emulator,
            dir,
            ca_file,
            token_file,
            config_file,
        }
    }

    /// `--url … --token-file … [--ca-file …]` for this tenant.
    pub fn conn_args(&self) -> Vec<String> {
        let mut args = vec![
            "--url".into(),
            self.emulator.url(),
            "--token-file".into(),
            path_arg(&self.token_file),
        ];
        if self.ca_file.exists() {
            args.extend(["--ca-file".into(), path_arg(&self.ca_file)]);
        }
        args
    }

    /// Runs `s1trust <args> <conn_args>` with this tenant's empty config.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(self.conn_args());
        run_s1trust(&all, &self.config_file, &[])
    }

    /// Requests the emulator received.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.emulator.requests()
    }

    /// Requests to the agents endpoint.
    pub fn agent_requests(&self) -> Vec<LoggedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == "/web/api/v2.1/agents")
            .collect()
    }

    /// Asserts the token appears in no output and no URL, and travelled only in the header.
    pub fn assert_token_kept_secret(&self, run: &Run) {
        assert!(
            !run.stdout.contains(TOKEN),
            "token on stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(TOKEN),
            "token on stderr:\n{}",
            run.stderr
        );
        for request in self.requests() {
            assert!(
                !request.query.contains(TOKEN),
                "token in URL {}",
                request.query
            );
            assert!(
                !request.path.contains(TOKEN),
                "token in path {}",
                request.path
            );
            if let Some(auth) = &request.authorization {
                assert_eq!(auth, &format!("ApiToken {TOKEN}"));
            }
        }
    }

    /// Asserts no file in this tenant's folder but its token file holds the token.
    pub fn assert_token_in_no_file(&self) {
        assert_token_in_no_file_below(self.dir.path(), &self.token_file);
    }
}

fn assert_token_in_no_file_below(dir: &Path, token_file: &Path) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            assert_token_in_no_file_below(&path, token_file);
        } else if path != token_file {
            let content = std::fs::read(&path).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&content).contains(TOKEN),
                "the token is in {}",
                path.display()
            );
        }
    }
}

/// A loopback port that was free a moment ago, so nothing listens there.
pub fn unused_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
