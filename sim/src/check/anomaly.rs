//! What the checker reports: an anomaly of a named kind, the message it concerns, when it
//! happened, and the causal story that explains it (the witness).

use model::{MessageId, Time};
use serde::Serialize;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    Lost,
    LostUnconfirmed,
    LostUnexplained,
    Recovered,
    Duplicated,
    Redelivered,
    Reordered,
    Skipped,
    Rewind,
    StaleDelivery,
    Abandoned,
    RetryLost,
    FailedAcked,
    OrderlyOverlap,
    Diverged,
    Misplaced,
    DeadLettered,
    Unexpected,
    Corrupt,
    TxnLost,
    TxnPhantom,
    TxnDuplicated,
    TxnDiscarded,
    TxnRepaired,
    EarlyDelivery,
    SubscriptionConflict,
    UnsubscribedDelivery,
    BrokenPromise,
}

impl AnomalyKind {
    /// Whether the kind is judged from what the read-back found (and so unknown without it).
    pub fn needs_read_back(self) -> bool {
        matches!(
            self,
            AnomalyKind::Lost
                | AnomalyKind::LostUnconfirmed
                | AnomalyKind::LostUnexplained
                | AnomalyKind::Skipped
                | AnomalyKind::Recovered
                | AnomalyKind::Misplaced
                | AnomalyKind::TxnLost
                | AnomalyKind::TxnPhantom
                | AnomalyKind::TxnDuplicated
                | AnomalyKind::TxnDiscarded
                | AnomalyKind::SubscriptionConflict
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::Lost => "lost",
            AnomalyKind::LostUnconfirmed => "lost_unconfirmed",
            AnomalyKind::LostUnexplained => "lost_unexplained",
            AnomalyKind::Recovered => "recovered",
            AnomalyKind::Duplicated => "duplicated",
            AnomalyKind::Redelivered => "redelivered",
            AnomalyKind::Reordered => "reordered",
            AnomalyKind::Skipped => "skipped",
            AnomalyKind::Rewind => "rewind",
            AnomalyKind::StaleDelivery => "stale_delivery",
            AnomalyKind::Abandoned => "abandoned",
            AnomalyKind::RetryLost => "retry_lost",
            AnomalyKind::FailedAcked => "failed_acked",
            AnomalyKind::OrderlyOverlap => "orderly_overlap",
            AnomalyKind::Diverged => "diverged",
            AnomalyKind::Misplaced => "misplaced",
            AnomalyKind::DeadLettered => "dead_lettered",
            AnomalyKind::Unexpected => "unexpected",
            AnomalyKind::Corrupt => "corrupt",
            AnomalyKind::TxnLost => "txn_lost",
            AnomalyKind::TxnPhantom => "txn_phantom",
            AnomalyKind::TxnDuplicated => "txn_duplicated",
            AnomalyKind::TxnDiscarded => "txn_discarded",
            AnomalyKind::TxnRepaired => "txn_repaired",
            AnomalyKind::EarlyDelivery => "early_delivery",
            AnomalyKind::SubscriptionConflict => "subscription_conflict",
            AnomalyKind::UnsubscribedDelivery => "unsubscribed_delivery",
            AnomalyKind::BrokenPromise => "broken_promise",
        }
    }
}

/// One anomaly with its witness and the story that explains it.
#[derive(Clone, Debug, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub message: Option<String>,
    pub at_ms: u64,
    /// For kinds with several causes (redeliveries): which one, so witnesses show each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<&'static str>,
    pub explanation: String,
}

impl Anomaly {
    /// An anomaly of `kind` about `message` (its id, if it has a readable one) at `at`.
    pub fn new(
        kind: AnomalyKind,
        message: Option<MessageId>,
        at: Time,
        explanation: String,
    ) -> Anomaly {
        Anomaly {
            kind,
            message: message.map(|m| m.to_string()),
            at_ms: at.as_ms(),
            cause: None,
            explanation,
        }
    }

    /// The same anomaly, naming which of its kind's causes it has.
    pub fn because(mut self, cause: &'static str) -> Anomaly {
        self.cause = Some(cause);
        self
    }
}
