//! `s1trust integration add | edit | list | remove`: nothing is saved unless the
//! connection test passes, tokens go to owner-only files, and the config keeps its
//! comments and layout.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use super::integration::{show, test_outcome};
use super::output::print_json;
use super::target::{config_path, runtime};
use super::{
    Cli, CliError, IntegrationAddArgs, IntegrationEditArgs, IntegrationSettings, TokenInput,
};
use crate::atomic::write_atomic;
use crate::config::{self, Config, ConfigError, Integration, is_numeric_id, valid_name};
use crate::config_edit::{self, IntegrationFields};
use crate::conntest::test_connection;
use crate::exit::Outcome;
use crate::tenant::{ConsoleUrl, TenantClient};
use crate::token::{ApiToken, read_token_file};

/// The config file as text (empty when it does not exist yet) and parsed.
struct ConfigFile {
    path: PathBuf,
    text: String,
    config: Config,
}

impl ConfigFile {
    fn load(cli: &Cli) -> Result<Self, CliError> {
        let (path, _) = config_path(cli);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Read { path, source }.into()),
        };
        let config = config::from_text(&text, &path)?;
        Ok(Self { path, text, config })
    }

    fn folder(&self) -> PathBuf {
        self.path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Where s1trust keeps the token of integration `name`.
    fn token_path(&self, name: &str) -> PathBuf {
        self.folder().join("tokens").join(format!("{name}.token"))
    }

    fn resolve(&self, file: &str) -> PathBuf {
        let path = PathBuf::from(file);
        if path.is_relative() {
            self.folder().join(path)
        } else {
            path
        }
    }

    /// Validates and writes new text, keeping the file's mode when it exists.
    fn save(&self, text: &str) -> Result<(), CliError> {
        config::parse(text).map_err(|problems| ConfigError::Invalid {
            path: self.path.clone(),
            problems,
        })?;
        write_atomic(
            &self.path,
            text.as_bytes(),
            existing_mode(&self.path).unwrap_or(0o644),
            0o755,
        )
        .map_err(|e| write_failed(&self.path, e))
    }
}

/// `integration add`.
pub fn add(cli: &Cli, args: &IntegrationAddArgs) -> Result<Outcome, CliError> {
    let file = ConfigFile::load(cli)?;
    if !valid_name(&args.name) {
        return Err(CliError::usage(
            format!("{:?} is not a valid integration name", args.name),
            "use 1-64 letters, digits, '-', '_' or '.'",
        ));
    }
    if file.config.integration(&args.name).is_some() {
        return Err(CliError::usage(
            format!("an integration named {:?} already exists", args.name),
            format!("use `s1trust integration edit {}`", args.name),
        ));
    }
    let url = ConsoleUrl::parse(&args.url)?;
    let token = read_new_token(&args.token)?.ok_or_else(|| {
        CliError::usage(
            "no API token given",
            "pass --token-file FILE or --token-stdin",
        )
    })?;
    let ca_file = absolute_ca(args.settings.ca_file.as_deref())?;
    check_ids(&args.settings)?;
    let candidate = Candidate {
        url: &url,
        token: token.clone(),
        ca_file: ca_file.as_deref(),
    };
    if let Some(failed) = failed_test(&file.config, candidate, &args.settings, &args.name)? {
        return Ok(failed);
    }
    let token_path = file.token_path(&args.name);
    save_token(&token_path, &token)?;
    let fields = IntegrationFields {
        url: Some(url.to_string()),
        description: args.settings.description.clone(),
        token_file: Some(format!("tokens/{}.token", args.name)),
        ca_file: ca_file.map(|p| p.display().to_string()),
        account_ids: non_empty(&args.settings.account_ids),
        site_ids: non_empty(&args.settings.site_ids),
    };
    let text =
        config_edit::add_integration(&file.text, &args.name, &fields).map_err(edit_failed)?;
    file.save(&text)?;
    println!(
        "Saved integration {:?} to {} (token in {}, owner-only).",
        args.name,
        file.path.display(),
        token_path.display()
    );
    Ok(Outcome::Ok)
}

