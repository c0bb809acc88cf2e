//! `report.html` in a real browser: headless Chromium renders the report of two bundled
//! scenarios; the test fails on any console message or script error (the page writes errors
//! into `#errors`), checks from the rendered DOM that the diagram has a lane per node, arrows,
//! fault spans and one marker per witness, and saves screenshots under `reports/out/browser/`.
//! The page data of a DLedger group's leaders per term is checked without a browser.
//!
//! Without Chromium on the PATH (`chromium`, `chromium-browser`, `google-chrome`, or the path
//! in `CHROMIUM`) the test says so and passes, unless `RMQ_SIM_REQUIRE_BROWSER` is set, as
//! `.ci/run` does after installing it.

mod common;

use serde_json::Value;
use sim::report::html::MAX_WITNESSES;
use sim::run::{RunOptions, run};
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    let names = ["chromium", "chromium-browser", "google-chrome"];
    std::env::split_paths(&path)
        .flat_map(|dir| names.map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Runs the browser on `url` with `mode` (`--dump-dom` or `--screenshot=...`); its standard
/// output, and every console line it logged.
fn browse(
    browser: &Path,
    url: &str,
    mode: &str,
    profile: &Path,
    height: u32,
) -> (String, Vec<String>) {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--window-size=1280,{height}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(mode)
        .arg(url)
        .output()
        .expect("the browser runs");
    assert!(
        out.status.success(),
        "{} {mode} failed: {}",
        browser.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

fn count(dom: &str, needle: &str) -> usize {
    dom.matches(needle).count()
}

/// Writes the run's `--out` files; the report's path, the nodes and the witnesses drawn.
fn write_run(name: &str, seed: u64, dir: &Path) -> (PathBuf, usize, usize) {
    let scenario = common::bundled(name);
    let result = run(
        &scenario,
        seed,
        &RunOptions {
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    let anomalies = result
        .result
        .as_ref()
        .map_or(0, |f| f.report.anomalies.len());
    sim::report::write_files(dir, &scenario, &result).expect("written");
    (
        dir.join("report.html"),
        scenario.nodes.len(),
        anomalies.min(MAX_WITNESSES),
    )
}

/// The DOM checks of a rendered report that hold for any run.
fn check_dom(name: &str, dom: &str, console: &[String], nodes: usize, witnesses: usize) {
    assert!(
        console.is_empty(),
        "{name}: the page logged:\n{}",
        console.join("\n")
    );
    assert!(
        dom.contains("<div id=\"errors\"></div>"),
        "{name}: script errors in {dom:.2000}"
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "{name}: the script did not finish"
    );
    assert_eq!(
        count(dom, "class=\"lane\""),
        nodes,
        "{name}: one lane per node"
    );
    assert!(count(dom, "class=\"arrow") > 100, "{name}: arrows");
    assert!(
        dom.contains("class=\"question\"") && dom.contains("What this scenario teaches"),
        "{name}: the scenario's question and lesson come first"
    );
    assert!(
        dom.contains("What the checker found"),
        "{name}: the anomalies grouped by kind and cause, in words"
    );
    assert_eq!(
        count(dom, "class=\"witness"),
        witnesses,
        "{name}: one marker per witness"
    );
}

/// Renders one run's report; the screenshot is `height` pixels tall, at `hash` (a witness
/// selected, a zoom).
/// Returns the page's DOM at first view.
fn check(browser: &Path, name: &str, seed: u64, hash: &str, height: u32) -> String {
    let out = Path::new(common::root()).join("reports/out/browser");
    let (report, nodes, witnesses) = write_run(name, seed, &out.join(name));
    let url = format!("file://{}", report.display());
    let profile =
        std::env::temp_dir().join(format!("rmq-sim-chromium-{}-{name}", std::process::id()));
    let (dom, console) = browse(browser, &url, "--dump-dom", &profile, 1200);
    check_dom(name, &dom, &console, nodes, witnesses);
    assert!(count(&dom, "class=\"fault") > 0, "{name}: fault spans");
    assert!(
        count(&dom, "class=\"fault-band\"") > 0 && dom.contains("class=\"fault-legend\""),
        "{name}: the faults as bands above the lanes at first view, with a legend"
    );
    assert!(
        count(&dom, "class=\"op ") > 100 && dom.contains("class=\"op-key\""),
        "{name}: the operation timeline, with its key"
    );
    assert!(witnesses > 0, "{name}: this run has witnesses to show");
    let shot = out.join(format!("{name}.png"));
    let mode = format!("--screenshot={}", shot.display());
    let (_, console) = browse(browser, &format!("{url}{hash}"), &mode, &profile, height);
    assert!(
        console.is_empty(),
        "{name}: the page logged:\n{}",
        console.join("\n")
    );
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "{name}: a screenshot"
    );
    let _ = std::fs::remove_dir_all(&profile);
    dom
}

/// Every bundled scenario's report (seed 1; a matrix scenario's first cell) renders without
/// an error. About 3 s a scenario: `cargo test --release --test html_report -- --ignored`.
#[test]
#[ignore]
fn every_bundled_scenario_renders() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium on the PATH");
        return;
    };
    let out = Path::new(common::root()).join("reports/out/browser/all");
    for file in common::bundled_files() {
        let name = file
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let (report, nodes, witnesses) = write_run(&name, 1, &out.join(&name));
        let profile = std::env::temp_dir().join(format!("rmq-sim-chromium-{}", std::process::id()));
        let url = format!("file://{}", report.display());
        let (dom, console) = browse(&browser, &url, "--dump-dom", &profile, 1200);
        check_dom(&name, &dom, &console, nodes, witnesses);
        let _ = std::fs::remove_dir_all(&profile);
    }
}

#[test]
fn reports_render_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("RMQ_SIM_REQUIRE_BROWSER").is_none(),
            "RMQ_SIM_REQUIRE_BROWSER is set but no chromium is on the PATH"
        );
        eprintln!("skipped: no chromium on the PATH (apt-get install chromium, or set CHROMIUM)");
        return;
    };
    // The loss window (acked above flushed at the power-off) and the lost messages' markers.
    let dom = check(
        &browser,
        "power-loss-async-flush",
        1,
        "#witness=1&focus=3000",
        1300,
    );
    assert!(
        dom.contains(
            "ASYNC_FLUSH, ASYNC_MASTER, 0 slave(s)) promises the master's page cache only"
        ),
        "the losses read against what the settings promise"
    );
    // The crashed consumer's queues handed over to the others, in the ownership plot.
    let _ = check(&browser, "consumer-crash", 1, "", 2000);
    // A bandwidth cap that lasts until the heal, drawn as an interval above the lanes; the
    // question users ask that the scenario answers, at the top.
    let dom = check(&browser, "sync-master", 7, "", 1600);
    assert!(
        dom.contains("class=\"asked\"") && dom.contains("#1244"),
        "the question it answers"
    );
    assert!(
        dom.contains("class=\"unavailable\""),
        "its time without SEND_OK, as a span"
    );
}

