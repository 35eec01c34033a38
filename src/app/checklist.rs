//! A checklist of ✓/✗ lines with fixes, as data: `doctor` builds one, and the CLI's
//! one renderer prints it (and the other commands' step lists).

pub use crate::progress::{CheckedItem, Progress};

/// A titled group of steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// Its title.
    pub title: String,
    /// Its steps, in order.
    pub steps: Vec<CheckedItem>,
}

/// Collects sections and steps in order.
#[derive(Default)]
pub struct Checklist {
    /// Every section so far.
    pub sections: Vec<Section>,
    observer: Option<Observer>,
}

/// Told of every section and step as it is added.
type Observer = Box<dyn FnMut(Progress<'_>)>;

impl std::fmt::Debug for Checklist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checklist")
            .field("sections", &self.sections)
            .finish_non_exhaustive()
    }
}

impl Checklist {
    /// A checklist that tells `observer` of every section and step as it is added.
    pub fn observed(observer: impl FnMut(Progress<'_>) + 'static) -> Self {
        Self {
            sections: Vec::new(),
            observer: Some(Box::new(observer)),
        }
    }

    /// Says that what comes next waits on `what` (the network, the agent's tool); the
    /// next section or step ends the wait.
    pub fn waiting(&mut self, what: &str) {
        if let Some(observer) = &mut self.observer {
            observer(Progress::Waiting(what));
        }
    }

    /// Starts a new section.
    pub fn section(&mut self, title: &str) {
        if let Some(observer) = &mut self.observer {
            observer(Progress::Section(title));
        }
        self.sections.push(Section {
            title: title.into(),
            steps: Vec::new(),
        });
    }

    fn push(&mut self, step: CheckedItem) {
        if self.sections.is_empty() {
            self.section("");
        }
        if let Some(observer) = &mut self.observer {
            observer(Progress::Item(&step));
        }
        if let Some(last) = self.sections.last_mut() {
            last.steps.push(step);
        }
    }

    /// A passed step.
    pub fn pass(&mut self, what: &str, detail: impl Into<String>) {
        self.push(CheckedItem {
            ok: true,
            what: what.into(),
            detail: detail.into(),
            hint: None,
        });
    }

    /// A failed step and its fix.
    pub fn fail(&mut self, what: &str, detail: impl Into<String>, hint: impl Into<String>) {
        self.push(CheckedItem {
            ok: false,
            what: what.into(),
            detail: detail.into(),
            hint: Some(hint.into()),
        });
    }

    /// The checklist as `doctor --json` prints it (src/app/doctor-v1.schema.json).
    pub fn to_json(&self, version: &str) -> serde_json::Value {
        let sections: Vec<serde_json::Value> = self
            .sections
            .iter()
            .map(|section| {
                let steps: Vec<serde_json::Value> = section
                    .steps
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "ok": s.ok, "what": s.what, "detail": s.detail, "hint": s.hint,
                        })
                    })
                    .collect();
                serde_json::json!({ "title": section.title, "steps": steps })
            })
            .collect();
        serde_json::json!({
            "schemaVersion": 1,
            "version": version,
            "ok": self.failures() == 0,
            "failures": self.failures(),
            "sections": sections,
        })
    }

    /// How many steps failed.
    pub fn failures(&self) -> usize {
        self.sections
            .iter()
            .flat_map(|s| &s.steps)
            .filter(|s| !s.ok)
            .count()
    }
}
