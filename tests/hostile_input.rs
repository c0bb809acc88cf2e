//! Hostile input and output: values that validate but used to panic, abort or run away, files
//! too large to read, closed pipes and full disks. Each test names the class of issue 9 it
//! guards; each failed before the fix.

mod common;

use common::GOOD;

use common::root;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn sim_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sim"));
    command.args(args).current_dir(root());
    command
}

/// Runs the CLI; asserts it did not panic. Returns (exit code, stdout, stderr).
fn sim(args: &[&str]) -> (i32, String, String) {
    let output = sim_command(args).output().expect("the sim binary runs");
    decode(output)
}

fn decode(output: Output) -> (i32, String, String) {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "the CLI panicked:\n{stderr}");
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

/// A file in this test process's temporary folder.
fn file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("rmq-sim-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Validating `text` exits 2 with every needle in the error, and quickly.
fn rejects(name: &str, text: &str, needles: &[&str]) {
    let path = file(&format!("{name}.toml"), text);
    let started = Instant::now();
    let (code, _, stderr) = sim(&["validate", &path]);
    assert_eq!(code, 2, "{name}: exit code; stderr:\n{stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{name}: expected `{needle}` in:\n{stderr}"
        );
    }
    assert!(
        stderr.len() < 4_000,
        "{name}: {} bytes of error",
        stderr.len()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{name}: too slow"
    );
}

fn with_fault(fault: &str) -> String {
    format!("{GOOD}\n[[fault]]\nat = \"10s\"\n{fault}\n")
}

// Class 1: empty lists validated, then panicked in the run or meant nothing.

#[test]
fn empty_node_lists_are_rejected() {
    for (name, fault) in [
        ("empty-node", "kind = \"kill\"\nnode = []"),
        (
            "empty-slow-disk",
            "kind = \"slow-disk\"\nnode = []\nextra = \"1s\"",
        ),
        ("empty-a", "kind = \"partition\"\na = []\nb = \"broker-a\""),
        ("empty-b", "kind = \"partition\"\na = \"broker-a\"\nb = []"),
        ("empty-from", "kind = \"drop-request\"\nfrom = []"),
        ("empty-to", "kind = \"delay\"\nto = []\nextra = \"1s\""),
    ] {
        rejects(
            name,
            &with_fault(fault),
            &["fault[0].", "must name at least one node"],
        );
    }
    rejects(
        "empty-request",
        &with_fault("kind = \"drop-request\"\nrequest = []"),
        &["fault[0].request", "must name at least one request code"],
    );
    rejects(
        "empty-brokers",
        &GOOD.replace("name = \"orders\"\n", "name = \"orders\"\nbrokers = []\n"),
        &["topic[0].brokers", "must name at least one broker group"],
    );
}

#[test]
fn a_drain_fault_ends_by_itself_within_the_drain() {
    rejects(
        "drain-kill-forever",
        &with_fault("phase = \"drain\"\nkind = \"kill\"\nnode = \"broker-a\""),
        &["fault[0].for", "no heal follows the drain"],
    );
    rejects(
        "drain-past-its-timeout",
        &with_fault("phase = \"drain\"\nfor = \"1000s\"\nkind = \"kill\"\nnode = \"broker-a\""),
        &[
            "fault[0].for",
            "ends 1010.000s into the drain",
            "drain_timeout",
        ],
    );
    rejects(
        "drain-phase-unknown",
        &with_fault("phase = \"heal\"\nkind = \"kill\"\nnode = \"broker-a\""),
        &["fault[0].phase", "drain"],
    );
}

#[test]
fn a_query_by_key_names_a_topic_whose_producers_use_keys() {
    rejects(
        "query-no-topic",
        &with_fault("kind = \"query-keys\""),
        &["fault[0].kind", "needs `topic`"],
    );
    rejects(
        "query-no-keys",
        &with_fault("kind = \"query-keys\"\ntopic = \"orders\""),
        &["fault[0].topic", "no producer of `orders` sets `keys`"],
    );
    rejects(
        "query-for",
        &with_fault("kind = \"query-keys\"\ntopic = \"orders\"\nfor = \"5s\""),
        &["fault[0].for", "a query is a moment"],
    );
}

