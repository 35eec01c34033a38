//! Process exit codes shared by every command (docs/reasons.md "Exit codes").

/// What a command's answer was, mapped to the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Trusted, found, or every check passed.
    Ok = 0,
    /// Not trusted, not found, or a check failed.
    Negative = 1,
    /// The command line or the configuration is wrong.
    Usage = 2,
    /// The answer could not be determined (network, TLS, auth, rate limit, timeout, bad response).
    Unknown = 3,
    /// `verify`: the token is not a valid verdict.
    Invalid = 4,
}

impl Outcome {
    /// The numeric exit status.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Outcome> for std::process::ExitCode {
    fn from(outcome: Outcome) -> Self {
        std::process::ExitCode::from(outcome.code())
    }
}
