//! The reduction passes, in the order a round runs them, and the edits they are made of:
//! ddmin over arrays of tables and lists, binary search down on counts and times, a range
//! made a point, an optional key removed.

use super::ddmin::ddmin;
use super::edit::{self, Place, render_ms, shown};
use super::{Change, Fingerprint, Shrinker};
use crate::scenario::units::Millis;
use toml_edit::{Array, DocumentMut, Item, Table, Value};

type Pass = fn(&mut Shrinker<'_>);

/// One round: the passes in order, with the names progress shows.
pub const ROUND: [(&str, Pass); 10] = [
    ("faults", faults),
    ("fault windows", fault_windows),
    ("run phase", run_phase),
    ("messages", messages),
    ("instances", instances),
    ("consumers", consumers),
    ("queues", queues),
    ("topics", topics),
    ("broker groups", broker_groups),
    ("optional features", optional_features),
];

/// `doc` whose `[expect]` holds only the expectations `target` fails, each as the file, the
/// cell's `[[matrix.expect]]` or the default (0) states it; and the lines saying what went.
pub fn failing_expectations_only(
    doc: &DocumentMut,
    target: &Fingerprint,
    cell_expectations: &[String],
) -> (DocumentMut, Vec<String>) {
    let mut doc = doc.clone();
    let written = doc.get("expect").and_then(Item::as_table).cloned();
    let mut expect = Table::new();
    for name in &target.failing {
        let from_file = written
            .as_ref()
            .and_then(|t| t.get(name)?.as_value().cloned());
        let from_cell = cell_expectations.iter().rev().find_map(|line| {
            let (key, value) = line.split_once(" = ")?;
            (key.trim() == *name).then(|| value.parse::<Value>().ok())?
        });
        let value = from_cell.or(from_file).unwrap_or_else(|| Value::from(0));
        expect.insert(name, Item::Value(value));
    }
    let removed = written
        .iter()
        .flat_map(|t| t.iter())
        .filter(|(key, _)| !target.failing.contains(key))
        .filter_map(|(key, item)| {
            Some(format!(
                "expect.{key} = {} (it passed)",
                shown(item.as_value()?)
            ))
        })
        .collect();
    doc.insert("expect", Item::Table(expect));
    (doc, removed)
}

fn faults(sh: &mut Shrinker<'_>) {
    if sh.doc.contains_key("swarm") {
        let mut without = sh.doc.clone();
        without.remove("swarm");
        let gone = Change::Removed(vec!["[swarm] (its drawn faults)".into()]);
        if !sh.attempt(without, true, gone) {
            let swarm = Place::Table("swarm");
            sh.ddmin_list(&swarm, "kinds", 1, true);
            sh.minimize_count(&swarm, "min_faults", 0, None, true);
            sh.minimize_count(&swarm, "max_faults", 0, Some(4), true);
        }
    }
    sh.ddmin_array("fault", 0, true);
}

fn fault_windows(sh: &mut Shrinker<'_>) {
    for index in 0..edit::array_len(&sh.doc, "fault") {
        let fault = Place::Element("fault", index);
        sh.drawn_as_written(index);
        sh.range_to_point(&fault, "at");
        sh.minimize_time(&fault, "for", 1, false);
        sh.minimize_time(&fault, "at", 0, false);
        sh.remove_key(&fault, "probability", false);
        sh.range_to_point(&fault, "extra");
        sh.minimize_time(&fault, "extra", 0, false);
        for key in ["node", "a", "b", "from", "to", "request"] {
            sh.ddmin_list(&fault, key, 1, false);
        }
    }
}

fn run_phase(sh: &mut Shrinker<'_>) {
    sh.minimize_time(&Place::Root, "duration", 1_000, false);
}

fn messages(sh: &mut Shrinker<'_>) {
    for index in 0..edit::array_len(&sh.doc, "producer") {
        sh.minimize_count(
            &Place::Element("producer", index),
            "messages",
            1,
            None,
            true,
        );
    }
}

fn instances(sh: &mut Shrinker<'_>) {
    for path in ["producer", "consumer"] {
        for index in 0..edit::array_len(&sh.doc, path) {
            sh.minimize_count(&Place::Element(path, index), "instances", 1, None, true);
        }
    }
}

fn consumers(sh: &mut Shrinker<'_>) {
    sh.ddmin_array("consumer", 0, true);
    sh.ddmin_array("producer", 1, true);
}

fn queues(sh: &mut Shrinker<'_>) {
    for index in 0..edit::array_len(&sh.doc, "topic") {
        sh.minimize_count(&Place::Element("topic", index), "queues", 1, Some(4), true);
    }
}

fn topics(sh: &mut Shrinker<'_>) {
    sh.ddmin_array("topic", 1, true);
}

fn broker_groups(sh: &mut Shrinker<'_>) {
    let groups = "cluster.broker_group";
    sh.ddmin_array(groups, 1, true);
    for index in 0..edit::array_len(&sh.doc, groups) {
        sh.minimize_count(&Place::Element(groups, index), "slaves", 0, None, true);
    }
    sh.minimize_count(&Place::Table("cluster"), "name_servers", 1, Some(2), true);
}

/// Keys whose absence is the simpler scenario: features switched on, optional behaviours.
/// `[bugs]` switches stay: the defect is what a shrunk scenario is about.
const OPTIONAL: [(&str, &[&str]); 4] = [
    (
        "producer",
        &[
            "keys",
            "app_retries",
            "latency_fault_tolerance",
            "retry_when_not_store_ok",
        ],
    ),
    (
        "consumer",
        &[
            "fail",
            "crash_after",
            "restart_after",
            "batch",
            "threads",
            "max_reconsume_times",
        ],
    ),
    (
        "cluster.broker_group",
        &[
            "transient_store_pool",
            "slave_read_enable",
            "peers",
            "dledger_max_wait_ack",
            "dledger_max_push_timeout",
            "dledger_flush_interval",
            "dledger_checkpoint_interval",
            "dledger_max_pending_requests",
        ],
    ),
    ("fault", &["one_way", "returns"]),
];

fn optional_features(sh: &mut Shrinker<'_>) {
    for (path, keys) in OPTIONAL {
        for index in 0..edit::array_len(&sh.doc, path) {
            for key in keys {
                sh.remove_key(&Place::Element(path, index), key, true);
            }
        }
    }
}

impl Shrinker<'_> {
    /// ddmin over the array of tables at `path`, keeping at least `min_len` of them.
    fn ddmin_array(&mut self, path: &'static str, min_len: usize, nearby: bool) {
        let count = edit::array_len(&self.doc, path);
        if count <= min_len {
            return;
        }
        let base = self.doc.clone();
        let described = edit::describe_elements(&base, path);
        let mut last_removed = Vec::new();
        ddmin(count, min_len, &mut |subset| {
            let removed = (0..count)
                .filter(|i| !subset.contains(i))
                .map(|i| format!("[[{path}]] {}", described[i]))
                .collect();
            let candidate = edit::keeping(&base, path, subset);
            let accepted = self.attempt(candidate, nearby, Change::Removed(Vec::new()));
            if accepted {
                last_removed = removed;
            }
            accepted
        });
        self.removed.extend(last_removed);
    }

    /// ddmin over a list value (`node = ["a", "b"]`), keeping at least `min_len` items; a
    /// single item is written as a string.
    fn ddmin_list(&mut self, place: &Place, key: &str, min_len: usize, nearby: bool) {
        let Some(Value::Array(items)) = edit::get(&self.doc, place, key) else {
            return;
        };
        let items: Vec<Value> = items.iter().cloned().collect();
        let old = shown(&Value::Array(items.iter().cloned().collect()));
        let base = self.doc.clone();
        ddmin(items.len(), min_len, &mut |subset| {
            let value = match subset {
                [one] => items[*one].clone(),
                _ => Value::Array(subset.iter().map(|i| items[*i].clone()).collect::<Array>()),
            };
            let label = place.label(key);
            let new = shown(&value);
            match edit::with(&base, place, key, value) {
                Some(candidate) => {
                    self.attempt(candidate, nearby, Change::Value(label, old.clone(), new))
                }
                None => false,
            }
        });
    }

    /// Binary search down on an integer `key`, from its value (or `default` when absent) to
    /// `min`.
    fn minimize_count(
        &mut self,
        place: &Place,
        key: &str,
        min: i64,
        default: Option<i64>,
        nearby: bool,
    ) {
        let current = match edit::get(&self.doc, place, key) {
            Some(value) => value.as_integer(),
            None => default,
        };
        let Some(current) = current else { return };
        let old = current.to_string();
        self.search_down(min, current, &mut |sh, n| {
            let candidate = edit::with(&sh.doc, place, key, Value::from(n));
            let change = Change::Value(place.label(key), old.clone(), n.to_string());
            candidate.is_some_and(|c| sh.attempt(c, nearby, change))
        });
    }

    /// Binary search down on a time `key` (a single time, not a range), in whole seconds
    /// where it is one.
    fn minimize_time(&mut self, place: &Place, key: &str, min_ms: u64, nearby: bool) {
        let Some(Value::String(text)) = edit::get(&self.doc, place, key) else {
            return;
        };
        let Ok(Millis(ms)) = Millis::parse(text.value()) else {
            return;
        };
        let unit = if ms.is_multiple_of(1000) && ms >= 1000 {
            1000
        } else {
            1
        };
        let old = format!("\"{}\"", text.value());
        let lowest = min_ms.div_ceil(unit) as i64;
        self.search_down(lowest, (ms / unit) as i64, &mut |sh, n| {
            let new = render_ms(n as u64 * unit);
            let candidate = edit::with(&sh.doc, place, key, Value::from(new.as_str()));
            let change = Change::Value(place.label(key), old.clone(), format!("\"{new}\""));
            candidate.is_some_and(|c| sh.attempt(c, nearby, change))
        });
    }

    /// The smallest value in `min..=current` that `keep` accepts, trying `min` first, then
    /// halving the distance (each accepted value becomes the new top).
    fn search_down(
        &mut self,
        min: i64,
        current: i64,
        keep: &mut dyn FnMut(&mut Self, i64) -> bool,
    ) {
        if current <= min || keep(self, min) {
            return;
        }
        let (mut low, mut high) = (min + 1, current);
        while low < high {
            let mid = low + (high - low) / 2;
            if keep(self, mid) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
    }

    /// Fault `index`'s start range and node list replaced by what the seed drew from them:
    /// the draws are still made (from a range of one), so the run stays the same.
    fn drawn_as_written(&mut self, index: usize) {
        let Some((start_ms, node)) = self.best.draws.get(index).cloned() else {
            return;
        };
        let fault = Place::Element("fault", index);
        if let Some(Value::String(at)) = edit::get(&self.doc, &fault, "at")
            && at.value().contains("..")
        {
            self.set_value(&fault, "at", Value::from(render_ms(start_ms).as_str()));
        }
        if let (Some(Value::Array(_)), Some(node)) = (edit::get(&self.doc, &fault, "node"), node) {
            self.set_value(&fault, "node", Value::from(node.as_str()));
        }
    }

    /// Tries `key` at `place` set to `value`.
    fn set_value(&mut self, place: &Place, key: &str, value: Value) -> bool {
        let Some(old) = self.shown(place, key) else {
            return false;
        };
        let change = Change::Value(place.label(key), old, shown(&value));
        match edit::with(&self.doc, place, key, value) {
            Some(candidate) => self.attempt(candidate, false, change),
            None => false,
        }
    }

    /// A range (`"20s..40s"`) replaced by its start, or else its end.
    fn range_to_point(&mut self, place: &Place, key: &str) {
        let Some(Value::String(text)) = edit::get(&self.doc, place, key) else {
            return;
        };
        let Some((start, end)) = text.value().split_once("..") else {
            return;
        };
        let old = format!("\"{}\"", text.value());
        for point in [start.trim().to_string(), end.trim().to_string()] {
            let Some(candidate) = edit::with(&self.doc, place, key, Value::from(point.as_str()))
            else {
                return;
            };
            let change = Change::Value(place.label(key), old.clone(), format!("\"{point}\""));
            if self.attempt(candidate, false, change) {
                return;
            }
        }
    }

    /// The scenario without `key` at `place` (its default then applies).
    fn remove_key(&mut self, place: &Place, key: &str, nearby: bool) {
        let Some(old) = self.shown(place, key) else {
            return;
        };
        if let Some(candidate) = edit::without(&self.doc, place, key) {
            let change = Change::Removed(vec![format!("{} = {old}", place.label(key))]);
            self.attempt(candidate, nearby, change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::failing_expectations_only;
    use crate::exit::Exit;
    use crate::shrink::Fingerprint;
    use toml_edit::DocumentMut;

    #[test]
    fn only_failing_expectations_stay_as_the_cell_or_the_file_states_them() {
        let doc: DocumentMut =
            "[expect]\nlost = \"observe\"\nduplicated = \">= 1\"\nrecovered = 3\n"
                .parse()
                .expect("toml");
        let target = Fingerprint {
            exit: Exit::Fail,
            failing: vec!["lost", "recovered", "unexpected"],
            unmeasured: Vec::new(),
            invariant: None,
        };
        let cell = ["lost = 0".to_string()];
        let (kept, removed) = failing_expectations_only(&doc, &target, &cell);
        let expect = kept["expect"].as_table().expect("[expect]");
        let shown = |key: &str| {
            expect
                .get(key)
                .map(|item| item.to_string().trim().to_string())
        };
        assert_eq!(
            shown("lost").as_deref(),
            Some("0"),
            "the cell's condition wins"
        );
        assert_eq!(
            shown("recovered").as_deref(),
            Some("3"),
            "the file's condition"
        );
        assert_eq!(shown("unexpected").as_deref(), Some("0"), "a default is 0");
        assert_eq!(shown("duplicated"), None);
        assert_eq!(removed, vec!["expect.duplicated = \">= 1\" (it passed)"]);
    }
}
