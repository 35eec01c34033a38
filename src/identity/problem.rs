//! A source that could not be read, and why: the identity read's problems.

use super::*;

/// Which fact a problem leaves unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fact {
    /// The hardware serial.
    Serial,
    /// The agent (installed, UUID, version, URL, state).
    Agent,
    /// Host name, OS, architecture, processes.
    Host,
}

/// A source that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProblem {
    /// The source, e.g. `/sys/firmware/dmi/tables/DMI` or `sentinelctl management status`.
    pub source: String,
    /// Why it could not be read.
    pub reason: ProblemReason,
    /// What to do about it.
    pub hint: Option<String>,
    /// Which fact it affects.
    pub fact: Fact,
    /// What exactly went wrong, e.g. `/opt/sentinelone is owned by uid 998, not root`.
    pub detail: Option<String>,
}

crate::reason::codes! {
    /// Why a source could not be read (docs/commands.md `s1trust identity`).
    pub enum ProblemReason {
        /// The file, program or value does not exist (the agent is not installed).
        NotPresent = "not_present",
        /// The OS refused to read or run it.
        PermissionDenied = "permission_denied",
        /// It did not answer within its time limit.
        TimedOut = "timed_out",
        /// Its output or contents are in a format s1trust does not recognize, or too large.
        Unparsable = "unparsable",
        /// Someone other than root could have replaced the program or a folder above it.
        Unsafe = "unsafe",
        /// Any other failure.
        Failed = "failed",
        /// The agent is installed but has no UUID: not registered with a console.
        NotRegistered = "not_registered",
    }
}

impl ProblemReason {
    /// Whether the source answered that the fact is absent (nothing installed, not
    /// registered): a definite answer. Every other code leaves the fact unknown.
    pub fn is_absence(self) -> bool {
        matches!(self, Self::NotPresent | Self::NotRegistered)
    }
}

/// A fact this OS offers no way to read: the identity is read on macOS, Windows and
/// Linux only, the OSes SentinelOne has an agent for. It becomes a `not_present` problem
/// whose source is the OS's name, so such a device reads as one without an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("s1trust reads the device identity on macOS, Windows and Linux only")]
pub struct Unsupported(pub Fact);

impl From<Unsupported> for IdentityProblem {
    fn from(unsupported: Unsupported) -> Self {
        Self::new(
            unsupported.0,
            std::env::consts::OS,
            ProblemReason::NotPresent,
        )
        .detail(unsupported.to_string())
    }
}

impl IdentityProblem {
    /// A problem without detail or hint.
    pub fn new(fact: Fact, source: impl Into<String>, reason: ProblemReason) -> Self {
        Self {
            source: source.into(),
            reason,
            hint: None,
            fact,
            detail: None,
        }
    }

    /// Adds what exactly went wrong.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds what to do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A failed vendor command, with a hint matching the failure.
    pub fn from_command(fact: Fact, source: impl Into<String>, error: &CommandError) -> Self {
        let problem = Self::new(fact, source, error.reason()).detail(error.to_string());
        match error {
            CommandError::PermissionDenied(_) | CommandError::Failed { .. } => {
                problem.hint(RUN_PRIVILEGED)
            }
            CommandError::Unsafe { .. } => problem.hint(
                "fix the ownership and permissions of the agent's folders (root-owned, not writable by group or others), or reinstall the agent",
            ),
            CommandError::TimedOut { .. } => {
                problem.hint("the agent may be upgrading; try again in a few minutes")
            }
            _ => problem,
        }
    }

    /// Output or a file in a format s1trust does not recognize.
    pub fn unparsable(fact: Fact, source: &str, error: &impl std::fmt::Display) -> Self {
        Self::new(fact, source, ProblemReason::Unparsable)
            .detail(error.to_string())
            .hint(format!(
                "the format is not recognized; report this with the output of `{source}`"
            ))
    }

    /// A file that could not be read.
    pub fn from_io(fact: Fact, source: impl Into<String>, error: &std::io::Error) -> Self {
        let reason = match error.kind() {
            std::io::ErrorKind::NotFound => ProblemReason::NotPresent,
            std::io::ErrorKind::PermissionDenied => ProblemReason::PermissionDenied,
            std::io::ErrorKind::TimedOut => ProblemReason::TimedOut,
            _ => ProblemReason::Failed,
        };
        let problem = Self::new(fact, source, reason);
        match reason {
            ProblemReason::NotPresent => problem,
            ProblemReason::PermissionDenied => {
                problem.detail(error.to_string()).hint(RUN_PRIVILEGED)
            }
            _ => problem.detail(error.to_string()),
        }
    }
}
