//! Reading a TOML document while collecting every problem with its line: what the
//! device's configuration and the relay's have in common. Each reader wraps a
//! [`Problems`] and adds its own tables.

use std::ops::Range;
use std::time::Duration;

use toml_edit::{Document, TableLike};

use super::Problem;

/// Where each line starts, computed once, so every problem's line is a binary
/// search rather than a scan of the file.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Self { starts }
    }

    /// The 1-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

/// The problems found so far, and the helpers every table reader uses.
pub(crate) struct Problems {
    lines: LineIndex,
    found: Vec<Problem>,
}

impl Problems {
    /// Parses `text`; a document that is not TOML is its one problem.
    pub(crate) fn parse(text: &str) -> Result<(Document<&str>, Self), Vec<Problem>> {
        let mut problems = Self {
            lines: LineIndex::new(text),
            found: Vec::new(),
        };
        match Document::parse(text) {
            Ok(doc) => Ok((doc, problems)),
            Err(e) => {
                problems.problem(e.span(), e.message().trim().to_owned());
                Err(problems.found)
            }
        }
    }

    /// `value` when nothing was wrong, else every problem in line order.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, Vec<Problem>> {
        if self.found.is_empty() {
            Ok(value)
        } else {
            self.found.sort_by_key(|p| p.line);
            Err(self.found)
        }
    }

    pub(crate) fn problem(&mut self, span: Option<Range<usize>>, message: String) {
        let line = span.map(|s| self.lines.line_of(s.start));
        self.found.push(Problem { line, message });
    }

    /// A problem for every key of `table` not in `allowed`.
    pub(crate) fn check_keys(&mut self, table: &dyn TableLike, allowed: &[&str], context: &str) {
        for (key, item) in table.iter() {
            if !allowed.contains(&key) {
                let span = table
                    .key(key)
                    .and_then(|k| k.span())
                    .or_else(|| item.span());
                self.problem(
                    span,
                    format!(
                        "unknown key `{key}` in {context} (allowed: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    pub(crate) fn string(&mut self, table: &dyn TableLike, key: &str) -> Option<String> {
        let item = table.get(key)?;
        match item.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.problem(item.span(), format!("`{key}` must be a string"));
                None
            }
        }
    }

    pub(crate) fn switch(&mut self, table: &dyn TableLike, key: &str, default: bool) -> bool {
        let Some(item) = table.get(key) else {
            return default;
        };
        item.as_bool().unwrap_or_else(|| {
            self.problem(item.span(), format!("`{key}` must be true or false"));
            default
        })
    }

    /// A duration written like "10s" or "1m30s", above zero and at most `max`.
    pub(crate) fn duration(
        &mut self,
        table: &dyn TableLike,
        key: &str,
        default: Duration,
        max: Duration,
    ) -> Duration {
        let Some(item) = table.get(key) else {
            return default;
        };
        let parsed = item
            .as_str()
            .and_then(|s| humantime::parse_duration(s.trim()).ok())
            .filter(|d| !d.is_zero() && *d <= max);
        parsed.unwrap_or_else(|| {
            self.problem(
                item.span(),
                format!(
                    "`{key}` must be a duration string up to {}, e.g. \"10s\" or \"1m30s\"",
                    humantime::format_duration(max)
                ),
            );
            default
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_carry_their_lines_in_order() {
        let text = "a = 1\nb = \"x\"\n[t]\nc = true\n";
        let (doc, mut problems) = Problems::parse(text).unwrap();
        let root = doc.as_table();
        let t = root.get("t").and_then(|t| t.as_table_like()).unwrap();
        assert!(!problems.switch(t, "d", false));
        problems.check_keys(t, &["d"], "[t]");
        assert_eq!(problems.string(root, "a"), None);
        let found = problems.finish(()).unwrap_err();
        let lines: Vec<Option<usize>> = found.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(1), Some(4)]);
        assert_eq!(found[1].message, "unknown key `c` in [t] (allowed: d)");
        let broken = Problems::parse("= broken").err().unwrap();
        assert_eq!(broken[0].line, Some(1));
    }
}
