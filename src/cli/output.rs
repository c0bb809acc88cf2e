//! Writing to standard output and standard error. A closed pipe (`sim ... | head -1`) ends
//! the output quietly and the command goes on to its exit code; any other failed write (a full
//! disk) is an error naming the path, exit 2. Nothing here panics.

use sim::exit::Exit;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a reader closed standard output: further output is dropped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output and flushes; see the module's doc for failures.
pub fn stdout(args: std::fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| out.flush());
    if let Err(err) = written {
        failed(err);
    }
}

/// Writes to standard error; a failure there has nowhere to be reported, so it is dropped.
pub fn stderr(args: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.flush());
}

/// A failed write to standard output: quiet for a closed pipe, exit 2 otherwise.
pub fn failed(err: std::io::Error) {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        return;
    }
    stderr(format_args!(
        "error: cannot write to {}: {err}\n",
        stdout_path()
    ));
    std::process::exit(i32::from(Exit::BadInput.code()));
}

/// Where standard output goes, for error messages.
fn stdout_path() -> String {
    std::fs::read_link("/proc/self/fd/1")
        .map(|path| path.display().to_string())
        .unwrap_or_else(|_| "standard output".to_string())
}

/// `println!` through [`stdout`].
macro_rules! outln {
    () => { $crate::cli::output::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::output::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` through [`stdout`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::stdout(format_args!($($arg)*)) };
}

/// `eprintln!` through [`stderr`].
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::output::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}