/// The send pool's timings must be durations above zero, named at their field.
#[test]
fn send_pool_timings_of_zero_are_refused() {
    for field in ["wait_time_in_send_queue", "os_page_cache_busy_timeout"] {
        let text = GOOD.replace(
            "name = \"broker-a\"\n",
            &format!("name = \"broker-a\"\n{field} = \"0ms\"\n"),
        );
        rejects(
            field,
            &text,
            &[&format!("cluster.broker_group[0].{field}"), "more than 0"],
        );
    }
}

/// An operator's calls to a group name a push group in clustering, and a key its producers use.
#[test]
fn operator_redeliveries_name_a_group_that_can_take_them() {
    let with = |consumer: &str, fault: &str| {
        format!(
            "{GOOD}keys = 50
[[consumer]]
group = \"g\"\ntopic = \"orders\"\n{consumer}\n[[fault]]\nat = \"10s\"\n{fault}\n"
        )
    };
    rejects(
        "reset-no-group",
        &with("", "kind = \"reset-offset\""),
        &["fault[0].kind", "needs `group`"],
    );
    rejects(
        "reset-unknown-group",
        &with("", "kind = \"reset-offset\"\ngroup = \"h\""),
        &["fault[0].group", "no consumer group named `h`"],
    );
    rejects(
        "reset-broadcasting",
        &with(
            "model = \"broadcasting\"",
            "kind = \"reset-offset\"\ngroup = \"g\"",
        ),
        &["fault[0].group", "broadcasting"],
    );
    rejects(
        "direct-key-out-of-range",
        &with("", "kind = \"consume-directly\"\ngroup = \"g\"\nkey = 50"),
        &["fault[0].key", "key-0 to key-49"],
    );
    rejects(
        "direct-not-an-instance",
        &with(
            "",
            "kind = \"consume-directly\"\ngroup = \"g\"\nnode = \"broker-a\"",
        ),
        &["fault[0].node", "one instance of `g`"],
    );
    rejects(
        "reset-key",
        &with("", "kind = \"reset-offset\"\ngroup = \"g\"\nkey = 1"),
        &["fault[0].key", "does not apply to a reset-offset fault"],
    );
}

#[test]
fn consumer_keys_that_need_another_are_refused_without_it() {
    let consumer =
        |keys: &str| format!("{GOOD}\n[[consumer]]\ngroup = \"g\"\ntopic = \"orders\"\n{keys}\n");
    rejects(
        "timestamp-without-timestamp",
        &consumer("consume_timestamp = \"30s\""),
        &[
            "consumer[0].consume_timestamp",
            "consume_from = \"timestamp\"",
        ],
    );
    rejects(
        "stuck-for-without-every",
        &consumer("stuck_for = \"1m\""),
        &["consumer[0].stuck_for", "needs `stuck_every`"],
    );
    rejects(
        "stuck-every-zero",
        &consumer("stuck_every = 0"),
        &["consumer[0].stuck_every", "at least 1"],
    );
}

#[test]
fn a_role_of_a_group_that_does_not_exist_or_has_no_such_member_is_refused() {
    rejects(
        "leader-of-nothing",
        &with_fault("kind = \"kill\"\nnode = \"broker-b@leader\""),
        &[
            "fault[0].node",
            "no broker group named `broker-b`",
            "broker-a@leader",
        ],
    );
    rejects(
        "followers-of-a-lone-master",
        &with_fault("kind = \"kill\"\nnode = \"broker-a@followers\""),
        &["fault[0].node", "`broker-a` has no slaves"],
    );
}

