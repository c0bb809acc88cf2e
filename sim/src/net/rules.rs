//! Network fault rules: what a scenario can do to the links between nodes.

use crate::ratio::Ratio;
use model::NodeId;
use model::protocol::RequestCode;
use std::fmt;

/// A set of nodes, as a bitset over node ids.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeSet {
    words: Vec<u64>,
}

impl NodeSet {
    pub fn new() -> NodeSet {
        NodeSet::default()
    }

    pub fn of(nodes: impl IntoIterator<Item = NodeId>) -> NodeSet {
        let mut set = NodeSet::new();
        for node in nodes {
            set.insert(node);
        }
        set
    }

    pub fn insert(&mut self, node: NodeId) {
        let (word, bit) = (node.index() / 64, node.index() % 64);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << bit;
    }

    pub fn contains(&self, node: NodeId) -> bool {
        let (word, bit) = (node.index() / 64, node.index() % 64);
        self.words.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }
}

/// Which side of an exchange a packet is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A request or a oneway request.
    Request,
    Response,
}

/// One packet as the rules see it.
#[derive(Copy, Clone, Debug)]
pub struct Packet {
    pub from: NodeId,
    pub to: NodeId,
    pub code: RequestCode,
    pub direction: Direction,
    pub bytes: u64,
}

/// Which packets a rule applies to. Empty sets and lists mean "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    pub from: Option<NodeSet>,
    pub to: Option<NodeSet>,
    pub codes: Vec<RequestCode>,
    pub direction: Option<Direction>,
}

impl Selector {
    pub fn matches(&self, packet: &Packet) -> bool {
        self.from
            .as_ref()
            .is_none_or(|set| set.contains(packet.from))
            && self.to.as_ref().is_none_or(|set| set.contains(packet.to))
            && (self.codes.is_empty() || self.codes.contains(&packet.code))
            && self.direction.is_none_or(|d| d == packet.direction)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Packets between the two sides vanish (silence, not a reset). One-way: only `a` -> `b`.
    Partition {
        a: NodeSet,
        b: NodeSet,
        one_way: bool,
    },
    /// Matching packets vanish with the given probability (a lost request or ACK).
    Drop {
        select: Selector,
        probability: Ratio,
    },
    /// Matching packets take extra latency, drawn uniformly.
    Delay {
        select: Selector,
        extra_min_ms: u64,
        extra_max_ms: u64,
    },
    /// Matching packets share a link of this many bytes per second (each link separately).
    Bandwidth {
        select: Selector,
        bytes_per_second: u64,
    },
}

impl Rule {
    /// Whether this partition silences the packet.
    pub fn cuts(&self, packet: &Packet) -> bool {
        match self {
            Rule::Partition { a, b, one_way } => {
                (a.contains(packet.from) && b.contains(packet.to))
                    || (!one_way && b.contains(packet.from) && a.contains(packet.to))
            }
            _ => false,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Request => "request",
            Direction::Response => "response",
        })
    }
}
