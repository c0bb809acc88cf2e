//! `sim explain`: a message's life story as text, an anomaly's, the numbered list, and bad
//! input (exit 2, naming the thing).

mod common;

use common::sim;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = sim(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const FILE: &str = "scenarios/power-loss-async-flush.toml";

#[test]
fn an_anomaly_tells_its_message_from_send_to_loss() {
    let (code, out, err) = run(&["explain", FILE, "--seed", "1", "--anomaly", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("anomaly 1: lost p0-"), "{out}");
    for step in [
        "send ",
        "store ",
        "answer ",
        "checker ",
        "loses power before flushing it",
    ] {
        assert!(out.contains(step), "no `{step}` in\n{out}");
    }
}

#[test]
fn json_gives_the_same_story_and_list() {
    let (code, out, err) = run(&["explain", FILE, "--seed", "1", "--anomaly", "1", "--json"]);
    assert_eq!(code, 0, "{err}");
    let story: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(story["number"], 1);
    assert_eq!(story["anomaly"]["kind"], "lost");
    let steps = story["steps"].as_array().expect("steps");
    assert_eq!(steps[0]["kind"], "send");
    assert!(
        steps[0]["node"]
            .as_str()
            .is_some_and(|n| n.starts_with("order-producer"))
    );
    let (code, out, _) = run(&["explain", FILE, "--seed", "1", "--json"]);
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(list["messages"], 1200);
    assert_eq!(list["anomalies"][0]["number"], 1);
}

#[test]
fn without_flags_the_anomalies_are_listed_by_number() {
    let (code, out, _) = run(&["explain", FILE, "--seed", "1"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("1200 messages, "), "{out}");
    assert!(out.contains("\n    1  lost "), "{out}");
}

/// In a DLedger group the story follows the entry: the leader's append, a follower's copy,
/// the quorum, the commit and each member's dispatch, in that order.
#[test]
fn a_dledger_message_is_appended_held_by_a_quorum_committed_and_dispatched() {
    let args = [
        "explain",
        "scenarios/dledger-leader-kill.toml",
        "--seed",
        "7",
    ];
    let (code, out, err) = run(&[&args[..], &["--message", "p0-500"]].concat());
    assert_eq!(code, 0, "{err}");
    let steps = [
        "appends it as entry 500 of term",
        "holds entry 500 (pushed by the leader)",
        "a quorum holds entry 500 (",
        "commits entry 500",
        "dispatches it to its ConsumeQueue",
        "is answered SEND_OK",
    ];
    let mut from = 0;
    for step in steps {
        let at = out[from..].find(step);
        assert!(
            at.is_some(),
            "no `{step}` after the steps before it in\n{out}"
        );
        from += at.unwrap_or_default();
    }
}

#[test]
fn a_consumed_message_is_delivered_flushed_and_read_back() {
    let args = ["explain", "scenarios/consumer-crash.toml", "--seed", "1"];
    let (code, out, err) = run(&[&args[..], &["--message", "p0-100"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("message p0-100\n"), "{out}");
    for step in [
        "send ",
        "store ",
        "answer ",
        "deliver ",
        "flush ",
        "read back ",
    ] {
        assert!(out.contains(step), "no `{step}` in\n{out}");
    }
}

#[test]
fn bad_ids_and_numbers_are_named() {
    let cases: [(&[&str], &str); 3] = [
        (&["--message", "12"], "--message 12: not a message id"),
        (
            &["--message", "p9-9"],
            "--message p9-9: no such message in this run",
        ),
        (&["--anomaly", "999"], "--anomaly 999: the run has"),
    ];
    for (flags, needle) in cases {
        let (code, _, err) = run(&[&["explain", FILE, "--seed", "1"][..], flags].concat());
        assert_eq!(code, 2, "{flags:?}: {err}");
        assert!(err.contains(needle), "{flags:?}: {err}");
    }
}
