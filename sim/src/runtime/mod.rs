//! Running one seed: a madsim Runtime, one madsim node per model node, a host loop in each,
//! and the supervisor driving the plan.

pub mod host;
pub mod promises;
mod recovery;
pub mod supervisor;
pub mod world;

pub use crate::history::Ending;
pub use host::NodeFactory;
pub use supervisor::{Action, Aimed, Boot, Effect, NodeSpec, Plan, Progress, Timed};
pub use world::{PacketRecord, Status, World};

use crate::disk::{DiskConfig, DiskSim};
use crate::history::History;
use crate::net::Network;
use crate::rng::Stream;
use model::Time;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Everything one run needs.
pub struct Setup {
    pub seed: u64,
    pub nodes: Vec<NodeSpec>,
    pub plan: Plan,
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
    pub disk: DiskConfig,
    pub progress: Arc<dyn Progress>,
    /// Keep a human-readable line per handled event.
    pub keep_trace: bool,
    /// Count the handled events by kind.
    pub count_event_kinds: bool,
    /// Events the run may handle (its simulated-time budget is `plan.time_budget`).
    pub event_budget: u64,
    /// The broker machines whose SEND_OK answers promise something (flushed, or on a slave).
    pub promises: promises::PromiseWatch,
}

/// What one run left behind.
pub struct Outcome {
    pub ending: Ending,
    /// Simulated time at the end.
    pub end: Time,
    pub history: History,
    pub digest: String,
    pub events_handled: u64,
    pub names: Vec<String>,
    pub trace: Option<Vec<String>>,
    /// Every packet sent, when the trace was kept (for the report's diagram).
    pub packets: Option<Vec<PacketRecord>>,
    /// Why the run ended early, when it exceeded its simulated-time or event budget.
    pub over_budget: Option<String>,
    /// Hits per coverage probe (`model::probe::ALL`).
    pub probes: Vec<u64>,
    /// Handled events per kind (`trace::kind_name`), when counted; empty otherwise.
    pub event_kinds: BTreeMap<String, u64>,
}

