//! An operator's UPDATE_AND_CREATE_TOPIC (`AdminBrokerProcessor.updateAndCreateTopic`): the
//! broker stores the topic's new queue numbers and permission, persists them, and registers
//! with every name server so that clients learn them at their next route refresh. Messages
//! already in queues past the new read queue number stay on disk, where no consumer reads them.

use super::Running;
use crate::event::Event;
use crate::node::{Context, Inbound};
use crate::protocol::{Response, ResponseBody, TopicConfig};

impl Running {
    pub(super) fn handle_update_topic(
        &mut self,
        ctx: &mut Context<'_>,
        inbound: Inbound,
        config: TopicConfig,
    ) {
        let before = self.topics.get(&config.name).map(|t| t.read_queue_nums);
        if self.config.bugs.shrink_counts_consumed {
            let dropped = config.read_queue_nums..before.unwrap_or(0);
            self.count_consumed(&config.name, dropped);
        }
        ctx.emit(Event::TopicUpdated {
            broker: self.config.broker_name.clone(),
            topic: config.name.clone(),
            read_queue_nums: config.read_queue_nums,
            write_queue_nums: config.write_queue_nums,
            perm: u32::from(config.perm),
        });
        self.topics.update(ctx.disk(), config);
        self.register_all(ctx);
        ctx.respond(inbound, Response::success(ResponseBody::Empty));
    }

    /// The `shrink_counts_consumed` bug: every group's offset of the `dropped` queues moves
    /// to their end.
    fn count_consumed(&mut self, topic: &str, dropped: std::ops::Range<u32>) {
        for group in self.offsets.groups_of(topic) {
            for queue_id in dropped.clone() {
                let end = self.store.max_offset_in_queue(topic, queue_id);
                self.offsets.commit(&group, topic, queue_id, end);
            }
        }
    }
}
