//! Every expectation of a scenario's `[expect]`, in one table: its name, what the checker
//! measures for it (a count, or samples of a duration), whether it needs the read-back
//! (`unknown` without one), the condition it has when the file sets none, and what it means.
//! The `[expect]` section's keys, the resolved scenario's conditions, their defaults, the
//! judging (`expect`) and the README's table all come from here: a new expectation is one row
//! (and the judge that computes its figure).

use super::expect::Observed;
use super::{AnomalyKind, GroupFigures};

/// What the checker measures for an expectation.
#[derive(Copy, Clone)]
pub enum Measure {
    /// A count of the run.
    Count(fn(&Observed<'_>) -> u64),
    /// Samples of a duration in ms: every one must meet the condition, and there must be one.
    Time(fn(&Observed<'_>) -> Vec<u64>),
}

/// The condition an expectation has when the scenario file sets none.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DefaultTo {
    /// Not judged.
    Nothing,
    /// Always 0: a count that only a bug makes.
    Zero,
    /// 0 when the scenario has consumers.
    ZeroWithConsumers,
    /// 0 when the scenario has transactional producers.
    ZeroWithTransactions,
    /// 0 when the scenario has a DLedger group.
    ZeroWithDLedger,
}

impl DefaultTo {
    /// How the README says it, after the meaning.
    fn describe(self) -> &'static str {
        match self {
            DefaultTo::Nothing => "",
            DefaultTo::Zero => " (default: must be 0)",
            DefaultTo::ZeroWithConsumers => " (default with consumers: must be 0)",
            DefaultTo::ZeroWithTransactions => " (default with transactional producers: must be 0)",
            DefaultTo::ZeroWithDLedger => " (default with DLedger groups: must be 0)",
        }
    }
}

/// One expectation.
pub struct Expectation {
    /// Its key in `[expect]`, and its name in reports.
    pub name: &'static str,
    pub measure: Measure,
    /// Unknown unless the run drained and was read back completely.
    pub needs_read_back: bool,
    /// The anomalies it counts, one witness each. The row is named after their kind: the
    /// kind's name (`lost`, `duplicated`), or for a noun its plural (`rewind` → `rewinds`,
    /// `stale_delivery` → `stale_deliveries`).
    pub witnesses: Option<Witnesses>,
    pub default: DefaultTo,
    /// What it counts or times, for the README.
    pub meaning: &'static str,
}

/// The kind of anomaly an expectation counts.
#[derive(Copy, Clone, Debug)]
pub struct Witnesses {
    pub kind: AnomalyKind,
    /// Whether the anomalies themselves rest on what the read-back found, so that an
    /// unfinished read-back leaves them out of a run's numbered anomalies (the HTML's markers,
    /// `sim explain --anomaly`): `AnomalyKind::needs_read_back`. Whatever this says, a summary
    /// leaves out the witnesses of every figure an unfinished read-back did not measure.
    pub rest_on_read_back: bool,
}

impl Witnesses {
    /// Anomalies of `kind` that stand without the read-back.
    const fn of(kind: AnomalyKind) -> Witnesses {
        Witnesses {
            kind,
            rest_on_read_back: false,
        }
    }

    /// Anomalies of `kind` that rest on what the read-back found.
    const fn resting_on_read_back(kind: AnomalyKind) -> Witnesses {
        Witnesses {
            kind,
            rest_on_read_back: true,
        }
    }
}

/// The expectations that count anomalies of `kind`.
pub fn counting(kind: AnomalyKind) -> impl Iterator<Item = &'static Expectation> {
    TABLE
        .iter()
        .filter(move |e| e.witnesses.is_some_and(|w| w.kind == kind))
}

impl Expectation {
    /// Whether its condition is a time condition (`"120s..130s"`) rather than a count.
    pub fn is_time(&self) -> bool {
        matches!(self.measure, Measure::Time(_))
    }
}

/// The sum of a figure over the consumer groups.
fn groups(observed: &Observed<'_>, pick: fn(&GroupFigures) -> u64) -> u64 {
    observed.groups.iter().map(pick).sum()
}

/// Where `name` stands in the table.
pub fn position(name: &str) -> Option<usize> {
    TABLE.iter().position(|e| e.name == name)
}

/// The README's table of expectations, generated from this one.
pub fn markdown_table() -> String {
    let mut table = String::from("| key | meaning |\n|---|---|\n");
    for expectation in TABLE {
        let (name, meaning) = (expectation.name, expectation.meaning);
        let default = expectation.default.describe();
        table.push_str(&format!("| `{name}` | {meaning}{default} |\n"));
    }
    table
}

/// Every expectation, in report order.
pub const TABLE: &[Expectation] = &[
    Expectation {
        name: "lost",
        measure: Measure::Count(|o| o.sends.counts.lost),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::Lost)),
        default: DefaultTo::Nothing,
        meaning: "acknowledged SEND_OK, not stored on any replica at the end (for a consumed topic: \
         never delivered to a group; one stored at an offset the group had passed is \
         `offset_reused`, one a slave keeps at an entry below its queue offset while the group \
         read the queue from that slave is `misplaced_entry`)",
    },
    Expectation {
        name: "lost_unconfirmed",
        measure: Measure::Count(|o| o.sends.counts.lost_unconfirmed),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(
            AnomalyKind::LostUnconfirmed,
        )),
        default: DefaultTo::Nothing,
        meaning: "acknowledged only with FLUSH_DISK_TIMEOUT / FLUSH_SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE, \
         not stored",
    },
    Expectation {
        name: "lost_unexplained",
        measure: Measure::Count(|o| o.sends.counts.lost_unexplained),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(
            AnomalyKind::LostUnexplained,
        )),
        default: DefaultTo::Nothing,
        meaning: "lost, and no crash in the durability model explains it (always a bug)",
    },
    Expectation {
        name: "recovered",
        measure: Measure::Count(|o| o.sends.counts.recovered),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::Recovered)),
        default: DefaultTo::Nothing,
        meaning: "every send failed or ended unknown, yet stored",
    },
    Expectation {
        name: "duplicated",
        measure: Measure::Count(|o| o.sends.counts.duplicated),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::Duplicated)),
        default: DefaultTo::Nothing,
        meaning: "stored at two or more queue offsets",
    },
    Expectation {
        name: "refused_but_stored",
        measure: Measure::Count(|o| o.sends.counts.refused_but_stored),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(
            AnomalyKind::RefusedButStored,
        )),
        default: DefaultTo::Zero,
        meaning: "messages stored more times than the attempts no broker refused: a broker \
         answers SYSTEM_BUSY ([REJECTREQUEST], [OVERLOAD], [PCBUSY_CLEAN_QUEUE], \
         [TIMEOUT_CLEAN_QUEUE]) only for a request it takes out of its send queue unprocessed",
    },
    Expectation {
        name: "redelivered",
        measure: Measure::Count(|o| groups(o, |g| g.redelivered)),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::Redelivered)),
        default: DefaultTo::Nothing,
        meaning: "a stored copy delivered to a group again with the same reconsume count, or a retry \
         copy beyond the failures that sent the message back (consumer-side duplicates; the \
         report splits them by cause: consumer crash, consumer shutdown, rebalance, broker \
         restart, offsets on slave, schedule replay (a restarted broker's \
         ScheduleMessageService moves retries again from delay offsets persisted every 10 s, \
         #3473), send-back retried (the client sent a retry copy itself after a send-back the \
         broker had stored), misplaced entry (the first delivery came from a slave through an \
         entry below its record's queue offset, and the next pull, from the master, asked for \
         that record again), operator reset (an operator's `resetOffsetByTime` sent the group \
         back), consumed directly (an operator's CONSUME_MESSAGE_DIRECTLY), offset reset)",
    },
    Expectation {
        name: "redelivered_unexplained",
        measure: Measure::Count(|o| groups(o, |g| g.redelivered_unexplained)),
        needs_read_back: true,
        witnesses: None,
        default: DefaultTo::ZeroWithConsumers,
        meaning: "redeliveries none of those causes explains, and offset resets below consumed messages",
    },
    Expectation {
        name: "reset_missed",
        measure: Measure::Count(|o| groups(o, |g| g.reset_missed)),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::ResetMissed)),
        default: DefaultTo::Nothing,
        meaning: "messages at or past the offset an operator's reset (`resetOffsetByTime`) sent a \
         group to, handed to it before the reset and never again after it: a consumer of the \
         group that stops in `resetOffset`'s 10 s sleep never applies the reset (`consumer \
         stopped`)",
    },
    Expectation {
        name: "reset_missed_unexplained",
        measure: Measure::Count(|o| groups(o, |g| g.reset_missed_unexplained)),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::ZeroWithConsumers,
        meaning: "`reset_missed` with no consumer of the group stopped while the reset was applied",
    },
    Expectation {
        name: "stale_deliveries",
        measure: Measure::Count(|o| groups(o, |g| g.stale_deliveries)),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::StaleDelivery)),
        default: DefaultTo::ZeroWithConsumers,
        meaning: "messages handed to a listener after its consumer's rebalance allocated their queue \
         elsewhere (judged from the allocation the rebalance computed, not from the consumer's \
         report of dropping the queue), or after it dropped the queue",
    },
    Expectation {
        name: "abandoned",
        measure: Measure::Count(|o| groups(o, |g| g.abandoned)),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::Abandoned)),
        default: DefaultTo::Nothing,
        meaning: "a broadcasting instance failed it and dropped it (broadcasting does not retry)",
    },
    Expectation {
        name: "retry_lost",
        measure: Measure::Count(|o| groups(o, |g| g.retry_lost)),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::RetryLost)),
        default: DefaultTo::ZeroWithConsumers,
        meaning: "a clustering group's listener failed it, no listener call of the group ever consumed \
         it, and it is in no `%DLQ%` queue of the group; a failure whose send-back a broker \
         stored and then lost (a send-back waits for no flush or slave, and the group's offset \
         moves past it) is named `send_back_lost` and counted apart, as `send_backs_lost`, in \
         neither this nor `failed_acked`",
    },
    Expectation {
        name: "failed_acked",
        measure: Measure::Count(|o| groups(o, |g| g.failed_acked)),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::FailedAcked)),
        default: DefaultTo::ZeroWithConsumers,
        meaning: "failed, never handed to a listener again nor consumed nor dead-lettered, yet the \
         group's committed offset passed it",
    },
    Expectation {
        name: "orderly_overlaps",
        measure: Measure::Count(|o| groups(o, |g| g.orderly_overlaps)),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::OrderlyOverlap)),
        default: DefaultTo::ZeroWithConsumers,
        meaning: "two consumers inside the listener for one orderly queue at once, from the \
         application's own record of its listener calls",
    },
    Expectation {
        name: "reordered",
        measure: Measure::Count(|o| groups(o, |g| g.reordered)),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::Reordered)),
        default: DefaultTo::Nothing,
        meaning: "a message of a sharding key delivered after a later one of the same key",
    },
    Expectation {
        name: "skipped",
        measure: Measure::Count(|o| groups(o, |g| g.skipped)),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::Skipped)),
        default: DefaultTo::Nothing,
        meaning: "stored in a consumed queue, never delivered, not dead-lettered (named `operator \
         reset` when an operator's reset sent the group past it before it was consumed; else it \
         is also lost)",
    },
    Expectation {
        name: "rewinds",
        measure: Measure::Count(|o| groups(o, |g| g.rewinds)),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::Rewind)),
        default: DefaultTo::Nothing,
        meaning: "a consumer took a queue below what the group had already consumed there",
    },
    Expectation {
        name: "dead_lettered",
        measure: Measure::Count(|o| groups(o, |g| g.dead_lettered)),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::DeadLettered)),
        default: DefaultTo::Nothing,
        meaning: "parked in the group's `%DLQ%` topic after its retries (delivered there, not lost)",
    },
    Expectation {
        name: "unexpected",
        measure: Measure::Count(|o| o.sends.counts.unexpected),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::Unexpected)),
        default: DefaultTo::Zero,
        meaning: "stored with an id nobody sent",
    },
    Expectation {
        name: "broken_promises",
        measure: Measure::Count(|o| o.sends.counts.broken_promises),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::BrokenPromise)),
        default: DefaultTo::Nothing,
        meaning: "SEND_OK answers whose promise did not hold at the moment the broker gave them, judged \
         from what the harness read off the simulated disks then: under SYNC_FLUSH the record \
         was not on the answering machine's media, under SYNC_MASTER no other machine of its \
         group held its bytes, in a DLedger group fewer than a quorum of members held them in \
         their entry data files; each with its cause: `diverged_replica` (the slave held other \
         bytes there: its log and the master's went separate ways after the master came back \
         with less, and 4.9.8's SYNC_MASTER trusts the offset a slave reports, never its \
         bytes), `replica_lost_power` (the slave, or a DLedger follower, lost power between its \
         report and the answer: it acknowledges what is in its page cache)",
    },
    Expectation {
        name: "broken_promises_unexplained",
        measure: Measure::Count(|o| o.sends.counts.broken_promises_unexplained),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::Zero,
        meaning: "broken promises no known mechanism explains; a broker that acknowledges early \
         fails in every seed where it does, with or without a fault",
    },
    Expectation {
        name: "two_leaders",
        measure: Measure::Count(|o| o.dledger.two_leaders),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::TwoLeaders)),
        default: DefaultTo::Nothing,
        meaning: "terms of a DLedger group in which two candidates each hold grants from a quorum, \
         and leaderships announced without a quorum of grants, judged from the votes each voter \
         recorded as it wrote them to its term file; a voter that granted both after losing \
         power between is named `unsynced_vote_file` (0.3.1.2 never fsyncs the term file)",
    },
    Expectation {
        name: "two_leaders_unexplained",
        measure: Measure::Count(|o| o.dledger.two_leaders_unexplained),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::ZeroWithDLedger,
        meaning: "terms with two leaders that no loss of a voter's term file explains: a defect",
    },
    Expectation {
        name: "log_diverged",
        measure: Measure::Count(|o| o.dledger.log_diverged),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::LogDiverged)),
        default: DefaultTo::Nothing,
        meaning: "moments a DLedger member held, at an index once committed, another entry than \
         the committed one, or at one index of one term another entry than a fellow member, \
         judged from each member's records of what it wrote; named `old_term_commit` (an \
         earlier term's entry committed by counting replicas, then replaced: Raft's figure 8, \
         as 0.3.1.2 has no current-term rule), `quorum_power_loss` (a quorum of its holders \
         lost it with their page caches) or `unsynced_vote_file` (two leaders in a term)",
    },
    Expectation {
        name: "log_diverged_unexplained",
        measure: Measure::Count(|o| o.dledger.log_diverged_unexplained),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::ZeroWithDLedger,
        meaning: "diverged DLedger logs no known mechanism of 0.3.1.2 explains: a defect",
    },
    Expectation {
        name: "uncommitted_dispatches",
        measure: Measure::Count(|o| o.dledger.uncommitted_dispatches),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::UncommittedDispatch)),
        default: DefaultTo::Nothing,
        meaning: "records a DLedger member dispatched to its ConsumeQueues from entries no \
         quorum of members ever held; named `committed_past_truncation` when a TRUNCATE cut \
         the member's log below its committed index, whose position 0.3.1.2 keeps (dledger \
         #316), `torn_entry` when a member's recovery kept a copy torn at a power loss (no CRC \
         of the body) and pushed it on",
    },
    Expectation {
        name: "uncommitted_dispatches_unexplained",
        measure: Measure::Count(|o| o.dledger.uncommitted_dispatches_unexplained),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::ZeroWithDLedger,
        meaning: "uncommitted dispatches no known mechanism explains: consumers can be handed \
         entries a new leader truncates, a defect",
    },
    Expectation {
        name: "corrupt",
        measure: Measure::Count(|o| o.sends.counts.corrupt),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::Corrupt)),
        default: DefaultTo::Nothing,
        meaning: "stored, but not as sent (another body, or torn properties)",
    },
    Expectation {
        name: "diverged",
        measure: Measure::Count(|o| o.sends.counts.diverged),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::Diverged)),
        default: DefaultTo::Nothing,
        meaning: "queue positions where two replicas of a group hold different messages",
    },
    Expectation {
        name: "misplaced",
        measure: Measure::Count(|o| o.sends.counts.misplaced),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::Misplaced)),
        default: DefaultTo::Nothing,
        meaning: "ConsumeQueue entries the read-back found leading to a record of another queue position \
         (its own topic, queue id and offset say so), or to no record",
    },
    Expectation {
        name: "misplaced_unexplained",
        measure: Measure::Count(|o| o.sends.counts.misplaced_unexplained),
        needs_read_back: true,
        witnesses: None,
        default: DefaultTo::Zero,
        meaning: "misplaced, and neither an out-of-order dispatch the store reported (4.9.8's \
         \"[BUG]logic queue order maybe wrong\", as on a slave whose master cut and reused \
         offsets) nor a rotted byte explains it",
    },
    Expectation {
        name: "txn_lost",
        measure: Measure::Count(|o| o.sends.counts.transactions.lost),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::TxnLost)),
        default: DefaultTo::Nothing,
        meaning: "the application committed a transaction (its own record of the decision), yet some \
         group never consumed it (a group whose listener failed it until it was dead-lettered \
         got it: it counts in that group's `dead_lettered`; with no group: it is not stored); \
         each with its cause: `discarded` after the last check, `commit_lost` or `half_lost` \
         with a broker's page cache, `half_only_on_slave` (the master lost it, and a slave's \
         copy is never checked), `half_left_on_old_master` (an operator promoted a slave that \
         never received the half, and the old master that has it checks no more), \
         `offset_reused` after a truncation, `end_took_another_half` (its END_TRANSACTION \
         committed another transaction's half, found at the offsets it named after the broker \
         lost its log)",
    },
    Expectation {
        name: "txn_lost_unexplained",
        measure: Measure::Count(|o| o.sends.counts.transactions.lost_unexplained),
        needs_read_back: true,
        witnesses: None,
        default: DefaultTo::ZeroWithTransactions,
        meaning: "lost transactions none of those explains",
    },
    Expectation {
        name: "txn_phantom",
        measure: Measure::Count(|o| o.sends.counts.transactions.phantom),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::TxnPhantom)),
        default: DefaultTo::Nothing,
        meaning: "visible although the application rolled back, answered UNKNOW or never decided; cause: \
         `end_for_another_half` (after a broker lost its log, an END_TRANSACTION for another \
         transaction found this half at the offsets it named: `checkPrepareMessage` compares \
         the group and the offsets, never the id)",
    },
    Expectation {
        name: "txn_phantom_unexplained",
        measure: Measure::Count(|o| o.sends.counts.transactions.phantom_unexplained),
        needs_read_back: true,
        witnesses: None,
        default: DefaultTo::ZeroWithTransactions,
        meaning: "phantoms no known mechanism explains",
    },
    Expectation {
        name: "txn_duplicated",
        measure: Measure::Count(|o| o.sends.counts.transactions.duplicated),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::TxnDuplicated)),
        default: DefaultTo::Nothing,
        meaning: "a transaction stored more than once in its topic; causes: `check_raced_commit` (a \
         check read the op queue before the producer's commit was dispatched, #8158), \
         `repeated_commit` (#5574), `half_stored_twice` (a failed attempt of the half's send \
         had stored it, and the retry or the application's resend stored a second half, on \
         another broker or the same one), `op_lost` (a power loss took the first commit's op \
         message), `check_progress_regressed` (a restart set the check's progress back, so it \
         asked about a half again), `commit_not_replicated` (the commit and its op message \
         stayed on a master an operator replaced by a slave that never received them; the new \
         master's check committed it again)",
    },
    Expectation {
        name: "txn_duplicated_unexplained",
        measure: Measure::Count(|o| o.sends.counts.transactions.duplicated_unexplained),
        needs_read_back: true,
        witnesses: None,
        default: DefaultTo::ZeroWithTransactions,
        meaning: "duplicated transactions none of those explains",
    },
    Expectation {
        name: "txn_discarded",
        measure: Measure::Count(|o| o.sends.counts.transactions.discarded),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::TxnDiscarded)),
        default: DefaultTo::Nothing,
        meaning: "half messages discarded after `transaction_check_max` checks (read back from \
         `TRANS_CHECK_MAX_TIME_TOPIC`)",
    },
    Expectation {
        name: "txn_repaired",
        measure: Measure::Count(|o| o.sends.counts.transactions.repaired),
        needs_read_back: true,
        witnesses: Some(Witnesses::of(AnomalyKind::TxnRepaired)),
        default: DefaultTo::Nothing,
        meaning: "transactions a check-back committed because the producer's own END_TRANSACTION never \
         took effect; the report also gives the time from the local decision to the first \
         consumption (p50, p99, max)",
    },
    Expectation {
        name: "early_deliveries",
        measure: Measure::Count(|o| groups(o, |g| g.early_deliveries)),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::EarlyDelivery)),
        default: DefaultTo::ZeroWithConsumers,
        meaning: "a delayed message handed to a listener before its delay had passed since it was first \
         sent",
    },
    Expectation {
        name: "filtered",
        measure: Measure::Count(|o| groups(o, |g| g.filtered)),
        needs_read_back: true,
        witnesses: None,
        default: DefaultTo::Nothing,
        meaning: "messages no instance of a group subscribes to (by tag), never delivered to it: by \
         design, never `lost` or `skipped`; the report adds how many of them the broker let \
         through on a colliding hash code and the client dropped",
    },
    Expectation {
        name: "stranded",
        measure: Measure::Count(|o| groups(o, |g| g.stranded)),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::Stranded)),
        default: DefaultTo::Nothing,
        meaning: "messages stored in a queue no consumer of the group could read at the end (past \
         the topic's read queues on that broker, or without read permission, as the routes gave \
         them), never delivered: an operator shrank the read queues before they were consumed; \
         never `lost`",
    },
    Expectation {
        name: "before_start",
        measure: Measure::Count(|o| groups(o, |g| g.before_start)),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::BeforeStart)),
        default: DefaultTo::Nothing,
        meaning: "messages stored below the offset a new group first took their queue at, never \
         delivered to it: with no committed offset, `CONSUME_FROM_LAST_OFFSET` starts at the \
         queue's end once the broker finds its first message \"in disk\" \
         (`accessMessageInMemoryMaxRatio` of the machine's memory behind the CommitLog's end), \
         `CONSUME_FROM_TIMESTAMP` at the offset stored nearest its time; by design, never `lost`",
    },
    Expectation {
        name: "wrong_starts",
        measure: Measure::Count(|o| groups(o, |g| g.wrong_starts)),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::WrongStart)),
        default: DefaultTo::ZeroWithConsumers,
        meaning: "first takes of a queue by a new group at another offset than 4.9.8 gives one \
         with no committed offset, judged from the acknowledgements: 0 while the queue's first \
         message is not \"in disk\", else 0 for CONSUME_FROM_FIRST_OFFSET and the queue's end \
         for CONSUME_FROM_LAST_OFFSET (CONSUME_FROM_TIMESTAMP is not judged)",
    },
    Expectation {
        name: "from_the_past",
        measure: Measure::Count(|o| groups(o, |g| g.from_the_past)),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::Nothing,
        meaning: "messages a new group consumed that were stored before it first took their \
         queue: the broker answers a new group 0 while the queue's first message is not yet \
         \"in disk\", so even `CONSUME_FROM_LAST_OFFSET` reads the queue from its beginning \
         (apache/rocketmq #334)",
    },
    Expectation {
        name: "expired",
        measure: Measure::Count(|o| o.sends.counts.expired + groups(o, |g| g.expired)),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::Expired)),
        default: DefaultTo::Nothing,
        meaning: "messages retention deleted before a group consumed them (for a topic no group \
         consumes: before the end): their CommitLog file was `fileReservedTime` old in a \
         `deleteWhen` hour, or the disk was full; never `lost`",
    },
    Expectation {
        name: "index_missing",
        measure: Measure::Count(|o| o.sends.counts.index_missing),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(AnomalyKind::IndexMissing)),
        default: DefaultTo::Nothing,
        meaning: "stored messages a query by key does not find: records read back that \
         QUERY_MESSAGE by their `UNIQ_KEY` misses on their replica (with `query_index = true`), \
         and messages a broker acknowledged that its answer to an operator's `query-keys` \
         left out; named `index_dropped_at_recovery` when a crash's recovery deleted the index \
         files newer than the checkpoint's index timestamp and rebuilt only what it \
         re-dispatched",
    },
    Expectation {
        name: "index_missing_unexplained",
        measure: Measure::Count(|o| o.sends.counts.index_missing_unexplained),
        needs_read_back: true,
        witnesses: None,
        default: DefaultTo::Zero,
        meaning: "index misses no recovery explains: a key the IndexFile lost (always a bug)",
    },
    Expectation {
        name: "recovery_misstarts",
        measure: Measure::Count(|o| o.sends.counts.recovery_misstarts),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::RecoveryMisstart)),
        default: DefaultTo::Zero,
        meaning: "abnormal recoveries that began their CommitLog scan at another file than \
         4.9.8's rule picks from what the disk held (the newest file whose first record is no \
         newer than the checkpoint's timestamp less 3 s): a clock that stepped back changes the \
         file, never the rule",
    },
    Expectation {
        name: "deleted_early",
        measure: Measure::Count(|o| o.sends.counts.deleted_early),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::DeletedEarly)),
        default: DefaultTo::Zero,
        meaning: "CommitLog files retention deleted that 4.9.8's rules keep: younger than \
         `fileReservedTime` by their mtime, or outside the `deleteWhen` hours on a disk below \
         `diskMaxUsedSpaceRatio`, on a disk at most 85 % full",
    },
    Expectation {
        name: "uncorrected_offsets",
        measure: Measure::Count(|o| groups(o, |g| g.uncorrected_offsets)),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::UncorrectedOffset)),
        default: DefaultTo::ZeroWithConsumers,
        meaning: "takes of a queue by a consumer below the offset a PULL_OFFSET_MOVED answer had \
         corrected it to (the queue's minimum passed it), with no broker stop between that could \
         have lost the commit: the consumer asks for deleted messages again",
    },
    Expectation {
        name: "subscription_conflicts",
        measure: Measure::Count(|o| groups(o, |g| g.subscription_conflicts)),
        needs_read_back: true,
        witnesses: Some(Witnesses::resting_on_read_back(
            AnomalyKind::SubscriptionConflict,
        )),
        default: DefaultTo::Nothing,
        meaning: "messages some instances of a group subscribe to and others do not, never delivered to \
         the group: the broker keeps one subscription per group (the newest heartbeat's) and \
         each client consumes past what its own excludes (#2836)",
    },
    Expectation {
        name: "unfiltered_by_broker",
        measure: Measure::Count(|o| groups(o, |g| g.unfiltered_by_broker)),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::UnfilteredByBroker)),
        default: DefaultTo::ZeroWithConsumers,
        meaning: "messages a client's tag compare dropped whose tag's hash code matches no tag any \
         instance of the group subscribes to: the broker's prefilter by the ConsumeQueue \
         entry's tag hash code should have kept them back",
    },
    Expectation {
        name: "unsubscribed_deliveries",
        measure: Measure::Count(|o| groups(o, |g| g.unsubscribed_deliveries)),
        needs_read_back: false,
        witnesses: Some(Witnesses::of(AnomalyKind::UnsubscribedDelivery)),
        default: DefaultTo::ZeroWithConsumers,
        meaning: "messages handed to a listener whose instance's subscription excludes their tag",
    },
    Expectation {
        name: "weak_acks",
        measure: Measure::Count(|o| o.sends.counts.weak_acks),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::Nothing,
        meaning: "sends acknowledged with a weaker status than SEND_OK",
    },
    Expectation {
        name: "failed",
        measure: Measure::Count(|o| o.sends.counts.failed),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::Nothing,
        meaning: "messages whose sends all failed",
    },
    Expectation {
        name: "unavailable",
        measure: Measure::Time(|o| vec![o.sends.unavailable_ms]),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::Nothing,
        meaning: "the longest time without a SEND_OK",
    },
    Expectation {
        name: "removal_after_kill",
        measure: Measure::Time(|o| o.routes.removal_after_kill_ms.clone()),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::Nothing,
        meaning: "kill of a broker → each name server drops it",
    },
    Expectation {
        name: "removal_after_silence",
        measure: Measure::Time(|o| o.routes.removal_after_silence_ms.clone()),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::Nothing,
        meaning: "a broker's last registration → a name server drops it for silence",
    },
    Expectation {
        name: "route_catch_up",
        measure: Measure::Time(|o| o.routes.route_catch_up_ms.clone()),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::Nothing,
        meaning: "a name server drops a broker → the clients it serves drop it from their route",
    },
    Expectation {
        name: "handover",
        measure: Measure::Time(|o| o.handovers.to_vec()),
        needs_read_back: false,
        witnesses: None,
        default: DefaultTo::Nothing,
        meaning: "a queue allocated to a new consumer of a group → the old owner's rebalance lets it go, \
         or its process stops (judged from the allocations the rebalances computed; RocketMQ \
         rebalances every 20 s and on every change of the group)",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A kind's name as a count: a noun takes its plural, an adjective stays as it is.
    fn spellings(kind: AnomalyKind) -> [String; 2] {
        let name = kind.name();
        let plural = match name.strip_suffix('y') {
            Some(stem) => format!("{stem}ies"),
            None if name.ends_with("ch") => format!("{name}es"),
            None => format!("{name}s"),
        };
        [name.to_string(), plural]
    }

    #[test]
    fn every_row_that_counts_anomalies_is_named_after_their_kind() {
        for expectation in TABLE {
            if let Some(witnesses) = expectation.witnesses {
                let spellings = spellings(witnesses.kind);
                assert!(
                    spellings.iter().any(|s| s == expectation.name),
                    "{} counts {}",
                    expectation.name,
                    witnesses.kind.name()
                );
            }
        }
    }

    #[test]
    fn every_kind_is_counted_by_one_row_and_no_row_is_named_after_a_kind_it_does_not_count() {
        for kind in super::super::anomaly::tests::ALL {
            assert_eq!(counting(kind).count(), 1, "{}", kind.name());
            let spellings = spellings(kind);
            for expectation in TABLE {
                if spellings.iter().any(|s| s == expectation.name) {
                    let counted = expectation.witnesses.map(|w| w.kind);
                    assert_eq!(counted, Some(kind), "{}", expectation.name);
                }
            }
        }
    }

    #[test]
    fn anomalies_resting_on_the_read_back_are_counted_by_a_row_that_needs_it() {
        for expectation in TABLE {
            if expectation.witnesses.is_some_and(|w| w.rest_on_read_back) {
                assert!(expectation.needs_read_back, "{}", expectation.name);
            }
        }
    }
}