#[test]
fn a_topic_update_names_a_hosted_topic_and_changes_something_valid() {
    for (name, fault, needles) in [
        (
            "update-no-topic",
            "kind = \"update-topic\"\nread_queues = 2",
            &["fault[0].kind", "needs `topic`"][..],
        ),
        (
            "update-unknown-topic",
            "kind = \"update-topic\"\ntopic = \"order\"\nread_queues = 2",
            &[
                "fault[0].topic",
                "no topic named `order`",
                "did you mean `orders`?",
            ],
        ),
        (
            "update-nothing",
            "kind = \"update-topic\"\ntopic = \"orders\"",
            &["changes nothing"],
        ),
        (
            "update-zero-queues",
            "kind = \"update-topic\"\ntopic = \"orders\"\nwrite_queues = 0",
            &["fault[0].write_queues", "must be 1 to"],
        ),
        (
            "update-bad-perm",
            "kind = \"update-topic\"\ntopic = \"orders\"\nperm = 5",
            &["fault[0].perm", "`5` is no topic permission"],
        ),
        (
            "update-unhosted",
            "kind = \"update-topic\"\ntopic = \"orders\"\nperm = 4\nbrokers = [\"broker-b\"]",
            &[
                "fault[0].brokers",
                "`broker-b` is no broker group hosting `orders`",
            ],
        ),
        (
            "update-heals",
            "kind = \"update-topic\"\ntopic = \"orders\"\nperm = 4\nfor = \"5s\"",
            &["fault[0].for", "a topic update stays"],
        ),
    ] {
        rejects(name, &with_fault(fault), needles);
    }
    let zero_read = GOOD.replace(
        "name = \"orders\"\n",
        "name = \"orders\"\nread_queues = 0\n",
    );
    rejects(
        "topic-zero-read",
        &zero_read,
        &["topic[0].read_queues", "must be at least 1"],
    );
}

#[test]
fn a_machine_room_selector_needs_the_producers_room_and_only_it_reads_one() {
    let producer = "topic = \"orders\"\nmessages = 10\n";
    let no_room = GOOD.replace(
        producer,
        &format!("{producer}selector = \"machine-room\"\n"),
    );
    rejects(
        "room-missing",
        &no_room,
        &["producer[0].selector", "needs the producer's `room`"],
    );
    let stray = GOOD.replace(producer, &format!("{producer}room = \"north\"\n"));
    rejects(
        "room-stray",
        &stray,
        &["producer[0].room", "only the machine-room selector"],
    );
}

// Class 2: the error printer.

#[test]
fn an_error_far_along_a_line_quotes_a_bounded_excerpt() {
    let line = format!("summary = \"{}\" x", "s".repeat(70_000));
    let text = GOOD.replace("summary = \"s\"", &line);
    rejects("far-column", &text, &[":2:", "…"]);
}

#[test]
fn a_huge_value_in_a_message_is_cut() {
    let name = "b".repeat(50_000);
    rejects(
        "huge-name",
        &with_fault(&format!("kind = \"kill\"\nnode = \"{name}\"")),
        &["no node named", "…"],
    );
}

// Class 3: counts checked before anything is built.

#[test]
fn huge_counts_are_refused_before_allocating() {
    let huge = "4294967295";
    rejects(
        "name-servers",
        &GOOD.replace("name_servers = 1", &format!("name_servers = {huge}")),
        &["cluster.name_servers", "the limit is 8"],
    );
    rejects(
        "producer-instances",
        &GOOD.replace(
            "messages = 10",
            &format!("messages = 10\ninstances = {huge}"),
        ),
        &["producer[0].instances", "the limit is 64"],
    );
    let consumer =
        format!("\n[[consumer]]\ngroup = \"c\"\ntopic = \"orders\"\ninstances = {huge}\n");
    rejects(
        "consumer-instances",
        &format!("{GOOD}{consumer}"),
        &["consumer[0].instances", "the limit is 64"],
    );
}

#[test]
fn a_matrix_is_counted_before_its_cells_are_built() {
    let axes: String = (0..10)
        .map(|i| {
            let values: Vec<String> = (0..10).map(|v| format!("\"{v}\"")).collect();
            format!("a{i} = [{}]\n", values.join(", "))
        })
        .collect();
    rejects(
        "matrix-cells",
        &format!("{GOOD}\n[matrix]\n{axes}"),
        &["matrix", "10,000,000,000 cells; the limit is 256"],
    );
}

