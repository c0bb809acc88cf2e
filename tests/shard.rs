//! Sharded sweeps: four shard processes and `sim merge` give the summary of one sweep, figure
//! for figure; a missing, doubled or foreign shard is refused with the reason.

mod common;

use common::{root, sim};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A scratch directory for this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rmq-sim-shard-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A bundled scenario with a defect switched on, written where the sweeps can read it, so
/// that some seeds fail and the failing lists are merged too.
fn failing_scenario(dir: &Path) -> String {
    let text = std::fs::read_to_string(format!("{}/scenarios/power-loss-sync-flush.toml", root()))
        .expect("the scenario");
    let path = dir.join("buggy.toml");
    std::fs::write(
        &path,
        format!("{text}\n[bugs]\nack_before_sync_flush = true\n"),
    )
    .expect("written");
    path.display().to_string()
}

fn json(args: &[&str]) -> Value {
    let out = sim(args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "sim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The summary without what depends on the machine (wall time, speed, workers).
fn figures(mut summary: Value) -> Value {
    for machine in ["wall_ms", "speed", "jobs"] {
        summary.as_object_mut().expect("an object").remove(machine);
    }
    summary
}

fn shard_files(dir: &Path, scenario: &str, seeds: &str, shards: u64) -> Vec<String> {
    (0..shards)
        .map(|k| {
            let out = dir.join(format!("shard-{k}.json")).display().to_string();
            let spec = format!("{k}/{shards}");
            let args = [
                "sweep",
                scenario,
                "--seeds",
                seeds,
                "--shard",
                &spec,
                "--json-out",
                &out,
            ];
            let run = sim(&args);
            assert!(matches!(run.status.code(), Some(0 | 1)), "{args:?}");
            out
        })
        .collect()
}

#[test]
fn four_shards_merged_equal_one_sweep() {
    let dir = scratch("equal");
    let scenario = failing_scenario(&dir);
    let whole = json(&["sweep", &scenario, "--seeds", "0..14", "--json"]);
    assert!(whole["fail"].as_u64() > Some(0), "some seeds fail: {whole}");
    let files = shard_files(&dir, &scenario, "0..14", 4);
    let mut args = vec!["merge", "--json"];
    args.extend(files.iter().map(String::as_str));
    let merged = json(&args);
    assert_eq!(figures(merged), figures(whole));
    // The shards may be given in any order.
    let mut reversed = vec!["merge", "--json"];
    reversed.extend(files.iter().rev().map(String::as_str));
    assert_eq!(figures(json(&reversed)), figures(json(&args)));
}

#[test]
fn missing_doubled_and_foreign_shards_are_refused() {
    let dir = scratch("refused");
    let files = shard_files(&dir, "scenarios/lost-ack.toml", "0..6", 3);
    let refused = |args: &[&str], why: &str| {
        let out = sim(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    };
    refused(&["merge", &files[0], &files[2]], "missing shards");
    refused(
        &["merge", &files[0], &files[0], &files[1], &files[2]],
        "are both shard 0/3",
    );
    let foreign = dir.join("foreign.json").display().to_string();
    let args = [
        "sweep",
        "scenarios/slave-lag.toml",
        "--seeds",
        "0..6",
        "--shard",
        "1/3",
        "--json-out",
        &foreign,
    ];
    assert_eq!(sim(&args).status.code(), Some(0));
    refused(
        &["merge", &files[0], &foreign, &files[2]],
        "scenario file's text differs",
    );
    let other_range = dir.join("range.json").display().to_string();
    let args = [
        "sweep",
        "scenarios/lost-ack.toml",
        "--seeds",
        "0..9",
        "--shard",
        "1/3",
        "--json-out",
        &other_range,
    ];
    assert_eq!(sim(&args).status.code(), Some(0));
    refused(
        &["merge", &files[0], &other_range, &files[2]],
        "seed range differs",
    );
    let junk = dir.join("junk.json");
    std::fs::write(&junk, "{\"format\": 7}").expect("written");
    refused(&["merge", &junk.display().to_string()], "not a shard file");
}

#[test]
fn the_shard_comes_from_the_engines_environment() {
    let run = |vars: &[(&str, &str)], extra: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sim"));
        command.current_dir(root()).args([
            "sweep",
            "scenarios/lost-ack.toml",
            "--seeds",
            "0..8",
            "--json",
            "--shard-from-env",
        ]);
        command.args(extra);
        for var in [
            "JOB_COMPLETION_INDEX",
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_MIN",
            "SLURM_ARRAY_TASK_COUNT",
            "SIM_SHARD_INDEX",
            "SIM_SHARD_COUNT",
        ] {
            command.env_remove(var);
        }
        command.envs(vars.iter().copied());
        command.output().expect("sim runs")
    };
    let seeds = |out: std::process::Output| -> Vec<u64> {
        let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        summary["per_seed"]
            .as_array()
            .expect("seeds")
            .iter()
            .map(|s| s["seed"].as_u64().expect("a seed"))
            .collect()
    };
    assert_eq!(
        seeds(run(&[("JOB_COMPLETION_INDEX", "1")], &["--shards", "4"])),
        vec![2, 3]
    );
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "4"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ];
    assert_eq!(seeds(run(&slurm, &[])), vec![6, 7]);
    assert_eq!(
        seeds(run(
            &[("SIM_SHARD_INDEX", "0"), ("SIM_SHARD_COUNT", "2")],
            &[]
        )),
        vec![0, 1, 2, 3]
    );
    let missing = run(&[], &["--shards", "4"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("JOB_COMPLETION_INDEX"));
}
