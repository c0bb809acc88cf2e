//! `sim diff`: one seed under two settings (two cells of a matrix, or two files), and the
//! messages whose fate differs between them: lost under one setting, kept under the other, or
//! any other anomaly one run has and the other does not. A message is the same message in
//! both runs when its id is (its producer's number and its sequence number), which the same
//! workload gives both.

use crate::check::{Anomaly, AnomalyKind, Report};
use model::MessageId;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What the checker said of one message in one run: its anomalies' kinds and their stories.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Fate {
    pub kinds: BTreeSet<AnomalyKind>,
    pub explanations: Vec<String>,
}

impl Fate {
    /// `lost, duplicated`, or `no anomaly`.
    pub fn label(&self) -> String {
        if self.kinds.is_empty() {
            return "no anomaly".to_string();
        }
        let names: Vec<&str> = self.kinds.iter().map(|k| k.name()).collect();
        names.join(", ")
    }
}

/// One message whose fate differs.
#[derive(Clone, Debug, Serialize)]
pub struct Difference {
    pub message: String,
    pub a: Fate,
    pub b: Fate,
}

/// Each message's fate in a run, for the messages with some anomaly.
pub fn fates(anomalies: &[Anomaly]) -> BTreeMap<MessageId, Fate> {
    let mut fates: BTreeMap<MessageId, Fate> = BTreeMap::new();
    for anomaly in anomalies {
        let Some(id) = anomaly
            .message
            .as_deref()
            .and_then(crate::report::story::parse_id)
        else {
            continue;
        };
        let fate = fates.entry(id).or_default();
        fate.kinds.insert(anomaly.kind);
        fate.explanations.push(anomaly.explanation.clone());
    }
    fates
}

impl Difference {
    /// Whether one side lost the message (with any status).
    pub fn is_loss(&self) -> bool {
        let lost = |fate: &Fate| {
            let losses = [
                AnomalyKind::Lost,
                AnomalyKind::LostUnconfirmed,
                AnomalyKind::LostUnexplained,
            ];
            fate.kinds.iter().any(|k| losses.contains(k))
        };
        lost(&self.a) != lost(&self.b)
    }
}

/// The messages whose anomalies differ between the two runs: those one side lost first, then
/// the others, each in message order.
pub fn differences(a: &Report, b: &Report) -> Vec<Difference> {
    let (a, b) = (fates(&a.anomalies), fates(&b.anomalies));
    let ids: BTreeSet<&MessageId> = a.keys().chain(b.keys()).collect();
    let fate = |fates: &BTreeMap<MessageId, Fate>, id| fates.get(id).cloned().unwrap_or_default();
    let mut found: Vec<Difference> = ids
        .into_iter()
        .filter_map(|id| {
            let (a, b) = (fate(&a, id), fate(&b, id));
            (a.kinds != b.kinds).then(|| Difference {
                message: id.to_string(),
                a,
                b,
            })
        })
        .collect();
    // Stable: message order within each part.
    found.sort_by_key(|d| !d.is_loss());
    found
}

/// Two texts side by side, each cut into lines of at most `width` characters.
pub fn side_by_side(left: &str, right: &str, width: usize) -> String {
    let (left, right) = (wrap(left, width), wrap(right, width));
    let rows = left.len().max(right.len());
    let mut out = String::new();
    for row in 0..rows {
        let l = left.get(row).map_or("", String::as_str);
        let r = right.get(row).map_or("", String::as_str);
        out.push_str(format!("{l:<width$} | {r}").trim_end());
        out.push('\n');
    }
    out
}

/// The lines of `text`, each cut at spaces into pieces of at most `width` characters; a
/// piece that goes on a line is indented two more than the line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for line in text.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let mut current = indent.to_string();
        for word in line.split_whitespace() {
            if current.trim().is_empty() {
                current.push_str(word);
            } else if current.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::replace(&mut current, format!("{indent}  {word}")));
            } else {
                current.push(' ');
                current.push_str(word);
            }
        }
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_into_their_column() {
        let text = side_by_side("one two three four", "five", 9);
        assert_eq!(text, "one two   | five\n  three   |\n  four    |\n");
    }
}
