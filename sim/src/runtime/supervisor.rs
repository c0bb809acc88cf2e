//! The supervisor: the future `block_on` runs. It boots the cluster, applies the fault plan at
//! its times, then heals, waits for the drain, starts the read-back, and shuts everything down.

use super::host::{NodeFactory, host_loop};
use super::world::{NodeEvent, Status, World};
use crate::disk::{DiskConfig, DiskSim};
use crate::history::{Ending, Phase, SimEvent, Stop};
use crate::net::Rule;
use crate::rng::Stream;
use model::{NodeId, Time};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// When a node's process first starts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Boot {
    /// With the cluster, this long after time zero (machines boot in their own time).
    AtStart { delay_ms: u64 },
    /// When the read-back phase begins (the auditor).
    AtReadBack,
}

pub struct NodeSpec {
    pub name: String,
    pub factory: NodeFactory,
    /// The process it runs once an operator has switched its role (a broker promoted from
    /// slave to master, or demoted from master to slave).
    pub switched: Option<NodeFactory>,
    pub boot: Boot,
}

/// One thing the supervisor does to the cluster.
#[derive(Clone, Debug)]
pub enum Action {
    Stop {
        node: NodeId,
        how: Stop,
    },
    Start {
        node: NodeId,
    },
    Pause {
        node: NodeId,
    },
    Resume {
        node: NodeId,
    },
    /// An operator switches a node's role: it restarts as its other process.
    SwitchRole {
        node: NodeId,
        fault: usize,
        description: String,
    },
    /// A fault's effect on the network or a disk.
    Effect(Effect),
    /// A fault aimed at a DLedger group's roles, planned when it fires.
    Aimed(Aimed),
}

/// A fault aimed at a DLedger group's leader or followers (`crate::fault::aim`).
#[derive(Clone, Debug)]
pub struct Aimed {
    pub fault: Box<crate::scenario::resolved::Fault>,
    /// The run's seed: the fault draws from its own stream of it when it fires.
    pub seed: u64,
}

