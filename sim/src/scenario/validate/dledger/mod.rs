//! The keys of a broker group that belong to one kind of replication: `role` and `slaves` to a
//! classic group, `peers` and the `dledger_*` timings to a DLedger group (whose defaults are
//! the model's `DLedgerConfig`'s), and what `DLedgerCommitLog` does not do. Checked on the
//! parsed file before anything is counted, so the counts can trust `peers`.

use super::{Checker, broker_group_path};
use crate::scenario::error::ScenarioError;
use crate::scenario::resolved::DLedgerGroup;
use crate::scenario::schema::{
    BrokerGroupSection, FlushMode, Replication, ScenarioFile, dledger_defaults,
};
use crate::scenario::units::Millis;

type Checked = Result<(), Box<ScenarioError>>;

/// The sizes a DLedger group may have: a majority survives one member's loss (3) or two (5).
const PEERS: [u32; 2] = [3, 5];

/// Every broker group's replication keys.
pub(super) fn check(check: &Checker<'_>, raw: &ScenarioFile) -> Checked {
    for (index, group) in raw.cluster.broker_groups.iter().enumerate() {
        match group.replication {
            Replication::Dledger => dledger(check, index, group)?,
            _ => classic(check, index, group)?,
        }
    }
    Ok(())
}

/// The `dledger_*` keys a group sets, with their names.
fn timings(group: &BrokerGroupSection) -> [(&'static str, Option<u64>); 5] {
    let ms = |value: Option<Millis>| value.map(|m| m.0);
    [
        ("dledger_max_wait_ack", ms(group.dledger_max_wait_ack)),
        (
            "dledger_max_push_timeout",
            ms(group.dledger_max_push_timeout),
        ),
        ("dledger_flush_interval", ms(group.dledger_flush_interval)),
        (
            "dledger_checkpoint_interval",
            ms(group.dledger_checkpoint_interval),
        ),
        (
            "dledger_max_pending_requests",
            group.dledger_max_pending_requests,
        ),
    ]
}

/// A classic group takes none of a DLedger group's timings; its size is `slaves` or `peers`
/// (not both, and at least the master), its role `role` or `replication`'s (not both).
fn classic(check: &Checker<'_>, index: usize, group: &BrokerGroupSection) -> Checked {
    let hint = || Some("set `replication = \"dledger\"`, or remove the key".to_string());
    if group.peers.is_some() && group.slaves.is_some() {
        return Err(check.error(
            &broker_group_path(index, "peers"),
            "a classic group is sized by `slaves` or by `peers` (the master and peers - 1 \
             slaves), not both",
            Some("remove one of them".into()),
        ));
    }
    if group.peers == Some(0) {
        return Err(check.error(
            &broker_group_path(index, "peers"),
            "must be at least 1: the master",
            None,
        ));
    }
    if group.replication.role().is_some() && group.role.is_some() {
        return Err(check.error(
            &broker_group_path(index, "role"),
            "`replication` names the master's role already",
            Some("remove `role`, or set `replication = \"classic\"`".into()),
        ));
    }
    if let Some((field, _)) = timings(group).into_iter().find(|(_, v)| v.is_some()) {
        return Err(check.error(
            &broker_group_path(index, field),
            "only a DLedger group takes it; this group's replication is classic",
            hint(),
        ));
    }
    Ok(())
}

/// A DLedger group: no master role or slaves to configure, 3 or 5 peers, timings of at least
/// 1 ms (and a pending limit of at least 1), and none of what `DLedgerCommitLog` skips.
fn dledger(check: &Checker<'_>, index: usize, group: &BrokerGroupSection) -> Checked {
    let path = |field| broker_group_path(index, field);
    let elects = "a DLedger group elects its own master";
    if group.role.is_some() {
        let message = format!("{elects}: its members' roles are not configured");
        let hint = "remove `role`: the leader runs as SYNC_MASTER, the others as SLAVE";
        return Err(check.error(&path("role"), message, Some(hint.into())));
    }
    if group.slaves.is_some() {
        let message = format!("{elects} among its `peers`: it has no slaves to configure");
        let hint = "remove `slaves`; `peers = 3` (the default) or 5 sizes the group";
        return Err(check.error(&path("slaves"), message, Some(hint.into())));
    }
    if let Some(peers) = group.peers.filter(|p| !PEERS.contains(p)) {
        let message = format!("is {peers}; a DLedger group has 3 or 5 peers");
        return Err(check.error(&path("peers"), message, None));
    }
    not_in_dledger_commit_log(check, index, group)?;
    if let Some((field, _)) = timings(group).into_iter().find(|(_, v)| *v == Some(0)) {
        let least = match field {
            "dledger_max_pending_requests" => "1",
            _ => "1ms",
        };
        return Err(check.error(&path(field), format!("must be at least {least}"), None));
    }
    Ok(())
}

/// `DLedgerCommitLog.asyncPutMessage` appends through DLedger and answers when a quorum has
/// the entry: it never commits through the transient store pool (its `start` starts only the
/// DLedger server) nor waits for a flush (no `handleDiskFlush`), so settings that promise
/// either would promise nothing.
fn not_in_dledger_commit_log(
    check: &Checker<'_>,
    index: usize,
    group: &BrokerGroupSection,
) -> Checked {
    let path = |field| broker_group_path(index, field);
    if group.transient_store_pool {
        return Err(check.error(
            &path("transient_store_pool"),
            "a DLedger group's commitlog (DLedgerCommitLog) writes DLedger's own files and has \
             no transient store pool",
            Some("remove `transient_store_pool`".into()),
        ));
    }
    if group.flush == FlushMode::Sync {
        return Err(check.error(
            &path("flush"),
            "a DLedger group answers a send when a quorum of its members has it, never after a \
             flush (DLedgerCommitLog ignores flushDiskType): \"sync\" would promise nothing",
            Some("remove `flush`, or use flush = \"async\"".into()),
        ));
    }
    Ok(())
}

/// A DLedger group's settings: the file's timings, else the model's defaults.
pub(super) fn resolve(group: &BrokerGroupSection) -> Option<DLedgerGroup> {
    if group.replication != Replication::Dledger {
        return None;
    }
    let defaults = dledger_defaults();
    let ms = |value: Option<Millis>, default: u64| value.map_or(default, |m| m.0);
    let pending = group.dledger_max_pending_requests;
    Some(DLedgerGroup {
        max_wait_ack_ms: ms(group.dledger_max_wait_ack, defaults.max_wait_ack_ms),
        max_push_timeout_ms: ms(group.dledger_max_push_timeout, defaults.max_push_timeout_ms),
        flush_interval_ms: ms(group.dledger_flush_interval, defaults.flush_interval_ms),
        checkpoint_interval_ms: ms(
            group.dledger_checkpoint_interval,
            defaults.checkpoint_interval_ms,
        ),
        max_pending_requests: pending.map_or(defaults.max_pending_requests, |p| p as usize),
    })
}

#[cfg(test)]
mod tests;