/// A one-hour run of 100,000 messages (consumer-crash, stretched, with a slave and a power
/// loss) keeps its report under 10 MB. About a minute: run it with `-- --ignored`.
#[test]
#[ignore]
fn a_one_hour_run_of_100k_messages_has_a_report_under_10_mb() {
    let path = format!("{}/scenarios/consumer-crash.toml", common::root());
    let text = std::fs::read_to_string(path).expect("the scenario");
    let text = text
        .replace("duration = \"90s\"", "duration = \"1h\"")
        .replace(
            "messages = 1200\nrate = \"20/s\"",
            "messages = 100000\nrate = \"28/s\"",
        )
        .replacen(
            "name = \"broker-a\"\n",
            "name = \"broker-a\"\nslaves = 1\n",
            1,
        )
        + "\n[[fault]]\nat = \"20m\"\nfor = \"30s\"\nkind = \"power-off\"\nnode = \"broker-a\"\n";
    let scenario = sim::scenario::parse(&text, "long.toml").expect("valid");
    let result = run(
        &scenario,
        1,
        &RunOptions {
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    let page = sim::report::html::render(&scenario, &result).expect("a page");
    eprintln!("report of a one-hour run: {} bytes", page.len());
    assert!(page.len() < 10 << 20, "{} bytes", page.len());
}

/// The page data embedded in a rendered report (`<script id="payload">`).
fn page_data(page: &str) -> Value {
    let open = "<script id=\"payload\" type=\"application/json\">";
    let start = page.find(open).expect("the payload script") + open.len();
    let len = page[start..].find("</script>").expect("its end");
    serde_json::from_str(&page[start..start + len]).expect("the payload is JSON")
}

/// The leaders of broker-a, each member killed in turn: at least two terms with different
/// leaders, one after the other (a term ends before the next begins), each on its leader's
/// lane, and a band per term in the page drawn by the browser when there is one.
#[test]
fn a_dledger_group_shows_its_leader_per_term() {
    let scenario = common::bundled("dledger-leader-kill");
    let result = run(
        &scenario,
        1,
        &RunOptions {
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    let page = sim::report::html::render(&scenario, &result).expect("a page");
    let data = page_data(&page);
    let end = data["end_ms"].as_u64().expect("end_ms");
    let groups = data["leader_terms"].as_array().expect("leader_terms");
    let group = groups
        .iter()
        .find(|g| g["group"] == "broker-a")
        .expect("broker-a is a DLedger group");
    let lanes: Vec<u64> = group["lanes"]
        .as_array()
        .expect("lanes")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(lanes.len(), 3, "one lane per member: {group}");
    let terms = group["terms"].as_array().expect("terms");
    assert!(terms.len() >= 2, "at least two terms: {group}");
    let mut leaders: Vec<&str> = terms.iter().filter_map(|t| t["member"].as_str()).collect();
    leaders.sort_unstable();
    leaders.dedup();
    assert!(leaders.len() >= 2, "different leaders: {group}");
    let mut spans: Vec<(u64, u64, u64)> = terms
        .iter()
        .map(|t| {
            let lane = t["lane"].as_u64().expect("a lane");
            assert!(lanes.contains(&lane), "the leader is a member: {t}");
            let from = t["from_ms"].as_u64().expect("from_ms");
            let to = t["to_ms"].as_u64().unwrap_or(end);
            assert!(from <= to && to <= end, "a span inside the run: {t}");
            (from, to, t["term"].as_u64().expect("a term"))
        })
        .collect();
    spans.sort_unstable();
    for pair in spans.windows(2) {
        let ((_, to, term), (from, _, next)) = (pair[0], pair[1]);
        assert!(to <= from, "terms {term} and {next} overlap: {group}");
        assert!(term < next, "terms follow in order: {group}");
    }
    if let Some(browser) = chromium() {
        check_leader_bands(&browser, &page, terms.len(), lanes.len());
    }
}

/// The page of `dledger-leader-kill` in the browser: a band per term (with its tooltip) and a
/// term change marker per term on each of the group's `lanes` lanes.
fn check_leader_bands(browser: &Path, page: &str, terms: usize, lanes: usize) {
    let dir = Path::new(common::root()).join("reports/out/browser/dledger-leader-kill");
    std::fs::create_dir_all(&dir).expect("the folder");
    let report = dir.join("report.html");
    std::fs::write(&report, page).expect("written");
    let profile =
        std::env::temp_dir().join(format!("rmq-sim-chromium-{}-dledger", std::process::id()));
    let url = format!("file://{}", report.display());
    let (dom, console) = browse(browser, &url, "--dump-dom", &profile, 1200);
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        console.is_empty(),
        "the page logged:\n{}",
        console.join("\n")
    );
    assert!(dom.contains("<div id=\"errors\"></div>"), "script errors");
    assert_eq!(count(&dom, "class=\"leader\""), terms, "a band per term");
    assert_eq!(
        count(&dom, "class=\"term-mark\""),
        terms * lanes,
        "a term change marker per term on every member's lane"
    );
    assert!(
        dom.contains(" leads broker-a in term "),
        "the band's tooltip"
    );
}
