//! The simulated network: our own transport over madsim time.
//!
//! Each ordered pair of nodes is a link that delivers in FIFO order after a latency drawn from
//! the `network` stream. Fault rules (partitions, drops by link and request code, extra latency,
//! bandwidth caps) are switched on and off by the supervisor; the network decides each packet's
//! fate when it is sent. Whether the receiving process is alive is the world's business, not
//! the network's.

pub mod rules;

pub use rules::{Direction, NodeSet, Packet, Rule, Selector};

use crate::rng::Stream;
use model::{NodeId, Time};
use std::collections::BTreeMap;

/// What happens to a packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It arrives at the first time; the sender starts transmitting it at the second (later
    /// than now when a bandwidth cap queues it behind earlier packets in the sender's buffers).
    Deliver(Time, Time),
    /// It vanishes because of the rule with this id.
    Drop { rule: usize },
}

#[derive(Copy, Clone, Debug, Default)]
struct Link {
    /// The latest delivery time so far: later packets never overtake it (FIFO).
    last_delivery: Time,
    /// Until when the link is busy transmitting (bandwidth caps).
    busy_until: Time,
}

pub struct Network {
    node_count: usize,
    latency_min_ms: u64,
    latency_max_ms: u64,
    links: Vec<Link>,
    /// Active rules by id.
    rules: BTreeMap<usize, Rule>,
    stream: Stream,
}

impl Network {
    /// `latency_min_ms` must be at least 1: a message never arrives in the instant it is sent.
    pub fn new(
        node_count: usize,
        latency_min_ms: u64,
        latency_max_ms: u64,
        stream: Stream,
    ) -> Network {
        assert!(latency_min_ms >= 1, "network latency must be at least 1 ms");
        assert!(latency_min_ms <= latency_max_ms);
        Network {
            node_count,
            latency_min_ms,
            latency_max_ms,
            links: vec![Link::default(); node_count * node_count],
            rules: BTreeMap::new(),
            stream,
        }
    }

    pub fn add_rule(&mut self, id: usize, rule: Rule) {
        self.rules.insert(id, rule);
    }

    pub fn remove_rule(&mut self, id: usize) {
        self.rules.remove(&id);
    }

    pub fn clear_rules(&mut self) {
        self.rules.clear();
    }

    /// One network hop's latency, for signals that are not packets (a connection reset).
    pub fn hop_ms(&mut self) -> u64 {
        self.stream
            .between(self.latency_min_ms, self.latency_max_ms)
    }

    /// When a connection close sent now from `from` reaches `to`: one hop, and never before the
    /// packets already on that link (TCP delivers the FIN after the data).
    pub fn close_arrives(&mut self, now: Time, from: NodeId, to: NodeId) -> Time {
        let hop = self.hop_ms();
        let link = &mut self.links[from.index() * self.node_count + to.index()];
        let arrives = now.plus_ms(hop).max(link.last_delivery);
        link.last_delivery = arrives;
        arrives
    }

    /// A machine went dark: what it had not started transmitting never leaves.
    pub fn sender_lost(&mut self, from: NodeId, now: Time) {
        for to in 0..self.node_count {
            let link = &mut self.links[from.index() * self.node_count + to];
            link.busy_until = link.busy_until.min(now);
        }
    }

