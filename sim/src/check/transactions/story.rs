//! The causal stories of transactional messages, from what producers sent and brokers did:
//! END_TRANSACTION sent and handled, the checks, and the stops between two commits.

use crate::check::index::transactions::{Checked, Ended};
use crate::check::index::{Index, Record, Transaction};
use crate::history::Stop;
use model::Time;
use model::event::TransactionState;

/// Who an END_TRANSACTION came from.
fn origin(from_check: bool) -> &'static str {
    match from_check {
        true => "answering a check",
        false => "after its local transaction",
    }
}

/// `the producer sent COMMIT_MESSAGE at 1.2s after its local transaction (to broker-a);
/// answers to checks: 2 UNKNOW; broker-a put it at 61.5s ...`.
pub(super) fn ends(index: &Index<'_>, txn: &Transaction) -> String {
    let mut parts = Vec::new();
    for sent in txn.ends_sent.iter().filter(|e| !e.from_check).take(4) {
        let to = sent
            .to
            .map_or("no master known".to_string(), |n| index.name(n).to_string());
        let from = origin(sent.from_check);
        parts.push(format!(
            "the producer sent {} at {} {from} (to {to})",
            sent.state.name(),
            sent.at
        ));
    }
    if let Some(answers) = check_answers(txn) {
        parts.push(format!("answers to checks: {answers}"));
    }
    let acted = txn
        .ended
        .iter()
        .filter(|e| e.state != TransactionState::Unknown);
    let acted: Vec<String> = acted.take(4).map(handled).collect();
    if parts.is_empty() {
        parts.push("no END_TRANSACTION was sent".into());
    }
    if acted.is_empty() {
        parts.push("no broker committed or rolled it back".into());
    }
    parts.extend(acted);
    parts.join("; ")
}

/// `broker-a committed it at 1.2s (commitlog 4096)`, or why it did nothing.
fn handled(ended: &Ended) -> String {
    let from = origin(ended.from_check);
    match (&ended.put, &ended.refused) {
        (Some((offset, _)), _) => format!(
            "{} put it at {} on {} {from} (commitlog {offset})",
            ended.broker,
            ended.at,
            ended.state.name()
        ),
        (None, Some(why)) => format!(
            "{} refused {} at {}: {why}",
            ended.broker,
            ended.state.name(),
            ended.at
        ),
        (None, None) => format!("{} rolled it back at {} {from}", ended.broker, ended.at),
    }
}

/// How often each name occurs, in name order.
fn tally<'a>(names: impl Iterator<Item = &'a str>) -> std::collections::BTreeMap<&'a str, u32> {
    let mut counts = std::collections::BTreeMap::new();
    for name in names {
        *counts.entry(name).or_default() += 1;
    }
    counts
}

/// `2 UNKNOW, 1 COMMIT_MESSAGE`: the producers' answers to checks, if there were any.
fn check_answers(txn: &Transaction) -> Option<String> {
    let answers = txn.ends_sent.iter().filter(|e| e.from_check);
    let counts = tally(answers.map(|e| e.state.name()));
    let counts: Vec<String> = counts
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    (!counts.is_empty()).then(|| counts.join(", "))
}

/// `checked 15 times by broker-a (last at 901.2s), asking order-producer-1 15 times`.
pub(super) fn checks(index: &Index<'_>, txn: &Transaction) -> String {
    let Some(last) = txn.checks.last() else {
        return "never checked".into();
    };
    let asked = (txn.checks.iter()).map(|check| {
        check
            .producer
            .map_or("no producer of the group", |n| index.name(n))
    });
    let asked: Vec<String> = (tally(asked).iter())
        .map(|(who, n)| format!("{who} {n} times"))
        .collect();
    format!(
        "checked {} times by {} (last at {}), asking {}",
        txn.checks.len(),
        last.broker,
        last.at,
        asked.join(", ")
    )
}

pub(super) fn phantom(
    index: &Index<'_>,
    txn: &Transaction,
    decided: Option<TransactionState>,
) -> String {
    let decided = match decided {
        Some(state) => format!("the application decided {}", state.name()),
        None => "the application never decided".into(),
    };
    format!(
        "{decided}, yet the message is visible; {}",
        ends(index, txn)
    )
}

/// Why a message is stored twice: (the cause's name, the story).
pub(super) fn duplicate(
    index: &Index<'_>,
    txn: &Transaction,
    record: &Record,
) -> (Option<&'static str>, String) {
    let copies = record.copies.len();
    let puts: Vec<&Ended> = txn.ended.iter().filter(|e| e.put.is_some()).collect();
    let told = ends(index, txn);
    let stored = format!("stored {copies} times in its topic");
    if puts.len() < 2 {
        return (
            None,
            format!(
                "{stored}, but only {} commit was handled; {told}",
                puts.len()
            ),
        );
    }
    if let Some(why) = half_stored_twice(record, &puts) {
        return (
            Some("half_stored_twice"),
            format!("{stored}: {why}; {told}"),
        );
    }
    let checked = puts.iter().filter(|e| e.from_check).count();
    // The race: a check read the op queue before the op message of the producer's own commit
    // was dispatched (`REPUT_DELAY_MS` after the commit; a check in that millisecond may run
    // first).
    let own_commit = puts.iter().find(|e| !e.from_check).map(|e| e.at);
    let dispatched = own_commit.map(|at| at.plus_ms(crate::check::spec::REPUT_INTERVAL_MS));
    let raced = dispatched.is_some_and(|at| txn.checks.iter().any(|c| c.at <= at));
    let cause = if checked == 0 {
        let why = "END_TRANSACTION committed it twice: the broker keeps no state of resolved \
                   halves (#5574)";
        Some(("repeated_commit", why.to_string()))
    } else if checked < puts.len() && raced {
        let why = "a check-back's commit and the producer's own both stored it (#8158)";
        Some(("check_raced_commit", why.to_string()))
    } else {
        check_replay(index, txn, &puts)
    };
    match cause {
        Some((name, why)) => (Some(name), format!("{stored}: {why}; {told}")),
        None => (
            None,
            format!(
                "{stored}: a check-back committed it again, although nothing lost the earlier commit's \
                 op message; {told}"
            ),
        ),
    }
}

