//! Who is each broker group's master now, as the name servers' routes say: the auditor asks
//! them before every look at the consumers' progress, so that an operator's `promote` or
//! `demote` during the run moves the watch to the new master (as `mqadmin consumerProgress`
//! does: `DefaultMQAdminExtImpl.examineConsumeStats` reads the route and asks each broker
//! group's `BrokerData.selectBrokerAddr()`: the master, else a slave).

use model::NodeId;
use model::protocol::route::{MASTER_ID, TopicRouteData};
use std::collections::BTreeSet;

/// A broker group and the nodes the auditor may ask when no route names any of them.
#[derive(Clone, Debug)]
pub struct GroupReplicas {
    pub broker: String,
    pub nodes: Vec<NodeId>,
}

/// The node to ask for each group's progress: the address every route gives broker id 0
/// (among the group's nodes still in the game: a machine lost for good may linger in a route);
/// without a master in any route, the group's lowest-id address a route lists; without any
/// route naming the group, its first node still in the game. Name servers that disagree about
/// a group's master give an error: their views have not converged yet, ask again later.
pub fn current_masters(
    routes: &[TopicRouteData],
    groups: &[GroupReplicas],
) -> Result<Vec<NodeId>, String> {
    let mut masters = Vec::new();
    for group in groups {
        let listed: Vec<_> = routes
            .iter()
            .filter_map(|route| route.broker(&group.broker))
            .collect();
        let alive = |addr: &NodeId| group.nodes.contains(addr);
        let claimed: BTreeSet<NodeId> = listed
            .iter()
            .filter_map(|data| data.master())
            .filter(alive)
            .collect();
        let chosen = match claimed.len() {
            0 => listed
                .iter()
                .flat_map(|data| data.broker_addrs.iter())
                .filter(|(id, addr)| **id != MASTER_ID && alive(addr))
                .min_by_key(|(id, _)| **id)
                .map(|(_, addr)| *addr)
                .or_else(|| group.nodes.first().copied()),
            1 => claimed.first().copied(),
            _ => {
                return Err(format!(
                    "the name servers disagree about {}'s master: {claimed:?}",
                    group.broker
                ));
            }
        };
        masters.extend(chosen);
    }
    Ok(masters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::protocol::route::BrokerData;
    use std::collections::BTreeMap;

    fn route(broker: &str, addrs: &[(u64, u16)]) -> TopicRouteData {
        TopicRouteData {
            queue_datas: Vec::new(),
            broker_datas: vec![BrokerData {
                cluster: "c".into(),
                broker_name: broker.into(),
                broker_addrs: addrs
                    .iter()
                    .map(|(id, node)| (*id, NodeId(*node)))
                    .collect::<BTreeMap<_, _>>(),
            }],
        }
    }

    fn group(broker: &str, nodes: &[u16]) -> GroupReplicas {
        GroupReplicas {
            broker: broker.into(),
            nodes: nodes.iter().map(|n| NodeId(*n)).collect(),
        }
    }

    #[test]
    fn the_route_master_wins_over_the_declared_one() {
        // Node 3 was declared broker-a's master; after promote/demote node 4 is id 0.
        let routes = [route("broker-a", &[(0, 4), (2, 3)])];
        let masters = current_masters(&routes, &[group("broker-a", &[3, 4])]);
        assert_eq!(masters, Ok(vec![NodeId(4)]));
    }

    #[test]
    fn without_a_master_a_slave_then_the_first_node() {
        // Node 3, lost for good, lingers in the route as master.
        let routes = [route("broker-a", &[(0, 3), (1, 4)])];
        let groups = [group("broker-a", &[4]), group("broker-b", &[5])];
        assert_eq!(
            current_masters(&routes, &groups),
            Ok(vec![NodeId(4), NodeId(5)])
        );
    }

    #[test]
    fn name_servers_that_disagree_are_asked_again() {
        let routes = [route("broker-a", &[(0, 3)]), route("broker-a", &[(0, 4)])];
        assert!(current_masters(&routes, &[group("broker-a", &[3, 4])]).is_err());
    }
}
