//! The report's plots, folded from the history: per broker node the acknowledged, flushed and
//! replicated positions; replication lag; send latency p50/p99; consumer lag per group; queue
//! ownership per consumer. Every series is thinned to a few points per pixel-wide bucket.

use crate::history::{History, Recorded, SimEvent};
use crate::scenario::Scenario;
use model::event::Event;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Time buckets across the run: series keep at most three points per bucket.
const BUCKETS: u64 = 600;
/// Latency percentiles are taken per this many buckets across the run.
const LATENCY_BUCKETS: u64 = 200;
/// At most this many ownership spans are embedded.
const MAX_SPANS: usize = 20_000;

type Points = Vec<(u64, u64)>;

/// One broker node's positions in its commitlog (bytes).
#[derive(Serialize, Default)]
pub struct Positions {
    pub node: u16,
    pub acked: Points,
    /// The master's own log end, as its slaves' reports found it.
    pub written: Points,
    pub flushed: Points,
    pub replicated: Points,
}

/// A named series.
#[derive(Serialize)]
pub struct Series {
    pub label: String,
    pub points: Points,
}

/// Who owned one queue when: `[from_ms, to_ms, consumer node]`.
#[derive(Serialize)]
pub struct Ownership {
    pub queue: String,
    pub spans: Vec<(u64, u64, u16)>,
}

#[derive(Serialize, Default)]
pub struct Plots {
    pub positions: Vec<Positions>,
    pub replication_lag: Vec<Series>,
    pub latency: Vec<Series>,
    pub throughput: Vec<Series>,
    /// Spans of a second or more in which sends waited and none was acknowledged.
    pub unavailable: Vec<(u64, u64)>,
    pub consumer_lag: Vec<Series>,
    pub ownership: Vec<Ownership>,
}

pub fn plots(scenario: &Scenario, history: &History) -> Plots {
    let end = history.end().as_ms().max(1);
    let bucket = end.div_ceil(BUCKETS).max(1);
    Plots {
        positions: positions(history)
            .into_values()
            .map(|p| thin_positions(p, bucket))
            .collect(),
        replication_lag: replication_lag(scenario, history, bucket),
        latency: latency(history, end.div_ceil(LATENCY_BUCKETS).max(1)),
        throughput: throughput(history, end.div_ceil(LATENCY_BUCKETS).max(1)),
        unavailable: unavailable(history),
        consumer_lag: consumer_lag(scenario, history, bucket, end),
        ownership: ownership(history),
    }
}

fn new(node: u16) -> Positions {
    Positions {
        node,
        ..Positions::default()
    }
}

fn positions(history: &History) -> BTreeMap<u16, Positions> {
    let mut out: BTreeMap<u16, Positions> = BTreeMap::new();
    for entry in history.entries() {
        let t = entry.at.as_ms();
        let (Some(node), Some(event)) = (entry.node.map(|n| n.0), entry.model()) else {
            continue;
        };
        match event {
            Event::SendOk {
                store_host,
                commit_log_offset,
                size,
                ..
            } => {
                let p = out.entry(store_host.0).or_insert_with(|| new(store_host.0));
                let end = commit_log_offset + u64::from(*size);
                let best = p.acked.last().map_or(end, |(_, v)| end.max(*v));
                p.acked.push((t, best));
            }
            Event::Flushed { offset, .. } => {
                let p = out.entry(node).or_insert_with(|| new(node));
                p.flushed.push((t, *offset));
            }
            Event::Recovered { max_offset, .. } => {
                let p = out.entry(node).or_insert_with(|| new(node));
                p.flushed.push((t, *max_offset));
            }
            Event::Replicated {
                offset,
                master_offset,
                ..
            } => {
                let p = out.entry(node).or_insert_with(|| new(node));
                p.replicated.push((t, *offset));
                p.written.push((t, *master_offset));
            }
            _ => {}
        }
    }
    out
}

fn thin_positions(p: Positions, bucket: u64) -> Positions {
    Positions {
        node: p.node,
        acked: thin(&p.acked, bucket),
        written: thin(&p.written, bucket),
        flushed: thin(&p.flushed, bucket),
        replicated: thin(&p.replicated, bucket),
    }
}

