//! `sim validate FILE...`: parse and check scenario files without running them (every cell of
//! a matrix scenario).

use clap::Args;
use sim::scenario::matrix::Matrix;

#[derive(Args)]
pub struct ValidateArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<String>,
}

pub fn main(args: ValidateArgs) -> i32 {
    let mut code = 0;
    for file in &args.files {
        let cells = match cells(file) {
            Ok(cells) => cells,
            Err(err) => {
                eprintln!("error: {err}");
                code = super::BAD_INPUT;
                continue;
            }
        };
        for cell in &cells {
            match sim::scenario::load_cell(file, cell.as_deref()) {
                Ok(scenario) => {
                    let cell = cell.as_ref().map_or(String::new(), |c| format!(" [{c}]"));
                    println!(
                        "ok: {file} ({}){cell}: {} nodes, {} fault{}, run phase {}",
                        scenario.name,
                        scenario.nodes.len(),
                        scenario.faults.len(),
                        if scenario.faults.len() == 1 { "" } else { "s" },
                        model::time::format_ms(scenario.duration_ms)
                    )
                }
                Err(err) => {
                    eprintln!("error: {err}");
                    code = super::BAD_INPUT;
                }
            }
        }
    }
    code
}

/// The cells to check: each of a matrix, or the file itself.
fn cells(file: &str) -> Result<Vec<Option<String>>, Box<sim::scenario::ScenarioError>> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Ok(vec![None]); // `load_cell` reports the read error.
    };
    Ok(match Matrix::of(&text, file)? {
        Some(matrix) => matrix.cells().iter().map(|c| Some(c.spec())).collect(),
        None => vec![None],
    })
}
