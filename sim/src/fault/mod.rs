//! Fault kinds, one family to a file: `node` (kill, shutdown, power-off, disk-loss, pause),
//! `network` (partition, drops, delay, bandwidth), `disk` (slow-disk, bit-rot), `role`
//! (promote, demote), `topic` (update-topic), `query` (query-keys), `redeliver`
//! (reset-offset, consume-directly) and `clock` (clock-skew, clock-jump). Each kind is a [`Kind`]: its name in scenario files, the fields of
//! `[[fault]]` it takes, and how a fault of it resolves to what the plan applies (refusing
//! what cannot work, naming the field). [`KINDS`] registers them all: a new kind of an
//! existing family is a `Kind` in its family's file and a line here. Each family also plans
//! its faults of a seed ([`plan`]): the supervisor's actions, at their times.

pub mod aim;
pub mod clock;
pub mod disk;
pub mod network;
pub mod node;
pub mod query;
pub mod redeliver;
pub mod role;
pub mod topic;

use crate::net::Rule;
use crate::rng::Stream;
use crate::runtime::{Action, Effect, Timed};
use crate::scenario::resolved::{
    BrokerGroup, Fault, FaultSpec, NodeDecl, NodeRole, Producer, Topic,
};
use crate::scenario::schema::{FaultSection, Names};
use model::protocol::RequestCode;
use model::{NodeId, Time};

/// One fault kind.
pub struct Kind {
    /// Its `kind = "..."` in scenario files.
    pub name: &'static str,
    /// What it does, for the README's table of faults.
    pub effect: &'static str,
    /// The fields of `[[fault]]` besides `at`, `for` and `kind` it takes.
    pub fields: &'static [&'static str],
    /// What a fault of this kind does, resolved from the file; or why it cannot be.
    pub resolve: fn(&Resolve<'_>) -> Result<FaultSpec, Refusal>,
    /// How a swarm seed draws one.
    pub swarm: Swarmed,
}

/// Whether swarm seeds may draw a kind, and how.
pub enum Swarmed {
    /// Seeds may not draw it, for this reason.
    Never(&'static str),
    /// Seeds draw it aimed at one target (a broker, for `on_disk` kinds, when the targets
    /// hold one): what it does and the detail its description adds.
    Drawn {
        on_disk: bool,
        draw: fn(&mut Stream, &Aim<'_>) -> (FaultSpec, String),
    },
}

/// Where a swarm fault is aimed: its target, among the scenario's nodes.
pub struct Aim<'a> {
    pub target: NodeId,
    pub nodes: &'a [NodeDecl],
    /// The request codes a drawn drop or delay may match, one drawn (none: every code).
    pub requests: &'a [model::protocol::RequestCode],
}

/// Every fault kind.
pub const KINDS: &[&Kind] = &[
    &node::KILL,
    &node::SHUTDOWN,
    &node::POWER_OFF,
    &node::OS_CRASH,
    &node::DISK_LOSS,
    &node::PAUSE,
    &network::PARTITION,
    &network::ISOLATE,
    &network::DROP_REQUEST,
    &network::DROP_RESPONSE,
    &network::DELAY,
    &network::BANDWIDTH,
    &disk::SLOW_DISK,
    &disk::BIT_ROT,
    &role::PROMOTE,
    &role::DEMOTE,
    &topic::UPDATE_TOPIC,
    &query::QUERY_KEYS,
    &redeliver::RESET_OFFSET,
    &redeliver::CONSUME_DIRECTLY,
    &clock::CLOCK_SKEW,
    &clock::CLOCK_JUMP,
];

/// The kinds an operator's machine carries out (`workload::operator`): a scenario with one of
/// them has that machine.
pub const BY_OPERATOR: &[&Kind] = &[
    &query::QUERY_KEYS,
    &redeliver::RESET_OFFSET,
    &redeliver::CONSUME_DIRECTLY,
];

/// The kind named `name`.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|kind| kind.name == name)
}

/// The README's table of fault kinds, generated from [`KINDS`].
pub fn markdown_table() -> String {
    let mut table = String::from("| kind | fields | effect |\n|---|---|---|\n");
    for kind in KINDS {
        let fields: Vec<String> = kind.fields.iter().map(|f| format!("`{f}`")).collect();
        let (name, effect) = (kind.name, kind.effect);
        table.push_str(&format!(
            "| `{name}` | {} | {effect} |\n",
            fields.join(", ")
        ));
    }
    table
}

/// Why a fault is refused: the field to point at, what is wrong, and a hint.
#[derive(Debug)]
pub struct Refusal {
    pub field: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl Refusal {
    pub fn new(field: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            field,
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(self, hint: impl Into<String>) -> Refusal {
        Refusal {
            hint: Some(hint.into()),
            ..self
        }
    }
}

/// A node name resolver: the names a field holds, as nodes, or what is wrong with them.
pub type ResolveNames<'a> = dyn Fn(&Names) -> Result<Vec<NodeId>, (String, Option<String>)> + 'a;

/// What a kind's resolution reads: the fault as written, the scenario's nodes and broker
/// groups, a resolver of node names, and the request codes already read from `request`; and
/// where it notes the fields that name a DLedger group's role ([`aim`]).
pub struct Resolve<'a> {
    pub fault: &'a FaultSection,
    pub nodes: &'a [NodeDecl],
    pub groups: &'a [BrokerGroup],
    pub topics: &'a [Topic],
    pub producers: &'a [Producer],
    pub consumers: &'a [crate::scenario::resolved::ConsumerGroup],
    pub names: &'a ResolveNames<'a>,
    pub codes: Vec<RequestCode>,
    pub aims: std::cell::RefCell<Vec<aim::Aim>>,
}

impl Resolve<'_> {
    /// The nodes a field names, if it is set.
    pub fn nodes_of(
        &self,
        field: &'static str,
        names: &Option<Names>,
    ) -> Result<Option<Vec<NodeId>>, Refusal> {
        let Some(names) = names else {
            return Ok(None);
        };
        self.note_aims(field, names)?;
        (self.names)(names)
            .map(Some)
            .map_err(|(message, hint)| Refusal {
                field,
                message,
                hint,
            })
    }

