//! DLedger broker groups in scenario files: what resolves (nodes `<group>-nK` with the broker
//! ids their members run with, timings from the file or the model's defaults) and what is
//! refused, each refusal naming the line and the field.

use crate::scenario::resolved::{DLedgerGroup, NodeRole, Scenario};
use crate::scenario::schema::{MasterRole, dledger_defaults};
use crate::scenario::{ScenarioError, parse};

/// A scenario with one broker group whose keys are `group` (after its name).
fn scenario(group: &str) -> String {
    format!(
        r#"name = "t"
summary = "s"
teaches = "t"
duration = "60s"

[cluster]
name_servers = 1

[[cluster.broker_group]]
name = "broker-a"
{group}

[[topic]]
name = "orders"

[[producer]]
group = "p"
topic = "orders"
messages = 10
"#
    )
}

/// The line of `cluster.broker_group`'s first key after its name.
const GROUP_LINE: usize = 11;

fn accepted(group: &str) -> Scenario {
    let text = scenario(group);
    parse(&text, "t.toml").unwrap_or_else(|err| panic!("refused:\n{err}\n{text}"))
}

/// `group` is refused at `line` (counted from the group's first key), naming `field` and
/// saying `needle`.
fn refused(group: &str, line: usize, field: &str, needle: &str) -> Box<ScenarioError> {
    let err = parse(&scenario(group), "t.toml").expect_err("refused");
    let place = err.place.map(|(line, _)| line);
    assert_eq!(place, Some(GROUP_LINE + line), "{err}");
    assert_eq!(
        err.field,
        format!("cluster.broker_group[0].{field}"),
        "{err}"
    );
    assert!(err.message.contains(needle), "`{needle}` in:\n{err}");
    err
}

/// The names and broker ids of the scenario's broker nodes, in id order.
fn brokers(scenario: &Scenario) -> Vec<(String, u64)> {
    let broker = |role| match role {
        NodeRole::Broker { broker_id, .. } => Some(broker_id),
        _ => None,
    };
    let nodes = scenario.nodes.iter();
    nodes
        .filter_map(|node| Some((node.name.clone(), broker(node.role)?)))
        .collect()
}

#[test]
fn a_dledger_group_of_three_declares_its_members_n0_first() {
    let scenario = accepted("replication = \"dledger\"");
    let named = |n: &str, id| (n.to_string(), id);
    let expected = [
        named("broker-a-n0", 0),
        named("broker-a-n1", 2),
        named("broker-a-n2", 3),
    ];
    assert_eq!(brokers(&scenario), expected);
    let group = &scenario.broker_groups[0];
    let names: Vec<&str> = group
        .nodes
        .iter()
        .map(|n| &*scenario.nodes[n.index()].name)
        .collect();
    assert_eq!(names, ["broker-a-n0", "broker-a-n1", "broker-a-n2"]);
    assert_eq!(group.role, MasterRole::SyncMaster);
    assert!(!group.transient_store_pool);
}

#[test]
fn a_dledger_group_of_five_runs_with_broker_ids_0_and_2_to_5() {
    let scenario = accepted("replication = \"dledger\"\npeers = 5");
    let ids: Vec<u64> = brokers(&scenario).into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, [0, 2, 3, 4, 5]);
    assert_eq!(brokers(&scenario)[4].0, "broker-a-n4");
    assert_eq!(scenario.broker_groups[0].nodes.len(), 5);
}

#[test]
fn a_classic_group_keeps_its_names_and_has_no_dledger_settings() {
    let scenario = accepted("slaves = 2");
    let ids: Vec<(String, u64)> = brokers(&scenario);
    assert_eq!(ids[0], ("broker-a".to_string(), 0));
    assert_eq!(ids[2], ("broker-a-s2".to_string(), 2));
    assert!(scenario.broker_groups[0].dledger.is_none());
    assert_eq!(scenario.broker_groups[0].role, MasterRole::AsyncMaster);
}

#[test]
fn dledger_timings_default_to_the_models() {
    let scenario = accepted("replication = \"dledger\"");
    let defaults = dledger_defaults();
    let expected = DLedgerGroup {
        max_wait_ack_ms: defaults.max_wait_ack_ms,
        max_push_timeout_ms: defaults.max_push_timeout_ms,
        flush_interval_ms: defaults.flush_interval_ms,
        checkpoint_interval_ms: defaults.checkpoint_interval_ms,
        max_pending_requests: defaults.max_pending_requests,
    };
    assert_eq!(scenario.broker_groups[0].dledger, Some(expected));
}

#[test]
fn dledger_timings_are_read_from_the_file() {
    let scenario = accepted(
        "replication = \"dledger\"
dledger_max_wait_ack = \"4s\"
dledger_max_push_timeout = \"700ms\"
dledger_flush_interval = \"20ms\"
dledger_checkpoint_interval = \"5s\"
dledger_max_pending_requests = 50",
    );
    let expected = DLedgerGroup {
        max_wait_ack_ms: 4_000,
        max_push_timeout_ms: 700,
        flush_interval_ms: 20,
        checkpoint_interval_ms: 5_000,
        max_pending_requests: 50,
    };
    assert_eq!(scenario.broker_groups[0].dledger, Some(expected));
}

