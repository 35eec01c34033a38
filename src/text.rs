//! Text s1trust did not write itself (a tenant's answers and errors) before it is
//! kept or shown: cut to a size limit, and stripped of credentials a server echoed.
//! Escaping for the terminal is the renderer's job (`cli::render`), since JSON
//! output escapes for itself.

use serde_json::Value;

use crate::token::ApiToken;

/// What a cut string ends with, so a reader knows there was more.
pub const CLIPPED: &str = "…[truncated]";
/// What a credential is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Cuts `text` to at most `max` bytes, on a char boundary and ending in [`CLIPPED`],
/// when it is longer; returns whether it did.
pub fn clip(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut end = max.saturating_sub(CLIPPED.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(CLIPPED);
    true
}

/// [`clip`] on every string of a JSON document, object keys included.
pub fn clip_strings(value: &mut Value, max: usize) {
    edit_strings(value, &mut |text| {
        clip(text, max);
    });
}

/// Applies `edit` to every string of a JSON document: values, and object keys (an
/// object whose keys change is rebuilt, keeping its order).
pub fn edit_strings(value: &mut Value, edit: &mut impl FnMut(&mut String)) {
    match value {
        Value::String(text) => edit(text),
        Value::Array(items) => items.iter_mut().for_each(|item| edit_strings(item, edit)),
        Value::Object(fields) => {
            fields
                .values_mut()
                .for_each(|item| edit_strings(item, edit));
            let keys_change = fields.keys().any(|key| {
                let mut edited = key.clone();
                edit(&mut edited);
                edited != *key
            });
            if keys_change {
                *fields = std::mem::take(fields)
                    .into_iter()
                    .map(|(mut key, item)| {
                        edit(&mut key);
                        (key, item)
                    })
                    .collect();
            }
        }
        _ => {}
    }
}

/// Removes credentials from text: every occurrence of the secrets it holds (the API
/// tokens in use), and, whatever the secret, the credential after an `ApiToken` or
/// `Bearer` scheme or after an `Authorization:` header name, which is how a server
/// or proxy echoes the request it refused. It over-redacts rather than under: "the
/// Bearer of" loses its next word.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<ApiToken>,
}

/// Schemes whose next word is a credential wherever they appear.
const SCHEMES: [&str; 2] = ["apitoken", "bearer"];
/// Schemes recognised after an `Authorization` header name (kept, their credential
/// redacted); after the header name any other first word is the credential itself.
const HEADER_SCHEMES: [&str; 7] = [
    "apitoken",
    "bearer",
    "basic",
    "digest",
    "token",
    "negotiate",
    "ntlm",
];
const HEADER: &str = "authorization";

impl Redactor {
    /// A redactor for these secrets (and the credential patterns).
    pub fn new(secrets: impl IntoIterator<Item = ApiToken>) -> Self {
        Self {
            secrets: secrets.into_iter().collect(),
        }
    }

    /// Redacts `text` in place.
    pub fn redact(&self, text: &mut String) {
        for secret in &self.secrets {
            let secret = secret.expose();
            if !secret.is_empty() && text.contains(secret) {
                *text = text.replace(secret, REDACTED);
            }
        }
        if let Some(clean) = redact_credentials(text) {
            *text = clean;
        }
    }

    /// [`Redactor::redact`] on every string of a JSON document, object keys included.
    pub fn redact_strings(&self, value: &mut Value) {
        edit_strings(value, &mut |text| self.redact(text));
    }
}

