//! `sim list`: the bundled scenarios and what each teaches, in one line each.

use clap::Args;

#[derive(Args)]
pub struct ListArgs {
    /// Where the scenarios are.
    #[arg(long, default_value = "scenarios")]
    pub dir: String,
}

pub fn main(args: ListArgs) -> i32 {
    let mut files: Vec<String> = match std::fs::read_dir(&args.dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path().to_string_lossy().into_owned())
            .filter(|path| path.ends_with(".toml"))
            .collect(),
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", args.dir);
            return super::BAD_INPUT;
        }
    };
    files.sort();
    let width = files.iter().map(String::len).max().unwrap_or(0);
    let mut code = 0;
    for file in files {
        match sim::scenario::load(&file) {
            Ok(scenario) => println!("{file:<width$}  {}", scenario.summary),
            Err(err) => {
                println!("{file:<width$}  INVALID: {}", err.message);
                code = super::BAD_INPUT;
            }
        }
    }
    code
}
