//! The questions RocketMQ users keep asking, each answered by a bundled scenario: report.html
//! shows a scenario's question at the top, and the README's "Questions users ask" lists them
//! all (a test keeps the two in step).

/// One question: the scenario that answers it, the question as users ask it, and where they
/// asked it (an apache/rocketmq issue, if one).
pub struct Question {
    pub scenario: &'static str,
    pub question: &'static str,
    pub asked: Option<&'static str>,
}

const fn q(
    scenario: &'static str,
    question: &'static str,
    asked: Option<&'static str>,
) -> Question {
    Question {
        scenario,
        question,
        asked,
    }
}

pub const QUESTIONS: &[Question] = &[
    q(
        "power-loss-async-flush",
        "I got SEND_OK, yet the message is gone",
        Some("#2066"),
    ),
    q(
        "sync-master",
        "FLUSH_SLAVE_TIMEOUT: is the message stored, and will a retry duplicate it?",
        Some("#1244"),
    ),
    q(
        "consumer-crash",
        "Why do consumers get duplicates after a restart or a rebalance?",
        Some("#1440"),
    ),
    q(
        "rebalance",
        "Why do consumers get duplicates after a restart or a rebalance?",
        Some("#1440"),
    ),
    q(
        "read-from-slave",
        "Offsets went back when the master returned",
        Some("#1094"),
    ),
    q(
        "ordered-messages",
        "Does orderly consumption survive a broker failure?",
        Some("#1459"),
    ),
    q(
        "delayed-messages",
        "Delayed messages were delivered twice after a restart",
        Some("#3473"),
    ),
    q(
        "transaction-slow-local",
        "The check-back came after I committed",
        Some("#1517"),
    ),
    q("retry-dlq", "Where do failed messages go?", Some("#2724")),
    q(
        "tags-and-filters",
        "Two consumers of one group with different tags lose messages",
        Some("#2836"),
    ),
    q(
        "retention",
        "When are expired files deleted, and what does a consumer behind them lose?",
        None,
    ),
    q(
        "disk-full-cleanup",
        "The disk filled up: which messages went first?",
        None,
    ),
    q(
        "stuck-message-replay",
        "One stuck message made a restarted consumer replay a huge backlog",
        Some("#1404"),
    ),
    q(
        "new-group-start",
        "CONSUME_FROM_LAST_OFFSET is ignored: a new group consumed old messages",
        Some("#334"),
    ),
    q(
        "broker-busy",
        "The broker answers [TIMEOUT_CLEAN_QUEUE] / SYSTEM_BUSY: what happened, and is anything lost?",
        None,
    ),
    q(
        "long-backlog",
        "My consumers fell hours behind: is anything lost, and does it slow the producers?",
        None,
    ),
    q(
        "reset-offset",
        "Can a group consume again what it already consumed, from the console?",
        None,
    ),
    q(
        "index-lookup",
        "After a crash, a query by key cannot find a message that is still there",
        None,
    ),
    q(
        "clock-jump",
        "How does RocketMQ use time, and what does a clock jump do?",
        None,
    ),
    q(
        "queue-numbers",
        "I shrank a topic's queues and messages disappeared",
        None,
    ),
    q(
        "dledger-leader-churn",
        "Can DLedger lose a committed message?",
        None,
    ),
];

/// The questions a scenario answers.
pub fn of(scenario: &str) -> impl Iterator<Item = &'static Question> + '_ {
    QUESTIONS.iter().filter(move |q| q.scenario == scenario)
}
