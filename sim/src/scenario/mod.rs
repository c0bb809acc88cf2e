//! Scenario files: parsing, validation, and the resolved [`Scenario`] a run is built from.
//!
//! Every error names the file, the line and the field, with a hint where one helps; nothing
//! in here panics on bad input.

pub mod error;
pub mod matrix;
pub mod resolved;
pub mod schema;
pub mod units;
mod validate;

pub use error::ScenarioError;
pub use resolved::{
    BrokerGroup, Bugs, ConsumerGroup, Expectations, Fault, FaultSpec, Listener, NodeDecl,
    NodeFault, NodeRole, Producer, Scenario, Topic,
};

/// Reads and validates a scenario file (a matrix file: its first cell).
pub fn load(path: &str) -> Result<Scenario, Box<ScenarioError>> {
    load_cell(path, None)
}

/// Reads and validates one cell of a scenario file (`flush=sync,fault=kill`; axes left out
/// take their first value).
pub fn load_cell(path: &str, cell: Option<&str>) -> Result<Scenario, Box<ScenarioError>> {
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
    parse_cell(&text, path, cell)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Scenario, Box<ScenarioError>> {
    parse_cell(text, file, None)
}

/// Parses and validates one cell of scenario text.
pub fn parse_cell(
    text: &str,
    file: &str,
    cell: Option<&str>,
) -> Result<Scenario, Box<ScenarioError>> {
    let Some(matrix) = matrix::Matrix::of(text, file)? else {
        if let Some(cell) = cell {
            let message = format!("--cell {cell}: this scenario has no [matrix]");
            return Err(ScenarioError::at(
                file,
                text,
                None,
                String::new(),
                message,
                None,
            ));
        }
        if let Some((offset, placeholder)) = matrix::unknown_placeholder(text) {
            let place = Some(error::line_column(text, offset));
            let message = format!("{placeholder} needs a [matrix] axis of that name");
            return Err(ScenarioError::at(
                file,
                text,
                place,
                String::new(),
                message,
                None,
            ));
        }
        return parse_text(text, file);
    };
    let chosen = matrix.cell(cell).map_err(|message| {
        ScenarioError::at(
            file,
            text,
            None,
            "matrix".into(),
            format!("--cell: {message}"),
            None,
        )
    })?;
    let substituted = matrix::substitute(text, &chosen);
    if let Some((offset, placeholder)) = matrix::unknown_placeholder(&substituted) {
        let place = Some(error::line_column(&substituted, offset));
        let message = format!("{placeholder} names no [matrix] axis");
        return Err(ScenarioError::at(
            file,
            &substituted,
            place,
            String::new(),
            message,
            None,
        ));
    }
    let mut scenario = parse_text(&substituted, file)?;
    scenario.cell = Some(chosen.spec());
    Ok(scenario)
}

fn parse_text(text: &str, file: &str) -> Result<Scenario, Box<ScenarioError>> {
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
