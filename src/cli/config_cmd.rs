//! `s1trust config validate`.

use std::path::Path;

use super::target::config_path;
use super::{Cli, CliError};
use crate::config;
use crate::exit::Outcome;

/// Validates a config file; every problem goes to stderr with its line.
pub fn validate(cli: &Cli, path: Option<&Path>) -> Result<Outcome, CliError> {
    let path = path.map_or_else(|| config_path(cli).0, Path::to_path_buf);
    let config = config::load(&path)?;
    println!(
        "{}: valid ({} integration(s){})",
        path.display(),
        config.integrations.len(),
        list_names(&config)
    );
    Ok(Outcome::Ok)
}

fn list_names(config: &config::Config) -> String {
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
