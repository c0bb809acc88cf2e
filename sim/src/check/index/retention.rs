//! Files brokers deleted, as the harness read them off the disks (`FileDeleted`): the CommitLog
//! files retention deleted (the oldest file of a broker's CommitLog directory while a newer
//! one stays: recovery and truncation delete the newest files, never that one), and the index
//! files a restart's recovery deleted (at the instant the process started); and the index
//! lookups the auditor made (`IndexLookup`) and the answers to the operator's queries by key
//! (`KeysQueried`).

use crate::check::spec;
use crate::history::SimEvent;
use crate::scenario::{NodeRole, Scenario};
use model::event::Event;
use model::{MessageId, NodeId, Time};
use std::collections::BTreeMap;

/// One CommitLog file retention deleted, with the disk's facts at the deletion.
#[derive(Clone, Debug)]
pub(in crate::check) struct Deletion {
    pub node: NodeId,
    pub file: String,
    /// The log offsets it held: `from..from + len`.
    pub from: u64,
    pub len: u64,
    pub at: Time,
    /// Its mtime, and the machine's wall clock at the deletion.
    pub modified_ms: u64,
    pub wall_ms: u64,
    /// How full the disk was, in whole percent (rounded up); 0 for an unbounded disk.
    pub used_percent: u64,
    /// Which of 4.9.8's rules let it go, or why none did.
    pub rule: Result<String, String>,
}

impl Deletion {
    /// Why the rules should have kept the file, if they should.
    pub fn early(&self) -> Option<&str> {
        self.rule.as_ref().err().map(String::as_str)
    }
}

/// One answer to an operator's query by key: which messages it held.
pub(in crate::check) struct KeyAnswer {
    /// When its round of queries began, and when it came.
    pub asked: Time,
    pub at: Time,
    pub replica: NodeId,
    pub topic: String,
    pub key: String,
    pub found: Vec<MessageId>,
    /// It held as many records as a query may return: more may exist.
    pub capped: bool,
}

#[derive(Default)]
pub(in crate::check) struct RetentionFacts {
    pub deletions: Vec<Deletion>,
    /// Per node: when it deleted an index file, and which.
    pub index_drops: BTreeMap<NodeId, Vec<(Time, String)>>,
    /// Per node: when its process started.
    pub starts: BTreeMap<NodeId, Vec<Time>>,
    /// Lookups by key that did not find the record: (when, replica, broker, message).
    pub index_misses: Vec<(Time, NodeId, String, MessageId)>,
    pub index_lookups: u64,
    /// The operator's answers to queries by key (`query-keys`), in time order.
    pub key_answers: Vec<KeyAnswer>,
    /// Per node: when a clock fault stepped its wall clock, and where it then stood.
    pub clock_steps: BTreeMap<NodeId, Vec<(Time, i64)>>,
}

impl RetentionFacts {
    pub fn observe(&mut self, at: Time, event: &Event) {
        if let Event::KeysQueried {
            asked,
            replica,
            topic,
            key,
            found,
            capped,
            ..
        } = event
        {
            self.key_answers.push(KeyAnswer {
                asked: *asked,
                at,
                replica: *replica,
                topic: topic.clone(),
                key: key.clone(),
                found: found.clone(),
                capped: *capped,
            });
        }
        if let Event::IndexLookup {
            broker,
            replica,
            id,
            found,
        } = event
        {
            self.index_lookups += 1;
            if !found {
                self.index_misses.push((at, *replica, broker.clone(), *id));
            }
        }
    }