/// Per bucket of `bucket` ms, the first, lowest, highest and last points, in time order: a
/// step or a drop inside a bucket still shows.
pub fn thin(points: &[(u64, u64)], bucket: u64) -> Points {
    let mut out: Points = Vec::new();
    let mut start = 0;
    while start < points.len() {
        let key = points[start].0 / bucket;
        let len = points[start..]
            .iter()
            .take_while(|p| p.0 / bucket == key)
            .count();
        let group = &points[start..start + len];
        let low = group
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| p.1)
            .map(|(i, _)| i);
        let high = group
            .iter()
            .enumerate()
            .max_by_key(|(_, p)| p.1)
            .map(|(i, _)| i);
        let mut picks: Vec<usize> = [Some(0), low, high, Some(len - 1)]
            .into_iter()
            .flatten()
            .collect();
        picks.sort_unstable();
        picks.dedup();
        out.extend(picks.into_iter().map(|i| group[i]));
        start += len;
    }
    out
}

/// Per master and slave: how far the slave's report trails the master's log, in bytes.
fn replication_lag(scenario: &Scenario, history: &History, bucket: u64) -> Vec<Series> {
    let mut lag: BTreeMap<(u16, u16), Points> = BTreeMap::new();
    for entry in history.entries() {
        let (
            Some(node),
            Some(Event::Replicated {
                slave,
                offset,
                master_offset,
                ..
            }),
        ) = (entry.node, entry.model())
        else {
            continue;
        };
        let points = lag.entry((node.0, slave.0)).or_default();
        points.push((entry.at.as_ms(), master_offset.saturating_sub(*offset)));
    }
    let name = |n: u16| scenario.nodes[usize::from(n)].name.clone();
    lag.into_iter()
        .map(|((master, slave), points)| Series {
            label: format!("{} -> {}", name(master), name(slave)),
            points: thin(&points, bucket),
        })
        .collect()
}

/// Send latency per bucket of invoke time: p50 and p99 of the acknowledged sends (invoke to
/// SEND_OK or a weaker status), and the longest wait of a send that failed or stayed unknown
/// (timeouts, unavailability), which acknowledged latency alone hides.
fn latency(history: &History, bucket: u64) -> Vec<Series> {
    let mut invoked: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    let mut per_bucket: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut unanswered: BTreeMap<u64, u64> = BTreeMap::new();
    for entry in history.entries() {
        let t = entry.at.as_ms();
        match entry.model() {
            Some(Event::SendInvoke { id, .. }) => {
                invoked.insert((id.producer, id.seq), t);
            }
            Some(Event::SendOk { id, .. }) => {
                if let Some(start) = invoked.remove(&(id.producer, id.seq)) {
                    per_bucket
                        .entry(start / bucket)
                        .or_default()
                        .push(t - start);
                }
            }
            Some(Event::SendFail { id, .. } | Event::SendInfo { id, .. }) => {
                if let Some(start) = invoked.remove(&(id.producer, id.seq)) {
                    let worst = unanswered.entry(start / bucket).or_default();
                    *worst = (*worst).max(t - start);
                }
            }
            _ => {}
        }
    }
    let mut p50 = Vec::new();
    let mut p99 = Vec::new();
    for (key, mut samples) in per_bucket {
        samples.sort_unstable();
        let pick = |q: usize| samples[(samples.len() * q / 100).min(samples.len() - 1)];
        p50.push((key * bucket, pick(50)));
        p99.push((key * bucket, pick(99)));
    }
    vec![
        Series {
            label: "p50".into(),
            points: p50,
        },
        Series {
            label: "p99".into(),
            points: p99,
        },
        Series {
            label: "failed or unknown (longest)".into(),
            points: (unanswered.into_iter())
                .map(|(key, ms)| (key * bucket, ms))
                .collect(),
        },
    ]
}

/// Shorter gaps between SEND_OKs are not drawn as unavailability.
const MIN_UNAVAILABLE_MS: u64 = 1_000;

