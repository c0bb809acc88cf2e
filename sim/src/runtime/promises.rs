//! What the disks held when a broker answered SEND_OK: the facts a promise is judged by.
//!
//! A SEND_OK under SYNC_FLUSH promises the message is on the media; under SYNC_MASTER, that a
//! slave holds it. Whether either held is read here, off the simulated disks, at the instant
//! the broker hands the answer to the network, and recorded as `SimEvent::Held`: how far into
//! the record the answering machine's media matched its page cache, and how far each other
//! machine of its group held the same bytes in its own commitlog. The broker model cannot
//! make these facts up; the checker compares them with the promises (`check::promises`).

use crate::disk::Disks;
use crate::history::{ReplicaHeld, SimEvent};
use model::broker::store::commit_log;
use model::protocol::{Response, ResponseBody, ResponseCode};
use model::{NodeId, Time};
use std::collections::BTreeMap;

/// The broker machines whose SEND_OK answers carry a promise, each with the other machines
/// of its group.
#[derive(Clone, Debug, Default)]
pub struct PromiseWatch {
    peers: BTreeMap<NodeId, Vec<NodeId>>,
}

/// A SEND_OK answer: the record's commitlog offset and size.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    pub offset: u64,
    pub size: u32,
}

impl PromiseWatch {
    /// Watches every machine of each group (master first, then slaves).
    pub fn new(groups: &[Vec<NodeId>]) -> PromiseWatch {
        let mut peers = BTreeMap::new();
        for group in groups {
            for node in group {
                let others = group.iter().copied().filter(|n| n != node).collect();
                peers.insert(*node, others);
            }
        }
        PromiseWatch { peers }
    }

    /// The SEND_OK answer a watched node gives, if this response is one.
    pub fn answered(&self, node: NodeId, response: &Response) -> Option<Answered> {
        if response.code != ResponseCode::Success || !self.peers.contains_key(&node) {
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
        let (bytes, media) = {
            let own = disks.settled(node, now).log_file(commit_log::DIR, offset);
            own.map_or((Vec::new(), 0), |(base, file)| {
                let at = (offset - base) as usize;
                let bytes = file.read(at, size as usize).into_owned();
                (bytes, file.media_holds(at, size as usize))
            })
        };
        let mut replicas = Vec::new();
        for peer in self.peers.get(&node).into_iter().flatten() {
            let copy = disks.settled(*peer, now).log_file(commit_log::DIR, offset);
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
