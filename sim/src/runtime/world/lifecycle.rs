//! Process lifecycle, as the supervisor drives it: stops, starts, exits, role switches,
//! restarts and boots, and the incarnation of each node.

use super::*;

impl World {
    /// The process of `node` stops. After a kill its peers see their connections reset;
    /// after power or disk loss they hear nothing.
    pub fn stop(&mut self, now: Time, node: NodeId, how: Stop) {
        let slot = &mut self.slots[node.index()];
        slot.status = match how {
            Stop::Kill | Stop::Shutdown => Status::Killed,
            Stop::PowerOff | Stop::OsCrash | Stop::DiskLoss => Status::Off,
        };
        slot.queue.clear();
        slot.pending.clear();
        slot.waker = None;
        slot.armed.clear();
        let peers: Vec<(NodeId, Connection)> =
            std::mem::take(&mut slot.connections).into_iter().collect();
        if how.loses_page_cache() {
            // The machine's buffers die with it: packets it had not started sending vanish.
            self.net.sender_lost(node, now);
            for slot in &mut self.slots {
                slot.queue.retain(|Reverse(s)| {
                    !s.sent
                        .is_some_and(|(from, starts)| from == node && starts > now)
                });
            }
        }
        if matches!(how, Stop::Kill | Stop::Shutdown) {
            for (peer, conn) in peers {
                self.tell_peer_closed(now, node, peer, conn.id);
            }
        }
        self.record_sim(now, Some(node), SimEvent::Stopped { how });
    }

    /// A node asks to crash itself (see `model::node::Io::exit`).
    pub fn request_exit(&mut self, node: NodeId, restart_after_ms: Option<u64>) {
        self.exits.insert(node, restart_after_ms);
    }

    /// Takes a node's crash request, if it made one.
    pub fn take_exit(&mut self, node: NodeId) -> Option<Option<u64>> {
        self.exits.remove(&node)
    }

    /// A crashed node is to start again at `at`.
    /// An operator switched the node's role: its next start runs its other process.
    pub fn switch_role(&mut self, node: NodeId) {
        let slot = &mut self.slots[node.index()];
        slot.switched = !slot.switched;
    }

    pub fn switched(&self, node: NodeId) -> bool {
        self.slots[node.index()].switched
    }

    pub fn schedule_restart(&mut self, node: NodeId, madsim_id: madsim::task::NodeId, at: Time) {
        self.restarts.push((at, node, madsim_id));
    }

    /// The restarts due by `now`.
    pub fn due_restarts(&mut self, now: Time) -> Vec<(NodeId, madsim::task::NodeId)> {
        let (due, later): (Vec<_>, Vec<_>) =
            self.restarts.drain(..).partition(|(at, ..)| *at <= now);
        self.restarts = later;
        due.into_iter().map(|(_, node, id)| (node, id)).collect()
    }

    /// Marks a node whose process has not booted yet: nothing listens there.
    pub fn not_booted(&mut self, node: NodeId) {
        self.slots[node.index()].status = Status::Killed;
    }

    /// The node's process booted for the first time.
    pub fn booted(&mut self, node: NodeId) {
        self.slots[node.index()].status = Status::Running;
    }

    /// How often the node's process was restarted.
    pub fn incarnation(&self, node: NodeId) -> u32 {
        self.slots[node.index()].incarnation
    }

    /// The process of `node` starts again (its host loop is about to run).
    pub fn start(&mut self, now: Time, node: NodeId) {
        let slot = &mut self.slots[node.index()];
        slot.status = Status::Running;
        slot.incarnation += 1;
        self.record_sim(now, Some(node), SimEvent::Started);
    }
}
