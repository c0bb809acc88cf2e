//! A `TransactionMQProducer`'s END_TRANSACTION (`endTransaction`, `processTransactionState`):
//! oneway to the master of the broker that stored the half, after the local transaction, or
//! to the broker that asked, answering CHECK_TRANSACTION_STATE. Nothing is answered: a lost
//! END_TRANSACTION is known to nobody, and only the check repairs it.

use super::Producer;
use crate::client::ClientCore;
use crate::event::{Event, TransactionState};
use crate::ids::{MessageId, NodeId};
use crate::node::Context;
use crate::protocol::{CheckTransactionState, EndTransaction, Request, SendResult};

impl Producer {
    /// After the local transaction: to the master of `broker` (`findBrokerAddressInPublish`);
    /// with none known the request goes nowhere.
    pub fn end_transaction(
        &self,
        ctx: &mut Context<'_>,
        core: &ClientCore,
        id: MessageId,
        (broker, result): (&str, &SendResult),
        state: TransactionState,
    ) {
        let addrs = core.routes.broker_addrs(broker);
        let to = addrs.and_then(|a| a.get(&0).copied());
        let end = EndTransaction {
            producer_group: self.config.group.clone(),
            tran_state_table_offset: result.queue_offset,
            commit_log_offset: result.commit_log_offset,
            state,
            from_transaction_check: false,
            msg_id: id.to_uniq_key(),
        };
        self.send_end(ctx, id, to, end);
    }

    /// `checkLocalTransaction`'s answer, to the broker that asked, naming the checked copy.
    pub fn answer_check(
        &self,
        ctx: &mut Context<'_>,
        from: NodeId,
        check: &CheckTransactionState,
        state: TransactionState,
    ) {
        let Some(id) = MessageId::from_uniq_key(&check.msg_id) else {
            return;
        };
        let end = EndTransaction {
            producer_group: self.config.group.clone(),
            tran_state_table_offset: check.tran_state_table_offset,
            commit_log_offset: check.commit_log_offset,
            state,
            from_transaction_check: true,
            msg_id: check.msg_id.clone(),
        };
        self.send_end(ctx, id, Some(from), end);
    }

    fn send_end(
        &self,
        ctx: &mut Context<'_>,
        id: MessageId,
        to: Option<NodeId>,
        end: EndTransaction,
    ) {
        crate::invariant!(
            !end.from_transaction_check || to.is_some(),
            "transaction-check-answered-to-asker",
            "{id}: the answer to a transaction check goes nowhere"
        );
        ctx.emit(Event::TransactionEndSent {
            id,
            state: end.state,
            from_check: end.from_transaction_check,
            to,
        });
        if let Some(to) = to {
            ctx.oneway(to, Request::EndTransaction(end));
        }
    }
}
