//! The same seed gives the same trace digest in any process; different seeds differ.

mod common;

use common::sim;

fn digest(seed: &str) -> String {
    let output = sim(&[
        "run",
        "scenarios/route-expiry.toml",
        "--seed",
        seed,
        "--json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json output");
    json["digest"].as_str().expect("a digest").to_string()
}

#[test]
fn the_same_seed_in_two_processes_gives_the_same_digest() {
    assert_eq!(digest("7"), digest("7"));
}

#[test]
fn different_seeds_give_different_digests() {
    assert_ne!(digest("7"), digest("8"));
}

/// Twice in one process, for scenarios that use every part: storage faults, consumers,
/// replication, an operator's failover, a matrix cell.
#[test]
fn the_built_in_determinism_check_passes() {
    let runs: [&[&str]; 3] = [
        &["run", "scenarios/lost-ack.toml", "--seed", "3"],
        &["run", "scenarios/read-from-slave.toml", "--seed", "3"],
        &[
            "run",
            "scenarios/reliability-matrix.toml",
            "--cell",
            "flush=sync,fault=power-off",
            "--seed",
            "3",
        ],
    ];
    for args in runs {
        let output = sim(&[args, &["--check-determinism"]].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.contains("same digest"), "{args:?}: {stderr}");
    }
}

/// `sweep --json` lists every seed's verdict and digest, the same digests `run` prints.
#[test]
fn a_sweep_reports_each_seeds_digest() {
    let output = sim(&[
        "sweep",
        "scenarios/route-expiry.toml",
        "--seeds",
        "7..9",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json output");
    let seeds = json["per_seed"].as_array().expect("per-seed outcomes");
    let listed: Vec<(u64, String)> = seeds
        .iter()
        .map(|s| {
            let digest = s["digest"].as_str().expect("a digest").to_string();
            (s["seed"].as_u64().expect("a seed"), digest)
        })
        .collect();
    assert_eq!(listed, vec![(7, digest("7")), (8, digest("8"))]);
    assert!(seeds.iter().all(|s| s["verdict"] == "pass"));
}

#[test]
fn summary_json_carries_the_digest_of_the_run() {
    let dir = std::env::temp_dir().join(format!("rmq-sim-summary-{}", std::process::id()));
    let out = dir.display().to_string();
    let args = [
        "run",
        "scenarios/route-expiry.toml",
        "--seed",
        "7",
        "--out",
        &out,
        "--force",
    ];
    assert_eq!(sim(&args).status.code(), Some(0));
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    let summary: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(summary["digest"].as_str(), Some(digest("7").as_str()));
    assert!(
        summary["replay"]
            .as_str()
            .expect("a replay line")
            .ends_with("--seed 7")
    );
    // The summary keeps a few witnesses of each kind and says so; anomalies.jsonl has them all.
    let totals = summary["anomaly_totals"].as_array().expect("totals");
    let total: u64 = totals.iter().map(|t| t[1].as_u64().expect("a count")).sum();
    let kept = summary["anomalies"].as_array().expect("witnesses").len() as u64;
    assert!(
        kept < total,
        "route-expiry seed 7 has more anomalies than witnesses"
    );
    assert_eq!(summary["anomalies_truncated"], true);
    let all = std::fs::read_to_string(dir.join("anomalies.jsonl")).expect("anomalies.jsonl");
    assert_eq!(all.lines().count() as u64, total);
    for line in all.lines() {
        let anomaly: serde_json::Value = serde_json::from_str(line).expect("one JSON a line");
        assert!(anomaly["kind"].is_string() && anomaly["explanation"].is_string());
    }
}
