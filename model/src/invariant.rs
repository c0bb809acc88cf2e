//! Model invariants, asserted in release builds too.
//!
//! [`invariant!`](crate::invariant!) checks a condition that must always hold and, when it
//! does not, panics with a message that starts with [`PREFIX`] and names the invariant. The
//! harness tells such a panic from any other: the run ends as a failure with the invariant's
//! name, its own exit code and a replay line, instead of as a crash of the simulator.

/// Every invariant violation's message starts with this.
pub const PREFIX: &str = "invariant violated: ";

/// Asserts a named model invariant, in every build.
///
/// `invariant!(cond, "name", "format {}", args)`: the name is a short kebab-case phrase
/// ("replica-append-at-end"); the formatted text says what was seen.
#[macro_export]
macro_rules! invariant {
    ($cond:expr, $name:literal, $($arg:tt)+) => {
        if !$cond {
            $crate::invariant::violated($name, format_args!($($arg)+))
        }
    };
}

/// Ends the step with an invariant violation (see [`invariant!`](crate::invariant!)).
#[cold]
#[track_caller]
pub fn violated(name: &str, detail: std::fmt::Arguments<'_>) -> ! {
    panic!("{PREFIX}{name}: {detail}")
}

/// Runs `f`, which must violate an invariant: the invariant's name and what was seen. For the
/// tests that show an invariant fires.
#[cfg(test)]
pub fn fired(f: impl FnOnce()) -> (String, String) {
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("an invariant fires");
    let message = caught
        .downcast_ref::<String>()
        .expect("a formatted message");
    let (name, detail) = parse(message).expect("an invariant violation");
    (name.to_string(), detail.to_string())
}

/// The invariant's name and detail, if `message` reports a violation.
pub fn parse(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix(PREFIX)?;
    Some(rest.split_once(": ").unwrap_or((rest, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_violation_names_its_invariant() {
        let caught = std::panic::catch_unwind(|| {
            crate::invariant!(1 + 1 == 3, "arithmetic", "1 + 1 = {}", 1 + 1);
        })
        .expect_err("the invariant fails");
        let message = caught
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert_eq!(parse(message), Some(("arithmetic", "1 + 1 = 2")));
        assert_eq!(parse("index out of bounds"), None);
    }
}
