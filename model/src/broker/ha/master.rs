//! The master's side of replication (`HAService`, `HAConnection`): a connection per slave
//! socket, accepted when the slave connects (from then on the slave counts for
//! `isSlaveOK`), transferring only once that socket's first report said where to start (a
//! slave that reconnects gets a new connection, whatever the old one was doing); a transfer
//! loop that pushes commitlog bytes
//! from where the slave asked, as far as the sockets' buffers allow, with an empty heartbeat
//! every 5 s when idle; a later report past the master's end closes the connection (4.9.3+);
//! and housekeeping that drops a connection whose slave has been silent for 20 s.
//!
//! `HaMaster` is the service: it reads the store and the settings (`HaView`) and never the
//! rest of the broker. The broker routes requests and timers to it and releases the sends
//! waiting for slaves when an ack moves.

use super::{HOUSEKEEPING_CHECK_MS, HaTimer, IDLE_WAIT_MS, WINDOW_BYTES};
use crate::broker::store::MessageStore;
use crate::broker::{BrokerConfig, BrokerTimer, Running};
use crate::event::Event;
use crate::ids::NodeId;
use crate::node::Context;
use crate::protocol::{HaSession, Request};
use crate::time::Time;
use crate::timer::Timer;
use std::collections::BTreeMap;

/// One slave's connection (`HAConnection`).
#[derive(Clone, Debug)]
struct Connection {
    /// The slave's socket this connection serves.
    session: HaSession,
    /// Packets sent on it so far (the next one's sequence number).
    sent: u64,
    /// `slaveAckOffset`: its latest report.
    ack_offset: u64,
    /// `nextTransferFromWhere`.
    next_transfer: u64,
    /// Where the transfer started (from `slaveRequestOffset`, the first report): the window
    /// counts from here until the slave reports past it. `None` until the first report: an
    /// accepted connection transfers nothing before it.
    transfer_start: Option<u64>,
    last_read: Time,
    last_write: Time,
    /// The transfer loop's pending wakeup, if any.
    wake_at: Option<Time>,
    /// Tells this connection's wakeups from those of an earlier one.
    generation: u64,
}

impl Connection {
    /// Wakes the transfer loop at `at`, unless it already wakes sooner.
    fn wake(&mut self, ctx: &mut Context<'_>, slave: NodeId, at: Time) {
        if self.wake_at.is_some_and(|wake| wake <= at) {
            return;
        }
        self.wake_at = Some(at);
        let timer = HaTimer::Transfer {
            slave,
            generation: self.generation,
        };
        ctx.set_timer(at.ms_since(ctx.now()), ha_timer(timer));
    }
}

/// The master's replication state.
#[derive(Clone, Debug, Default)]
pub struct HaMaster {
    connections: BTreeMap<NodeId, Connection>,
    /// `push2SlaveMaxOffset`: the furthest any slave has reported; it only grows.
    pub push_to_slave_max: u64,
    next_generation: u64,
    housekeeping_armed: bool,
}

impl HaMaster {
    /// `isSlaveOK`: a slave is connected and not too far behind `master_put_where`.
    pub fn is_slave_ok(&self, master_put_where: u64, fallbehind_max: u64) -> bool {
        !self.connections.is_empty()
            && master_put_where.saturating_sub(self.push_to_slave_max) < fallbehind_max
    }
}

impl HaMaster {
    /// Housekeeping runs while any connection is open (it disarms only when none is left).
    fn check_housekeeping_armed(&self) {
        crate::invariant!(
            self.connections.is_empty() || self.housekeeping_armed,
            "ha-housekeeping-armed-while-connected",
            "{} connection(s) open and no housekeeping armed",
            self.connections.len()
        );
    }
}

/// A report after a connection's first: within the master's log (a later one past it closed
/// the connection), and never below the previous one (one socket, reports in order, a
/// slave's log only grows).
fn check_later_report(connection: &Connection, opened: bool, reported: u64, master_offset: u64) {
    crate::invariant!(
        opened || reported <= master_offset,
        "ha-later-ack-within-master-log",
        "a later report of {reported} kept a connection to a log ending at {master_offset}"
    );
    crate::invariant!(
        opened || reported >= connection.ack_offset,
        "ha-slave-ack-never-backwards-on-a-connection",
        "{:?} reported {reported} after {}",
        connection.session,
        connection.ack_offset
    );
}

