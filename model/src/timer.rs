//! Every timer a node can set, by role. A node gets back exactly the value it set.

use crate::broker::BrokerTimer;
use crate::client::ClientTimer;
use crate::dledger::server::DLedgerTimer;
use crate::namesrv::NameServerTimer;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    NameServer(NameServerTimer),
    Broker(BrokerTimer),
    Client(ClientTimer),
    /// Timers of a DLedger member a broker hosts.
    DLedger(DLedgerTimer),
    /// Timers of the application driving a client (the harness's workload); opaque here.
    App(u64),
}
