//! Errors that end a command: one line saying what failed and why, one saying what to do.

use crate::config::ConfigError;
use crate::exit::Outcome;
use crate::identity::serial::SerialProblem;
use crate::identity::uuid::BadUuid;
use crate::tenant::TenantError;
use crate::tenant::url::UrlError;
use crate::token::TokenError;

/// A failure that ends a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Wrong arguments or combination of arguments.
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
    /// The configuration is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The token could not be obtained.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The console URL is refused.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The serial cannot identify a device.
    #[error("{0}; nothing was sent to the tenant")]
    Serial(#[from] SerialProblem),
    /// The UUID is malformed.
    #[error(transparent)]
    Uuid(#[from] BadUuid),
    /// The tenant did not answer usefully.
    #[error("{console}: {source}")]
    Tenant {
        /// The console asked.
        console: String,
        /// What went wrong.
        source: TenantError,
    },
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// A usage error with a hint.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// The exit status it maps to.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Tenant {
                source: TenantError::CaFile { .. },
                ..
            } => Outcome::Usage,
            Self::Tenant { .. } | Self::Output(_) => Outcome::Unknown,
            _ => Outcome::Usage,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Usage { hint, .. } => hint.clone(),
            Self::Config(ConfigError::Invalid { .. }) => Some("fix the lines above; `s1trust config validate` re-checks the file".into()),
            Self::Serial(SerialProblem::Placeholder(_)) => Some("this firmware value is shared by many devices; look the device up by --uuid instead".into()),
            Self::Tenant { source, .. } => Some(source.hint().into()),
            _ => None,
        }
    }

    /// Prints the error (and its hint) to stderr.
    pub fn report(&self) {
        eprintln!("s1trust: error: {self}");
        if let Some(hint) = self.hint() {
            eprintln!("  hint: {hint}");
        }
    }
}