/// One pushed batch, `[offset, next)`: not empty, at most `batch` bytes, within one file.
fn check_push_batch(offset: u64, next: u64, batch: u64, file_size: u64) {
    crate::invariant!(
        offset < next && next - offset <= batch && offset / file_size == (next - 1) / file_size,
        "ha-push-batch-within-one-file",
        "a push of [{offset}, {next}) with batch {batch} and files of {file_size}"
    );
}

/// After a loop that pushed: the push ends within the master's log and within the window
/// (plus the one batch that crossed it).
fn check_push_sent(master_offset: u64, next: u64, acknowledged: u64, batch: u64) {
    crate::invariant!(
        next <= master_offset,
        "ha-push-within-master-log",
        "pushed up to {next}, past the master's log end {master_offset}"
    );
    crate::invariant!(
        next.saturating_sub(acknowledged) < WINDOW_BYTES.saturating_add(batch),
        "ha-push-within-window",
        "pushed up to {next} with {acknowledged} acknowledged"
    );
}

fn ha_timer(timer: HaTimer) -> Timer {
    Timer::Broker(BrokerTimer::Ha(timer))
}

/// What the master's HA service reads of its broker: the store and the settings.
struct HaView<'a> {
    store: &'a MessageStore,
    config: &'a BrokerConfig,
}

impl HaMaster {
    /// `HA_REPORT` from a slave: the first one on a socket says where its transfer starts
    /// (a socket whose connect was lost is accepted by it, replacing any connection of the
    /// slave's earlier socket); each one moves its ack. False if the report closed the
    /// connection.
    fn on_report(
        &mut self,
        ctx: &mut Context<'_>,
        view: &HaView<'_>,
        (slave, session): (NodeId, HaSession),
        max_offset: u64,
    ) -> bool {
        let master_offset = view.store.max_physical_offset();
        let known = self.connections.get(&slave);
        if known.is_none_or(|c| c.session != session) {
            // The connect was lost on the way: the report's socket is accepted now.
            self.open(ctx, slave, session);
        }
        let connection = self.connections.get_mut(&slave).expect("present");
        crate::invariant!(
            connection.session == session,
            "ha-connection-serves-reporting-socket",
            "a report on {session:?} from {slave:?} reached the connection of {:?}",
            connection.session
        );
        let opened = connection.transfer_start.is_none();
        if opened {
            // `slaveRequestOffset`: an empty slave starts at the master's last file.
            let size = view.config.store.commit_log_file_size;
            let start = match max_offset {
                0 => {
                    crate::probe!(HA_EMPTY_SLAVE);
                    master_offset - master_offset % size
                }
                offset => offset,
            };
            connection.transfer_start = Some(start);
            connection.next_transfer = start;
        } else if max_offset > master_offset {
            // `processReadEvent` (4.9.3+, #3016): a later report past the master's end
            // closes the connection; the first report is trusted as it is.
            crate::probe!(HA_OVERCLAIM);
            self.connections.remove(&slave);
            ctx.emit(Event::ReplicaOverclaimed {
                broker: view.config.broker_name.clone(),
                slave,
                reported: max_offset,
                master_offset,
            });
            ctx.close_connection(slave);
            return false;
        }
        self.acknowledge(ctx, view, (slave, opened), max_offset, master_offset);
        true
    }

    /// A slave's report moves its ack and, trusted as it is, `push2SlaveMaxOffset`.
    fn acknowledge(
        &mut self,
        ctx: &mut Context<'_>,
        view: &HaView<'_>,
        (slave, opened): (NodeId, bool),
        max_offset: u64,
        master_offset: u64,
    ) {
        let connection = self.connections.get_mut(&slave).expect("present");
        check_later_report(connection, opened, max_offset, master_offset);
        connection.last_read = ctx.now();
        let advanced = opened || max_offset > connection.ack_offset;
        connection.ack_offset = max_offset;
        // `notifyTransferSome`: the report is trusted as it is.
        let pushed_before = self.push_to_slave_max;
        self.push_to_slave_max = self.push_to_slave_max.max(max_offset);
        crate::invariant!(
            self.push_to_slave_max >= pushed_before.max(max_offset),
            "ha-push-to-slave-max-never-backwards",
            "push2SlaveMaxOffset {} after {pushed_before} and a report of {max_offset}",
            self.push_to_slave_max
        );
        self.check_housekeeping_armed();
        if advanced {
            ctx.emit(Event::Replicated {
                broker: view.config.broker_name.clone(),
                slave,
                offset: max_offset,
                master_offset,
            });
        }
    }

