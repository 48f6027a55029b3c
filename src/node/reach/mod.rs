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

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::Node;
use crate::discovery::PeerTable;
use crate::envelope::Way;
use crate::protocol::Dest;
use crate::types::NodeId;
use crate::wire::{self, Body, KnownPeer, MAX_KNOWN_PEERS, MAX_UNHEARD};
use seeds::{Seeds, learnable};

mod seeds;
pub use seeds::MAX_STATIC;

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

/// The reach state of a node.
#[derive(Debug, Default)]
pub(crate) struct Reach {
    peers: BTreeMap<NodeId, PeerReach>,
    /// Addresses to greet until a peer answers from there.
    seeds: Seeds,
    own_multicast: Option<Instant>,
    own_broadcast: Option<Instant>,
    /// When [`Reach::due`] has something to do next.
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

/// What [`Reach::due`] asks the node to send.
#[derive(Debug, Default)]
pub(super) struct Due {
    /// My unheard list changed: sent twice to the group at once.
    pub tell: Option<Vec<u32>>,
    /// Seeds to greet with a full presence.
    pub greet: Vec<SocketAddr>,
    /// Pings to send, to each address with its nonce.
    pub pings: Vec<(SocketAddr, u64)>,
}

/// How one online peer is reached, for the doctor.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reached {
    pub by_group: bool,
    pub hears_me: Option<bool>,
    pub relayed: bool,
}

