//! Edits of a scenario document (toml_edit, so comments and layout survive): tables found by
//! where they are (`Place`), arrays of tables by their dotted path, values read and written
//! in the forms scenario files use (counts as integers, times as "20s").

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

/// Where a table of the scenario is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The top level (`duration`, `name`).
    Root,
    /// A table by its dotted path (`cluster`, `swarm`, `bugs`).
    Table(&'static str),
    /// One element of an array of tables (`fault`, `cluster.broker_group`).
    Element(&'static str, usize),
}

impl Place {
    /// How the report names a key of this table: `fault[2].for`, `cluster.name_servers`.
    pub fn label(&self, key: &str) -> String {
        match self {
            Place::Root => key.to_string(),
            Place::Table(path) => format!("{path}.{key}"),
            Place::Element(path, index) => format!("{path}[{index}].{key}"),
        }
    }
}

/// The table at a dotted path, if it is a table.
fn path_table<'d>(doc: &'d mut DocumentMut, path: &str) -> Option<&'d mut Table> {
    let mut table = doc.as_table_mut();
    for part in path.split('.') {
        table = table.get_mut(part)?.as_table_mut()?;
    }
    Some(table)
}

/// The array of tables at a dotted path (`cluster.broker_group`).
pub fn array_mut<'d>(doc: &'d mut DocumentMut, path: &str) -> Option<&'d mut ArrayOfTables> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (path_table(doc, parent)?, key),
        None => (doc.as_table_mut(), path),
    };
    parent.get_mut(key)?.as_array_of_tables_mut()
}

/// How many tables the array at `path` holds (0 when there is none).
pub fn array_len(doc: &DocumentMut, path: &str) -> usize {
    let mut doc = doc.clone();
    array_mut(&mut doc, path).map_or(0, |array| array.len())
}

/// The table at `place`.
pub fn table_mut<'d>(doc: &'d mut DocumentMut, place: &Place) -> Option<&'d mut Table> {
    match place {
        Place::Root => Some(doc.as_table_mut()),
        Place::Table(path) => path_table(doc, path),
        Place::Element(path, index) => array_mut(doc, path)?.get_mut(*index),
    }
}

/// The value of `key` at `place`.
pub fn get(doc: &DocumentMut, place: &Place, key: &str) -> Option<Value> {
    let mut doc = doc.clone();
    table_mut(&mut doc, place)?.get(key)?.as_value().cloned()
}

/// `doc` with `key` at `place` set to `value` (`None` if there is no such table).
pub fn with(doc: &DocumentMut, place: &Place, key: &str, value: Value) -> Option<DocumentMut> {
    let mut doc = doc.clone();
    table_mut(&mut doc, place)?.insert(key, Item::Value(value));
    Some(doc)
}

/// `doc` without `key` at `place` (`None` if it has no such key).
pub fn without(doc: &DocumentMut, place: &Place, key: &str) -> Option<DocumentMut> {
    let mut doc = doc.clone();
    table_mut(&mut doc, place)?.remove(key)?;
    Some(doc)
}

/// `doc` keeping only the elements `kept` (ascending) of the array at `path`.
pub fn keeping(doc: &DocumentMut, path: &str, kept: &[usize]) -> DocumentMut {
    let mut doc = doc.clone();
    if let Some(array) = array_mut(&mut doc, path) {
        let mut index = 0;
        array.retain(|_| {
            let keep = kept.contains(&index);
            index += 1;
            keep
        });
    }
    doc
}

/// The elements of the array at `path`, one line each, as the report lists removals.
pub fn describe_elements(doc: &DocumentMut, path: &str) -> Vec<String> {
    let mut doc = doc.clone();
    let Some(array) = array_mut(&mut doc, path) else {
        return Vec::new();
    };
    array
        .iter()
        .map(|table| {
            let fields: Vec<String> = table
                .iter()
                .filter_map(|(key, item)| Some(format!("{key} = {}", shown(item.as_value()?))))
                .collect();
            fields.join(", ")
        })
        .collect()
}

/// Milliseconds as a scenario file writes them: "20s", "1500ms".
pub fn render_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A value's text as the file shows it (`300`, `"20s"`).
pub fn shown(value: &Value) -> String {
    let mut value = value.clone();
    value.decor_mut().clear();
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "duration = \"90s\"\n[cluster]\nname_servers = 2\n[[cluster.broker_group]]\nname = \"a\"\n[[cluster.broker_group]]\nname = \"b\"\n[[fault]]\nkind = \"kill\"\n";

    #[test]
    fn edits_find_tables_and_arrays() {
        let doc: DocumentMut = DOC.parse().expect("toml");
        assert_eq!(array_len(&doc, "cluster.broker_group"), 2);
        assert_eq!(array_len(&doc, "fault"), 1);
        assert_eq!(array_len(&doc, "consumer"), 0);
        let kept = keeping(&doc, "cluster.broker_group", &[1]);
        assert_eq!(
            describe_elements(&kept, "cluster.broker_group"),
            vec!["name = \"b\""]
        );
        let place = Place::Table("cluster");
        let one = with(&doc, &place, "name_servers", Value::from(1)).expect("a table");
        assert_eq!(
            get(&one, &place, "name_servers").map(|v| shown(&v)),
            Some("1".into())
        );
        assert!(without(&doc, &Place::Element("fault", 0), "kind").is_some());
        assert!(without(&doc, &Place::Element("fault", 3), "kind").is_none());
        assert_eq!(Place::Element("fault", 2).label("for"), "fault[2].for");
    }

    #[test]
    fn times_render_as_files_write_them() {
        assert_eq!(render_ms(20_000), "20s");
        assert_eq!(render_ms(1_500), "1500ms");
        assert_eq!(render_ms(0), "0s");
    }
}
