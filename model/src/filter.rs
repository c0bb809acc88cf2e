//! Tag filtering, as 4.9.8 splits it between the broker and the client.
//!
//! A subscription expression (`TagA || TagB`, or `*`) becomes a `SubscriptionData` with the
//! set of tags and the set of their Java hash codes (`FilterAPI.buildSubscriptionData`). The
//! broker compares only the hash code each ConsumeQueue entry carries
//! (`ExpressionMessageFilter.isMatchedByConsumeQueue`); the client compares the tag strings of
//! what it was sent (`PullAPIWrapper.processPullResult`). Two tags with the same hash code
//! (`Aa` and `BB`) pass the broker and are dropped by the client. SQL92 property filters are
//! not modelled.

use std::collections::BTreeSet;

/// `SubscriptionData.SUB_ALL`.
pub const SUB_ALL: &str = "*";

/// A consumer group's subscription to one topic (`SubscriptionData`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionData {
    pub topic: String,
    /// The expression as given, or `*`.
    pub sub_string: String,
    pub tags: BTreeSet<String>,
    /// `String.hashCode` of each tag.
    pub codes: BTreeSet<i32>,
    /// When the subscription was made (`System.currentTimeMillis()` at `subscribe`): a broker
    /// keeps the newest one a group's heartbeats carry.
    pub sub_version: u64,
}

impl SubscriptionData {
    /// `FilterAPI.buildSubscriptionData`: tags split at `||` and trimmed; empty ones dropped.
    pub fn build(topic: &str, expression: &str, sub_version: u64) -> SubscriptionData {
        let mut data = SubscriptionData {
            topic: topic.to_string(),
            sub_string: expression.to_string(),
            tags: BTreeSet::new(),
            codes: BTreeSet::new(),
            sub_version,
        };
        if expression.is_empty() || expression == SUB_ALL {
            data.sub_string = SUB_ALL.to_string();
            return data;
        }
        for tag in expression
            .split("||")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            data.codes.insert(java_string_hash(tag));
            data.tags.insert(tag.to_string());
        }
        data
    }

    pub fn is_all(&self) -> bool {
        self.sub_string == SUB_ALL
    }

    /// The broker's test of a ConsumeQueue entry: by hash code only.
    pub fn matches_tags_code(&self, tags_code: i64) -> bool {
        self.is_all() || self.codes.contains(&(tags_code as i32))
    }

    /// The client's test of a message it was sent: by the tag itself; a message without a tag
    /// passes only a subscription without tags.
    pub fn matches_tags(&self, tags: Option<&str>) -> bool {
        self.tags.is_empty() || tags.is_some_and(|tag| self.tags.contains(tag))
    }
}

/// The ConsumeQueue's tags code of a message (`tagsString2tagsCode`): 0 without a tag.
pub fn tags_code(tags: Option<&str>) -> i64 {
    tags.filter(|t| !t.is_empty())
        .map_or(0, |tags| i64::from(java_string_hash(tags)))
}

/// Java's `String.hashCode` (tags hash codes in the ConsumeQueue, the hash selector).
pub fn java_string_hash(text: &str) -> i32 {
    java_string_hash_of(&[text])
}

/// Java's `String.hashCode` of the concatenation of `parts`, without building it.
pub fn java_string_hash_of(parts: &[&str]) -> i32 {
    let units = parts.iter().flat_map(|part| part.encode_utf16());
    units.fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_split_at_double_bars() {
        let data = SubscriptionData::build("t", " TagA ||TagB|| ", 7);
        assert_eq!(data.tags.iter().collect::<Vec<_>>(), ["TagA", "TagB"]);
        assert!(data.matches_tags(Some("TagB")));
        assert!(!data.matches_tags(Some("TagC")));
        assert!(!data.matches_tags(None));
        assert!(data.matches_tags_code(tags_code(Some("TagA"))));
        assert!(!data.matches_tags_code(0));
        let all = SubscriptionData::build("t", "", 7);
        assert!(all.is_all() && all.matches_tags(None) && all.matches_tags_code(0));
    }

    #[test]
    fn java_hash_matches() {
        assert_eq!(java_string_hash("TagA"), 2_598_919);
        assert_eq!(java_string_hash(""), 0);
    }

    #[test]
    fn colliding_tags_pass_the_broker_and_not_the_client() {
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB"));
        let data = SubscriptionData::build("t", "Aa", 0);
        assert!(data.matches_tags_code(tags_code(Some("BB"))));
        assert!(!data.matches_tags(Some("BB")));
    }
}
