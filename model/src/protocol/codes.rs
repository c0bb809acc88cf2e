//! RocketMQ's request and response codes, with their real numbers and names.
//!
//! Fault rules and reports name requests by these (`SEND_MESSAGE`, `PULL_MESSAGE`, ...). The HA
//! transfer is not a remoting request in RocketMQ (it has its own port and framing); it gets two
//! codes of its own here so that faults can aim at it too. DLedger's requests between the
//! members of a group keep DLedger's numbers, with a `DLEDGER_` prefix on their names.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $num:expr, $text:literal;)* }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The number RocketMQ uses on the wire.
            pub fn number(self) -> i32 {
                match self { $($name::$variant => $num,)* }
            }

            /// RocketMQ's constant name, e.g. `SEND_MESSAGE`.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// Looks a code up by its constant name.
            pub fn from_name(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

codes! {
    /// What a request asks for (`org.apache.rocketmq.common.protocol.RequestCode`).
    RequestCode {
        SendMessage = 10, "SEND_MESSAGE";
        PullMessage = 11, "PULL_MESSAGE";
        QueryMessage = 12, "QUERY_MESSAGE";
        QueryConsumerOffset = 14, "QUERY_CONSUMER_OFFSET";
        UpdateConsumerOffset = 15, "UPDATE_CONSUMER_OFFSET";
        SearchOffsetByTimestamp = 29, "SEARCH_OFFSET_BY_TIMESTAMP";
        GetMaxOffset = 30, "GET_MAX_OFFSET";
        GetMinOffset = 31, "GET_MIN_OFFSET";
        ViewMessageById = 33, "VIEW_MESSAGE_BY_ID";
        HeartBeat = 34, "HEART_BEAT";
        UnregisterClient = 35, "UNREGISTER_CLIENT";
        ConsumerSendMsgBack = 36, "CONSUMER_SEND_MSG_BACK";
        EndTransaction = 37, "END_TRANSACTION";
        CheckTransactionState = 39, "CHECK_TRANSACTION_STATE";
        GetConsumerListByGroup = 38, "GET_CONSUMER_LIST_BY_GROUP";
        NotifyConsumerIdsChanged = 40, "NOTIFY_CONSUMER_IDS_CHANGED";
        LockBatchMq = 41, "LOCK_BATCH_MQ";
        UnlockBatchMq = 42, "UNLOCK_BATCH_MQ";
        GetBrokerRuntimeInfo = 28, "GET_BROKER_RUNTIME_INFO";
        GetAllTopicConfig = 21, "GET_ALL_TOPIC_CONFIG";
        UpdateAndCreateTopic = 17, "UPDATE_AND_CREATE_TOPIC";
        GetAllConsumerOffset = 43, "GET_ALL_CONSUMER_OFFSET";
        GetAllDelayOffset = 45, "GET_ALL_DELAY_OFFSET";
        RegisterBroker = 103, "REGISTER_BROKER";
        GetConsumeStats = 208, "GET_CONSUME_STATS";
        /// Broker -> consumer (oneway): move to these offsets (`Broker2Client.resetOffset`).
        ResetConsumerClientOffset = 220, "RESET_CONSUMER_CLIENT_OFFSET";
        /// Admin -> broker: reset a group's offsets of a topic by time.
        InvokeBrokerToResetOffset = 222, "INVOKE_BROKER_TO_RESET_OFFSET";
        /// Admin -> broker -> consumer: hand one stored message to a client's listener.
        ConsumeMessageDirectly = 309, "CONSUME_MESSAGE_DIRECTLY";
        GetRouteInfoByTopic = 105, "GET_ROUTEINFO_BY_TOPIC";
        /// Slave -> master: the HA socket's connect, which the master accepts
        /// (`AcceptSocketService`).
        HaConnect = 9000, "HA_CONNECT";
        /// Slave -> master: the slave's max physical offset (HAClient's 8-byte report).
        HaReport = 9001, "HA_REPORT";
        /// Master -> slave: a batch of commitlog bytes (HAConnection's transfer).
        HaTransfer = 9002, "HA_TRANSFER";
        /// DLedger's `VOTE` (its own port; named here apart from RocketMQ's codes).
        DLedgerVote = 51001, "DLEDGER_VOTE";
        /// DLedger's `HEART_BEAT`.
        DLedgerHeartBeat = 51002, "DLEDGER_HEART_BEAT";
        /// DLedger's `PUSH` (the leader's entry pusher).
        DLedgerPush = 51004, "DLEDGER_PUSH";
    }
}

codes! {
    /// How a broker or name server answered (`ResponseCode` and `RemotingSysResponseCode`).
    ResponseCode {
        Success = 0, "SUCCESS";
        SystemError = 1, "SYSTEM_ERROR";
        SystemBusy = 2, "SYSTEM_BUSY";
        RequestCodeNotSupported = 3, "REQUEST_CODE_NOT_SUPPORTED";
        FlushDiskTimeout = 10, "FLUSH_DISK_TIMEOUT";
        SlaveNotAvailable = 11, "SLAVE_NOT_AVAILABLE";
        FlushSlaveTimeout = 12, "FLUSH_SLAVE_TIMEOUT";
        MessageIllegal = 13, "MESSAGE_ILLEGAL";
        ServiceNotAvailable = 14, "SERVICE_NOT_AVAILABLE";
        NoPermission = 16, "NO_PERMISSION";
        TopicNotExist = 17, "TOPIC_NOT_EXIST";
        PullNotFound = 19, "PULL_NOT_FOUND";
        PullRetryImmediately = 20, "PULL_RETRY_IMMEDIATELY";
        PullOffsetMoved = 21, "PULL_OFFSET_MOVED";
        QueryNotFound = 22, "QUERY_NOT_FOUND";
        SubscriptionParseFailed = 23, "SUBSCRIPTION_PARSE_FAILED";
        SubscriptionNotExist = 24, "SUBSCRIPTION_NOT_EXIST";
        SubscriptionNotLatest = 25, "SUBSCRIPTION_NOT_LATEST";
        SubscriptionGroupNotExist = 26, "SUBSCRIPTION_GROUP_NOT_EXIST";
        ConsumerNotOnline = 206, "CONSUMER_NOT_ONLINE";
        ConsumeMsgTimeout = 207, "CONSUME_MSG_TIMEOUT";
    }
}

impl RequestCode {
    /// The codes a scenario may name in a fault rule, as a hint for error messages.
    pub fn names() -> Vec<&'static str> {
        RequestCode::ALL.iter().map(|code| code.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for code in RequestCode::ALL {
            assert_eq!(RequestCode::from_name(code.name()), Some(*code));
        }
        for code in ResponseCode::ALL {
            assert_eq!(ResponseCode::from_name(code.name()), Some(*code));
        }
        assert_eq!(RequestCode::SendMessage.number(), 10);
        assert_eq!(RequestCode::from_name("SEND_MESAGE"), None);
    }
}
