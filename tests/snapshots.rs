//! Golden snapshots of each bundled scenario's invariant summary for pinned seeds, kept under
//! `reports/snapshots/`. Any change of behaviour shows up as a snapshot diff (review it with
//! `cargo insta review`, or accept it with `INSTA_UPDATE=always cargo test`).

mod common;

/// The pinned seeds of every scenario.
const SEEDS: [u64; 2] = [7, 42];

fn snapshot(name: &str) {
    let scenario = common::bundled(name);
    for seed in SEEDS {
        let summary = common::summary(&scenario, seed);
        insta::with_settings!({
            snapshot_path => "../reports/snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_json_snapshot!(format!("{name}-seed-{seed}"), summary);
        });
    }
}

macro_rules! snapshots {
    ($($test:ident => $name:literal,)*) => {
        $(#[test] fn $test() { snapshot($name); })*

        /// Every bundled scenario has its snapshot test above.
        #[test]
        fn every_bundled_scenario_is_snapshotted() {
            let covered = [$($name),*];
            for path in common::bundled_files() {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                assert!(covered.contains(&name.as_str()), "scenarios/{name}.toml has no snapshot test");
            }
        }
    };
}

snapshots! {
    route_expiry => "route-expiry",
    process_crash_async_flush => "process-crash-async-flush",
    power_loss_async_flush => "power-loss-async-flush",
    power_loss_sync_flush => "power-loss-sync-flush",
    lost_ack => "lost-ack",
    slow_disk_sync_flush => "slow-disk-sync-flush",
    bit_rot => "bit-rot",
    consumer_crash => "consumer-crash",
    crash_during_catch_up => "crash-during-catch-up",
    new_group_start => "new-group-start",
    stuck_message_replay => "stuck-message-replay",
    reset_offset => "reset-offset",
    broker_busy => "broker-busy",
    long_backlog => "long-backlog",
    rebalance => "rebalance",
    ordered_messages => "ordered-messages",
    retry_dlq => "retry-dlq",
    retry_outage => "retry-outage",
    broadcasting => "broadcasting",
    offset_reuse => "offset-reuse",
    slave_lag => "slave-lag",
    sync_master => "sync-master",
    read_from_slave => "read-from-slave",
    reliability_matrix => "reliability-matrix",
    stalled_flush_power_loss => "stalled-flush-power-loss",
    manual_failover => "manual-failover",
    dledger_follower_crash => "dledger-follower-crash",
    dledger_leader_kill => "dledger-leader-kill",
    dledger_leader_churn => "dledger-leader-churn",
    queue_numbers => "queue-numbers",
    retention => "retention",
    disk_full_cleanup => "disk-full-cleanup",
    index_lookup => "index-lookup",
    clock_jump => "clock-jump",
    machine_gone => "machine-gone",
    dledger_partition => "dledger-partition",
    dledger_power_loss => "dledger-power-loss",
    dledger_vs_classic => "dledger-vs-classic",
    transaction_failover => "transaction-failover",
    swarm_masters => "swarm-masters",
    swarm_replication => "swarm-replication",
    swarm_consumers => "swarm-consumers",
    swarm_dledger => "swarm-dledger",
    transaction_lost_end => "transaction-lost-end",
    transaction_producer_crash => "transaction-producer-crash",
    transaction_broker_crash => "transaction-broker-crash",
    transaction_unknown => "transaction-unknown",
    transaction_slow_local => "transaction-slow-local",
    swarm_transactions => "swarm-transactions",
    transaction_matrix => "transaction-matrix",
    delayed_messages => "delayed-messages",
    tags_and_filters => "tags-and-filters",
    selectors => "selectors",
}
