//! One module per subcommand, and what they share: loading a scenario and parsing seed ranges.

pub mod bench;
pub mod list;
pub mod matrix;
pub mod run;
pub mod sweep;
pub mod validate;

use sim::scenario::{self, Scenario};

/// Exit code for bad input or usage.
pub const BAD_INPUT: i32 = 2;

/// Loads a scenario (one cell of a matrix scenario), or prints why not.
pub fn load(path: &str, cell: Option<&str>) -> Result<Scenario, i32> {
    scenario::load_cell(path, cell).map_err(|err| {
        eprintln!("error: {err}");
        BAD_INPUT
    })
}

/// The `--seeds` range, or the exit code after saying why not.
pub fn seeds_arg(text: &str) -> Result<std::ops::Range<u64>, i32> {
    parse_seeds(text).map_err(|err| {
        eprintln!("error: --seeds: {err}");
        BAD_INPUT
    })
}

/// Parses `A..B` (B excluded) or a single seed.
pub fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{}` is not a seed (a whole number)", s.trim()))
    };
    match text.split_once("..") {
        Some((start, end)) => {
            let (start, end) = (parse(start)?, parse(end)?);
            if start >= end {
                return Err(format!(
                    "`{text}` is empty: write A..B with A < B (B is excluded)"
                ));
            }
            Ok(start..end)
        }
        None => {
            let seed = parse(text)?;
            Ok(seed..seed + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_seeds;

    #[test]
    fn seed_ranges() {
        assert_eq!(parse_seeds("0..200"), Ok(0..200));
        assert_eq!(parse_seeds("7"), Ok(7..8));
        assert!(parse_seeds("5..5").is_err());
        assert!(parse_seeds("a..b").is_err());
    }
}
