//! The causal stories of transactional messages, from what producers sent and brokers did:
//! END_TRANSACTION sent and handled, the checks, and the stops between two commits.

use crate::check::index::transactions::Ended;
use crate::check::index::{Index, Transaction};
use model::event::TransactionState;

/// Who an END_TRANSACTION came from.
fn origin(from_check: bool) -> &'static str {
    match from_check {
        true => "answering a check",
        false => "after its local transaction",
    }
}

/// `the producer sent COMMIT_MESSAGE at 1.2s (to broker-a); broker-a stored it at 1.2s`.
pub(super) fn ends(index: &Index<'_>, txn: &Transaction) -> String {
    let mut parts = Vec::new();
    for sent in txn.ends_sent.iter().take(4) {
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
    for ended in txn.ended.iter().take(4) {
        parts.push(handled(ended));
    }
    if parts.is_empty() {
        return "no END_TRANSACTION was sent".into();
    }
    if txn.ended.is_empty() {
        parts.push("no broker handled any".into());
    }
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

/// `checked 15 times by broker-a (last at 901.2s); 3 found no producer of the group`.
pub(super) fn checks(index: &Index<'_>, txn: &Transaction) -> String {
    let Some(last) = txn.checks.last() else {
        return "never checked".into();
    };
    let unasked = txn.checks.iter().filter(|c| c.producer.is_none()).count();
    let answers = txn.ends_sent.iter().filter(|e| e.from_check).count();
    let asked = match last.producer {
        Some(node) => format!(", last asking {}", index.name(node)),
        None => String::new(),
    };
    format!(
        "checked {} times by {} (last at {}{asked}); {unasked} found no producer of the group; \
         {answers} answered",
        txn.checks.len(),
        last.broker,
        last.at
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
    copies: usize,
) -> (Option<&'static str>, String) {
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
    let checked = puts.iter().filter(|e| e.from_check).count();
    let cause = if checked > 0 && checked < puts.len() {
        Some((
            "check_raced_commit",
            "a check-back's commit and the producer's own both stored it (#8158)",
        ))
    } else if checked == 0 {
        Some((
            "repeated_commit",
            "END_TRANSACTION committed it twice: the broker keeps no state of resolved halves (#5574)",
        ))
    } else {
        op_lost(index, &puts).map(|why| ("op_lost", why))
    };
    match cause {
        Some((name, why)) => (Some(name), format!("{stored}: {why}; {told}")),
        None => (
            None,
            format!(
                "{stored}: two check-backs committed it, and nothing lost the first one's op message; {told}"
            ),
        ),
    }
}

/// Two check-backs both committed: a stop of the broker between them may have lost the first
/// one's op message (it sits behind the real message in the page cache).
fn op_lost(index: &Index<'_>, puts: &[&Ended]) -> Option<&'static str> {
    let (first, second) = (puts[0], puts[1]);
    let timeline = index.brokers.timelines.get(&first.node?)?;
    let stopped = timeline
        .stops
        .iter()
        .any(|(at, _)| *at >= first.at && *at <= second.at);
    stopped.then_some("the broker stopped after the first check-back's commit and lost its op message, so the half was checked and committed again")
}

pub(super) fn discarded(txn: &Transaction, times: u32) -> String {
    let answers: Vec<&str> = (txn.ends_sent.iter())
        .filter(|e| e.from_check)
        .map(|e| e.state.name())
        .collect();
    let (broker, offset) = &txn.discarded[0];
    format!(
        "checked {times} times without a decision (answers: {}); discarded to \
         TRANS_CHECK_MAX_TIME_TOPIC on {broker} at offset {offset}",
        if answers.is_empty() {
            "none".to_string()
        } else {
            answers.join(", ")
        }
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
