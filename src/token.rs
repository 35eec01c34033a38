//! The SentinelOne API token: loading it and keeping it out of every output.
//!
//! A read-only token still lists every device of the tenant, so it is treated
//! like an ssh private key: token files must be readable by their owner only,
//! and the value is never printed, logged or put in a URL.

use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable that may carry the token (after `--token-file`, before the config).
pub const TOKEN_ENV: &str = "S1_API_TOKEN";

/// Upper bound on a token file; real tokens are well under 1 KiB.
const MAX_TOKEN_FILE: u64 = 16 * 1024;

/// An API token. `Debug` and `Display` redact it; only [`ApiToken::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token after trimming surrounding whitespace; rejects empty tokens
    /// and characters that cannot travel in an HTTP header.
    pub fn new(raw: &str) -> Result<Self, TokenError> {
        let token = raw.trim();
        if token.is_empty() {
            return Err(TokenError::Empty);
        }
        if token.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(TokenError::BadCharacters);
        }
        Ok(Self(token.to_owned()))
    }

    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a token could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token is empty after trimming.
    #[error("the API token is empty")]
    Empty,
    /// The token holds spaces or control characters.
    #[error("the API token contains spaces or control characters")]
    BadCharacters,
    /// The token file could not be read.
    #[error("cannot read token file {}: {source}", path.display())]
    Read {
        /// The token file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The token file is readable (or writable) by other users.
    #[error(
        "token file {} has permissions {mode:04o}, which lets other users read or change it; run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    TooOpen {
        /// The token file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The token file is not a regular file or is implausibly large.
    #[error("token file {} is not a regular file of at most 16 KiB", path.display())]
    NotAFile {
        /// The token file.
        path: PathBuf,
    },
    /// The token file's content is not a usable token.
    #[error("token file {}: {source}", path.display())]
    Invalid {
        /// The token file.
        path: PathBuf,
        /// What is wrong with its content.
        source: Box<TokenError>,
    },
    /// No source provided a token.
    #[error(
        "no API token: pass --token-file FILE, set {TOKEN_ENV}, or set token_file for the integration in the config"
    )]
    Missing,
}

/// Reads a token file, refusing files other users could read or change.
pub fn read_token_file(path: &Path) -> Result<ApiToken, TokenError> {
    let read_err = |source| TokenError::Read {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() || meta.len() > MAX_TOKEN_FILE {
        return Err(TokenError::NotAFile {
            path: path.to_owned(),
        });
    }
    check_owner_only(path, &meta)?;
    let text = std::fs::read_to_string(path).map_err(read_err)?;
    ApiToken::new(&text).map_err(|e| TokenError::Invalid {
        path: path.to_owned(),
        source: Box::new(e),
    })
}

#[cfg(unix)]
fn check_owner_only(path: &Path, meta: &std::fs::Metadata) -> Result<(), TokenError> {
    use std::os::unix::fs::PermissionsExt;
    // Same rule as ssh for private keys: no bits at all for group and others.
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(TokenError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_only(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), TokenError> {
    // On Windows the token folder's ACL (SYSTEM and Administrators only) is set by the
    // installer; per-file ACL inspection is not done here.
    Ok(())
}

/// Picks the token from, in order: an explicit file, the `S1_API_TOKEN` value, the
/// integration's configured file.
pub fn resolve_token(
    explicit_file: Option<&Path>,
    env_value: Option<&str>,
    config_file: Option<&Path>,
) -> Result<ApiToken, TokenError> {
    if let Some(path) = explicit_file {
        return read_token_file(path);
    }
    if let Some(value) = env_value {
        return ApiToken::new(value);
    }
    match config_file {
        Some(path) => read_token_file(path),
        None => Err(TokenError::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let token = ApiToken::new("  s3cr3t-value\n").unwrap();
        assert_eq!(token.expose(), "s3cr3t-value");
        assert!(!format!("{token:?}").contains("s3cr3t"));
        assert!(!format!("{token}").contains("s3cr3t"));
        assert!(!format!("{:?}", Some(&token)).contains("s3cr3t"));
    }

    #[test]
    fn rejects_empty_and_spaces() {
        assert!(matches!(ApiToken::new(" \n"), Err(TokenError::Empty)));
        assert!(matches!(
            ApiToken::new("two words"),
            Err(TokenError::BadCharacters)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_group_readable_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.token");
        std::fs::write(&path, "abc\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_token_file(&path).unwrap_err();
        assert!(matches!(err, TokenError::TooOpen { mode: 0o640, .. }));
        assert!(err.to_string().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_token_file(&path).unwrap().expose(), "abc");
    }

    #[test]
    fn source_order() {
        assert_eq!(
            resolve_token(None, Some("from-env"), None)
                .unwrap()
                .expose(),
            "from-env"
        );
        assert!(matches!(
            resolve_token(None, None, None),
            Err(TokenError::Missing)
        ));
    }
}