// Class 4: values that validated, then aborted or ate memory in the run.

#[test]
fn sizes_that_would_exhaust_memory_are_refused() {
    let broker = "name = \"broker-a\"\n";
    rejects(
        "body",
        &GOOD.replace("messages = 10", "messages = 10\nbody = \"4GiB\""),
        &["producer[0].body", "the limit is 4MiB"],
    );
    rejects(
        "body-1gib",
        &GOOD.replace("messages = 10", "messages = 10\nbody = \"1GiB\""),
        &["producer[0].body", "the limit is 4MiB"],
    );
    for (name, field) in [
        ("commit-log-4gib", "commit_log_file_size = \"4GiB\""),
        ("commit-log-int", "commit_log_file_size = 4294967295"),
    ] {
        rejects(
            name,
            &GOOD.replace(broker, &format!("{broker}{field}\n")),
            &["commit_log_file_size", "the limit is 64MiB"],
        );
    }
    rejects(
        "cq-entries",
        &GOOD.replace(
            broker,
            &format!("{broker}consume_queue_file_entries = 4294967295\n"),
        ),
        &["consume_queue_file_entries", "the limit is 1,000,000"],
    );
    rejects(
        "prealloc",
        &GOOD.replace(
            broker,
            &format!("{broker}consume_queue_file_entries = 1000000\n"),
        ),
        &[
            "store files preallocated per machine",
            "the limit is 256MiB",
        ],
    );
    rejects(
        "stored",
        &GOOD.replace("messages = 10", "messages = 3000000\nbody = \"1KiB\""),
        &[
            "memory the run would take, estimated",
            "the limit is 4096MiB",
        ],
    );
}

/// Every multiplier counts in the memory estimate: tiny bodies (the record around each
/// body), a ConsumeQueue file per entry, and a broadcasting group's fan-out.
#[test]
fn every_multiplier_counts_in_the_memory_estimate() {
    let needles = [
        "memory the run would take, estimated",
        "the limit is 4096MiB",
    ];
    let tiny = GOOD.replace("messages = 10", "messages = 10000000\nbody = \"1B\"");
    rejects("tiny-bodies", &tiny, &needles);
    let broker = "name = \"broker-a\"\n";
    let per_entry = GOOD
        .replace(broker, &format!("{broker}consume_queue_file_entries = 1\n"))
        .replace("messages = 10", "messages = 1000000");
    rejects("file-per-entry", &per_entry, &needles);
    let fan_out = format!(
        "{}\n[[consumer]]\ngroup = \"cache\"\ninstances = 64\ntopic = \"orders\"\nmodel = \"broadcasting\"\n",
        GOOD.replace("messages = 10", "messages = 200000")
    );
    rejects("fan-out", &fan_out, &needles);
}

/// An empty `[matrix]` is refused alike by `validate` and `run`, at its line.
#[test]
fn an_empty_matrix_is_refused_at_its_line() {
    let path = file("empty-matrix.toml", &format!("{GOOD}\n[matrix]\n"));
    for command in ["validate", "run"] {
        let (code, _, stderr) = sim(&[command, &path]);
        assert_eq!(code, 2, "{command}: {stderr}");
        assert!(
            stderr.contains("matrix: has no axes"),
            "{command}: {stderr}"
        );
    }
}

/// A default budget past the limit names the key the file has (`duration`), not one it lacks.
#[test]
fn a_default_budget_past_the_limit_names_the_duration() {
    let long = GOOD.replace(
        "duration = \"60s\"",
        "duration = \"720h\"\ndrain_timeout = \"720h\"",
    );
    rejects(
        "long",
        &long,
        &[
            "duration: with the drain and read-back timeouts",
            "the limit is 1440h",
        ],
    );
}

