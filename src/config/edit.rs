//! Changing `[[integration]]` entries of a config file without disturbing the rest:
//! comments, ordering and layout survive (toml_edit). Pure functions over text; the
//! caller validates the result with [`crate::config::parse`] and writes it atomically.

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

use crate::config::same_name;

/// Why a config could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The current file is not valid TOML.
    #[error("the configuration is not valid TOML: {0}")]
    Syntax(String),
    /// `integration` is not an array of tables.
    #[error("`integration` in the configuration is not a list of [[integration]] tables")]
    Shape,
    /// Adding a name that exists (ignoring case and surrounding spaces); holds the
    /// existing entry's name as written.
    #[error("an integration named {0:?} already exists; use `s1trust integration edit {word}`", word = crate::config::shell_word(.0))]
    Exists(String),
    /// Editing or removing a name that does not exist.
    #[error("no integration named {0:?} in the configuration")]
    Missing(String),
}

/// Values for an integration entry; `None` leaves a key as it is (edit) or out (add).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationFields {
    /// `url`.
    pub url: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `token_file`.
    pub token_file: Option<String>,
    /// `ca_file`.
    pub ca_file: Option<String>,
    /// `account_ids`.
    pub account_ids: Option<Vec<String>>,
    /// `site_ids`.
    pub site_ids: Option<Vec<String>>,
}

/// The header of a config file s1trust creates.
const NEW_FILE_HEADER: &str = "# s1trust configuration (see `s1trust --help` and `man s1trust`).\n# Integrations below were added with `s1trust integration add`.\n";

/// Appends an `[[integration]]` named `name`.
pub fn add_integration(
    text: &str,
    name: &str,
    fields: &IntegrationFields,
) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    if let Some(index) = find(&doc, name)? {
        let existing = doc["integration"]
            .as_array_of_tables()
            .and_then(|tables| tables.get(index))
            .and_then(|t| t.get("name"))
            .and_then(Item::as_str)
            .unwrap_or(name);
        return Err(EditError::Exists(existing.to_owned()));
    }
    let mut table = Table::new();
    table["name"] = value(name);
    apply(&mut table, fields);
    // A file of comments only (a fresh copy of the example) keeps them as the
    // document's trailing text, which would end up below the new table.
    if doc.as_table().is_empty() {
        let comments = doc.trailing().as_str().unwrap_or_default().to_owned();
        if !comments.trim().is_empty() {
            table
                .decor_mut()
                .set_prefix(format!("{}\n\n", comments.trim_end()));
            doc.set_trailing("");
        }
    }
    if doc.get("integration").is_none() {
        doc["integration"] = Item::ArrayOfTables(ArrayOfTables::new());
    }
    doc["integration"]
        .as_array_of_tables_mut()
        .ok_or(EditError::Shape)?
        .push(table);
    let header = if text.trim().is_empty() {
        NEW_FILE_HEADER
    } else {
        ""
    };
    Ok(format!("{header}{doc}"))
}

/// Changes the given keys of the integration `name`, keeping everything else.
pub fn update_integration(
    text: &str,
    name: &str,
    fields: &IntegrationFields,
) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    let index = find(&doc, name)?.ok_or_else(|| EditError::Missing(name.to_owned()))?;
    let tables = doc["integration"]
        .as_array_of_tables_mut()
        .ok_or(EditError::Shape)?;
    let table = tables
        .get_mut(index)
        .ok_or_else(|| EditError::Missing(name.to_owned()))?;
    apply(table, fields);
    Ok(doc.to_string())
}

/// Removes the integration `name`; returns the new text and the entry's `token_file`.
pub fn remove_integration(text: &str, name: &str) -> Result<(String, Option<String>), EditError> {
    let mut doc = parse(text)?;
    let index = find(&doc, name)?.ok_or_else(|| EditError::Missing(name.to_owned()))?;
    let tables = doc["integration"]
        .as_array_of_tables_mut()
        .ok_or(EditError::Shape)?;
    let token_file = tables
        .get(index)
        .and_then(|t| t.get("token_file"))
        .and_then(Item::as_str)
        .map(str::to_owned);
    tables.remove(index);
    if tables.is_empty() {
        doc.remove("integration");
    }
    Ok((doc.to_string(), token_file))
}

fn parse(text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>()
        .map_err(|e| EditError::Syntax(e.message().trim().to_owned()))
}

/// The entry called `name`, compared as names are (ignoring case and surrounding spaces).
fn find(doc: &DocumentMut, name: &str) -> Result<Option<usize>, EditError> {
    let Some(item) = doc.get("integration") else {
        return Ok(None);
    };
    let tables = item.as_array_of_tables().ok_or(EditError::Shape)?;
    Ok(tables.iter().position(|t| {
        t.get("name")
            .and_then(Item::as_str)
            .is_some_and(|n| same_name(n, name))
    }))
}

