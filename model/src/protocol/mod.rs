//! The wire protocol between nodes: RocketMQ's remoting requests and responses, as Rust values.
//!
//! Each [`Request`] variant mirrors one request code and its header fields; a [`Response`] is a
//! [`ResponseCode`] and a body. Payloads travel through the simulated network unserialized; the
//! network only asks each one for its code and approximate size on the wire.

pub mod codes;
pub mod dledger;
pub mod route;

pub use codes::{RequestCode, ResponseCode};
pub use route::{BrokerData, MessageQueue, QueueData, TopicConfig, TopicRouteData};

use crate::event::TransactionState;
use crate::filter::SubscriptionData;
use crate::ids::NodeId;
use crate::message::Message;

/// The size every request or response carries besides its payload (remoting header).
const HEADER_BYTES: u64 = 64;

/// A request from one node to another.
#[derive(Clone, Debug)]
pub enum Request {
    /// Broker -> name server, every 30 s: the broker's identity and topic config.
    RegisterBroker(RegisterBroker),
    /// Client -> name server: the route of one topic.
    GetRouteInfoByTopic { topic: String },
    /// Producer -> master: store one message.
    SendMessage(SendMessage),
    /// Consumer -> broker: messages of one queue from an offset, held up to a timeout.
    PullMessage(PullMessage),
    /// Client -> broker, every 30 s: who the client is and which groups it serves.
    HeartBeat(HeartBeat),
    /// Client -> broker, on shutdown.
    UnregisterClient {
        client_id: String,
        consumer_group: Option<String>,
    },
    /// Consumer -> broker: the consumer ids of a group.
    GetConsumerListByGroup { group: String },
    /// Consumer -> broker (oneway): the group's committed offset of one queue.
    UpdateConsumerOffset(QueueOffset),
    /// Consumer -> broker: the group's committed offset of one queue.
    QueryConsumerOffset {
        group: String,
        topic: String,
        queue_id: u32,
    },
    /// Anyone -> broker: the queue offset whose record's store timestamp is nearest
    /// `timestamp_ms` (`getOffsetInQueueByTime`).
    SearchOffsetByTimestamp {
        topic: String,
        queue_id: u32,
        timestamp_ms: u64,
    },
    /// Anyone -> broker: the next offset to be written in a queue.
    GetMaxOffset { topic: String, queue_id: u32 },
    /// Anyone -> broker: the first offset still stored in a queue.
    GetMinOffset { topic: String, queue_id: u32 },
    /// Consumer -> broker: a message the listener failed; retry it later.
    ConsumerSendMsgBack(SendMsgBack),
    /// Broker -> consumer (oneway): the group's membership changed; rebalance now.
    NotifyConsumerIdsChanged { group: String },
    /// Orderly consumer -> master: lock these queues for me (60 s lease).
    LockBatchMq {
        group: String,
        client_id: String,
        queues: Vec<MessageQueue>,
    },
    /// Orderly consumer -> master: release these queues.
    UnlockBatchMq {
        group: String,
        client_id: String,
        queues: Vec<MessageQueue>,
    },
    /// Admin -> broker: the messages whose `topic#key` the IndexFile holds, stored in
    /// `begin_ms..=end_ms` (`QueryMessageRequestHeader`; `unique` for a `UNIQ_KEY`).
    QueryMessage {
        topic: String,
        key: String,
        max_num: u32,
        begin_ms: u64,
        end_ms: u64,
    },
    /// Admin -> broker: the message at a CommitLog offset (the offset part of an offset
    /// message id).
    ViewMessageById { offset: u64 },
    /// Admin -> broker: move `group`'s offsets of `topic` on this broker to the offsets stored
    /// at `timestamp_ms` (`None`: the queues' ends, `now`), or only back unless `force`
    /// (`ResetOffsetRequestHeader`).
    InvokeBrokerToResetOffset {
        topic: String,
        group: String,
        timestamp_ms: Option<u64>,
        force: bool,
    },
    /// Broker -> consumer (oneway): the offsets a reset moves `group`'s queues of `topic` to
    /// (`ResetOffsetBody`).
    ResetConsumerClientOffset {
        topic: String,
        group: String,
        offsets: Vec<(MessageQueue, u64)>,
    },
    /// Admin -> broker, then broker -> the consumer `client_id`: consume the message at
    /// `commit_log_offset` now (`ConsumeMessageDirectlyResultRequestHeader`); the broker adds
    /// its name and the record.
    ConsumeMessageDirectly(ConsumeDirectly),
    /// Admin -> broker: a group's progress on every queue of a topic.
    GetConsumeStats { group: String, topic: String },
    /// Admin -> broker: runtime figures (here: the delayed messages not yet delivered).
    GetBrokerRuntimeInfo,
    /// Producer -> master (oneway): commit or roll back a half message.
    EndTransaction(EndTransaction),
    /// Broker -> producer (oneway): what became of a half message's local transaction?
    CheckTransactionState(CheckTransactionState),
    /// Admin -> broker: create a topic or change its queue numbers and permission.
    UpdateAndCreateTopic(TopicConfig),
    /// Slave -> master, every 10 s: the master's topic configs.
    GetAllTopicConfig,
    /// Slave -> master, every 10 s: the master's consumer offsets.
    GetAllConsumerOffset,
    /// Slave -> master, every 10 s: the master's delay-level progress.
    GetAllDelayOffset,
    /// Slave -> master (oneway): the HA socket's connect (the TCP handshake, not a message):
    /// the master accepts it and counts the slave from then on.
    HaConnect { session: HaSession },
    /// Slave -> master (oneway): the slave's max commitlog offset. `session` stands for the
    /// HA socket it travels on: each `connectMaster` opens a new one (not on the wire).
    HaReport { session: HaSession, max_offset: u64 },
    /// Master -> slave (oneway): commitlog bytes starting at `offset`; empty = heartbeat. It
    /// travels on the socket of the report that opened the master's connection.
    HaTransfer {
        session: HaSession,
        /// The packet's place in its socket's stream, from 0 (TCP's sequence numbers, not on
        /// the wire): a slave that sees one missing closes the socket, as TCP would give up.
        seq: u64,
        offset: u64,
        data: Vec<u8>,
    },
    /// DLedger leader -> member: a push of its entry pusher (`PushEntryRequest`).
    DLedgerPush(dledger::PushRequest),
    /// DLedger candidate -> member: a vote request.
    DLedgerVote(dledger::VoteCall),
    /// DLedger leader -> member, every 2 s: a heartbeat.
    DLedgerHeartBeat(dledger::HeartbeatCall),
}

