//! `sim explain FILE --seed N --message ID | --anomaly K`: one message's life story as text,
//! from the same builder as the HTML report's (`sim::report::story`). Without either flag it
//! lists the run's anomalies, numbered as `--anomaly` takes them.

use clap::Args;
use sim::exit::Exit;
use sim::report::html::MAX_WITNESSES;
use sim::report::story::{Lives, numbered_anomalies, parse_id};
use sim::run::{Finished, RunOptions, run};

#[derive(Args)]
pub struct ExplainArgs {
    /// The scenario file.
    pub file: String,
    /// For a scenario with a [matrix]: the cell, as axis=value,... (others: first values).
    #[arg(long)]
    pub cell: Option<String>,
    /// The seed of the run to explain.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The message, as reports name it (e.g. p0-12).
    #[arg(long, conflicts_with = "anomaly")]
    pub message: Option<String>,
    /// The anomaly, by its number in the list `sim explain` prints without flags (from 1).
    #[arg(long)]
    pub anomaly: Option<usize>,
    /// Print the story (its steps: time, node, kind, text) or the list as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub budget: super::BudgetArgs,
}

pub fn main(args: ExplainArgs) -> Exit {
    let scenario = match super::load(&args.file, args.cell.as_deref()) {
        Ok(scenario) => args.budget.apply(scenario),
        Err(code) => return code,
    };
    let wanted = match args.message.as_deref().map(|m| (m, parse_id(m))) {
        Some((text, None)) => {
            errln!(
                "error: --message {text}: not a message id; write it as p<producer>-<seq>, e.g. p0-12"
            );
            return Exit::BadInput;
        }
        Some((_, id)) => id,
        None => None,
    };
    let options = RunOptions {
        keep_trace: true,
        ..RunOptions::default()
    };
    let result = run(&scenario, args.seed, &options);
    let finished = match &result.result {
        Ok(finished) => finished,
        Err(crash) => {
            errln!("error: the run did not finish, so there is no history to explain: {crash}");
            return sim::report::exit_code(&result);
        }
    };
    let anomalies = numbered_anomalies(finished, MAX_WITNESSES);
    let packets = finished.outcome.packets.as_deref();
    let lives = Lives::build(&scenario, &finished.outcome.history, packets, &anomalies);
    if args.json {
        let names: Vec<&str> = scenario.nodes.iter().map(|n| n.name.as_str()).collect();
        return json(&lives, &names, &anomalies, (wanted, args.anomaly));
    }
    match (wanted, args.anomaly) {
        (Some(id), _) => story(&lives, id),
        (None, Some(k)) => anomaly(&lives, &anomalies, k),
        (None, None) => list(finished, &anomalies, &lives),
    }
}

/// The same as the text, as JSON: `{"message", "steps"}` for a message, with `"anomaly"` for
/// an anomaly, or `{"messages", "anomalies"}` (numbered from 1) for the list.
fn json(
    lives: &Lives,
    names: &[&str],
    anomalies: &[sim::check::Anomaly],
    (wanted, k): (Option<model::MessageId>, Option<usize>),
) -> Exit {
    let chosen = match (wanted, k) {
        (Some(id), _) => Some((id, None)),
        (None, Some(k)) => {
            let Some(anomaly) = k.checked_sub(1).and_then(|i| anomalies.get(i)) else {
                errln!(
                    "error: --anomaly {k}: the run has {} anomalies (numbered from 1)",
                    anomalies.len()
                );
                return Exit::BadInput;
            };
            match anomaly.message.as_deref().and_then(parse_id) {
                Some(id) => Some((id, Some(anomaly))),
                None => {
                    outln!("{}", serde_json::json!({ "number": k, "anomaly": anomaly }));
                    return Exit::Pass;
                }
            }
        }
        (None, None) => None,
    };
    let value = match chosen {
        Some((id, anomaly)) => {
            let Some(steps) = lives.story(id) else {
                errln!("error: --message {id}: no such message in this run");
                return Exit::BadInput;
            };
            // Each step with its node's name, as the text names it.
            let steps: Vec<serde_json::Value> = (steps.iter())
                .map(|s| {
                    let node = s.node.and_then(|n| names.get(usize::from(n)).copied());
                    serde_json::json!({ "at_ms": s.at_ms, "node": node, "kind": s.kind, "text": s.text })
                })
                .collect();
            serde_json::json!({ "message": id.to_string(), "anomaly": anomaly, "number": k, "steps": steps })
        }
        None => {
            let numbered: Vec<serde_json::Value> = (anomalies.iter().enumerate())
                .map(|(i, a)| serde_json::json!({ "number": i + 1, "anomaly": a }))
                .collect();
            serde_json::json!({ "messages": lives.ids().count(), "anomalies": numbered })
        }
    };
    outln!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
    Exit::Pass
}

fn story(lives: &Lives, id: model::MessageId) -> Exit {
    match lives.render(id) {
        Some(text) => {
            out!("{text}");
            Exit::Pass
        }
        None => {
            let count = lives.ids().count();
            errln!("error: --message {id}: no such message in this run ({count} messages)");
            Exit::BadInput
        }
    }
}

fn anomaly(lives: &Lives, anomalies: &[sim::check::Anomaly], k: usize) -> Exit {
    let Some(anomaly) = k.checked_sub(1).and_then(|i| anomalies.get(i)) else {
        errln!(
            "error: --anomaly {k}: the run has {} anomalies (numbered from 1; `sim explain` \
             without flags lists them)",
            anomalies.len()
        );
        return Exit::BadInput;
    };
    let at = model::Time::from_ms(anomaly.at_ms);
    let message = anomaly.message.as_deref().unwrap_or("(no message id)");
    outln!("anomaly {k}: {} {message} at {at}", anomaly.kind.name());
    outln!("  {}\n", anomaly.explanation);
    if let Some(id) = anomaly.message.as_deref().and_then(parse_id) {
        return story(lives, id);
    }
    Exit::Pass
}

fn list(finished: &Finished, anomalies: &[sim::check::Anomaly], lives: &Lives) -> Exit {
    outln!(
        "{} messages, {} anomalies; explain one with --message ID or --anomaly K",
        lives.ids().count(),
        finished.report.anomalies.len()
    );
    for (i, a) in anomalies.iter().enumerate() {
        let at = model::Time::from_ms(a.at_ms);
        let message = a.message.as_deref().unwrap_or("-");
        outln!("{:>5}  {:<18} {:<10} {at}", i + 1, a.kind.name(), message);
    }
    Exit::Pass
}
