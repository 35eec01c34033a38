//! `s1trust setup install | uninstall` (hidden): the Windows installer's custom actions.
//!
//! The MSI (packaging/windows/s1trust.wxs) runs the installed `s1trust.exe` as SYSTEM
//! (deferred, not impersonated) because Debian's wixl cannot express folder ACLs or
//! scheduled tasks itself. `install` creates `%ProgramData%\s1trust` and `tokens\`,
//! copies `config.example.toml` from beside the program to `config.toml` when there is
//! none (so upgrades keep the admin's file), makes Administrators the owner, lets only
//! SYSTEM and Administrators write (Users may read; `tokens\` only SYSTEM and
//! Administrators at all), and registers the `s1trust-refresh` task (SYSTEM, shortly
//! after boot and every 15 minutes) from a task XML it keeps as `refresh-task.xml`.
//! `uninstall` deletes the task and, unless `--keep-data`, the data folder.
//!
//! The command lines and the task XML are built by pure functions tested on Linux; the
//! Linux and macOS packages do the same work in their own scripts, so there this
//! command only explains that.

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
        super::windows_setup::run_windows(command)
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
