//! A few nodes on a small in-memory LAN in virtual time, for the unit
//! tests of the node's parts: every 5 ms each node's timers run and what
//! it sends is handed at once to its receivers (the group reaches every
//! other node), unless the test's filter loses it. The big simulations
//! live in `tests/sim`; this is the least that exercises one part.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::{Config, Node};
use crate::envelope::{self, Keys, Unwrapped, Way};
use crate::protocol::{CoreCommand, CoreEvent, Dest, Timing};
use crate::types::NodeId;
use crate::wire::Body;

/// The time step.
const TICK: Duration = Duration::from_millis(5);

/// Decides whether a datagram from node `from` to node `to`, sent to
/// `dest`, is lost.
type Loss = Box<dyn FnMut(usize, usize, Dest, &[u8]) -> bool>;

/// A few nodes and what each was told.
pub(super) struct Lan {
    pub(super) nodes: Vec<Node>,
    addrs: Vec<SocketAddr>,
    pub(super) now: Instant,
    /// Every node's events, in order.
    pub(super) events: Vec<Vec<CoreEvent>>,
    loss: Loss,
}

/// The configuration of node `i`, called `nick`.
pub(super) fn config(i: u8, nick: &str) -> Config {
    Config {
        keys: Keys::from_secret(&[i + 1; 32]),
        workgroup: None,
        seen: Vec::new(),
        epoch: 1,
        nick: nick.into(),
        host: format!("pc{i}"),
        wall_ms: 1_700_000_000_000,
        seed: u64::from(i) + 7,
        timing: Timing::default(),
        share: Some(crate::catchup::Share::default()),
        peers: Vec::new(),
        history_lost: false,
    }
}

/// The name of a datagram's body ("Presence", "Channel", …), or "Lean".
pub(super) fn body_name(bytes: &[u8]) -> String {
    match envelope::unwrap(bytes, None) {
        Ok(Unwrapped::Signed(u)) => {
            let body = format!("{:?}", u.packet.body);
            body.split(['(', ' ', '{']).next().unwrap_or("").to_string()
        }
        Ok(Unwrapped::Lean(_)) => "Lean".into(),
        Err(_) => "?".into(),
    }
}

impl Lan {
    /// Nodes named `nicks`, started at once, nothing lost.
    pub(super) fn new(nicks: &[&str]) -> Lan {
        let now = Instant::now();
        let mut lan = Lan {
            nodes: Vec::new(),
            addrs: Vec::new(),
            now,
            events: Vec::new(),
            loss: Box::new(|_, _, _, _| false),
        };
        for nick in nicks {
            lan.add(config(lan.nodes.len() as u8, nick));
        }
        lan
    }

    /// Adds a node started now; returns its index.
    pub(super) fn add(&mut self, config: Config) -> usize {
        let i = self.nodes.len();
        self.nodes.push(Node::new(config, self.now));
        self.addrs.push(SocketAddr::from((
            Ipv4Addr::new(10, 9, 0, i as u8 + 1),
            47077,
        )));
        self.events.push(Vec::new());
        self.pump();
        i
    }

    /// Replaces node `i` by a new one (another life, same address).
    pub(super) fn restart(&mut self, i: usize, config: Config) {
        self.nodes[i] = Node::new(config, self.now);
        self.pump();
    }

    /// Loses what `loss` says, from now on.
    pub(super) fn lose(&mut self, loss: impl FnMut(usize, usize, Dest, &[u8]) -> bool + 'static) {
        self.loss = Box::new(loss);
    }

    /// Node `i`'s id.
    pub(super) fn id(&self, i: usize) -> NodeId {
        self.nodes[i].id()
    }

    /// Node `i`'s address.
    pub(super) fn addr(&self, i: usize) -> SocketAddr {
        self.addrs[i]
    }

    /// Gives node `i` a command now.
    pub(super) fn command(&mut self, i: usize, command: CoreCommand) {
        self.nodes[i].handle_command(self.now, command);
        self.pump();
    }

    /// Hands node `to` a datagram as if `from` sent it.
    pub(super) fn inject(&mut self, to: usize, from: SocketAddr, bytes: &[u8]) {
        self.nodes[to].handle_datagram(self.now, from, bytes);
        self.pump();
    }

    /// Runs every node for `span` of virtual time.
    pub(super) fn run(&mut self, span: Duration) {
        let end = self.now + span;
        while self.now < end {
            self.now += TICK;
            for node in &mut self.nodes {
                if node.poll_timeout().is_some_and(|t| t <= self.now) {
                    node.handle_timeout(self.now);
                }
            }
            self.pump();
        }
    }

    /// Delivers what the nodes send until none has anything left, and
    /// collects their events.
    fn pump(&mut self) {
        loop {
            let mut sent = Vec::new();
            for (from, node) in self.nodes.iter_mut().enumerate() {
                while let Some(t) = node.poll_transmit() {
                    sent.push((from, t));
                }
            }
            if sent.is_empty() {
                break;
            }
            for (from, t) in sent {
                let to: Vec<usize> = match t.dest {
                    Dest::Unicast(addr) => self
                        .addrs
                        .iter()
                        .position(|a| *a == addr)
                        .into_iter()
                        .collect(),
                    _ => (0..self.nodes.len()).filter(|i| *i != from).collect(),
                };
                // The way it came, as the driver stamps it.
                let mut bytes = t.bytes;
                let way = match t.dest {
                    Dest::Unicast(_) => Way::Unicast,
                    Dest::Broadcast => Way::Broadcast,
                    Dest::Group | Dest::Multicast => Way::Multicast,
                };
                envelope::stamp(&mut bytes, way);
                for to in to {
                    if !(self.loss)(from, to, t.dest, &bytes) {
                        self.nodes[to].handle_datagram(self.now, self.addrs[from], &bytes);
                    }
                }
            }
        }
        for (i, node) in self.nodes.iter_mut().enumerate() {
            while let Some(e) = node.poll_event() {
                self.events[i].push(e);
            }
        }
    }

    /// Node `i`'s events since index `since` of its list.
    pub(super) fn since(&self, i: usize, since: usize) -> &[CoreEvent] {
        &self.events[i][since.min(self.events[i].len())..]
    }

    /// The errors node `i` was told.
    pub(super) fn errors(&self, i: usize) -> Vec<String> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                CoreEvent::Error(refusal) => Some(refusal.to_string()),
                _ => None,
            })
            .collect()
    }
}

/// Whether a datagram's body is a channel message (for loss filters).
pub(super) fn is_channel(bytes: &[u8]) -> bool {
    matches!(
        envelope::unwrap(bytes, None),
        Ok(Unwrapped::Signed(u)) if matches!(u.packet.body, Body::Channel(_))
    )
}