/// Runs one seed to the end. Call it on a fresh thread (see `crate::run`).
pub fn run(setup: Setup) -> Outcome {
    model::probe::take(); // This thread's count starts with this run.
    let names: Vec<String> = setup.nodes.iter().map(|node| node.name.clone()).collect();
    let network = Network::new(
        names.len(),
        setup.latency_min_ms,
        setup.latency_max_ms,
        Stream::new(setup.seed, "network"),
    );
    let mut world = World::new(setup.seed, names.clone(), network);
    if setup.keep_trace {
        world.trace = Some(Vec::new());
        world.packets = Some(Vec::new());
    }
    if setup.count_event_kinds {
        world.event_kinds = Some(BTreeMap::new());
    }
    world.event_budget = setup.event_budget;
    world.promises = setup.promises;
    let time_budget = setup.plan.time_budget;
    let world = Arc::new(Mutex::new(world));

    let runtime =
        madsim::runtime::Runtime::with_seed_and_config(setup.seed, madsim::Config::default());
    runtime.add_simulator::<DiskSim>();
    let disk = (Stream::new(setup.seed, "disk"), setup.disk);
    let (ending, end) = runtime.block_on(supervisor::supervise(
        world.clone(),
        setup.nodes,
        setup.plan,
        disk,
        setup.progress,
    ));
    drop(runtime);

    let mut world = world.lock().expect("world lock");
    Outcome {
        ending,
        end,
        history: std::mem::take(&mut world.history),
        digest: world.digest.hex(),
        events_handled: world.events_handled,
        names,
        trace: world.trace.take(),
        packets: world.packets.take(),
        probes: model::probe::take(),
        event_kinds: world.event_kinds.take().unwrap_or_default(),
        over_budget: world.over_budget.take().or_else(|| {
            (end >= time_budget)
                .then(|| format!("the run reached its simulated-time budget of {time_budget}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Recorded, Stop};
    use model::NodeId;
    use model::broker::{Broker, BrokerConfig};
    use model::event::{Event, RemovalReason};
    use model::namesrv::NameServer;
    use model::protocol::TopicConfig;
    use model::protocol::route::perm;

    struct Never;
    impl Progress for Never {
        fn drained(&self, _: &World) -> bool {
            true
        }
        fn read_back(&self, _: &World) -> bool {
            true
        }
    }

    /// Two name servers and three brokers; at 40 s one broker is killed and one powered off.
    fn setup(seed: u64) -> Setup {
        let name_servers = vec![NodeId(0), NodeId(1)];
        let mut nodes: Vec<NodeSpec> = (0..2)
            .map(|i| NodeSpec {
                name: format!("namesrv-{i}"),
                factory: Arc::new(|| Box::new(NameServer::new())),
                switched: None,
                boot: Boot::AtStart { delay_ms: 0 },
            })
            .collect();
        for name in ["broker-a", "broker-b", "broker-c"] {
            let mut config = BrokerConfig::new("c", name, name_servers.clone());
            config.topics.push(TopicConfig {
                name: "t".into(),
                read_queue_nums: 4,
                write_queue_nums: 4,
                perm: perm::READ_WRITE,
            });
            nodes.push(NodeSpec {
                name: name.to_string(),
                factory: Arc::new(move || Box::new(Broker::new(config.clone()))),
                switched: None,
                boot: Boot::AtStart { delay_ms: 0 },
            });
        }
        let at = Time::from_ms(40_000);
        Setup {
            seed,
            nodes,
            plan: Plan {
                actions: vec![
                    Timed {
                        at,
                        action: Action::Stop {
                            node: NodeId(3),
                            how: Stop::Kill,
                        },
                    },
                    Timed {
                        at,
                        action: Action::Stop {
                            node: NodeId(4),
                            how: Stop::PowerOff,
                        },
                    },
                ],
                drain_actions: vec![],
                duration: Time::from_ms(200_000),
                never_return: vec![],
                drain_timeout_ms: 1_000,
                time_budget: Time::from_ms(u64::MAX / 2),
                read_back_timeout_ms: 1_000,
            },
            latency_min_ms: 1,
            latency_max_ms: 3,
            disk: DiskConfig::default(),
            progress: Arc::new(Never),
            keep_trace: false,
            count_event_kinds: false,
            event_budget: u64::MAX,
            promises: Default::default(),
        }
    }

    fn run_on_thread(seed: u64) -> Outcome {
        std::thread::spawn(move || run(setup(seed))).join().unwrap()
    }

    #[test]
    fn killed_brokers_vanish_at_once_and_silent_ones_after_expiry() {
        let outcome = run_on_thread(1);
        let removals: Vec<(u64, String, RemovalReason, u64)> = outcome
            .history
            .entries()
            .filter_map(|entry| match entry.event {
                Recorded::Model(Event::BrokerRemoved {
                    broker,
                    reason,
                    last_update,
                    ..
                }) => Some((entry.at.as_ms(), broker, reason, last_update.as_ms())),
                _ => None,
            })
            .collect();
        // Each name server removes each stopped broker once.
        assert_eq!(removals.len(), 4, "{removals:?}");
        for (at, broker, reason, last_update) in removals {
            match broker.as_str() {
                "broker-b" => {
                    assert_eq!(reason, RemovalReason::ChannelClosed);
                    assert!((40_000..40_010).contains(&at), "removed at {at}");
                }
                "broker-c" => {
                    assert_eq!(reason, RemovalReason::Expired);
                    let silence = at - last_update;
                    assert!((120_001..=130_000).contains(&silence), "silence {silence}");
                }
                other => panic!("unexpected removal of {other}"),
            }
        }
    }

    #[test]
    fn a_seed_is_one_run() {
        let (a, b, c) = (run_on_thread(5), run_on_thread(5), run_on_thread(6));
        assert_eq!(a.digest, b.digest);
        assert!(a.history.entries().eq(b.history.entries()));
        assert_ne!(a.digest, c.digest);
    }
}
