//! The slave's side of replication (`HAClient`): connect to the master the name servers
//! named, report the commitlog's max offset (first 5 s after connecting, then after every
//! batch that moves it and at least every 5 s), append what the master pushes at the same
//! offsets, and refuse data that does not start where the local log ends: a slave that is
//! ahead of, or diverged from, its master logs it and reconnects, and never truncates.
//!
//! `HaSlave` is the service (connect, report, follow the stream); the broker routes ticks
//! and pushes to it and appends what arrives to its store.

use super::{HaTimer, SLAVE_TICK_MS};
use crate::broker::{BrokerTimer, Running};
use crate::event::Event;
use crate::ids::NodeId;
use crate::node::Context;
use crate::protocol::{HaSession, Request};
use crate::time::Time;
use crate::timer::Timer;

/// The slave's replication state.
#[derive(Clone, Debug, Default)]
pub struct HaSlave {
    /// The master this slave is connected to (`socketChannel`).
    connected: Option<NodeId>,
    /// The socket of that connection: a new one for each `connectMaster`.
    session: HaSession,
    /// The sequence number of the next packet expected on it.
    next_seq: u64,
    /// `currentReportedOffset`.
    reported: u64,
    /// `lastWriteTimestamp`: the last report.
    last_write: Time,
}

/// What a slave reports it holds, its log holds: SYNC_MASTER answers sends on its word.
fn check_report_held(reported: u64, max_offset: u64) {
    crate::invariant!(
        reported <= max_offset,
        "ha-slave-reports-only-what-it-holds",
        "a report of {reported} from a slave whose log ends at {max_offset}"
    );
}

impl HaSlave {
    /// The `HAClient` loop's tick: connect when a master is known, report when 5 s have
    /// passed. `max_offset` is where the local log ends.
    fn tick(
        &mut self,
        ctx: &mut Context<'_>,
        master: Option<NodeId>,
        (max_offset, interval_ms): (u64, u64),
    ) {
        let now = ctx.now();
        let Some(connected) = self.connected else {
            // `connectMaster`: the first report waits a heartbeat interval.
            if let Some(master) = master {
                self.connect(ctx, master, max_offset);
            }
            return;
        };
        if now.ms_since(self.last_write) > interval_ms {
            check_report_held(self.reported, max_offset);
            self.last_write = now;
            let report = Request::HaReport {
                session: self.session,
                max_offset: self.reported,
            };
            ctx.oneway(connected, report);
        }
    }

    fn connect(&mut self, ctx: &mut Context<'_>, master: NodeId, max_offset: u64) {
        let now = ctx.now();
        self.connected = Some(master);
        // Unique per slave process and connect: connects happen on 1 s ticks, and a
        // restarted process starts later than its previous incarnation connected.
        let previous = self.session;
        self.session = HaSession(now.as_ms() + 1);
        crate::invariant!(
            self.session > previous,
            "ha-slave-new-session-per-connect",
            "a connect at {now:?} made {:?} after {previous:?}",
            self.session
        );
        self.next_seq = 0;
        self.reported = max_offset;
        self.last_write = now;
        let session = self.session;
        ctx.oneway(master, Request::HaConnect { session });
    }

    /// Whether a pushed packet continues this connection's stream; a gap (a partition, a
    /// dropped packet) makes TCP stall and reset the socket, never deliver what follows:
    /// reconnect.
    fn in_stream(
        &mut self,
        ctx: &mut Context<'_>,
        master: NodeId,
        (session, seq): (HaSession, u64),
    ) -> bool {
        if self.connected != Some(master) || self.session != session {
            return false; // Not this socket: a dead connection's data never arrives on a new one.
        }
        if seq != self.next_seq {
            self.disconnect(ctx, master);
            return false;
        }
        self.next_seq += 1;
        true
    }

    fn disconnect(&mut self, ctx: &mut Context<'_>, master: NodeId) {
        self.connected = None;
        ctx.close_connection(master);
    }

    /// `reportSlaveMaxOffsetPlus`: reports as soon as the log grew.
    fn report_growth(&mut self, ctx: &mut Context<'_>, master: NodeId, max_offset: u64) {
        if max_offset <= self.reported {
            return;
        }
        self.reported = max_offset;
        self.last_write = ctx.now();
        check_report_held(self.reported, max_offset);
        let session = self.session;
        ctx.oneway(
            master,
            Request::HaReport {
                session,
                max_offset,
            },
        );
    }
}

/// The broker's side: it routes the tick and pushes to the service and appends to its store.
impl Running {
    pub(crate) fn start_ha_slave(&mut self, ctx: &mut Context<'_>) {
        self.ha_slave = HaSlave::default();
        ctx.set_timer(
            SLAVE_TICK_MS,
            Timer::Broker(BrokerTimer::Ha(HaTimer::SlaveTick)),
        );
    }

    /// The `HAClient` loop: every tick until this broker is promoted.
    pub(crate) fn ha_slave_tick(&mut self, ctx: &mut Context<'_>) {
        if self.config.role.is_master() {
            return; // Promoted: the loop ends.
        }
        ctx.set_timer(
            SLAVE_TICK_MS,
            Timer::Broker(BrokerTimer::Ha(HaTimer::SlaveTick)),
        );
        let max_offset = self.store.max_physical_offset();
        let interval = self.config.store.ha_send_heartbeat_interval_ms;
        (self.ha_slave).tick(ctx, self.master_addr, (max_offset, interval));
    }

    /// `HA_TRANSFER` from the master (`dispatchReadRequest`).
    pub(crate) fn on_ha_transfer(
        &mut self,
        ctx: &mut Context<'_>,
        master: NodeId,
        packet: (HaSession, u64),
        offset: u64,
        data: &[u8],
    ) {
        if self.config.role.is_master() || !self.ha_slave.in_stream(ctx, master, packet) {
            return;
        }
        let store = &mut self.store;
        let slave_offset = store.max_physical_offset();
        if slave_offset != 0 && slave_offset != offset {
            // "master pushed offset not equal the max phy offset in slave": close, reconnect.
            crate::probe!(HA_MISMATCH);
            ctx.emit(Event::ReplicaMismatch {
                broker: self.config.broker_name.clone(),
                master,
                master_offset: offset,
                slave_offset,
            });
            self.ha_slave.disconnect(ctx, master);
            return;
        }
        if data.is_empty() {
            return;
        }
        if slave_offset == 0 {
            ctx.emit(Event::ReplicaStarted {
                broker: self.config.broker_name.clone(),
                offset,
            });
        }
        store.append_replica(ctx, offset, data);
        let max_offset = store.max_physical_offset();
        crate::invariant!(
            max_offset == offset + data.len() as u64,
            "ha-slave-log-ends-where-push-ended",
            "{} bytes pushed at {offset}, and the slave's log ends at {max_offset}",
            data.len()
        );
        self.ha_slave.report_growth(ctx, master, max_offset);
    }

    /// The connection to the master closed: reconnect at the next tick.
    pub(crate) fn ha_slave_connection_closed(&mut self, peer: NodeId) {
        if self.ha_slave.connected == Some(peer) {
            self.ha_slave.connected = None;
        }
    }
}
