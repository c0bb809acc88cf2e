//! Scenario files: parsing, validation, and the resolved [`Scenario`] a run is built from.
//!
//! Every error names the file, the line and the field, with a hint where one helps; nothing
//! in here panics on bad input.

pub mod error;
pub mod limits;
pub mod matrix;
pub mod resolved;
pub mod schema;
pub mod units;
mod validate;

pub use error::ScenarioError;
pub use resolved::{
    BrokerGroup, Budget, Bugs, ConsumerGroup, DLedgerGroup, Expectations, Fault, FaultSpec,
    Listener, NodeDecl, NodeFault, NodeRole, Producer, Scenario, Topic,
};

/// Reads and validates a scenario file (a matrix file: its first cell).
pub fn load(path: &str) -> Result<Scenario, Box<ScenarioError>> {
    load_cell(path, None)
}

/// Reads and validates one cell of a scenario file (`flush=sync,fault=kill`; axes left out
/// take their first value).
pub fn load_cell(path: &str, cell: Option<&str>) -> Result<Scenario, Box<ScenarioError>> {
    let text = read(path)?;
    parse_cell(&text, path, cell)
}

/// Reads a scenario file as text, refusing one over [`limits::MAX_FILE_BYTES`] without
/// reading past the limit (so `/dev/zero` fails at once). Reads once: `/dev/stdin` works.
pub fn read(path: &str) -> Result<String, Box<ScenarioError>> {
    use std::io::Read;
    let fail = |message: String| ScenarioError::at(path, "", None, String::new(), message, None);
    let too_large = || {
        fail(format!(
            "the file is larger than the limit of {} for a scenario",
            limits::render(limits::MAX_FILE_BYTES, limits::Unit::Bytes)
        ))
    };
    let file =
        std::fs::File::open(path).map_err(|err| fail(format!("cannot read the file: {err}")))?;
    if file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() > limits::MAX_FILE_BYTES)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limits::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| fail(format!("cannot read the file: {err}")))?;
    if bytes.len() as u64 > limits::MAX_FILE_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|err| {
        let offset = err.utf8_error().valid_up_to();
        fail(format!("is not UTF-8 text (byte {offset} is not)"))
    })
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
    let source = cell_source(text, file, cell)?;
    let mut scenario = parse_text(&source.text, file, source.overlay)?;
    scenario.cell = source.spec;
    Ok(scenario)
}

/// One cell of a scenario's text: the text with the cell's values substituted (the text
/// itself without a `[matrix]`), and what the cell's `[[matrix.expect]]` entries set.
pub struct CellSource<'a> {
    pub text: std::borrow::Cow<'a, str>,
    overlay: Option<schema::ExpectSection>,
    /// The cell, as axis=value,... (none without a `[matrix]`).
    pub spec: Option<String>,
    /// The cell's own expectations as written (`lost = 0`).
    pub expect_shown: Vec<String>,
}

/// The text of one cell of a scenario, or why there is no such cell.
#[allow(clippy::too_many_lines)] // on the allow-list: split it when next changed
pub fn cell_source<'a>(
    text: &'a str,
    file: &str,
    cell: Option<&str>,
) -> Result<CellSource<'a>, Box<ScenarioError>> {
    if text.len() as u64 > limits::MAX_FILE_BYTES {
        let message = format!(
            "the text is larger than the limit of {} for a scenario",
            limits::render(limits::MAX_FILE_BYTES, limits::Unit::Bytes)
        );
        return Err(ScenarioError::at(
            file,
            "",
            None,
            String::new(),
            message,
            None,
        ));
    }
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
            let message = placeholder_message(&placeholder, "needs a [matrix] axis of that name");
            return Err(ScenarioError::at(
                file,
                text,
                place,
                String::new(),
                message,
                None,
            ));
        }
        return Ok(CellSource {
            text: std::borrow::Cow::Borrowed(text),
            overlay: None,
            spec: None,
            expect_shown: Vec::new(),
        });
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
    let Some(substituted) = matrix::substitute(text, &chosen) else {
        let message = format!(
            "cell {}: the file after substitution is larger than the limit of {}",
            chosen.spec(),
            limits::render(limits::MAX_FILE_BYTES, limits::Unit::Bytes)
        );
        return Err(ScenarioError::at(
            file,
            text,
            None,
            "matrix".into(),
            message,
            None,
        ));
    };
    if let Some((offset, placeholder)) = matrix::unknown_placeholder(&substituted) {
        let place = Some(error::line_column(&substituted, offset));
        let message = placeholder_message(&placeholder, "names no [matrix] axis");
        return Err(ScenarioError::at(
            file,
            &substituted,
            place,
            String::new(),
            message,
            None,
        ));
    }
    let overlay = matrix.expect_for(&chosen).map_err(|message| {
        let message = format!("cell {}: [[matrix.expect]]: {message}", chosen.spec());
        ScenarioError::at(file, text, None, "matrix.expect".into(), message, None)
    })?;
    Ok(CellSource {
        text: std::borrow::Cow::Owned(substituted),
        overlay,
        spec: Some(chosen.spec()),
        expect_shown: matrix.expect_shown(&chosen),
    })
}

/// What is wrong with a placeholder left in the text: unclosed, or naming no axis.
fn placeholder_message(placeholder: &str, unknown: &str) -> String {
    if placeholder.ends_with('}') {
        format!("`{placeholder}` {unknown}")
    } else {
        format!("`{placeholder}` is not closed: write `${{axis}}`")
    }
}

/// Parses and validates one text; `overlay` (a matrix cell's own expectations) replaces the
/// conditions of `[expect]` it sets.
fn parse_text(
    text: &str,
    file: &str,
    overlay: Option<schema::ExpectSection>,
) -> Result<Scenario, Box<ScenarioError>> {
    let mut raw: schema::ScenarioFile = toml::from_str(text).map_err(|err| {
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
    if let Some(overlay) = overlay {
        raw.expect.overlay(overlay);
    }
    validate::validate(raw, text, file)
}

/// For serde's "unknown field `x`, expected one of `a`, `b`": the closest expected name.
pub(crate) fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    error::did_you_mean(unknown, names.iter().copied())
        .map(|name| format!("did you mean `{name}`?"))
}