    /// A new `HAConnection` for the slave's socket `session`, replacing any of its earlier
    /// sockets.
    fn open(&mut self, ctx: &mut Context<'_>, slave: NodeId, session: HaSession) {
        self.next_generation += 1;
        let now = ctx.now();
        let connection = Connection {
            session,
            sent: 0,
            ack_offset: 0,
            next_transfer: 0,
            transfer_start: None,
            last_read: now,
            last_write: now,
            wake_at: None,
            generation: self.next_generation,
        };
        let generation = connection.generation;
        let replaced = self.connections.insert(slave, connection);
        crate::invariant!(
            replaced
                .as_ref()
                .is_none_or(|old| old.generation < generation),
            "ha-connection-generation-increases",
            "connection {generation} of {slave:?} replaced one of generation {:?}",
            replaced.map(|old| old.generation)
        );
        if !self.housekeeping_armed {
            self.housekeeping_armed = true;
            ctx.set_timer(HOUSEKEEPING_CHECK_MS, ha_timer(HaTimer::Housekeeping));
        }
        self.check_housekeeping_armed();
    }

    /// Wakes the slave's transfer loop at its next look: it sleeps 100 ms at a time since it
    /// went idle.
    fn wake_at_next_look(&mut self, ctx: &mut Context<'_>, slave: NodeId) {
        let now = ctx.now();
        let connection = self.connections.get_mut(&slave).expect("listed");
        let idle_since = connection.last_write;
        let elapsed = now.ms_since(idle_since);
        let wake = idle_since.plus_ms(elapsed.div_ceil(IDLE_WAIT_MS).max(1) * IDLE_WAIT_MS);
        connection.wake(ctx, slave, wake);
    }

    /// A transfer loop's wakeup at `now`, if it is the current connection's pending one: it
    /// is consumed. A wakeup an earlier one superseded finds the loop already run and
    /// re-armed, and does nothing (the loop is one thread: it sleeps until one instant).
    fn woken(&mut self, slave: NodeId, generation: u64, now: Time) -> bool {
        let Some(connection) = self.connections.get_mut(&slave) else {
            return false;
        };
        if connection.generation != generation || connection.wake_at != Some(now) {
            return false;
        }
        connection.wake_at = None;
        true
    }

    /// Drops connections whose slave has not reported for 20 s (`ReadSocketService`).
    fn housekeeping(&mut self, ctx: &mut Context<'_>, silence_ms: u64) {
        let now = ctx.now();
        let silent: Vec<NodeId> = self
            .connections
            .iter()
            .filter(|(_, c)| now.ms_since(c.last_read) > silence_ms)
            .map(|(slave, _)| *slave)
            .collect();
        for slave in silent {
            self.connections.remove(&slave);
            ctx.close_connection(slave);
        }
        if self.connections.is_empty() {
            self.housekeeping_armed = false;
        } else {
            ctx.set_timer(HOUSEKEEPING_CHECK_MS, ha_timer(HaTimer::Housekeeping));
        }
        self.check_housekeeping_armed();
    }

    /// The transfer loop (`WriteSocketService`): push what the slave lacks, as far as the
    /// window allows; an empty heartbeat when idle for 5 s; then sleep until there is more.
    /// True if the pushed bytes count as replicated (only under the defect that acks what
    /// was merely sent).
    fn transfer(&mut self, ctx: &mut Context<'_>, view: &HaView<'_>, slave: NodeId) -> bool {
        let store = view.store;
        let Some(connection) = self.connections.get_mut(&slave) else {
            return false;
        };
        let Some(transfer_start) = connection.transfer_start else {
            return false; // Accepted, but no report yet: nothing to push from.
        };
        let acknowledged = connection.ack_offset.max(transfer_start);
        let next = push(ctx, (store, view.config), (slave, connection), acknowledged);
        crate::invariant!(
            next >= connection.next_transfer,
            "ha-push-monotonic",
            "the push to {slave:?} went back from {} to {next}",
            connection.next_transfer
        );
        crate::invariant!(
            next >= transfer_start,
            "ha-push-not-before-transfer-start",
            "the push to {slave:?} is at {next}, before its start {transfer_start}"
        );
        let sent = next > connection.next_transfer;
        if sent {
            check_push_sent(
                store.max_physical_offset(),
                next,
                acknowledged,
                view.config.store.ha_transfer_batch_size,
            );
        }
        connection.next_transfer = next;
        let interval = view.config.store.ha_send_heartbeat_interval_ms;
        heartbeat(ctx, (slave, connection), sent, interval);
        let ack_early = sent && view.config.bugs.ack_before_slave_has_data;
        if ack_early {
            // The defect: count the slave as having what was merely sent to it.
            self.push_to_slave_max = self.push_to_slave_max.max(next);
        }
        ack_early
    }
}

