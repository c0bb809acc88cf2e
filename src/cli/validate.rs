//! `sim validate FILE...`: parse and check scenario files without running them (every cell of
//! a matrix scenario).

use clap::Args;
use sim::exit::Exit;
use sim::scenario::matrix::Matrix;
use sim::scenario::{self, Scenario, ScenarioError};

#[derive(Args)]
pub struct ValidateArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Print one JSON object per cell checked: file, cell, and the scenario's shape or the
    /// error.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: ValidateArgs) -> Exit {
    let mut code = Exit::Pass;
    let mut results = Vec::new();
    for file in &args.files {
        if let Err(err) = validate_file(file, &mut results) {
            if !args.json {
                errln!("error: {err}");
            }
            results.push(serde_json::json!({"file": file, "ok": false, "error": err.to_string()}));
            code = Exit::BadInput;
        }
    }
    if args.json {
        for result in &mut results {
            if let Some(fields) = result.as_object_mut() {
                fields.remove("line");
            }
        }
        outln!(
            "{}",
            serde_json::to_string_pretty(&results).unwrap_or_default()
        );
    } else {
        for line in results.iter().filter_map(|r| r["line"].as_str()) {
            outln!("{line}");
        }
    }
    code
}

/// Reads a file once (so that `/dev/stdin` works) and checks each of its cells; the first
/// error of each cell is printed, and the last one returned.
fn validate_file(
    file: &str,
    results: &mut Vec<serde_json::Value>,
) -> Result<(), Box<ScenarioError>> {
    let text = scenario::read(file)?;
    let cells: Vec<Option<String>> = match Matrix::of(&text, file)? {
        Some(matrix) => matrix.cells().iter().map(|c| Some(c.spec())).collect(),
        None => vec![None],
    };
    let mut last_error = None;
    for cell in &cells {
        match scenario::parse_cell(&text, file, cell.as_deref()) {
            Ok(scenario) => results.push(report_ok(file, cell.as_deref(), &scenario)),
            Err(err) => {
                if let Some(previous) = last_error.replace(err) {
                    errln!("error: {previous}");
                }
            }
        }
    }
    last_error.map_or(Ok(()), Err)
}

/// What is said of a valid cell: a line, and its shape as JSON.
fn report_ok(file: &str, cell: Option<&str>, scenario: &Scenario) -> serde_json::Value {
    let shown = cell.map_or(String::new(), |c| format!(" [{c}]"));
    let line = format!(
        "ok: {file} ({}){shown}: {} nodes, {} fault{}, run phase {}",
        scenario.name,
        scenario.nodes.len(),
        scenario.faults.len(),
        if scenario.faults.len() == 1 { "" } else { "s" },
        model::time::format_ms(scenario.duration_ms)
    );
    serde_json::json!({
        "file": file, "cell": cell, "ok": true, "name": scenario.name,
        "nodes": scenario.nodes.len(), "faults": scenario.faults.len(),
        "run_phase_ms": scenario.duration_ms, "line": line,
    })
}