#[test]
fn too_many_nodes_states_the_limit() {
    let producers: String = (0..400)
        .map(|i| format!("\n[[producer]]\ngroup = \"p{i}\"\ntopic = \"orders\"\nmessages = 1\ninstances = 60\n"))
        .collect();
    rejects(
        "nodes",
        &format!("{GOOD}{producers}"),
        &["too many nodes", "the limit is 256"],
    );
    let consumers: String = (0..20)
        .map(|i| format!("\n[[consumer]]\ngroup = \"c{i}\"\ntopic = \"orders\"\ninstances = 50\n"))
        .collect();
    rejects(
        "consumers",
        &format!("{GOOD}{consumers}"),
        &["consumer instances so far", "the limit is 64"],
    );
}

// Class 5: runs that never end.

#[test]
fn durations_past_the_limit_are_refused() {
    rejects(
        "long",
        &GOOD.replace("\"60s\"", "\"240000h\""),
        &["duration", "the limit of 720h"],
    );
    rejects(
        "u64-max",
        &GOOD.replace("\"60s\"", "\"18446744073709551615ms\""),
        &["duration", "the limit of 720h"],
    );
}

#[test]
fn a_billion_seeds_is_refused_at_once() {
    let path = file("seeds.toml", GOOD);
    let started = Instant::now();
    let (code, _, stderr) = sim(&["sweep", &path, "--seeds", "0..1000000000"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the limit is 1,000,000"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn budgets_end_a_run_as_liveness_unknown() {
    let path = file("budget.toml", GOOD);
    let (code, stdout, _) = sim(&["run", &path, "--event-budget", "100"]);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("exceeded its event budget of 100 events"),
        "{stdout}"
    );
    let (code, stdout, _) = sim(&["run", &path, "--time-budget", "20s"]);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("simulated-time budget of 20.000s"),
        "{stdout}"
    );
    let text = format!("{GOOD}\n[budget]\nevents = 100\n");
    let (code, stdout, _) = sim(&["run", &file("budget-key.toml", &text)]);
    assert_eq!(code, 3, "{stdout}");
}

// Class 6: input size.

