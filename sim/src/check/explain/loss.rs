//! Why an acknowledged message is gone: the durability model. A loss is explained by a stop
//! or disk fault the harness applied (kill with the transient pool, power loss before the
//! flush reached the message, a lost disk, a rotted byte that recovery cut at) and, in a group
//! with slaves, by every slave that reported holding the message losing its copy as well (or
//! by a report 4.9.8 trusts that claimed more than the slave had, #3015).

use crate::check::index::{Ack, BrokerTimeline, Index};
use crate::history::Stop;
use model::time::format_ms;
use model::{NodeId, Time};

/// `acked SEND_OK at 1.234s (broker-a queue 2 offset 17, commitlog 4096)`.
pub(in crate::check) fn describe_ack(ack: &Ack) -> String {
    format!(
        "acked {} at {} ({} queue {} offset {}, commitlog {})",
        ack.status.name(),
        ack.at,
        ack.broker,
        ack.queue_id,
        ack.queue_offset,
        ack.commit_log_offset
    )
}

/// Why an acknowledged message is gone, from the timelines of its group's nodes (from its
/// entry's holders in a DLedger group).
pub(in crate::check) fn loss_cause(index: &Index<'_>, ack: &Ack) -> Option<String> {
    if let Some(cause) = super::entry_loss::entry_loss(index, ack) {
        return cause;
    }
    if let Some(story) = super::passed_over::never_redispatched(index, ack) {
        return Some(story);
    }
    let timelines = &index.brokers.timelines;
    explain_loss(ack, timelines.get(&ack.store_host), &|node| {
        let name = index.scenario.nodes.get(node.index())?.name.as_str();
        timelines.get(&node).map(|timeline| (timeline, name))
    })
}

/// A broker node's timeline and name, by node.
pub(in crate::check) type Timelines<'a> =
    dyn Fn(NodeId) -> Option<(&'a BrokerTimeline, &'a str)> + 'a;

/// Why an acknowledged message is gone, if the durability model explains it. `slaves` finds
/// the timelines of the slaves that reported holding it: their copies must be gone too.
pub(in crate::check) fn explain_loss(
    ack: &Ack,
    timeline: Option<&BrokerTimeline>,
    slaves: &Timelines<'_>,
) -> Option<String> {
    let timeline = timeline?;
    if let Some(story) = rotted(ack, timeline) {
        return Some(story);
    }
    // The ack may still be on its way when the broker goes down: any stop after the send began
    // may have been the one that lost it.
    for (at, how) in timeline.stops.iter().filter(|(at, _)| *at >= ack.sent_at()) {
        let replica = match replica_story(ack, timeline, (*at, *how), slaves) {
            Replica::Story(story) => story,
            Replica::NotThisStop => continue,
            Replica::Survived => return None,
        };
        match stop_story(ack, timeline, (*at, *how), &replica) {
            Found::Cause(story) => return Some(story),
            Found::Nothing => return None,
            Found::Later => {}
        }
    }
    None
}

/// A rotted byte ends the next recovery at the damaged record: the log is cut at or before
/// the byte, and everything past the cut is gone.
fn rotted(ack: &Ack, timeline: &BrokerTimeline) -> Option<String> {
    timeline.corruptions.iter().find_map(|(rotted_at, offset)| {
        let later = (*rotted_at).max(ack.sent_at());
        let recoveries = &timeline.recoveries;
        let (recovered_at, _, cut) = recoveries.iter().find(|(at, _, _)| *at >= later)?;
        (cut <= offset && *cut <= ack.commit_log_offset).then(|| {
            format!(
                "a byte of {}'s commitlog at offset {offset} rotted at {rotted_at}; recovery at \
                 {recovered_at} stopped at the damaged record (offset {cut}) and cut everything \
                 after it",
                ack.broker
            )
        })
    })
}

/// What the slaves of a master that stopped had of the message.
enum Replica {
    /// The part of the story that tells it (empty without slaves).
    Story(String),
    /// A slave had it and this stop cannot have taken the master's copy: look at later stops.
    NotThisStop,
    /// A slave had it and kept it: nothing explains the loss.
    Survived,
}

