//! Reaching peers the group does not reach.
//!
//! On a LAN where multicast or broadcast works, everything for everyone goes
//! to the group and this module does nothing. Where neither reaches a peer
//! (another subnet, an access point that isolates clients, a switch that
//! drops both), the group traffic goes to that peer by unicast as well:
//!
//! - Each received datagram says how it was sent (the envelope's way hint).
//!   A peer whose group traffic has not reached me for a while is
//!   *unheard*: I copy my group traffic to it (the two ways usually fail
//!   together), and I list it ([`Body::Unheard`], sent with my full
//!   presences), so it copies its group traffic to me even where only one
//!   direction fails.
//! - Addresses given by hand (`--peer`) and addresses learned from peers are
//!   *seeds*: greeted with a hello by unicast, backing off, until a peer is
//!   online there.
//! - A presence says how many peers its sender knows; a peer that knows
//!   more answers with the addresses it knows ([`Body::Peers`]), so one node
//!   on two subnets is enough to join them.
//! - Each new peer is pinged once by unicast; a peer that never answers does
//!   not hear me (usually an inbound firewall), which the doctor reports.
//!
//! Duplicates (the group copy and the unicast copy both arriving) are
//! dropped by the replay window like any other copy.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::Node;
use crate::envelope::Way;
use crate::protocol::Dest;
use crate::protocol::{CoreReport, PeerReport};
use crate::types::NodeId;
use crate::wire::{self, Body, KnownPeer, MAX_KNOWN_PEERS, MAX_UNHEARD};

/// A peer never heard by the group is unheard after this long online.
const NEVER_HEARD_AFTER: Duration = Duration::from_secs(3);
/// A peer once heard by the group is unheard after this long without (it
/// stays online meanwhile by answering probes). Long enough that loss
/// alone does not do it: at 30 % loss, 15 heartbeats in a row go missing
/// once in 70 million tries.
const GROUP_SILENCE: Duration = Duration::from_secs(15);
/// A peer's [`Body::Unheard`] naming me holds this long (full presences
/// come every 10 s); I send mine this long after it empties.
const UNHEARD_FOR: Duration = Duration::from_secs(30);
/// My own multicast or broadcast "comes back" if heard within this.
const OWN_BACK_WITHIN: Duration = Duration::from_secs(15);
/// First greeting of a seed, and the longest wait between two.
const SEED_FIRST: Duration = Duration::from_millis(500);
const SEED_MAX_WAIT: Duration = Duration::from_secs(30);
/// A learned address is forgotten when no peer told it for this long.
const LEARNED_FOR: Duration = Duration::from_secs(120);
/// Most addresses learned from peers.
const MAX_LEARNED: usize = 128;
/// Most addresses added by hand.
pub const MAX_STATIC: usize = 64;
/// A peer's count of peers is compared with mine once it has been online
/// this long.
const SETTLE: Duration = Duration::from_secs(5);
/// Least time between two lists of addresses to one peer.
const TELL_PEERS_SPACING: Duration = Duration::from_secs(30);
/// When a new peer is first pinged, how often again, and after how many
/// unanswered pings it is taken not to hear me (it is still pinged, more
/// rarely, so a firewall opened later is noticed).
const PING_FIRST: Duration = Duration::from_secs(1);
const PING_AGAIN: Duration = Duration::from_secs(2);
const PING_TRIES: u8 = 3;
const PING_LATER: Duration = Duration::from_secs(15);
/// Unicast copies of group traffic (to peers the group does not reach)
/// per second, at most, and at once: however many peers are unheard, and
/// for whatever reason, the copies grow with the traffic, never with the
/// square of the LAN. Beyond it, the copies of a datagram go to the next
/// peers in turn.
const RELAY_RATE: f64 = 100.0;
const RELAY_BURST: f64 = 100.0;

/// What I know about reaching one online peer.
#[derive(Clone, Debug)]
struct PeerReach {
    /// When it came online (in this life).
    since: Instant,
    /// When its group traffic last reached me.
    group: Option<Instant>,
    /// Whether it answers my pings: `None` until one is answered or all
    /// of the first tries are not.
    hears_me: Option<bool>,
    /// The ping waiting for an answer, its next time and the tries so far.
    ping_nonce: u64,
    next_ping: Instant,
    pings: u8,
    /// When I last told it the peers I know.
    told_peers: Option<Instant>,
    /// When it last said my group traffic does not reach it.
    lists_me: Option<Instant>,
}