/// One HA socket between a slave and its master. A slave opens a new one each time it
/// connects (`HAClient.connectMaster`); the master makes a new `HAConnection` for each, so
/// nothing said on a dead socket reaches the connection that replaced it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HaSession(pub u64);

impl Request {
    pub fn code(&self) -> RequestCode {
        match self {
            Request::RegisterBroker(_) => RequestCode::RegisterBroker,
            Request::GetRouteInfoByTopic { .. } => RequestCode::GetRouteInfoByTopic,
            Request::SendMessage(_) => RequestCode::SendMessage,
            Request::PullMessage(_) => RequestCode::PullMessage,
            Request::HeartBeat(_) => RequestCode::HeartBeat,
            Request::UnregisterClient { .. } => RequestCode::UnregisterClient,
            Request::GetConsumerListByGroup { .. } => RequestCode::GetConsumerListByGroup,
            Request::UpdateConsumerOffset(_) => RequestCode::UpdateConsumerOffset,
            Request::QueryConsumerOffset { .. } => RequestCode::QueryConsumerOffset,
            Request::SearchOffsetByTimestamp { .. } => RequestCode::SearchOffsetByTimestamp,
            Request::GetMaxOffset { .. } => RequestCode::GetMaxOffset,
            Request::GetMinOffset { .. } => RequestCode::GetMinOffset,
            Request::ConsumerSendMsgBack(_) => RequestCode::ConsumerSendMsgBack,
            Request::NotifyConsumerIdsChanged { .. } => RequestCode::NotifyConsumerIdsChanged,
            Request::LockBatchMq { .. } => RequestCode::LockBatchMq,
            Request::UnlockBatchMq { .. } => RequestCode::UnlockBatchMq,
            Request::GetConsumeStats { .. } => RequestCode::GetConsumeStats,
            Request::InvokeBrokerToResetOffset { .. } => RequestCode::InvokeBrokerToResetOffset,
            Request::ResetConsumerClientOffset { .. } => RequestCode::ResetConsumerClientOffset,
            Request::ConsumeMessageDirectly(_) => RequestCode::ConsumeMessageDirectly,
            Request::QueryMessage { .. } => RequestCode::QueryMessage,
            Request::ViewMessageById { .. } => RequestCode::ViewMessageById,
            Request::GetBrokerRuntimeInfo => RequestCode::GetBrokerRuntimeInfo,
            Request::EndTransaction(_) => RequestCode::EndTransaction,
            Request::CheckTransactionState(_) => RequestCode::CheckTransactionState,
            Request::HaConnect { .. } => RequestCode::HaConnect,
            Request::HaReport { .. } => RequestCode::HaReport,
            Request::GetAllTopicConfig => RequestCode::GetAllTopicConfig,
            Request::UpdateAndCreateTopic(_) => RequestCode::UpdateAndCreateTopic,
            Request::GetAllConsumerOffset => RequestCode::GetAllConsumerOffset,
            Request::GetAllDelayOffset => RequestCode::GetAllDelayOffset,
            Request::HaTransfer { .. } => RequestCode::HaTransfer,
            Request::DLedgerPush(_) => RequestCode::DLedgerPush,
            Request::DLedgerVote(_) => RequestCode::DLedgerVote,
            Request::DLedgerHeartBeat(_) => RequestCode::DLedgerHeartBeat,
        }
    }

