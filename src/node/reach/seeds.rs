//! Seeds: addresses greeted by unicast until a peer answers from there.
//! Some are given by hand (`--peer`, `/peer add`); others are learned from
//! peers that know more peers than I do ([`Body::Peers`](crate::wire::Body)).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::discovery::PeerTable;
use crate::types::NodeId;
use crate::wire::KnownPeer;

/// First greeting of a seed, and the longest wait between two.
const SEED_FIRST: Duration = Duration::from_millis(500);
const SEED_MAX_WAIT: Duration = Duration::from_secs(30);
/// A learned address is forgotten when no peer told it for this long.
const LEARNED_FOR: Duration = Duration::from_secs(120);
/// Most addresses learned from peers.
const MAX_LEARNED: usize = 128;
/// Most addresses added by hand.
pub const MAX_STATIC: usize = 64;

/// A seed's greeting schedule.
#[derive(Clone, Debug)]
struct Seed {
    next: Instant,
    wait: Duration,
}

/// The addresses to greet and when.
#[derive(Debug, Default)]
pub(super) struct Seeds {
    /// Addresses added by hand.
    statics: BTreeSet<SocketAddr>,
    /// Addresses learned from peers, and when last told.
    learned: BTreeMap<SocketAddr, Instant>,
    /// Greeting schedule of every address no peer answered from yet.
    seeds: BTreeMap<SocketAddr, Seed>,
}

/// Whether `addr` is a private, link-local or shared (CGNAT) address: the
/// only kind learned from peers, so nobody can make the LAN send greetings
/// to the internet.
pub(super) fn learnable(addr: &SocketAddr) -> bool {
    match addr.ip() {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            ip.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(ip) => (ip.segments()[0] & 0xfe00) == 0xfc00,
    }
}

impl Seeds {
    /// Starts with the addresses given by hand.
    pub(super) fn new(statics: &[SocketAddr]) -> Seeds {
        Seeds {
            statics: statics.iter().copied().take(MAX_STATIC).collect(),
            ..Seeds::default()
        }
    }

    /// Adds an address given by hand; false when the list is full.
    pub(super) fn add_static(&mut self, addr: SocketAddr) -> bool {
        if !self.statics.contains(&addr) && self.statics.len() >= MAX_STATIC {
            return false;
        }
        self.statics.insert(addr);
        self.seeds.remove(&addr);
        true
    }

    /// Stops trying an address added by hand.
    pub(super) fn forget_static(&mut self, addr: SocketAddr) {
        self.statics.remove(&addr);
        self.seeds.remove(&addr);
    }

    /// The addresses added by hand.
    pub(super) fn statics(&self) -> Vec<SocketAddr> {
        self.statics.iter().copied().collect()
    }

    /// The seeds no online peer answers from (by IP), due for a greeting
    /// now; each waits twice as long before the next, up to
    /// [`SEED_MAX_WAIT`].
    pub(super) fn due(&mut self, now: Instant, peers: &PeerTable) -> Vec<SocketAddr> {
        if self.statics.is_empty() && self.learned.is_empty() {
            self.seeds.clear();
            return Vec::new();
        }
        self.learned
            .retain(|_, told| now.saturating_duration_since(*told) < LEARNED_FOR);
        let answered: BTreeSet<IpAddr> = peers
            .iter()
            .flat_map(|(_, p)| p.addrs())
            .map(|a| a.ip())
            .collect();
        let wanted: Vec<SocketAddr> = self
            .statics
            .iter()
            .chain(self.learned.keys())
            .filter(|a| !answered.contains(&a.ip()))
            .copied()
            .collect();
        self.seeds.retain(|a, _| wanted.contains(a));
        let mut due = Vec::new();
        for addr in wanted {
            let seed = self.seeds.entry(addr).or_insert(Seed {
                next: now,
                wait: SEED_FIRST,
            });
            if seed.next <= now {
                seed.next = now + seed.wait;
                seed.wait = (seed.wait * 2).min(SEED_MAX_WAIT);
                due.push(addr);
            }
        }
        due
    }

