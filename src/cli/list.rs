//! `sim list`: the bundled scenarios and what each teaches, in one line each.

use clap::Args;
use sim::exit::Exit;

#[derive(Args)]
pub struct ListArgs {
    /// Where the scenarios are.
    #[arg(long, default_value = "scenarios")]
    pub dir: String,
    /// Print the list as JSON: file, name, summary and what each teaches (or its error).
    #[arg(long)]
    pub json: bool,
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
    let loaded: Vec<(String, Result<_, _>)> = files
        .into_iter()
        .map(|file| {
            let scenario = sim::scenario::load(&file);
            (file, scenario)
        })
        .collect();
    let code = if loaded.iter().all(|(_, s)| s.is_ok()) {
        Exit::Pass
    } else {
        Exit::BadInput
    };
    if args.json {
        let entries: Vec<serde_json::Value> = loaded
            .iter()
            .map(|(file, scenario)| match scenario {
                Ok(s) => serde_json::json!({
                    "file": file, "name": s.name, "summary": s.summary, "teaches": s.teaches.trim(),
                }),
                Err(err) => serde_json::json!({"file": file, "error": err.to_string()}),
            })
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
        return code;
    }
    let width = loaded.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
    for (file, scenario) in &loaded {
        match scenario {
            Ok(scenario) => outln!("{file:<width$}  {}", scenario.summary),
            Err(err) => outln!("{file:<width$}  INVALID: {}", err.message),
        }
    }
    code
}
