//! `sim`: the command line of rmq-sim. Argument parsing, output and exit codes only; the work
//! is in the `sim` crate.
//!
//! Exit codes: 0 every expectation holds; 1 an expectation failed; 2 bad input or usage;
//! 3 liveness (the run did not drain); 4 the simulation panicked or was not deterministic;
//! 5 a model invariant was violated.

mod cli;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sim",
    version,
    about = "Deterministic simulation testbed for a RocketMQ-style message queue"
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
    /// Sweep every cell of a matrix scenario and print the table.
    Matrix(cli::matrix::MatrixArgs),
    /// List the bundled scenarios with their summaries.
    List(cli::list::ListArgs),
    /// Check scenario files without running them.
    Validate(cli::validate::ValidateArgs),
    /// Measure speed: simulated time per wall-clock time, events per second, memory.
    Bench(cli::bench::BenchArgs),
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let code = match args.command {
        Command::Run(args) => cli::run::main(args),
        Command::Sweep(args) => cli::sweep::main(args),
        Command::Matrix(args) => cli::matrix::main(args),
        Command::List(args) => cli::list::main(args),
        Command::Validate(args) => cli::validate::main(args),
        Command::Bench(args) => cli::bench::main(args),
    };
    ExitCode::from(code as u8)
}
