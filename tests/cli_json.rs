//! `--json` on `list` and `validate`: what scripts read instead of the text.

mod common;

use common::sim;
use serde_json::Value;

fn json(args: &[&str]) -> (Option<i32>, Value) {
    let out = sim(args);
    let value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    (out.status.code(), value)
}

#[test]
fn list_json_names_every_bundled_scenario() {
    let (code, list) = json(&["list", "--json"]);
    assert_eq!(code, Some(0));
    let entries = list.as_array().expect("a list");
    assert_eq!(entries.len(), common::bundled_files().len());
    for entry in entries {
        assert!(
            entry["name"].is_string() && entry["teaches"].is_string(),
            "{entry}"
        );
    }
}

#[test]
fn validate_json_has_a_line_per_cell_and_per_error() {
    let (code, cells) = json(&["validate", "--json", "scenarios/reliability-matrix.toml"]);
    assert_eq!(code, Some(0));
    let cells = cells.as_array().expect("a list");
    assert_eq!(cells.len(), 15, "every cell the matrix keeps");
    assert!(
        cells
            .iter()
            .all(|c| c["ok"] == true && c["cell"].is_string())
    );
    let (code, checked) = json(&[
        "validate",
        "--json",
        "scenarios/lost-ack.toml",
        "/nonexistent.toml",
    ]);
    assert_eq!(code, Some(2));
    let checked = checked.as_array().expect("a list");
    assert_eq!(checked[0]["nodes"], 6);
    assert_eq!(checked[1]["ok"], false);
    assert!(
        checked[1]["error"]
            .as_str()
            .expect("why")
            .contains("cannot read")
    );
}

#[test]
fn bench_json_reports_speed_and_the_baseline_ratio() {
    let args = [
        "bench",
        "scenarios/lost-ack.toml",
        "--seeds",
        "0..2",
        "--baseline",
        "--json",
    ];
    let (code, bench) = json(&args);
    assert_eq!(code, Some(0));
    assert_eq!(bench["runs"], 2);
    assert!(bench["speed"].as_f64().expect("a speed") > 0.0);
    assert!(
        bench["baseline"]["per_event_ratio"]
            .as_f64()
            .expect("a ratio")
            > 0.0
    );
    // The warm-up run's events by kind add up to all it handled, sends among them.
    let kinds = bench["events_by_kind"]["kinds"].as_array().expect("kinds");
    let count = |kind: &serde_json::Value| kind["count"].as_u64().expect("a count");
    let sends = kinds.iter().find(|k| k["kind"] == "request SEND_MESSAGE");
    assert!(sends.is_some_and(|k| count(k) > 0), "{kinds:?}");
    let total: u64 = kinds.iter().map(count).sum();
    let (_, run) = json(&["run", "scenarios/lost-ack.toml", "--seed", "0", "--json"]);
    assert_eq!(
        Some(total),
        run["events"].as_u64(),
        "every event has one kind"
    );
}

/// A run that ends before its read-back reports no count it did not measure: `null` in its
/// JSON, "unknown" in its text; a sweep leaves it out of its totals and says so.
#[test]
fn an_unmeasured_run_reports_no_counts_it_did_not_measure() {
    let scenario = "scenarios/transaction-lost-end.toml";
    let cut = ["--time-budget", "20s"];
    let (code, run) = json(&[&["run", scenario, "--seed", "1", "--json"][..], &cut].concat());
    assert_eq!(code, Some(3), "{run}");
    let counts = &run["sends"]["counts"];
    for key in ["lost", "lost_unexplained", "stored", "duplicated"] {
        assert!(counts[key].is_null(), "{key}: {counts}");
    }
    assert!(counts["transactions"]["lost"].is_null(), "{counts}");
    assert_eq!(
        counts["acked"], counts["messages"],
        "what was measured stays"
    );
    assert!(run["consumers"][0]["lost"].is_null() && run["consumers"][0]["skipped"].is_null());
    let totals = run["anomaly_totals"].as_array().expect("totals");
    assert!(
        totals
            .iter()
            .all(|t| !t[0].as_str().unwrap().starts_with("lost")),
        "{totals:?}"
    );

    let text = sim(&[&["run", scenario, "--seed", "1"][..], &cut].concat());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("lost unknown") && !text.contains("lost 0"),
        "{text}"
    );

    let args = ["sweep", scenario, "--seeds", "0..4", "--json"];
    let (code, sweep) = json(&[&args[..], &cut].concat());
    assert_eq!(code, Some(3), "{sweep}");
    assert_eq!(sweep["unmeasured"], 4);
    assert!(
        sweep["lost"].is_null() && sweep["seeds_with_loss"].is_null(),
        "{sweep}"
    );
}
