//! Errors in scenario files, located: file, line, column, the field's path, and a hint.

use std::fmt;
use toml::de::{DeTable, DeValue};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    /// 1-based line and column, when the error has a place in the file.
    pub place: Option<(usize, usize)>,
    /// The field's path, e.g. `fault[1].node`; empty for the file as a whole.
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
    /// A bounded excerpt of the line in question, shown under the message with a caret.
    pub source_line: Option<Excerpt>,
}

impl ScenarioError {
    /// An error at a place in `text` (or at none).
    pub fn at(
        file: &str,
        text: &str,
        place: Option<(usize, usize)>,
        field: String,
        message: String,
        hint: Option<String>,
    ) -> Box<ScenarioError> {
        let source_line = place.and_then(|(line, column)| {
            let text = text.lines().nth(line.checked_sub(1)?)?;
            Some(Excerpt::of(text, column))
        });
        Box::new(ScenarioError {
            file: bounded(file, MAX_QUOTED_CHARS),
            place,
            field: bounded(&field, MAX_QUOTED_CHARS),
            message: bounded(&message, MAX_MESSAGE_CHARS),
            hint: hint.map(|hint| bounded(&hint, MAX_MESSAGE_CHARS)),
            source_line,
        })
    }
}

/// Characters of the offending line an error quotes, around its column.
const EXCERPT_CHARS: usize = 100;
/// Characters of a file name or field path an error quotes.
const MAX_QUOTED_CHARS: usize = 200;
/// Characters of a message or hint (which may quote a value from the file).
const MAX_MESSAGE_CHARS: usize = 600;

/// A bounded piece of the offending line, with where the caret goes in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    /// At most [`EXCERPT_CHARS`] characters, control characters shown as spaces, `…` where cut.
    pub text: String,
    /// 1-based character position of the error in `text`.
    pub caret: usize,
}

impl Excerpt {
    /// The part of `line` around the 1-based byte `column`.
    pub fn of(line: &str, column: usize) -> Excerpt {
        let chars: Vec<char> = line.chars().collect();
        let byte = column.saturating_sub(1).min(line.len());
        let at = line
            .char_indices()
            .take_while(|(offset, _)| *offset < byte)
            .count();
        let start = at.saturating_sub(EXCERPT_CHARS / 2);
        let end = (start + EXCERPT_CHARS).min(chars.len());
        let start = end.saturating_sub(EXCERPT_CHARS).min(start);
        let shown = chars[start..end]
            .iter()
            .map(|&c| if c.is_control() { ' ' } else { c });
        let mut text: String = if start > 0 {
            "…".into()
        } else {
            String::new()
        };
        text.extend(shown);
        if end < chars.len() {
            text.push('…');
        }
        let caret = at - start + 1 + usize::from(start > 0);
        Excerpt { text, caret }
    }
}

/// `text`, cut to `max` characters with `…` where it was cut.
pub fn bounded(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.place {
            write!(f, ":{line}:{column}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)?;
        if let (Some(excerpt), Some((number, _))) = (&self.source_line, self.place) {
            let gutter = " ".repeat(number.to_string().len());
            let pad = " ".repeat(excerpt.caret - 1);
            write!(f, "\n  {number} | {}", excerpt.text)?;
            write!(f, "\n  {gutter} | {pad}^")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

pub fn key(name: &str) -> Step {
    Step::Key(name.to_string())
}

/// Renders a path as `fault[1].node`.
pub fn render_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, column)
}

/// Where a field path is in the file: the start of its value, or of the nearest enclosing
/// item that exists.
pub fn locate(text: &str, path: &[Step]) -> Option<(usize, usize)> {
    let table = DeTable::parse(text).ok()?;
    let mut offset = None;
    let mut value: Option<&DeValue<'_>> = None;
    let mut current_table = Some(table.get_ref());
    for step in path {
        let next = match (step, value, current_table) {
            (Step::Key(name), None, Some(table)) => table
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == name.as_str()),
            (Step::Key(name), Some(DeValue::Table(table)), _) => table
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == name.as_str()),
            (Step::Index(index), Some(DeValue::Array(array)), _) => {
                let item = array.get(*index);
                if let Some(item) = item {
                    offset = Some(item.span().start);
                    value = Some(item.get_ref());
                    current_table = None;
                    continue;
                }
                None
            }
            _ => None,
        };
        let Some((k, v)) = next else { break };
        offset = Some(k.span().start);
        value = Some(v.get_ref());
        current_table = None;
    }
    offset.map(|o| line_column(text, o))
}