impl PeerReach {
    /// Whether its group traffic has not reached me lately (or never, a
    /// while after it came online).
    fn unheard(&self, now: Instant) -> bool {
        match self.group {
            None => now.saturating_duration_since(self.since) >= NEVER_HEARD_AFTER,
            Some(t) => now.saturating_duration_since(t) >= GROUP_SILENCE,
        }
    }
}

/// A seed: an address to greet until a peer answers from it.
#[derive(Clone, Debug)]
struct Seed {
    next: Instant,
    wait: Duration,
}

/// The reach state of a node.
#[derive(Debug, Default)]
pub(crate) struct Reach {
    peers: BTreeMap<NodeId, PeerReach>,
    /// Addresses added by hand.
    statics: BTreeSet<SocketAddr>,
    /// Addresses learned from peers, and when last told.
    learned: BTreeMap<SocketAddr, Instant>,
    /// Greeting schedule of every seed.
    seeds: BTreeMap<SocketAddr, Seed>,
    own_multicast: Option<Instant>,
    own_broadcast: Option<Instant>,
    /// When [`Node::run_reach`] has something to do next.
    next: Option<Instant>,
    /// The peers I told are unheard, and until when I go on telling after
    /// the list emptied.
    unheard: Vec<u32>,
    unheard_until: Option<Instant>,
    /// Unicast copies allowed now ([`RELAY_RATE`]), when last filled, and
    /// where the next datagram's copies start.
    relay_tokens: f64,
    relay_filled: Option<Instant>,
    relay_turn: usize,
}

impl Reach {
    /// Starts with the addresses given by hand.
    pub(crate) fn new(statics: &[SocketAddr]) -> Reach {
        Reach {
            statics: statics.iter().copied().take(MAX_STATIC).collect(),
            ..Reach::default()
        }
    }

    /// Whether this peer said lately that my group traffic does not reach
    /// it.
    fn lists_me(&self, id: NodeId, now: Instant) -> bool {
        self.peers
            .get(&id)
            .and_then(|r| r.lists_me)
            .is_some_and(|t| now.saturating_duration_since(t) < UNHEARD_FOR)
    }

    fn unheard(&self, id: NodeId, now: Instant) -> bool {
        self.peers.get(&id).is_some_and(|r| r.unheard(now))
    }

    /// Whether `addr` is a private, link-local or shared (CGNAT) address:
    /// the only kind learned from peers, so nobody can make the LAN send
    /// greetings to the internet.
    fn learnable(addr: &SocketAddr) -> bool {
        match addr.ip() {
            IpAddr::V4(ip) => {
                let [a, b, ..] = ip.octets();
                ip.is_private() || (a == 100 && (64..128).contains(&b))
            }
            IpAddr::V6(ip) => (ip.segments()[0] & 0xfe00) == 0xfc00,
        }
    }
}

impl Node {
    /// A datagram from an online peer came by `way`.
    pub(super) fn reach_heard(&mut self, id: NodeId, way: Way, now: Instant) {
        if way.is_group()
            && let Some(r) = self.reach.peers.get_mut(&id)
        {
            let was_unheard = r.unheard(now);
            r.group = Some(now);
            // Back to the group at once: my list changes.
            if was_unheard {
                self.reach_by(now);
            }
        }
    }

    /// Whether the group has not reached me from this online peer lately
    /// (so a group copy of what came by unicast first is worth a look).
    pub(super) fn reach_doubts(&self, id: NodeId, now: Instant) -> bool {
        self.reach.unheard(id, now)
    }

    /// My own datagram came back by `way`.
    pub(super) fn reach_own(&mut self, way: Way, now: Instant) {
        match way {
            Way::Multicast => self.reach.own_multicast = Some(now),
            Way::Broadcast => self.reach.own_broadcast = Some(now),
            Way::Unicast => {}
        }
    }

    /// A peer came online (its first datagram came by `way`).
    pub(super) fn reach_online(&mut self, id: NodeId, way: Way, now: Instant) {
        let nonce = self.rng.u64(..);
        self.reach.peers.insert(
            id,
            PeerReach {
                since: now,
                group: way.is_group().then_some(now),
                hears_me: None,
                ping_nonce: nonce,
                next_ping: now + PING_FIRST,
                pings: 0,
                told_peers: None,
                lists_me: None,
            },
        );
        self.reach_by(now + PING_FIRST.min(NEVER_HEARD_AFTER));
    }

    /// A peer went offline.
    pub(super) fn reach_gone(&mut self, id: NodeId) {
        if self.reach.peers.remove(&id).is_some()
            && self.reach.unheard.contains(&wire::short_id(id))
        {
            self.reach_by(self.last_now);
        }
    }