/// Pushes batches from the connection's next transfer on while the window allows; returns
/// where the push ends.
fn push(
    ctx: &mut Context<'_>,
    (store, config): (&MessageStore, &BrokerConfig),
    (slave, connection): (NodeId, &mut Connection),
    acknowledged: u64,
) -> u64 {
    let batch = config.store.ha_transfer_batch_size;
    let file_size = config.store.commit_log_file_size;
    let mut next = connection.next_transfer;
    while next.saturating_sub(acknowledged) < WINDOW_BYTES {
        let Some(data) = store.commit_log_data(ctx.disk(), next, batch) else {
            break;
        };
        let offset = next;
        next += data.len() as u64;
        check_push_batch(offset, next, batch, file_size);
        let session = connection.session;
        let seq = connection.sent;
        ctx.oneway(
            slave,
            Request::HaTransfer {
                session,
                seq,
                offset,
                data,
            },
        );
        connection.sent += 1;
    }
    next
}

/// After a push: an empty heartbeat if the loop was idle for 5 s, then sleep until the next
/// heartbeat is due (new data wakes the loop sooner).
fn heartbeat(
    ctx: &mut Context<'_>,
    (slave, connection): (NodeId, &mut Connection),
    sent: bool,
    interval_ms: u64,
) {
    let now = ctx.now();
    if sent {
        connection.last_write = now;
    } else if now.ms_since(connection.last_write) > interval_ms {
        let heartbeat = Request::HaTransfer {
            session: connection.session,
            seq: connection.sent,
            offset: connection.next_transfer,
            data: Vec::new(),
        };
        ctx.oneway(slave, heartbeat);
        connection.sent += 1;
        connection.last_write = now;
    }
    let heartbeat = connection.last_write.plus_ms(interval_ms + 1);
    connection.wake(ctx, slave, heartbeat);
    crate::invariant!(
        connection.wake_at.is_some(),
        "ha-transfer-loop-rearmed",
        "the transfer loop of {slave:?} went to sleep with no wakeup"
    );
}

/// The broker's side: it routes HA requests and timers to the service, and releases the sends
/// waiting for slaves when an ack moves.
impl Running {
    pub(crate) fn on_ha_report(
        &mut self,
        ctx: &mut Context<'_>,
        slave: NodeId,
        session: HaSession,
        max_offset: u64,
    ) {
        if !self.config.role.is_master() {
            return;
        }
        let view = HaView {
            store: &self.store,
            config: &self.config,
        };
        if !self
            .ha_master
            .on_report(ctx, &view, (slave, session), max_offset)
        {
            return;
        }
        self.release_replicated_sends(ctx);
        self.ha_transfer(ctx, slave);
    }

    /// A slave's HA socket connected: the master accepts it (`AcceptSocketService`), and the
    /// new `HAConnection` counts the slave from now on (`connectionCount`).
    pub(crate) fn on_ha_connect(
        &mut self,
        ctx: &mut Context<'_>,
        slave: NodeId,
        session: HaSession,
    ) {
        if !self.config.role.is_master() {
            return;
        }
        crate::probe!(HA_ACCEPTED);
        self.ha_master.open(ctx, slave, session);
    }

    /// New data was appended: wake every transfer loop at its next look (SYNC_MASTER wakes
    /// them at once, `wakeupAll`).
    pub(crate) fn ha_data_appended(&mut self, ctx: &mut Context<'_>, immediately: bool) {
        let slaves: Vec<NodeId> = self.ha_master.connections.keys().copied().collect();
        for slave in slaves {
            match immediately {
                true => self.ha_transfer(ctx, slave),
                false => self.ha_master.wake_at_next_look(ctx, slave),
            }
        }
    }

    pub(crate) fn on_ha_timer(&mut self, ctx: &mut Context<'_>, timer: HaTimer) {
        match timer {
            HaTimer::Transfer { slave, generation } => {
                if self.ha_master.woken(slave, generation, ctx.now()) {
                    self.ha_transfer(ctx, slave);
                }
            }
            HaTimer::Housekeeping => {
                let silence = self.config.store.ha_housekeeping_interval_ms;
                self.ha_master.housekeeping(ctx, silence);
            }
            HaTimer::SlaveTick => self.ha_slave_tick(ctx),
        }
    }

