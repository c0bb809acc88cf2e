//! Per-cell expectations of a matrix. Each `[[matrix.expect]]` entry names the cells it
//! applies to with `when` (every axis it lists must take one of the values given) and sets
//! expectation keys as `[expect]` does; for those cells they replace `[expect]`'s, and a later
//! entry replaces an earlier one's.
//!
//! ```toml
//! [[matrix.expect]]
//! when = { fault = "kill" }
//! lost = 0
//!
//! [[matrix.expect]]
//! when = { flush = "sync", fault = ["kill", "power-off"] }
//! lost = 0
//! ```
//!
//! Everything is checked when the matrix is read, before any cell is built: an axis the
//! matrix does not declare, a value the axis does not have, an unknown expectation key or a
//! bad condition is a located error.

use super::Cell;
use crate::scenario::error::{self, ScenarioError, Step, did_you_mean};
use crate::scenario::schema::ExpectSection;

/// One `[[matrix.expect]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct CellExpect {
    /// Each axis it constrains, with the values the cell may have on it.
    pub when: Vec<(String, Vec<String>)>,
    /// The expectation keys as written; each one is known to read as an `[expect]` key.
    pub keys: toml::Table,
}

impl CellExpect {
    /// Whether every axis of `when` takes one of its listed values in `cell`.
    pub fn applies_to(&self, cell: &Cell) -> bool {
        holds(&self.when, cell)
    }
}

/// Whether every axis of a `when` takes one of its listed values in `cell`.
pub(super) fn holds(when: &[(String, Vec<String>)], cell: &Cell) -> bool {
    when.iter().all(|(axis, values)| {
        cell.0
            .iter()
            .any(|(name, value)| name == axis && values.contains(value))
    })
}

/// Builds a located error for a field path.
pub(super) type Fail<'a> = &'a dyn Fn(Vec<Step>, String, Option<String>) -> Box<ScenarioError>;

/// Axes and their values, as the matrix declares them.
pub(super) type Axes = [(String, Vec<String>)];

/// Reads the value of `matrix.expect`.
pub(super) fn parse(
    value: &toml::Value,
    axes: &Axes,
    fail: Fail<'_>,
) -> Result<Vec<CellExpect>, Box<ScenarioError>> {
    entries("expect", value, fail, |index, entry| {
        parse_entry(index, entry, axes, fail)
    })
}

/// Reads `[[matrix.<section>]]`, each entry through `read` with its index.
pub(super) fn entries<T>(
    section: &str,
    value: &toml::Value,
    fail: Fail<'_>,
    read: impl Fn(usize, &toml::Value) -> Result<T, Box<ScenarioError>>,
) -> Result<Vec<T>, Box<ScenarioError>> {
    let Some(entries) = value.as_array() else {
        let message = format!("must be an array of tables: write [[matrix.{section}]]");
        return Err(fail(entry_path(section, None, &[]), message, None));
    };
    (entries.iter().enumerate())
        .map(|(index, entry)| read(index, entry))
        .collect()
}

/// `matrix.<section>[index].<rest>` (or `matrix.<section>` without an index).
pub(super) fn entry_path(section: &str, index: Option<usize>, rest: &[&str]) -> Vec<Step> {
    let mut path = vec![error::key("matrix"), error::key(section)];
    path.extend(index.map(Step::Index));
    path.extend(rest.iter().map(|name| error::key(name)));
    path
}

fn parse_entry(
    index: usize,
    entry: &toml::Value,
    axes: &Axes,
    fail: Fail<'_>,
) -> Result<CellExpect, Box<ScenarioError>> {
    let at = |rest: &[&str]| entry_path("expect", Some(index), rest);
    let Some(table) = entry.as_table() else {
        return Err(fail(at(&[]), "must be a table".into(), None));
    };
    let Some(when) = table.get("when") else {
        let message = "needs `when`: the axes and values of the cells it applies to".to_string();
        let hint = Some("when = { fault = \"kill\" }".to_string());
        return Err(fail(at(&[]), message, hint));
    };
    let when = parse_when(when, &at, axes, fail)?;
    let mut keys = table.clone();
    keys.remove("when");
    if keys.is_empty() {
        let message = "sets no expectation: add a key of [expect], e.g. `lost = 0`".to_string();
        return Err(fail(at(&[]), message, None));
    }
    for (name, value) in &keys {
        check_key(name, value).map_err(|(message, hint)| fail(at(&[name]), message, hint))?;
    }
    Ok(CellExpect { when, keys })
}

