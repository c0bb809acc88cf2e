//! The human rendering of a run.

use super::{Summary, replay_command};
use crate::check::{RedeliveryCauses, Verdict};
use crate::run::RunResult;
use crate::scenario::Scenario;
use model::time::format_ms;
use std::fmt::Write;

pub fn render(scenario: &Scenario, run: &RunResult) -> String {
    let summary = Summary::of(scenario, run);
    let mut out = String::new();
    header(&mut out, scenario, run, &summary);
    let known = Known::of(&summary);
    if let Some(sends) = &summary.sends {
        send_lines(&mut out, sends, &known, summary.unmeasured);
    }
    for group in &summary.consumers {
        consumer(&mut out, group, &known);
    }
    for replica in &summary.replication {
        replica_lines(&mut out, replica);
    }
    if let Some(routes) = summary.routes.as_ref().filter(|r| r.has_samples()) {
        let _ = writeln!(
            out,
            "routes    removal after kill {}  after silence {}  clients catch up {}",
            routes.removal_after_kill, routes.removal_after_silence, routes.route_catch_up
        );
    }
    witnesses(&mut out, &summary);
    let _ = writeln!(out, "\nverdict   {}", verdict_text(summary.verdict, run));
    let _ = writeln!(out, "replay    {}", replay_command(scenario, run.seed));
    out
}

/// The scenario and seed, the run's speed and digest, its problem, its swarm plan and its
/// expectations.
fn header(out: &mut String, scenario: &Scenario, run: &RunResult, summary: &Summary) {
    let _ = match &scenario.cell {
        Some(cell) => writeln!(out, "{} [{cell}] — seed {}", scenario.name, run.seed),
        None => writeln!(out, "{} — seed {}", scenario.name, run.seed),
    };
    let _ = writeln!(out, "  {}", scenario.summary);
    let _ = writeln!(out);
    if let Ok(finished) = &run.result {
        let outcome = &finished.outcome;
        let speed = run
            .speed()
            .map_or("-".to_string(), |s| format!("{:.0}x", s));
        let _ = writeln!(
            out,
            "simulated {}  wall {:.3}s  speed {speed} real time  events {}  digest {}",
            format_ms(outcome.end.as_ms()),
            run.wall.as_secs_f64(),
            outcome.events_handled,
            outcome.digest
        );
    }
    if let Some(problem) = &summary.problem {
        let _ = writeln!(out, "problem   {problem}");
    }
    if !summary.swarm.is_empty() {
        let _ = writeln!(out, "\nswarm plan (drawn for this seed)");
        for fault in &summary.swarm {
            let _ = writeln!(out, "  {fault}");
        }
    }
    if !summary.expectations.is_empty() {
        let _ = writeln!(out, "\nexpectations");
        for e in &summary.expectations {
            let _ = writeln!(
                out,
                "  {:<7} {:<24} expected {:<14} observed {}",
                e.verdict.name().to_uppercase(),
                e.name,
                e.condition,
                e.observed
            );
        }
    }
}

/// The sends, the anomalies of the stored messages, latency, queue spread, delayed messages
/// and transactions.
/// Each fault and how long after it began the producers' next SEND_OK came.
fn fault_lines(out: &mut String, after_faults: &[crate::check::AfterFault]) {
    for (n, after) in after_faults.iter().enumerate() {
        let next = after
            .next_send_ok_ms
            .map_or("no SEND_OK after it".to_string(), |ms| {
                format!("next SEND_OK {} later", format_ms(ms))
            });
        let label = if n == 0 { "faults   " } else { "         " };
        let at = format_ms(after.at_ms);
        let _ = writeln!(out, "{label} {} at {at}: {next}", after.fault);
    }
}

