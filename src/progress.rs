//! What a command reports while it runs, so a terminal can show each step as it
//! finishes: the library's commands report through these, the CLI renders them.

/// One checked thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedItem {
    /// Whether it passed.
    pub ok: bool,
    /// What was checked.
    pub what: String,
    /// What was found.
    pub detail: String,
    /// What to do, when it failed.
    pub hint: Option<String>,
}

/// What a run of steps reports as it goes, so a terminal can show each step as it
/// finishes and what it is waiting for in between (doctor, `integration test`,
/// `lookup` and `refresh -v` wait on the network or the agent's tool). `T` is the
/// step: a [`CheckedItem`], or a connection test's own step.
pub enum Progress<'a, T = CheckedItem> {
    /// A new section starts.
    Section(&'a str),
    /// A step that may take a while starts: what it waits for, for people. The next
    /// `Item`, or the end of the run, ends the wait.
    Waiting(&'a str),
    /// A step finished.
    Item(&'a T),
}
