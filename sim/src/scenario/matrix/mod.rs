//! Scenario matrices. A `[matrix]` table names axes and their values:
//!
//! ```toml
//! [matrix]
//! flush = ["async", "sync"]
//! fault = ["kill", "power-off"]
//! ```
//!
//! and `${flush}` inside any string of the file stands for the value of the cell being run.
//! A cell is written `flush=sync,fault=kill`; an axis left out takes its first value, so a
//! matrix file runs like any other. Substitution keeps every line where it is, so errors still
//! point at the right line. `[[matrix.expect]]` entries set expectations for some cells (see
//! `expect`) and `[[matrix.skip]]` entries leave cells out (see `skip`); `expect` and `skip`
//! are therefore no axis names.

mod expect;
mod skip;

pub use expect::CellExpect;
pub use skip::CellSkip;

use super::error::{self, ScenarioError};
use super::limits;
use super::schema::ExpectSection;

/// The axes of a matrix, in the order the file declares them, and its per-cell expectations.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub axes: Vec<(String, Vec<String>)>,
    /// The `[[matrix.expect]]` entries, in file order.
    pub expects: Vec<CellExpect>,
    /// The `[[matrix.skip]]` entries, in file order.
    pub skips: Vec<CellSkip>,
}

/// One value per axis, in axis order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell(pub Vec<(String, String)>);

impl Cell {
    /// `flush=sync,fault=kill`.
    pub fn spec(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(axis, value)| format!("{axis}={value}"))
            .collect();
        parts.join(",")
    }
}

impl Matrix {
    /// The matrix a file declares, if any. A file that is not TOML has none (its parse will
    /// say what is wrong with it).
    pub fn of(text: &str, file: &str) -> Result<Option<Matrix>, Box<ScenarioError>> {
        let Ok(table) = without_placeholders(text).parse::<toml::Table>() else {
            return Ok(None);
        };
        let Some(matrix) = table.get("matrix") else {
            return Ok(None);
        };
        let fail = |path: Vec<error::Step>, message: String, hint: Option<String>| {
            let place = error::locate(text, &path);
            let field = error::render_path(&path);
            ScenarioError::at(file, text, place, field, message, hint)
        };
        let Some(matrix) = matrix.as_table() else {
            let message = "must be a table of axes".to_string();
            return Err(fail(vec![error::key("matrix")], message, None));
        };
        let mut axes = Vec::new();
        let sections = ["expect", "skip"];
        for (axis, values) in matrix
            .iter()
            .filter(|(axis, _)| !sections.contains(&axis.as_str()))
        {
            let field = vec![error::key("matrix"), error::key(axis)];
            let values: Option<Vec<String>> = values
                .as_array()
                .and_then(|list| list.iter().map(scalar_text).collect());
            match values {
                Some(values) if !values.is_empty() => axes.push((axis.clone(), values)),
                _ => {
                    let message =
                        "must be a non-empty list of strings, numbers or booleans".to_string();
                    return Err(fail(field, message, None));
                }
            }
        }
        // The file's order, not the table's.
        axes.sort_by_key(|(axis, _)| text.find(&format!("\n{axis} =")).unwrap_or(usize::MAX));
        let mut read = Matrix {
            axes,
            expects: Vec::new(),
            skips: Vec::new(),
        };
        read.check_limits()
            .map_err(|message| fail(vec![error::key("matrix")], message, None))?;
        if let Some(expects) = matrix.get("expect") {
            read.expects = expect::parse(expects, &read.axes, &fail)?;
        }
        if let Some(skips) = matrix.get("skip") {
            read.skips = skip::parse(skips, &read.axes, &fail)?;
            if read.cells().is_empty() {
                let message = "leaves out every cell".to_string();
                return Err(fail(
                    vec![error::key("matrix"), error::key("skip")],
                    message,
                    None,
                ));
            }
        }
        Ok(Some(read))
    }

