//! Errors that end a command: one line saying what failed and why, and a hint saying
//! what to do ([`Error::hint`]); the CLI prints both.

use crate::config::ConfigError;
use crate::exit::Outcome;
use crate::identity::serial::SerialProblem;
use crate::identity::uuid::BadUuid;
use crate::tenant::TenantError;
use crate::tenant::url::UrlError;
use crate::token::TokenError;

/// A failure that ends a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
    /// Another run holds the lock this command needs.
    #[error("{0}")]
    Busy(String),
    /// No usable answer of the kind asked for (a signed verdict): `unknown`.
    #[error("{0}")]
    Unavailable(String),
    /// Writing the output (or reading input) failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl Error {
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
            Self::Tenant { .. } | Self::Output(_) | Self::Busy(_) | Self::Unavailable(_) => {
                Outcome::Unknown
            }
            _ => Outcome::Usage,
        }
    }

    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Usage { hint, .. } => hint.clone(),
            Self::Busy(_) => Some("wait for it to finish; the scheduled refresh runs again within 15 minutes".into()),
            Self::Config(ConfigError::Invalid { .. }) => Some("fix the lines above; `s1trust config validate` re-checks the file".into()),
            Self::Serial(SerialProblem::Placeholder(_)) => Some("this firmware value is shared by many devices; look the device up by --uuid instead".into()),
            Self::Tenant { source, .. } => Some(source.hint().into()),
            _ => None,
        }
    }
}