/// The spans in which some send waited and no send was acknowledged, a second or longer:
/// from the last SEND_OK (or the first invoke after it) to the next SEND_OK, or to the last
/// answer when none came.
fn unavailable(history: &History) -> Vec<(u64, u64)> {
    let (mut spans, mut waiting) = (Vec::new(), 0u64);
    let mut since: Option<u64> = None;
    let mut last_answer = 0;
    for entry in history.entries() {
        let t = entry.at.as_ms();
        match entry.model() {
            Some(Event::SendInvoke { .. }) => {
                waiting += 1;
                since.get_or_insert(t);
            }
            Some(Event::SendOk { .. }) => {
                waiting = waiting.saturating_sub(1);
                if let Some(from) = since.take().filter(|from| t - from >= MIN_UNAVAILABLE_MS) {
                    spans.push((from, t));
                }
                since = (waiting > 0).then_some(t);
                last_answer = t;
            }
            Some(Event::SendFail { .. } | Event::SendInfo { .. }) => {
                waiting = waiting.saturating_sub(1);
                last_answer = t;
            }
            _ => {}
        }
    }
    if let Some(from) = since.filter(|from| last_answer.saturating_sub(*from) >= MIN_UNAVAILABLE_MS)
    {
        spans.push((from, last_answer));
    }
    spans
}

/// Acknowledged sends and consumed deliveries per second, per bucket of time; and, when a
/// broker answered some SYSTEM_BUSY (backpressure), those answers per second.
fn throughput(history: &History, bucket: u64) -> Vec<Series> {
    let mut acks: BTreeMap<u64, u64> = BTreeMap::new();
    let mut deliveries: BTreeMap<u64, u64> = BTreeMap::new();
    let mut busy: BTreeMap<u64, u64> = BTreeMap::new();
    for entry in history.entries() {
        let key = entry.at.as_ms() / bucket;
        match entry.model() {
            Some(Event::SendOk { .. }) => *acks.entry(key).or_default() += 1,
            Some(Event::Delivered { consumed: true, .. }) => {
                *deliveries.entry(key).or_default() += 1
            }
            Some(Event::SendAttemptFailed { error, .. }) if error.contains("SYSTEM_BUSY") => {
                *busy.entry(key).or_default() += 1
            }
            _ => {}
        }
    }
    let last = acks
        .keys()
        .chain(deliveries.keys())
        .max()
        .copied()
        .unwrap_or(0);
    let per_second = |counts: &BTreeMap<u64, u64>| {
        (0..=last)
            .map(|key| {
                (
                    key * bucket,
                    counts.get(&key).copied().unwrap_or(0) * 1000 / bucket,
                )
            })
            .collect()
    };
    let mut series = vec![
        Series {
            label: "acks/s".into(),
            points: per_second(&acks),
        },
        Series {
            label: "deliveries/s".into(),
            points: per_second(&deliveries),
        },
    ];
    if !busy.is_empty() {
        series.push(Series {
            label: "SYSTEM_BUSY/s".into(),
            points: per_second(&busy),
        });
    }
    series
}

/// Whether some instance of the group subscribes to the tag (the checker's own parse).
fn wants(scenario: &Scenario, group: &str, tag: Option<&str>) -> bool {
    let blocks = scenario.consumers.iter().filter(|c| c.group == group);
    let mut expressions = blocks.flat_map(|c| &c.subscriptions);
    expressions.any(|e| crate::check::Subscription::parse(e).wants(tag))
}