    /// What `[[matrix.expect]]` sets for `cell` (later entries winning), to lay over the file's
    /// `[expect]`; `None` when no entry applies.
    pub fn expect_for(&self, cell: &Cell) -> Result<Option<ExpectSection>, String> {
        let keys = expect::keys_for(&self.expects, cell);
        if keys.is_empty() {
            return Ok(None);
        }
        expect::section(keys).map(Some)
    }

    /// The keys `[[matrix.expect]]` sets for `cell`, as written: `lost = 0`.
    pub fn expect_shown(&self, cell: &Cell) -> Vec<String> {
        expect::keys_for(&self.expects, cell)
            .iter()
            .map(|(name, value)| format!("{name} = {value}"))
            .collect()
    }

    /// Axes, values per axis and cells within their limits, before any cell is built.
    fn check_limits(&self) -> Result<(), String> {
        let render = |n| limits::render(n, limits::Unit::Count);
        if self.axes.is_empty() {
            let example = "give it an axis (`flush = [\"async\", \"sync\"]`) or leave it out";
            return Err(format!("has no axes: {example}"));
        }
        if self.axes.len() as u64 > limits::MAX_MATRIX_AXES {
            return Err(format!(
                "has {} axes; the limit is {}",
                self.axes.len(),
                render(limits::MAX_MATRIX_AXES)
            ));
        }
        let mut cells: u64 = 1;
        for (axis, values) in &self.axes {
            if values.len() as u64 > limits::MAX_MATRIX_VALUES {
                return Err(format!(
                    "axis `{axis}` has {} values; the limit is {}",
                    values.len(),
                    render(limits::MAX_MATRIX_VALUES)
                ));
            }
            cells = cells.saturating_mul(values.len() as u64);
        }
        if cells > limits::MAX_MATRIX_CELLS {
            return Err(format!(
                "has {} cells; the limit is {}",
                render(cells),
                render(limits::MAX_MATRIX_CELLS)
            ));
        }
        Ok(())
    }

    /// Every cell `[[matrix.skip]]` leaves in, the first axis changing slowest.
    pub fn cells(&self) -> Vec<Cell> {
        let skipped = |cell: &Cell| self.skip_of(cell).is_some();
        self.product().into_iter().filter(|c| !skipped(c)).collect()
    }

    /// The first `[[matrix.skip]]` entry that leaves `cell` out.
    pub fn skip_of(&self, cell: &Cell) -> Option<&CellSkip> {
        self.skips.iter().find(|skip| skip.applies_to(cell))
    }

    /// Every combination of the axes' values.
    fn product(&self) -> Vec<Cell> {
        let mut cells = vec![Vec::new()];
        for (axis, values) in &self.axes {
            cells = cells
                .into_iter()
                .flat_map(|cell: Vec<(String, String)>| {
                    values.iter().map(move |value| {
                        let mut cell = cell.clone();
                        cell.push((axis.clone(), value.clone()));
                        cell
                    })
                })
                .collect();
        }
        cells.into_iter().map(Cell).collect()
    }

    /// Reads `axis=value,...`; axes left out take their first value.
    pub fn cell(&self, spec: Option<&str>) -> Result<Cell, String> {
        let mut chosen: Vec<(String, String)> = self
            .axes
            .iter()
            .map(|(axis, values)| (axis.clone(), values[0].clone()))
            .collect();
        if spec.is_some_and(|spec| spec.trim().is_empty()) {
            return Err("is empty: write axis=value,...".to_string());
        }
        let mut given: Vec<&str> = Vec::new();
        for part in spec
            .unwrap_or("")
            .split(',')
            .filter(|p| !p.trim().is_empty())
        {
            let Some((axis, value)) = part.split_once('=') else {
                return Err(format!("`{part}`: write axis=value"));
            };
            let (axis, value) = (axis.trim(), value.trim());
            if given.contains(&axis) {
                return Err(format!("`{axis}` is given twice"));
            }
            given.push(axis);
            let Some((_, values)) = self.axes.iter().find(|(name, _)| name == axis) else {
                let names: Vec<&str> = self.axes.iter().map(|(name, _)| name.as_str()).collect();
                return Err(format!(
                    "no axis `{axis}`; the axes are {}",
                    names.join(", ")
                ));
            };
            if !values.iter().any(|v| v == value) {
                return Err(format!(
                    "`{axis}` has no value `{value}`; its values are {}",
                    values.join(", ")
                ));
            }
            let slot = chosen
                .iter_mut()
                .find(|(name, _)| name == axis)
                .expect("listed");
            slot.1 = value.to_string();
        }
        let cell = Cell(chosen);
        if let Some(skip) = self.skip_of(&cell) {
            return Err(format!("{} is left out: {}", cell.spec(), skip.because));
        }
        Ok(cell)
    }
}

