//! `s1trust config validate`.

use std::path::Path;

use super::Error;
use super::render::outln;
use crate::app::Options;
use crate::config;
use crate::exit::Outcome;

/// Validates a config file; every problem goes to stderr with its line.
pub(crate) fn validate(options: &Options, path: Option<&Path>) -> Result<Outcome, Error> {
    let path = path.unwrap_or(&options.config_path);
    let config = config::load(path)?;
    outln!(
        "{}: valid ({} integration(s){})",
        path.display(),
        config.integrations.len(),
        list_names(&config)
    );
    Ok(Outcome::Ok)
}

fn list_names(config: &crate::settings::Config) -> String {
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