fn send_lines(
    out: &mut String,
    sends: &crate::check::SendFigures,
    known: &Known,
    unmeasured: bool,
) {
    let c = &sends.counts;
    let _ = writeln!(
        out,
        "\nsends     messages {}  sends {}  acked {}  weak acks {}  failed {}  unknown {}  stored {}",
        c.messages,
        c.sends,
        c.acked,
        c.weak_acks,
        c.failed,
        c.unknown,
        known.figure("stored", c.stored)
    );
    if unmeasured {
        let _ = writeln!(
            out,
            "anomalies unknown: the read-back did not finish, so what is stored (and lost) was not measured"
        );
    } else {
        let _ = writeln!(
            out,
            "anomalies lost {}  lost_unconfirmed {}  lost_unexplained {}  recovered {}  duplicated {}  unexpected {}  corrupt {}  diverged {}  misplaced {} ({} unexplained)",
            c.lost,
            c.lost_unconfirmed,
            c.lost_unexplained,
            c.recovered,
            c.duplicated,
            c.unexpected,
            c.corrupt,
            c.diverged,
            c.misplaced,
            c.misplaced_unexplained
        );
    }
    let _ = writeln!(
        out,
        "latency   p50 {}  p99 {}  max {}  longest without SEND_OK {}  throughput {} acks/s",
        format_ms(sends.latency_p50_ms),
        format_ms(sends.latency_p99_ms),
        format_ms(sends.latency_max_ms),
        format_ms(sends.unavailable_ms),
        sends.acked_per_s
    );
    if c.busy_answers > 0 {
        let _ = writeln!(
            out,
            "busy      {} attempts answered SYSTEM_BUSY (a full or slow send queue, or a page cache busy past 1 s): never stored, and not retried by the producer",
            c.busy_answers
        );
    }
    fault_lines(out, &sends.after_faults);
    for spread in &sends.queue_spread {
        let keys = spread.keys.map_or(String::new(), |(min, max)| {
            format!(" ({min} to {max} sharding keys each)")
        });
        let _ = writeln!(
            out,
            "queues    {}: {} queues, {} to {} messages each{keys}",
            spread.topic, spread.queues, spread.min, spread.max
        );
    }
    store_notes(out, sends);
    if !c.transactions.is_empty() {
        transactions(out, &c.transactions, known);
    }
}

/// What the store did with messages beyond keeping them: delayed, expired, unindexed.
fn store_notes(out: &mut String, sends: &crate::check::SendFigures) {
    let c = &sends.counts;
    if c.delayed_pending > 0 {
        let _ = writeln!(
            out,
            "delayed   {} not yet due when the run ended: they may still wait in SCHEDULE_TOPIC_XXXX, their fate unknown",
            c.delayed_pending
        );
    }
    if c.expired + c.deleted_early > 0 {
        let _ = writeln!(
            out,
            "retention {} expired (their CommitLog files deleted before the end)  files deleted early {}",
            c.expired, c.deleted_early
        );
    }
    if c.index_missing > 0 {
        let _ = writeln!(
            out,
            "index     missing {} ({} unexplained): stored messages that QUERY_MESSAGE by their key did not find",
            c.index_missing, c.index_missing_unexplained
        );
    }
    for (n, round) in sends.key_queries.iter().enumerate() {
        let label = if n == 0 { "queries  " } else { "         " };
        let capped = match round.capped {
            0 => String::new(),
            capped => format!(" ({capped} capped at 64 records, not judged)"),
        };
        let _ = writeln!(
            out,
            "{label} the operator's queries by key at {}: {} answers{capped}, {} messages missing",
            format_ms(round.at_ms),
            round.answers,
            round.missing
        );
    }
}

