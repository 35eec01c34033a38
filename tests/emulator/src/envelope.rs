//! The console's error envelope: `{"errors":[{"code":…,"detail":…,"title":…}]}`.

use serde_json::{Value, json};

/// Code, title and default detail the console uses for an HTTP status.
///
/// Codes follow the observed rule "HTTP status × 10000 + 10"; titles and
/// details come from recorded console responses where one exists.
pub fn error_parts(status: u16) -> (u64, &'static str, Option<&'static str>) {
    let code = u64::from(status) * 10_000 + 10;
    match status {
        400 => (code, "Validation Error", None),
        401 => (code, "Authentication Failed", None),
        403 => (
            code,
            "Insufficient permissions",
            Some("User does not have required permissions"),
        ),
        404 => (code, "Not Found", None),
        405 => (code, "Method Not Allowed", None),
        429 => (code, "Too Many Requests", None),
        500 => (
            code,
            "Internal server error",
            Some("Server could not process the request."),
        ),
        502 => (code, "Bad Gateway", None),
        503 => (code, "Service Unavailable", None),
        504 => (code, "Gateway Timeout", None),
        _ => (code, generic_title(status), None),
    }
}

fn generic_title(status: u16) -> &'static str {
    hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// The error envelope for `status`; `detail` overrides the default detail.
pub fn error_body(status: u16, detail: Option<&str>) -> Value {
    let (code, title, default_detail) = error_parts(status);
    json!({
        "errors": [{
            "code": code,
            "detail": detail.or(default_detail),
            "title": title,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        assert_eq!(
            error_body(401, None),
            json!({"errors":[{"code":4010010,"detail":null,"title":"Authentication Failed"}]})
        );
        assert_eq!(
            error_body(403, None)["errors"][0]["detail"],
            json!("User does not have required permissions")
        );
        assert_eq!(
            error_body(400, Some("x"))["errors"][0]["detail"],
            json!("x")
        );
        assert_eq!(error_parts(500).0, 5000010);
        assert_eq!(error_parts(503).1, "Service Unavailable");
        assert_eq!(error_parts(418).1, "I'm a teapot");
    }
}
