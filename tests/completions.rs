//! `sim completions` and `sim man` describe every subcommand.

mod common;

use common::sim;

const SUBCOMMANDS: [&str; 10] = [
    "run", "sweep", "merge", "explain", "diff", "shrink", "matrix", "list", "validate", "bench",
];

#[test]
fn completion_scripts_know_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = sim(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for command in SUBCOMMANDS {
            assert!(
                script.contains(command),
                "{shell} completion lacks {command}"
            );
        }
    }
    assert_eq!(sim(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let out = sim(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH sim"),
        "{page}"
    );
    for command in SUBCOMMANDS {
        assert!(page.contains(command), "the man page lacks {command}");
    }
}

#[test]
fn every_page_the_man_page_names_is_written_with_dir() {
    let dir = std::env::temp_dir().join(format!("rmq-sim-man-{}", std::process::id()));
    let out = sim(&["man", "--dir", &dir.display().to_string()]);
    assert_eq!(out.status.code(), Some(0));
    let page = std::fs::read_to_string(dir.join("sim.1")).expect("sim.1");
    let named: Vec<&str> = page
        .split("sim\\-")
        .skip(1)
        .filter_map(|rest| rest.split_once("(1)").map(|(name, _)| name))
        .collect();
    assert!(named.len() >= SUBCOMMANDS.len(), "{page}");
    for name in named {
        assert!(
            dir.join(format!("sim-{name}.1")).exists(),
            "sim.1 names sim-{name}(1)"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