    /// When [`Seeds::due`] has something to do: a greeting, or a learned
    /// address to forget.
    pub(super) fn times(&self) -> impl Iterator<Item = Instant> + '_ {
        let greetings = self.seeds.values().map(|s| s.next);
        let forget = self.learned.values().map(|t| *t + LEARNED_FOR);
        greetings.chain(forget)
    }

    /// Addresses an online peer told me: those of peers I do not have
    /// online are greeted for a while. Gives whether any was taken, and
    /// how many did not fit.
    pub(super) fn learn(
        &mut self,
        now: Instant,
        me: NodeId,
        peers: &PeerTable,
        known: &[KnownPeer],
    ) -> (bool, u64) {
        let (mut learned, mut over) = (false, 0);
        for known in known {
            if known.id == me || peers.get(known.id).is_some() || !learnable(&known.addr) {
                continue;
            }
            if !self.learned.contains_key(&known.addr) && self.learned.len() >= MAX_LEARNED {
                over += 1;
                continue;
            }
            self.learned.insert(known.addr, now);
            learned = true;
        }
        (learned, over)
    }

    /// The seeds that no peer answered from yet.
    pub(super) fn unanswered(&self) -> Vec<SocketAddr> {
        self.seeds.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_private_addresses_are_learned() {
        for ok in [
            "10.1.2.3:1",
            "172.16.0.1:1",
            "192.168.1.1:1",
            "100.64.0.1:1",
            "[fd00::1]:1",
        ] {
            assert!(learnable(&addr(ok)), "{ok}");
        }
        for no in [
            "8.8.8.8:1",
            "100.128.0.1:1",
            "[2001:db8::1]:1",
            "127.0.0.1:1",
        ] {
            assert!(!learnable(&addr(no)), "{no}");
        }
    }

    #[test]
    fn a_seed_is_greeted_at_once_then_less_and_less_often() {
        let peers = PeerTable::new(crate::protocol::Timing::default(), NodeId([0; 16]));
        let mut seeds = Seeds::new(&[addr("10.0.0.9:7")]);
        let t0 = Instant::now();
        let mut greeted = Vec::new();
        for ms in (0..70_000).step_by(100) {
            let now = t0 + Duration::from_millis(ms);
            if !seeds.due(now, &peers).is_empty() {
                greeted.push(ms);
            }
        }
        // 0.5 s, 1, 2, 4, 8, 16, then every 30 s.
        assert_eq!(greeted, [0, 500, 1500, 3500, 7500, 15_500, 31_500, 61_500]);
        assert_eq!(seeds.unanswered(), [addr("10.0.0.9:7")]);
        seeds.forget_static(addr("10.0.0.9:7"));
        assert!(seeds.due(t0 + Duration::from_secs(100), &peers).is_empty());
        assert!(seeds.unanswered().is_empty());
    }

    #[test]
    fn learned_addresses_are_bounded_and_forgotten() {
        let peers = PeerTable::new(crate::protocol::Timing::default(), NodeId([0; 16]));
        let mut seeds = Seeds::default();
        let t0 = Instant::now();
        let known: Vec<KnownPeer> = (0..MAX_LEARNED + 5)
            .map(|i| KnownPeer {
                id: NodeId([i as u8 + 1; 16]),
                addr: addr(&format!("10.0.{}.{}:7", i / 200, i % 200 + 1)),
            })
            .collect();
        assert_eq!(seeds.learn(t0, NodeId([0; 16]), &peers, &known), (true, 5));
        assert_eq!(seeds.due(t0, &peers).len(), MAX_LEARNED);
        assert!(seeds.due(t0 + LEARNED_FOR, &peers).is_empty(), "forgotten");
        assert!(seeds.unanswered().is_empty());
    }
}