    /// A `ProbeAck` came from an online peer: if it answers my ping, the
    /// peer hears me.
    pub(super) fn reach_ack(&mut self, id: NodeId, nonce: u64) {
        if let Some(r) = self.reach.peers.get_mut(&id)
            && r.ping_nonce == nonce
        {
            r.hears_me = Some(true);
        }
    }

    /// Adds an address to reach by unicast; false when the list is full.
    pub(super) fn add_static(&mut self, addr: SocketAddr) -> bool {
        if !self.reach.statics.contains(&addr) && self.reach.statics.len() >= MAX_STATIC {
            return false;
        }
        self.reach.statics.insert(addr);
        self.reach.seeds.remove(&addr);
        self.reach_by(self.last_now);
        true
    }

    /// Stops trying an address added by hand.
    pub(super) fn forget_static(&mut self, addr: SocketAddr) {
        self.reach.statics.remove(&addr);
        self.reach.seeds.remove(&addr);
    }

    /// The addresses added by hand.
    pub(super) fn statics(&self) -> Vec<SocketAddr> {
        self.reach.statics.iter().copied().collect()
    }

    /// Where group traffic goes by unicast too: the address in use of each
    /// online peer that the group does not reach (as I see it, or as its
    /// presence says), as many as [`RELAY_RATE`] allows, starting where the
    /// last datagram's copies ended.
    pub(super) fn relay_targets(&mut self) -> Vec<SocketAddr> {
        let now = self.last_now;
        let mut all: Vec<SocketAddr> = self
            .peers
            .iter()
            .filter(|(id, _)| self.reach.unheard(**id, now) || self.reach.lists_me(**id, now))
            .map(|(_, p)| p.addr)
            .collect();
        if all.is_empty() {
            return all;
        }
        let reach = &mut self.reach;
        let since = reach
            .relay_filled
            .map_or(Duration::MAX, |t| now.saturating_duration_since(t));
        reach.relay_tokens =
            (reach.relay_tokens + since.as_secs_f64() * RELAY_RATE).min(RELAY_BURST);
        reach.relay_filled = Some(now);
        // Whole tokens only; the fraction stays for later.
        let allowed = (reach.relay_tokens as usize).min(all.len());
        reach.relay_tokens -= allowed as f64;
        let capped = all.len() - allowed;
        if capped > 0 {
            self.stats.relays_capped += capped as u64;
            let turn = reach.relay_turn % all.len();
            all.rotate_left(turn);
            all.truncate(allowed);
            reach.relay_turn = turn + allowed;
        }
        all
    }

    /// Whether a transmit to `dest` is copied to the relay targets.
    pub(super) fn is_group(dest: Dest) -> bool {
        !matches!(dest, Dest::Unicast(_))
    }

    /// A peer's list of peers whose group traffic does not reach it.
    pub(super) fn on_unheard(&mut self, now: Instant, id: NodeId, peers: &[u32]) {
        let me = wire::short_id(self.id);
        if let Some(r) = self.reach.peers.get_mut(&id) {
            r.lists_me = peers.contains(&me).then_some(now);
        }
    }

    /// Sends my list of unheard peers with a full presence, while it is not
    /// empty and for a while after.
    pub(super) fn tell_unheard(&mut self, dest: Dest) {
        let now = self.last_now;
        let recent = self.reach.unheard_until.is_some_and(|t| now < t);
        if !self.reach.unheard.is_empty() || recent {
            let peers = self.reach.unheard.clone();
            self.send(dest, Body::Unheard { peers });
        }
    }

    /// The peers I list as unheard.
    fn unheard_list(&self, now: Instant) -> Vec<u32> {
        let mut list: Vec<u32> = self
            .reach
            .peers
            .iter()
            .filter(|(_, r)| r.unheard(now))
            .map(|(id, _)| wire::short_id(*id))
            .collect();
        list.sort_unstable();
        list.truncate(MAX_UNHEARD);
        list
    }

    /// The periodic part, when [`Node::reach_deadline`] is due: my
    /// presence's unheard list kept up to date, seeds greeted, pings sent.
    /// It looks at every peer, so it runs only when something is due, not
    /// at every timeout.
    pub(super) fn run_reach(&mut self, now: Instant) {
        // Not worth a presence of its own: the next full one says it
        // (under the same version, which receivers take in).
        self.presence.knows = u16::try_from(self.peers.len()).unwrap_or(u16::MAX);
        if self.reach.next.is_some_and(|t| t > now) {
            return;
        }
        let unheard = self.unheard_list(now);
        if unheard != self.reach.unheard {
            if unheard.is_empty() {
                self.reach.unheard_until = Some(now + UNHEARD_FOR);
            }
            self.reach.unheard = unheard;
            // At once, twice (full presences repeat it later).
            for _ in 0..2 {
                self.tell_unheard(Dest::Group);
            }
        }
        self.greet_seeds(now);
        self.send_pings(now);
        self.plan_reach();
    }