fn apply(table: &mut Table, fields: &IntegrationFields) {
    let strings = [
        ("description", &fields.description),
        ("url", &fields.url),
        ("token_file", &fields.token_file),
        ("ca_file", &fields.ca_file),
    ];
    for (key, new) in strings {
        if let Some(new) = new {
            table[key] = value(new.as_str());
        }
    }
    for (key, ids) in [
        ("account_ids", &fields.account_ids),
        ("site_ids", &fields.site_ids),
    ] {
        match ids {
            Some(ids) if ids.is_empty() => {
                table.remove(key);
            }
            Some(ids) => table[key] = value(ids.iter().map(String::as_str).collect::<Array>()),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXISTING: &str = r#"# Company tenants — managed by IT
[[integration]]
name = "corp"   # production
url = "https://usea1.sentinelone.net"
token_file = "tokens/corp.token"

[integration.factors.agent_active]
enabled = true

[http]
deadline = "20s" # keep login fast
"#;

    fn fields(url: &str) -> IntegrationFields {
        IntegrationFields {
            url: Some(url.into()),
            token_file: Some("tokens/lab.token".into()),
            site_ids: Some(vec!["1800000000000000001".into()]),
            ..Default::default()
        }
    }

    #[test]
    fn add_keeps_comments_and_validates() {
        let text =
            add_integration(EXISTING, "lab", &fields("https://lab.sentinelone.net")).unwrap();
        assert!(text.contains("# Company tenants — managed by IT"));
        assert!(text.contains("name = \"corp\"   # production"));
        assert!(text.contains("deadline = \"20s\" # keep login fast"));
        let config = crate::config::parse(&text).unwrap();
        assert_eq!(config.integrations.len(), 2);
        assert_eq!(config.integrations[1].site_ids, ["1800000000000000001"]);
        let corp = &config.integrations[0];
        assert!(
            corp.factors
                .iter()
                .any(|f| f.key == crate::catalogue::FactorKey::AgentActive && f.enabled)
        );
        assert!(matches!(
            add_integration(&text, "lab", &fields("https://x.example")),
            Err(EditError::Exists(_))
        ));
    }

    #[test]
    fn add_to_an_empty_file_writes_a_header() {
        let text = add_integration("", "corp", &fields("https://usea1.sentinelone.net")).unwrap();
        assert!(text.starts_with("# s1trust configuration"));
        assert_eq!(
            crate::config::parse(&text).unwrap().integrations[0]
                .name
                .as_str(),
            "corp"
        );
    }

    #[test]
    fn a_file_of_comments_keeps_them_above_the_first_table() {
        let text = "# s1trust configuration\n# see the README\n";
        let out = add_integration(text, "lab", &fields("https://a.sentinelone.net")).unwrap();
        assert!(
            out.starts_with("# s1trust configuration\n# see the README\n\n[[integration]]"),
            "{out}"
        );
        assert!(crate::config::parse(&out).is_ok(), "{out}");
    }

    #[test]
    fn update_changes_only_given_keys() {
        let change = IntegrationFields {
            url: Some("https://euce1.sentinelone.net".into()),
            ..Default::default()
        };
        let text = update_integration(EXISTING, "corp", &change).unwrap();
        assert!(text.contains("url = \"https://euce1.sentinelone.net\""));
        assert!(text.contains("token_file = \"tokens/corp.token\""));
        assert!(text.contains("name = \"corp\"   # production"));
        assert!(text.contains("[integration.factors.agent_active]"));
        assert!(matches!(
            update_integration(EXISTING, "nope", &change),
            Err(EditError::Missing(_))
        ));
    }

    #[test]
    fn names_as_people_write_them() {
        let name = "Production SentinelOne";
        let fields = IntegrationFields {
            url: Some("https://usea1.sentinelone.net".into()),
            token_file: Some("tokens/production-sentinelone.token".into()),
            ..Default::default()
        };
        let text = add_integration(EXISTING, name, &fields).unwrap();
        assert!(text.contains("name = \"Production SentinelOne\""), "{text}");
        let config = crate::config::parse(&text).unwrap();
        assert_eq!(config.integrations[1].name.as_str(), name);
        // The same name in another case or with spaces around is the same integration.
        let err = add_integration(&text, " production sentinelone ", &fields).unwrap_err();
        assert_eq!(
            err.to_string(),
            "an integration named \"Production SentinelOne\" already exists; use `s1trust integration edit \"Production SentinelOne\"`"
        );
        let change = IntegrationFields {
            description: Some("EU".into()),
            ..Default::default()
        };
        let edited = update_integration(&text, "PRODUCTION SENTINELONE", &change).unwrap();
        let config = crate::config::parse(&edited).unwrap();
        assert_eq!(config.integrations[1].description.as_deref(), Some("EU"));
        let (removed, token) = remove_integration(&edited, "production sentinelone").unwrap();
        assert_eq!(
            token.as_deref(),
            Some("tokens/production-sentinelone.token")
        );
        assert!(!removed.contains("Production SentinelOne"));
    }

    #[test]
    fn remove_returns_the_token_file() {
        let (text, token) = remove_integration(EXISTING, "corp").unwrap();
        assert_eq!(token.as_deref(), Some("tokens/corp.token"));
        assert!(!text.contains("usea1"));
        assert!(text.contains("deadline = \"20s\" # keep login fast"));
        assert!(crate::config::parse(&text).unwrap().integrations.is_empty());
        assert!(matches!(
            remove_integration("integration = 1", "x"),
            Err(EditError::Shape)
        ));
        assert!(matches!(
            remove_integration("[[", "x"),
            Err(EditError::Syntax(_))
        ));
    }
}
