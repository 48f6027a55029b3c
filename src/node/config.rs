//! How a node is started.

use std::net::SocketAddr;

use crate::catchup::Share;
use crate::envelope::{Keys, WorkgroupKey};
use crate::protocol::Timing;

use super::Seen;

/// How to start a node.
#[derive(Clone, Debug)]
pub struct Config {
    /// This installation's key pair; the node id is its key's.
    pub keys: Keys,
    /// The workgroup's key; `None` on the open LAN.
    pub workgroup: Option<WorkgroupKey>,
    /// Replay marks kept from the last run ([`Node::seen`](super::Node::seen)).
    pub seen: Vec<Seen>,
    /// This life's epoch; higher than every earlier one.
    pub epoch: u64,
    /// Initial nickname.
    pub nick: String,
    /// Host name shown in user info.
    pub host: String,
    /// Wall clock (ms since the Unix epoch) at the `now` given to [`Node::new`](super::Node::new).
    pub wall_ms: u64,
    /// Seed of the node's random choices (jitter, ids).
    pub seed: u64,
    /// Protocol timing.
    pub timing: Timing,
    /// The history a channel's members give me when I join it with none
    /// (`None`: none, I see what is said from then on).
    pub share: Option<Share>,
    /// Addresses to reach by unicast (`--peer`): nodes the group does not
    /// reach, on another subnet or behind a switch that drops it.
    pub peers: Vec<SocketAddr>,
    /// My history was lost (a damaged database, recovered only in part):
    /// catch-up fetches all the peers hold of each channel (up to
    /// [`crate::catchup::MAX_AGE_DAYS`]), not only what was said since my oldest
    /// message.
    pub history_lost: bool,
}