/// `text` with the credential after each scheme or header name replaced, or `None`
/// when there is none. Matching is ASCII case-insensitive on whole words, and every
/// cut falls on an ASCII byte, so the result stays valid UTF-8.
fn redact_credentials(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || !is_word_byte(bytes[i - 1]);
        let credential = if at_word_start {
            credential_after_keyword(bytes, i)
        } else {
            None
        };
        match credential {
            Some((start, end)) => {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    (copied > 0).then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

/// When a scheme or header name starts at `at`, the byte range of the credential
/// it introduces (never empty).
fn credential_after_keyword(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    if let Some(end) = word_at(bytes, at, &SCHEMES) {
        let start = skip_separator(bytes, end).start;
        return credential_at(bytes, start).filter(|_| start > end);
    }
    let end = word_at(bytes, at, &[HEADER])?;
    let separator = skip_separator(bytes, end);
    if !separator.assigns {
        return None;
    }
    let start = separator.start;
    if let Some(scheme_end) = word_at(bytes, start, &HEADER_SCHEMES) {
        // The scheme stays; what follows it, if anything, is the credential.
        let after = skip_separator(bytes, scheme_end).start;
        return credential_at(bytes, after).filter(|_| after > scheme_end);
    }
    credential_at(bytes, start)
}

/// The end of whichever of `words` (lowercase ASCII) starts at `at` as a whole word.
fn word_at(bytes: &[u8], at: usize, words: &[&str]) -> Option<usize> {
    words.iter().find_map(|word| {
        let end = at + word.len();
        let candidate = bytes.get(at..end)?;
        let whole = bytes.get(end).is_none_or(|b| !is_word_byte(*b));
        (whole && candidate.eq_ignore_ascii_case(word.as_bytes())).then_some(end)
    })
}

struct Separator {
    /// Where what follows it starts.
    start: usize,
    /// Whether it held `:` or `=` (a header name's value follows).
    assigns: bool,
}

/// Skips spaces, tabs, quotes, `:` and `=` from `at`.
fn skip_separator(bytes: &[u8], at: usize) -> Separator {
    let mut i = at;
    let mut assigns = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' | b'\t' | b'"' | b'\'' => {}
            b':' | b'=' => assigns = true,
            _ => break,
        }
        i += 1;
    }
    Separator { start: i, assigns }
}

/// The credential starting at `at`: a run of printable ASCII that is not a quote,
/// bracket or list separator (which end a token in JSON, headers and prose).
fn credential_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let len = bytes
        .get(at..)?
        .iter()
        .take_while(|&&b| b.is_ascii_graphic() && !b"\"'`,;<>()[]{}\\".contains(&b))
        .count();
    (len > 0).then_some((at, at + len))
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "s1t-Sup3rS3cr3t-7f1c";

    fn redactor() -> Redactor {
        Redactor::new([ApiToken::new(SECRET).unwrap()])
    }

    fn redacted(text: &str) -> String {
        let mut text = text.to_owned();
        redactor().redact(&mut text);
        text
    }

    #[test]
    fn clips_on_a_char_boundary_and_marks_it() {
        let mut short = "é".repeat(10);
        assert!(!clip(&mut short, 20));
        assert_eq!(short, "é".repeat(10));
        let mut long = "é".repeat(100);
        assert!(clip(&mut long, 51));
        assert!(long.len() <= 51, "{}", long.len());
        assert!(long.ends_with(CLIPPED));
        assert!(long.trim_end_matches(CLIPPED).chars().all(|c| c == 'é'));
        // A limit smaller than the marker still yields the marker, not a panic.
        let mut tiny = "abcdefghijklmnopqrstuvwxyz".to_owned();
        clip(&mut tiny, 3);
        assert_eq!(tiny, CLIPPED);
    }

    #[test]
    fn clips_every_string_of_a_document_keys_included() {
        let long = "x".repeat(100);
        let mut doc = json!({"a": [long.clone(), {"b": long.clone()}], long.clone(): 1, "n": 7});
        clip_strings(&mut doc, 40);
        let text = doc.to_string();
        assert!(!text.contains(&long), "{text}");
        assert_eq!(doc["a"][0].as_str().unwrap().len(), 40);
        assert!(doc["a"][1]["b"].as_str().unwrap().ends_with(CLIPPED));
        assert_eq!(doc["n"], 7);
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys[0], "a", "order kept");
        assert!(keys[1].ends_with(CLIPPED));
    }

    #[test]
    fn the_configured_secret_is_replaced_wherever_it_is() {
        assert_eq!(
            redacted(&format!("bad token {SECRET}, again{SECRET}.")),
            "bad token [redacted], again[redacted]."
        );
        assert_eq!(redacted("nothing secret here"), "nothing secret here");
        // Without secrets only the patterns apply.
        let mut text = format!("token {SECRET}");
        Redactor::default().redact(&mut text);
        assert_eq!(text, format!("token {SECRET}"));
    }

    #[test]
    fn echoed_credentials_are_replaced_whatever_the_secret() {
        for (echo, clean) in [
            (
                "Authorization: ApiToken abc.DEF-123 rejected",
                "Authorization: ApiToken [redacted] rejected",
            ),
            (
                r#"{"authorization": "Bearer eyJhbGciOi.x_y"}"#,
                r#"{"authorization": "Bearer [redacted]"}"#,
            ),
            (
                "Proxy-Authorization=Basic dXNlcjpwYXNz",
                "Proxy-Authorization=Basic [redacted]",
            ),
            (
                "AUTHORIZATION:raw-secret;next",
                "AUTHORIZATION:[redacted];next",
            ),
            ("apitoken  zzz", "apitoken  [redacted]"),
            ("(bearer q1w2e3)", "(bearer [redacted])"),
            (
                "header was 'ApiToken=k'",
                "header was 'ApiToken=[redacted]'",
            ),
        ] {
            assert_eq!(redacted(echo), clean, "{echo}");
        }
    }

    #[test]
    fn words_that_only_look_alike_are_left_alone() {
        for text in [
            "Authorization failed: the API token is wrong",
            "the `Authorization` header",
            "ApiTokens were rotated",
            "myApiToken value",
            "Bearer",
            "ApiToken [redacted]",
            "Authorization: Bearer [redacted]",
            "Authorization: Basic",
            "café Bearer",
        ] {
            assert_eq!(redacted(text), text);
        }
    }

    #[test]
    fn redaction_keeps_other_text_and_is_idempotent() {
        let once = redacted(&format!("é Authorization: ApiToken {SECRET} 日本 ✓"));
        assert_eq!(once, "é Authorization: ApiToken [redacted] 日本 ✓");
        assert_eq!(redacted(&once), once);
    }

    #[test]
    fn redacts_a_whole_document_keys_included() {
        let mut doc = json!({"errors": [{"detail": format!("got {SECRET}"), "Bearer x": null}]});
        redactor().redact_strings(&mut doc);
        assert_eq!(
            doc,
            json!({"errors": [{"detail": "got [redacted]", "Bearer [redacted]": null}]})
        );
    }
}

/// `name` in double quotes, as messages show an integration's name: unlike `{:?}`,
/// which writes emoji variation selectors and other non-ASCII marks as `\u{fe0f}`, it
/// keeps the name as the admin wrote it; only `"` and `\` are escaped. (Control
/// characters are made visible where text reaches a terminal.)
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod quoted_tests {
    #[test]
    fn names_keep_their_marks() {
        assert_eq!(super::quoted("Prod ☁️"), "\"Prod ☁️\"");
        assert_eq!(super::quoted(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