/// What a fault does to the network or a disk, on or off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    RuleOn {
        fault: usize,
        rule: Rule,
        description: String,
    },
    RuleOff {
        fault: usize,
    },
    SlowDisk {
        node: NodeId,
        fault: usize,
        extra_ms: u64,
        description: String,
    },
    SlowDiskOff {
        node: NodeId,
        fault: usize,
    },
    /// A byte of the newest file in `dir` rots on the node's disk.
    BitRot {
        node: NodeId,
        fault: usize,
        dir: String,
        description: String,
    },
    /// A fault that is a moment the harness only records (the operator's own machine acts).
    Moment {
        fault: usize,
        description: String,
    },
    /// The operator sends UPDATE_AND_CREATE_TOPIC to a group's master (`crate::fault::topic`).
    UpdateTopic(crate::fault::topic::TopicSend),
    /// The node's wall clock steps by `by_ms` (`crate::fault::clock`): on with its description,
    /// back (off) without one.
    ClockStep {
        node: NodeId,
        fault: usize,
        by_ms: i64,
        description: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Timed {
    pub at: Time,
    pub action: Action,
}

/// What happens in a run, in time order, and how long each phase may take.
#[derive(Clone, Debug)]
pub struct Plan {
    /// What the run phase's faults do; the heal ends what is still on at its end.
    pub actions: Vec<Timed>,
    /// What the drain's faults do: they start after the heal and end by themselves.
    pub drain_actions: Vec<Timed>,
    /// End of the run phase: the heal.
    pub duration: Time,
    /// Nodes that never come back after they go down (a machine lost for good).
    pub never_return: Vec<NodeId>,
    /// How long the drain may take before the run counts as not drained.
    pub drain_timeout_ms: u64,
    pub read_back_timeout_ms: u64,
    /// The run ends here at the latest: its simulated-time budget.
    pub time_budget: Time,
}

/// Reports whether the run has drained or read back, looking only at the world's progress.
pub trait Progress: Send + Sync {
    fn drained(&self, world: &World) -> bool;
    fn read_back(&self, world: &World) -> bool;
}

const POLL_INTERVAL_MS: u64 = 100;

/// Creates every node: those that boot with the cluster now (their madsim ids), the auditor
/// later (its builder), and the run phase begins.
fn boot<'a>(
    world: &Arc<Mutex<World>>,
    handle: &'a madsim::runtime::Handle,
    nodes: Vec<NodeSpec>,
) -> (
    Vec<Option<madsim::task::NodeId>>,
    Vec<(NodeId, madsim::runtime::NodeBuilder<'a>)>,
) {
    let mut madsim_ids = Vec::new();
    let mut late = Vec::new();
    for (index, spec) in nodes.into_iter().enumerate() {
        let node = NodeId(index as u16);
        let world_ref = world.clone();
        let factories = (spec.factory.clone(), spec.switched.clone());
        let delay_ms = match spec.boot {
            Boot::AtStart { delay_ms } => delay_ms,
            Boot::AtReadBack => 0,
        };
        let builder = handle
            .create_node()
            .name(spec.name.clone())
            .init(move || host_loop(world_ref.clone(), node, factories.clone(), delay_ms));
        match spec.boot {
            Boot::AtStart { .. } => {
                world.lock().expect("world lock").not_booted(node);
                madsim_ids.push(Some(builder.build().id()));
            }
            Boot::AtReadBack => {
                madsim_ids.push(None);
                late.push((node, builder));
            }
        }
    }
    {
        let mut w = world.lock().expect("world lock");
        let t = w.now();
        for (node, _) in &late {
            w.not_booted(*node);
        }
        w.record_sim(t, None, SimEvent::Phase { phase: Phase::Run });
    }

    (madsim_ids, late)
}

/// Heal: faults stop, paused nodes resume, stopped nodes restart with their disks; then the
/// drain begins.
fn heal(
    world: &Mutex<World>,
    handle: &madsim::runtime::Handle,
    madsim_ids: &[Option<madsim::task::NodeId>],
) {
    let mut w = world.lock().expect("world lock");
    let t = w.now();
    w.record_sim(t, None, SimEvent::Phase { phase: Phase::Heal });
    w.net.clear_rules();
    {
        let disks = madsim::plugin::simulator::<DiskSim>();
        let mut disks = disks.lock();
        for index in 0..madsim_ids.len() {
            disks.machine(NodeId(index as u16)).set_slow(0);
        }
    }
    for (index, id) in madsim_ids.iter().enumerate() {
        let node = NodeId(index as u16);
        let Some(id) = id else { continue };
        if w.status(node) != Status::Running && !w.lost_for_good.contains(&node) {
            w.start(t, node);
            handle.restart(*id);
        }
        handle.resume(*id);
    }
    let drain = SimEvent::Phase {
        phase: Phase::Drain,
    };
    w.record_sim(t, None, drain);
}

/// What fires a phase's fault actions at their times.
struct Faults<'a> {
    world: &'a Mutex<World>,
    handle: &'a madsim::runtime::Handle,
    base: std::time::Instant,
    /// Nodes that never come back: the plan's, and those an aimed fault adds.
    never_return: Vec<NodeId>,
}

impl Faults<'_> {
    /// Applies `actions` in time order until `end` (or the budget) passes; an aimed fault's
    /// actions join them when it fires.
    async fn fire(&mut self, actions: &[Timed], end: Time, ids: &[Option<madsim::task::NodeId>]) {
        let mut actions = actions.to_vec();
        actions.sort_by_key(|timed| timed.at);
        let mut pending: std::collections::VecDeque<Timed> = actions.into();
        while let Some(timed) = pending.pop_front() {
            let over_budget = self.world.lock().expect("world lock").over_budget.is_some();
            if timed.at >= end || over_budget {
                break;
            }
            sleep_until(self.base, timed.at).await;
            let mut w = self.world.lock().expect("world lock");
            let t = w.now();
            let later = match timed.action {
                Action::Aimed(aimed) => fire_aimed(&mut w, t, &aimed, &mut self.never_return),
                action => {
                    apply(&mut w, self.handle, ids, &self.never_return, t, action);
                    Vec::new()
                }
            };
            for timed in later {
                match timed.at <= t {
                    true => apply(
                        &mut w,
                        self.handle,
                        ids,
                        &self.never_return,
                        t,
                        timed.action,
                    ),
                    false => {
                        let after = pending.partition_point(|queued| queued.at <= timed.at);
                        pending.insert(after, timed);
                    }
                }
            }
        }
    }
}

/// Polls `done` every `POLL_INTERVAL_MS` until it holds (true), or until the deadline or the
/// run's budget passes (false).
async fn poll_until(world: &Mutex<World>, deadline: Time, done: impl Fn(&World) -> bool) -> bool {
    loop {
        {
            let mut w = world.lock().expect("world lock");
            if done(&w) {
                return true;
            }
            if w.now() >= deadline || w.over_budget.is_some() {
                return false;
            }
        }
        madsim::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
    }
}

