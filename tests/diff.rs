//! `sim diff`: the same seed under two cells lists exactly the messages lost in one and kept in
//! the other, checked against two runs made here.

mod common;

use common::sim;
use sim::check::AnomalyKind;
use sim::run::{RunOptions, run};
use std::collections::BTreeSet;

const FILE: &str = "scenarios/reliability-matrix.toml";
const ASYNC: &str = "flush=async,fault=power-off";
const SYNC: &str = "flush=sync,fault=power-off";

/// The messages a run of the cell lost (acknowledged, with any status).
fn lost(cell: &str, seed: u64) -> BTreeSet<String> {
    let text = std::fs::read_to_string(format!("{}/{FILE}", common::root())).expect("the file");
    let scenario = sim::scenario::parse_cell(&text, FILE, Some(cell)).expect("the cell");
    let finished = run(&scenario, seed, &RunOptions::default())
        .result
        .expect("the run finishes");
    let losses = [
        AnomalyKind::Lost,
        AnomalyKind::LostUnconfirmed,
        AnomalyKind::LostUnexplained,
    ];
    (finished.report.anomalies.iter())
        .filter(|a| losses.contains(&a.kind))
        .filter_map(|a| a.message.clone())
        .collect()
}

#[test]
fn the_messages_lost_under_async_flush_and_kept_under_sync_flush_are_listed() {
    let mut seen_a_loss = false;
    for seed in [1, 2] {
        let args = [
            "diff",
            FILE,
            "--seed",
            &seed.to_string(),
            "--cell",
            ASYNC,
            "--cell",
            SYNC,
            "--json",
        ];
        let out = sim(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let listed: BTreeSet<String> = (json["differences"].as_array().expect("a list").iter())
            .filter(|d| {
                let lost = |side: &serde_json::Value| {
                    (side["kinds"].as_array().expect("kinds").iter())
                        .any(|k| k.as_str().is_some_and(|k| k.starts_with("lost")))
                };
                lost(&d["a"]) != lost(&d["b"])
            })
            .map(|d| d["message"].as_str().expect("an id").to_string())
            .collect();
        let (a, b) = (lost(ASYNC, seed), lost(SYNC, seed));
        let expected: BTreeSet<String> = a.symmetric_difference(&b).cloned().collect();
        assert_eq!(listed, expected, "seed {seed}");
        assert!(
            b.is_empty(),
            "SYNC_FLUSH keeps every SEND_OK through a power loss"
        );
        seen_a_loss |= !a.is_empty();
    }
    assert!(seen_a_loss, "some seed loses a message under ASYNC_FLUSH");
}

#[test]
fn the_two_sides_must_differ() {
    let out = sim(&["diff", FILE, "--seed", "1", "--cell", ASYNC]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("both sides are"));
}
