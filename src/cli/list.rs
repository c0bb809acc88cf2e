//! `sim list`: the bundled scenarios and what each teaches, in one line each.

use clap::Args;
use sim::exit::Exit;

#[derive(Args)]
pub struct ListArgs {
    /// Where the scenarios are.
    #[arg(long, default_value = "scenarios")]
    pub dir: String,
}

pub fn main(args: ListArgs) -> Exit {
    let mut files: Vec<String> = match std::fs::read_dir(&args.dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path().to_string_lossy().into_owned())
            .filter(|path| path.ends_with(".toml"))
            .collect(),
        Err(err) => {
            errln!("error: cannot read {}: {err}", args.dir);
            return Exit::BadInput;
        }
    };
    files.sort();
    let width = files.iter().map(String::len).max().unwrap_or(0);
    let mut code = Exit::Pass;
    for file in files {
        match sim::scenario::load(&file) {
            Ok(scenario) => outln!("{file:<width$}  {}", scenario.summary),
            Err(err) => {
                outln!("{file:<width$}  INVALID: {}", err.message);
                code = Exit::BadInput;
            }
        }
    }
    code
}