    /// Approximate bytes on the wire, for bandwidth limits.
    pub fn wire_bytes(&self) -> u64 {
        let payload = match self {
            Request::SendMessage(send) => send.message.wire_bytes(),
            Request::RegisterBroker(register) => 32 * register.topics.len() as u64,
            Request::HaTransfer { data, .. } => 12 + data.len() as u64,
            Request::HaReport { .. } => 8,
            Request::HaConnect { .. } => 0,
            Request::DLedgerPush(push) => push.wire_bytes(),
            Request::LockBatchMq { queues, .. } | Request::UnlockBatchMq { queues, .. } => {
                24 * queues.len() as u64
            }
            _ => 32,
        };
        HEADER_BYTES + payload
    }
}

/// `REGISTER_BROKER`'s header and body.
#[derive(Clone, Debug)]
pub struct RegisterBroker {
    pub cluster: String,
    pub broker_name: String,
    pub broker_id: u64,
    /// Where slaves connect for replication (the master's HA address).
    pub ha_addr: NodeId,
    pub topics: Vec<TopicConfig>,
}

/// `SEND_MESSAGE`'s header and body.
#[derive(Clone, Debug)]
pub struct SendMessage {
    pub producer_group: String,
    pub queue_id: u32,
    pub born_timestamp_ms: u64,
    pub reconsume_times: u32,
    pub message: Message,
}

/// `PULL_MESSAGE`'s header.
#[derive(Clone, Debug)]
pub struct PullMessage {
    pub group: String,
    pub topic: String,
    pub queue_id: u32,
    pub queue_offset: u64,
    pub max_msg_nums: u32,
    /// The consumer's committed offset, piggy-backed (`FLAG_COMMIT_OFFSET`); masters store it.
    pub commit_offset: Option<u64>,
    /// How long the broker may hold the pull when there is nothing new (long polling).
    pub suspend_timeout_ms: u64,
    /// The expression itself (`FLAG_SUBSCRIPTION`), sent by a lite pull consumer; a push
    /// consumer leaves the broker to use what the group's heartbeats carried.
    pub subscription: Option<String>,
    /// The consumer's `subVersion`: a broker holding an older subscription refuses the pull.
    pub sub_version: u64,
    /// The harness's read-back, not a client: it reads every ConsumeQueue the store holds,
    /// whatever the topic's permission and read queue number say (no client can).
    pub audit: bool,
}

/// A group's consume offset of one queue (`UPDATE_CONSUMER_OFFSET`'s header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueOffset {
    pub group: String,
    pub topic: String,
    pub queue_id: u32,
    pub offset: u64,
}

/// `CONSUMER_SEND_MSG_BACK`'s header.
#[derive(Clone, Debug)]
pub struct SendMsgBack {
    pub group: String,
    /// The commitlog offset of the failed message.
    pub commit_log_offset: u64,
    pub delay_level: i32,
    pub origin_topic: String,
    pub max_reconsume_times: u32,
}

/// `END_TRANSACTION`'s header (`EndTransactionRequestHeader`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndTransaction {
    pub producer_group: String,
    /// The half message's offset in the half queue.
    pub tran_state_table_offset: u64,
    /// The half message's commitlog offset (from its `offsetMsgId`).
    pub commit_log_offset: u64,
    pub state: TransactionState,
    pub from_transaction_check: bool,
    /// The message's `UNIQ_KEY`.
    pub msg_id: String,
}

/// `CONSUME_MESSAGE_DIRECTLY`'s header, and the body the broker adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumeDirectly {
    pub group: String,
    pub client_id: String,
    /// The offset part of the message's offset id.
    pub commit_log_offset: u64,
    /// Set by the broker (`extFields.brokerName`).
    pub broker_name: Option<String>,
    /// The record, read by the broker.
    pub record: Option<Vec<u8>>,
}

/// `CHECK_TRANSACTION_STATE`'s header, with the half message's group and id from its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckTransactionState {
    pub producer_group: String,
    /// The checked copy's half-queue offset and commitlog offset: an answer names these.
    pub tran_state_table_offset: u64,
    pub commit_log_offset: u64,
    /// The message's `UNIQ_KEY`.
    pub msg_id: String,
}

/// `HEART_BEAT`'s body (`HeartbeatData`).
#[derive(Clone, Debug)]
pub struct HeartBeat {
    pub client_id: String,
    pub producer_groups: Vec<String>,
    pub consumers: Vec<ConsumerData>,
}