/// A master's replication: its largest lag, the lag at its stops, and the lag every 5 s.
fn replica_lines(out: &mut String, replica: &crate::check::ReplicaFigures) {
    let stops: Vec<String> = replica
        .lag_at_stops
        .iter()
        .map(|lag| {
            format!(
                "{} ({}, {} msgs)",
                format_ms(lag.at_ms),
                format_bytes(lag.bytes),
                lag.messages
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "replicas  {}: max lag {} ({} msgs) at {}  lag at its stops {}  refused pushes {}",
        replica.master,
        format_bytes(replica.max_lag.bytes),
        replica.max_lag.messages,
        format_ms(replica.max_lag.at_ms),
        if stops.is_empty() {
            "-".to_string()
        } else {
            stops.join(", ")
        },
        replica.mismatches
    );
    let series: Vec<String> = replica
        .lag
        .iter()
        .map(|lag| lag.messages.to_string())
        .collect();
    if !series.is_empty() {
        let _ = writeln!(
            out,
            "          messages behind, every 5 s: {}",
            series.join(" ")
        );
    }
}

/// Each anomaly's witness line, and the totals of kinds with more than were printed.
fn witnesses(out: &mut String, summary: &Summary) {
    if summary.anomalies.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nwitnesses");
    for anomaly in &summary.anomalies {
        let id = anomaly.message.as_deref().unwrap_or("-");
        let _ = writeln!(
            out,
            "  {:<17} {id:<10} {}",
            anomaly.kind.name(),
            anomaly.explanation
        );
    }
    let more: Vec<String> = summary
        .anomaly_totals
        .iter()
        .filter(|(_, count)| *count > super::WITNESSES_PER_KIND)
        .map(|(kind, count)| format!("{kind}: {count}"))
        .collect();
    if !more.is_empty() {
        let _ = writeln!(
            out,
            "  (totals: {}; --out writes them all to anomalies.jsonl)",
            more.join(", ")
        );
    }
}

/// `512B`, `12.3KiB`, `4.0MiB`.
/// Two lines: the local decisions, then what became of them.
fn transactions(out: &mut String, t: &crate::check::TransactionCounts, known: &Known) {
    let _ = writeln!(
        out,
        "txn       {} half messages: committed {}  rolled back {}  unknown {}  undecided {}  check-backs {}",
        t.messages, t.committed, t.rolled_back, t.unknown, t.undecided, t.check_backs
    );
    let f = |name: &str, value: u64| known.figure(name, value);
    let _ = writeln!(
        out,
        "          visible {}  lost {} ({} unexplained)  phantom {}  duplicated {} ({} unexplained)  discarded {}  repaired {}  visibility p50 {} p99 {} max {}",
        f("txn_visible", t.visible),
        f("txn_lost", t.lost),
        f("txn_lost_unexplained", t.lost_unexplained),
        f("txn_phantom", t.phantom),
        f("txn_duplicated", t.duplicated),
        f("txn_duplicated_unexplained", t.duplicated_unexplained),
        f("txn_discarded", t.discarded),
        f("txn_repaired", t.repaired),
        format_ms(t.visibility_p50_ms),
        format_ms(t.visibility_p99_ms),
        format_ms(t.visibility_max_ms)
    );
}

/// Which figures a run measured: all of them, or (its read-back unfinished) all but
/// `unmeasured::figures`, which read "unknown".
struct Known {
    unmeasured: Vec<&'static str>,
}

impl Known {
    fn of(summary: &Summary) -> Known {
        let unmeasured = match summary.unmeasured {
            true => super::unmeasured::figures(),
            false => Vec::new(),
        };
        Known { unmeasured }
    }

    fn figure(&self, name: &str, value: u64) -> String {
        match self.unmeasured.contains(&name) {
            true => "unknown".to_string(),
            false => value.to_string(),
        }
    }
}

/// A consumer group's lines.
fn consumer(out: &mut String, group: &crate::check::GroupFigures, known: &Known) {
    let f = |name: &str, value: u64| known.figure(name, value);
    let _ = writeln!(
        out,
        "consumer  {}: delivered {} ({} deliveries, {} retries)  lost {}  lost after delivery {}  DLQ {}  abandoned {}  end-to-end p50 {} p99 {}",
        group.group,
        group.delivered,
        group.deliveries,
        group.retries,
        f("lost", group.lost),
        f("lost_after_delivery", group.lost_after_delivery),
        f("dead_lettered", group.dead_lettered),
        f("abandoned", group.abandoned),
        format_ms(group.end_to_end_p50_ms),
        format_ms(group.end_to_end_p99_ms)
    );
    let causes = match known.unmeasured.contains(&"redelivered_by_cause") {
        true => String::new(),
        false => describe_causes(&group.redelivered_by_cause),
    };
    let _ = writeln!(
        out,
        "          redelivered {}{causes}  reordered {}  skipped {}  rewinds {} ({} msgs)  stale deliveries {}  retries lost {}  failures acked {}  orderly overlaps {}",
        f("redelivered", group.redelivered),
        f("reordered", group.reordered),
        f("skipped", group.skipped),
        group.rewinds,
        group.rewound_messages,
        group.stale_deliveries,
        f("retry_lost", group.retry_lost),
        f("failed_acked", group.failed_acked),
        group.orderly_overlaps
    );
    let filtered = group.filtered
        + group.subscription_conflicts
        + group.unsubscribed_deliveries
        + group.unfiltered_by_broker;
    if filtered > 0 {
        let _ = writeln!(
            out,
            "          filtered {} ({} by the client)  lost to an inconsistent subscription {}  unsubscribed deliveries {}  unfiltered by the broker {}",
            f("filtered", group.filtered),
            f("filtered_by_client", group.filtered_by_client),
            f("subscription_conflicts", group.subscription_conflicts),
            group.unsubscribed_deliveries,
            group.unfiltered_by_broker
        );
    }
    consumer_notes(out, group, known);
    if group.handovers > 0 {
        let _ = writeln!(
            out,
            "          hand-overs {} (longest {}; with routes that differed {})",
            group.handovers,
            format_ms(group.longest_handover_ms),
            format_ms(group.longest_handover_across_views_ms)
        );
    }
}

/// A group's rarer figures, a line each when it is not zero: (label, figure, value, why).
fn consumer_notes(out: &mut String, group: &crate::check::GroupFigures, known: &Known) {
    let notes = [
        (
            "before start",
            "before_start",
            group.before_start,
            "stored below where the new group first took their queues (CONSUME_FROM_LAST_OFFSET once the first message is in disk, CONSUME_FROM_TIMESTAMP): not for it",
        ),
        (
            "from the past",
            "from_the_past",
            group.from_the_past,
            "stored before the new group first took their queues, consumed all the same: it started at their beginning",
        ),
        (
            "stranded",
            "stranded",
            group.stranded,
            "stored in queues no consumer could read at the end: read queues shrunk or read permission taken",
        ),
        (
            "expired",
            "expired",
            group.expired,
            "retention deleted their CommitLog files before the group consumed them",
        ),
        (
            "reset missed",
            "reset_missed",
            group.reset_missed,
            "consumed before an operator's reset sent the group back below them, and never again after it",
        ),
        (
            "uncorrected offsets",
            "uncorrected_offsets",
            group.uncorrected_offsets,
            "queues taken again below a PULL_OFFSET_MOVED correction",
        ),
        (
            "retries lost with their broker",
            "send_backs_lost",
            group.send_backs_lost,
            "a stored send-back waits for no flush or slave",
        ),
    ];
    for (label, name, value, why) in notes.into_iter().filter(|n| n.2 > 0) {
        let value = known.figure(name, value);
        let _ = writeln!(out, "          {label} {value} ({why})");
    }
}

fn format_bytes(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes}B"),
        1024..1_048_576 => format!("{:.1}KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1}MiB", bytes as f64 / 1_048_576.0),
    }
}

/// ` (consumer crash 3, rebalance 14)`, or nothing without redeliveries.
fn describe_causes(causes: &RedeliveryCauses) -> String {
    let parts: Vec<String> = causes
        .named()
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(name, count)| format!("{} {count}", name.replace('_', " ")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn verdict_text(verdict: Verdict, run: &RunResult) -> &'static str {
    match (&run.result, verdict) {
        (Err(crash), _) if crash.invariant.is_some() => {
            "FAIL (a model invariant was violated: a bug in the model)"
        }
        (Err(_), _) => "PANIC (a bug in the model or the harness)",
        (_, Verdict::Pass) => "PASS",
        (_, Verdict::Fail) => "FAIL",
        (_, Verdict::Unknown) => "UNKNOWN (did not drain)",
    }
}
