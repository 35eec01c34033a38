//! `lookup`: one device's agent record, by serial or UUID, from the integration the
//! command names (or its `--url`): the key checked before anything is sent, the
//! tenant asked, and the answer judged.

use serde_json::Value;

use super::checklist::Progress;
use super::{Connection, Error, Options, connect, runtime};
use crate::exit::Outcome;
use crate::lookup::{LookupQuery, Selection, davinci_error, davinci_object, lookup as find};

/// The key the caller gave.
#[derive(Debug, Clone, Copy)]
pub enum LookupKey<'a> {
    /// `--serial`.
    Serial(&'a str),
    /// `--uuid`.
    Uuid(&'a str),
}

impl LookupKey<'_> {
    /// "serial PF2ABCDE", "agent UUID …", for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Serial(serial) => format!("serial {}", crate::text::quoted(serial)),
            Self::Uuid(uuid) => format!("agent UUID {uuid}"),
        }
    }
}

/// What a lookup that reached the tenant found.
#[derive(Debug)]
pub struct Looked {
    /// The DaVinci-shaped object for stdout (absent when the tenant's failure has none).
    pub object: Option<Value>,
    /// The exit status: found, not found, or undecidable.
    pub outcome: Outcome,
    /// Why the tenant could not answer, when it could not.
    pub failure: Option<Error>,
    /// Several records matched equally well: what to say, and what to do.
    pub ambiguous: Option<(String, String)>,
    /// The s1trust-relay that answered for the tenant, when one did.
    pub relay: Option<String>,
}

/// Runs the lookup. Errors before the tenant is asked (a placeholder serial, a
/// malformed UUID, no usable integration) are `Err`, and nothing was sent.
/// `progress` is told when the tenant is asked; the answer ends the wait.
pub fn lookup(
    options: &Options,
    integration: Option<&str>,
    connection: &Connection,
    key: LookupKey<'_>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Looked, Error> {
    // The key is checked before anything else so a placeholder is never sent anywhere.
    let query = match key {
        LookupKey::Serial(serial) => LookupQuery::serial(serial)?,
        LookupKey::Uuid(uuid) => LookupQuery::uuid(uuid)?,
    };
    let target = connect(options, integration, connection)?;
    let console = target.client.console().to_string();
    let relay = target.client.is_relay().then(|| console.clone());
    let tenant = target
        .name
        .as_deref()
        .map_or_else(|| console.clone(), crate::text::quoted);
    progress(Progress::Waiting(&format!("asking {tenant}")));
    Ok(match runtime()?.block_on(find(&target.client, &query)) {
        Ok(result) => {
            let (outcome, ambiguous) = judge(result.selection, result.matches.len());
            Looked {
                object: Some(davinci_object(&result)),
                outcome,
                failure: None,
                ambiguous,
                relay,
            }
        }
        Err(source) => {
            let object = davinci_error(&source);
            let failure = Error::Tenant { console, source };
            Looked {
                object,
                outcome: failure.outcome(),
                failure: Some(failure),
                ambiguous: None,
                relay,
            }
        }
    })
}

fn judge(selection: Selection, matches: usize) -> (Outcome, Option<(String, String)>) {
    match selection {
        Selection::Found { others: 0, .. } => (Outcome::Ok, None),
        Selection::Found { others, .. } => {
            tracing::warn!(
                "{matches} agent records match; chose the live, most recently active one ({others} duplicate(s), e.g. left behind by a reinstall)"
            );
            (Outcome::Ok, None)
        }
        Selection::NotFound => (Outcome::Negative, None),
        Selection::Ambiguous { tied } => (
            Outcome::Unknown,
            Some((
                format!(
                    "{tied} agent records match equally well (same state and last activity); the device cannot be told apart"
                ),
                "decommission the stale records in the console, or look the device up by --uuid"
                    .into(),
            )),
        ),
    }
}
