//! Per-cell expectations of a matrix (`[[matrix.expect]]`): entries that match a cell replace
//! `[expect]`'s conditions there, later entries winning; an axis, value or key the matrix does
//! not know is a located error (exit 2 through the CLI, see `cli_errors.rs`).

mod common;

use common::GOOD;
use sim::scenario::units::Condition;
use sim::scenario::{self, Scenario, ScenarioError};

/// `GOOD` with a flush x fault matrix, `[expect]` observing losses, and `entries` appended.
fn matrix(entries: &str) -> String {
    GOOD.replace(
        "name = \"broker-a\"",
        "name = \"broker-a\"\nflush = \"${flush}\"",
    ) + "\n[matrix]\nflush = [\"async\", \"sync\"]\nfault = [\"kill\", \"power-off\"]\n"
        + entries
        + "\n[expect]\nlost = \"observe\"\n"
}

fn cell(text: &str, cell: &str) -> Result<Scenario, Box<ScenarioError>> {
    scenario::parse_cell(text, "m.toml", Some(cell))
}

/// The line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

const ENTRIES: &str = r#"
[[matrix.expect]]
when = { fault = "kill" }
lost = 0

[[matrix.expect]]
when = { flush = "sync", fault = ["kill", "power-off"] }
lost = "<= 2"
duplicated = 0
"#;

#[test]
fn an_entry_applies_to_the_cells_it_names_and_later_entries_win() {
    let text = matrix(ENTRIES);
    let expect = |spec| cell(&text, spec).unwrap().expect;
    let plain = expect("flush=async,fault=power-off");
    assert_eq!(plain.get("lost").cloned(), Some(Condition::Observe));
    assert_eq!(plain.get("duplicated").cloned(), None);
    assert_eq!(
        expect("flush=async,fault=kill").get("lost").cloned(),
        Some(Condition::Equal(0))
    );
    let sync_kill = expect("flush=sync,fault=kill");
    assert_eq!(sync_kill.get("lost").cloned(), Some(Condition::AtMost(2)));
    assert_eq!(
        sync_kill.get("duplicated").cloned(),
        Some(Condition::Equal(0))
    );
    assert_eq!(
        expect("flush=sync,fault=power-off").get("lost").cloned(),
        Some(Condition::AtMost(2))
    );
    // Keys the entries do not set keep `[expect]`'s defaults.
    assert_eq!(
        sync_kill.get("unexpected").cloned(),
        Some(Condition::Equal(0))
    );
}

/// The error for `entries`, checked for its line (of `at`), its field and its words.
fn rejected(entries: &str, at: &str, field: &str, words: &[&str]) {
    let text = matrix(entries);
    let err = cell(&text, "flush=sync").unwrap_err();
    assert_eq!(err.file, "m.toml");
    assert_eq!(err.place.map(|p| p.0), Some(line_of(&text, at)), "{err}");
    assert_eq!(err.field, field, "{err}");
    for word in words {
        assert!(err.to_string().contains(word), "`{word}` in {err}");
    }
}

#[test]
fn an_unknown_axis_or_value_is_located() {
    rejected(
        "[[matrix.expect]]\nwhen = { faults = \"kill\" }\nlost = 0\n",
        "faults",
        "matrix.expect[0].when.faults",
        &["no axis `faults`", "did you mean `fault`?"],
    );
    rejected(
        "[[matrix.expect]]\nwhen = { fault = \"kill\" }\nlost = 0\n[[matrix.expect]]\nwhen = { fault = [\"kill\", \"crash\"] }\nlost = 0\n",
        "crash",
        "matrix.expect[1].when.fault",
        &[
            "`fault` has no value `crash`",
            "its values are kill, power-off",
        ],
    );
}

#[test]
fn an_unknown_key_or_a_bad_condition_is_located() {
    rejected(
        "[[matrix.expect]]\nwhen = { fault = \"kill\" }\nlots = 0\n",
        "lots",
        "matrix.expect[0].lots",
        &["unknown field `lots`", "did you mean `lost`?"],
    );
    rejected(
        "[[matrix.expect]]\nwhen = { fault = \"kill\" }\nlost = \"none\"\n",
        "lost = \"none\"",
        "matrix.expect[0].lost",
        &["`none` is not a whole number"],
    );
}

#[test]
fn an_entry_needs_a_when_and_an_expectation() {
    rejected(
        "[[matrix.expect]]\nlost = 0\n",
        "[[matrix.expect]]",
        "matrix.expect[0]",
        &["needs `when`"],
    );
    rejected(
        "[[matrix.expect]]\nwhen = { fault = \"kill\" }\n",
        "[[matrix.expect]]",
        "matrix.expect[0]",
        &["sets no expectation"],
    );
    rejected(
        "[[matrix.expect]]\nwhen = {}\nlost = 0\n",
        "when = {}",
        "matrix.expect[0].when",
        &["at least one axis"],
    );
    rejected(
        "[matrix.expect]\nwhen = { fault = \"kill\" }\nlost = 0\n",
        "[matrix.expect]",
        "matrix.expect",
        &["[[matrix.expect]]"],
    );
}

/// Every cell where RocketMQ promises to keep SEND_OK messages requires `lost = 0`: a process
/// crash anywhere, SYNC_FLUSH under a power loss, SYNC_MASTER or DLedger under any fault.
#[test]
fn the_reliability_matrix_requires_no_loss_where_rocketmq_promises_it() {
    let path = format!("{}/scenarios/reliability-matrix.toml", common::root());
    let text = std::fs::read_to_string(&path).unwrap();
    let matrix = scenario::matrix::Matrix::of(&text, &path).unwrap().unwrap();
    for cell in matrix.cells() {
        let value = |axis: &str| cell.0.iter().find(|(a, _)| a == axis).unwrap().1.as_str();
        let promised = value("fault") == "kill"
            || (value("flush") == "sync" && value("fault") == "power-off")
            || ["sync-master", "dledger"].contains(&value("replication"));
        let scenario = scenario::parse_cell(&text, &path, Some(&cell.spec())).unwrap();
        let lost = scenario.expect.get("lost").cloned();
        let wanted = if promised {
            Condition::Equal(0)
        } else {
            Condition::Observe
        };
        assert_eq!(lost, Some(wanted), "{}", cell.spec());
    }
}