    /// Decides a packet's fate at the moment it is sent.
    pub fn send(&mut self, now: Time, packet: &Packet) -> Fate {
        for (id, rule) in &self.rules {
            if rule.cuts(packet) {
                return Fate::Drop { rule: *id };
            }
        }
        let mut latency_ms = self.hop_ms();
        let mut bandwidth: Option<u64> = None;
        for (id, rule) in &self.rules {
            match rule {
                Rule::Drop {
                    select,
                    probability,
                } if select.matches(packet) && self.stream.chance(*probability) => {
                    return Fate::Drop { rule: *id };
                }
                Rule::Delay {
                    select,
                    extra_min_ms,
                    extra_max_ms,
                } if select.matches(packet) => {
                    latency_ms += self.stream.between(*extra_min_ms, *extra_max_ms);
                }
                Rule::Bandwidth {
                    select,
                    bytes_per_second,
                } if select.matches(packet) => {
                    let cap = bandwidth.map_or(*bytes_per_second, |b| b.min(*bytes_per_second));
                    bandwidth = Some(cap);
                }
                _ => {}
            }
        }
        let link = &mut self.links[packet.from.index() * self.node_count + packet.to.index()];
        let mut departs = now;
        let mut starts = now;
        if let Some(bytes_per_second) = bandwidth {
            let transmit_ms = (packet.bytes * 1000).div_ceil(bytes_per_second.max(1));
            starts = link.busy_until.max(now);
            departs = starts.plus_ms(transmit_ms);
            link.busy_until = departs;
        }
        let arrives = departs.plus_ms(latency_ms).max(link.last_delivery);
        link.last_delivery = arrives;
        Fate::Deliver(arrives, starts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratio::Ratio;
    use model::protocol::RequestCode;

    fn network() -> Network {
        Network::new(4, 1, 5, Stream::new(1, "network"))
    }

    fn packet(from: u16, to: u16, code: RequestCode, direction: Direction) -> Packet {
        Packet {
            from: NodeId(from),
            to: NodeId(to),
            code,
            direction,
            bytes: 100,
        }
    }

    fn send(net: &mut Network, now: u64, p: &Packet) -> Fate {
        net.send(Time::from_ms(now), p)
    }

    fn arrival(fate: Fate) -> u64 {
        match fate {
            Fate::Deliver(at, _) => at.as_ms(),
            Fate::Drop { rule } => panic!("dropped by rule {rule}"),
        }
    }

    #[test]
    fn latency_stays_in_range_and_links_are_fifo() {
        let mut net = network();
        let p = packet(0, 1, RequestCode::SendMessage, Direction::Request);
        let mut last = 0;
        for now in 0..200 {
            let at = arrival(send(&mut net, now / 10, &p));
            assert!(at > now / 10 && at <= now / 10 + 5);
            assert!(at >= last, "a later packet overtook an earlier one");
            last = at;
        }
    }

    #[test]
    fn a_close_never_overtakes_data_on_its_link() {
        let mut net = network();
        let p = packet(0, 1, RequestCode::RegisterBroker, Direction::Request);
        let data = arrival(send(&mut net, 10, &p));
        for _ in 0..20 {
            assert!(
                net.close_arrives(Time::from_ms(10), NodeId(0), NodeId(1)) >= Time::from_ms(data)
            );
        }
    }

    #[test]
    fn a_symmetric_partition_cuts_both_ways() {
        let mut net = network();
        let rule = Rule::Partition {
            a: NodeSet::of([NodeId(0)]),
            b: NodeSet::of([NodeId(1), NodeId(2)]),
            one_way: false,
        };
        net.add_rule(7, rule);
        let code = RequestCode::SendMessage;
        assert_eq!(
            send(&mut net, 0, &packet(0, 1, code, Direction::Request)),
            Fate::Drop { rule: 7 }
        );
        assert_eq!(
            send(&mut net, 0, &packet(2, 0, code, Direction::Response)),
            Fate::Drop { rule: 7 }
        );
        arrival(send(&mut net, 0, &packet(1, 2, code, Direction::Request)));
        arrival(send(&mut net, 0, &packet(3, 0, code, Direction::Request)));
        net.remove_rule(7);
        arrival(send(&mut net, 0, &packet(0, 1, code, Direction::Request)));
    }

    #[test]
    fn a_one_way_partition_cuts_one_direction() {
        let mut net = network();
        net.add_rule(
            1,
            Rule::Partition {
                a: NodeSet::of([NodeId(0)]),
                b: NodeSet::of([NodeId(1)]),
                one_way: true,
            },
        );
        let code = RequestCode::HeartBeat;
        assert_eq!(
            send(&mut net, 0, &packet(0, 1, code, Direction::Request)),
            Fate::Drop { rule: 1 }
        );
        arrival(send(&mut net, 0, &packet(1, 0, code, Direction::Request)));
    }

    #[test]
    fn a_drop_rule_aims_at_one_code_and_direction() {
        let mut net = network();
        net.add_rule(
            3,
            Rule::Drop {
                select: Selector {
                    from: Some(NodeSet::of([NodeId(1)])),
                    codes: vec![RequestCode::SendMessage],
                    direction: Some(Direction::Response),
                    ..Selector::default()
                },
                probability: Ratio::ONE,
            },
        );
        let ack = packet(1, 0, RequestCode::SendMessage, Direction::Response);
        assert_eq!(send(&mut net, 0, &ack), Fate::Drop { rule: 3 });
        arrival(send(
            &mut net,
            0,
            &packet(0, 1, RequestCode::SendMessage, Direction::Request),
        ));
        arrival(send(
            &mut net,
            0,
            &packet(1, 0, RequestCode::PullMessage, Direction::Response),
        ));
        arrival(send(
            &mut net,
            0,
            &packet(2, 0, RequestCode::SendMessage, Direction::Response),
        ));
    }

    #[test]
    fn a_drop_probability_drops_about_that_share() {
        let mut net = network();
        net.add_rule(
            0,
            Rule::Drop {
                select: Selector::default(),
                probability: Ratio::new(1, 4).unwrap(),
            },
        );
        let p = packet(0, 1, RequestCode::PullMessage, Direction::Request);
        let dropped = (0..4000)
            .filter(|_| matches!(send(&mut net, 0, &p), Fate::Drop { .. }))
            .count();
        assert!((800..1200).contains(&dropped), "dropped {dropped} of 4000");
    }

    #[test]
    fn a_delay_rule_adds_latency_on_its_link_only() {
        let mut net = network();
        net.add_rule(
            0,
            Rule::Delay {
                select: Selector {
                    to: Some(NodeSet::of([NodeId(2)])),
                    ..Selector::default()
                },
                extra_min_ms: 100,
                extra_max_ms: 100,
            },
        );
        let code = RequestCode::HaTransfer;
        let slow = arrival(send(&mut net, 0, &packet(0, 2, code, Direction::Request)));
        assert!((101..=105).contains(&slow));
        let fast = arrival(send(&mut net, 0, &packet(0, 1, code, Direction::Request)));
        assert!(fast <= 5);
    }

    #[test]
    fn a_bandwidth_cap_queues_packets_on_the_link() {
        let mut net = network();
        net.add_rule(
            0,
            Rule::Bandwidth {
                select: Selector::default(),
                bytes_per_second: 10_000,
            },
        );
        // 100 bytes at 10 kB/s take 10 ms each; ten packets sent at once take 100 ms.
        let p = packet(0, 1, RequestCode::HaTransfer, Direction::Request);
        let last = (0..10)
            .map(|_| arrival(send(&mut net, 0, &p)))
            .last()
            .unwrap();
        assert!((100..=105).contains(&last), "last arrived at {last}");
        // Another link is not held up.
        let other = arrival(send(
            &mut net,
            0,
            &packet(1, 0, RequestCode::HaReport, Direction::Request),
        ));
        assert!(other <= 15);
    }
}
