//! The I/O side: the one driver thread that owns the sockets and timers and
//! feeds the sans-IO [`crate::node::Node`], and the [`NodeHandle`] every
//! client (headless mode, window, tests) talks to it through.

mod driver;
pub mod interfaces;
mod link;
mod memory;
pub(crate) mod peers;
pub mod socket;
mod writer;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use crate::api::Event;
use crate::protocol::Timing;
use crate::types::NodeId;

pub use driver::{HandleError, NodeHandle, StartError};
pub use memory::MemoryLan;

/// The multicast group every node joins by default (organisation-local
/// scope, 239.255.0.0/16).
pub const DEFAULT_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 77, 77);
/// The multicast group on IPv6-only interfaces: link-local scope (it never
/// leaves the segment), group id "LNCH" (0x4c4e_4348).
pub const DEFAULT_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0x4c4e, 0x4348);
/// The UDP port of the group socket by default.
pub const DEFAULT_PORT: u16 = 47077;
/// Room in the command channel between a handle and the driver.
pub const COMMAND_CAPACITY: usize = 1024;

/// How to start a node.
#[derive(Clone, Debug)]
pub struct NetOptions {
    /// Data directory; the default one when `None`.
    pub data_dir: Option<PathBuf>,
    /// Nick; the OS login name when `None`.
    pub nick: Option<String>,
    /// Port of the group socket.
    pub port: u16,
    /// Multicast group.
    pub group: Ipv4Addr,
    /// Interfaces to use by name (`--iface`); when empty, every up one but
    /// loopback and virtual adapters ([`interfaces::VIRTUAL_ADAPTERS`]).
    pub interfaces: Vec<String>,
    /// Interfaces never to use (`--no-iface`).
    pub exclude_interfaces: Vec<String>,
    /// Nodes to reach by unicast (`--peer`), for when the group does not
    /// reach them (another subnet; multicast and broadcast dropped):
    /// `host`, `host:port` or `[v6]:port`, the group port when none is
    /// given (a node's group socket takes unicast too). Names are resolved
    /// at start; one that does not resolve is logged and skipped. The
    /// addresses added while running (`CoreCommand::AddPeer`) are remembered in
    /// the data directory's `peers.txt` and tried too.
    pub peers: Vec<String>,
    /// The multicast TTL (IPv6: hop limit): 1 keeps group traffic on the
    /// local network; more for networks that route multicast.
    pub multicast_ttl: u32,
    /// Protocol timing.
    pub timing: Timing,
    /// An in-process LAN to use instead of sockets (tests); `None` for the
    /// real network.
    pub lan: Option<MemoryLan>,
    /// How much history to keep (everything by default).
    pub retention: Retention,
    /// The history I am given when I join a channel I have none of
    /// (`None`: none).
    pub share: Option<crate::catchup::Share>,
    /// How files are received and served.
    pub files: crate::files::FileOptions,
    /// Workgroup passphrase: when set, every datagram is encrypted and
    /// authenticated with a key derived from it, and only nodes with the
    /// same passphrase see each other (`None`: the open LAN).
    pub workgroup: Option<String>,
}

/// How much history the database keeps; `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Drop messages older than this many days.
    pub max_age_days: Option<u32>,
    /// Keep at most this many messages (the oldest go first).
    pub max_messages: Option<u64>,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            data_dir: None,
            nick: None,
            port: DEFAULT_PORT,
            group: DEFAULT_GROUP,
            interfaces: Vec::new(),
            exclude_interfaces: Vec::new(),
            peers: Vec::new(),
            multicast_ttl: 1,
            timing: Timing::default(),
            lan: None,
            retention: Retention::default(),
            share: Some(crate::catchup::Share::default()),
            files: crate::files::FileOptions::default(),
            workgroup: None,
        }
    }
}

/// What a started node is, for the `ready` line and the title bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyInfo {
    /// This node's id.
    pub id: NodeId,
    /// This run's epoch.
    pub epoch: u64,
    /// The starting nick.
    pub nick: String,
    /// Host name.
    pub host: String,
    /// Port of the group socket.
    pub port: u16,
    /// Multicast group.
    pub group: Ipv4Addr,
    /// The unicast address peers see (the first interface's address, with
    /// the port of this node's own socket of its family).
    pub addr: SocketAddr,
    /// Names of the interfaces in use.
    pub interfaces: Vec<String>,
    /// The data directory.
    pub data_dir: PathBuf,
    /// This node's public key (compare its fingerprint with peers').
    pub key: crate::envelope::PublicKey,
    /// Whether a workgroup passphrase is in use.
    pub workgroup: bool,
    /// The TCP port files are served on (0: none).
    pub file_port: u16,
}

/// An event from the node, as a handle hands it out.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeEvent {
    /// The event.
    pub event: Event,
    /// True when replayed from history (an answer to `Command::History` or
    /// `Command::Search`), not happening now.
    pub history: bool,
    /// True when it is a search result (an answer to `Command::Search`).
    pub search: bool,
}

/// The stream of events of one node; closes after [`CoreEvent::Stopped`](crate::protocol::CoreEvent::Stopped).
pub type Events = tokio::sync::mpsc::UnboundedReceiver<NodeEvent>;
