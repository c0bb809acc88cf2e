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
    run(
        &scenario,
        seed,
        &RunOptions {
            keep_trace: true,
            ..RunOptions::default()
        },
    )
    .result
    .expect("the run finishes")
}

/// One EDN value of the subset `history.edn` writes: strings, integers, keywords, nil.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Edn {
    Str(String),
    Int(i64),
    Keyword(String),
    Nil,
}

/// Reads one line of `history.edn`: an EDN map of keywords to values, commas as whitespace
/// (as EDN has them). Panics, naming the line, on anything else.
fn read_map(line: &str) -> BTreeMap<String, Edn> {
    let mut chars = line.trim().chars().peekable();
    assert_eq!(chars.next(), Some('{'), "{line}");
    let mut map = BTreeMap::new();
    let skip = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
    };
    let token = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut text = String::new();
        while let Some(c) = chars
            .peek()
            .copied()
            .filter(|c| !c.is_whitespace() && *c != ',' && *c != '}')
        {
            text.push(c);
            chars.next();
        }
        text
    };
    loop {
        skip(&mut chars);
        if chars.peek() == Some(&'}') {
            chars.next();
            break;
        }
        let key = token(&mut chars);
        let key = key
            .strip_prefix(':')
            .unwrap_or_else(|| panic!("a keyword key in {line}"));
        skip(&mut chars);
        let value = if chars.peek() == Some(&'"') {
            chars.next();
            let mut text = String::new();
            loop {
                match chars
                    .next()
                    .unwrap_or_else(|| panic!("an unclosed string in {line}"))
                {
                    '"' => break,
                    '\\' => text.push(match chars.next() {
                        Some('n') => '\n',
                        Some(c) => c,
                        None => panic!("a dangling escape in {line}"),
                    }),
                    c => text.push(c),
                }
            }
            Edn::Str(text)
        } else {
            let text = token(&mut chars);
            match text.as_str() {
                "nil" => Edn::Nil,
                t if t.starts_with(':') => Edn::Keyword(t[1..].to_string()),
                t => Edn::Int(t.parse().unwrap_or_else(|_| panic!("`{t}` in {line}"))),
            }
        };
        assert!(
            map.insert(key.to_string(), value).is_none(),
            "{key} twice in {line}"
        );
    }
    assert!(chars.next().is_none(), "text after the map: {line}");
    map
}

/// Reads `history.edn` of a run: every line a map, indexed from 0, in time order, every
/// completion after its invoke; the completions of each `:f` by `:type`.
fn read_edn(run: &Finished) -> BTreeMap<(String, String), usize> {
    let mut bytes = Vec::new();
    let lines = edn::write(&run.outcome.history, &mut bytes).expect("written");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(text.lines().count(), lines);
    let (mut counts, mut open) = (BTreeMap::new(), BTreeMap::<String, usize>::new());
    let mut last_time = 0;
    for (index, line) in text.lines().enumerate() {
        let op = read_map(line);
        assert_eq!(op["index"], Edn::Int(index as i64), "{line}");
        let Edn::Int(time) = op["time"] else {
            panic!("a time in {line}")
        };
        assert!(time >= last_time, "time goes back at {line}");
        last_time = time;
        let (Edn::Keyword(kind), Edn::Keyword(f)) = (&op["type"], &op["f"]) else {
            panic!("a :type and an :f in {line}");
        };
        assert!(matches!(op["process"], Edn::Int(_)), "{line}");
        if f == "enqueue" {
            let Edn::Str(id) = &op["value"] else {
                panic!("a message id in {line}")
            };
            let waiting = open.entry(id.clone()).or_default();
            if kind == "invoke" {
                *waiting += 1;
            } else {
                assert!(*waiting > 0, "a completion without its invoke: {line}");
                *waiting -= 1;
            }
        }
        *counts.entry((f.clone(), kind.clone())).or_insert(0) += 1;
    }
    counts
}

/// How many history entries of each kind the run recorded, by the name `read_edn` counts.
fn recorded(run: &Finished, name: &str) -> usize {
    (run.outcome.history.entries())
        .filter(|entry| {
            let Some(event) = entry.model() else {
                return false;
            };
            match (name, event) {
                ("send", Event::SendInvoke { .. }) => true,
                ("ok", Event::SendOk { .. }) => true,
                (
                    "consumed",
                    Event::Delivered {
                        id: Some(_),
                        consumed,
                        ..
                    },
                ) => *consumed,
                ("rollback", Event::TransactionDecided { state, .. }) => {
                    *state == model::event::TransactionState::Rollback
                }
                _ => false,
            }
        })
        .count()
}

#[test]
fn the_edn_history_parses_and_has_every_send_and_every_consumed_message() {
    let run = finished("consumer-crash", 1);
    let counts = read_edn(&run);
    let count = |f: &str, kind: &str| counts.get(&(f.into(), kind.into())).copied().unwrap_or(0);
    assert_eq!(count("enqueue", "invoke"), recorded(&run, "send"));
    assert_eq!(count("enqueue", "ok"), recorded(&run, "ok"));
    assert_eq!(count("dequeue", "ok"), recorded(&run, "consumed"));
    assert_eq!(count("dequeue", "invoke"), count("dequeue", "ok"));
    assert!(count("dequeue", "ok") > 0);
}

#[test]
fn a_rolled_back_transaction_is_a_failed_enqueue() {
    let run = finished("transaction-lost-end", 7);
    let counts = read_edn(&run);
    let count = |f: &str, kind: &str| counts.get(&(f.into(), kind.into())).copied().unwrap_or(0);
    assert!(recorded(&run, "rollback") > 0, "seed 7 rolls some back");
    assert_eq!(count("enqueue", "fail"), recorded(&run, "rollback"));
    assert!(count("enqueue", "invoke") >= count("enqueue", "ok") + count("enqueue", "fail"));
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
        let result = run(
            &scenario,
            3,
            &RunOptions {
                keep_trace: true,
                ..RunOptions::default()
            },
        );
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
