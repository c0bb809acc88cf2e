//! `SlaveSynchronize`: every 10 s (first after 3 s) a slave copies its master's topic configs,
//! consumer offsets and delay-level progress, so that it registers the topics and knows the
//! groups' progress when the master is gone. Offsets committed to the slave meanwhile are
//! overwritten by the master's at the next round, and the master never sees them.

use super::{BrokerTimer, Pending, Running};
use crate::node::{Context, Inbound};
use crate::protocol::{Request, Response, ResponseBody};
use crate::timer::Timer;

/// `syncAll`'s period.
pub const INTERVAL_MS: u64 = 10_000;
/// The first round after start.
pub const INITIAL_DELAY_MS: u64 = 3_000;
/// The remoting timeout of each request.
const TIMEOUT_MS: u64 = 3_000;

impl Running {
    /// One `syncAll` round, if a master is known.
    pub(super) fn slave_synchronize(&mut self, ctx: &mut Context<'_>) {
        if self.config.role.is_master() {
            self.loops.slave_sync = false; // Promoted: the loop ends.
            return;
        }
        ctx.set_timer(INTERVAL_MS, Timer::Broker(BrokerTimer::SlaveSync));
        let Some(master) = self.master_addr else {
            return;
        };
        for request in [
            Request::GetAllTopicConfig,
            Request::GetAllConsumerOffset,
            Request::GetAllDelayOffset,
        ] {
            let id = ctx.request(master, request, TIMEOUT_MS);
            self.pending.insert(id, Pending::SlaveSync);
        }
    }

    /// The master's answer to one of them.
    pub(super) fn on_slave_sync(&mut self, ctx: &mut Context<'_>, body: ResponseBody) {
        if self.config.role.is_master() {
            return;
        }
        match body {
            ResponseBody::TopicConfigs(topics) => {
                let count = topics.len();
                self.topics.replace_all(topics);
                crate::invariant!(
                    self.topics.count() == count,
                    "slave-sync-topic-table-taken-whole",
                    "the master sent {count} topic configs, the slave keeps {}",
                    self.topics.count()
                );
            }
            ResponseBody::ConsumerOffsets(entries) => {
                self.offsets.put_all(entries);
                self.offsets.persist(ctx.disk());
            }
            ResponseBody::DelayOffsets(next) => {
                crate::invariant!(
                    self.delays.idle(),
                    "slave-sync-delay-progress-only-on-idle-levels",
                    "a slave delivering delayed messages takes its master's progress"
                );
                self.delays.offsets.next = next;
                self.delays.offsets.persist(ctx.disk());
            }
            _ => {}
        }
    }

    /// The master's side: its tables as they are.
    pub(super) fn handle_sync_request(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        request: &Request,
    ) {
        let body = match request {
            Request::GetAllTopicConfig => ResponseBody::TopicConfigs(self.topics.all()),
            Request::GetAllConsumerOffset => ResponseBody::ConsumerOffsets(self.offsets.entries()),
            _ => ResponseBody::DelayOffsets(self.delays.offsets.next),
        };
        ctx.respond(inbound, Response::success(body));
    }
}