/// One consumer group a client serves (`ConsumerData`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerData {
    pub group: String,
    pub broadcasting: bool,
    /// Per topic subscribed, including the group's `%RETRY%` topic in clustering mode.
    pub subscriptions: Vec<SubscriptionData>,
}

/// A response: a code and whatever body that code carries.
#[derive(Clone, Debug)]
pub struct Response {
    pub code: ResponseCode,
    pub body: ResponseBody,
}

impl Response {
    pub fn new(code: ResponseCode, body: ResponseBody) -> Response {
        Response { code, body }
    }

    pub fn success(body: ResponseBody) -> Response {
        Response::new(ResponseCode::Success, body)
    }

    pub fn error(code: ResponseCode) -> Response {
        Response::new(code, ResponseBody::Empty)
    }

    pub fn wire_bytes(&self) -> u64 {
        let payload = match &self.body {
            ResponseBody::Pull(pull) => pull.messages.iter().map(|m| m.len() as u64).sum(),
            ResponseBody::Route(route) => 48 * route.broker_datas.len() as u64,
            _ => 16,
        };
        HEADER_BYTES + payload
    }
}

/// The body of a response, by request kind.
#[derive(Clone, Debug)]
pub enum ResponseBody {
    Empty,
    Register(RegisterResult),
    Route(TopicRouteData),
    Send(SendResult),
    Pull(PullResult),
    /// Whole records, as QUERY_MESSAGE and VIEW_MESSAGE_BY_ID answer them.
    Records(Vec<Vec<u8>>),
    ConsumerIds(Vec<String>),
    Offset(u64),
    LockedQueues(Vec<MessageQueue>),
    ConsumeStats(Vec<QueueProgress>),
    /// INVOKE_BROKER_TO_RESET_OFFSET: the offsets the broker sent the group's consumers.
    ResetOffsets(Vec<(MessageQueue, u64)>),
    /// CONSUME_MESSAGE_DIRECTLY: whether the listener consumed it (`CR_SUCCESS`).
    ConsumedDirectly {
        consumed: bool,
    },
    RuntimeInfo(RuntimeInfo),
    /// `GET_ALL_TOPIC_CONFIG`.
    TopicConfigs(Vec<TopicConfig>),
    /// `GET_ALL_CONSUMER_OFFSET`: (`topic@group`, queue id, offset).
    ConsumerOffsets(Vec<(String, u32, u64)>),
    /// `GET_ALL_DELAY_OFFSET`: the next offset of each delay level.
    DelayOffsets([u64; 18]),
    /// A DLedger member's answer to a push.
    DLedgerPush(dledger::PushResponse),
    /// A DLedger member's answer to a vote request.
    DLedgerVote(dledger::VoteReply),
    /// A DLedger member's answer to a heartbeat.
    DLedgerHeartBeat(dledger::HeartbeatReply),
}

/// One queue's progress (`ConsumeStats.offsetTable` entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueProgress {
    pub queue: MessageQueue,
    /// The next offset the broker will write.
    pub broker_offset: u64,
    /// The group's committed offset (0 if none).
    pub consumer_offset: u64,
}

/// What `GET_BROKER_RUNTIME_INFO` reports here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// Delayed messages stored but not yet delivered (`scheduleMessageOffset_N` summed).
    pub schedule_backlog: u64,
    /// Half messages the transaction check has not passed yet (the half queue's max offset
    /// minus the check's progress).
    pub transaction_backlog: u64,
}

/// `REGISTER_BROKER`'s answer: where a slave finds its master.
#[derive(Clone, Debug, Default)]
pub struct RegisterResult {
    pub master_addr: Option<NodeId>,
    pub ha_addr: Option<NodeId>,
}

/// `SEND_MESSAGE`'s answer header (`SendMessageResponseHeader`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendResult {
    pub queue_id: u32,
    pub queue_offset: u64,
    /// The commitlog offset and the broker that stored it (the `offsetMsgId` encodes both).
    pub commit_log_offset: u64,
    pub store_host: NodeId,
    /// The record's size: not in RocketMQ's answer, but the history needs it to tell whether a
    /// flush or a replica covered the whole record.
    pub size: u32,
}

/// `PULL_MESSAGE`'s answer (`PullMessageResponseHeader` plus raw records).
#[derive(Clone, Debug, Default)]
pub struct PullResult {
    pub next_begin_offset: u64,
    pub min_offset: u64,
    pub max_offset: u64,
    /// The broker the client should pull this queue from next (0 = master).
    pub suggest_which_broker_id: u64,
    /// Encoded commitlog records, decoded by the client.
    pub messages: Vec<Vec<u8>>,
}