/// With slaves, what a slave holds survives the master: the loss needs both.
fn replica_story(
    ack: &Ack,
    timeline: &BrokerTimeline,
    (at, how): (Time, Stop),
    slaves: &Timelines<'_>,
) -> Replica {
    if !timeline.replicated_group {
        return Replica::Story(String::new());
    }
    let reports = timeline.replicated.iter().take_while(|(t, ..)| *t <= at);
    let furthest = reports.max_by_key(|(_, offset, _)| *offset);
    let (reported_at, reported) = furthest.map_or((Time::ZERO, 0), |(t, o, _)| (*t, *o));
    let starts = timeline.replica_starts.iter().take_while(|(t, _)| *t <= at);
    let since = starts.last().map(|(_, offset)| *offset);
    let end = ack.commit_log_offset + u64::from(ack.size);
    let started_before = since.is_some_and(|since| since <= ack.commit_log_offset);
    if started_before && reported >= end {
        if !how.loses_page_cache() {
            return Replica::NotThisStop;
        }
        // A slave had it: the loss needs every such slave's copy gone as well.
        return match slave_copies_lost(timeline, (ack.sent_at(), at), end, slaves) {
            Some(story) => Replica::Story(story),
            None => Replica::Survived,
        };
    }
    let story = if let Some(since) = since.filter(|since| *since > ack.commit_log_offset) {
        format!(
            "; its slave's copy of the log begins at offset {since} (a new slave starts at the \
             beginning of the master's last file), so it never had this message"
        )
    } else if reported == 0 || since.is_none() {
        "; no slave had reported holding any of it".to_string()
    } else {
        format!(
            "; its slaves had reported holding the log only up to offset {reported} (at \
             {reported_at}, {} bytes short of the message's end)",
            end - reported
        )
    };
    Replica::Story(story)
}

/// What one stop of the master says about the loss.
enum Found {
    Cause(String),
    /// The stop could not have lost it, and no later one counts (a power loss after the flush).
    Nothing,
    /// This stop kept the message (the page cache survives a kill): look at later ones.
    Later,
}

/// Whether the master's stop at `at` lost the message; `replica` is the slaves' part.
fn stop_story(
    ack: &Ack,
    timeline: &BrokerTimeline,
    (at, how): (Time, Stop),
    replica: &str,
) -> Found {
    let flushes = timeline.flushes.iter().take_while(|(t, _)| *t <= at);
    let (flushed_at, flushed_to) = flushes.last().map_or((Time::ZERO, 0), |(t, o)| (*t, *o));
    let recovery = (timeline.recoveries.iter())
        .find(|(recovered_at, _, _)| *recovered_at >= at)
        .filter(|(_, cut, _)| *cut > 0)
        .map(|(_, cut, _)| {
            format!("; on restart, recovery cut {cut} torn bytes from the log's tail")
        })
        .unwrap_or_default();
    let broker = &ack.broker;
    match how {
        Stop::DiskLoss => Found::Cause(format!(
            "{broker} lost its disk at {at}, and every message with it{replica}"
        )),
        Stop::PowerOff | Stop::OsCrash if ack.commit_log_offset >= flushed_to => {
            let last_flush = if flushed_to == 0 {
                "no flush had completed yet".to_string()
            } else {
                format!(
                    "its last flush before that, at {flushed_at}, had reached commitlog offset \
                     {flushed_to}"
                )
            };
            let when = if at >= ack.at {
                format!("{} after the ack", format_ms(at.ms_since(ack.at)))
            } else {
                "while the ack was on its way".to_string()
            };
            let lost = match how {
                Stop::OsCrash => "'s OS crashed",
                _ => " lost power",
            };
            Found::Cause(format!(
                "{broker}{lost} at {at} ({when}); {last_flush}: the message was only in the \
                 page cache{replica}{recovery}"
            ))
        }
        // Flushed before the stop: lost only if the machine never came back to be read.
        Stop::PowerOff | Stop::OsCrash if timeline.recoveries.iter().all(|r| r.0 < at) => {
            Found::Cause(format!(
                "{broker} went down at {at} ({}) and never came back (`returns = false`): its \
                 disk, holding the message, was never read again{replica}",
                how.name()
            ))
        }
        Stop::PowerOff | Stop::OsCrash => Found::Nothing,
        Stop::Kill if timeline.transient_pool => Found::Cause(format!(
            "{broker} was killed at {at}; with transientStorePoolEnable the message was still in \
             the write buffer, outside the page cache that survives a kill{replica}{recovery}"
        )),
        // The page cache survives a kill, and a clean shutdown commits the write buffers
        // first: look for a later stop.
        Stop::Kill | Stop::Shutdown => Found::Later,
    }
}