#[test]
fn a_dledger_group_refuses_a_role_and_slaves_it_elects_its_own_master() {
    let err = refused(
        "replication = \"dledger\"\nrole = \"sync-master\"",
        1,
        "role",
        "elects its own master",
    );
    assert!(err.hint.as_deref().unwrap_or("").contains("remove `role`"));
    refused(
        "replication = \"dledger\"\nslaves = 1",
        1,
        "slaves",
        "elects its own master",
    );
    refused(
        "replication = \"dledger\"\nslaves = 0",
        1,
        "slaves",
        "no slaves to configure",
    );
}

#[test]
fn peers_are_three_or_five_in_a_dledger_group_and_size_a_classic_one() {
    refused("replication = \"dledger\"\npeers = 4", 1, "peers", "3 or 5");
    refused("replication = \"dledger\"\npeers = 1", 1, "peers", "3 or 5");
    accepted("replication = \"classic\"\nslaves = 1");
    refused("peers = 3\nslaves = 2", 0, "peers", "not both");
    refused("peers = 0", 0, "peers", "at least 1");
    let classic = accepted("replication = \"sync-master\"\npeers = 3");
    let names: Vec<String> = brokers(&classic)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["broker-a", "broker-a-s1", "broker-a-s2"]);
    assert_eq!(classic.broker_groups[0].role, MasterRole::SyncMaster);
    refused(
        "replication = \"sync-master\"\nrole = \"async-master\"",
        1,
        "role",
        "names the master's role already",
    );
}

#[test]
fn dledger_timings_are_only_for_a_dledger_group() {
    for key in [
        "dledger_max_wait_ack = \"1s\"",
        "dledger_max_push_timeout = \"1s\"",
        "dledger_flush_interval = \"1s\"",
        "dledger_checkpoint_interval = \"1s\"",
        "dledger_max_pending_requests = 5",
    ] {
        let field = key.split(' ').next().unwrap();
        refused(
            &format!("slaves = 1\n{key}"),
            1,
            field,
            "only a DLedger group",
        );
    }
}

#[test]
fn dledger_timings_are_at_least_one_and_bounded() {
    let dledger = "replication = \"dledger\"";
    refused(
        &format!("{dledger}\ndledger_flush_interval = \"0ms\""),
        1,
        "dledger_flush_interval",
        "at least 1ms",
    );
    refused(
        &format!("{dledger}\ndledger_max_wait_ack = \"0s\""),
        1,
        "dledger_max_wait_ack",
        "at least 1ms",
    );
    refused(
        &format!("{dledger}\ndledger_max_pending_requests = 0"),
        1,
        "dledger_max_pending_requests",
        "at least 1",
    );
    refused(
        &format!("{dledger}\ndledger_max_pending_requests = 2000000"),
        1,
        "dledger_max_pending_requests",
        "the limit is 1,000,000",
    );
}

#[test]
fn dledger_commit_log_has_no_transient_pool_and_no_sync_flush() {
    let dledger = "replication = \"dledger\"";
    refused(
        &format!("{dledger}\ntransient_store_pool = true"),
        1,
        "transient_store_pool",
        "no transient store pool",
    );
    refused(
        &format!("{dledger}\nflush = \"sync\""),
        1,
        "flush",
        "never after a flush",
    );
    accepted(&format!(
        "{dledger}\ntransient_store_pool = false\nflush = \"async\""
    ));
}

#[test]
fn ha_limits_are_classic_only_and_more_than_zero() {
    let dledger = "replication = \"dledger\"";
    refused(
        &format!("{dledger}\nslave_timeout = \"5s\""),
        1,
        "slave_timeout",
        "not HAService",
    );
    refused(
        "ha_transfer_batch_size = \"0B\"",
        0,
        "ha_transfer_batch_size",
        "more than 0",
    );
    accepted("slaves = 1\nha_slave_fallbehind_max = \"1MiB\"\nslave_timeout = \"500ms\"");
}

#[test]
fn an_unknown_replication_is_refused_at_its_line() {
    let err = parse(&scenario("replication = \"raft\""), "t.toml").expect_err("refused");
    assert_eq!(err.place.map(|(line, _)| line), Some(GROUP_LINE), "{err}");
    assert!(err.to_string().contains("dledger"), "{err}");
}

/// A `[[fault]]` of `kind` on `node`, appended to a scenario of a DLedger group.
fn role_fault(kind: &str, node: &str) -> Result<Scenario, Box<ScenarioError>> {
    let text = scenario("replication = \"dledger\"")
        + &format!("\n[[fault]]\nat = \"10s\"\nkind = \"{kind}\"\nnode = \"{node}\"\n");
    parse(&text, "t.toml")
}

#[test]
fn promote_and_demote_are_refused_on_a_dledger_groups_members() {
    for (kind, node) in [
        ("promote", "broker-a-n1"),
        ("demote", "broker-a-n0"),
        ("promote", "broker-a-n*"),
    ] {
        let err = role_fault(kind, node).expect_err("refused");
        assert_eq!(err.field, "fault[0].node", "{err}");
        assert!(err.message.contains("DLedger group `broker-a`"), "{err}");
        assert!(err.message.contains(&format!("cannot {kind} it")), "{err}");
    }
}

#[test]
fn other_faults_reach_a_dledger_groups_members_by_name() {
    let scenario = role_fault("kill", "broker-a-n1");
    assert!(scenario.is_ok(), "{:?}", scenario.err());
    let err = role_fault("kill", "broker-a").expect_err("no node is named after the group");
    assert!(err.to_string().contains("broker-a-n0"), "{err}");
}
