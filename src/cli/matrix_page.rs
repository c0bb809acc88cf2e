//! `sim matrix ... --html FILE`: the reliability table as one self-contained page. Each cell
//! links the report of an example run (its first failing seed, else its first seed with a
//! loss, else its first seed), written with the rest of that run's `--out` files into a folder
//! beside the page (`FILE` without `.html`, then one folder per cell).

use sim::run::{RunOptions, run};
use sim::scenario::Scenario;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How many seeds are tried, in order, to find a cell's first seed with a loss.
const LOSS_SEARCH_SEEDS: u64 = 50;

/// One row of the page: the cell's values, its figures as the table prints them, and the
/// example run's report, relative to the page.
pub struct PageRow {
    pub values: Vec<String>,
    pub figures: Vec<String>,
    pub lossy: bool,
    pub failing: bool,
    pub example: String,
    pub example_seed: u64,
}

/// The seed a cell's example run uses.
pub fn example_seed(
    scenario: &Scenario,
    seeds: &Range<u64>,
    failing: Option<u64>,
    lossy: bool,
) -> u64 {
    if let Some(seed) = failing {
        return seed;
    }
    if lossy {
        let end = seeds.end.min(seeds.start.saturating_add(LOSS_SEARCH_SEEDS));
        for seed in seeds.start..end {
            let result = run(scenario, seed, &RunOptions::default());
            let lost = result
                .result
                .as_ref()
                .is_ok_and(|f| f.report.sends.counts.lost > 0);
            if lost {
                return seed;
            }
        }
    }
    seeds.start
}

/// The folder the cells' runs go into, beside the page.
pub fn runs_dir(page: &Path) -> PathBuf {
    page.with_extension("")
}

/// Runs the example seed and writes its files; returns the report's path relative to the page.
pub fn write_example(
    page: &Path,
    spec: &str,
    scenario: &Scenario,
    seed: u64,
) -> std::io::Result<String> {
    let folder = format!("{}-seed-{seed}", spec.replace('=', "-").replace(',', "_"));
    let dir = runs_dir(page).join(&folder);
    let result = run(
        scenario,
        seed,
        &RunOptions {
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    sim::report::write_files(&dir, scenario, &result)?;
    let base = runs_dir(page);
    let name = base
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(format!("{name}/{folder}/report.html"))
}

/// The page.
/// What the page's table shows: its columns, rows and the cells the matrix leaves out.
pub struct Table<'a> {
    pub axes: &'a [&'a str],
    pub headers: &'a [&'a str],
    pub rows: &'a [PageRow],
    pub left_out: &'a [String],
}

pub fn render(file: &str, seeds: &str, table: &Table<'_>) -> String {
    let mut body = String::new();
    let _ = write!(body, "<table><tr>");
    for h in table
        .axes
        .iter()
        .chain(table.headers)
        .chain(&["example run"])
    {
        let _ = write!(body, "<th>{}</th>", escape(h));
    }
    body.push_str("</tr>\n");
    for row in table.rows {
        let class = if row.failing {
            "failing"
        } else if row.lossy {
            "lossy"
        } else {
            "clean"
        };
        let _ = write!(body, "<tr class=\"{class}\">");
        for cell in row.values.iter().chain(&row.figures) {
            let _ = write!(body, "<td>{}</td>", escape(cell));
        }
        let _ = writeln!(
            body,
            "<td><a href=\"{}\">seed {}</a></td></tr>",
            escape(&row.example),
            row.example_seed
        );
    }
    body.push_str("</table>\n");
    for line in table.left_out {
        let _ = writeln!(body, "<p>Left out: {}.</p>", escape(line));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>rmq-sim matrix: {file}</title><style>{STYLE}</style></head><body>\
         <h1>{file}</h1><p>seeds {seeds}; a red row lost acknowledged messages in some seed, \
         a struck-through one failed its own expectations. Each cell links one run's report.</p>\
         {body}</body></html>\n",
        file = escape(file),
        seeds = escape(seeds),
    )
}

const STYLE: &str = "body{font:13px system-ui,sans-serif;margin:18px;color:#1d232a}\
table{border-collapse:collapse}td,th{border:1px solid #d8dee4;padding:3px 8px;text-align:left}\
th{background:#f6f8fa}tr.lossy td{background:#ffebe9}tr.failing td{text-decoration:line-through}";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
