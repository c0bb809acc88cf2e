//! A consumer that reads a queue from a slave whose ConsumeQueue entries run behind the
//! records' queue offsets (misplaced dispatches after the replicas' logs went separate ways,
//! `check::misplaced`). The client asks the slave for the offset it would ask the master,
//! and moves on by the slave's entries: the record the slave keeps one entry lower is passed
//! over, and the entry after a record read there leads, on the master, to that record again.

use crate::check::index::{Index, Queue};
use model::{MessageId, NodeId, Time};

/// A record of a queue read back on a slave through an entry below its queue offset.
pub(in crate::check) struct SlaveEntry {
    pub slave: NodeId,
    pub entry: u64,
    pub queue_offset: u64,
    /// When the group began to read the queue from a slave.
    pub read_from: Time,
}

/// The misplaced slave entry of message `id` in `queue`, if the group read the queue from a
/// slave by `by` and the node holding that entry was no master then.
pub(in crate::check) fn behind_on_slave(
    index: &Index<'_>,
    id: MessageId,
    queue: &Queue,
    by: Time,
) -> Option<SlaveEntry> {
    let reads = index.consumers.story.slave_reads.get(queue)?;
    let read_from = *reads.iter().rfind(|at| **at <= by)?;
    let (broker, _, _) = queue;
    index
        .misplaced
        .entries_below(id, queue)
        .find(|(slave, ..)| !index.brokers.master_at(broker, *slave, read_from))
        .map(|(slave, entry, queue_offset)| SlaveEntry {
            slave,
            entry,
            queue_offset,
            read_from,
        })
}

impl SlaveEntry {
    /// `the group read broker-a/orders/0 from a slave from 122.661s; broker-a (a slave then)
    /// holds this record (queue offset 276) at entry 275`.
    pub fn story(&self, index: &Index<'_>, queue: &Queue) -> String {
        let (broker, topic, queue_id) = queue;
        format!(
            "the group read {broker}/{topic}/{queue_id} from a slave from {}; {} (a slave then) \
             holds this record (queue offset {}) at entry {}, a misplaced dispatch",
            self.read_from,
            index.name(self.slave),
            self.queue_offset,
            self.entry
        )
    }
}