/// `text` with every `${...}` read as `0`, so that a file whose numbers and booleans are
/// placeholders (`slaves = ${slaves}`) parses for its `[matrix]`.
fn without_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push('0');
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// An axis value as it is substituted: a string as written, a number or boolean as TOML
/// writes it (`slaves = ${slaves}` with `slaves = [0, 1]`, a `[bugs]` switch with
/// `[false, true]`); `None` for a table, an array or a date.
pub(super) fn scalar_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => {
            Some(value.to_string())
        }
        _ => None,
    }
}

/// The file's text for one cell: every `${axis}` replaced by the cell's value; `None` if the
/// result would be longer than a scenario file may be.
pub fn substitute(text: &str, cell: &Cell) -> Option<String> {
    let mut text = text.to_string();
    for (axis, value) in &cell.0 {
        let placeholder = format!("${{{axis}}}");
        let uses = text.matches(&placeholder).count() as u64;
        let grown = uses.saturating_mul(value.len().saturating_sub(placeholder.len()) as u64);
        if text.len() as u64 + grown > limits::MAX_FILE_BYTES {
            return None;
        }
        text = text.replace(&placeholder, value);
    }
    Some(text)
}

/// Characters of a placeholder an error quotes at most.
const MAX_PLACEHOLDER_CHARS: usize = 40;