pub async fn supervise(
    world: Arc<Mutex<World>>,
    nodes: Vec<NodeSpec>,
    plan: Plan,
    disk: (Stream, DiskConfig),
    progress: Arc<dyn Progress>,
) -> (Ending, Time) {
    let handle = madsim::runtime::Handle::current();
    madsim::plugin::simulator::<DiskSim>().configure(disk.0, disk.1);
    let base = {
        let time = madsim::time::TimeHandle::current();
        time.now_instant() - time.elapsed()
    };
    let now = || world.lock().expect("world lock").now();
    let housekeeping = madsim::task::spawn(housekeeping(world.clone()));

    let (mut madsim_ids, mut late) = boot(&world, &handle, nodes);

    let mut faults = Faults {
        world: &world,
        handle: &handle,
        base,
        never_return: plan.never_return.clone(),
    };
    let over_budget = || world.lock().expect("world lock").over_budget.is_some();
    let run_end = plan.duration.min(plan.time_budget);
    faults.fire(&plan.actions, run_end, &madsim_ids).await;

    // Heal: faults stop, paused nodes resume, stopped nodes restart with their disks.
    if !over_budget() {
        sleep_until(base, run_end).await;
    }
    heal(&world, &handle, &madsim_ids);

    // The drain: its own faults first (each ends by itself), then until everything is done.
    let drain_deadline = now().plus_ms(plan.drain_timeout_ms).min(plan.time_budget);
    faults
        .fire(&plan.drain_actions, drain_deadline, &madsim_ids)
        .await;
    let drained = poll_until(&world, drain_deadline, |w| progress.drained(w)).await;
    let ending = match drained {
        false => Ending::DrainTimeout,
        true => {
            {
                let mut w = world.lock().expect("world lock");
                let t = w.now();
                w.record_sim(
                    t,
                    None,
                    SimEvent::Phase {
                        phase: Phase::ReadBack,
                    },
                );
                for (node, builder) in late.drain(..) {
                    w.start(t, node);
                    madsim_ids[node.index()] = Some(builder.build().id());
                }
            }
            let deadline = now()
                .plus_ms(plan.read_back_timeout_ms)
                .min(plan.time_budget);
            match poll_until(&world, deadline, |w| progress.read_back(w)).await {
                true => Ending::Complete,
                false => Ending::ReadBackTimeout,
            }
        }
    };

    let end = {
        let mut w = world.lock().expect("world lock");
        let t = w.now();
        w.record_sim(t, None, SimEvent::Phase { phase: Phase::Done });
        t
    };
    // Kill every node, stop the housekeeping, and let madsim drop their tasks: a task left
    // alive would keep the world (and its history and disks) alive after the run.
    for id in madsim_ids.iter().flatten() {
        handle.kill(*id);
    }
    housekeeping.abort();
    madsim::time::sleep(Duration::from_millis(1)).await;
    (ending, end)
}

/// What goes on in the background, once a second: processes that crashed themselves come back
/// when their time is up, and every 5 s the machines' OS flusher writes back old dirty pages.
async fn housekeeping(world: Arc<Mutex<World>>) {
    const TICK_MS: u64 = 1_000;
    let handle = madsim::runtime::Handle::current();
    let mut tick = 0u64;
    loop {
        madsim::time::sleep(Duration::from_millis(TICK_MS)).await;
        tick += 1;
        let mut w = world.lock().expect("world lock");
        let now = w.now();
        for (node, madsim_id) in w.due_restarts(now) {
            if w.lost_for_good.contains(&node) {
                skipped(&mut w, now, node, "start", "the machine was lost for good");
            } else if w.status(node) != Status::Running {
                w.start(now, node);
                handle.restart(madsim_id);
            }
        }
        if (tick * TICK_MS).is_multiple_of(crate::disk::WRITEBACK_INTERVAL_MS) {
            madsim::plugin::simulator::<DiskSim>().lock().writeback(now);
        }
    }
}

async fn sleep_until(base: std::time::Instant, at: Time) {
    let deadline = base + Duration::from_millis(at.as_ms());
    if madsim::time::Instant::now() < deadline {
        madsim::time::sleep_until(deadline).await;
    }
}

