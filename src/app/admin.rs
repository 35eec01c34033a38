//! `integration add | edit | list | remove`: nothing is saved unless the connection
//! test passes, tokens go to owner-only files, and the config keeps its comments and
//! layout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::checklist::Progress;
use super::client::{Connection, build};
use super::{Error, Options, runtime};
use crate::atomic::write_atomic;
use crate::config::edit::{self as config_edit, IntegrationFields};
use crate::config::{self, ConfigError, is_numeric_id, shell_word, token_slug};
use crate::config::{Config, Integration};
use crate::conntest::{ConnectionReport, Step, test_connection};
use crate::exit::Outcome;
use crate::tenant::ConsoleUrl;
use crate::token::{ApiToken, read_system_token};

/// Settings shared by `add` and `edit`.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// Free text for admins.
    pub description: Option<String>,
    /// Extra CA certificate(s) in PEM.
    pub ca_file: Option<PathBuf>,
    /// Account allow-list.
    pub account_ids: Vec<String>,
    /// Site allow-list.
    pub site_ids: Vec<String>,
    /// The connection test's deadline instead of `[http] deadline`.
    pub timeout: Option<Duration>,
}

impl EditRequest {
    fn changes_nothing(&self) -> bool {
        let f = &self.fields;
        self.url.is_none()
            && self.token.is_none()
            && f.description.is_none()
            && f.ca_file.is_none()
            && f.account_ids.is_empty()
            && f.site_ids.is_empty()
            && !self.clear_account_ids
            && !self.clear_site_ids
    }
}

/// `integration test`: the integration called `name` (or `--url`, or the only one),
/// tested step by step, each step shown to `show` as it goes.
pub fn test(
    options: &Options,
    name: Option<&str>,
    connection: &super::Connection,
    show: &mut dyn ShowTest,
) -> Result<ConnectionReport, Error> {
    let target = super::connect(options, name, connection)?;
    Ok(super::runtime()?.block_on(test_connection(
        &target.client,
        target.name.as_deref(),
        &mut |progress| show.progress(progress),
    )))
}

/// `integration add`.
#[derive(Debug)]
pub struct AddRequest {
    /// Unique name.
    pub name: String,
    /// Console URL as typed.
    pub url: String,
    /// The API token.
    pub token: ApiToken,
    /// The rest.
    pub fields: Fields,
}

/// `integration edit`.
#[derive(Debug)]
pub struct EditRequest {
    /// The integration to change.
    pub name: String,
    /// New console URL as typed.
    pub url: Option<String>,
    /// New API token.
    pub token: Option<ApiToken>,
    /// The rest.
    pub fields: Fields,
    /// Remove the account allow-list.
    pub clear_account_ids: bool,
    /// Remove the site allow-list.
    pub clear_site_ids: bool,
}

/// What an admin operation did, for the CLI to print.
#[derive(Debug, Default)]
pub struct AdminReport {
    /// Exit status.
    pub outcome: Option<Outcome>,
    /// Lines for stdout.
    pub said: Vec<String>,
    /// Lines for stderr (warnings, "nothing was saved").
    pub warned: Vec<String>,
}

impl AdminReport {
    fn ok(said: Vec<String>) -> Self {
        Self {
            outcome: Some(Outcome::Ok),
            said,
            warned: Vec::new(),
        }
    }
}

/// How the CLI shows a connection test: each step as it goes, then the report.
pub trait ShowTest {
    /// A request starts or a step ends.
    fn progress(&mut self, progress: Progress<'_, Step>);
    /// The whole report (the table, or JSON).
    fn report(&mut self, report: &ConnectionReport) -> Result<(), Error>;
}

/// The config file as text (empty when it does not exist yet) and parsed.
struct ConfigFile {
    path: PathBuf,
    text: String,
    config: Config,
}

/// How long an edit waits for another to finish.
const EDIT_LOCK_WAIT: Duration = Duration::from_secs(60);

/// Takes the config's edit lock (`<config>.lock`, root-only): edits read the file, test,
/// then write it, and two at once would each write their own copy over the other's.
/// Taken before anything else, so a caller who cannot write there learns it before a
/// connection test.
fn lock_config(options: &Options) -> Result<std::fs::File, Error> {
    let mut name = options.config_path.clone().into_os_string();
    name.push(".lock");
    let path = PathBuf::from(name);
    crate::atomic::lock(&path, EDIT_LOCK_WAIT).map_err(|e| match e {
        crate::atomic::LockError::Busy(_) => Error::Busy(format!(
            "another `s1trust integration` command is editing {}: {e}",
            options.config_path.display()
        )),
        crate::atomic::LockError::Io(e) => write_failed(&path, e),
    })
}

impl ConfigFile {
    fn load(options: &Options) -> Result<Self, Error> {
        let path = options.config_path.clone();
        let text = match config::read_text(&path) {
            Ok(text) => text,
            Err(ConfigError::NotFound(_)) => String::new(),
            Err(e) => return Err(e.into()),
        };
        let config = config::from_text(&text, &path)?;
        Ok(Self { path, text, config })
    }