    fn greet_seeds(&mut self, now: Instant) {
        if self.reach.statics.is_empty() && self.reach.learned.is_empty() {
            self.reach.seeds.clear();
            return;
        }
        self.reach
            .learned
            .retain(|_, told| now.saturating_duration_since(*told) < LEARNED_FOR);
        let answered: BTreeSet<IpAddr> = self
            .peers
            .iter()
            .flat_map(|(_, p)| p.addrs())
            .map(|a| a.ip())
            .collect();
        let wanted: Vec<SocketAddr> = self
            .reach
            .statics
            .iter()
            .chain(self.reach.learned.keys())
            .filter(|a| !answered.contains(&a.ip()))
            .copied()
            .collect();
        self.reach.seeds.retain(|a, _| wanted.contains(a));
        let mut due = Vec::new();
        for addr in wanted {
            let seed = self.reach.seeds.entry(addr).or_insert(Seed {
                next: now,
                wait: SEED_FIRST,
            });
            if seed.next <= now {
                seed.next = now + seed.wait;
                seed.wait = (seed.wait * 2).min(SEED_MAX_WAIT);
                due.push(addr);
            }
        }
        for addr in due {
            self.beat(Dest::Unicast(addr), true);
        }
    }

    fn send_pings(&mut self, now: Instant) {
        let mut due = Vec::new();
        for (id, r) in &mut self.reach.peers {
            if r.hears_me == Some(true) || r.next_ping > now {
                continue;
            }
            // A peer made up by a flood (one presence, never more) gets no
            // pings: they would multiply the flood.
            if !self.peers.get(*id).is_some_and(|p| p.established()) {
                r.next_ping = now + PING_AGAIN;
                continue;
            }
            // The first tries went unanswered: it does not hear me (for
            // now; the later, rarer pings notice when it does).
            if r.pings >= PING_TRIES {
                r.hears_me = Some(false);
            }
            r.pings = r.pings.saturating_add(1);
            r.next_ping = now
                + if r.pings > PING_TRIES {
                    PING_LATER
                } else {
                    PING_AGAIN
                };
            if let Some(p) = self.peers.get(*id) {
                due.push((p.addr, r.ping_nonce));
            }
        }
        for (addr, nonce) in due {
            self.send(Dest::Unicast(addr), Body::Ping { nonce });
        }
    }

    /// When [`Node::run_reach`] next has something to do (kept, so that
    /// asking costs nothing with a thousand peers).
    pub(super) fn reach_deadline(&self) -> Option<Instant> {
        self.reach.next
    }

    /// Works out [`Node::reach_deadline`] again (after [`Node::run_reach`]).
    fn plan_reach(&mut self) {
        let pings = self
            .reach
            .peers
            .values()
            .filter(|r| r.hears_me != Some(true))
            .map(|r| r.next_ping);
        let seeds = self.reach.seeds.values().map(|s| s.next);
        // The unheard list changes on its own as silences grow.
        let silences = self.reach.peers.values().map(|r| match r.group {
            None => r.since + NEVER_HEARD_AFTER,
            Some(t) => t + GROUP_SILENCE,
        });
        let learned = self.reach.learned.values().map(|t| *t + LEARNED_FOR);
        self.reach.next = pings
            .chain(seeds)
            .chain(silences.filter(|t| *t > self.last_now))
            .chain(learned)
            .min();
    }

    /// Asks for [`Node::run_reach`] by `at` at the latest.
    fn reach_by(&mut self, at: Instant) {
        self.reach.next = Some(self.reach.next.map_or(at, |t| t.min(at)));
    }