/// Each slave's first report of holding the log up to `end`, made after `since` and by `by`:
/// (slave, when, offset reported).
fn holders(
    master: &BrokerTimeline,
    (since, by): (Time, Time),
    end: u64,
) -> Vec<(NodeId, Time, u64)> {
    let mut holders: Vec<(NodeId, Time, u64)> = Vec::new();
    let reports = master.replicated.iter().take_while(|(at, ..)| *at <= by);
    for (at, offset, slave) in reports.filter(|(at, ..)| *at > since) {
        if *offset >= end && !holders.iter().any(|(s, ..)| s == slave) {
            holders.push((*slave, *at, *offset));
        }
    }
    holders
}

/// How every slave that reported holding the log up to `end` by `by` lost its copy, if each
/// did: its disk, or a power loss before its own flush reached `end`, at any time after the
/// send began at `sent_at` (a report can arrive after the slave that sent it died).
fn slave_copies_lost(
    master: &BrokerTimeline,
    (sent_at, by): (Time, Time),
    end: u64,
    slaves: &Timelines<'_>,
) -> Option<String> {
    // Only reports to the master's incarnation that took the send count (from its last stop
    // before the send): a restarted master trusts what its own connections report, not what
    // its earlier process heard.
    let stops = master.stops.iter().map(|(at, _)| *at);
    let answered_since = stops.filter(|at| *at < sent_at).max().unwrap_or(Time::ZERO);
    let mut holders = holders(master, (answered_since, by), end);
    if holders.is_empty() {
        holders = self::holders(master, (Time::ZERO, by), end);
    }
    let mut stories = Vec::new();
    for (slave, since, offset) in holders {
        let (timeline, name) = slaves(slave)?;
        if since < sent_at {
            // The report came before the message existed: it claimed the slave's own log.
            stories.push(format!(
                "; its slave {name} had reported holding the log up to offset {offset} at {since}, \
                 before the message was sent: 4.9.8 trusts a connection's first report as it is \
                 (#3015), so SYNC_MASTER counted a copy the slave never had"
            ));
            continue;
        }
        let story = copy_lost(timeline, sent_at, end)?;
        stories.push(format!(
            "; its slave {name} had reported holding it at {since}, then {story}"
        ));
    }
    (!stories.is_empty()).then(|| stories.concat())
}

