//! Neighbour resolution (ARP) for the finite network of `buffers`: before a
//! host sends its first unicast frame to a neighbour it must learn the
//! neighbour's link address, by a request *broadcast* to the whole link (a
//! flood, one switch slot per port) and a unicast reply. Frames for the
//! neighbour wait meanwhile; the request is repeated, and the waiting
//! frames dropped when every try went unanswered. A host that receives a
//! request for itself learns the asker as well, as Linux does.
//!
//! The figures are Linux's defaults (`net.ipv4.neigh.default.*`). Not
//! modelled: an entry's confirmation after its reachable time (unicast
//! probes, about 30 s later), the garbage collector.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use super::buffers::truesize;
use super::fabric::Frame;

/// `retrans_time_ms`: between two requests.
pub(crate) const RETRY: Duration = Duration::from_millis(1000);
/// `mcast_solicit`: requests before giving up.
const TRIES: u8 = 3;
/// `unres_qlen_bytes`: truesize of the frames one neighbour's resolution
/// holds; beyond it the oldest is dropped.
const QUEUE_BYTES: u64 = 212_992;

/// What an ARP frame says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arp {
    /// "Who has host `target`?" (broadcast).
    Request { target: usize },
    /// "I have it" (unicast, to the asker).
    Reply,
}

/// The start of an ARP frame's bytes: no lanchat datagram starts so.
const MAGIC: &[u8; 4] = b"\0ARP";

impl Arp {
    pub(crate) fn bytes(self) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        match self {
            Arp::Request { target } => {
                b.push(1);
                b.extend_from_slice(&(target as u32).to_be_bytes());
            }
            Arp::Reply => b.push(2),
        }
        b
    }

    pub(crate) fn read(bytes: &[u8]) -> Option<Arp> {
        let rest = bytes.strip_prefix(MAGIC)?;
        match rest {
            [1, target @ ..] => {
                let target: [u8; 4] = target.try_into().ok()?;
                Some(Arp::Request {
                    target: u32::from_be_bytes(target) as usize,
                })
            }
            [2] => Some(Arp::Reply),
            _ => None,
        }
    }
}

/// Where a unicast frame to an unresolved neighbour went.
pub(crate) enum Hold {
    /// Held; a request must go out now (the first of this resolution).
    Ask,
    /// Held behind others.
    Queued,
    /// Held, and this many older frames dropped to make room.
    Dropped(u64),
}

/// What a resolution's timer found.
pub(crate) enum Retry {
    /// Still unanswered: ask again.
    Ask,
    /// Unanswered every time: the waiting frames (this many) are dropped.
    GaveUp(u64),
    /// Answered meanwhile.
    Done,
}

struct Resolving {
    waiting: VecDeque<Frame>,
    bytes: u64,
    asked: u8,
}

/// One host's neighbour table.
#[derive(Default)]
pub(crate) struct Neighbours {
    known: HashSet<usize>,
    resolving: HashMap<usize, Resolving>,
}

impl Neighbours {
    pub(crate) fn known(&self, peer: usize) -> bool {
        self.known.contains(&peer)
    }

    /// Bytes of the frames waiting for a resolution (still charged to the
    /// sender's socket).
    pub(crate) fn waiting_bytes(&self) -> u64 {
        self.resolving.values().map(|r| r.bytes).sum()
    }

    /// Holds a frame for an unresolved neighbour.
    pub(crate) fn hold(&mut self, peer: usize, frame: Frame) -> Hold {
        let size = truesize(frame.bytes.len());
        let fresh = !self.resolving.contains_key(&peer);
        let r = self.resolving.entry(peer).or_insert(Resolving {
            waiting: VecDeque::new(),
            bytes: 0,
            asked: 0,
        });
        let mut dropped = 0;
        while r.bytes + size > QUEUE_BYTES
            && let Some(old) = r.waiting.pop_front()
        {
            r.bytes -= truesize(old.bytes.len());
            dropped += 1;
        }
        r.bytes += size;
        r.waiting.push_back(frame);
        if fresh {
            r.asked = 1;
            Hold::Ask
        } else if dropped > 0 {
            Hold::Dropped(dropped)
        } else {
            Hold::Queued
        }
    }

    /// The neighbour's address is known now: the frames that waited for it.
    pub(crate) fn learn(&mut self, peer: usize) -> Vec<Frame> {
        self.known.insert(peer);
        self.resolving
            .remove(&peer)
            .map(|r| r.waiting.into())
            .unwrap_or_default()
    }

    /// A resolution's request went unanswered for [`RETRY`].
    pub(crate) fn retry(&mut self, peer: usize) -> Retry {
        let Some(r) = self.resolving.get_mut(&peer) else {
            return Retry::Done;
        };
        if r.asked < TRIES {
            r.asked += 1;
            return Retry::Ask;
        }
        let dropped = r.waiting.len() as u64;
        self.resolving.remove(&peer);
        Retry::GaveUp(dropped)
    }
}