/// Per consumer group: messages of its topic it should see by now (acknowledged, or for a
/// transactional send, committed by its local transaction; of a tag some instance subscribes
/// to) that it has not consumed.
fn consumer_lag(scenario: &Scenario, history: &History, bucket: u64, end: u64) -> Vec<Series> {
    let buckets = (end / bucket + 1) as usize;
    let mut acked: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut consumed: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut seen: BTreeSet<(&str, u32, u32)> = BTreeSet::new();
    // Each message's topic and tag.
    let mut topics: BTreeMap<(u32, u32), (String, Option<String>)> = BTreeMap::new();
    let mut transactional: BTreeSet<(u32, u32)> = BTreeSet::new();
    let groups: Vec<(&str, &str)> = (scenario.consumers.iter())
        .map(|c| (c.group.as_str(), c.topic.as_str()))
        .collect();
    for entry in history.entries() {
        let slot = (entry.at.as_ms() / bucket) as usize;
        match entry.model() {
            Some(Event::SendInvoke {
                id,
                topic,
                mode,
                tags,
                ..
            }) => {
                topics.insert((id.producer, id.seq), (topic.clone(), tags.clone()));
                if *mode == model::event::SendMode::Transaction {
                    transactional.insert((id.producer, id.seq));
                }
            }
            Some(
                Event::SendOk { id, .. }
                | Event::TransactionDecided {
                    id,
                    state: model::event::TransactionState::Commit,
                },
            ) => {
                let key = (id.producer, id.seq);
                let committed = matches!(entry.model(), Some(Event::TransactionDecided { .. }));
                if transactional.contains(&key) != committed {
                    continue; // A half's SEND_OK, or a decision about a plain send.
                }
                let Some((topic, tag)) = topics.get(&key) else {
                    continue;
                };
                let should_see = |(group, t): &&(&str, &str)| {
                    t == topic && wants(scenario, group, tag.as_deref())
                };
                for (group, _) in groups.iter().filter(should_see) {
                    acked.entry(group).or_insert_with(|| vec![0; buckets])[slot] += 1;
                }
            }
            Some(Event::Delivered {
                group,
                id: Some(id),
                consumed: true,
                ..
            }) => {
                let Some((name, _)) = groups.iter().find(|(g, _)| g == group) else {
                    continue;
                };
                if seen.insert((name, id.producer, id.seq)) {
                    consumed.entry(name).or_insert_with(|| vec![0; buckets])[slot] += 1;
                }
            }
            _ => {}
        }
    }
    let lags = groups
        .iter()
        .map(|(group, _)| (acked.get(group), consumed.get(group)));
    (groups.iter().zip(lags))
        .map(|((group, _), counts)| gap(group, counts, buckets, bucket))
        .collect()
}

/// A group's lag: what it should have by the end of each bucket less what it consumed.
fn gap(
    group: &str,
    (acked, consumed): (Option<&Vec<u64>>, Option<&Vec<u64>>),
    buckets: usize,
    bucket: u64,
) -> Series {
    let (mut total_a, mut total_c) = (0u64, 0u64);
    let points = (0..buckets)
        .map(|i| {
            total_a += acked.map_or(0, |v| v[i]);
            total_c += consumed.map_or(0, |v| v[i]);
            (i as u64 * bucket, total_a.saturating_sub(total_c))
        })
        .collect();
    Series {
        label: group.to_string(),
        points,
    }
}

/// Who owned each queue of each group when (from `QueueAssigned` to `QueueDropped`, or the
/// owner's stop).
fn ownership(history: &History) -> Vec<Ownership> {
    let mut rows: BTreeMap<String, Vec<(u64, u64, u16)>> = BTreeMap::new();
    let mut open: BTreeMap<(String, u16), u64> = BTreeMap::new();
    let mut spans = 0;
    let mut close = |rows: &mut BTreeMap<String, Vec<(u64, u64, u16)>>,
                     queue: String,
                     node: u16,
                     from: u64,
                     to: u64| {
        if spans < MAX_SPANS {
            spans += 1;
            rows.entry(queue).or_default().push((from, to, node));
        }
    };
    for entry in history.entries() {
        let (Some(node), t) = (entry.node.map(|n| n.0), entry.at.as_ms()) else {
            continue;
        };
        match &entry.event {
            Recorded::Model(Event::QueueAssigned {
                group,
                broker,
                topic,
                queue_id,
                ..
            }) => {
                open.insert((format!("{group} {broker}/{topic}/{queue_id}"), node), t);
            }
            Recorded::Model(Event::QueueDropped {
                group,
                broker,
                topic,
                queue_id,
                ..
            }) => {
                let queue = format!("{group} {broker}/{topic}/{queue_id}");
                if let Some(from) = open.remove(&(queue.clone(), node)) {
                    close(&mut rows, queue, node, from, t);
                }
            }
            Recorded::Sim(SimEvent::Stopped { .. }) => {
                let mine: Vec<(String, u16)> =
                    open.keys().filter(|(_, n)| *n == node).cloned().collect();
                for key in mine {
                    let from = open.remove(&key).unwrap_or(t);
                    close(&mut rows, key.0, node, from, t);
                }
            }
            _ => {}
        }
    }
    let end = history.end().as_ms();
    for ((queue, node), from) in open {
        close(&mut rows, queue, node, from, end);
    }
    rows.into_iter()
        .map(|(queue, mut spans)| {
            spans.sort_unstable();
            Ownership { queue, spans }
        })
        .collect()
}
