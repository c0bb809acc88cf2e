//! Helpers shared by the integration tests.
#![allow(dead_code)]

use sim::report::Summary;
use sim::run::{RunOptions, run};
use sim::scenario::{self, Scenario};
use std::process::{Command, Output};

/// The workspace root, where `scenarios/` lives.
pub fn root() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

/// Runs the `sim` binary from the workspace root.
pub fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the sim binary runs")
}

/// The bundled scenarios' files (`scenarios/*.toml`), sorted; shrunk ones (`*.min.toml`,
/// which `sim shrink` writes beside their source) are not bundled.
pub fn bundled_files() -> Vec<std::path::PathBuf> {
    let dir = format!("{}/scenarios", root());
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .expect("the scenarios folder")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| {
            let name = path.to_string_lossy();
            name.ends_with(".toml") && !name.ends_with(".min.toml")
        })
        .collect();
    files.sort();
    files
}

/// A bundled scenario by name.
pub fn bundled(name: &str) -> Scenario {
    let path = format!("scenarios/{name}.toml");
    let text = std::fs::read_to_string(format!("{}/{path}", root())).expect("the scenario exists");
    scenario::parse(&text, &path).expect("the bundled scenario is valid")
}

/// A bundled scenario with some TOML appended (e.g. a `[bugs]` table).
pub fn bundled_with(name: &str, extra: &str) -> Scenario {
    let path = format!("scenarios/{name}.toml");
    let text = std::fs::read_to_string(format!("{}/{path}", root())).expect("the scenario exists");
    scenario::parse(&format!("{text}\n{extra}\n"), &path).expect("the amended scenario is valid")
}

/// The summary of one seed.
pub fn summary(scenario: &Scenario, seed: u64) -> Summary {
    Summary::of(scenario, &run(scenario, seed, &RunOptions::default()))
}

/// The smallest valid scenario, for tests that change one thing in it.
pub const GOOD: &str = r#"name = "t"
summary = "s"
teaches = "t"
duration = "60s"

[cluster]
name_servers = 1

[[cluster.broker_group]]
name = "broker-a"

[[topic]]
name = "orders"

[[producer]]
group = "p"
topic = "orders"
messages = 10
"#;

/// A test fixture scenario from `tests/fixtures/`, by name.
pub fn fixture(name: &str) -> Scenario {
    let path = format!("tests/fixtures/{name}.toml");
    let text = std::fs::read_to_string(format!("{}/{path}", root())).expect("the fixture exists");
    scenario::parse(&text, &path).expect("the fixture is valid")
}

/// The consumers' send-backs of `retry-outage` lost on the network for 15 s (the brokers stay
/// up, so no broker restart re-delivers what they had taken).
pub const SEND_BACKS_LOST: &str = r#"
[[fault]]
at = "8s"
for = "15s"
kind = "drop-request"
from = "ledger*"
request = "CONSUMER_SEND_MSG_BACK"
probability = 1
"#;

/// With `SEND_BACKS_LOST`: the client's own retry sends lost too, and a consumer killed while
/// its failed messages wait for a local retry.
pub const RETRIES_LOST: &str = r#"
[[fault]]
at = "8s"
for = "15s"
kind = "drop-request"
from = "ledger*"
request = "SEND_MESSAGE"
probability = 1

[[fault]]
at = "18s..22s"
for = "5s"
kind = "kill"
node = "ledger-0"
"#;
