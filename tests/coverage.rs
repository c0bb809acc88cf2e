//! Every mechanism is exercised: each coverage probe not marked rare (`model::probe::ALL`)
//! is reached by some seed of the bundled scenarios (a few seeds each, more of the swarms,
//! whose faults are drawn per seed). A probe no seed reaches names a mechanism no scenario
//! tests.

mod common;

use sim::run::{RunOptions, run};

/// Seeds per scenario: the swarms draw their faults per seed, so they get more.
fn seeds(name: &str) -> std::ops::Range<u64> {
    if name.starts_with("swarm-") {
        0..48
    } else {
        0..3
    }
}

#[test]
fn the_bundled_scenarios_reach_every_probe_not_marked_rare() {
    let runs: Vec<(String, u64)> = common::bundled_files()
        .iter()
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .flat_map(|name| seeds(&name).map(move |seed| (name.clone(), seed)))
        .collect();
    let reached = std::sync::Mutex::new(vec![0u64; model::probe::ALL.len()]);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((name, seed)) = runs.get(index) else {
                        break;
                    };
                    let scenario = common::bundled(name);
                    let result = run(&scenario, *seed, &RunOptions::default());
                    let finished = result.result.expect("the run finishes");
                    let mut reached = reached.lock().unwrap();
                    for (total, hits) in reached.iter_mut().zip(&finished.outcome.probes) {
                        *total += hits;
                    }
                }
            });
        }
    });
    let reached = reached.into_inner().unwrap();
    let missed: Vec<&str> = model::probe::ALL
        .iter()
        .zip(&reached)
        .filter(|(probe, hits)| !probe.rare && **hits == 0)
        .map(|(probe, _)| probe.name)
        .collect();
    assert!(missed.is_empty(), "no bundled seed reaches {missed:?}");
}
