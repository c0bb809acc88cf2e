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
//! point at the right line.

use super::error::{self, ScenarioError};

/// The axes of a matrix, in the order the file declares them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub axes: Vec<(String, Vec<String>)>,
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
        let Ok(table) = text.parse::<toml::Table>() else {
            return Ok(None);
        };
        let Some(matrix) = table.get("matrix") else {
            return Ok(None);
        };
        let fail = |path: Vec<error::Step>, message: &str| {
            let place = error::locate(text, &path);
            let field = error::render_path(&path);
            ScenarioError::at(file, text, place, field, message.to_string(), None)
        };
        let Some(matrix) = matrix.as_table() else {
            return Err(fail(vec![error::key("matrix")], "must be a table of axes"));
        };
        let mut axes = Vec::new();
        for (axis, values) in matrix {
            let field = vec![error::key("matrix"), error::key(axis)];
            let values: Option<Vec<String>> = values.as_array().and_then(|list| {
                list.iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect()
            });
            match values {
                Some(values) if !values.is_empty() => axes.push((axis.clone(), values)),
                _ => return Err(fail(field, "must be a non-empty list of strings")),
            }
        }
        // The file's order, not the table's.
        axes.sort_by_key(|(axis, _)| text.find(&format!("\n{axis} =")).unwrap_or(usize::MAX));
        Ok(Some(Matrix { axes }))
    }

    /// Every cell, the first axis changing slowest.
    pub fn cells(&self) -> Vec<Cell> {
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
        for part in spec
            .unwrap_or("")
            .split(',')
            .filter(|p| !p.trim().is_empty())
        {
            let Some((axis, value)) = part.split_once('=') else {
                return Err(format!("`{part}`: write axis=value"));
            };
            let (axis, value) = (axis.trim(), value.trim());
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
        Ok(Cell(chosen))
    }
}

/// The file's text for one cell: every `${axis}` replaced by the cell's value.
pub fn substitute(text: &str, cell: &Cell) -> String {
    let mut text = text.to_string();
    for (axis, value) in &cell.0 {
        text = text.replace(&format!("${{{axis}}}"), value);
    }
    text
}

/// The first `${...}` left after substitution: a placeholder no axis defines.
pub fn unknown_placeholder(text: &str) -> Option<(usize, String)> {
    let start = text.find("${")?;
    let end = text[start..]
        .find('}')
        .map_or(text.len(), |e| start + e + 1);
    Some((start, text[start..end].to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "name = \"x\"\n[matrix]\nflush = [\"async\", \"sync\"]\nfault = [\"kill\", \"power-off\", \"disk-loss\"]\n";

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
    fn substitution_keeps_lines_in_place() {
        let cell = Cell(vec![("flush".into(), "sync".into())]);
        let text = "a = \"${flush}\"\nb = 1\n";
        assert_eq!(substitute(text, &cell), "a = \"sync\"\nb = 1\n");
        assert_eq!(
            unknown_placeholder("x = \"${nope}\""),
            Some((5, "${nope}".into()))
        );
    }
}
