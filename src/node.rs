//! The protocol core (stub API while the core is written).

use std::net::SocketAddr;
use std::time::Instant;

use crate::api::{Command, Event, PeerInfo, Timing, Transmit};
use crate::types::NodeId;

/// How to start a node.
#[derive(Clone, Debug)]
pub struct Config {
    /// Stable id of this installation.
    pub id: NodeId,
    /// This life's epoch; higher than every earlier one.
    pub epoch: u64,
    /// Initial nickname.
    pub nick: String,
    /// Host name shown in user info.
    pub host: String,
    /// Wall clock (ms since the Unix epoch) at the `now` given to [`Node::new`].
    pub wall_ms: u64,
    /// Seed of the node's random choices (jitter, ids).
    pub seed: u64,
    /// Protocol timing.
    pub timing: Timing,
}

/// Counters of what the node dropped and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handled.
    pub datagrams: u64,
    /// Datagrams that did not decode.
    pub malformed: u64,
}

/// One lanchat node's protocol state.
pub struct Node {
    id: NodeId,
}

impl Node {
    /// Creates a node; `now` is its start time.
    pub fn new(config: Config, _now: Instant) -> Node {
        Node { id: config.id }
    }
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// Feeds a received datagram.
    pub fn handle_datagram(&mut self, _now: Instant, _from: SocketAddr, _bytes: &[u8]) {}
    /// Feeds a user command.
    pub fn handle_command(&mut self, _now: Instant, _cmd: Command) {}
    /// Tells the node that `now` has come (call at or after [`Node::poll_timeout`]).
    pub fn handle_timeout(&mut self, _now: Instant) {}
    /// Next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        None
    }
    /// Next event for the user.
    pub fn poll_event(&mut self) -> Option<Event> {
        None
    }
    /// When the node next wants [`Node::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    /// Counters.
    pub fn stats(&self) -> Stats {
        Stats::default()
    }
    /// Peers online now.
    pub fn peers(&self) -> Vec<PeerInfo> {
        Vec::new()
    }
}
