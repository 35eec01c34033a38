//! `s1trust setup install | uninstall` (hidden): the Windows installer's custom actions,
//! run by the MSI (packaging/windows/s1trust.wxs) as SYSTEM. The steps are
//! `crate::install::windows`; this prints what they did. The Linux and macOS packages
//! do the same work in their own scripts, so there this command only explains that.

use clap::Subcommand;

use super::Error;
use crate::exit::Outcome;

/// What the installer asks for.
#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// Create the data folders and config, set their ACLs, register the scheduled refresh.
    Install,
    /// Delete the scheduled refresh and the data folder (config, tokens, snapshot).
    Uninstall {
        /// Keep %ProgramData%\s1trust (config, tokens, snapshot); only delete the task.
        #[arg(long)]
        keep_data: bool,
    },
}

/// Runs `s1trust setup …`.
pub(crate) fn run(command: &SetupCommand) -> Result<Outcome, Error> {
    #[cfg(windows)]
    {
        use super::render::{errln, outln};
        use crate::install::windows::{Action, run};
        let action = match command {
            SetupCommand::Install => Action::Install,
            SetupCommand::Uninstall { keep_data } => Action::Uninstall {
                keep_data: *keep_data,
            },
        };
        let report = run(action).map_err(|e| {
            Error::usage(
                format!("setup failed: {e}"),
                "run the installer again as an administrator; see the MSI log (msiexec /l*v)",
            )
        })?;
        report.done.iter().for_each(|d| outln!("done: {d}"));
        report
            .warnings
            .iter()
            .for_each(|w| errln!("s1trust: warning: {w}"));
        report
            .failed
            .iter()
            .for_each(|f| errln!("s1trust: error: {f}"));
        Ok(if report.failed.is_empty() {
            Outcome::Ok
        } else {
            Outcome::Negative
        })
    }
    #[cfg(not(windows))]
    {
        let _ = command;
        Err(Error::usage(
            "`s1trust setup` is what the Windows installer runs; there is nothing to do on this OS",
            "the .deb's maintainer scripts (Linux) and the .pkg's pre/postinstall scripts (macOS) create the folders, permissions and scheduled refresh",
        ))
    }
}

#[cfg(all(test, not(windows)))]
mod tests {
    use super::*;

    #[test]
    fn explains_itself_elsewhere() {
        let err = run(&SetupCommand::Install).unwrap_err();
        assert_eq!(err.outcome(), Outcome::Usage);
        assert!(err.to_string().contains("Windows installer"));
    }
}
