//! The README and the pages of docs/ link to each other: every relative link must name a
//! file or folder that exists, and every `#anchor` a heading of the page it points to
//! (GitHub's heading slugs), so moving or renaming a section cannot leave a dead link.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::helpers::scratch;

/// README.md and every Markdown page of `root`/docs.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md")];
    let docs = std::fs::read_dir(root.join("docs")).expect("docs/ can be listed");
    for entry in docs {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// The lines of `text` outside fenced code blocks, with inline code spans blanked (a
/// `[x](y)` in backticks is an example, not a link).
fn prose_lines(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut in_code = false;
        let prose: String = line
            .chars()
            .map(|c| {
                if c == '`' {
                    in_code = !in_code;
                }
                if in_code || c == '`' { ' ' } else { c }
            })
            .collect();
        lines.push(prose);
    }
    lines
}

/// The targets of the inline links `[text](target)` of a page.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let mut rest = line.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].trim().to_owned());
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped except `-` and `_`,
/// spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor a page's headings make; a repeated slug gets `-1`, `-2`, … as on GitHub.
fn anchors(text: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for line in prose_lines_keeping_code(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading);
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// Lines outside fenced code blocks, inline code kept (a heading's slug includes the
/// text in its backticks).
fn prose_lines_keeping_code(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// Every dead link of the pages below `root`, as `page: target (why)`.
fn dead_links(root: &Path) -> Vec<String> {
    let mut dead = Vec::new();
    for page in pages(root) {
        let text = std::fs::read_to_string(&page).unwrap();
        let folder = page.parent().unwrap();
        let name = page.strip_prefix(root).unwrap().display().to_string();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                page.clone()
            } else {
                folder.join(path)
            };
            if !file.exists() {
                dead.push(format!("{name}: {target} (no such file)"));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            let Ok(linked) = std::fs::read_to_string(&file) else {
                dead.push(format!(
                    "{name}: {target} (an anchor into something not a page)"
                ));
                continue;
            };
            if !anchors(&linked).contains(anchor) {
                dead.push(format!("{name}: {target} (no such heading)"));
            }
        }
    }
    dead
}

#[test]
fn every_link_of_the_readme_and_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dead = dead_links(root);
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

#[test]
fn the_readme_links_every_page_of_docs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let linked: HashSet<String> = link_targets(&readme).into_iter().collect();
    for page in pages(root).iter().filter(|p| !p.ends_with("README.md")) {
        let target = format!("docs/{}", page.file_name().unwrap().to_string_lossy());
        assert!(
            linked.contains(&target),
            "README.md has no link to {target}"
        );
    }
}

#[test]
fn a_dead_file_or_anchor_is_reported() {
    let dir = scratch();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(
        dir.path().join("README.md"),
        "# Tool\n\nSee [a](docs/a.md#the-second-part), [b](docs/b.md), [c](docs/a.md#gone),\n\
         [here](#tool), `[code](docs/none.md)` and [web](https://example.com/x).\n\
         ```\n[fenced](docs/none.md)\n```\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("docs/a.md"),
        "# A\n\n## The second part\n\nBack to [the start](../README.md#tool) and [`s1trust check --json`](#s1trust-check---json).\n\n## `s1trust check --json`\n",
    )
    .unwrap();
    assert_eq!(
        dead_links(dir.path()),
        [
            "README.md: docs/b.md (no such file)",
            "README.md: docs/a.md#gone (no such heading)",
        ]
    );
}

#[test]
fn slugs_follow_github() {
    assert_eq!(
        slug("Capacity: devices per API token"),
        "capacity-devices-per-api-token"
    );
    assert_eq!(
        slug("What CI checks (`bash .ci/packages`)"),
        "what-ci-checks-bash-cipackages"
    );
    assert_eq!(slug("`s1trust refresh`"), "s1trust-refresh");
    assert_eq!(
        anchors("# A\n## Notes\n## Notes\n```\n# not a heading\n```\n"),
        HashSet::from(["a".into(), "notes".into(), "notes-1".into()])
    );
}
