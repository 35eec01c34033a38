//! `s1trust generate man | completions SHELL` (hidden): manual pages and shell
//! completions rendered from the clap definition, so the packages ship documentation
//! that always matches the binary. The package builds run the freshly built binary.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Subcommand};
use clap_complete::Shell;

use super::{Cli, Error};
use crate::app::{Missing, Options, load_config};
use crate::exit::Outcome;

/// What to generate.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Manual pages (roff): s1trust.1 on stdout, or every page into a folder.
    Man {
        /// Write s1trust.1 and one page per subcommand (s1trust-check.1, …) into this folder.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// A completion script for SHELL on stdout.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: Shell,
    },
    /// Intune's custom compliance rules (JSON) for `check --format intune`, every
    /// rule linking to the configuration's `[publish] more_info_url`.
    IntuneRules,
}

/// Runs `s1trust generate …`.
pub(crate) fn run(options: &Options, command: &GenerateCommand) -> Result<Outcome, Error> {
    let result = match command {
        GenerateCommand::IntuneRules => {
            let config = load_config(options, Missing::EmptyUnlessNamed)?.config;
            super::output::print_json(&super::mdm::intune_rules(&config.publish.more_info_url))?;
            return Ok(Outcome::Ok);
        }
        GenerateCommand::Man { out_dir: None } => man_page(&mut std::io::stdout().lock()),
        GenerateCommand::Man { out_dir: Some(dir) } => man_pages(dir).map(|pages| {
            for page in pages {
                super::render::outln!("{}", page.display());
            }
        }),
        GenerateCommand::Completions { shell } => {
            completions(*shell, &mut std::io::stdout().lock())
        }
    };
    result?;
    Ok(Outcome::Ok)
}

/// The top-level page, s1trust.1: clap's sections, then the ones clap cannot know.
pub(crate) fn man_page(out: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(Cli::command());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    out.write_all(EXTRA_SECTIONS.as_bytes())?;
    man.render_version_section(out)
}

/// EXIT STATUS, FILES, ENVIRONMENT and EXAMPLES, in roff (docs/reasons.md,
/// docs/install.md and docs/configuration.md say the same at length).
const EXTRA_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
trusted (check), success (other commands)
.TP
\fB1\fR
not trusted (check); not found (lookup); a failed step (doctor, integration test)
.TP
\fB2\fR
usage or configuration error
.TP
\fB3\fR
unknown: the answer could not be reached (no usable snapshot, the tenant did not answer, a refresh that could not evaluate)
.TP
\fB4\fR
verify: the token is invalid
.SH FILES
.TP
\fI/etc/s1trust/config.toml\fR
the configuration (macOS: \fI/Library/Application Support/s1trust/config.toml\fR; Windows: \fI%ProgramData%\\s1trust\\config.toml\fR); root-owned, 0644
.TP
\fI/etc/s1trust/tokens/\fR
API tokens, one 0600 file per integration, in a 0700 folder
.TP
\fI/var/lib/s1trust/posture.json\fR
the posture snapshot written by \fBs1trust refresh\fR (0644), with \fIposture.last-refresh.json\fR, \fIverdict.jwt\fR and the root-only \fIposture.lock\fR beside it
.SH ENVIRONMENT
.TP
\fBS1TRUST_CONFIG\fR
another configuration file (root only for check; a normal user's check refuses it)
.TP
\fBS1_API_TOKEN\fR
the API token for lookup and integration test with \fB\-\-url\fR
.TP
\fBNO_COLOR\fR
no colour in log output, and no status line (the spinner and seconds a slow step shows on a terminal's stderr); also when \fBTERM=dumb\fR
.SH EXAMPLES
.TP
\fBs1trust check\fR
is this device trusted? (any user; from the snapshot)
.TP
\fBsudo s1trust integration add \-\-name corp \-\-url https://usea1.sentinelone.net \-\-token\-stdin\fR
add a tenant (the token is prompted for and not shown)
.TP
\fBsudo s1trust doctor\fR
check everything, with a fix for each problem
.TP
\fBs1trust lookup \-\-serial PF2ABCDE\fR
the tenant's record for a serial, as JSON
"#;

/// Writes s1trust.1 and a page for every visible subcommand (hidden ones, like this
/// command, are left out) into `dir`, creating it; returns the files, sorted.
pub(crate) fn man_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)?;
    man_page(&mut std::fs::File::create(dir.join("s1trust.1"))?)?;
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "1"))
        .collect();
    pages.sort();
    Ok(pages)
}

/// The completion script for `shell`, without the hidden commands (clap_complete
/// would offer them): the same program, arguments and visible subcommands.
pub(crate) fn completions(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let full = Cli::command();
    let mut command = clap::Command::new("s1trust")
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    clap_complete::generate(shell, &mut command, "s1trust", out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
        let mut buf = Vec::new();
        render(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn man_page_names_the_program_and_its_commands() {
        let page = text(|b| man_page(b));
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
        assert!(page.contains(".TH s1trust 1"));
        assert!(page.contains("s1trust\\-check(1)"));
        assert!(page.contains("s1trust\\-refresh(1)"));
        for section in ["EXIT STATUS", "FILES", "ENVIRONMENT", "EXAMPLES"] {
            assert!(
                page.contains(&format!(".SH \"{section}\""))
                    || page.contains(&format!(".SH {section}")),
                "{section}"
            );
        }
        // Hidden packaging helpers stay out of the documentation.
        assert!(!page.contains("s1trust\\-generate"));
        assert!(!page.contains("s1trust\\-setup"));
    }

    #[test]
    fn one_page_per_visible_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let pages = man_pages(dir.path()).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for want in [
            "s1trust.1",
            "s1trust-check.1",
            "s1trust-doctor.1",
            "s1trust-integration-add.1",
            "s1trust-config-validate.1",
        ] {
            assert!(
                names.contains(&want.to_string()),
                "{want} missing: {names:?}"
            );
        }
        assert!(
            !names
                .iter()
                .any(|n| n.contains("generate") || n.contains("setup"))
        );
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    }

    #[test]
    fn completions_cover_the_commands() {
        let bash = text(|b| completions(Shell::Bash, b));
        assert!(bash.contains("complete -F _s1trust"), "{bash}");
        assert!(bash.contains("doctor"));
        assert!(bash.contains("--config"));
        assert!(
            !bash.contains("setup") && !bash.contains("generate"),
            "hidden commands are not offered"
        );
        let zsh = text(|b| completions(Shell::Zsh, b));
        assert!(zsh.starts_with("#compdef s1trust"));
        let fish = text(|b| completions(Shell::Fish, b));
        assert!(fish.contains("complete -c s1trust"));
    }
}
