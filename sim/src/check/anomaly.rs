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
    TwoLeaders,
    LogDiverged,
    UncommittedDispatch,
    Stranded,
    BeforeStart,
    UnfilteredByBroker,
    Expired,
    DeletedEarly,
    UncorrectedOffset,
    IndexMissing,
    RecoveryMisstart,
    ResetMissed,
    RefusedButStored,
    WrongStart,
}

impl AnomalyKind {
    /// Whether the kind's anomalies rest on what the read-back found, so that an unfinished
    /// read-back leaves them out of the numbered anomalies: the expectation that counts the
    /// kind says so (`expectations::Witnesses::rest_on_read_back`).
    pub fn needs_read_back(self) -> bool {
        super::expectations::counting(self)
            .any(|e| e.witnesses.is_some_and(|w| w.rest_on_read_back))
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
            AnomalyKind::TwoLeaders => "two_leaders",
            AnomalyKind::LogDiverged => "log_diverged",
            AnomalyKind::UncommittedDispatch => "uncommitted_dispatch",
            AnomalyKind::Stranded => "stranded",
            AnomalyKind::BeforeStart => "before_start",
            AnomalyKind::UnfilteredByBroker => "unfiltered_by_broker",
            AnomalyKind::Expired => "expired",
            AnomalyKind::DeletedEarly => "deleted_early",
            AnomalyKind::UncorrectedOffset => "uncorrected_offset",
            AnomalyKind::IndexMissing => "index_missing",
            AnomalyKind::RecoveryMisstart => "recovery_misstart",
            AnomalyKind::ResetMissed => "reset_missed",
            AnomalyKind::RefusedButStored => "refused_but_stored",
            AnomalyKind::WrongStart => "wrong_start",
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

#[cfg(test)]
pub(super) mod tests {
    use super::AnomalyKind::{self, *};

    /// Every kind; the match below fails to compile when a kind is added and not listed.
    pub(crate) const ALL: [AnomalyKind; 42] = [
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
        TwoLeaders,
        LogDiverged,
        UncommittedDispatch,
        Stranded,
        BeforeStart,
        UnfilteredByBroker,
        Expired,
        DeletedEarly,
        UncorrectedOffset,
        IndexMissing,
        RecoveryMisstart,
        ResetMissed,
        RefusedButStored,
        WrongStart,
    ];

    #[test]
    fn all_lists_every_kind_once() {
        for kind in ALL {
            let listed = match kind {
                Lost | LostUnconfirmed | LostUnexplained | Recovered | Duplicated | Redelivered
                | Reordered | Skipped | Rewind | StaleDelivery | Abandoned | RetryLost
                | FailedAcked | OrderlyOverlap | Diverged | Misplaced | DeadLettered
                | Unexpected | Corrupt | TxnLost | TxnPhantom | TxnDuplicated | TxnDiscarded
                | TxnRepaired | EarlyDelivery | SubscriptionConflict | UnsubscribedDelivery
                | BrokenPromise | TwoLeaders | LogDiverged | UncommittedDispatch | Stranded
                | BeforeStart | UnfilteredByBroker | Expired | DeletedEarly | UncorrectedOffset
                | IndexMissing | RecoveryMisstart | ResetMissed | RefusedButStored | WrongStart => {
                    ALL.iter().filter(|k| **k == kind).count()
                }
            };
            assert_eq!(listed, 1, "{}", kind.name());
        }
    }

    /// The kinds an unfinished read-back leaves out of the numbered anomalies, pinned: the
    /// HTML reports and `sim explain` of unfinished runs number the others.
    #[test]
    fn the_kinds_resting_on_the_read_back_are_pinned() {
        let resting: Vec<AnomalyKind> = ALL.into_iter().filter(|k| k.needs_read_back()).collect();
        let pinned = [
            Lost,
            LostUnconfirmed,
            LostUnexplained,
            Recovered,
            Skipped,
            Misplaced,
            TxnLost,
            TxnPhantom,
            TxnDuplicated,
            TxnDiscarded,
            SubscriptionConflict,
            Stranded,
            BeforeStart,
            Expired,
            IndexMissing,
            RefusedButStored,
        ];
        assert_eq!(resting, pinned);
    }
}