    /// The real folder (a symbolic link to the config resolved), where its relative
    /// paths point.
    fn folder(&self) -> PathBuf {
        config::real_path(&self.path)
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    fn tokens_folder(&self) -> PathBuf {
        self.folder().join("tokens")
    }

    /// Where s1trust keeps the token of a new integration called `name`: the config
    /// value (`tokens/<slug>.token`) and the file. The name is derived from the
    /// integration's name ([`token_slug`]); when that file exists or another
    /// integration uses it, `-2`, `-3`, … is added (compared ignoring case, as the
    /// file systems of macOS and Windows do).
    fn new_token_file(&self, name: &str) -> (String, PathBuf) {
        let slug = token_slug(name);
        let taken = |path: &Path| {
            let lower = path.to_string_lossy().to_lowercase();
            path.exists()
                || self.config.integrations.iter().any(|i| {
                    i.token_file
                        .as_deref()
                        .is_some_and(|f| f.to_string_lossy().to_lowercase() == lower)
                })
        };
        let mut n = 1;
        loop {
            let file = match n {
                1 => format!("{slug}.token"),
                _ => format!("{slug}-{n}.token"),
            };
            let path = self.tokens_folder().join(&file);
            if !taken(&path) {
                return (format!("tokens/{file}"), path);
            }
            n += 1;
        }
    }

    /// Where a new token for the existing `integration` goes: over its current token
    /// file when s1trust keeps it (in the tokens folder), else a new one as for `add`.
    fn replacement_token_file(&self, integration: &Integration) -> (Option<String>, PathBuf) {
        match &integration.token_file {
            Some(current) if current.starts_with(self.tokens_folder()) => (None, current.clone()),
            _ => {
                let (value, path) = self.new_token_file(&integration.name);
                (Some(value), path)
            }
        }
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
    fn save(&self, text: &str) -> Result<(), Error> {
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
pub fn add(
    options: &Options,
    request: AddRequest,
    show: &mut dyn ShowTest,
) -> Result<AdminReport, Error> {
    let _lock = lock_config(options)?;
    let file = ConfigFile::load(options)?;
    let name = &request.name;
    if let Err(why) = config::IntegrationName::parse(name) {
        return Err(Error::usage(why, "for example \"Production SentinelOne\""));
    }
    if let Some(existing) = file.config.integration(name) {
        return Err(Error::usage(
            format!(
                "an integration named {} already exists (names are compared ignoring case and surrounding spaces)",
                crate::text::quoted(&existing.name)
            ),
            format!(
                "use `s1trust integration edit {}`",
                shell_word(&existing.name)
            ),
        ));
    }
    let url = ConsoleUrl::parse(&request.url)?;
    let ca_file = absolute_ca(request.fields.ca_file.as_deref())?;
    check_ids(&request.fields)?;
    let candidate = Candidate {
        url: &url,
        token: request.token.clone(),
        ca_file: ca_file.as_deref(),
    };
    if let Some(failed) = failed_test(options, &file.config, candidate, name, &request, show)? {
        return Ok(failed);
    }
    let (token_file, token_path) = file.new_token_file(name);
    save_token(&token_path, &request.token)?;
    // A token whose integration was not saved would be an orphan nobody cleans up.
    let orphan = Orphan(&token_path);
    let fields = IntegrationFields {
        url: Some(url.to_string()),
        description: request.fields.description.clone(),
        token_file: Some(token_file),
        ca_file: ca_file.map(|p| p.display().to_string()),
        account_ids: non_empty(&request.fields.account_ids),
        site_ids: non_empty(&request.fields.site_ids),
    };
    let text = config_edit::add_integration(&file.text, name, &fields).map_err(edit_failed)?;
    file.save(&text)?;
    orphan.keep();
    Ok(AdminReport::ok(vec![format!(
        "Saved integration {} to {}; its token is in {} (owner-only).",
        crate::text::quoted(name),
        file.path.display(),
        token_path.display()
    )]))
}

/// `integration edit`.
pub fn edit(
    options: &Options,
    request: EditRequest,
    show: &mut dyn ShowTest,
) -> Result<AdminReport, Error> {
    let _lock = lock_config(options)?;
    let file = ConfigFile::load(options)?;
    let current = file.config.integration(&request.name).ok_or_else(|| {
        Error::usage(
            format!(
                "no integration named {} in {}",
                crate::text::quoted(&request.name),
                file.path.display()
            ),
            "see `s1trust integration list`",
        )
    })?;
    let name = &current.name;
    if request.changes_nothing() {
        return Ok(AdminReport::ok(vec![format!(
            "Nothing to change in integration {}: give --url, --token-file/--token-stdin, --ca-file, --description, --account-id/--site-id or --clear-…; `s1trust integration test {}` re-tests it.",
            crate::text::quoted(name),
            shell_word(name)
        )]));
    }
    if let Some(relay) = &current.relay {
        return Err(Error::usage(
            format!(
                "integration {} is reached through the relay {}, which holds its token; `integration edit` changes integrations that ask the console themselves",
                crate::text::quoted(name),
                relay.url
            ),
            format!(
                "edit its [[integration]] table in {} (docs/relay.md), then run `s1trust integration test {}`",
                file.path.display(),
                shell_word(name)
            ),
        ));
    }
    let url = match &request.url {
        Some(url) => ConsoleUrl::parse(url)?,
        None => current.url.clone(),
    };
    let token = match &request.token {
        Some(token) => token.clone(),
        None => existing_token(current)?,
    };
    let new_ca = absolute_ca(request.fields.ca_file.as_deref())?;
    check_ids(&request.fields)?;
    let ca_file = new_ca.clone().or_else(|| current.ca_file.clone());
    let candidate = Candidate {
        url: &url,
        token,
        ca_file: ca_file.as_deref(),
    };
    if let Some(failed) = failed_test(options, &file.config, candidate, name, &request, show)? {
        return Ok(failed);
    }
    let mut fields = IntegrationFields {
        url: request.url.as_ref().map(|_| url.to_string()),
        description: request.fields.description.clone(),
        ca_file: new_ca.map(|p| p.display().to_string()),
        account_ids: ids_change(&request.fields.account_ids, request.clear_account_ids),
        site_ids: ids_change(&request.fields.site_ids, request.clear_site_ids),
        token_file: None,
    };
    let mut said = Vec::new();
    if let Some(token) = &request.token {
        let (token_file, token_path) = file.replacement_token_file(current);
        save_token(&token_path, token)?;
        fields.token_file = token_file;
        said.push(format!(
            "Its new token is in {} (owner-only).",
            token_path.display()
        ));
    }
    let text = config_edit::update_integration(&file.text, name, &fields).map_err(edit_failed)?;
    file.save(&text)?;
    said.insert(
        0,
        format!(
            "Updated integration {} in {}.",
            crate::text::quoted(name),
            file.path.display()
        ),
    );
    Ok(AdminReport::ok(said))
}

/// `integration list`: the configured integrations as JSON rows (tokens never shown).
pub fn list(options: &Options) -> Result<(Config, Vec<serde_json::Value>), Error> {
    let config = config::load(&options.config_path)?;
    let rows = config.integrations.iter().map(describe).collect();
    Ok((config, rows))
}

fn describe(integration: &Integration) -> serde_json::Value {
    let token = match (&integration.token_file, &integration.relay) {
        (_, Some(relay)) => format!("none on this device: the relay {} holds it", relay.url),
        (None, None) => "no token_file set".to_string(),
        (Some(file), None) => match read_system_token(file) {
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
        "relay": integration.relay.as_ref().map(|r| r.url.to_string()),
        "caFile": integration.ca_file.as_ref().map(|p| p.display().to_string()),
        "accountIds": integration.account_ids,
        "siteIds": integration.site_ids,
    })
}

/// `integration remove`: the entry, and its token file when s1trust stored it.
pub fn remove(options: &Options, name: &str) -> Result<AdminReport, Error> {
    let _lock = lock_config(options)?;
    let file = ConfigFile::load(options)?;
    let name = file
        .config
        .integration(name)
        .map_or(name, |found| found.name.as_str());
    let (text, token_file) =
        config_edit::remove_integration(&file.text, name).map_err(edit_failed)?;
    file.save(&text)?;
    let mut done = AdminReport::ok(vec![format!(
        "Removed integration {} from {}.",
        crate::text::quoted(name),
        file.path.display()
    )]);
    let Some(token_file) = token_file.map(|f| file.resolve(&f)) else {
        return Ok(done);
    };
    if token_file.starts_with(file.tokens_folder()) {
        match std::fs::remove_file(&token_file) {
            Ok(()) => done
                .said
                .push(format!("Deleted its token file {}.", token_file.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => done.warned.push(format!(
                "s1trust: warning: could not delete {}: {e}",
                token_file.display()
            )),
        }
    } else {
        done.said.push(format!(
            "Its token file {} is outside the tokens folder and was left in place.",
            token_file.display()
        ));
    }
    Ok(done)
}

/// Deletes a token file written for an integration that was then not saved.
struct Orphan<'a>(&'a Path);

impl Orphan<'_> {
    /// Its integration was saved: the token stays.
    fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for Orphan<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

/// The connection an add or edit would save.
struct Candidate<'a> {
    url: &'a ConsoleUrl,
    token: ApiToken,
    ca_file: Option<&'a Path>,
}

/// What the connection test needs to know about the request.
trait ConnectionUnderTest {
    fn timeout(&self) -> Option<Duration>;
}

impl ConnectionUnderTest for AddRequest {
    fn timeout(&self) -> Option<Duration> {
        self.fields.timeout
    }
}

impl ConnectionUnderTest for EditRequest {
    fn timeout(&self) -> Option<Duration> {
        self.fields.timeout
    }
}

/// Runs the connection test of integration `name` and shows it; `Some(done)` when
/// it failed and nothing may be saved.
fn failed_test(
    options: &Options,
    config: &Config,
    candidate: Candidate<'_>,
    name: &str,
    request: &dyn ConnectionUnderTest,
    show: &mut dyn ShowTest,
) -> Result<Option<AdminReport>, Error> {
    let console = candidate.url.clone();
    let connection = Connection {
        timeout: request.timeout(),
        ..Connection::default()
    };
    let client = build(
        console.clone(),
        candidate.token,
        &config.http,
        candidate.ca_file,
        &connection,
        options.started,
    )
    .map_err(|source| Error::Tenant {
        console: console.to_string(),
        source,
    })?;
    let report = runtime()?.block_on(test_connection(&client, Some(name), &mut |progress| {
        show.progress(progress)
    }));
    show.report(&report)?;
    let outcome = report.outcome();
    if outcome == Outcome::Ok {
        return Ok(None);
    }
    Ok(Some(AdminReport {
        outcome: Some(outcome),
        said: Vec::new(),
        warned: vec!["s1trust: the connection test failed; nothing was saved or changed".into()],
    }))
}

fn existing_token(integration: &Integration) -> Result<ApiToken, Error> {
    let file = integration.token_file.as_deref().ok_or_else(|| {
        Error::usage(
            format!(
                "integration {} has no token_file",
                crate::text::quoted(&integration.name)
            ),
            "pass --token-file FILE or --token-stdin",
        )
    })?;
    Ok(read_system_token(file)?)
}

fn save_token(path: &Path, token: &ApiToken) -> Result<(), Error> {
    let text = format!("{}\n", token.expose());
    write_atomic(path, text.as_bytes(), 0o600, 0o700).map_err(|e| write_failed(path, e))?;
    // A tokens folder that existed before may be open to others: close it.
    if let Some(folder) = path.parent() {
        restrict_folder(folder).map_err(|e| write_failed(folder, e))?;
    }
    Ok(())
}

#[cfg(unix)]
fn restrict_folder(folder: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(folder)?;
    if meta.is_dir() && meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_folder(_folder: &Path) -> std::io::Result<()> {
    // The installer's ACL on %ProgramData%\s1trust\tokens is inherited.
    Ok(())
}

fn absolute_ca(ca_file: Option<&Path>) -> Result<Option<PathBuf>, Error> {
    let Some(path) = ca_file else {
        return Ok(None);
    };
    std::fs::canonicalize(path).map(Some).map_err(|e| {
        Error::usage(
            format!("cannot use CA file {}: {e}", path.display()),
            "give a readable PEM file",
        )
    })
}

fn check_ids(settings: &Fields) -> Result<(), Error> {
    match settings
        .account_ids
        .iter()
        .chain(&settings.site_ids)
        .find(|id| !is_numeric_id(id))
    {
        Some(bad) => Err(Error::usage(
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

fn write_failed(path: &Path, e: std::io::Error) -> Error {
    Error::Usage {
        message: crate::fs_trust::file_message(
            "file",
            path,
            &format!("cannot be written ({})", crate::fs_trust::io_wrong(&e)),
            "run as root (or Administrator): the configuration and tokens are system files",
        ),
        hint: None,
    }
}

fn edit_failed(e: config_edit::EditError) -> Error {
    let hint = match e {
        config_edit::EditError::Missing(_) => "see `s1trust integration list` for the names",
        _ => {
            "fix the configuration by hand; `s1trust config validate` shows problems with their lines"
        }
    };
    Error::usage(e.to_string(), hint)
}
