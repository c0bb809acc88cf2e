//! Cells a matrix leaves out. A setting may not exist for every value of another axis (a
//! DLedger group has no `flushDiskType`: `flush = "sync"` is refused for it), so a matrix may
//! name the cells it does not run, with the reason its table prints:
//!
//! ```toml
//! [[matrix.skip]]
//! when = { flush = "sync", replication = "dledger" }
//! because = "DLedgerCommitLog ignores flushDiskType"
//! ```

use super::Cell;
use super::expect::{Axes, Fail, entries, entry_path, holds, parse_when};
use crate::scenario::error::{self, ScenarioError};

/// One `[[matrix.skip]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct CellSkip {
    /// Each axis it constrains, with the values a skipped cell has on it.
    pub when: Vec<(String, Vec<String>)>,
    /// Why those cells are not run, as the table prints it.
    pub because: String,
}

impl CellSkip {
    pub fn applies_to(&self, cell: &Cell) -> bool {
        holds(&self.when, cell)
    }

    /// `flush=sync,replication=dledger`, each axis with the values it lists.
    pub fn spec(&self) -> String {
        let parts: Vec<String> = (self.when.iter())
            .map(|(axis, values)| format!("{axis}={}", values.join("|")))
            .collect();
        parts.join(",")
    }
}

/// Characters of a `because` at most.
const MAX_BECAUSE_CHARS: usize = 200;

/// Reads the value of `matrix.skip`.
pub(super) fn parse(
    value: &toml::Value,
    axes: &Axes,
    fail: Fail<'_>,
) -> Result<Vec<CellSkip>, Box<ScenarioError>> {
    entries("skip", value, fail, |index, entry| {
        parse_entry(index, entry, axes, fail)
    })
}

fn parse_entry(
    index: usize,
    entry: &toml::Value,
    axes: &Axes,
    fail: Fail<'_>,
) -> Result<CellSkip, Box<ScenarioError>> {
    let at = |rest: &[&str]| entry_path("skip", Some(index), rest);
    let Some(table) = entry.as_table() else {
        return Err(fail(at(&[]), "must be a table".into(), None));
    };
    if let Some(unknown) = table.keys().find(|k| *k != "when" && *k != "because") {
        let message = format!(
            "unknown field `{}`: a skip has `when` and `because`",
            error::bounded(unknown, 40)
        );
        return Err(fail(at(&[unknown]), message, None));
    }
    let Some(when) = table.get("when") else {
        let message = "needs `when`: the axes and values of the cells it leaves out".to_string();
        let hint = Some("when = { flush = \"sync\", replication = \"dledger\" }".to_string());
        return Err(fail(at(&[]), message, hint));
    };
    let when = parse_when(when, &at, axes, fail)?;
    let because = match table.get("because").map(|b| b.as_str().map(str::trim)) {
        Some(Some(because))
            if !because.is_empty() && because.chars().count() <= MAX_BECAUSE_CHARS =>
        {
            because
        }
        Some(_) => {
            let message = format!("must be a sentence of 1 to {MAX_BECAUSE_CHARS} characters");
            return Err(fail(at(&["because"]), message, None));
        }
        None => {
            let message = "needs `because`: why these cells are not run".to_string();
            return Err(fail(at(&[]), message, None));
        }
    };
    Ok(CellSkip {
        when,
        because: because.to_string(),
    })
}
