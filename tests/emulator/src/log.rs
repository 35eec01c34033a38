//! The request log tests assert on.

use std::fmt;
use std::time::SystemTime;

/// How the emulator finished a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A complete response was sent.
    Answered,
    /// Headers and part of the body were sent, then the connection was cut
    /// (`FaultKind::TruncatedJson`).
    Truncated,
    /// The connection was closed without a response (`FaultKind::Drop`).
    Dropped,
    /// The request was never answered (`FaultKind::Hang`).
    Hung,
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw (still percent-encoded) query string, empty when absent.
    pub query: String,
    /// Decoded query pairs in order, repeats included.
    pub params: Vec<(String, String)>,
    /// `Authorization` header value as sent.
    pub authorization: Option<String>,
    /// Response status; `None` when dropped or hung.
    pub status: Option<u16>,
    /// How the request ended.
    pub outcome: Outcome,
    /// Name of the injected fault that applied (see
    /// [`crate::FaultKind::name`]), if any.
    pub fault: Option<String>,
    /// When the request was recorded (once its outcome was decided).
    pub at: SystemTime,
}

impl LoggedRequest {
    /// First decoded value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for LoggedRequest {
    /// One log line. The token is never printed, only whether one was sent,
    /// so logs from demos can be shared.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let result = match (self.outcome, self.status) {
            (Outcome::Dropped, _) => "dropped".to_owned(),
            (Outcome::Hung, _) => "hung".to_owned(),
            (Outcome::Truncated, Some(s)) => format!("{s} (truncated)"),
            (_, Some(s)) => s.to_string(),
            (_, None) => "-".to_owned(),
        };
        let auth = match &self.authorization {
            None => "no auth",
            Some(a) if a.starts_with("ApiToken ") => "ApiToken ***",
            Some(_) => "other auth",
        };
        write!(f, "{} {}", self.method, self.path)?;
        if !self.query.is_empty() {
            write!(f, "?{}", self.query)?;
        }
        write!(f, " [{auth}] -> {result}")?;
        if let Some(fault) = &self.fault {
            write!(f, " (fault: {fault})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_token() {
        let r = LoggedRequest {
            method: "GET".into(),
            path: "/p".into(),
            query: "a=1".into(),
            params: vec![("a".into(), "1".into())],
            authorization: Some("ApiToken secret".into()),
            status: Some(200),
            outcome: Outcome::Answered,
            fault: Some("latency".into()),
            at: SystemTime::now(),
        };
        let line = r.to_string();
        assert_eq!(line, "GET /p?a=1 [ApiToken ***] -> 200 (fault: latency)");
        assert_eq!(r.param("a"), Some("1"));
    }
}
