//! `report.html`: one self-contained page of a run (no network: the script, the styles and the
//! run's data are inline). `data` builds the payload (lanes, faults, DLedger leaders per
//! term, witnesses, stories), `packets` the diagram's arrows, `series` the plots, `ops` the
//! operation timeline;
//! `template.html`, `report.css` and `report.js` are the page, filled in here.

mod data;
mod ops;
pub(crate) mod packets;
mod series;

pub use data::MAX_WITNESSES;
pub use packets::MAX_ARROWS;

use crate::run::RunResult;
use crate::scenario::Scenario;

const TEMPLATE: &str = include_str!("template.html");
const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// The page of a run, or `None` for a run that crashed (no history to draw).
pub fn render(scenario: &Scenario, run: &RunResult) -> Option<String> {
    let payload = data::payload(scenario, run)?;
    let json = serde_json::to_string(&payload).ok()?;
    let title = match &scenario.cell {
        Some(cell) => format!("{} [{cell}] seed {}", scenario.name, run.seed),
        None => format!("{} seed {}", scenario.name, run.seed),
    };
    Some(
        TEMPLATE
            .replace("{{title}}", &escape_html(&title))
            .replace("{{style}}", STYLE)
            .replace("{{script}}", SCRIPT)
            .replace("{{data}}", &escape_script(&json)),
    )
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// JSON inside `<script>`: no `</script>` or `<!--` can end it early.
fn escape_script(json: &str) -> String {
    json.replace('<', "\\u003c")
}
