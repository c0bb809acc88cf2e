//! What the disks held when a broker answered SEND_OK: the facts a promise is judged by.
//!
//! A SEND_OK under SYNC_FLUSH promises the message is on the media; under SYNC_MASTER, that a
//! slave holds it; in a DLedger group, that a quorum of its members hold it. Whether either held is read here, off the simulated disks, at the instant
//! the broker hands the answer to the network, and recorded as `SimEvent::Held`: how far into
//! the record the answering machine's media matched its page cache, and how far each other
//! machine of its group held the same bytes in its own commitlog. The broker model cannot
//! make these facts up; the checker compares them with the promises (`check::promises`).

use crate::disk::Disks;
use crate::history::{ReplicaHeld, SimEvent};
use model::protocol::{Response, ResponseBody, ResponseCode};
use model::{NodeId, Time};
use std::collections::BTreeMap;

/// The broker machines whose SEND_OK answers carry a promise, each with the directory its
/// log lies in (the CommitLog's, or a DLedger member's entry data files: a record lies at its
/// PHYSICALOFFSET in either) and the other machines of its group.
#[derive(Clone, Debug, Default)]
pub struct PromiseWatch {
    machines: BTreeMap<NodeId, Watched>,
}

#[derive(Clone, Debug)]
struct Watched {
    log_dir: String,
    others: Vec<(NodeId, String)>,
}

/// A SEND_OK answer: the record's commitlog offset and size.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    pub offset: u64,
    pub size: u32,
}

impl PromiseWatch {
    /// Watches every machine of each group, each given with its log directory.
    pub fn new(groups: &[Vec<(NodeId, String)>]) -> PromiseWatch {
        let mut machines = BTreeMap::new();
        for group in groups {
            for (node, log_dir) in group {
                let others = group.iter().filter(|(n, _)| n != node).cloned().collect();
                let log_dir = log_dir.clone();
                machines.insert(*node, Watched { log_dir, others });
            }
        }
        PromiseWatch { machines }
    }

    /// The SEND_OK answer a watched node gives, if this response is one.
    pub fn answered(&self, node: NodeId, response: &Response) -> Option<Answered> {
        if response.code != ResponseCode::Success || !self.machines.contains_key(&node) {
            return None;
        }
        let ResponseBody::Send(result) = &response.body else {
            return None;
        };
        Some(Answered {
            offset: result.commit_log_offset,
            size: result.size,
        })
    }

    /// What the disks hold of an answered record at `now`.
    pub fn held(&self, disks: &mut Disks, node: NodeId, answer: Answered, now: Time) -> SimEvent {
        let Answered { offset, size } = answer;
        let end = offset + u64::from(size);
        let watched = &self.machines[&node];
        let (bytes, media) = {
            let own = disks.settled(node, now).log_file(&watched.log_dir, offset);
            own.map_or((Vec::new(), 0), |(base, file)| {
                let at = (offset - base) as usize;
                let bytes = file.read(at, size as usize).into_owned();
                (bytes, file.media_holds(at, size as usize))
            })
        };
        let mut replicas = Vec::new();
        for (peer, log_dir) in &watched.others {
            let copy = disks.settled(*peer, now).log_file(log_dir, offset);
            let copy = copy.map(|(base, file)| file.read((offset - base) as usize, size as usize));
            let same = copy.as_ref().map_or(0, |c| common_prefix(c, &bytes));
            let rest = copy.as_ref().map_or(&[][..], |c| &c[same.min(c.len())..]);
            replicas.push(ReplicaHeld {
                node: *peer,
                upto: offset + same as u64,
                diverged: rest.iter().any(|b| *b != 0),
            });
        }
        SimEvent::Held {
            offset,
            end,
            media: offset + media as u64,
            replicas,
        }
    }
}

/// How many leading bytes two slices share.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
