//! Identities shared by every node: the node address, request ids, message ids.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The network address of a process in the simulated cluster (RocketMQ's `ip:port`).
///
/// The harness assigns them densely from 0; it also knows each one's human name.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct NodeId(pub u16);

impl NodeId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node#{}", self.0)
    }
}

/// Correlates a response with its request (RocketMQ's `opaque`). Unique within a run.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct RequestId(pub u64);

/// A message's client-side unique id (RocketMQ's `UNIQ_KEY` property), kept across retries.
///
/// The model packs the producing client's index and a per-client sequence number into it, so a
/// checker can index messages densely. It is written into the record as the 32-digit hex
/// string that `UNIQ_KEY` holds, and parsed back on read.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct MessageId {
    /// Which producer instance created the message (its index in the scenario's order).
    pub producer: u32,
    /// The producer's sequence number for it, dense from 0.
    pub seq: u32,
}

impl MessageId {
    /// The `UNIQ_KEY` property value: 32 upper-case hex digits.
    pub fn to_uniq_key(self) -> String {
        format!(
            "{:016X}{:08X}{:08X}",
            0x524D_5153_494D_u64, self.producer, self.seq
        )
    }

    /// Parses a `UNIQ_KEY` written by [`MessageId::to_uniq_key`].
    pub fn from_uniq_key(key: &str) -> Option<MessageId> {
        if key.len() != 32 || !key.is_ascii() {
            return None;
        }
        let prefix = u64::from_str_radix(&key[..16], 16).ok()?;
        if prefix != 0x524D_5153_494D {
            return None;
        }
        Some(MessageId {
            producer: u32::from_str_radix(&key[16..24], 16).ok()?,
            seq: u32::from_str_radix(&key[24..], 16).ok()?,
        })
    }
}

impl fmt::Display for MessageId {
    /// Short form for reports: `p<producer>-<seq>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}-{}", self.producer, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniq_key_round_trips() {
        let id = MessageId {
            producer: 3,
            seq: 70_000,
        };
        let key = id.to_uniq_key();
        assert_eq!(key.len(), 32);
        assert_eq!(MessageId::from_uniq_key(&key), Some(id));
        assert_eq!(MessageId::from_uniq_key("00"), None);
        assert_eq!(MessageId::from_uniq_key(&"F".repeat(32)), None);
    }
}
