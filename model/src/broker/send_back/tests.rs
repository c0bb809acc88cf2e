//! The answer to CONSUMER_SEND_MSG_BACK is the put's status (4.9.8
//! `asyncConsumerSendMsgBack`): SUCCESS on PUT_OK without waiting for a flush or a slave (the
//! copy's WAIT property is false), SYSTEM_ERROR when the store refuses the put.

use crate::broker::config::{BrokerConfig, BrokerRole, FlushDiskType};
use crate::broker::{Broker, Response, ResponseCode};
use crate::ids::{NodeId, RequestId};
use crate::message::{Message, property};
use crate::node::{Inbound, Node};
use crate::protocol::route::{TopicConfig, perm};
use crate::protocol::{Request, SendMessage, SendMsgBack};
use crate::testing::TestIo;

const CONSUMER: NodeId = NodeId(9);

fn config(role: BrokerRole) -> BrokerConfig {
    let mut config = BrokerConfig::new("c", "broker-a", Vec::new());
    config.role = role;
    config.broker_id = u64::from(role == BrokerRole::Slave);
    config.flush_disk_type = FlushDiskType::SyncFlush;
    config.topics = vec![TopicConfig {
        name: "orders".into(),
        read_queue_nums: 1,
        write_queue_nums: 1,
        perm: perm::READ_WRITE,
    }];
    config
}

fn start(io: &mut TestIo, role: BrokerRole) -> Broker {
    let mut broker = Broker::new(config(role));
    broker.on_start(&mut io.ctx());
    broker
}

fn request(broker: &mut Broker, io: &mut TestIo, id: u64, request: Request) {
    let inbound = Inbound {
        from: CONSUMER,
        request_id: Some(RequestId(id)),
    };
    broker.on_request(&mut io.ctx(), inbound, request);
}

/// The answer to request `id`, if there is one yet.
fn answer(io: &TestIo, id: u64) -> Option<&Response> {
    io.responses
        .iter()
        .find(|(_, request, _)| *request == RequestId(id))
        .map(|(_, _, response)| response)
}

/// A producer's message stored at commitlog offset 0 of a SYNC_FLUSH, SYNC_MASTER master.
fn stored_original(io: &mut TestIo) -> Broker {
    let mut broker = start(io, BrokerRole::SyncMaster);
    let mut message = Message::new("orders", vec![7; 64]);
    message.set_property(property::UNIQ_KEY, "00000000000000000001");
    let send = SendMessage {
        producer_group: "p".into(),
        queue_id: 0,
        born_timestamp_ms: 1,
        reconsume_times: 0,
        message,
    };
    request(&mut broker, io, 1, Request::SendMessage(send));
    broker
}

fn send_back() -> Request {
    Request::ConsumerSendMsgBack(SendMsgBack {
        group: "billing".into(),
        commit_log_offset: 0,
        delay_level: 0,
        origin_topic: "orders".into(),
        max_reconsume_times: 16,
    })
}

/// Under SYNC_FLUSH and SYNC_MASTER, with the flush still running and no slave at all, the
/// send-back is answered SUCCESS at once: 4.9.8 sets WAIT to false on the copy, so neither
/// `submitFlushRequest` nor `submitReplicaRequest` waits.
#[test]
fn a_send_back_waits_for_neither_the_flush_nor_a_slave() {
    let mut io = TestIo::new();
    let mut broker = stored_original(&mut io);
    let before = broker.store().unwrap().max_physical_offset();
    request(&mut broker, &mut io, 2, send_back());
    let store = broker.store().unwrap();
    assert!(store.max_physical_offset() > before, "the copy is stored");
    assert!(store.flushed_where() < store.max_physical_offset());
    let code = answer(&io, 2).map(|r| r.code);
    assert_eq!(code, Some(ResponseCode::Success));
    assert!(
        broker.running().unwrap().waiting_sends.len() <= 1,
        "only the producer's send waits"
    );
}

/// A broker restarted as a slave (an operator's demotion, a route not yet refreshed) refuses
/// the put (`checkStoreStatus`: SERVICE_NOT_AVAILABLE): the answer is SYSTEM_ERROR and its log
/// takes nothing the master did not send.
#[test]
fn a_slave_answers_system_error_and_stores_nothing() {
    let mut io = TestIo::new();
    drop(stored_original(&mut io));
    let mut io = io.restart();
    let mut slave = start(&mut io, BrokerRole::Slave);
    let before = slave.store().unwrap().max_physical_offset();
    assert!(before > 0, "the slave's log holds the original");
    request(&mut slave, &mut io, 2, send_back());
    let code = answer(&io, 2).map(|r| r.code);
    assert_eq!(code, Some(ResponseCode::SystemError));
    let after = slave.store().unwrap().max_physical_offset();
    assert_eq!(after, before);
}
