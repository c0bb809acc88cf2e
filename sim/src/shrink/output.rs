//! The shrunk scenario as a file: a comment block saying where it came from, how it fails,
//! how to replay it and what was removed, then the document itself.

use super::{Input, Shrinker, Size};
use crate::report::replay_line;
use crate::scenario::limits::{Unit, render as count};

/// The file's text.
pub fn render(sh: &Shrinker<'_>, input: &Input<'_>, before: &Size) -> String {
    let scenario = input.scenario;
    let source = replay_line(&scenario.file, scenario.cell.as_deref(), sh.options.seed).replacen(
        "sim run",
        "sim shrink",
        1,
    );
    let mut lines = vec![
        format!("# Shrunk by `{source}`: the smallest scenario found that still fails"),
        format!("# the same way ({}).", sh.target),
    ];
    lines.extend(sh.best.failures.iter().map(|f| format!("#   {f}")));
    lines.push(format!("# Replay: {}", replay_line(sh.out, None, sh.seed)));
    lines.push(format!("# Size: {}", size_line(before, &sh.best.size)));
    let changes = sh.change_lines();
    if !changes.is_empty() {
        lines.push("# Removed or reduced:".into());
        lines.extend(changes.iter().map(|c| format!("#   {c}")));
    }
    if let Some(cell) = &scenario.cell {
        lines.push(format!("#   [matrix]: written out as its cell {cell}"));
    }
    format!("{}\n\n{}", lines.join("\n"), sh.doc)
}

/// `faults 3 -> 1, messages 300 -> 12, nodes 6 -> 4, events 91,024 -> 7,310`.
pub fn size_line(before: &Size, after: &Size) -> String {
    let pair = |a: u64, b: u64| format!("{} -> {}", count(a, Unit::Count), count(b, Unit::Count));
    format!(
        "faults {}, messages {}, nodes {}, events {}",
        pair(before.faults as u64, after.faults as u64),
        pair(before.messages, after.messages),
        pair(before.nodes as u64, after.nodes as u64),
        pair(before.events, after.events)
    )
}
