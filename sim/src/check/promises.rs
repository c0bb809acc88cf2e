//! `broken_promises`: a SEND_OK whose promise did not hold when it was made. Under SYNC_FLUSH
//! the record must be on the answering machine's media; under SYNC_MASTER another machine of
//! its group must hold the record's bytes; a DLedger leader's SEND_OK needs a quorum of its
//! group's members (itself counted) holding them in their entry data files. Judged from what the harness read off the disks at
//! the moment of the answer (`index::promises`), so a broker that acknowledges early fails the
//! run in every seed where it does, whether or not a later fault would expose the loss.

use super::index::{Answer, Held, Index};
use super::{Anomaly, AnomalyKind, SendCounts};
use crate::scenario::limits::thousands as grouped;
use model::Time;

pub(super) fn judge(index: &Index<'_>, counts: &mut SendCounts, anomalies: &mut Vec<Anomaly>) {
    for answer in &index.promises.answers {
        let held = index.promises.held(answer);
        let Some(Broken { story, cause }) = broken(index, answer, held) else {
            continue;
        };
        counts.broken_promises += 1;
        let anomaly = Anomaly::new(
            AnomalyKind::BrokenPromise,
            Some(answer.id),
            answer.at,
            story,
        );
        match cause {
            Some(cause) => anomalies.push(anomaly.because(cause)),
            None => {
                counts.broken_promises_unexplained += 1;
                anomalies.push(anomaly);
            }
        }
    }
}

/// A promise that did not hold: why, and the known mechanism that breaks it, if one does.
struct Broken {
    story: String,
    cause: Option<&'static str>,
}

/// 4.9.8's SYNC_MASTER counts the offset a slave reports, never its bytes: a slave whose log
/// went another way (its master came back with less, after a power loss or with an empty
/// disk) reports an offset past the record while holding other bytes there.
const DIVERGED_REPLICA: &str = "diverged_replica";

/// A slave (or a DLedger follower) reports what it wrote to its page cache, not what it
/// flushed: a power loss between its report and the answer takes the record away again.
const REPLICA_LOST_POWER: &str = "replica_lost_power";

/// A machine of the group that lost its page cache (power or disk) between the message's
/// first send and the answer: its name and when.
fn replica_lost_power(index: &Index<'_>, answer: &Answer, held: &Held) -> Option<(String, Time)> {
    let record = index.sends.record(answer.id)?;
    let since = record.first_invoke()?;
    held.replicas.iter().find_map(|replica| {
        let timeline = index.brokers.timelines.get(&replica.node)?;
        let mut stops = timeline.stops.iter();
        let lost =
            stops.find(|(at, how)| (since..=held.at).contains(at) && how.loses_page_cache())?;
        Some((index.name(replica.node).to_string(), lost.0))
    })
}

/// Why the answer's promise did not hold, if it did not.
fn broken(index: &Index<'_>, answer: &Answer, held: Option<&Held>) -> Option<Broken> {
    let end = answer.offset + u64::from(answer.size);
    let node = index.name(answer.store_host);
    let Some(held) = held else {
        let story = format!(
            "SEND_OK at {} names commitlog offset {} of {node}, which answered no SEND_OK for it",
            answer.at,
            grouped(answer.offset)
        );
        return Some(Broken { story, cause: None });
    };
    let record = format!(
        "SEND_OK at {} for commitlog {}..{} on {node}",
        held.at,
        grouped(answer.offset),
        grouped(end)
    );
    if answer.promise.flushed && held.media < end {
        let media = grouped(held.media);
        let story = format!("{record} under SYNC_FLUSH; its media held it only up to {media}");
        return Some(Broken { story, cause: None });
    }
    let holding = (held.replicas.iter())
        .filter(|replica| replica.upto >= end)
        .count();
    if holding >= answer.promise.replicas {
        return None;
    }
    let replicas = held.replicas.iter().map(|replica| {
        let name = index.name(replica.node);
        let upto = grouped(replica.upto);
        match replica.diverged {
            true => format!("{name} held it up to {upto}, other bytes after"),
            false => format!("{name} held it up to {upto}"),
        }
    });
    let replicas = replicas.collect::<Vec<_>>().join(", ");
    let story = match answer.promise.quorum {
        false => format!(
            "{record} under SYNC_MASTER; no other machine of the group held it then ({replicas})"
        ),
        true => format!(
            "{record} as a DLedger leader; {holding} other member(s) held it then, a quorum \
             needs {} ({replicas})",
            answer.promise.replicas
        ),
    };
    if let Some((slave, at)) = replica_lost_power(index, answer, held) {
        let story = format!(
            "{story}: {slave} lost power at {at}, after the record reached it and before the \
             answer; a replica acknowledges what is in its page cache"
        );
        return Some(Broken {
            story,
            cause: Some(REPLICA_LOST_POWER),
        });
    }
    if !answer.promise.quorum && held.replicas.iter().any(|replica| replica.diverged) {
        let story = format!(
            "{story}: the slave's log and the master's went separate ways, and SYNC_MASTER \
             trusts the offset a slave reports, never its bytes"
        );
        return Some(Broken {
            story,
            cause: Some(DIVERGED_REPLICA),
        });
    }
    Some(Broken { story, cause: None })
}
