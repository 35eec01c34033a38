//! `s1trust config validate`.

use std::path::Path;

use super::Error;
use super::render::{errln, outln};
use crate::app::Options;
use crate::config::Config;
use crate::config::{self, ConfigError};
use crate::exit::Outcome;

/// Validates a config file: its syntax and values (every problem on stderr with its
/// line), and that the files it names exist.
pub(crate) fn validate(options: &Options, path: Option<&Path>) -> Result<Outcome, Error> {
    let path = path.unwrap_or(&options.config_path);
    let config = config::load(path).map_err(|e| match e {
        ConfigError::Invalid { .. } => Error::Usage {
            message: e.to_string(),
            hint: Some("fix the lines above, then validate again".into()),
        },
        other => other.into(),
    })?;
    let missing = missing_files(&config);
    for line in &missing {
        errln!("{}: {line}", path.display());
    }
    if !missing.is_empty() {
        return Err(Error::usage(
            format!("{} names files that are not there", path.display()),
            "create them, or fix the paths (relative paths count from the configuration's folder)",
        ));
    }
    outln!(
        "{}: valid ({} integration(s){})",
        path.display(),
        config.integrations.len(),
        list_names(&config)
    );
    Ok(Outcome::Ok)
}

/// The token and CA files the configuration names that do not exist. One that this
/// user may not look at (the tokens folder is root's) is not counted: only root can say.
fn missing_files(config: &Config) -> Vec<String> {
    let mut missing = Vec::new();
    for integration in &config.integrations {
        let relay = integration.relay.as_ref();
        let files = [
            ("token_file", integration.token_file.as_deref()),
            ("ca_file", integration.ca_file.as_deref()),
            (
                "relay_secret_file",
                relay.and_then(|r| r.secret_file.as_deref()),
            ),
            ("client_cert", relay.and_then(|r| r.client_cert.as_deref())),
            ("client_key", relay.and_then(|r| r.client_key.as_deref())),
        ];
        for (key, file) in files {
            let Some(file) = file else { continue };
            match std::fs::symlink_metadata(file) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(format!(
                    "integration {:?}: {key} {} does not exist",
                    integration.name,
                    file.display()
                )),
                _ => {}
            }
        }
    }
    missing
}

fn list_names(config: &Config) -> String {
    if config.integrations.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = config
        .integrations
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    format!(": {}", names.join(", "))
}