    pub fn observe_sim(&mut self, scenario: &Scenario, at: Time, node: NodeId, event: &SimEvent) {
        if let SimEvent::Started = event {
            self.starts.entry(node).or_default().push(at);
        }
        if let SimEvent::ClockStepped { offset_ms, .. } = event {
            self.clock_steps
                .entry(node)
                .or_default()
                .push((at, *offset_ms));
        }
        if let SimEvent::FileDeleted { file, .. } = event
            && file.starts_with(spec::INDEX_DIR)
        {
            let drops = self.index_drops.entry(node).or_default();
            drops.push((at, file.clone()));
        }
        let SimEvent::FileDeleted {
            file,
            len,
            modified_ms,
            wall_ms,
            used,
            capacity,
            oldest,
            remaining,
        } = event
        else {
            return;
        };
        let Some(name) = file.strip_prefix(spec::COMMIT_LOG_DIR) else {
            return;
        };
        let (Ok(from), true, true) = (name.parse::<u64>(), *oldest, *remaining > 0) else {
            return;
        };
        let NodeRole::Broker { group, .. } = scenario.nodes[node.index()].role else {
            return;
        };
        let mut deletion = Deletion {
            node,
            file: file.clone(),
            from,
            len: *len,
            at,
            modified_ms: *modified_ms,
            wall_ms: *wall_ms,
            used_percent: match *capacity {
                u64::MAX => 0,
                capacity => spec::used_percent(*used, capacity),
            },
            rule: Ok(String::new()),
        };
        deletion.rule = rule(&deletion, &scenario.broker_groups[group].retention);
        self.deletions.push(deletion);
    }

    /// The index files `node`'s recovery deleted after `after`: those deleted the instant its
    /// process started.
    pub fn recovery_index_drops(
        &self,
        node: NodeId,
        after: Time,
    ) -> impl Iterator<Item = &(Time, String)> + '_ {
        let starts = self.starts.get(&node);
        let drops = self.index_drops.get(&node).into_iter().flatten();
        drops.filter(move |(at, _)| *at >= after && starts.is_some_and(|s| s.contains(at)))
    }

    /// Where `node`'s clock stood at `at`, and since when, if a clock fault had moved it.
    pub fn clock_at(&self, node: NodeId, at: Time) -> Option<(Time, i64)> {
        let steps = self.clock_steps.get(&node)?;
        let (since, offset) = steps.iter().rev().find(|(step, _)| *step <= at)?;
        (*offset != 0).then_some((*since, *offset))
    }

    /// The deletion that took the byte at `offset` of `node`'s CommitLog after `after`.
    pub fn took(&self, node: NodeId, offset: u64, after: Time) -> Option<&Deletion> {
        self.deletions.iter().find(|d| {
            d.node == node && d.at >= after && d.from <= offset && offset < d.from + d.len
        })
    }
}

/// Which of 4.9.8's rules let retention delete the file then, or why none did: a file goes
/// when its mtime is `fileReservedTime` old, in a `deleteWhen` hour or on a disk fuller than
/// `diskMaxUsedSpaceRatio`; any file goes on a disk over 85 % full.
fn rule(d: &Deletion, settings: &crate::scenario::resolved::Retention) -> Result<String, String> {
    let disk = format!("the disk {}% full", d.used_percent);
    if settings.clean_file_forcibly && d.used_percent > spec::CLEAN_FORCIBLY_PERCENT {
        return Ok(format!(
            "{disk}, over 85 %: any file goes (cleanFileForciblyEnable)"
        ));
    }
    let age_ms = d.wall_ms.saturating_sub(d.modified_ms);
    let reserved = settings.file_reserved_time_ms;
    let age = format!(
        "last written {} before (fileReservedTime {})",
        spec::hours(age_ms),
        spec::hours(reserved)
    );
    if age_ms < reserved {
        return Err(format!("{age}, {disk}"));
    }
    let (when, ratio) = (&settings.delete_when, settings.disk_max_used_space_percent);
    if spec::delete_hour(when, d.wall_ms) {
        Ok(format!("{age}, in the deleteWhen hour ({when} UTC)"))
    } else if d.used_percent > ratio {
        Ok(format!(
            "{age}, {disk}, over diskMaxUsedSpaceRatio {ratio}%"
        ))
    } else {
        Err(format!(
            "{age}, outside the deleteWhen hours ({when} UTC), {disk} (diskMaxUsedSpaceRatio {ratio}%)"
        ))
    }
}
