//! The slave's side of replication (`HAClient`): connect to the master the name servers
//! named, report the commitlog's max offset (first 5 s after connecting, then after every
//! batch that moves it and at least every 5 s), append what the master pushes at the same
//! offsets, and refuse data that does not start where the local log ends: a slave that is
//! ahead of, or diverged from, its master logs it and reconnects, and never truncates.

use super::{HEARTBEAT_INTERVAL_MS, HaTimer, SLAVE_TICK_MS};
use crate::broker::{Broker, BrokerTimer};
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

impl Broker {
    pub(crate) fn start_ha_slave(&mut self, ctx: &mut Context<'_>) {
        self.ha_slave = HaSlave::default();
        ctx.set_timer(
            SLAVE_TICK_MS,
            Timer::Broker(BrokerTimer::Ha(HaTimer::SlaveTick)),
        );
    }

    /// The `HAClient` loop: connect when a master is known, report when 5 s have passed.
    pub(crate) fn ha_slave_tick(&mut self, ctx: &mut Context<'_>) {
        if self.config.role.is_master() {
            return; // Promoted: the loop ends.
        }
        ctx.set_timer(
            SLAVE_TICK_MS,
            Timer::Broker(BrokerTimer::Ha(HaTimer::SlaveTick)),
        );
        let now = ctx.now();
        let max_offset = self.store.as_ref().map_or(0, |s| s.max_physical_offset());
        let slave = &mut self.ha_slave;
        if slave.connected.is_none() {
            // `connectMaster`: the first report waits a heartbeat interval.
            let Some(master) = self.master_addr else {
                return;
            };
            slave.connected = Some(master);
            // Unique per slave process and connect: connects happen on 1 s ticks, and a
            // restarted process starts later than its previous incarnation connected.
            let previous = slave.session;
            slave.session = HaSession(now.as_ms() + 1);
            crate::invariant!(
                slave.session > previous,
                "ha-slave-new-session-per-connect",
                "a connect at {now:?} made {:?} after {previous:?}",
                slave.session
            );
            slave.next_seq = 0;
            slave.reported = max_offset;
            slave.last_write = now;
            ctx.oneway(
                master,
                Request::HaConnect {
                    session: slave.session,
                },
            );
            return;
        }
        if now.ms_since(slave.last_write) > HEARTBEAT_INTERVAL_MS {
            check_report_held(slave.reported, max_offset);
            let master = slave.connected.expect("connected");
            slave.last_write = now;
            let report = Request::HaReport {
                session: slave.session,
                max_offset: slave.reported,
            };
            ctx.oneway(master, report);
        }
    }

    /// `HA_TRANSFER` from the master (`dispatchReadRequest`).
    pub(crate) fn on_ha_transfer(
        &mut self,
        ctx: &mut Context<'_>,
        master: NodeId,
        (session, seq): (HaSession, u64),
        offset: u64,
        data: &[u8],
    ) {
        let current = self.ha_slave.connected == Some(master) && self.ha_slave.session == session;
        if self.config.role.is_master() || !current {
            return; // Not this socket: a dead connection's data never arrives on a new one.
        }
        if seq != self.ha_slave.next_seq {
            // Part of the stream vanished (a partition, a dropped packet): TCP would stall
            // and reset the socket, never deliver what follows. Reconnect.
            self.ha_slave.connected = None;
            ctx.close_connection(master);
            return;
        }
        self.ha_slave.next_seq += 1;
        let Some(store) = self.store.as_mut() else {
            return;
        };
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
            self.ha_slave.connected = None;
            ctx.close_connection(master);
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
        // `reportSlaveMaxOffsetPlus`.
        let max_offset = store.max_physical_offset();
        crate::invariant!(
            max_offset == offset + data.len() as u64,
            "ha-slave-log-ends-where-push-ended",
            "{} bytes pushed at {offset}, and the slave's log ends at {max_offset}",
            data.len()
        );
        if max_offset > self.ha_slave.reported {
            self.ha_slave.reported = max_offset;
            self.ha_slave.last_write = ctx.now();
            check_report_held(self.ha_slave.reported, max_offset);
            let session = self.ha_slave.session;
            ctx.oneway(
                master,
                Request::HaReport {
                    session,
                    max_offset,
                },
            );
        }
    }

    /// The connection to the master closed: reconnect at the next tick.
    pub(crate) fn ha_slave_connection_closed(&mut self, peer: NodeId) {
        if self.ha_slave.connected == Some(peer) {
            self.ha_slave.connected = None;
        }
    }
}
