//! `sim matrix FILE --seeds A..B`: every cell of a matrix scenario, swept, as one table: seeds
//! with loss, messages lost (SEND_OK and weaker), the median of the seeds' p99 send latency,
//! what the cell's own `[[matrix.expect]]` entries require, how many seeds failed, and beside
//! each cell the command that reproduces it.

use super::matrix_page;
use super::sweep::{SeedsArgs, Totals, jobs, sweep};
use clap::Args;
use model::time::format_ms;
use sim::exit::Exit;
use sim::scenario;
use sim::scenario::matrix::Matrix;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct MatrixArgs {
    /// A scenario file with a [matrix] table.
    pub file: String,
    /// The seeds run in every cell.
    #[command(flatten)]
    pub seeds: SeedsArgs,
    /// Also write the table as a page, each cell linking an example run's report (written
    /// into a folder beside it: FILE without .html).
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write over the page if it exists.
    #[arg(long)]
    pub force: bool,
}

/// One cell's figures.
struct Row {
    cell: Vec<(String, String)>,
    spec: String,
    seeds: u64,
    /// Seeds whose read-back did not finish: in none of the loss figures.
    unmeasured: u64,
    seeds_with_loss: u64,
    lost: u64,
    lost_unconfirmed: u64,
    duplicated: u64,
    p99_ms: u64,
    /// The longest time without a SEND_OK of any seed.
    unavailable_ms: u64,
    /// The cell's own expectations (`lost = 0`), from `[[matrix.expect]]`.
    expects: Vec<String>,
    failing: u64,
    /// The example run's seed and report, with `--html`.
    example: Option<(u64, String)>,
}

impl Row {
    /// "3 of 50": seeds with loss among the measured ones, and how many were not measured.
    fn seeds_with_loss(&self) -> String {
        let measured = self.seeds - self.unmeasured;
        match self.unmeasured {
            0 => format!("{} of {measured}", self.seeds_with_loss),
            n => format!("{} of {measured} ({n} not measured)", self.seeds_with_loss),
        }
    }
}

#[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
pub fn main(args: MatrixArgs) -> Exit {
    let (text, matrix) = match read_matrix(&args.file) {
        Ok(read) => read,
        Err(message) => {
            errln!("error: {message}");
            return Exit::BadInput;
        }
    };
    let seeds = match super::seeds_arg(&args.seeds.seeds) {
        Ok(seeds) => seeds,
        Err(code) => return code,
    };
    if let Some(page) = &args.html
        && page.extension().is_none_or(|e| e != "html")
    {
        errln!(
            "error: --html {}: give a file name ending in .html (the example runs go into the \
             folder of the same name without it)",
            page.display()
        );
        return Exit::BadInput;
    }
    if let Some(page) = &args.html
        && page.exists()
        && !args.force
    {
        errln!(
            "error: --html {}: exists; choose another file, or pass --force to write over it",
            page.display()
        );
        return Exit::BadInput;
    }
    let jobs = jobs(args.seeds.jobs);
    let started = Instant::now();
    let mut rows = Vec::new();
    for cell in matrix.cells() {
        let spec = cell.spec();
        let scenario = match scenario::parse_cell(&text, &args.file, Some(&spec)) {
            Ok(scenario) => args.seeds.budget.apply(scenario),
            Err(err) => {
                errln!("error: {err}");
                return Exit::BadInput;
            }
        };
        errln!("{spec}");
        let totals = sweep(&scenario, seeds.clone(), jobs);
        let expects = matrix.expect_shown(&cell);
        let mut row = row(cell.0, spec, expects, &totals);
        if let Some(page) = &args.html {
            match example(page, &row, &scenario, &seeds, &totals) {
                Ok(example) => row.example = Some(example),
                Err(err) => {
                    errln!(
                        "error: cannot write the example run beside {}: {err}",
                        page.display()
                    );
                    return Exit::BadInput;
                }
            }
        }
        rows.push(row);
    }
    let wall = started.elapsed();
    if args.seeds.json {
        let cells: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "cell": r.spec, "seeds": r.seeds, "unmeasured": r.unmeasured,
                    "seeds_with_loss": r.seeds_with_loss,
                    "lost": r.lost, "lost_unconfirmed": r.lost_unconfirmed,
                    "duplicated": r.duplicated, "p99_send_latency_ms": r.p99_ms,
                    "longest_without_send_ok_ms": r.unavailable_ms, "expects": r.expects,
                    "failing": r.failing,
                })
            })
            .collect();
        let left_out: Vec<serde_json::Value> = (matrix.skips.iter())
            .map(|skip| serde_json::json!({ "cells": skip.spec(), "because": skip.because }))
            .collect();
        let out = serde_json::json!({ "file": args.file, "seeds": args.seeds.seeds, "wall_ms": wall.as_millis() as u64, "cells": cells, "left_out": left_out });
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        print_table(&matrix, &rows, &args);
        outln!(
            "\n{} cells x {} seeds in {:.1}s wall on {jobs} workers",
            rows.len(),
            seeds.end - seeds.start,
            wall.as_secs_f64()
        );
    }
    if let Some(page) = &args.html
        && let Err(err) = write_page(page, &matrix, &rows, &args)
    {
        errln!("error: cannot write {}: {err}", page.display());
        return Exit::BadInput;
    }
    if rows.iter().any(|r| r.failing > 0) {
        Exit::Fail
    } else {
        Exit::Pass
    }
}