#[test]
fn large_inputs_are_refused_at_once() {
    let started = Instant::now();
    let (code, _, stderr) = sim(&["validate", "/dev/zero"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("larger than the limit of 1MiB"), "{stderr}");
    let junk = file("junk.toml", &"x".repeat(3 * 1024 * 1024));
    for command in ["validate", "run", "sweep", "bench", "matrix"] {
        let (code, _, stderr) = sim(&[command, &junk]);
        assert_eq!(code, 2, "{command}: {stderr}");
        assert!(
            stderr.contains("larger than the limit of 1MiB"),
            "{command}: {stderr}"
        );
        assert!(stderr.len() < 1_000, "{command}: {stderr}");
    }
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn validate_reads_standard_input_once() {
    let mut child = sim_command(&["validate", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(GOOD.as_bytes())
        .unwrap();
    let (code, stdout, stderr) = decode(child.wait_with_output().unwrap());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ok: /dev/stdin"), "{stdout}");
}

// Class 7: output errors.

#[test]
fn a_closed_pipe_ends_output_quietly() {
    let path = file("pipe.toml", GOOD);
    for args in [
        vec!["run", path.as_str()],
        vec!["sweep", path.as_str(), "--seeds", "0..2"],
        vec!["bench", path.as_str(), "--seeds", "0..2"],
        vec!["list"],
        vec!["validate", path.as_str()],
        vec!["--help"],
    ] {
        let mut child = sim_command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before the first line
        let (code, _, stderr) = decode(child.wait_with_output().unwrap());
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_full_disk_is_an_error_naming_the_path() {
    let path = file("full.toml", GOOD);
    let matrix = file(
        "full-matrix.toml",
        &format!("{GOOD}\n[matrix]\nx = [\"a\"]\n"),
    );
    for args in [
        vec!["run", path.as_str()],
        vec!["run", path.as_str(), "--json"],
        vec!["sweep", path.as_str(), "--seeds", "0..2"],
        vec!["matrix", matrix.as_str(), "--seeds", "0..1"],
        vec!["bench", path.as_str(), "--seeds", "0..2"],
        vec!["list"],
        vec!["validate", path.as_str()],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = sim_command(&args)
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let (code, _, stderr) = decode(output);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to /dev/full"),
            "{args:?}: {stderr}"
        );
    }
}

// Class 8: the smaller ones.

#[test]
fn units_of_the_readme_are_accepted() {
    let text = GOOD
        .replace(
            "name = \"broker-a\"\n",
            "name = \"broker-a\"\nmemory = \"8GiB\"\n",
        )
        .replace(
            "duration = \"60s\"",
            "duration = \"60s\"\ndrain_timeout = \"1d\"",
        );
    let (code, _, stderr) = sim(&["validate", &file("units.toml", &text)]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn small_messages_say_what_is_wrong() {
    rejects(
        "nan",
        &with_fault("kind = \"drop-request\"\nprobability = nan"),
        &["probability", "is not a probability; write one such as"],
    );
    let unclosed = format!(
        "{GOOD}\n[matrix]\nx = [\"a\"]\n# ${{x\n{}\n",
        "# z\n".repeat(1_000)
    );
    rejects("unclosed", &unclosed, &["`${x` is not closed"]);
}

#[test]
fn bad_flags_are_refused() {
    let path = file("flags.toml", GOOD);
    let matrix = file(
        "flags-matrix.toml",
        &format!("{GOOD}\n[matrix]\nx = [\"a\", \"b\"]\n"),
    );
    for (args, needle) in [
        (vec!["sweep", path.as_str(), "--jobs", "0"], "give 1 to 256"),
        (
            vec!["sweep", path.as_str(), "--jobs", "200000"],
            "give 1 to 256",
        ),
        (vec!["run", matrix.as_str(), "--cell", ""], "is empty"),
        (
            vec!["run", matrix.as_str(), "--cell", "x=a,x=b"],
            "`x` is given twice",
        ),
        (
            vec!["run", path.as_str(), "--event-budget", "0"],
            "give 1 to",
        ),
        (
            vec!["run", path.as_str(), "--seed", "1", "--time-budget", "100d"],
            "limit",
        ),
    ] {
        let (code, _, stderr) = sim(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: expected `{needle}` in {stderr}"
        );
    }
}

#[test]
fn out_refuses_a_folder_that_is_not_empty() {
    let path = file("out.toml", GOOD);
    let dir = std::env::temp_dir().join(format!("rmq-sim-hostile-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let out = dir.to_string_lossy().into_owned();
    let (code, _, stderr) = sim(&["run", &path, "--out", &out]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("pass --force"), "{stderr}");
    let (code, _, stderr) = sim(&["run", &path, "--out", &out, "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(dir.join("summary.json").exists());
}

#[test]
fn help_lists_the_exit_codes() {
    let (code, stdout, _) = sim(&["--help"]);
    assert_eq!(code, 0);
    for line in [
        "0  every expectation holds",
        "3  liveness",
        "4  the simulation panicked",
    ] {
        assert!(stdout.contains(line), "{stdout}");
    }
}

#[test]
fn the_readme_states_every_expectation() {
    let readme = std::fs::read_to_string(format!("{}/README.md", root())).unwrap();
    let table = sim::check::expectations::markdown_table();
    assert!(
        readme.contains(&table),
        "README.md needs the expectations table:\n{table}"
    );
}

#[test]
fn the_readme_states_every_fault_kind() {
    let readme = std::fs::read_to_string(format!("{}/README.md", root())).unwrap();
    let table = sim::fault::markdown_table();
    assert!(
        readme.contains(&table),
        "README.md needs the fault table:\n{table}"
    );
}

#[test]
fn the_readme_states_every_limit() {
    let readme = std::fs::read_to_string(format!("{}/README.md", root())).unwrap();
    let table = sim::scenario::limits::markdown_table();
    assert!(
        readme.contains(&table),
        "README.md needs the limits table:\n{table}"
    );
}