/// The first `${...}` left after substitution: a placeholder no axis defines. An unclosed one
/// ends at its line's end.
pub fn unknown_placeholder(text: &str) -> Option<(usize, String)> {
    let start = text.find("${")?;
    let rest = &text[start..];
    let line = rest.split('\n').next().unwrap_or(rest);
    let quoted = match line.find('}') {
        Some(end) => &line[..=end],
        None => line,
    };
    Some((start, error::bounded(quoted, MAX_PLACEHOLDER_CHARS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "name = \"x\"\n[matrix]\nflush = [\"async\", \"sync\"]\nfault = [\"kill\", \"power-off\", \"disk-loss\"]\n";

    #[test]
    fn axes_take_numbers_and_booleans_as_toml_writes_them() {
        let file =
            "name = \"x\"\nslaves = ${slaves}\n[matrix]\nslaves = [0, 2]\nbug = [false, true]\n";
        let matrix = Matrix::of(file, "f").unwrap().unwrap();
        let cells = matrix.cells();
        assert_eq!(cells[3].spec(), "slaves=2,bug=true");
        assert_eq!(
            substitute("slaves = ${slaves}\nx = ${bug}", &cells[3]).unwrap(),
            "slaves = 2\nx = true"
        );
        assert!(Matrix::of("[matrix]\na = [[1]]\n", "f").is_err());
    }

    #[test]
    fn axes_keep_the_file_order_and_cells_cover_the_product() {
        let matrix = Matrix::of(FILE, "f").unwrap().unwrap();
        assert_eq!(matrix.axes[0].0, "flush");
        assert_eq!(matrix.axes[1].0, "fault");
        let cells = matrix.cells();
        assert_eq!(cells.len(), 6);
        assert_eq!(cells[0].spec(), "flush=async,fault=kill");
        assert_eq!(cells[5].spec(), "flush=sync,fault=disk-loss");
    }

    #[test]
    fn a_cell_defaults_to_first_values_and_rejects_unknowns() {
        let matrix = Matrix::of(FILE, "f").unwrap().unwrap();
        assert_eq!(matrix.cell(None).unwrap().spec(), "flush=async,fault=kill");
        assert_eq!(
            matrix.cell(Some("fault=disk-loss")).unwrap().spec(),
            "flush=async,fault=disk-loss"
        );
        assert!(
            matrix
                .cell(Some("flash=sync"))
                .unwrap_err()
                .contains("no axis `flash`")
        );
        assert!(
            matrix
                .cell(Some("flush=fast"))
                .unwrap_err()
                .contains("its values are async, sync")
        );
    }

    #[test]
    fn a_skip_leaves_its_cells_out_and_says_why_when_one_is_asked_for() {
        let text = format!(
            "{FILE}[[matrix.skip]]\nwhen = {{ flush = \"sync\", fault = [\"kill\", \"disk-loss\"] }}\nbecause = \"no reason\"\n"
        );
        let matrix = Matrix::of(&text, "f").unwrap().unwrap();
        let specs: Vec<String> = matrix.cells().iter().map(Cell::spec).collect();
        assert_eq!(specs.len(), 4);
        assert!(specs.contains(&"flush=sync,fault=power-off".to_string()));
        assert!(!specs.contains(&"flush=sync,fault=kill".to_string()));
        let asked = matrix.cell(Some("flush=sync,fault=disk-loss")).unwrap_err();
        assert_eq!(asked, "flush=sync,fault=disk-loss is left out: no reason");
        assert_eq!(matrix.skips[0].spec(), "flush=sync,fault=kill|disk-loss");
    }

    #[test]
    fn a_skip_names_a_reason_and_leaves_some_cell_in() {
        let skip = |entry: &str| format!("{FILE}[[matrix.skip]]\n{entry}\n");
        let no_reason = Matrix::of(&skip("when = { flush = \"sync\" }"), "f").unwrap_err();
        assert!(
            no_reason.to_string().contains("needs `because`"),
            "{no_reason}"
        );
        let all = skip("when = { flush = [\"async\", \"sync\"] }\nbecause = \"x\"");
        let all = Matrix::of(&all, "f").unwrap_err();
        assert!(all.to_string().contains("leaves out every cell"), "{all}");
        let axis = Matrix::of(&skip("when = { flash = \"sync\" }\nbecause = \"x\""), "f");
        assert!(
            axis.unwrap_err()
                .to_string()
                .contains("matrix.skip[0].when.flash")
        );
    }

    #[test]
    fn a_cell_is_not_empty_and_names_each_axis_once() {
        let matrix = Matrix::of(FILE, "f").unwrap().unwrap();
        assert!(matrix.cell(Some("")).unwrap_err().contains("empty"));
        let twice = matrix.cell(Some("flush=sync,flush=async")).unwrap_err();
        assert!(twice.contains("`flush` is given twice"), "{twice}");
    }

    #[test]
    fn cells_are_counted_before_they_are_built() {
        let axes: String = (0..10)
            .map(|i| {
                format!(
                    "a{i} = [{}]\n",
                    (0..10)
                        .map(|v| format!("\"{v}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        let err = Matrix::of(&format!("[matrix]\n{axes}"), "f").unwrap_err();
        assert!(
            err.message
                .contains("10,000,000,000 cells; the limit is 256"),
            "{err}"
        );
    }

    #[test]
    fn substitution_cannot_grow_past_the_file_limit() {
        let cell = Cell(vec![("v".into(), "x".repeat(1_000))]);
        assert_eq!(substitute(&"${v}".repeat(2_000), &cell), None);
    }

    #[test]
    fn an_unclosed_placeholder_quotes_only_its_line() {
        let text = format!("a = \"${{flush\nb = \"{}\"\n", "z".repeat(5_000));
        assert_eq!(unknown_placeholder(&text), Some((5, "${flush".into())));
    }

    #[test]
    fn substitution_keeps_lines_in_place() {
        let cell = Cell(vec![("flush".into(), "sync".into())]);
        let text = "a = \"${flush}\"\nb = 1\n";
        assert_eq!(substitute(text, &cell).unwrap(), "a = \"sync\"\nb = 1\n");
        assert_eq!(
            unknown_placeholder("x = \"${nope}\""),
            Some((5, "${nope}".into()))
        );
    }
}
