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
}

pub fn main(args: ValidateArgs) -> Exit {
    let mut code = Exit::Pass;
    for file in &args.files {
        if let Err(err) = validate_file(file) {
            errln!("error: {err}");
            code = Exit::BadInput;
        }
    }
    code
}

/// Reads a file once (so that `/dev/stdin` works) and checks each of its cells; the first
/// error of each cell is printed, and the last one returned.
fn validate_file(file: &str) -> Result<(), Box<ScenarioError>> {
    let text = scenario::read(file)?;
    let cells: Vec<Option<String>> = match Matrix::of(&text, file)? {
        Some(matrix) => matrix.cells().iter().map(|c| Some(c.spec())).collect(),
        None => vec![None],
    };
    let mut last_error = None;
    for cell in &cells {
        match scenario::parse_cell(&text, file, cell.as_deref()) {
            Ok(scenario) => report_ok(file, cell.as_deref(), &scenario),
            Err(err) => {
                if let Some(previous) = last_error.replace(err) {
                    errln!("error: {previous}");
                }
            }
        }
    }
    last_error.map_or(Ok(()), Err)
}

fn report_ok(file: &str, cell: Option<&str>, scenario: &Scenario) {
    let cell = cell.map_or(String::new(), |c| format!(" [{c}]"));
    outln!(
        "ok: {file} ({}){cell}: {} nodes, {} fault{}, run phase {}",
        scenario.name,
        scenario.nodes.len(),
        scenario.faults.len(),
        if scenario.faults.len() == 1 { "" } else { "s" },
        model::time::format_ms(scenario.duration_ms)
    )
}
