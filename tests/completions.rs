//! `sim completions` and `sim man` describe every subcommand.

mod common;

use common::sim;

const SUBCOMMANDS: [&str; 9] = [
    "run", "sweep", "merge", "explain", "shrink", "matrix", "list", "validate", "bench",
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