/// How a node that held the log up to `end` after `since` lost that part of it, if it did.
fn copy_lost(timeline: &BrokerTimeline, since: Time, end: u64) -> Option<String> {
    timeline
        .stops
        .iter()
        .filter(|(at, _)| *at >= since)
        .find_map(|(at, how)| match how {
            Stop::DiskLoss => Some(format!("lost its disk at {at}")),
            Stop::PowerOff | Stop::OsCrash => {
                let flushed_to = timeline
                    .flushes
                    .iter()
                    .take_while(|(flushed_at, _)| flushed_at <= at)
                    .map(|(_, offset)| *offset)
                    .max()
                    .unwrap_or(0);
                let lost = match how {
                    Stop::OsCrash => "crashed (OS)",
                    _ => "lost power",
                };
                (flushed_to < end)
                    .then(|| format!("{lost} at {at} with its own flush at offset {flushed_to}"))
            }
            Stop::Kill | Stop::Shutdown => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::event::SendStatus;

    const MASTER: NodeId = NodeId(1);
    const SLAVE: NodeId = NodeId(2);

    fn ms(ms: u64) -> Time {
        Time::from_ms(ms)
    }

    /// SEND_OK at 1.000s for a message at commitlog 1000..1100, sent at 0.990s.
    fn ack() -> Ack {
        Ack {
            at: ms(1_000),
            latency_ms: 10,
            status: SendStatus::SendOk,
            broker: "broker-a".into(),
            queue_id: 0,
            queue_offset: 3,
            commit_log_offset: 1_000,
            store_host: MASTER,
            size: 100,
        }
    }

    fn master(stop: Stop, flushed_to: u64) -> BrokerTimeline {
        BrokerTimeline {
            flushes: vec![(ms(500), flushed_to)],
            stops: vec![(ms(2_000), stop)],
            ..BrokerTimeline::default()
        }
    }

    fn replicated(mut timeline: BrokerTimeline, report_at: u64) -> BrokerTimeline {
        timeline.replicated_group = true;
        timeline.replica_starts = vec![(ms(100), 0)];
        timeline.replicated = vec![(ms(report_at), 1_100, SLAVE)];
        timeline
    }

    fn explain(master: &BrokerTimeline, slave: &BrokerTimeline) -> Option<String> {
        explain_loss(&ack(), Some(master), &|node| {
            (node == SLAVE).then_some((slave, "broker-a-s1"))
        })
    }

    #[test]
    fn a_power_loss_before_the_flush_explains_a_loss() {
        let story = explain(&master(Stop::PowerOff, 800), &BrokerTimeline::default());
        assert!(story.expect("explained").contains("only in the page cache"));
    }

    #[test]
    fn a_power_loss_after_the_flush_explains_nothing() {
        let mut back = master(Stop::PowerOff, 1_100);
        back.recoveries = vec![(ms(5_000), 0, 1_100)];
        assert_eq!(explain(&back, &BrokerTimeline::default()), None);
    }

    #[test]
    fn a_machine_that_never_came_back_explains_even_a_flushed_loss() {
        for stop in [Stop::PowerOff, Stop::OsCrash] {
            let story = explain(&master(stop, 1_100), &BrokerTimeline::default());
            let story = story.expect("explained");
            assert!(story.contains("never came back"), "{story}");
        }
    }

    #[test]
    fn an_os_crash_before_the_flush_explains_a_loss() {
        let story = explain(&master(Stop::OsCrash, 800), &BrokerTimeline::default());
        let story = story.expect("explained");
        assert!(story.contains("'s OS crashed at"), "{story}");
    }

    #[test]
    fn a_lost_disk_explains_a_loss() {
        let story = explain(&master(Stop::DiskLoss, 1_100), &BrokerTimeline::default());
        assert!(story.expect("explained").contains("lost its disk"));
    }

    #[test]
    fn a_slaves_copy_that_survives_leaves_the_loss_unexplained() {
        let master = replicated(master(Stop::DiskLoss, 1_100), 1_000);
        assert_eq!(explain(&master, &BrokerTimeline::default()), None);
    }

    #[test]
    fn a_slave_that_lost_its_copy_too_explains_the_loss() {
        let master = replicated(master(Stop::PowerOff, 800), 1_000);
        let slave = BrokerTimeline {
            stops: vec![(ms(995), Stop::DiskLoss)],
            ..BrokerTimeline::default()
        };
        let story = explain(&master, &slave).expect("explained");
        assert!(
            story.contains("broker-a-s1 had reported holding it"),
            "{story}"
        );
        assert!(story.contains("then lost its disk at 0.995s"), "{story}");
    }

    #[test]
    fn a_slave_that_lost_power_before_its_own_flush_explains_the_loss() {
        let master = replicated(master(Stop::DiskLoss, 1_100), 1_000);
        let slave = BrokerTimeline {
            flushes: vec![(ms(900), 1_050)],
            stops: vec![(ms(3_000), Stop::PowerOff)],
            ..BrokerTimeline::default()
        };
        let story = explain(&master, &slave).expect("explained");
        assert!(
            story.contains("with its own flush at offset 1050"),
            "{story}"
        );
    }

    #[test]
    fn a_report_to_the_masters_earlier_incarnation_is_not_quoted() {
        let mut master = replicated(master(Stop::DiskLoss, 1_100), 500);
        master.stops.insert(0, (ms(700), Stop::Kill));
        master.replicated.push((ms(800), 1_100, SLAVE));
        let story = explain(&master, &BrokerTimeline::default()).expect("explained");
        assert!(story.contains("up to offset 1100 at 0.800s"), "{story}");
    }

    #[test]
    fn a_first_report_made_before_the_send_is_named_an_over_claim() {
        let master = replicated(master(Stop::DiskLoss, 1_100), 500);
        let story = explain(&master, &BrokerTimeline::default()).expect("explained");
        assert!(story.contains("#3015"), "{story}");
    }
}