/// `integration edit`.
pub fn edit(cli: &Cli, args: &IntegrationEditArgs) -> Result<Outcome, CliError> {
    let file = ConfigFile::load(cli)?;
    let current = file.config.integration(&args.name).ok_or_else(|| {
        CliError::usage(
            format!(
                "no integration named {:?} in {}",
                args.name,
                file.path.display()
            ),
            "see `s1trust integration list`",
        )
    })?;
    let url = match &args.url {
        Some(url) => ConsoleUrl::parse(url)?,
        None => current.url.clone(),
    };
    let new_token = read_new_token(&args.token)?;
    let token = match &new_token {
        Some(token) => token.clone(),
        None => existing_token(current)?,
    };
    let new_ca = absolute_ca(args.settings.ca_file.as_deref())?;
    check_ids(&args.settings)?;
    let ca_file = new_ca.clone().or_else(|| current.ca_file.clone());
    let candidate = Candidate {
        url: &url,
        token,
        ca_file: ca_file.as_deref(),
    };
    if let Some(failed) = failed_test(&file.config, candidate, &args.settings, &args.name)? {
        return Ok(failed);
    }
    let mut fields = IntegrationFields {
        url: args.url.as_ref().map(|_| url.to_string()),
        description: args.settings.description.clone(),
        ca_file: new_ca.map(|p| p.display().to_string()),
        account_ids: ids_change(&args.settings.account_ids, args.clear_account_ids),
        site_ids: ids_change(&args.settings.site_ids, args.clear_site_ids),
        token_file: None,
    };
    if let Some(token) = &new_token {
        save_token(&file.token_path(&args.name), token)?;
        fields.token_file = Some(format!("tokens/{}.token", args.name));
    }
    let text =
        config_edit::update_integration(&file.text, &args.name, &fields).map_err(edit_failed)?;
    file.save(&text)?;
    println!(
        "Updated integration {:?} in {}.",
        args.name,
        file.path.display()
    );
    Ok(Outcome::Ok)
}

/// `integration list`.
pub fn list(cli: &Cli, json: bool) -> Result<Outcome, CliError> {
    let (path, _) = config_path(cli);
    let config = config::load(&path)?;
    let rows: Vec<serde_json::Value> = config.integrations.iter().map(describe).collect();
    if json {
        print_json(&json!({"config": path.display().to_string(), "integrations": rows}))?;
        return Ok(Outcome::Ok);
    }
    if rows.is_empty() {
        println!(
            "No integrations in {}. Add one with `s1trust integration add`.",
            path.display()
        );
    }
    for (integration, row) in config.integrations.iter().zip(&rows) {
        println!("{}  {}", integration.name, integration.url);
        if let Some(description) = &integration.description {
            println!("    {description}");
        }
        println!("    token: {}", row["token"].as_str().unwrap_or("?"));
    }
    Ok(Outcome::Ok)
}

fn describe(integration: &Integration) -> serde_json::Value {
    let token = match &integration.token_file {
        None => "no token_file set".to_string(),
        Some(file) => match read_token_file(file) {
            Ok(_) => format!("{} (owner-only)", file.display()),
            Err(e) => format!("unusable: {e}"),
        },
    };
    json!({
        "name": integration.name,
        "url": integration.url.to_string(),
        "description": integration.description,
        "tokenFile": integration.token_file.as_ref().map(|p| p.display().to_string()),
        "token": token,
        "caFile": integration.ca_file.as_ref().map(|p| p.display().to_string()),
        "accountIds": integration.account_ids,
        "siteIds": integration.site_ids,
    })
}

/// `integration remove`: the entry, and its token file when s1trust stored it.
pub fn remove(cli: &Cli, name: &str) -> Result<Outcome, CliError> {
    let file = ConfigFile::load(cli)?;
    let (text, token_file) =
        config_edit::remove_integration(&file.text, name).map_err(edit_failed)?;
    file.save(&text)?;
    println!("Removed integration {name:?} from {}.", file.path.display());
    let Some(token_file) = token_file.map(|f| file.resolve(&f)) else {
        return Ok(Outcome::Ok);
    };
    if token_file.starts_with(file.folder().join("tokens")) {
        match std::fs::remove_file(&token_file) {
            Ok(()) => println!("Deleted its token file {}.", token_file.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!(
                "s1trust: warning: could not delete {}: {e}",
                token_file.display()
            ),
        }
    } else {
        println!(
            "Its token file {} is outside the tokens folder and was left in place.",
            token_file.display()
        );
    }
    Ok(Outcome::Ok)
}

/// The connection an add or edit would save.
struct Candidate<'a> {
    url: &'a ConsoleUrl,
    token: ApiToken,
    ca_file: Option<&'a Path>,
}

