//! The network as nodes use it: connections with identity, requests, oneways and responses,
//! pending requests and their failures when a connection closes.

use super::*;

impl World {
    fn allocate_request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    /// The connection `from` writes to `to` on, opened if there is none. One made to an
    /// earlier incarnation of `to` is reset by its kernel: the write vanishes, and the reset
    /// reaches `from` one hop later, closing the connection and failing what was written on it.
    fn connect(&mut self, now: Time, from: NodeId, to: NodeId) -> Write {
        let to_incarnation = self.slots[to.index()].incarnation;
        let existing = self.slots[from.index()].connections.get(&to).copied();
        match existing {
            Some(conn) if conn.reset => Write::Lost(conn.id),
            Some(conn) if conn.peer_incarnation != to_incarnation => {
                self.slots[from.index()].connections.insert(
                    to,
                    Connection {
                        reset: true,
                        ..conn
                    },
                );
                let at = now.plus_ms(self.net.hop_ms());
                self.schedule(
                    from,
                    at,
                    NodeEvent::ConnectionClosed {
                        peer: to,
                        conn: conn.id,
                    },
                );
                Write::Lost(conn.id)
            }
            Some(conn) => Write::Open(conn.id),
            None => {
                self.next_connection += 1;
                let id = self.next_connection;
                let from_incarnation = self.slots[from.index()].incarnation;
                let mine = Connection {
                    id,
                    peer_incarnation: to_incarnation,
                    reset: false,
                };
                let theirs = Connection {
                    id,
                    peer_incarnation: from_incarnation,
                    reset: false,
                };
                self.slots[from.index()].connections.insert(to, mine);
                self.slots[to.index()].connections.insert(from, theirs);
                Write::Open(id)
            }
        }
    }

    /// A connection's close reached `node`: it forgets the connection if it is still the
    /// one it has to `peer`. Returns whether it was (a close of an older connection says
    /// nothing about the one open now).
    pub fn close_arrived(&mut self, node: NodeId, peer: NodeId, conn: u64) -> bool {
        let connections = &mut self.slots[node.index()].connections;
        match connections.get(&peer) {
            Some(current) if current.id != conn => false,
            Some(_) => connections.remove(&peer).is_some(),
            None => true,
        }
    }

    fn transmit(&mut self, now: Time, packet: Packet, event: NodeEvent) {
        if self.slots[packet.to.index()].status != Status::Running {
            self.log_packet(now, &packet, None);
            return;
        }
        match self.net.send(now, &packet) {
            Fate::Deliver(at, starts) => {
                self.log_packet(now, &packet, Some(at));
                self.schedule_sent(packet.to, at, event, Some((packet.from, starts)));
            }
            Fate::Drop { .. } => self.log_packet(now, &packet, None),
        }
    }

    fn log_packet(&mut self, now: Time, packet: &Packet, arrives: Option<Time>) {
        if let Some(packets) = &mut self.packets {
            packets.push(PacketRecord {
                sent: now,
                from: packet.from,
                to: packet.to,
                code: packet.code,
                direction: packet.direction,
                arrives,
            });
        }
    }

    /// `from` sends a request to `to`; its outcome reaches `from` as a response, a failure or
    /// a timeout.
    pub fn request(
        &mut self,
        now: Time,
        from: NodeId,
        to: NodeId,
        request: Request,
        timeout_ms: u64,
    ) -> RequestId {
        let id = self.allocate_request_id();
        self.schedule(from, now.plus_ms(timeout_ms), NodeEvent::Timeout { id });
        let code = request.code();
        let conn = match self.slots[to.index()].status {
            Status::Killed => {
                // Connection refused: the sender learns after one round trip.
                let hop = self.net.hop_ms();
                self.schedule(from, now.plus_ms(2 * hop), NodeEvent::Refused { id });
                0
            }
            Status::Off => 0, // Silence: the timeout will tell.
            Status::Running => match self.connect(now, from, to) {
                Write::Open(conn) => {
                    let packet = Packet {
                        from,
                        to,
                        code,
                        direction: Direction::Request,
                        bytes: request.wire_bytes(),
                    };
                    let event = NodeEvent::Request {
                        from,
                        id: Some(id),
                        request,
                    };
                    self.transmit(now, packet, event);
                    conn
                }
                Write::Lost(conn) => conn,
            },
        };
        let pending = PendingRequest { code, conn };
        self.slots[from.index()].pending.insert(id, pending);
        id
    }

    /// `from` sends a request nobody answers.
    pub fn oneway(&mut self, now: Time, from: NodeId, to: NodeId, request: Request) {
        if self.slots[to.index()].status != Status::Running {
            return;
        }
        if let Write::Lost(_) = self.connect(now, from, to) {
            return;
        }
        let packet = Packet {
            from,
            to,
            code: request.code(),
            direction: Direction::Request,
            bytes: request.wire_bytes(),
        };
        let event = NodeEvent::Request {
            from,
            id: None,
            request,
        };
        self.transmit(now, packet, event);
    }

    /// `from` answers request `id` of `to`. Nobody hears it if `to` no longer waits for it.
    pub fn respond(
        &mut self,
        now: Time,
        from: NodeId,
        to: NodeId,
        id: RequestId,
        response: Response,
    ) {
        let Some(pending) = self.slots[to.index()].pending.get(&id) else {
            return;
        };
        let on_its_connection = self.slots[from.index()].connections.get(&to);
        if !on_its_connection.is_some_and(|c| c.id == pending.conn && !c.reset) {
            return; // The connection it came in on is gone: the answer has nowhere to go.
        }
        let code = pending.code;
        let packet = Packet {
            from,
            to,
            code,
            direction: Direction::Response,
            bytes: response.wire_bytes(),
        };
        self.transmit(now, packet, NodeEvent::Response { id, response });
    }

    /// Takes a pending request, if it is still pending (not answered, failed or timed out).
    pub fn take_pending(&mut self, node: NodeId, id: RequestId) -> bool {
        self.slots[node.index()].pending.remove(&id).is_some()
    }

    /// The pending requests `node` wrote on connection `conn`, removed.
    pub fn take_pending_on(&mut self, node: NodeId, conn: u64) -> Vec<RequestId> {
        let slot = &mut self.slots[node.index()];
        let ids: Vec<RequestId> = slot
            .pending
            .iter()
            .filter(|(_, p)| p.conn == conn)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            slot.pending.remove(id);
        }
        ids
    }

    /// `node` closes its connection to `peer` (a client after a timeout): the requests pending
    /// on it fail now; the peer learns of the close one hop later.
    pub fn close_connection(&mut self, now: Time, node: NodeId, peer: NodeId) {
        let Some(conn) = self.slots[node.index()].connections.remove(&peer) else {
            return;
        };
        for id in self.take_pending_on(node, conn.id) {
            self.schedule(node, now, NodeEvent::Closed { id });
        }
        self.tell_peer_closed(now, node, peer, conn.id);
    }

    /// `node` closed its connection `conn` to `peer`: a running peer hears of it when the
    /// close reaches it.
    pub(super) fn tell_peer_closed(&mut self, now: Time, node: NodeId, peer: NodeId, conn: u64) {
        if self.slots[peer.index()].status == Status::Running {
            let at = self.net.close_arrives(now, node, peer);
            let closed = NodeEvent::ConnectionClosed { peer: node, conn };
            self.schedule(peer, at, closed);
        }
    }
}
