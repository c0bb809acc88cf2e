//! The `[swarm]` table: which fault kinds a seed may draw, on which nodes, how many, when and
//! for how long. Each bound is checked here; the draws themselves are in `crate::swarm`.

use super::Checker;
use super::names::NodeNames;
use crate::scenario::error::{ScenarioError, key};
use crate::scenario::resolved::{NodeRole, Swarm};
use crate::scenario::schema::SwarmSection;
use crate::scenario::units::{Millis, MillisRange};
use model::NodeId;

/// The most faults one seed may draw.
pub const MAX_SWARM_FAULTS: u32 = 64;

pub(super) fn resolve(
    check: &Checker<'_>,
    names: &NodeNames<'_>,
    raw: Option<&SwarmSection>,
    duration: Millis,
) -> Result<Option<Swarm>, Box<ScenarioError>> {
    let Some(raw) = raw else { return Ok(None) };
    let path = |field: &str| vec![key("swarm"), key(field)];
    if raw.kinds.is_empty() {
        return Err(check.error(&path("kinds"), "must name at least one fault kind", None));
    }
    for kind in &raw.kinds {
        if let crate::fault::Swarmed::Never(why) = kind.0.swarm {
            return Err(check.error(
                &path("kinds"),
                format!("`{}` cannot be drawn at random", kind.name()),
                Some(why.into()),
            ));
        }
    }
    let targets: Vec<NodeId> = match &raw.targets {
        Some(targets) => names
            .resolve_all(targets)
            .map_err(|(message, hint)| check.error(&path("targets"), message, hint))?,
        None => names
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| matches!(node.role, NodeRole::Broker { .. }))
            .map(|(i, _)| NodeId(i as u16))
            .collect(),
    };
    let min_faults = raw.min_faults.unwrap_or(1);
    let max_faults = raw.max_faults.unwrap_or(4.max(min_faults));
    if min_faults > max_faults || max_faults > MAX_SWARM_FAULTS {
        return Err(check.error(
            &path("max_faults"),
            format!(
                "faults per seed {min_faults}..{max_faults}: need min <= max <= {MAX_SWARM_FAULTS}"
            ),
            None,
        ));
    }
    let window = raw.window.unwrap_or(MillisRange {
        min: Millis(duration.0 / 10),
        max: Millis(duration.0 * 4 / 5),
    });
    if window.max >= duration {
        return Err(check.error(
            &path("window"),
            format!(
                "ends at {} but the run phase ends at {duration}",
                window.max
            ),
            None,
        ));
    }
    let lasts = raw.lasts.unwrap_or(MillisRange {
        min: Millis(1_000),
        max: Millis(20_000),
    });
    if lasts.min.0 == 0 {
        return Err(check.error(&path("lasts"), "must be longer than 0s", None));
    }
    let requests = super::faults::request_codes(&raw.requests)
        .map_err(|refusal| check.error(&path("requests"), refusal.message, refusal.hint))?;
    Ok(Some(Swarm {
        requests,
        kinds: raw.kinds.clone(),
        targets,
        min_faults,
        max_faults,
        window,
        lasts,
    }))
}
