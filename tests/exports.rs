//! The exports `--out` writes for other tools: `history.edn` (Jepsen-style operations) and
//! `shiviz.log` (ShiViz's regex header, then one event per line with its vector clock), checked
//! for format and counts against the run they came from.

mod common;

use model::event::Event;
use sim::report::export::{edn, shiviz};
use sim::run::{Finished, RunOptions, run};
use std::collections::BTreeMap;

fn finished(name: &str, seed: u64) -> Finished {
    let scenario = common::bundled(name);
    run(&scenario, seed, &RunOptions { keep_trace: true })
        .result
        .expect("the run finishes")
}

/// How many history entries of each producer operation the run recorded.
fn operations(finished: &Finished) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for entry in finished.outcome.history.entries() {
        let kind = match entry.model() {
            Some(Event::SendInvoke { .. }) => "invoke",
            Some(Event::SendOk { .. }) => "ok",
            Some(Event::SendFail { .. }) => "fail",
            Some(Event::SendInfo { .. }) => "info",
            _ => continue,
        };
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts
}

#[test]
fn the_edn_history_has_one_line_per_operation_and_every_completion_follows_its_invoke() {
    let run = finished("lost-ack", 1);
    let mut bytes = Vec::new();
    let lines = edn::write(&run.outcome.history, &mut bytes).expect("written");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(text.lines().count(), lines);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut open: BTreeMap<String, u64> = BTreeMap::new();
    let mut last_time = 0;
    for line in text.lines() {
        let field = |key: &str| {
            let start = line
                .find(key)
                .unwrap_or_else(|| panic!("no {key} in {line}"))
                + key.len();
            let rest = &line[start..];
            rest[..rest.find([',', '}']).unwrap_or(rest.len())]
                .trim()
                .to_string()
        };
        assert!(
            line.starts_with("{:type :") && line.ends_with('}'),
            "{line}"
        );
        assert_eq!(field(":f "), ":send", "{line}");
        let kind = field(":type :");
        let time: u64 = field(":time ").parse().expect("a time in ns");
        assert!(time >= last_time, "time goes back at {line}");
        last_time = time;
        let id = field(":value ").trim_start_matches("{:id ").to_string();
        if kind == "invoke" {
            open.insert(id, time);
        } else {
            assert!(
                open.remove(&id).is_some(),
                "a completion without its invoke: {line}"
            );
        }
        *counts.entry(kind).or_insert(0) += 1;
    }
    let expected = operations(&run);
    let expected_named: BTreeMap<String, usize> =
        expected.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(counts, expected_named);
    assert!(expected["info"] + expected["ok"] > 0);
}

#[test]
fn the_shiviz_log_parses_with_its_header_and_its_clocks_count_each_hosts_events() {
    let run = finished("power-loss-async-flush", 1);
    let packets = run.outcome.packets.as_deref().expect("packets kept");
    let names = &run.outcome.names;
    let mut bytes = Vec::new();
    let events = shiviz::write(names, &run.outcome.history, packets, &mut bytes).expect("written");
    let text = String::from_utf8(bytes).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(shiviz::REGEX));
    assert_eq!(
        lines.next(),
        Some(""),
        "line 2 is the (empty) execution delimiter"
    );
    let mut own: BTreeMap<String, u64> = BTreeMap::new();
    let (mut sends, mut receives) = (0, 0);
    for line in lines.clone() {
        let mut parts = line.splitn(3, ' ');
        let (at, host, rest) = (parts.next(), parts.next(), parts.next());
        assert!(at.is_some_and(|a| a.parse::<u64>().is_ok()), "{line}");
        let (host, rest) = (host.expect("a host"), rest.expect("a clock"));
        let end = rest.find('}').expect("a clock") + 1;
        let clock: BTreeMap<String, u64> = serde_json::from_str(&rest[..end]).expect("JSON");
        let event = &rest[end..];
        let count = own.entry(host.to_string()).or_insert(0);
        *count += 1;
        assert_eq!(
            clock.get(host),
            Some(&*count),
            "{host}'s own entry counts its events: {line}"
        );
        if let Some(from) = event
            .strip_prefix(" receive ")
            .and_then(|e| e.split(" from ").nth(1))
        {
            assert!(
                clock.get(from).is_some_and(|c| *c > 0),
                "a receive knows its sender: {line}"
            );
            receives += 1;
        }
        sends += usize::from(event.starts_with(" send ") && event.contains(" to "));
    }
    assert_eq!(lines.count(), events);
    assert!(
        packets.len() <= shiviz::MAX_PACKETS,
        "this run keeps every packet"
    );
    assert_eq!(sends, packets.len());
    assert_eq!(
        receives,
        packets.iter().filter(|p| p.arrives.is_some()).count()
    );
}

#[test]
fn the_report_page_is_the_same_for_the_same_seed_and_loads_nothing() {
    let scenario = common::bundled("lost-ack");
    let page = || {
        let result = run(&scenario, 3, &RunOptions { keep_trace: true });
        sim::report::html::render(&scenario, &result).expect("a page")
    };
    let first = page();
    assert!(first == page(), "two runs of one seed, two pages");
    assert!(
        !first.contains(" wall "),
        "no wall-clock figure in the page"
    );
    for outside in ["<link", " src=", "url(", "import("] {
        assert!(
            !first.contains(outside),
            "the page loads something: `{outside}`"
        );
    }
}
