//! Shrinking: for every `[bugs]` switch, a failing seed shrinks to a valid scenario that still
//! fails with the same fingerprint and has no more faults and events than the original; the
//! result is the same every time; `sim shrink` writes it and its replay line.

mod common;

use common::{RETRIES_LOST, SEND_BACKS_LOST, root, sim};
use sim::run::{RunOptions, run};
use sim::scenario::{self, Scenario};
use sim::shrink::{self, BudgetOverride, Fingerprint, Input, Options, Shrunk};
use std::time::Duration;

/// Every bug switch, with the bundled scenario (and extra faults) that catches it.
fn switches() -> Vec<(&'static str, &'static str, String)> {
    let plain = |bug, name| (bug, name, String::new());
    vec![
        plain("ack_before_sync_flush", "power-loss-sync-flush"),
        plain("skip_crc_check_on_recover", "bit-rot"),
        plain("ack_before_slave_has_data", "sync-master"),
        plain("commit_before_consume", "rebalance"),
        plain("consume_dropped_queue", "rebalance"),
        plain("reset_offset_to_zero", "offset-reuse"),
        plain("reput_stops_at_file_end", "lost-ack"),
        plain(
            "keep_consume_queue_on_truncation",
            "stalled-flush-power-loss",
        ),
        plain("never_expire_brokers", "route-expiry"),
        (
            "drop_failed_send_back",
            "retry-outage",
            SEND_BACKS_LOST.to_string(),
        ),
        (
            "ack_failed_send_back",
            "retry-outage",
            format!("{SEND_BACKS_LOST}{RETRIES_LOST}"),
        ),
        plain("orderly_without_lock", "ordered-messages"),
        plain("keep_unallocated_queues", "rebalance"),
        plain("slow_rebalance", "rebalance"),
    ]
}

fn buggy_text(bug: &str, name: &str, extra: &str) -> String {
    let text = std::fs::read_to_string(format!("{}/scenarios/{name}.toml", root()))
        .expect("the scenario exists");
    format!("{text}\n{extra}\n[bugs]\n{bug} = true\n")
}

/// The first failing seed of `scenario` below 50.
fn failing_seed(scenario: &Scenario) -> u64 {
    (0..50)
        .find(|seed| Fingerprint::of(&run(scenario, *seed, &RunOptions::default())).fails())
        .unwrap_or_else(|| panic!("{} fails in no seed below 50", scenario.name))
}

/// A budget of runs small enough for CI; the wall budget never ends a test's shrink, so the
/// result does not depend on the machine.
fn options(seed: u64) -> Options {
    Options {
        seed,
        wall_budget: Duration::from_secs(3_600),
        max_runs: 80,
        nearby_seeds: 3,
        budget: BudgetOverride::default(),
    }
}

fn shrunk(text: &str, seed: u64, out: &str) -> Shrunk {
    shrunk_in(text, (seed, options(seed).max_runs), out)
}

/// A shrink of `text` from `seed` in at most `max_runs` runs.
fn shrunk_in(text: &str, (seed, max_runs): (u64, u64), out: &str) -> Shrunk {
    let scenario = scenario::parse(text, out).expect("valid");
    let input = Input {
        scenario: &scenario,
        text,
        cell_expectations: &[],
        out,
    };
    let options = Options {
        max_runs,
        ..options(seed)
    };
    shrink::shrink(&input, &options, &mut |_| {}).expect("a failure to shrink")
}

/// The shrunk file, run at its seed, fails with the fingerprint it was shrunk for.
fn replays(shrunk: &Shrunk, out: &str) -> bool {
    let scenario = scenario::parse(&shrunk.text, out).expect("the shrunk file is valid");
    Fingerprint::of(&run(&scenario, shrunk.seed, &RunOptions::default())) == shrunk.fingerprint
}

