//! What a command was asked to do with, resolved once, and the one place the
//! configuration is loaded.

use std::path::PathBuf;
use std::time::Instant;

use super::Error;
use crate::config::Config;
use crate::config::{self, ConfigError};

/// Everything commands share from their invocation.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration file in effect.
    pub config_path: PathBuf,
    /// Whether the caller named it (`--config`, `S1TRUST_CONFIG`) rather than taking
    /// the OS default.
    pub config_named: bool,
    /// Root (or elevated/SYSTEM): the only caller whose own settings may steer a
    /// live answer.
    pub privileged: bool,
    /// When the command started: every deadline counts from here.
    pub started: Instant,
}

impl Options {
    /// Options for a command starting now.
    pub fn new(config_path: PathBuf, config_named: bool) -> Self {
        Self {
            config_path,
            config_named,
            privileged: crate::fs_trust::is_privileged(),
            started: Instant::now(),
        }
    }
}

/// What a missing configuration file means to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// An error.
    Fail,
    /// An empty configuration when the file is the OS default (not named by the caller).
    EmptyUnlessNamed,
}

/// A loaded configuration and whether it may steer a posture answer.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The settings.
    pub config: Config,
    /// Why it cannot be trusted (someone but root could have written it), if so.
    pub untrusted: Option<String>,
}

/// Loads the configuration. A privileged caller may use any file (it is told when
/// the file is not trustworthy); anyone else only one that root owns, with every
/// folder above it, so neither the file nor its snapshot path can be the user's.
pub fn load_config(options: &Options, missing: Missing) -> Result<LoadedConfig, Error> {
    let path = &options.config_path;
    match config::load_trusted(path) {
        Ok(config) => Ok(LoadedConfig {
            config,
            untrusted: None,
        }),
        Err(ConfigError::NotFound(_)) if may_be_missing(options, missing) => Ok(LoadedConfig {
            config: Config::default(),
            untrusted: None,
        }),
        Err(e @ ConfigError::Untrusted { .. }) if options.privileged => Ok(LoadedConfig {
            config: config::load(path)?,
            untrusted: Some(e.to_string()),
        }),
        Err(e) => Err(e.into()),
    }
}

fn may_be_missing(options: &Options, missing: Missing) -> bool {
    missing == Missing::EmptyUnlessNamed && !options.config_named
}

/// Loads the configuration whoever owns it, for commands whose output is not a
/// posture answer (`lookup`, `integration test | list`, `config validate`).
pub fn load_any(options: &Options, missing: Missing) -> Result<Config, Error> {
    match config::load(&options.config_path) {
        Err(ConfigError::NotFound(_)) if may_be_missing(options, missing) => Ok(Config::default()),
        other => Ok(other?),
    }
}
