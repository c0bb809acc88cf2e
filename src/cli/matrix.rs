//! `sim matrix FILE --seeds A..B`: every cell of a matrix scenario, swept, as one table: seeds
//! with loss, messages lost (SEND_OK and weaker), the median of the seeds' p99 send latency,
//! and beside each cell the command that reproduces it.

use super::sweep::{SeedResult, SeedsArgs, jobs, sweep};
use clap::Args;
use model::time::format_ms;
use sim::scenario::matrix::Matrix;
use std::time::Instant;

#[derive(Args)]
pub struct MatrixArgs {
    /// A scenario file with a [matrix] table.
    pub file: String,
    /// The seeds run in every cell.
    #[command(flatten)]
    pub seeds: SeedsArgs,
}

/// One cell's figures.
struct Row {
    cell: Vec<(String, String)>,
    spec: String,
    seeds: usize,
    seeds_with_loss: usize,
    lost: u64,
    lost_unconfirmed: u64,
    p99_ms: u64,
    failing: usize,
}

pub fn main(args: MatrixArgs) -> i32 {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: {}: cannot read the file: {err}", args.file);
            return super::BAD_INPUT;
        }
    };
    let matrix = match Matrix::of(&text, &args.file) {
        Ok(Some(matrix)) => matrix,
        Ok(None) => {
            eprintln!("error: {}: this scenario has no [matrix]", args.file);
            return super::BAD_INPUT;
        }
        Err(err) => {
            eprintln!("error: {err}");
            return super::BAD_INPUT;
        }
    };
    let seeds = match super::seeds_arg(&args.seeds.seeds) {
        Ok(seeds) => seeds,
        Err(code) => return code,
    };
    let jobs = jobs(args.seeds.jobs);
    let started = Instant::now();
    let mut rows = Vec::new();
    for cell in matrix.cells() {
        let spec = cell.spec();
        let scenario = match super::load(&args.file, Some(&spec)) {
            Ok(scenario) => scenario,
            Err(code) => return code,
        };
        eprintln!("{spec}");
        let results = sweep(&scenario, seeds.clone(), jobs);
        rows.push(row(cell.0, spec, &results));
    }
    let wall = started.elapsed();
    if args.seeds.json {
        let cells: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "cell": r.spec, "seeds": r.seeds, "seeds_with_loss": r.seeds_with_loss,
                    "lost": r.lost, "lost_unconfirmed": r.lost_unconfirmed,
                    "p99_send_latency_ms": r.p99_ms, "failing": r.failing,
                })
            })
            .collect();
        let out = serde_json::json!({ "file": args.file, "seeds": args.seeds.seeds, "wall_ms": wall.as_millis() as u64, "cells": cells });
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    } else {
        print_table(&matrix, &rows, &args);
        println!(
            "\n{} cells x {} seeds in {:.1}s wall on {jobs} workers",
            rows.len(),
            seeds.end - seeds.start,
            wall.as_secs_f64()
        );
    }
    if rows.iter().any(|r| r.failing > 0) {
        1
    } else {
        0
    }
}

fn row(cell: Vec<(String, String)>, spec: String, results: &[SeedResult]) -> Row {
    let mut p99s: Vec<u64> = results.iter().map(|r| r.latency_p99_ms).collect();
    p99s.sort_unstable();
    Row {
        cell,
        spec,
        seeds: results.len(),
        seeds_with_loss: results.iter().filter(|r| r.lost > 0).count(),
        lost: results.iter().map(|r| r.lost).sum(),
        lost_unconfirmed: results.iter().map(|r| r.lost_unconfirmed).sum(),
        p99_ms: p99s.get(p99s.len() / 2).copied().unwrap_or(0),
        failing: results.iter().filter(|r| r.exit_code != 0).count(),
    }
}

/// A markdown table, ready for a README.
fn print_table(matrix: &Matrix, rows: &[Row], args: &MatrixArgs) {
    let axes: Vec<&str> = matrix.axes.iter().map(|(axis, _)| axis.as_str()).collect();
    println!(
        "| {} | seeds with loss | lost SEND_OK | lost, weaker status | p99 send latency | reproduce |",
        axes.join(" | ")
    );
    println!("|{}", "---|".repeat(axes.len() + 5));
    for row in rows {
        let values: Vec<&str> = row.cell.iter().map(|(_, value)| value.as_str()).collect();
        println!(
            "| {} | {} of {} | {} | {} | {} | `sim sweep {} --cell {} --seeds {}` |",
            values.join(" | "),
            row.seeds_with_loss,
            row.seeds,
            row.lost,
            row.lost_unconfirmed,
            format_ms(row.p99_ms),
            args.file,
            row.spec,
            args.seeds.seeds
        );
    }
}
