//! The stories of a message's sends: its failed attempts, why it was stored twice, why a
//! message whose sends all failed is stored anyway.

use crate::check::index::Record;

fn describe_attempts(r: &Record) -> String {
    let attempts: Vec<String> = r
        .attempts()
        .iter()
        .map(|(at, broker, error)| format!("{at} {broker}: {error}"))
        .collect();
    if attempts.is_empty() {
        String::new()
    } else {
        format!("failed attempts: {}", attempts.join("; "))
    }
}

pub(in crate::check) fn explain_duplicate(r: &Record) -> String {
    let copies: Vec<String> = r
        .copies
        .iter()
        .map(|c| format!("{}/{}@{}", c.broker, c.queue_id, c.queue_offset))
        .collect();
    let mut story = format!("stored {} times ({})", r.copies.len(), copies.join(", "));
    if r.invokes > 1 {
        story.push_str(&format!("; the application sent it {} times", r.invokes));
    }
    let attempts = describe_attempts(r);
    if !attempts.is_empty() {
        story.push_str("; ");
        story.push_str(&attempts);
    }
    story
}

pub(in crate::check) fn explain_recovered(r: &Record) -> String {
    let ending = match r.last_error() {
        Some((at, error)) => format!("its send ended at {at} with `{error}`"),
        None => "its send never ended (the producer stopped)".to_string(),
    };
    let copy = &r.copies[0];
    let mut story = format!(
        "{ending}, yet it is stored at {}/{}@{}",
        copy.broker, copy.queue_id, copy.queue_offset
    );
    let attempts = describe_attempts(r);
    if !attempts.is_empty() {
        story.push_str("; ");
        story.push_str(&attempts);
    }
    story
}
