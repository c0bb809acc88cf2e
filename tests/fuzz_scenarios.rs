//! A property test of the scenario parser and validator: arbitrary bytes and structured
//! mutations of every bundled scenario must give either a located, bounded error or a valid
//! scenario, never a panic; some valid ones are run with tiny budgets and must end without
//! panicking. The regression corpus under `tests/corpus/` replays inputs found before.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use sim::run::{RunOptions, run};
use sim::scenario::{self, Budget, ScenarioError};

/// Values that tend to break things: zero, negative, huge, empty, not a number, unclosed.
const HOSTILE_VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "4294967295",
    "18446744073709551615",
    "99999999999999999999999",
    "[]",
    "[\"\"]",
    "\"\"",
    "nan",
    "inf",
    "1e300",
    "0.0000001",
    "true",
    "\"0s\"",
    "\"1ms\"",
    "\"24h\"",
    "\"240000h\"",
    "\"4GiB\"",
    "\"0B\"",
    "\"1/0\"",
    "\"${x\"",
    "\"${x}\"",
    "\"*\"",
    "\"broker-a\"",
    "[\"broker-a\", \"namesrv-0\"]",
    "{}",
    "[[[[]]]]",
];

/// The bundled scenarios' texts, read once.
fn bundled() -> &'static [(String, String)] {
    static TEXTS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| {
        let files: Vec<String> = common::bundled_files()
            .iter()
            .map(|path| path.to_string_lossy().into_owned())
            .collect();
        files
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path).expect("a bundled scenario");
                (path, text)
            })
            .collect()
    })
}

/// One edit of a scenario's text.
#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the value of the n-th `key = value` line.
    Value {
        line: usize,
        value: usize,
    },
    DeleteLine {
        line: usize,
    },
    DuplicateLine {
        line: usize,
    },
    /// Cut the text at a fraction (per mille) of its length.
    Truncate {
        per_mille: usize,
    },
    /// Insert text at a fraction of its length.
    Insert {
        per_mille: usize,
        text: String,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0..HOSTILE_VALUES.len())
            .prop_map(|(line, value)| Mutation::Value { line, value }),
        1 => any::<usize>().prop_map(|line| Mutation::DeleteLine { line }),
        1 => any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        1 => (0..1000usize).prop_map(|per_mille| Mutation::Truncate { per_mille }),
        1 => (0..1000usize, "[\\[\\]{}=\"$#.,a-z0-9\n ]{0,12}")
            .prop_map(|(per_mille, text)| Mutation::Insert { per_mille, text }),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = |per_mille: usize| floor_char_boundary(text, text.len() * per_mille / 1000);
    match mutation {
        Mutation::Value { line, value } => {
            let assignments: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(" = "))
                .collect();
            if assignments.is_empty() {
                return text.to_string();
            }
            let target = assignments[line % assignments.len()];
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let key = lines[target].split(" = ").next().unwrap_or("");
            out[target] = format!("{key} = {}", HOSTILE_VALUES[*value]);
            out.join("\n")
        }
        Mutation::DeleteLine { line } => {
            let mut out = lines.clone();
            if !out.is_empty() {
                out.remove(line % lines.len());
            }
            out.join("\n")
        }
        Mutation::DuplicateLine { line } => {
            let mut out = lines.clone();
            if !out.is_empty() {
                let index = line % lines.len();
                out.insert(index, lines[index]);
            }
            out.join("\n")
        }
        Mutation::Truncate { per_mille } => text[..at(*per_mille)].to_string(),
        Mutation::Insert {
            per_mille,
            text: inserted,
        } => {
            let cut = at(*per_mille);
            format!("{}{inserted}{}", &text[..cut], &text[cut..])
        }
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// An error must be located (a place in the file or a field) unless it is about the file as a
/// whole, and must print in bounded space.
fn assert_well_formed(err: &ScenarioError, text: &str) {
    let shown = err.to_string();
    assert!(shown.starts_with("fuzz.toml"), "{shown}");
    assert!(shown.len() < 4_000, "{} bytes of error", shown.len());
    let whole_file = err.message.starts_with("missing field")
        || err.message.contains("larger than the limit")
        || err.message.contains("two nodes would both be named");
    assert!(
        err.place.is_some() || !err.field.is_empty() || whole_file,
        "an error without a place: {shown}\n--- input ---\n{text}"
    );
}

/// Parses, checks the error or runs the scenario with tiny budgets.
fn check_text(text: &str, run_it: bool, seed: u64) {
    match scenario::parse(text, "fuzz.toml") {
        Err(err) => assert_well_formed(&err, text),
        Ok(mut scenario) if run_it => {
            scenario.budget = Budget {
                simulated_ms: 20_000,
                events: 3_000,
            };
            let result = run(&scenario, seed, &RunOptions::default());
            if let Err(panic) = &result.result {
                panic!("a valid scenario panicked in its run: {panic}\n--- input ---\n{text}");
            }
        }
        Ok(_) => {}
    }
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(9),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(1_000))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        check_text(&text, false, 0);
    }
}

proptest! {
    #![proptest_config(config(1_500))]
    #[test]
    fn mutated_scenarios_never_panic(
        scenario in 0..bundled().len(),
        mutations in proptest::collection::vec(mutation(), 1..4),
        seed in 0..1_000u64,
    ) {
        let mut text = bundled()[scenario].1.clone();
        for mutation in &mutations {
            text = apply(&text, mutation);
        }
        check_text(&text, true, seed);
    }
}

/// Every file under `tests/corpus/`: its first line says `# expect: ok` or
/// `# expect: error <words the message contains>`.
#[test]
fn the_regression_corpus() {
    let dir = format!("{}/tests/corpus", common::root());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the corpus is in tests/corpus");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a corpus file");
        let expect = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("# expect: ");
        let name = path.display();
        match (scenario::parse(&text, "fuzz.toml"), expect.split_once(' ')) {
            (Ok(_), None) if expect == "ok" => check_text(&text, true, 1),
            (Err(err), Some(("error", words))) => {
                assert_well_formed(&err, &text);
                assert!(
                    err.to_string().contains(words),
                    "{name}: expected `{words}` in {err}"
                );
            }
            (result, _) => panic!("{name}: expected {expect}, got {:?}", result.err()),
        }
    }
}