impl Reach {
    /// Starts with the addresses given by hand.
    pub(crate) fn new(statics: &[SocketAddr]) -> Reach {
        Reach {
            seeds: Seeds::new(statics),
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

    /// A datagram from an online peer came by `way`.
    pub(super) fn heard(&mut self, id: NodeId, way: Way, now: Instant) {
        if way.is_group()
            && let Some(r) = self.peers.get_mut(&id)
        {
            let was_unheard = r.unheard(now);
            r.group = Some(now);
            // Back to the group at once: my list changes.
            if was_unheard {
                self.due_by(now);
            }
        }
    }

    /// Whether the group has not reached me from this online peer lately
    /// (so a group copy of what came by unicast first is worth a look).
    pub(super) fn doubts(&self, id: NodeId, now: Instant) -> bool {
        self.unheard(id, now)
    }

    /// My own datagram came back by `way`.
    pub(super) fn own(&mut self, way: Way, now: Instant) {
        match way {
            Way::Multicast => self.own_multicast = Some(now),
            Way::Broadcast => self.own_broadcast = Some(now),
            Way::Unicast => {}
        }
    }

    /// A peer came online (its first datagram came by `way`); `nonce`
    /// answers its pings.
    pub(super) fn online(&mut self, id: NodeId, way: Way, now: Instant, nonce: u64) {
        self.peers.insert(
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
        self.due_by(now + PING_FIRST.min(NEVER_HEARD_AFTER));
    }

    /// A peer went offline.
    pub(super) fn gone(&mut self, id: NodeId, now: Instant) {
        if self.peers.remove(&id).is_some() && self.unheard.contains(&wire::short_id(id)) {
            self.due_by(now);
        }
    }

    /// A `ProbeAck` came from an online peer: if it answers my ping, the
    /// peer hears me.
    pub(super) fn acked(&mut self, id: NodeId, nonce: u64) {
        if let Some(r) = self.peers.get_mut(&id)
            && r.ping_nonce == nonce
        {
            r.hears_me = Some(true);
        }
    }

    /// Adds an address to reach by unicast; false when the list is full.
    pub(super) fn add_static(&mut self, addr: SocketAddr, now: Instant) -> bool {
        let added = self.seeds.add_static(addr);
        if added {
            self.due_by(now);
        }
        added
    }

    /// Stops trying an address added by hand.
    pub(super) fn forget_static(&mut self, addr: SocketAddr) {
        self.seeds.forget_static(addr);
    }

    /// The addresses added by hand.
    pub(super) fn statics(&self) -> Vec<SocketAddr> {
        self.seeds.statics()
    }

    /// Where group traffic goes by unicast too: the address in use of each
    /// online peer that the group does not reach (as I see it, or as its
    /// presence says), as many as [`RELAY_RATE`] allows, starting where the
    /// last datagram's copies ended. Also how many were left out.
    pub(super) fn relay_targets(
        &mut self,
        now: Instant,
        peers: &PeerTable,
    ) -> (Vec<SocketAddr>, u64) {
        let mut all: Vec<SocketAddr> = peers
            .iter()
            .filter(|(id, _)| self.unheard(**id, now) || self.lists_me(**id, now))
            .map(|(_, p)| p.addr)
            .collect();
        if all.is_empty() {
            return (all, 0);
        }
        let since = self
            .relay_filled
            .map_or(Duration::MAX, |t| now.saturating_duration_since(t));
        self.relay_tokens = (self.relay_tokens + since.as_secs_f64() * RELAY_RATE).min(RELAY_BURST);
        self.relay_filled = Some(now);
        // Whole tokens only; the fraction stays for later.
        let allowed = (self.relay_tokens as usize).min(all.len());
        self.relay_tokens -= allowed as f64;
        let capped = all.len() - allowed;
        if capped > 0 {
            let turn = self.relay_turn % all.len();
            all.rotate_left(turn);
            all.truncate(allowed);
            self.relay_turn = turn + allowed;
        }
        (all, capped as u64)
    }

    /// A peer's list of peers whose group traffic does not reach it
    /// (`me` is my short id).
    pub(super) fn listed(&mut self, now: Instant, id: NodeId, me: u32, peers: &[u32]) {
        if let Some(r) = self.peers.get_mut(&id) {
            r.lists_me = peers.contains(&me).then_some(now);
        }
    }

    /// My list of unheard peers, to send with a full presence while it is
    /// not empty and for a while after.
    pub(super) fn to_tell(&self, now: Instant) -> Option<Vec<u32>> {
        let recent = self.unheard_until.is_some_and(|t| now < t);
        (!self.unheard.is_empty() || recent).then(|| self.unheard.clone())
    }

    /// The peers I list as unheard.
    fn unheard_list(&self, now: Instant) -> Vec<u32> {
        let mut list: Vec<u32> = self
            .peers
            .iter()
            .filter(|(_, r)| r.unheard(now))
            .map(|(id, _)| wire::short_id(*id))
            .collect();
        list.sort_unstable();
        list.truncate(MAX_UNHEARD);
        list
    }

    /// The periodic part, when [`Reach::deadline`] is due: my unheard
    /// list kept up to date, seeds greeted, pings sent. It looks at every
    /// peer, so it runs only when something is due, not at every timeout.
    pub(super) fn due(&mut self, now: Instant, peers: &PeerTable) -> Option<Due> {
        if self.next.is_some_and(|t| t > now) {
            return None;
        }
        let mut due = Due::default();
        let unheard = self.unheard_list(now);
        if unheard != self.unheard {
            if unheard.is_empty() {
                self.unheard_until = Some(now + UNHEARD_FOR);
            }
            self.unheard = unheard.clone();
            due.tell = Some(unheard);
        }
        due.greet = self.seeds.due(now, peers);
        due.pings = self.pings_due(now, peers);
        self.plan(now);
        Some(due)
    }

    fn pings_due(&mut self, now: Instant, peers: &PeerTable) -> Vec<(SocketAddr, u64)> {
        let mut due = Vec::new();
        for (id, r) in &mut self.peers {
            if r.hears_me == Some(true) || r.next_ping > now {
                continue;
            }
            // A peer made up by a flood (one presence, never more) gets no
            // pings: they would multiply the flood.
            if !peers.get(*id).is_some_and(|p| p.established()) {
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
            if let Some(p) = peers.get(*id) {
                due.push((p.addr, r.ping_nonce));
            }
        }
        due
    }

    /// When [`Reach::due`] next has something to do (kept, so that asking
    /// costs nothing with a thousand peers).
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.next
    }

    /// Works out [`Reach::deadline`] again (after [`Reach::due`]).
    fn plan(&mut self, now: Instant) {
        let pings = self
            .peers
            .values()
            .filter(|r| r.hears_me != Some(true))
            .map(|r| r.next_ping);
        let seeds = self.seeds.times();
        // The unheard list changes on its own as silences grow.
        let silences = self.peers.values().map(|r| match r.group {
            None => r.since + NEVER_HEARD_AFTER,
            Some(t) => t + GROUP_SILENCE,
        });
        self.next = pings
            .chain(seeds)
            .chain(silences.filter(|t| *t > now))
            .min();
    }

    /// Asks for [`Reach::due`] by `at` at the latest.
    fn due_by(&mut self, at: Instant) {
        self.next = Some(self.next.map_or(at, |t| t.min(at)));
    }

    /// A peer's presence says how many peers it knows: if I know more, the
    /// peers to tell it of, and where (at most every [`TELL_PEERS_SPACING`],
    /// and not while it answers none of my pings).
    pub(super) fn tell_peers(
        &mut self,
        now: Instant,
        id: NodeId,
        knows: u16,
        peers: &PeerTable,
    ) -> Option<(SocketAddr, Vec<KnownPeer>)> {
        // In step, it knows me instead of itself: as many as I know. A
        // peer made up by a flood gets nothing (it would multiply it).
        if usize::from(knows) >= peers.len() || !peers.get(id).is_some_and(|p| p.established()) {
            return None;
        }
        let r = self.peers.get_mut(&id)?;
        // Counts differ for a moment whenever someone comes or goes. A
        // peer that answers none of my pings would not hear the list
        // either.
        if r.hears_me == Some(false)
            || now.saturating_duration_since(r.since) < SETTLE
            || r.told_peers
                .is_some_and(|t| now.saturating_duration_since(t) < TELL_PEERS_SPACING)
        {
            return None;
        }
        r.told_peers = Some(now);
        let to = peers.get(id).map(|p| p.addr)?;
        let known = peers
            .iter()
            .filter(|(other, p)| **other != id && learnable(&p.addr))
            .map(|(other, p)| KnownPeer {
                id: *other,
                addr: p.addr,
            })
            .collect();
        Some((to, known))
    }

    /// Addresses an online peer told me: those of peers I do not have
    /// online become seeds for a while. Gives how many did not fit.
    pub(super) fn learn(
        &mut self,
        now: Instant,
        me: NodeId,
        peers: &PeerTable,
        known: &[KnownPeer],
    ) -> u64 {
        let (learned, over) = self.seeds.learn(now, me, peers, known);
        if learned {
            self.due_by(now);
        }
        over
    }

    /// How an online peer is reached.
    pub(super) fn reached(&self, id: NodeId, now: Instant) -> Reached {
        Reached {
            by_group: !self.unheard(id, now),
            hears_me: self.peers.get(&id).and_then(|r| r.hears_me),
            relayed: self.unheard(id, now) || self.lists_me(id, now),
        }
    }

    /// Whether my own multicast and broadcast came back lately.
    pub(super) fn own_back(&self, now: Instant) -> (bool, bool) {
        let back = |t: Option<Instant>| {
            t.is_some_and(|t| now.saturating_duration_since(t) < OWN_BACK_WITHIN)
        };
        (back(self.own_multicast), back(self.own_broadcast))
    }

    /// The seeds that no peer answered from yet.
    pub(super) fn unanswered(&self) -> Vec<SocketAddr> {
        self.seeds.unanswered()
    }
}

/// The node's side: what reaching peers sends.
impl Node {
    /// Runs [`Reach::due`] and sends what it asks.
    pub(super) fn run_reach(&mut self, now: Instant) {
        // Not worth a presence of its own: the next full one says it
        // (under the same version, which receivers take in).
        self.presence.knows = u16::try_from(self.peers.len()).unwrap_or(u16::MAX);
        let Some(due) = self.reach.due(now, &self.peers) else {
            return;
        };
        if let Some(peers) = due.tell {
            // At once, twice (full presences repeat it later).
            for _ in 0..2 {
                self.send(
                    Dest::Group,
                    Body::Unheard {
                        peers: peers.clone(),
                    },
                );
            }
        }
        for addr in due.greet {
            self.beat(Dest::Unicast(addr), true);
        }
        for (addr, nonce) in due.pings {
            self.send(Dest::Unicast(addr), Body::Ping { nonce });
        }
    }

    /// Sends my list of unheard peers with a full presence, while it is not
    /// empty and for a while after.
    pub(super) fn tell_unheard(&mut self, dest: Dest) {
        if let Some(peers) = self.reach.to_tell(self.last_now) {
            self.send(dest, Body::Unheard { peers });
        }
    }

    /// Tells a peer that knows fewer peers than I do where mine are.
    pub(super) fn maybe_tell_peers(&mut self, now: Instant, id: NodeId, knows: u16) {
        let Some((to, known)) = self.reach.tell_peers(now, id, knows, &self.peers) else {
            return;
        };
        for chunk in known.chunks(MAX_KNOWN_PEERS).take(3) {
            self.send(
                Dest::Unicast(to),
                Body::Peers {
                    peers: chunk.to_vec(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use std::time::Instant;

    use super::super::testing::Lan;
    use super::*;
    use crate::protocol::{CoreCommand, CoreEvent, Dest, Timing};

    #[test]
    fn a_peer_the_group_goes_quiet_from_is_listed_then_taken_back() {
        let me = NodeId([1; 16]);
        let bob = NodeId([2; 16]);
        let peers = PeerTable::new(Timing::default(), me);
        let mut reach = Reach::default();
        let t0 = Instant::now();
        // Bob came by unicast only: after a while he is unheard, and the
        // group is told at once.
        reach.online(bob, Way::Unicast, t0, 7);
        assert!(!reach.doubts(bob, t0));
        let later = t0 + NEVER_HEARD_AFTER;
        assert!(reach.deadline().is_some_and(|t| t <= later));
        let due = reach.due(later, &peers).expect("due");
        assert_eq!(due.tell, Some(vec![wire::short_id(bob)]));
        assert!(reach.doubts(bob, later));
        assert!(reach.reached(bob, later).relayed);
        // His multicast comes through again: the list empties, and the
        // empty list is still told for a while so peers stop relaying.
        reach.heard(bob, Way::Multicast, later);
        let due = reach.due(later, &peers).expect("due at once");
        assert_eq!(due.tell, Some(vec![]));
        assert_eq!(reach.to_tell(later), Some(vec![]));
        assert_eq!(reach.to_tell(later + UNHEARD_FOR), None);
        assert!(reach.reached(bob, later).by_group);
        // He says my group traffic does not reach him: I relay to him.
        reach.listed(later, bob, wire::short_id(me), &[wire::short_id(me)]);
        assert!(reach.reached(bob, later).relayed);
        // Until he stops saying so.
        let quiet = later + UNHEARD_FOR;
        reach.heard(bob, Way::Multicast, quiet);
        assert!(!reach.reached(bob, quiet).relayed);
    }

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
