//! The console address of a tenant, checked before anything connects to it.

use std::net::IpAddr;
use url::{Host, Url};

/// The API's path prefix under the console host.
pub const API_PREFIX: &str = "/web/api/v2.1";

/// A validated console base URL: `https://host[:port]`, or `http://` for loopback hosts only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleUrl(Url);

/// Why a console URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a URL at all.
    #[error(
        "{url:?} is not a valid URL ({reason}); use the console address, e.g. https://example.sentinelone.net"
    )]
    Invalid {
        /// The input.
        url: String,
        /// The parser's complaint.
        reason: String,
    },
    /// Neither `https` nor `http`.
    #[error("{url:?} uses scheme {scheme:?}; the console must be reached over https")]
    Scheme {
        /// The input.
        url: String,
        /// The scheme found.
        scheme: String,
    },
    /// Plain HTTP to a host that is not loopback would expose the token.
    #[error(
        "refusing plain http:// to {host}: the API token would travel unencrypted; use https:// (plain http is allowed only for loopback test servers)"
    )]
    PlainHttp {
        /// The host.
        host: String,
    },
    /// User name, password, query or fragment in the URL.
    #[error(
        "{0}: remove user names, passwords, query strings and fragments from the console URL (the token goes in a token file)"
    )]
    Extras(String),
    /// A path other than the API prefix.
    #[error("{0}: give the console address without a path (e.g. https://example.sentinelone.net)")]
    Path(String),
}

impl ConsoleUrl {
    /// Parses and checks a console URL. A trailing `/` or `/web/api/v2.1` is accepted and dropped.
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let trimmed = input.trim();
        let url = Url::parse(trimmed).map_err(|e| UrlError::Invalid {
            url: trimmed.to_owned(),
            reason: e.to_string(),
        })?;
        let host = url.host().ok_or_else(|| UrlError::Invalid {
            url: trimmed.to_owned(),
            reason: "no host".into(),
        })?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(UrlError::PlainHttp {
                    host: host.to_string(),
                });
            }
            other => {
                return Err(UrlError::Scheme {
                    url: trimmed.to_owned(),
                    scheme: other.to_owned(),
                });
            }
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(UrlError::Extras(redact_userinfo(&url)));
        }
        let path = url.path().trim_end_matches('/');
        if !path.is_empty() && path != API_PREFIX {
            return Err(UrlError::Path(trimmed.to_owned()));
        }
        let mut base = url.clone();
        base.set_path("");
        Ok(Self(base))
    }

    /// The URL of an API path such as `/agents` (relative to `/web/api/v2.1`).
    pub fn api(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        url.set_path(&format!("{API_PREFIX}{path}"));
        url
    }

    /// Whether requests go over plain HTTP (loopback test servers only).
    pub fn is_plain_http(&self) -> bool {
        self.0.scheme() == "http"
    }

    /// The console base, e.g. `https://example.sentinelone.net`.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }
}

impl std::fmt::Display for ConsoleUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

fn redact_userinfo(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_console_with_or_without_api_prefix() {
        for input in [
            "https://usea1.sentinelone.net",
            "https://usea1.sentinelone.net/",
            "https://usea1.sentinelone.net/web/api/v2.1/",
        ] {
            let url = ConsoleUrl::parse(input).unwrap();
            assert_eq!(url.as_str(), "https://usea1.sentinelone.net");
            assert_eq!(
                url.api("/agents").as_str(),
                "https://usea1.sentinelone.net/web/api/v2.1/agents"
            );
        }
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8443",
            "http://[::1]:80",
            "http://localhost:1",
            "http://127.5.0.1",
        ] {
            assert!(ConsoleUrl::parse(ok).unwrap().is_plain_http(), "{ok}");
        }
        for bad in [
            "http://usea1.sentinelone.net",
            "http://10.0.0.1",
            "http://[fe80::1]",
            "http://localhost.example.com",
        ] {
            assert!(
                matches!(ConsoleUrl::parse(bad), Err(UrlError::PlainHttp { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_scheme_extras_and_paths() {
        assert!(matches!(
            ConsoleUrl::parse("ftp://x.example"),
            Err(UrlError::Scheme { .. })
        ));
        assert!(matches!(
            ConsoleUrl::parse("not a url"),
            Err(UrlError::Invalid { .. })
        ));
        assert!(matches!(
            ConsoleUrl::parse("https://x.example/console"),
            Err(UrlError::Path(_))
        ));
        let err = ConsoleUrl::parse("https://user:hunter2@x.example").unwrap_err();
        assert!(matches!(err, UrlError::Extras(_)));
        assert!(!err.to_string().contains("hunter2"));
        assert!(matches!(
            ConsoleUrl::parse("https://x.example/?APIToken=abc"),
            Err(UrlError::Extras(_))
        ));
    }
}