    /// A peer's presence says how many peers it knows: if I know more, I
    /// tell it where mine are (at most every [`TELL_PEERS_SPACING`], and
    /// not while it answers none of my pings).
    pub(super) fn maybe_tell_peers(&mut self, now: Instant, id: NodeId, knows: u16) {
        // In step, it knows me instead of itself: as many as I know. A
        // peer made up by a flood gets nothing (it would multiply it).
        if usize::from(knows) >= self.peers.len()
            || !self.peers.get(id).is_some_and(|p| p.established())
        {
            return;
        }
        let Some(r) = self.reach.peers.get_mut(&id) else {
            return;
        };
        // Counts differ for a moment whenever someone comes or goes. A
        // peer that answers none of my pings would not hear the list
        // either.
        if r.hears_me == Some(false)
            || now.saturating_duration_since(r.since) < SETTLE
            || r.told_peers
                .is_some_and(|t| now.saturating_duration_since(t) < TELL_PEERS_SPACING)
        {
            return;
        }
        r.told_peers = Some(now);
        let Some(to) = self.peers.get(id).map(|p| p.addr) else {
            return;
        };
        let known: Vec<KnownPeer> = self
            .peers
            .iter()
            .filter(|(other, p)| **other != id && Reach::learnable(&p.addr))
            .map(|(other, p)| KnownPeer {
                id: *other,
                addr: p.addr,
            })
            .collect();
        for chunk in known.chunks(MAX_KNOWN_PEERS).take(3) {
            self.send(
                Dest::Unicast(to),
                Body::Peers {
                    peers: chunk.to_vec(),
                },
            );
        }
    }

    /// Addresses an online peer told me: those of peers I do not have
    /// online become seeds for a while.
    pub(super) fn on_peers(&mut self, now: Instant, peers: &[KnownPeer]) {
        for known in peers {
            if known.id == self.id
                || self.peers.get(known.id).is_some()
                || !Reach::learnable(&known.addr)
            {
                continue;
            }
            if !self.reach.learned.contains_key(&known.addr)
                && self.reach.learned.len() >= MAX_LEARNED
            {
                self.stats.over_capacity += 1;
                continue;
            }
            self.reach.learned.insert(known.addr, now);
            self.reach_by(now);
        }
    }

    /// Answers a ping.
    pub(super) fn on_ping(&mut self, from: SocketAddr, nonce: u64) {
        self.send(Dest::Unicast(from), Body::ProbeAck { nonce });
    }

    /// What the core knows of the network, for the doctor.
    pub fn network(&self, now: Instant) -> CoreReport {
        // One sort of every peer's clock, not one per peer.
        let lan = self.lan_offset_now();
        let back = |t: Option<Instant>| {
            t.is_some_and(|t| now.saturating_duration_since(t) < OWN_BACK_WITHIN)
        };
        let peers = self
            .peers
            .iter()
            .map(|(id, p)| {
                let r = self.reach.peers.get(id);
                PeerReport {
                    id: *id,
                    label: self.peers.label(*id, self.me()),
                    addrs: p.addrs(),
                    by_group: !self.reach.unheard(*id, now),
                    hears_me: r.and_then(|r| r.hears_me),
                    relayed: self.reach.unheard(*id, now) || self.reach.lists_me(*id, now),
                    clock_off_ms: self.clock_off(*id, lan),
                }
            })
            .collect();
        CoreReport {
            own_multicast_back: back(self.reach.own_multicast),
            own_broadcast_back: back(self.reach.own_broadcast),
            peers,
            unanswered: self.reach.seeds.keys().copied().collect(),
            malformed: self.stats.malformed,
            forged: self.stats.forged,
            foreign: self.stats.foreign,
            rate_limited: self.stats.rate_limited,
            other_versions: self.versions.recent(now),
            clock_off_ms: -lan,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::Lan;
    use crate::protocol::{CoreCommand, CoreEvent, Dest};

    #[test]
    fn a_peer_the_group_does_not_reach_is_met_by_its_address() {
        let mut lan = Lan::new(&["ann", "bob"]);
        // Another subnet: only unicast gets through.
        lan.lose(|_, _, dest, _| !matches!(dest, Dest::Unicast(_)));
        lan.run(Duration::from_secs(2));
        assert!(lan.nodes[0].peers().is_empty());
        let bob = lan.addr(1);
        lan.command(0, CoreCommand::AddPeer(bob));
        lan.run(Duration::from_secs(3));
        assert_eq!(lan.nodes[0].peers().len(), 1, "ann meets bob");
        assert_eq!(lan.nodes[1].peers().len(), 1, "bob meets ann");
        assert!(
            lan.events[0]
                .iter()
                .any(|e| matches!(e, CoreEvent::StaticPeers(all) if *all == [bob]))
        );
        let report = lan.nodes[0].network(lan.now);
        assert!(
            report.peers[0].relayed && !report.peers[0].by_group,
            "{report:?}"
        );
        // And they stay met.
        lan.run(Duration::from_secs(10));
        assert_eq!(lan.nodes[0].peers().len(), 1);
    }
}
