//! Tidiness the compiler does not check: every module says what it is for, and the checker
//! stays independent of the model it judges (it may read events, ids, time, messages and
//! routes, never the broker's or the client's code or tables).

mod common;

use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_module_opens_with_a_doc_comment() {
    let root = Path::new(common::root());
    let mut missing = Vec::new();
    for dir in ["model/src", "sim/src", "src"] {
        for file in sources(&root.join(dir)) {
            let text = std::fs::read_to_string(&file).expect("a source file");
            if !text.starts_with("//!") {
                missing.push(
                    file.strip_prefix(root)
                        .unwrap_or(&file)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    assert!(
        missing.is_empty(),
        "modules without a `//!` doc: {missing:?}"
    );
}

#[test]
fn the_checker_imports_nothing_of_the_broker_or_the_client() {
    let root = Path::new(common::root());
    let mut found = Vec::new();
    for file in sources(&root.join("sim/src/check")) {
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (number, line) in text.lines().enumerate() {
            if line.contains("model::broker") || line.contains("model::client") {
                let name = file
                    .strip_prefix(root)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                found.push(format!("{name}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the checker reads the model's code: {found:#?}"
    );
}

/// The names of the model's invariants (`invariant!(cond, "name", ...)`), in file order.
fn invariant_names() -> Vec<String> {
    let root = Path::new(common::root());
    let mut names = Vec::new();
    for file in sources(&root.join("model/src")) {
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (at, _) in text.match_indices("invariant!(") {
            // The name is the first string literal after the condition.
            let rest = &text[at..];
            let ends = [rest.find(",\n"), rest.find(", \"")];
            let Some(open) = ends.into_iter().flatten().min() else {
                continue;
            };
            let after = &rest[open..];
            let Some(start) = after.find('"') else {
                continue;
            };
            let name: String = after[start + 1..]
                .chars()
                .take_while(|c| *c != '"')
                .collect();
            if name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                names.push(name);
            }
        }
    }
    names
}

/// Invariants are checked at the model's state changes, each under a name of its own: there
/// are many, and no two share a name (a report names the one that fired).
#[test]
fn the_model_asserts_many_invariants_each_named_once() {
    let names = invariant_names();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "an invariant name used twice");
    assert!(names.len() >= 100, "only {} named invariants", names.len());
}