    /// A connection closed: its slave is gone until it reports again.
    pub(crate) fn ha_connection_closed(&mut self, peer: NodeId) {
        self.ha_master.connections.remove(&peer);
    }

    /// Runs the slave's transfer loop; releases waiting sends if the push counts.
    fn ha_transfer(&mut self, ctx: &mut Context<'_>, slave: NodeId) {
        let view = HaView {
            store: &self.store,
            config: &self.config,
        };
        if self.ha_master.transfer(ctx, &view, slave) {
            self.release_replicated_sends(ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::config::BrokerConfig;
    use crate::testing::TestIo;

    const SLAVE: NodeId = NodeId(7);

    fn master(io: &mut TestIo) -> Running {
        Running::start(
            &mut io.ctx(),
            BrokerConfig::new("c", "broker-a", Vec::new()),
        )
    }

    fn report(broker: &mut Running, io: &mut TestIo, session: u64, max_offset: u64) {
        broker.on_ha_report(&mut io.ctx(), SLAVE, HaSession(session), max_offset);
    }

    /// The name of the invariant `f` violates.
    fn violated(f: impl FnOnce()) -> String {
        crate::invariant::fired(f).0
    }

    /// A connection whose ack is ahead of what its slave now reports, or that the
    /// housekeeping forgot, is caught.
    #[test]
    fn an_ack_going_back_on_a_connection_is_caught() {
        let mut io = TestIo::new();
        let mut broker = master(&mut io);
        report(&mut broker, &mut io, 1, 0);
        broker
            .ha_master
            .connections
            .get_mut(&SLAVE)
            .unwrap()
            .ack_offset = 4_096;
        let name = violated(|| report(&mut broker, &mut io, 1, 0));
        assert_eq!(name, "ha-slave-ack-never-backwards-on-a-connection");
        broker.ha_master.housekeeping_armed = false;
        let name = violated(|| broker.ha_master.check_housekeeping_armed());
        assert_eq!(name, "ha-housekeeping-armed-while-connected");
    }

    /// An accepted socket counts the slave for SYNC_MASTER before it reports, and carries
    /// nothing until its first report says where to start.
    #[test]
    fn an_accepted_slave_counts_before_its_first_report() {
        let mut io = TestIo::new();
        let mut broker = master(&mut io);
        assert!(!broker.ha_master.is_slave_ok(0, 1 << 20));
        broker.on_ha_connect(&mut io.ctx(), SLAVE, HaSession(1));
        assert!(broker.ha_master.is_slave_ok(0, 1 << 20));
        assert_eq!(broker.ha_master.connections[&SLAVE].transfer_start, None);
        report(&mut broker, &mut io, 1, 0);
        assert_eq!(broker.ha_master.connections[&SLAVE].transfer_start, Some(0));
    }

    /// A report from a slave's dead socket opens a connection; the restarted, empty slave's
    /// first report on its new socket must open a new one from where an empty slave starts,
    /// not continue the dead socket's transfer (which would store bytes at the wrong offset).
    #[test]
    fn a_new_socket_is_a_new_connection() {
        let mut io = TestIo::new();
        let mut broker = master(&mut io);
        report(&mut broker, &mut io, 1, 163_401);
        assert_eq!(broker.ha_master.connections[&SLAVE].next_transfer, 163_401);
        report(&mut broker, &mut io, 2, 0);
        let connection = &broker.ha_master.connections[&SLAVE];
        assert_eq!(connection.session, HaSession(2));
        assert_eq!(connection.next_transfer, 0);
        assert_eq!(connection.ack_offset, 0);
    }

    /// 4.9.3+: a later report past the master's end closes the connection; the first is
    /// trusted as it is.
    #[test]
    fn a_later_report_past_the_masters_end_closes_the_connection() {
        let mut io = TestIo::new();
        let mut broker = master(&mut io);
        report(&mut broker, &mut io, 1, 0);
        report(&mut broker, &mut io, 1, 4_096);
        assert!(broker.ha_master.connections.is_empty());
        assert!(io.events.iter().any(|e| matches!(
            e,
            Event::ReplicaOverclaimed {
                reported: 4_096,
                ..
            }
        )));
        report(&mut broker, &mut io, 2, 4_096);
        assert_eq!(broker.ha_master.connections[&SLAVE].ack_offset, 4_096);
    }
}