/// The path of the field at `offset`: of all keys and values whose span covers it, the
/// tightest. (A table's span is only its header, so containment is tested everywhere.)
pub fn path_at(text: &str, offset: usize) -> String {
    fn walk(
        value: &DeValue<'_>,
        offset: usize,
        path: &mut Vec<Step>,
        best: &mut Option<(usize, Vec<Step>)>,
    ) {
        fn consider(
            span: std::ops::Range<usize>,
            offset: usize,
            path: &[Step],
            best: &mut Option<(usize, Vec<Step>)>,
        ) {
            let covers = span.contains(&offset) || (span.end == offset && span.start < span.end);
            let len = span.end - span.start;
            if covers && best.as_ref().is_none_or(|(best_len, _)| len <= *best_len) {
                *best = Some((len, path.to_vec()));
            }
        }
        match value {
            DeValue::Table(table) => {
                for (k, v) in table.iter() {
                    path.push(Step::Key(k.get_ref().to_string()));
                    consider(k.span(), offset, path, best);
                    consider(v.span(), offset, path, best);
                    walk(v.get_ref(), offset, path, best);
                    path.pop();
                }
            }
            DeValue::Array(array) => {
                for (index, item) in array.iter().enumerate() {
                    path.push(Step::Index(index));
                    consider(item.span(), offset, path, best);
                    walk(item.get_ref(), offset, path, best);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let Ok(table) = DeTable::parse(text) else {
        return String::new();
    };
    let root = DeValue::Table(table.into_inner());
    let mut best = None;
    walk(&root, offset, &mut Vec::new(), &mut best);
    best.map(|(_, path)| render_path(&path)).unwrap_or_default()
}

/// The closest of `candidates` to `word`, if any is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n[cluster]\nname_servers = 2\n\n[[fault]]\nat = \"1s\"\n\n[[fault]]\nat = \"2s\"\nnode = \"b\"\n";

    #[test]
    fn locates_nested_fields() {
        assert_eq!(
            locate(TEXT, &[key("cluster"), key("name_servers")]),
            Some((3, 1))
        );
        assert_eq!(
            locate(TEXT, &[key("fault"), Step::Index(1), key("node")]),
            Some((10, 1))
        );
        // A missing field points at its table.
        assert_eq!(
            locate(TEXT, &[key("fault"), Step::Index(1), key("kind")]).map(|p| p.0),
            Some(8)
        );
    }

    #[test]
    fn names_the_field_at_an_offset() {
        let offset = TEXT.find("\"b\"").unwrap();
        assert_eq!(path_at(TEXT, offset), "fault[1].node");
    }

    #[test]
    fn a_far_column_quotes_a_bounded_excerpt() {
        let line = format!("x = \"{}\" # {}", "a".repeat(70_000), "b".repeat(70_000));
        let column = line.find('#').unwrap() + 1;
        let text = format!("{line}\n");
        let error = ScenarioError::at("f", &text, Some((1, column)), "x".into(), "m".into(), None);
        let shown = error.to_string();
        assert!(shown.len() < 1_000, "{} bytes", shown.len());
        let lines: Vec<&str> = shown.lines().collect();
        let caret = lines[2].find('^').unwrap();
        assert_eq!(lines[1].chars().nth(caret), Some('#'), "{shown}");
    }

    #[test]
    fn an_excerpt_counts_characters_not_bytes() {
        let excerpt = Excerpt::of("é = \tx", 5);
        assert_eq!(excerpt.text, "é =  x");
        assert_eq!(excerpt.caret, 4);
    }

    #[test]
    fn suggests_near_names() {
        assert_eq!(
            did_you_mean("brokr-a", ["broker-a", "broker-b", "namesrv-0"]),
            Some("broker-a")
        );
        assert_eq!(did_you_mean("zzz", ["broker-a"]), None);
    }
}