    /// Notes each name of a group's role in `field`: the fault is planned when it fires.
    fn note_aims(&self, field: &'static str, names: &Names) -> Result<(), Refusal> {
        for name in names.to_vec() {
            let Some((group, pick)) = aim::Pick::parse(&name) else {
                continue;
            };
            // A classic group's roles are fixed: its names resolve to nodes as written.
            if !self
                .groups
                .iter()
                .any(|g| g.name == group && g.is_dledger())
            {
                continue;
            }
            let members =
                (self.names)(&Names::One(name.clone())).map_err(|(message, hint)| Refusal {
                    field,
                    message,
                    hint,
                })?;
            let group = group.to_string();
            self.aims.borrow_mut().push(aim::Aim {
                field,
                group,
                members,
                pick,
            });
        }
        Ok(())
    }

    /// Whether `node` is named through a group's role in some field (so it may stand on both
    /// sides of a partition until the fault fires).
    pub fn aimed(&self, node: NodeId) -> bool {
        self.aims
            .borrow()
            .iter()
            .any(|aim| aim.members.contains(&node))
    }

    /// The nodes a field the kind needs names.
    pub fn required_nodes(
        &self,
        field: &'static str,
        names: &Option<Names>,
    ) -> Result<Vec<NodeId>, Refusal> {
        match self.nodes_of(field, names)? {
            Some(nodes) => Ok(nodes),
            None => Err(self.missing(field)),
        }
    }

    /// `a <kind> fault needs <field>`, pointed at `kind`.
    pub fn missing(&self, field: &str) -> Refusal {
        let kind = self.fault.kind.name();
        Refusal::new("kind", format!("a {kind} fault needs `{field}`"))
    }

    /// Refuses a duration for a fault that does not heal.
    pub fn lasts_forever(&self, what: &str) -> Result<(), Refusal> {
        match self.fault.lasts {
            Some(_) => Err(Refusal::new("for", format!("{what}: remove `for`"))),
            None => Ok(()),
        }
    }

    /// A node's name.
    pub fn name(&self, node: NodeId) -> &str {
        &self.nodes[node.index()].name
    }

    /// A node's role.
    pub fn role(&self, node: NodeId) -> NodeRole {
        self.nodes[node.index()].role
    }

    /// The name of the DLedger group `node` is a member of, if it is one.
    pub fn dledger_group(&self, node: NodeId) -> Option<&str> {
        let NodeRole::Broker { group, .. } = self.role(node) else {
            return None;
        };
        let group = &self.groups[group];
        group.is_dledger().then_some(group.name.as_str())
    }
}

/// Planning one fault of a seed: when it starts and ends (drawn already), the seed's stream
/// for the node it hits, and where its actions go.
pub struct Planning<'a> {
    pub fault: &'a Fault,
    pub at: Time,
    pub end: Option<Time>,
    pub stream: &'a mut Stream,
    pub actions: &'a mut Vec<Timed>,
    /// Nodes that never come back (a machine lost for good).
    pub never_return: &'a mut Vec<NodeId>,
    /// The node the fault hit, once drawn.
    pub node: Option<NodeId>,
}

impl Planning<'_> {
    pub fn push(&mut self, at: Time, action: Action) {
        self.actions.push(Timed { at, action });
    }

    /// Draws the node the fault hits from its candidates.
    pub fn draw_node(&mut self, candidates: &[NodeId]) -> NodeId {
        let node = candidates[self.stream.below(candidates.len() as u64) as usize];
        self.node = Some(node);
        node
    }

    /// A network rule on from the start, off at the end.
    pub fn rule(&mut self, rule: Rule) {
        let (fault, description) = (self.fault.index, self.fault.description.clone());
        let on = Action::Effect(Effect::RuleOn {
            fault,
            rule,
            description,
        });
        self.push(self.at, on);
        if let Some(end) = self.end {
            self.push(end, Action::Effect(Effect::RuleOff { fault }));
        }
    }
}

/// The actions of one fault, by its family.
pub fn plan(planning: &mut Planning<'_>) {
    match &planning.fault.spec {
        FaultSpec::Node { fault, candidates } => node::plan(planning, *fault, candidates),
        FaultSpec::SlowDisk {
            candidates,
            extra_ms,
        } => disk::plan_slow(planning, candidates, *extra_ms),
        FaultSpec::BitRot { candidates } => disk::plan_bit_rot(planning, candidates),
        FaultSpec::UpdateTopic(update) => topic::plan(planning, update),
        FaultSpec::Operator(_) => query::plan(planning),
        FaultSpec::Clock {
            candidates,
            by_ms,
            undone,
        } => clock::plan(planning, candidates, *by_ms, *undone),
        spec => {
            let rule = network::rule(spec).expect("every other fault is a network rule");
            planning.rule(rule);
        }
    }
}