/// Runs the connection test and prints it; `Some(outcome)` when it failed and nothing
/// may be saved.
fn failed_test(
    config: &Config,
    candidate: Candidate<'_>,
    settings: &IntegrationSettings,
    name: &str,
) -> Result<Option<Outcome>, CliError> {
    let deadline = Instant::now() + settings.timeout.unwrap_or(config.http.deadline);
    let console = candidate.url.clone();
    let client = TenantClient::new(
        console.clone(),
        Some(candidate.token),
        &config.http,
        candidate.ca_file,
        deadline,
    )
    .map_err(|source| CliError::Tenant {
        console: console.to_string(),
        source,
    })?;
    let report = runtime()?.block_on(test_connection(&client, Some(name)));
    show(&report, settings.json)?;
    let outcome = test_outcome(&report);
    if outcome == Outcome::Ok {
        return Ok(None);
    }
    eprintln!("s1trust: the connection test failed; nothing was saved or changed");
    Ok(Some(outcome))
}

fn read_new_token(input: &TokenInput) -> Result<Option<ApiToken>, CliError> {
    if let Some(file) = &input.token_file {
        return Ok(Some(read_token_file(file)?));
    }
    if !input.token_stdin {
        return Ok(None);
    }
    let mut text = String::new();
    std::io::stdin().take(16 * 1024).read_to_string(&mut text)?;
    Ok(Some(ApiToken::new(&text)?))
}

fn existing_token(integration: &Integration) -> Result<ApiToken, CliError> {
    let file = integration.token_file.as_deref().ok_or_else(|| {
        CliError::usage(
            format!("integration {:?} has no token_file", integration.name),
            "pass --token-file FILE or --token-stdin",
        )
    })?;
    Ok(read_token_file(file)?)
}

fn save_token(path: &Path, token: &ApiToken) -> Result<(), CliError> {
    let text = format!("{}\n", token.expose());
    write_atomic(path, text.as_bytes(), 0o600, 0o700).map_err(|e| write_failed(path, e))
}

fn absolute_ca(ca_file: Option<&Path>) -> Result<Option<PathBuf>, CliError> {
    let Some(path) = ca_file else {
        return Ok(None);
    };
    std::fs::canonicalize(path).map(Some).map_err(|e| {
        CliError::usage(
            format!("cannot use CA file {}: {e}", path.display()),
            "give a readable PEM file",
        )
    })
}

fn check_ids(settings: &IntegrationSettings) -> Result<(), CliError> {
    match settings
        .account_ids
        .iter()
        .chain(&settings.site_ids)
        .find(|id| !is_numeric_id(id))
    {
        Some(bad) => Err(CliError::usage(
            format!("{bad:?} is not a SentinelOne account or site ID"),
            "IDs are numbers such as 1800000000000000001",
        )),
        None => Ok(()),
    }
}

fn non_empty(ids: &[String]) -> Option<Vec<String>> {
    (!ids.is_empty()).then(|| ids.to_vec())
}

fn ids_change(ids: &[String], clear: bool) -> Option<Vec<String>> {
    if clear {
        Some(Vec::new())
    } else {
        non_empty(ids)
    }
}

#[cfg(unix)]
fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn existing_mode(_path: &Path) -> Option<u32> {
    None
}

fn write_failed(path: &Path, e: std::io::Error) -> CliError {
    CliError::usage(
        format!("cannot write {}: {e}", path.display()),
        "run as root (or Administrator): the configuration and tokens are system files",
    )
}

fn edit_failed(e: config_edit::EditError) -> CliError {
    CliError::usage(
        e.to_string(),
        "fix the configuration by hand; `s1trust config validate` shows problems with their lines",
    )
}
