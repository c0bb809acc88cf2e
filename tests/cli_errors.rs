//! Bad input: every malformed scenario exits 2 with a message naming the file, the line and
//! the field, and never panics.

mod common;

use common::GOOD;

use common::sim;

/// Writes a scenario into a temporary file and validates it with the CLI.
fn validate(name: &str, text: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("rmq-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    let output = sim(&["validate", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "{name}: the CLI panicked:\n{stderr}"
    );
    (output.status.code().unwrap_or(-1), stderr)
}

fn check(name: &str, text: &str, line: usize, needles: &[&str]) {
    let (code, stderr) = validate(name, text);
    assert_eq!(code, 2, "{name}: exit code; stderr:\n{stderr}");
    let place = format!("{name}.toml:{line}:");
    assert!(
        stderr.contains(&place),
        "{name}: expected `{place}` in:\n{stderr}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{name}: expected `{needle}` in:\n{stderr}"
        );
    }
}

#[test]
fn a_good_scenario_validates() {
    let (code, stderr) = validate("good", GOOD);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn malformed_toml() {
    check(
        "malformed",
        &GOOD.replace("duration = \"60s\"", "duration = \"60s"),
        4,
        &["duration"],
    );
}

#[test]
fn unknown_key_with_a_suggestion() {
    let text = GOOD.replace("messages = 10", "messages = 10\nmesages = 3");
    check(
        "unknown-key",
        &text,
        19,
        &[
            "producer[0].mesages",
            "unknown field",
            "did you mean `messages`?",
        ],
    );
}

#[test]
fn negative_duration() {
    check(
        "negative",
        &GOOD.replace("\"60s\"", "\"-5s\""),
        4,
        &["duration", "negative"],
    );
}

#[test]
fn a_duration_without_a_unit() {
    check(
        "no-unit",
        &GOOD.replace("\"60s\"", "60"),
        4,
        &["duration", "needs a unit"],
    );
}

#[test]
fn a_fault_naming_a_missing_node() {
    let text = format!("{GOOD}\n[[fault]]\nat = \"10s\"\nkind = \"kill\"\nnode = \"broker-z\"\n");
    check(
        "missing-node",
        &text,
        23,
        &[
            "fault[0].node",
            "no node named `broker-z`",
            "did you mean `broker-a`?",
        ],
    );
}

#[test]
fn a_probability_above_one() {
    let text = format!(
        "{GOOD}\n[[fault]]\nat = \"10s\"\nkind = \"drop-response\"\nrequest = \"SEND_MESSAGE\"\nprobability = \"6/5\"\n"
    );
    check(
        "probability",
        &text,
        24,
        &["fault[0].probability", "not a probability"],
    );
}

#[test]
fn a_fault_after_the_run_phase() {
    let text = format!("{GOOD}\n[[fault]]\nat = \"90s\"\nkind = \"kill\"\nnode = \"broker-a\"\n");
    check("late-fault", &text, 21, &["fault[0].at", "run phase ends"]);
}

#[test]
fn a_field_that_does_not_fit_the_fault() {
    let text = format!(
        "{GOOD}\n[[fault]]\nat = \"10s\"\nkind = \"kill\"\nnode = \"broker-a\"\nprobability = 0.5\n"
    );
    check(
        "wrong-field",
        &text,
        24,
        &["fault[0].probability", "does not apply"],
    );
}

#[test]
fn an_unknown_request_code() {
    let text = format!(
        "{GOOD}\n[[fault]]\nat = \"10s\"\nkind = \"drop-request\"\nrequest = \"SEND_MESAGE\"\n"
    );
    check(
        "code",
        &text,
        23,
        &["fault[0].request", "did you mean `SEND_MESSAGE`?"],
    );
}

#[test]
fn a_producer_of_a_missing_topic() {
    check(
        "topic",
        &GOOD.replace("topic = \"orders\"", "topic = \"order\""),
        17,
        &["producer[0].topic", "did you mean `orders`?"],
    );
}

#[test]
fn a_missing_file_and_bad_usage() {
    let output = sim(&["run", "scenarios/no-such-file.toml", "--seed", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
    let output = sim(&["sweep", "scenarios/route-expiry.toml", "--seeds", "9..3"]);
    assert_eq!(output.status.code(), Some(2));
    let output = sim(&["run"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_matrix_cell_with_a_bad_value_is_named() {
    let text = GOOD.replace(
        "name = \"broker-a\"",
        "name = \"broker-a\"\nflush = \"${flush}\"",
    ) + "\n[matrix]\nflush = [\"async\", \"sync\"]\n";
    // Every cell validates, each with its own line.
    let (code, stderr) = validate("matrix_ok", &text);
    assert_eq!(code, 0, "{stderr}");
    // A cell's value must be one of the axis's, and a placeholder must name an axis.
    check(
        "matrix_value",
        &text.replace("\"sync\"]", "\"fast\"]"),
        11,
        &["flush", "`fast`"],
    );
    check(
        "matrix_axis",
        &text.replace("${flush}", "${flash}"),
        11,
        &["${flash}", "names no [matrix] axis"],
    );
}

#[test]
fn a_cell_expectation_with_an_unknown_axis_or_value_is_named() {
    let text = GOOD.replace(
        "name = \"broker-a\"",
        "name = \"broker-a\"\nflush = \"${flush}\"",
    ) + "\n[matrix]\nflush = [\"async\", \"sync\"]\n\n[[matrix.expect]]\nwhen = { flush = \"sync\" }\nlost = 0\n";
    let (code, stderr) = validate("matrix_expect_ok", &text);
    assert_eq!(code, 0, "{stderr}");
    check(
        "matrix_expect_axis",
        &text.replace("{ flush =", "{ flash ="),
        25,
        &["matrix.expect[0].when.flash", "no axis `flash`"],
    );
    check(
        "matrix_expect_value",
        &text.replace("{ flush = \"sync\" }", "{ flush = \"fast\" }"),
        25,
        &["matrix.expect[0].when.flush", "has no value `fast`"],
    );
}

#[test]
fn a_cell_for_a_scenario_without_a_matrix_is_bad_usage() {
    let output = sim(&["run", "scenarios/lost-ack.toml", "--cell", "flush=sync"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has no [matrix]"), "{stderr}");
}

#[test]
fn a_promotion_must_name_a_slave() {
    let text = GOOD.replace("name = \"broker-a\"", "name = \"broker-a\"\nslaves = 1")
        + "\n[[fault]]\nat = \"10s\"\nkind = \"promote\"\nnode = \"broker-a\"\n";
    check(
        "promote_master",
        &text,
        24,
        &["fault[0].node", "not a slave"],
    );
}

#[test]
fn a_dledger_group_refuses_slaves_and_a_promotion() {
    let dledger = "name = \"broker-a\"\nreplication = \"dledger\"";
    let text = GOOD.replace("name = \"broker-a\"", &format!("{dledger}\nslaves = 1"));
    check(
        "dledger_slaves",
        &text,
        12,
        &["cluster.broker_group[0].slaves", "elects its own master"],
    );
    let text = GOOD.replace("name = \"broker-a\"", dledger)
        + "\n[[fault]]\nat = \"10s\"\nkind = \"promote\"\nnode = \"broker-a-n1\"\n";
    check(
        "dledger_promote",
        &text,
        24,
        &[
            "fault[0].node",
            "DLedger group `broker-a`",
            "cannot promote",
        ],
    );
}
