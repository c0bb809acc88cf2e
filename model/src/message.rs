//! A message as producers build it (`Message`): topic, flag, properties and body.
//!
//! Properties are encoded as RocketMQ does (`MessageDecoder.messageProperties2String`):
//! `name \u{1} value \u{2}` for each pair.

use crate::ids::MessageId;
use std::collections::BTreeMap;

/// Property names the model uses (`MessageConst`).
pub mod property {
    pub const KEYS: &str = "KEYS";
    pub const TAGS: &str = "TAGS";
    pub const WAIT_STORE_MSG_OK: &str = "WAIT";
    pub const UNIQ_KEY: &str = "UNIQ_KEY";
    pub const DELAY_TIME_LEVEL: &str = "DELAY";
    pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
    pub const REAL_TOPIC: &str = "REAL_TOPIC";
    pub const REAL_QUEUE_ID: &str = "REAL_QID";
    pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
    pub const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
    pub const RECONSUME_TIME: &str = "RECONSUME_TIME";
    pub const TRANSACTION_PREPARED: &str = "TRAN_MSG";
    pub const PRODUCER_GROUP: &str = "PGROUP";
    pub const TRANSACTION_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
}

const NAME_VALUE_SEPARATOR: char = '\u{1}';
const PROPERTY_SEPARATOR: char = '\u{2}';

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub flag: i32,
    pub properties: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn new(topic: impl Into<String>, body: Vec<u8>) -> Message {
        Message {
            topic: topic.into(),
            body,
            ..Message::default()
        }
    }

    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }

    pub fn set_property(&mut self, name: &str, value: impl Into<String>) {
        self.properties.insert(name.to_string(), value.into());
    }

    /// The client-side unique id, if the message carries a well-formed one.
    pub fn message_id(&self) -> Option<MessageId> {
        MessageId::from_uniq_key(self.property(property::UNIQ_KEY)?)
    }

    /// The sharding key of an ordered message (kept in `KEYS`).
    pub fn keys(&self) -> Option<&str> {
        self.property(property::KEYS)
    }

    pub fn tags(&self) -> Option<&str> {
        self.property(property::TAGS)
    }

    pub fn wire_bytes(&self) -> u64 {
        (self.topic.len() + self.body.len() + 16 * self.properties.len()) as u64
    }

    pub fn encode_properties(&self) -> String {
        encode_properties(&self.properties)
    }
}

pub fn encode_properties(properties: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (name, value) in properties {
        out.push_str(name);
        out.push(NAME_VALUE_SEPARATOR);
        out.push_str(value);
        out.push(PROPERTY_SEPARATOR);
    }
    out
}

/// Parses an encoded property string; malformed pairs are skipped, as RocketMQ skips them.
pub fn decode_properties(text: &str) -> BTreeMap<String, String> {
    text.split(PROPERTY_SEPARATOR)
        .filter_map(|pair| pair.split_once(NAME_VALUE_SEPARATOR))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_round_trip() {
        let mut message = Message::new("orders", b"hello".to_vec());
        message.set_property(property::KEYS, "k7");
        message.set_property(
            property::UNIQ_KEY,
            MessageId {
                producer: 1,
                seq: 2,
            }
            .to_uniq_key(),
        );
        let encoded = message.encode_properties();
        assert_eq!(decode_properties(&encoded), message.properties);
        assert_eq!(
            message.message_id(),
            Some(MessageId {
                producer: 1,
                seq: 2
            })
        );
        assert_eq!(message.keys(), Some("k7"));
    }
}
