//! Scenario files: parsing, validation, and the resolved [`Scenario`] a run is built from.
//!
//! Every error names the file, the line and the field, with a hint where one helps; nothing
//! in here panics on bad input.

pub mod error;
pub mod schema;
pub mod units;
mod validate;

pub use error::ScenarioError;
pub use validate::{
    BrokerGroup, Bugs, ConsumerGroup, Expectations, Fault, FaultSpec, Listener, NodeDecl,
    NodeFault, NodeRole, Producer, Scenario, Topic,
};

/// Reads and validates a scenario file.
pub fn load(path: &str) -> Result<Scenario, Box<ScenarioError>> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        ScenarioError::at(
            path,
            "",
            None,
            String::new(),
            format!("cannot read the file: {err}"),
            None,
        )
    })?;
    parse(&text, path)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Scenario, Box<ScenarioError>> {
    let raw: schema::ScenarioFile = toml::from_str(text).map_err(|err| {
        let offset = err.span().map(|span| span.start);
        let field = offset.map(|o| error::path_at(text, o)).unwrap_or_default();
        let message = err.message().trim().to_string();
        let hint = unknown_field_hint(&message);
        ScenarioError::at(
            file,
            text,
            offset.map(|o| error::line_column(text, o)),
            field,
            message,
            hint,
        )
    })?;
    validate::validate(raw, text, file)
}

/// For serde's "unknown field `x`, expected one of `a`, `b`": the closest expected name.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    error::did_you_mean(unknown, names.iter().copied())
        .map(|name| format!("did you mean `{name}`?"))
}