/// A failed attempt of the half's send reached a broker that committed: that attempt stored
/// a half too (its answer was lost), the producer's retry or resend stored another (on
/// another broker, or on the same one), and each half was committed on its own.
fn half_stored_twice(record: &Record, puts: &[&Ended]) -> Option<String> {
    let acked = &record.ok.as_ref()?.broker;
    let committed_on = |broker: &str| puts.iter().any(|e| e.broker == broker);
    let mut failed = record.attempts().iter();
    let (at, broker, error) = failed.find(|(_, broker, _)| committed_on(broker))?;
    let second = match broker == &**acked {
        true => format!("a second half on {acked} itself"),
        false => format!("a second half on {acked}"),
    };
    Some(format!(
        "an attempt of the half's send to {broker} failed at {at} ({error}) after {broker} had \
         stored it; the producer's retry stored {second}, and each half was committed"
    ))
}

/// Two check-backs both committed. The first commit stayed on a master an operator replaced
/// by a slave that never received it (`failover`). Or the broker asked about one half twice (the same copy
/// number) across a stop: its check progress went back, since the `CID_RMQ_SYS_TRANS`
/// offsets are persisted every 5 s without an fsync. Or a power loss between the two commits
/// took the first one's op message with the page cache (a kill or a clean stop keeps it). Or
/// a round after a stop asked about the half and its earlier copy at once.
fn check_replay(
    index: &Index<'_>,
    txn: &Transaction,
    puts: &[&Ended],
) -> Option<(&'static str, String)> {
    const REGRESSED: &str = "check_progress_regressed";
    let (first, second) = (puts[0], puts[1]);
    if let Some(why) = super::failover::commit_left_behind(index, first, second) {
        return Some(("commit_not_replicated", why));
    }
    let timeline = index.brokers.timelines.get(&first.node?)?;
    let stops = |from: Time, to: Time| {
        (timeline.stops.iter())
            .filter(move |(at, _)| *at >= from && *at <= to)
            .map(|(_, how)| *how)
    };
    let checks: Vec<&Checked> = txn
        .checks
        .iter()
        .filter(|c| c.broker == first.broker)
        .collect();
    let asked_again = checks.iter().enumerate().any(|(i, earlier)| {
        checks[i + 1..]
            .iter()
            .any(|later| later.times == earlier.times && stops(earlier.at, later.at).count() > 0)
    });
    if asked_again {
        let why = "the broker restarted with an older check progress (the CID_RMQ_SYS_TRANS \
                   offsets are persisted every 5 s without an fsync), so it asked about a half it \
                   had asked about before, and both answers committed it";
        return Some((REGRESSED, why.to_string()));
    }
    if stops(first.at, second.at).any(|how| matches!(how, Stop::PowerOff | Stop::OsCrash)) {
        let why = "the broker lost power after the first check-back's commit and its op message \
                   with the page cache, so the half was checked and committed again";
        return Some(("op_lost", why.to_string()));
    }
    let round = (checks.iter())
        .filter(|c| c.at <= second.at)
        .map(|c| c.at)
        .max()?;
    let in_round = checks.iter().filter(|c| c.at == round).count();
    let earlier = checks.iter().map(|c| c.at).min()?;
    (in_round > 1 && stops(earlier, round).count() > 0).then_some((
        REGRESSED,
        "the broker restarted with an older check progress (the CID_RMQ_SYS_TRANS offsets are \
         persisted every 5 s without an fsync), so one round checked the half and its earlier \
         copy, and both answers committed it"
            .to_string(),
    ))
}

pub(super) fn discarded(txn: &Transaction, times: u32) -> String {
    let answers = check_answers(txn).unwrap_or_else(|| "none".into());
    let first = txn
        .checks
        .first()
        .map_or(String::new(), |c| format!(" from {}", c.at));
    let (broker, offset) = &txn.discarded[0];
    format!(
        "checked {times} times{first} without a decision (answers: {answers}); discarded to \
         TRANS_CHECK_MAX_TIME_TOPIC on {broker} at offset {offset}"
    )
}

pub(super) fn repaired(txn: &Transaction, repair: &Ended) -> String {
    let own = txn.ends_sent.iter().find(|e| !e.from_check);
    let first = match own {
        Some(sent) => format!(
            "the producer's {} at {} never took effect",
            sent.state.name(),
            sent.at
        ),
        None => "the producer sent no END_TRANSACTION of its own".into(),
    };
    let check = txn.checks.iter().rfind(|c| c.at <= repair.at);
    let check = check.map_or(String::new(), |c| {
        format!("; check-back #{} at {}", c.times, c.at)
    });
    format!(
        "{first}{check} was answered COMMIT_MESSAGE, and {} put it at {}",
        repair.broker, repair.at
    )
}