/// How long an operator's restart of a switched node takes.
const SWITCH_RESTART_MS: u64 = 1_000;

/// Records that an action of the plan did not apply.
fn skipped(world: &mut World, now: Time, node: NodeId, action: &str, reason: &str) {
    let event = SimEvent::Skipped {
        action: action.to_string(),
        reason: reason.to_string(),
    };
    world.record_sim(now, Some(node), event);
}

/// A stop aimed at a node whose process is already down. A machine can still lose power or
/// its disk while its process is down: those apply (the page cache or the disk goes); a kill
/// or a shutdown has nothing left to stop.
fn stop_stopped(world: &mut World, now: Time, node: NodeId, how: Stop) {
    let disks = madsim::plugin::simulator::<DiskSim>();
    match how {
        Stop::Kill | Stop::Shutdown => {
            skipped(world, now, node, how.name(), "the process is already down");
        }
        Stop::PowerOff => {
            world.stop(now, node, how);
            disks.lock().power_loss(node, now);
        }
        Stop::OsCrash => {
            world.stop(now, node, how);
            disks.lock().os_crash(node, now);
        }
        Stop::DiskLoss => {
            world.stop(now, node, how);
            disks.lock().machine(node).wipe();
        }
    }
}

/// Stops a booted node's process or machine (a node already down keeps what it can).
fn stop(
    world: &mut World,
    handle: &madsim::runtime::Handle,
    madsim_id: madsim::task::NodeId,
    never_returns: bool,
    (now, node, how): (Time, NodeId, Stop),
) {
    if matches!(how, Stop::DiskLoss | Stop::PowerOff) && never_returns {
        world.lost_for_good.insert(node);
    }
    if world.status(node) != Status::Running {
        stop_stopped(world, now, node, how);
        return;
    }
    if how == Stop::Shutdown {
        // The host loop runs the shutdown hooks and then stops the node.
        world.schedule(node, now, NodeEvent::Shutdown);
        return;
    }
    world.stop(now, node, how);
    handle.kill(madsim_id);
    let disks = madsim::plugin::simulator::<DiskSim>();
    let mut disks = disks.lock();
    match how {
        Stop::Kill | Stop::Shutdown => {}
        Stop::PowerOff => disks.power_loss(node, now),
        Stop::OsCrash => disks.os_crash(node, now),
        Stop::DiskLoss => disks.machine(node).wipe(),
    }
}

fn apply(
    world: &mut World,
    handle: &madsim::runtime::Handle,
    madsim_ids: &[Option<madsim::task::NodeId>],
    never_return: &[NodeId],
    now: Time,
    action: Action,
) {
    let id = |node: NodeId| madsim_ids[node.index()];
    match action {
        Action::Stop { node, how } => {
            let Some(madsim_id) = id(node) else {
                skipped(world, now, node, how.name(), "the node has not booted yet");
                return;
            };
            stop(
                world,
                handle,
                madsim_id,
                never_return.contains(&node),
                (now, node, how),
            );
        }
        Action::Start { node } => {
            let Some(madsim_id) = id(node) else { return };
            if world.status(node) == Status::Running {
                skipped(world, now, node, "start", "the process is running");
                return;
            }
            if world.lost_for_good.contains(&node) {
                skipped(world, now, node, "start", "the machine was lost for good");
                return;
            }
            world.start(now, node);
            handle.restart(madsim_id);
        }
        Action::SwitchRole {
            node,
            fault,
            description,
        } => {
            world.record_sim(now, Some(node), SimEvent::FaultOn { fault, description });
            world.record_sim(now, Some(node), SimEvent::RoleSwitched);
            world.switch_role(node);
            // The operator restarts the process with its new configuration.
            if let Some(madsim_id) = id(node)
                && world.status(node) == Status::Running
            {
                world.stop(now, node, Stop::Kill);
                handle.kill(madsim_id);
                world.schedule_restart(node, madsim_id, now.plus_ms(SWITCH_RESTART_MS));
            }
        }
        Action::Pause { node } => {
            if world.status(node) != Status::Running {
                skipped(world, now, node, "pause", "the process is down");
                return;
            }
            if let Some(madsim_id) = id(node) {
                world.record_sim(now, Some(node), SimEvent::Paused);
                handle.pause(madsim_id);
            }
        }
        Action::Resume { node } => {
            if let Some(madsim_id) = id(node) {
                world.record_sim(now, Some(node), SimEvent::Resumed);
                handle.resume(madsim_id);
            }
        }
        Action::Effect(effect) => apply_effect(world, now, effect),
        Action::Aimed(_) => unreachable!("an aimed fault is planned when it fires"),
    }
}

