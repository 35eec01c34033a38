//! Fault rules at run time, and the bodies that fault kinds produce.

use std::sync::Mutex;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::api::{Reply, bearer_token};
use crate::config::{Fault, FaultKind};

/// The live rule list. Rules are consumed in place (`times` counts down), so
/// a rule with `times: Some(0)` is spent and skipped.
#[derive(Default)]
pub(crate) struct FaultSet {
    rules: Mutex<Vec<Fault>>,
}

impl FaultSet {
    pub(crate) fn new(rules: Vec<Fault>) -> FaultSet {
        FaultSet {
            rules: Mutex::new(rules),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Vec<Fault>) -> R) -> R {
        // A panic while holding the lock cannot leave the list half-edited
        // (every edit is a single assignment), so a poisoned lock is usable.
        let mut guard = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    pub(crate) fn set(&self, rules: Vec<Fault>) {
        self.with(|r| *r = rules);
    }

    pub(crate) fn add(&self, rule: Fault) {
        self.with(|r| r.push(rule));
    }

    /// The first matching rule with uses left; uses one. A rule still letting requests
    /// through (`after`) counts this one and lets it pass.
    pub(crate) fn take(&self, path: &str, token: Option<&str>) -> Option<FaultKind> {
        self.with(|rules| {
            let rule = rules
                .iter_mut()
                .find(|r| r.times != Some(0) && matches(r, path, token))?;
            if rule.after > 0 {
                rule.after -= 1;
                return None;
            }
            if let Some(n) = rule.times.as_mut() {
                *n -= 1;
            }
            Some(rule.kind.clone())
        })
    }
}

fn matches(rule: &Fault, path: &str, token: Option<&str>) -> bool {
    rule.path_prefix
        .as_deref()
        .is_none_or(|p| path.starts_with(p))
        && rule.token.as_deref().is_none_or(|t| token == Some(t))
}

/// Clamps a user-given status to something HTTP can carry.
pub(crate) fn valid_status(code: u16) -> u16 {
    if (100..=999).contains(&code) {
        code
    } else {
        500
    }
}

/// An HTML page such as a proxy block page or SSO login would return.
pub(crate) fn html_page(status: u16) -> Reply {
    let body = format!(
        "<!DOCTYPE html>\n<html><head><title>Sign in - Corporate Gateway</title></head>\n\
         <body><h1>Authentication required</h1>\n\
         <p>Your request was intercepted by the network gateway (status {status}).</p>\n\
         <form method=\"post\" action=\"/login\"><input name=\"user\"><input name=\"password\" \
         type=\"password\"><button>Sign in</button></form></body></html>\n"
    );
    Reply {
        status: valid_status(status),
        content_type: "text/html; charset=utf-8",
        body: Bytes::from(body),
        retry_after: None,
    }
}

/// The error envelope for `status` whose detail is `detail` with `{authorization}`
/// replaced by the request's `Authorization` header and `{token}` by its token.
pub(crate) fn error_detail(status: u16, detail: &str, authorization: Option<&str>) -> Reply {
    let token = bearer_token(authorization).unwrap_or("");
    let detail = detail
        .replace("{authorization}", authorization.unwrap_or(""))
        .replace("{token}", token);
    Reply::error(valid_status(status), Some(&detail))
}

/// 200 `application/json` whose body stops mid-object.
pub(crate) fn malformed_json() -> Reply {
    Reply {
        status: 200,
        content_type: "application/json",
        body: Bytes::from_static(b"{\"data\": [ {\"id\": \x00garbage<<<"),
        retry_after: None,
    }
}

/// 200 `application/json`: valid JSON in none of the API's shapes. `data` is a
/// list of non-objects (so no `data.health`, no user object, no agent records)
/// and `pagination` has a string count and a numeric cursor.
pub(crate) fn wrong_shape() -> Reply {
    Reply::json(
        200,
        &json!({
            "data": [1, "two", null, [3]],
            "pagination": {"totalItems": "many", "nextCursor": 7}
        }),
    )
}

/// The body a 200-shaped fault starts from: the real answer when it was a
/// success, otherwise an empty list envelope (the fault promises a 200).
pub(crate) fn success_body(real: &Reply) -> Bytes {
    if real.status == 200 {
        return real.body.clone();
    }
    Bytes::from(
        json!({"data": [], "pagination": {"totalItems": 0, "nextCursor": null}}).to_string(),
    )
}

/// `body` (JSON) grown to exactly `bytes` bytes by adding a padding string
/// field, so it stays valid JSON. Bodies already that large are unchanged.
/// The padding is spliced in as bytes rather than serialised: a debug build
/// takes seconds to escape-check tens of MiB, longer than a client's deadline.
pub(crate) fn pad_json(body: &Bytes, bytes: usize) -> Bytes {
    let mut value: Value = serde_json::from_slice(body).unwrap_or_else(|_| json!({"data": []}));
    if !value.is_object() {
        value = json!({"data": value});
    }
    let Some(map) = value.as_object_mut() else {
        return body.clone();
    };
    map.insert("emulatorPadding".to_owned(), Value::String(String::new()));
    let base = serde_json::to_vec(&value).unwrap_or_default();
    if bytes <= base.len() {
        return body.clone();
    }
    // The empty padding string is the last field: `…,"emulatorPadding":""}`.
    // ASCII 'x' needs no escaping, so the body is exactly `bytes` long.
    // `vec![b'x'; n]` is a memset even unoptimised; the two ends are copied in.
    let head = &base[..base.len() - 2];
    let mut out = vec![b'x'; bytes];
    out[..head.len()].copy_from_slice(head);
    out[bytes - 2..].copy_from_slice(b"\"}");
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_counts_down_and_first_match_wins() {
        let set = FaultSet::new(vec![
            Fault::new(FaultKind::Drop).path("/a").times(1),
            Fault::new(FaultKind::Hang).token("t"),
        ]);
        assert_eq!(set.take("/b", None), None);
        assert_eq!(set.take("/a/x", None), Some(FaultKind::Drop));
        assert_eq!(set.take("/a/x", None), None);
        assert_eq!(set.take("/a/x", Some("t")), Some(FaultKind::Hang));
        assert_eq!(set.take("/a/x", Some("u")), None);
        set.set(vec![]);
        assert_eq!(set.take("/a/x", Some("t")), None);
    }

    #[test]
    fn padding_is_exact_and_valid() {
        let body = Bytes::from_static(br#"{"data":[{"id":"1"}]}"#);
        let padded = pad_json(&body, 10_000);
        assert_eq!(padded.len(), 10_000);
        let v: Value = serde_json::from_slice(&padded).unwrap();
        assert_eq!(v["data"][0]["id"], json!("1"));
        assert_eq!(pad_json(&body, 5), body);
    }

    #[test]
    fn wrong_shape_is_json_without_records() {
        let v: Value = serde_json::from_slice(&wrong_shape().body).unwrap();
        assert!(v["data"].as_array().unwrap().iter().all(|r| !r.is_object()));
        assert!(v.pointer("/data/health").is_none());
    }

    #[test]
    fn error_detail_echoes_the_request() {
        let reply = error_detail(401, "got {authorization} ({token})", Some("ApiToken t-1"));
        assert_eq!(reply.status, 401);
        let v: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(v["errors"][0]["detail"], "got ApiToken t-1 (t-1)");
        assert_eq!(v["errors"][0]["title"], "Authentication Failed");
        let anonymous = error_detail(500, "got {authorization}", None);
        let v: Value = serde_json::from_slice(&anonymous.body).unwrap();
        assert_eq!(v["errors"][0]["detail"], "got ");
    }

    #[test]
    fn malformed_is_not_json() {
        assert!(serde_json::from_slice::<Value>(&malformed_json().body).is_err());
        assert_eq!(html_page(2000).status, 500);
    }
}
