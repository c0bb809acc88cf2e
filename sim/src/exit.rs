//! The process exit codes, one enum for every command and every test that reads them.

/// How a command ended. The numbers are the documented exit codes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Exit {
    /// Every expectation holds.
    #[default]
    Pass = 0,
    /// An expectation failed.
    Fail = 1,
    /// Bad input or usage: a scenario error, a bad flag, an output that cannot be written.
    BadInput = 2,
    /// Liveness: the run did not drain or read back in time, or exceeded a budget.
    Liveness = 3,
    /// The simulation panicked or was not deterministic: a bug, replay it.
    Bug = 4,
    /// A model invariant was violated: a bug in the model, named; replay it.
    Invariant = 5,
}

impl Exit {
    /// What `--help` says about exit codes.
    pub const HELP: &'static str = "Exit codes:\n  0  every expectation holds\n  1  an expectation failed\n  2  bad input or usage (a scenario error names file, line, field and limit; an output that cannot be written)\n  3  liveness: the run did not drain or read back in time, or exceeded its simulated-time or event budget\n  4  the simulation panicked or was not deterministic (a bug: replay it)\n  5  a model invariant was violated (the report names it, the node and the time: replay it)";

    pub fn code(self) -> u8 {
        self as u8
    }

    /// The ending an exit code stands for.
    pub fn from_code(code: u8) -> Option<Exit> {
        [
            Exit::Pass,
            Exit::Fail,
            Exit::BadInput,
            Exit::Liveness,
            Exit::Bug,
            Exit::Invariant,
        ]
        .into_iter()
        .find(|exit| exit.code() == code)
    }

    /// The verdict word of a run that ended so.
    pub fn verdict(self) -> &'static str {
        match self {
            Exit::Pass => "pass",
            Exit::Fail => "fail",
            Exit::Liveness => "unknown",
            Exit::Invariant => "invariant",
            Exit::Bug | Exit::BadInput => "panic",
        }
    }

    /// The more serious of two endings of runs: a bug, then a failure, then liveness.
    pub fn worst(self, other: Exit) -> Exit {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    fn severity(self) -> u8 {
        match self {
            Exit::Pass => 0,
            Exit::Liveness => 1,
            Exit::Fail => 2,
            Exit::BadInput => 3,
            Exit::Invariant => 4,
            Exit::Bug => 5,
        }
    }
}

/// Written as its number, as the process would exit.
impl serde::Serialize for Exit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Exit {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Exit, D::Error> {
        let code = u8::deserialize(deserializer)?;
        Exit::from_code(code)
            .ok_or_else(|| serde::de::Error::custom(format!("{code} is not an exit code")))
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn codes_read_back() {
        for code in 0..=5 {
            assert_eq!(Exit::from_code(code).map(Exit::code), Some(code));
        }
        assert_eq!(Exit::from_code(6), None);
    }

    #[test]
    fn the_worst_ending_wins() {
        assert_eq!(Exit::Pass.worst(Exit::Liveness), Exit::Liveness);
        assert_eq!(Exit::Fail.worst(Exit::Liveness), Exit::Fail);
        assert_eq!(Exit::Fail.worst(Exit::Bug), Exit::Bug);
        assert_eq!(Exit::Liveness.code(), 3);
    }
}
