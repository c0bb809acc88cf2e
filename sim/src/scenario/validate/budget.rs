//! A run's budgets: how much simulated time and how many handled events it may take before it
//! ends as liveness-unknown. The defaults come from the scenario's phases and never bind on a
//! run that keeps to them; `[budget]` or the CLI may lower (or raise) them within the limits.

use super::Checker;
use crate::scenario::error::{ScenarioError, key};
use crate::scenario::limits::{self, Unit};
use crate::scenario::resolved::{Budget, read_back_timeout_ms};
use crate::scenario::schema::ScenarioFile;

/// The budget a scenario declares, or its defaults.
pub(super) fn resolve(
    check: &Checker<'_>,
    raw: &ScenarioFile,
    nodes: u64,
    drain_timeout_ms: u64,
) -> Result<Budget, Box<ScenarioError>> {
    let phases_ms = raw.duration.0 + drain_timeout_ms + read_back_timeout_ms(drain_timeout_ms);
    let default = Budget {
        simulated_ms: phases_ms + limits::DEFAULT_TIME_BUDGET_SLACK_MS,
        events: default_events(raw, nodes, phases_ms),
    };
    let section = &raw.budget;
    let simulated_ms = section.simulated_time.map_or(default.simulated_ms, |t| t.0);
    let events = section.events.unwrap_or(default.events);
    let time_path = [key("budget"), key("simulated_time")];
    let events_path = [key("budget"), key("events")];
    if simulated_ms == 0 {
        return Err(check.error(&time_path, "must be longer than 0s", None));
    }
    if events == 0 {
        return Err(check.error(&events_path, "must be at least 1", None));
    }
    if section.simulated_time.is_none() && simulated_ms > limits::MAX_TIME_BUDGET_MS {
        // The default is the phases' sum: name what the file says, not a key it lacks.
        let message = format!(
            "with the drain and read-back timeouts needs a simulated-time budget of {}; the \
             limit is {}",
            limits::render(simulated_ms, Unit::Millis),
            limits::render(limits::MAX_TIME_BUDGET_MS, Unit::Millis)
        );
        let hint = "shorten `duration` or `drain_timeout`".to_string();
        return Err(check.error(&[key("duration")], message, Some(hint)));
    }
    check.at_most(
        &time_path,
        simulated_ms,
        limits::MAX_TIME_BUDGET_MS,
        Unit::Millis,
    )?;
    check.at_most(&events_path, events, limits::MAX_EVENT_BUDGET, Unit::Count)?;
    Ok(Budget {
        simulated_ms,
        events,
    })
}

/// Events per node and simulated second of the phases, plus events per message sent; capped
/// by the limit.
fn default_events(raw: &ScenarioFile, nodes: u64, phases_ms: u64) -> u64 {
    let seconds = phases_ms.div_ceil(1_000);
    let messages: u64 = raw
        .producers
        .iter()
        .map(|p| u64::from(p.instances) * u64::from(p.messages) * (u64::from(p.app_retries) + 1))
        .sum();
    let events = nodes * seconds * limits::DEFAULT_EVENTS_PER_NODE_SECOND
        + messages * limits::DEFAULT_EVENTS_PER_MESSAGE;
    events.min(limits::MAX_EVENT_BUDGET)
}