/// The file's text (read once, so `/dev/stdin` works) and its matrix.
fn read_matrix(file: &str) -> Result<(String, Matrix), String> {
    let text = scenario::read(file).map_err(|err| err.to_string())?;
    match Matrix::of(&text, file) {
        Ok(Some(matrix)) => Ok((text, matrix)),
        Ok(None) => Err(format!("{file}: this scenario has no [matrix]")),
        Err(err) => Err(err.to_string()),
    }
}

fn row(cell: Vec<(String, String)>, spec: String, expects: Vec<String>, totals: &Totals) -> Row {
    Row {
        cell,
        spec,
        seeds: totals.seeds,
        unmeasured: totals.unmeasured,
        seeds_with_loss: totals.seeds_with_loss,
        lost: totals.lost,
        lost_unconfirmed: totals.lost_unconfirmed,
        p99_ms: totals.median_p99_ms(),
        duplicated: totals.duplicated,
        unavailable_ms: totals.worst_unavailable_ms(),
        expects,
        failing: totals.failing_count,
        example: None,
    }
}

/// Runs and writes a cell's example run; its seed and its report's path from the page.
fn example(
    page: &std::path::Path,
    row: &Row,
    scenario: &sim::scenario::Scenario,
    seeds: &std::ops::Range<u64>,
    totals: &Totals,
) -> std::io::Result<(u64, String)> {
    let failing = totals.failing.first().map(|f| f.seed);
    let seed = matrix_page::example_seed(scenario, seeds, failing, row.lost > 0);
    let link = matrix_page::write_example(page, &row.spec, scenario, seed)?;
    Ok((seed, link))
}

const HEADERS: [&str; 8] = [
    "seeds with loss",
    "lost SEND_OK",
    "lost, weaker status",
    "duplicated",
    "p99 send latency",
    "longest without SEND_OK (worst seed)",
    "cell expects",
    "failing seeds",
];

/// The table as a page beside the cells' example runs.
fn write_page(
    page: &std::path::Path,
    matrix: &Matrix,
    rows: &[Row],
    args: &MatrixArgs,
) -> std::io::Result<()> {
    let axes: Vec<&str> = matrix.axes.iter().map(|(axis, _)| axis.as_str()).collect();
    let page_rows: Vec<matrix_page::PageRow> = rows
        .iter()
        .map(|r| {
            let (example_seed, example) = r.example.clone().unwrap_or_default();
            matrix_page::PageRow {
                values: r.cell.iter().map(|(_, v)| v.clone()).collect(),
                figures: vec![
                    r.seeds_with_loss(),
                    r.lost.to_string(),
                    r.lost_unconfirmed.to_string(),
                    r.duplicated.to_string(),
                    format_ms(r.p99_ms),
                    format_ms(r.unavailable_ms),
                    if r.expects.is_empty() {
                        "-".into()
                    } else {
                        r.expects.join(", ")
                    },
                    r.failing.to_string(),
                ],
                lossy: r.lost + r.lost_unconfirmed > 0,
                failing: r.failing > 0,
                example,
                example_seed,
            }
        })
        .collect();
    let table = matrix_page::Table {
        axes: &axes,
        headers: &HEADERS,
        rows: &page_rows,
        left_out: &left_out(matrix),
    };
    let text = matrix_page::render(&args.file, &args.seeds.seeds, &table);
    if let Some(parent) = page.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(page, text)?;
    errln!("wrote {}", page.display());
    Ok(())
}

/// The cells `[[matrix.skip]]` leaves out, and why: `flush=sync,replication=dledger: ...`.
fn left_out(matrix: &Matrix) -> Vec<String> {
    (matrix.skips.iter())
        .map(|skip| format!("{}: {}", skip.spec(), skip.because))
        .collect()
}

/// A markdown table, ready for a README, and the cells it leaves out.
fn print_table(matrix: &Matrix, rows: &[Row], args: &MatrixArgs) {
    let axes: Vec<&str> = matrix.axes.iter().map(|(axis, _)| axis.as_str()).collect();
    outln!(
        "| {} | {} | reproduce |",
        axes.join(" | "),
        HEADERS.join(" | ")
    );
    outln!("|{}", "---|".repeat(axes.len() + HEADERS.len() + 1));
    for row in rows {
        let values: Vec<&str> = row.cell.iter().map(|(_, value)| value.as_str()).collect();
        let expects: Vec<String> = row.expects.iter().map(|e| format!("`{e}`")).collect();
        outln!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | `sim sweep {} --cell {} --seeds {}` |",
            values.join(" | "),
            row.seeds_with_loss(),
            row.lost,
            row.lost_unconfirmed,
            row.duplicated,
            format_ms(row.p99_ms),
            format_ms(row.unavailable_ms),
            if expects.is_empty() {
                "-".to_string()
            } else {
                expects.join(", ")
            },
            row.failing,
            args.file,
            row.spec,
            args.seeds.seeds
        );
    }
    for line in left_out(matrix) {
        outln!("\nLeft out: {line}.");
    }
}
