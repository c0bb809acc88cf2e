//! Message tags on producers and subscription expressions on consumers (`TagA || TagB`).

use super::{Checker, at};
use crate::scenario::error::{ScenarioError, Step};
use crate::scenario::limits::{self, Unit};
use crate::scenario::schema::{ConsumerSection, ProducerSection};

/// The tags a producer's messages cycle through (none: messages without a tag).
pub(super) fn producer_tags(
    check: &Checker<'_>,
    index: usize,
    producer: &ProducerSection,
) -> Result<Vec<String>, Box<ScenarioError>> {
    let Some(tags) = &producer.tags else {
        return Ok(Vec::new());
    };
    let path = at("producer", index, "tags");
    if tags.is_empty() {
        let hint = "leave `tags` out for messages without a tag".to_string();
        return Err(check.error(&path, "must name at least one tag", Some(hint)));
    }
    check.at_most(&path, tags.len() as u64, limits::MAX_TAGS, Unit::Count)?;
    for tag in tags {
        tag_name(check, &path, tag)?;
    }
    Ok(tags.clone())
}

/// A consumer block's subscription expression, `*` when not given.
pub(super) fn subscription(
    check: &Checker<'_>,
    index: usize,
    block: &ConsumerSection,
) -> Result<String, Box<ScenarioError>> {
    let Some(expression) = &block.subscription else {
        return Ok(model::filter::SUB_ALL.to_string());
    };
    let path = at("consumer", index, "subscription");
    if expression.trim() == model::filter::SUB_ALL {
        return Ok(model::filter::SUB_ALL.to_string());
    }
    let tags: Vec<&str> = expression.split("||").map(str::trim).collect();
    check.at_most(&path, tags.len() as u64, limits::MAX_TAGS, Unit::Count)?;
    for tag in tags {
        if tag.is_empty() {
            let hint = "write tags joined by `||`, as `TagA || TagB`, or `*` for all".to_string();
            return Err(check.error(&path, "has an empty tag", Some(hint)));
        }
        tag_name(check, &path, tag)?;
    }
    Ok(expression.clone())
}

fn tag_name(check: &Checker<'_>, path: &[Step], tag: &str) -> Result<(), Box<ScenarioError>> {
    check.at_most(path, tag.len() as u64, limits::MAX_TAG_BYTES, Unit::Bytes)?;
    let bad =
        tag.is_empty() || tag == "*" || tag.contains("||") || tag.contains(char::is_whitespace);
    if bad {
        let message = format!("`{tag}` is not a tag: a tag is a word without spaces, `||` or `*`");
        return Err(check.error(path, message, None));
    }
    Ok(())
}