/// `when = { axis = "value" | ["value", ...], ... }`, every axis and value declared; `at`
/// places a field of the entry it belongs to.
pub(super) fn parse_when(
    when: &toml::Value,
    at: &dyn Fn(&[&str]) -> Vec<Step>,
    axes: &Axes,
    fail: Fail<'_>,
) -> Result<Vec<(String, Vec<String>)>, Box<ScenarioError>> {
    let Some(table) = when.as_table().filter(|t| !t.is_empty()) else {
        let message = "must be a table of at least one axis = value".to_string();
        let hint = Some("when = { fault = \"kill\" }".to_string());
        return Err(fail(at(&["when"]), message, hint));
    };
    let mut out = Vec::new();
    for (axis, value) in table {
        let at = at(&["when", axis]);
        let Some((_, declared)) = axes.iter().find(|(name, _)| name == axis) else {
            let names: Vec<&str> = axes.iter().map(|(name, _)| name.as_str()).collect();
            let message = format!("no axis `{axis}`; the axes are {}", names.join(", "));
            let hint =
                did_you_mean(axis, names.iter().copied()).map(|n| format!("did you mean `{n}`?"));
            return Err(fail(at, message, hint));
        };
        let values = values_of(value).map_err(|message| fail(at.clone(), message, None))?;
        if let Some(unknown) = values.iter().find(|v| !declared.contains(v)) {
            let message = format!(
                "`{axis}` has no value `{}`; its values are {}",
                error::bounded(unknown, 40),
                declared.join(", ")
            );
            let hint = did_you_mean(unknown, declared.iter().map(String::as_str))
                .map(|n| format!("did you mean `{n}`?"));
            return Err(fail(at, message, hint));
        }
        out.push((axis.clone(), values));
    }
    // The matrix's order, not the table's.
    out.sort_by_key(|(axis, _)| axes.iter().position(|(name, _)| name == axis));
    Ok(out)
}

/// A value or a non-empty list of values.
fn values_of(value: &toml::Value) -> Result<Vec<String>, String> {
    let values: Option<Vec<String>> = match value {
        toml::Value::Array(list) if !list.is_empty() => {
            list.iter().map(super::scalar_text).collect()
        }
        value => super::scalar_text(value).map(|v| vec![v]),
    };
    values.ok_or_else(|| "must be a value of the axis or a non-empty list of them".to_string())
}

/// Whether `name = value` reads as a key of `[expect]`: the message and a hint if not.
fn check_key(name: &str, value: &toml::Value) -> Result<(), (String, Option<String>)> {
    let mut one = toml::Table::new();
    one.insert(name.to_string(), value.clone());
    match toml::Value::Table(one).try_into::<ExpectSection>() {
        Ok(_) => Ok(()),
        Err(err) => {
            let message = err.message().trim().to_string();
            let hint = crate::scenario::unknown_field_hint(&message);
            Err((message, hint))
        }
    }
}

/// The keys the entries set for `cell`, later entries winning; empty when none applies.
pub(super) fn keys_for(entries: &[CellExpect], cell: &Cell) -> toml::Table {
    let mut keys = toml::Table::new();
    for entry in entries.iter().filter(|entry| entry.applies_to(cell)) {
        for (name, value) in &entry.keys {
            keys.insert(name.clone(), value.clone());
        }
    }
    keys
}

/// The keys as an `[expect]` section.
pub(super) fn section(keys: toml::Table) -> Result<ExpectSection, String> {
    toml::Value::Table(keys)
        .try_into::<ExpectSection>()
        .map_err(|err| err.message().trim().to_string())
}
