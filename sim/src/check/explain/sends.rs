//! The stories of a message's sends: its failed attempts, why it was stored twice, why a
//! message whose sends all failed is stored anyway.

use crate::check::index::{Index, Record};

/// A DLedger leader that waited `maxWaitAckTimeMs` for a quorum answers SYSTEM_ERROR
/// (WAIT_QUORUM_ACK_TIMEOUT) and the producer retries, while the entry stays in the leader's
/// log and may still commit: the message is stored twice.
pub(in crate::check) const TIMED_OUT_APPEND_COMMITTED: &str = "timed_out_append_committed";

/// The attempt a DLedger leader answered SYSTEM_ERROR after waiting for its quorum, if one
/// of the message's attempts was, with a sentence saying what became of it.
pub(in crate::check) fn quorum_timeout(index: &Index<'_>, r: &Record) -> Option<String> {
    let (at, broker, _) = (r.attempts().iter()).find(|(_, broker, error)| {
        index.logs.is_dledger(broker) && error.contains("SYSTEM_ERROR")
    })?;
    Some(format!(
        "; {broker} answered the attempt at {at} SYSTEM_ERROR after waiting for a quorum \
         (WAIT_QUORUM_ACK_TIMEOUT, or TERM_CHANGED when its leader led again), the producer \
         retried, and the entry stayed in the log and committed"
    ))
}

fn describe_attempts(r: &Record) -> String {
    let attempts: Vec<String> = r
        .attempts()
        .iter()
        .map(|(at, broker, error)| format!("{at} {broker}: {error}"))
        .collect();
    if attempts.is_empty() {
        String::new()
    } else {
        format!("failed attempts: {}", attempts.join("; "))
    }
}

pub(in crate::check) fn explain_duplicate(r: &Record) -> String {
    let copies: Vec<String> = r
        .copies
        .iter()
        .map(|c| format!("{}/{}@{}", c.broker, c.queue_id, c.queue_offset))
        .collect();
    let mut story = format!("stored {} times ({})", r.copies.len(), copies.join(", "));
    if r.invokes > 1 {
        story.push_str(&format!("; the application sent it {} times", r.invokes));
    }
    let attempts = describe_attempts(r);
    if !attempts.is_empty() {
        story.push_str("; ");
        story.push_str(&attempts);
    }
    story
}

pub(in crate::check) fn explain_recovered(r: &Record) -> String {
    let ending = match r.last_error() {
        Some((at, error)) => format!("its send ended at {at} with `{error}`"),
        None => "its send never ended (the producer stopped)".to_string(),
    };
    let copy = &r.copies[0];
    let mut story = format!(
        "{ending}, yet it is stored at {}/{}@{}",
        copy.broker, copy.queue_id, copy.queue_offset
    );
    let attempts = describe_attempts(r);
    if !attempts.is_empty() {
        story.push_str("; ");
        story.push_str(&attempts);
    }
    story
}
