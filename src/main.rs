//! `sim`: the command line of rmq-sim. Argument parsing, output and exit codes only; the work
//! is in the `sim` crate.
//!
//! Exit codes are `sim::exit::Exit` (0 pass, 1 fail, 2 bad input, 3 liveness, 4 a bug), and
//! `--help` lists them.

mod cli;

use clap::{CommandFactory, Parser, Subcommand};
use sim::exit::Exit;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sim",
    version,
    about = "Deterministic simulation testbed for a RocketMQ-style message queue",
    after_help = Exit::HELP
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seed of a scenario: verdict, report, replay line.
    Run(cli::run::RunArgs),
    /// Run many seeds on all cores and list the failing ones with their replay commands.
    Sweep(cli::sweep::SweepArgs),
    /// Merge the shard files of a sharded sweep into the summary of one sweep.
    Merge(cli::merge::MergeArgs),
    /// Tell one message's life story (or an anomaly's), from a run of a seed.
    Explain(cli::explain::ExplainArgs),
    /// Run one seed under two settings and list the messages whose fate differs.
    Diff(cli::diff::DiffArgs),
    /// Reduce a failing seed to a smaller scenario that fails the same way.
    Shrink(cli::shrink::ShrinkArgs),
    /// Sweep every cell of a matrix scenario and print the table.
    Matrix(cli::matrix::MatrixArgs),
    /// List the bundled scenarios with their summaries.
    List(cli::list::ListArgs),
    /// Check scenario files without running them.
    Validate(cli::validate::ValidateArgs),
    /// Measure speed: simulated time per wall-clock time, events per second, memory.
    Bench(cli::bench::BenchArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cli::completions::CompletionsArgs),
    /// Print the man page (roff), or write every page (sim.1, sim-run.1, ...) with --dir.
    Man(cli::completions::ManArgs),
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => return ExitCode::from(usage(&err).code()),
    };
    let exit = match args.command {
        Command::Run(args) => cli::run::main(args),
        Command::Sweep(args) => cli::sweep::main(args),
        Command::Merge(args) => cli::merge::main(args),
        Command::Explain(args) => cli::explain::main(args),
        Command::Diff(args) => cli::diff::main(args),
        Command::Shrink(args) => cli::shrink::main(args),
        Command::Matrix(args) => cli::matrix::main(args),
        Command::List(args) => cli::list::main(args),
        Command::Validate(args) => cli::validate::main(args),
        Command::Bench(args) => cli::bench::main(args),
        Command::Completions(args) => cli::completions::completions(args, Args::command()),
        Command::Man(args) => cli::completions::man(args, Args::command()),
    };
    ExitCode::from(exit.code())
}

/// Prints clap's usage error, help or version: bad usage is exit 2, help and version 0 (or
/// 2 when they cannot be written; a closed pipe is quiet).
fn usage(err: &clap::Error) -> Exit {
    if let Err(write) = err.print() {
        cli::output::failed(write);
    }
    if err.use_stderr() {
        Exit::BadInput
    } else {
        Exit::Pass
    }
}
