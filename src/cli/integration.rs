//! `s1trust integration ...`: the connection test, and the admin operations rendered.

use super::output::print_versioned;
use super::render::{answer_is, errln, outln, step};
use super::status_line::StatusLine;
use super::{
    Error, IntegrationAddArgs, IntegrationEditArgs, IntegrationSettings, IntegrationTestArgs,
    TokenInput, connection,
};
use crate::app::Options;
use crate::app::admin::{self, AddRequest, AdminReport, EditRequest, Fields, ShowTest};
use crate::app::checklist::Progress;
use crate::conntest::{ConnectionReport, Step, StepKey, StepStatus, heading};
use crate::exit::Outcome;
use crate::token::{ApiToken, read_token_file};

/// Tests the connection and prints the report (a table, or JSON with `--json`).
pub(crate) fn test(options: &Options, args: &IntegrationTestArgs) -> Result<Outcome, Error> {
    let mut shown = Shown::new(args.json);
    let report = admin::test(
        options,
        args.name.as_deref(),
        &connection(&args.connection),
        &mut shown,
    )?;
    let answer = answer_is(report.outcome());
    shown.report(&report)?;
    Ok(answer)
}

/// A connection test shown as it runs. On a terminal the table's heading and each
/// step's line are printed as they come, and the status line says which step is
/// waiting; the report then adds what follows the steps. Through a pipe (or with
/// `--json`) nothing is printed until the report.
struct Shown {
    json: bool,
    streaming: bool,
    waiting: StatusLine,
}

impl Shown {
    fn new(json: bool) -> Self {
        Self {
            json,
            streaming: !json && std::io::IsTerminal::is_terminal(&std::io::stdout()),
            waiting: StatusLine::on_stderr(),
        }
    }
}

impl ShowTest for Shown {
    fn progress(&mut self, progress: Progress<'_, Step>) {
        match progress {
            Progress::Waiting(what) => self.waiting.wait(what),
            Progress::Section(heading) if self.streaming => outln!("{heading}"),
            Progress::Section(_) => {}
            Progress::Item(step) => {
                self.waiting.clear();
                if self.streaming {
                    step_line(step);
                }
            }
        }
    }

    fn report(&mut self, report: &ConnectionReport) -> Result<(), Error> {
        self.waiting.clear();
        if self.json {
            print_versioned(&serde_json::to_value(report).map_err(std::io::Error::from)?)?;
        } else {
            print_table(report, !self.streaming);
        }
        Ok(())
    }
}

/// `integration add`.
pub(crate) fn add(options: &Options, args: &IntegrationAddArgs) -> Result<Outcome, Error> {
    let token = read_new_token(&args.token)?.ok_or_else(|| {
        Error::usage(
            "no API token given",
            "pass --token-file FILE or --token-stdin",
        )
    })?;
    let request = AddRequest {
        name: args.name.clone(),
        url: args.url.clone(),
        token,
        fields: fields(&args.settings),
    };
    let json = args.settings.json;
    finish(admin::add(options, request, &mut Shown::new(json))?, json)
}

/// `integration edit`.
pub(crate) fn edit(options: &Options, args: &IntegrationEditArgs) -> Result<Outcome, Error> {
    let request = EditRequest {
        name: args.name.clone(),
        url: args.url.clone(),
        token: read_new_token(&args.token)?,
        fields: fields(&args.settings),
        clear_account_ids: args.clear_account_ids,
        clear_site_ids: args.clear_site_ids,
    };
    let json = args.settings.json;
    finish(admin::edit(options, request, &mut Shown::new(json))?, json)
}

/// `integration remove`.
pub(crate) fn remove(options: &Options, name: &str) -> Result<Outcome, Error> {
    finish(admin::remove(options, name)?, false)
}

/// `integration list`.
pub(crate) fn list(options: &Options, json: bool) -> Result<Outcome, Error> {
    let (config, rows) = admin::list(options)?;
    let path = &options.config_path;
    if json {
        print_versioned(
            &serde_json::json!({"config": path.display().to_string(), "integrations": rows}),
        )?;
        return Ok(Outcome::Ok);
    }
    if rows.is_empty() {
        outln!(
            "No integrations in {}. Add one with `s1trust integration add`.",
            path.display()
        );
    }
    for (integration, row) in config.integrations.iter().zip(&rows) {
        outln!("{}  {}", integration.name, integration.url);
        if let Some(description) = &integration.description {
            outln!("    {description}");
        }
        outln!("    token: {}", row["token"].as_str().unwrap_or("?"));
    }
    Ok(Outcome::Ok)
}

/// Prints what an admin operation did. With `--json`, stdout holds the connection
/// test's document alone, so the lines for people go to stderr.
fn finish(done: AdminReport, json: bool) -> Result<Outcome, Error> {
    let answer = answer_is(done.outcome.unwrap_or(Outcome::Ok));
    for line in &done.warned {
        errln!("{line}");
    }
    for line in &done.said {
        if json {
            errln!("{line}");
        } else {
            outln!("{line}");
        }
    }
    Ok(answer)
}

fn fields(settings: &IntegrationSettings) -> Fields {
    Fields {
        description: settings.description.clone(),
        ca_file: settings.ca_file.clone(),
        account_ids: settings.account_ids.clone(),
        site_ids: settings.site_ids.clone(),
        timeout: settings.timeout,
    }
}

/// One step's line; every step has its line in the table, so the names are aligned
/// over all of them.
fn step_line(s: &Step) {
    let width = StepKey::ALL
        .iter()
        .map(|k| k.name().len())
        .max()
        .unwrap_or(0);
    let mark = match s.status {
        StepStatus::Pass => "✓",
        StepStatus::Fail => "✗",
        StepStatus::Skipped => "-",
    };
    let latency = s
        .latency_ms
        .map_or("      ".into(), |ms| format!("{ms:>4} ms"));
    let label = format!("{:<width$}  {latency} ", s.name);
    step(mark, &label, &s.detail, s.hint.as_deref());
}

fn read_new_token(input: &TokenInput) -> Result<Option<ApiToken>, Error> {
    use std::io::Read;
    if let Some(file) = &input.token_file {
        return Ok(Some(read_token_file(file)?));
    }
    if !input.token_stdin {
        return Ok(None);
    }
    // On a terminal: a prompt, and what is typed is not shown.
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        let text = rpassword::prompt_password("API token (not shown): ")?;
        return Ok(Some(ApiToken::new(&text)?));
    }
    let mut text = String::new();
    std::io::stdin().take(16 * 1024).read_to_string(&mut text)?;
    Ok(Some(ApiToken::new(&text)?))
}

/// The report as a table; `with_steps` false when its heading and steps were
/// already printed as they came.
fn print_table(report: &ConnectionReport, with_steps: bool) {
    if with_steps {
        outln!("{}", heading(&report.url, report.integration.as_deref()));
        report.steps.iter().for_each(step_line);
    }
    if let Some(days) = report
        .token
        .as_ref()
        .and_then(|t| t.days_left.map(|d| (d, t.expires_at.clone())))
    {
        outln!(
            "  token expires {} ({} days)",
            days.1.unwrap_or_default(),
            days.0
        );
    }
    for warning in &report.warnings {
        outln!("warning: {warning}");
    }
    let failed = report
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Fail)
        .count();
    if failed == 0 {
        outln!("All {} checks passed.", report.steps.len());
    } else {
        outln!("{failed} of {} checks failed.", report.steps.len());
    }
}
