//! What each consumer instance subscribes to, as the scenario declares it, and what that
//! means for a message's tag. The checker reads the expression itself (tags between `||`,
//! or `*`) rather than trusting the model's parser: a subscription to `TagA` wants exactly
//! the messages tagged `TagA`, whatever the broker's hash-code prefilter lets through.

/// One instance's subscription to its group's topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Subscription {
    /// The expression as the scenario wrote it.
    pub expression: String,
    /// The tags it names; empty for `*`.
    tags: Vec<String>,
}

impl Subscription {
    pub fn parse(expression: &str) -> Subscription {
        let tags = expression.split("||").map(str::trim);
        let tags = tags.filter(|t| !t.is_empty() && *t != "*");
        Subscription {
            expression: expression.trim().to_string(),
            tags: tags.map(str::to_string).collect(),
        }
    }

    /// Whether a message with this tag is one the subscriber asked for.
    pub fn wants(&self, tag: Option<&str>) -> bool {
        self.tags.is_empty() || tag.is_some_and(|tag| self.tags.iter().any(|t| t == tag))
    }

    /// Whether it is `*`: the broker's prefilter passes everything.
    pub fn wants_all(&self) -> bool {
        self.tags.is_empty()
    }

    /// Whether the broker's prefilter (by the tag's hash code) lets an unwanted message
    /// through, to be dropped by the client.
    pub fn hash_collides(&self, tag: Option<&str>) -> bool {
        let Some(tag) = tag.filter(|t| !t.is_empty()) else {
            return false;
        };
        let code = java_string_hash(tag);
        self.tags.iter().any(|t| java_string_hash(t) == code)
    }
}

/// Java's `String.hashCode`, which 4.9.8 stores in each ConsumeQueue entry as the tags code
/// (the checker's own, so a wrong hash in the model cannot judge itself right).
fn java_string_hash(text: &str) -> i32 {
    let units = text.encode_utf16();
    units.fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// How an audience's instances stand to a message's tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::check) enum Wanted<'a> {
    /// Every instance subscribes to it.
    Everyone,
    /// No instance does.
    Nobody,
    /// Some do (named, with their expressions), the others (named) do not.
    Split {
        wanting: Vec<(&'a str, &'a str)>,
        not: Vec<(&'a str, &'a str)>,
    },
}

/// How `subscriptions` (instance name, subscription) stand to a message tagged `tag`.
pub(in crate::check) fn wanted<'a>(
    subscriptions: &'a [(String, Subscription)],
    tag: Option<&str>,
) -> Wanted<'a> {
    let (wanting, not): (Vec<_>, Vec<_>) = subscriptions
        .iter()
        .map(|(name, s)| (name.as_str(), s.expression.as_str(), s.wants(tag)))
        .partition(|(_, _, wants)| *wants);
    let strip = |list: Vec<(&'a str, &'a str, bool)>| {
        let pairs = list
            .into_iter()
            .map(|(name, expression, _)| (name, expression));
        pairs.collect::<Vec<_>>()
    };
    match (wanting.is_empty(), not.is_empty()) {
        (_, true) => Wanted::Everyone,
        (true, false) => Wanted::Nobody,
        (false, false) => Wanted::Split {
            wanting: strip(wanting),
            not: strip(not),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs(list: &[(&str, &str)]) -> Vec<(String, Subscription)> {
        let parse = |(name, e): &(&str, &str)| (name.to_string(), Subscription::parse(e));
        list.iter().map(parse).collect()
    }

    #[test]
    fn a_star_wants_everything_and_tags_want_only_themselves() {
        let all = Subscription::parse("*");
        assert!(all.wants(None) && all.wants(Some("TagA")));
        let some = Subscription::parse(" TagA || TagB ");
        assert!(some.wants(Some("TagB")));
        assert!(!some.wants(Some("TagC")) && !some.wants(None));
    }

    #[test]
    fn colliding_hash_codes_pass_the_prefilter_only() {
        let aa = Subscription::parse("Aa");
        assert!(!aa.wants(Some("BB")));
        assert!(aa.hash_collides(Some("BB")));
        assert!(!aa.hash_collides(Some("TagA")));
    }

    #[test]
    fn the_hash_is_javas() {
        assert_eq!(java_string_hash("TagA"), 2_598_919);
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB"));
    }

    #[test]
    fn instances_that_disagree_are_named() {
        let list = subs(&[("c-0", "TagA"), ("c-1", "TagB")]);
        assert_eq!(wanted(&list, Some("TagC")), Wanted::Nobody);
        let Wanted::Split { wanting, not } = wanted(&list, Some("TagA")) else {
            panic!("c-0 wants TagA, c-1 does not");
        };
        assert_eq!(
            (wanting, not),
            (vec![("c-0", "TagA")], vec![("c-1", "TagB")])
        );
        assert_eq!(wanted(&subs(&[("c-0", "*")]), None), Wanted::Everyone);
    }
}
