//! `sim validate FILE...`: parse and check scenario files without running them.

use clap::Args;

#[derive(Args)]
pub struct ValidateArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<String>,
}

pub fn main(args: ValidateArgs) -> i32 {
    let mut code = 0;
    for file in &args.files {
        match sim::scenario::load(file) {
            Ok(scenario) => println!(
                "ok: {file} ({}): {} nodes, {} faults, run phase {}",
                scenario.name,
                scenario.nodes.len(),
                scenario.faults.len(),
                model::time::format_ms(scenario.duration_ms)
            ),
            Err(err) => {
                eprintln!("error: {err}");
                code = super::BAD_INPUT;
            }
        }
    }
    code
}