/// Plans a fault aimed at a DLedger group's roles as they are now: its actions, or none
/// (recorded as skipped) when no member holds the role it aims at.
fn fire_aimed(
    world: &mut World,
    now: Time,
    aimed: &Aimed,
    never_return: &mut Vec<NodeId>,
) -> Vec<Timed> {
    let fault = match crate::fault::aim::narrowed(&aimed.fault, |g| world.dledger_leader(g)) {
        Ok(fault) => fault,
        Err(reason) => {
            let action = aimed.fault.description.clone();
            world.record_sim(now, None, SimEvent::Skipped { action, reason });
            return Vec::new();
        }
    };
    let mut stream = Stream::new(aimed.seed, &format!("aimed-fault/{}", fault.index));
    let mut actions = Vec::new();
    let mut planning = crate::fault::Planning {
        fault: &fault,
        at: now,
        end: fault.lasts_ms.map(|lasts| now.plus_ms(lasts)),
        stream: &mut stream,
        actions: &mut actions,
        never_return,
        node: None,
    };
    crate::fault::plan(&mut planning);
    actions
}

/// The operator's UPDATE_AND_CREATE_TOPIC to a group's master: its declared one, or a DLedger
/// group's leader now (skipped, with the reason, when none has led yet).
fn send_topic_update(world: &mut World, now: Time, send: crate::fault::topic::TopicSend) {
    let crate::fault::topic::TopicSend {
        fault,
        description,
        operator,
        target,
        config,
    } = send;
    let leader = || world.dledger_leader(&target.group).map(|(node, _)| node);
    let Some(master) = target.master.or_else(leader) else {
        let reason = format!("no member of {} has led yet", target.group);
        let action = description;
        world.record_sim(now, None, SimEvent::Skipped { action, reason });
        return;
    };
    world.record_sim(now, Some(master), SimEvent::FaultOn { fault, description });
    let request = model::protocol::Request::UpdateAndCreateTopic(config);
    world.oneway(now, operator, master, request);
}

/// A fault's effect on the network or a disk, on or off.
fn apply_effect(world: &mut World, now: Time, effect: Effect) {
    match effect {
        Effect::Moment { fault, description } => {
            world.record_sim(now, None, SimEvent::FaultOn { fault, description });
        }
        Effect::RuleOn {
            fault,
            rule,
            description,
        } => {
            world.record_sim(now, None, SimEvent::FaultOn { fault, description });
            world.net.add_rule(fault, rule);
        }
        Effect::RuleOff { fault } => {
            world.record_sim(now, None, SimEvent::FaultOff { fault });
            world.net.remove_rule(fault);
        }
        Effect::SlowDisk {
            node,
            fault,
            extra_ms,
            description,
        } => {
            world.record_sim(now, Some(node), SimEvent::FaultOn { fault, description });
            madsim::plugin::simulator::<DiskSim>()
                .lock()
                .machine(node)
                .set_slow(extra_ms);
        }
        Effect::BitRot {
            node,
            fault,
            dir,
            description,
        } => {
            world.record_sim(now, Some(node), SimEvent::FaultOn { fault, description });
            let rotted = madsim::plugin::simulator::<DiskSim>()
                .lock()
                .rot(node, &dir);
            if let Some((file, position)) = rotted {
                world.record_sim(now, Some(node), SimEvent::Corrupted { file, position });
            }
        }
        Effect::UpdateTopic(send) => send_topic_update(world, now, send),
        Effect::ClockStep {
            node,
            fault,
            by_ms,
            description,
        } => {
            let fault_event = match description {
                Some(description) => SimEvent::FaultOn { fault, description },
                None => SimEvent::FaultOff { fault },
            };
            world.record_sim(now, Some(node), fault_event);
            let offset_ms = world.step_clock(node, by_ms);
            world.record_sim(now, Some(node), SimEvent::ClockStepped { by_ms, offset_ms });
        }
        Effect::SlowDiskOff { node, fault } => {
            world.record_sim(now, Some(node), SimEvent::FaultOff { fault });
            madsim::plugin::simulator::<DiskSim>()
                .lock()
                .machine(node)
                .set_slow(0);
        }
    }
}
