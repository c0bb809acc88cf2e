//! `sim diff FILE [OTHER] --seed N [--cell A] [--cell B]`: one seed under two settings, and the
//! messages whose fate differs (lost under one, kept under the other), with both life stories
//! side by side: a trade-off as a counterfactual. The sides are FILE at the first cell and
//! OTHER (or FILE again) at the second (or the first again).

use clap::Args;
use sim::exit::Exit;
use sim::report::diff::{Difference, differences, side_by_side};
use sim::report::story::{Lives, parse_id};
use sim::run::{Finished, RunOptions, run};
use sim::scenario::Scenario;

#[derive(Args)]
pub struct DiffArgs {
    /// The scenario file of side A (and of side B without OTHER).
    pub file: String,
    /// The scenario file of side B.
    pub other: Option<String>,
    /// The seed both sides run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The cell of side A, then of side B (axis=value,...); one given stands for both.
    #[arg(long, num_args = 1, action = clap::ArgAction::Append)]
    pub cell: Vec<String>,
    /// The message whose life stories to show (default: the first that differs).
    #[arg(long)]
    pub message: Option<String>,
    /// Print the differences as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub budget: super::BudgetArgs,
}

/// Characters of each column of the side-by-side stories.
const COLUMN: usize = 70;
/// Differences the text lists at most.
const MAX_LISTED: usize = 30;

/// One side: its scenario, its label and its finished run.
struct Side {
    label: String,
    scenario: Scenario,
    finished: Finished,
}

pub fn main(args: DiffArgs) -> Exit {
    if args.cell.len() > 2 {
        errln!("error: --cell: give one cell for both sides, or two (side A's, then side B's)");
        return Exit::BadInput;
    }
    let other = args.other.clone().unwrap_or_else(|| args.file.clone());
    let cells = (args.cell.first().cloned(), args.cell.last().cloned());
    if other == args.file && cells.0 == cells.1 {
        errln!(
            "error: both sides are {}: give a second file, or two different --cell",
            args.file
        );
        return Exit::BadInput;
    }
    let a = match side(&args, &args.file, cells.0.as_deref()) {
        Ok(side) => side,
        Err(code) => return code,
    };
    let b = match side(&args, &other, cells.1.as_deref()) {
        Ok(side) => side,
        Err(code) => return code,
    };
    let found = differences(&a.finished.report, &b.finished.report);
    if args.json {
        let out = serde_json::json!({
            "seed": args.seed, "a": a.label, "b": b.label, "differences": found,
        });
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Exit::Pass;
    }
    print_list(&args, &a, &b, &found);
    let chosen = match args.message.as_deref() {
        Some(text) => match parse_id(text) {
            Some(id) => Some(id),
            None => {
                errln!("error: --message {text}: not a message id; write it as p<producer>-<seq>");
                return Exit::BadInput;
            }
        },
        None => found.first().and_then(|d| parse_id(&d.message)),
    };
    if let Some(id) = chosen {
        print_stories(&a, &b, id);
    }
    Exit::Pass
}

/// Loads and runs one side.
fn side(args: &DiffArgs, file: &str, cell: Option<&str>) -> Result<Side, Exit> {
    let scenario = args.budget.apply(super::load(file, cell)?);
    let result = run(
        &scenario,
        args.seed,
        &RunOptions {
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    let label = match cell {
        Some(cell) => format!("{file} [{cell}]"),
        None => file.to_string(),
    };
    match result.result {
        Ok(finished) => Ok(Side {
            label,
            scenario,
            finished,
        }),
        Err(crash) => {
            errln!(
                "error: {label} seed {}: the run did not finish: {crash}",
                args.seed
            );
            Err(Exit::Bug)
        }
    }
}

fn print_list(args: &DiffArgs, a: &Side, b: &Side, found: &[Difference]) {
    outln!("seed {}", args.seed);
    outln!("  A  {}  ({})", a.label, a.finished.report.verdict.name());
    outln!("  B  {}  ({})", b.label, b.finished.report.verdict.name());
    if found.is_empty() {
        outln!("\nno message's fate differs");
        return;
    }
    let losses = found.iter().filter(|d| d.is_loss()).count();
    outln!(
        "\n{} messages whose fate differs ({losses} lost on one side only):",
        found.len()
    );
    for d in found.iter().take(MAX_LISTED) {
        outln!(
            "  {:<10} A: {:<24} B: {}",
            d.message,
            d.a.label(),
            d.b.label()
        );
    }
    if found.len() > MAX_LISTED {
        outln!(
            "  ... and {} more (--json lists them all)",
            found.len() - MAX_LISTED
        );
    }
}

fn print_stories(a: &Side, b: &Side, id: model::MessageId) {
    let story = |side: &Side| {
        let outcome = &side.finished.outcome;
        let anomalies = &side.finished.report.anomalies;
        let packets = outcome.packets.as_deref();
        let lives = Lives::build(&side.scenario, &outcome.history, packets, anomalies);
        lives
            .render(id)
            .unwrap_or_else(|| format!("message {id}: not in this run\n"))
    };
    outln!("\nlife stories of {id}, A | B:");
    out!("{}", side_by_side(&story(a), &story(b), COLUMN));
}