#[test]
fn every_bug_switch_shrinks_to_a_smaller_scenario_that_fails_the_same_way() {
    let switches = switches();
    let results: Vec<String> = std::thread::scope(|scope| {
        let halves: Vec<_> = switches
            .chunks(switches.len().div_ceil(2))
            .map(|half| {
                scope.spawn(move || {
                    half.iter()
                        .map(|(bug, name, extra)| {
                            let text = buggy_text(bug, name, extra);
                            let out = format!("{name}.{bug}.min.toml");
                            let scenario = scenario::parse(&text, &out).expect("valid");
                            let seed = failing_seed(&scenario);
                            let s = shrunk(&text, seed, &out);
                            assert!(replays(&s, &out), "{bug}: the shrunk file fails otherwise");
                            assert!(
                                s.after.within(&s.before),
                                "{bug}: {:?} > {:?}",
                                s.after,
                                s.before
                            );
                            assert!(
                                s.text.contains(&format!("{bug} = true")),
                                "{bug}: the switch stays"
                            );
                            format!(
                                "{bug} on {name} seed {seed}: {}",
                                shrink::size_line(&s.before, &s.after)
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves
            .into_iter()
            .flat_map(|h| h.join().expect("a worker"))
            .collect()
    });
    for line in &results {
        eprintln!("{line}");
    }
    assert_eq!(results.len(), 14);
}

#[test]
fn a_shrink_is_the_same_every_time() {
    let text = buggy_text("keep_unallocated_queues", "rebalance", "");
    let out = "rebalance.min.toml";
    let seed = failing_seed(&scenario::parse(&text, out).expect("valid"));
    let first = shrunk(&text, seed, out);
    let second = shrunk(&text, seed, out);
    assert_eq!(first.text, second.text);
    assert_eq!((first.seed, first.runs), (second.seed, second.runs));
    assert!(first.after.events < first.before.events);
}

#[test]
fn a_swarm_is_dropped_when_the_failure_needs_none_of_its_faults() {
    let text = buggy_text("reput_stops_at_file_end", "swarm-masters", "");
    let out = "swarm.min.toml";
    let seed = failing_seed(&scenario::parse(&text, out).expect("valid"));
    // Without the seed's drawn faults the run may handle more events (a slow disk batches
    // flushes): the swarm goes once other reductions make the run without it no larger.
    let s = shrunk_in(&text, (seed, 300), out);
    assert!(!s.text.contains("\n[swarm]"), "{}", s.text);
    assert!(
        s.changes.iter().any(|c| c.contains("[swarm]")),
        "{:?}",
        s.changes
    );
    assert_eq!(s.after.faults, 0);
}

#[test]
fn sim_shrink_writes_the_smaller_file_and_its_replay_line() {
    let dir = std::env::temp_dir().join(format!("rmq-sim-shrink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let file = dir.join("lost-ack.toml");
    std::fs::write(&file, buggy_text("reput_stops_at_file_end", "lost-ack", "")).expect("written");
    let file = file.display().to_string();
    let out = sim(&["shrink", &file, "--seed", "0", "--max-runs", "60"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let min = file.replace(".toml", ".min.toml");
    assert!(stdout.contains(&format!("wrote {min}")), "{stdout}");
    let replay = stdout
        .lines()
        .find_map(|l| l.strip_prefix("replay: sim "))
        .expect("a replay line");
    let args: Vec<&str> = replay.split(' ').collect();
    assert_eq!(
        sim(&args).status.code(),
        Some(1),
        "the shrunk file fails: {replay}"
    );
    let written = std::fs::read_to_string(&min).expect("the shrunk file");
    assert!(written.starts_with("# Shrunk by `sim shrink"), "{written}");
    let over = sim(&["shrink", &file, "--seed", "0", "--out", &file]);
    assert_eq!(
        over.status.code(),
        Some(2),
        "the source is never written over"
    );
    // Where the result cannot go is said before the work, not after it.
    let again = sim(&["shrink", &file, "--seed", "0"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "the result exists: --force writes over it"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let nowhere = sim(&["shrink", &file, "--seed", "0", "-o", "/nonexistent/x.toml"]);
    assert_eq!(nowhere.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("does not exist"));
    let passing = sim(&["shrink", "scenarios/lost-ack.toml", "--seed", "0"]);
    assert_eq!(passing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&passing.stderr).contains("the seed passes"));
}
