//! Who is online: the peer table and its failure detector.
//!
//! A peer is alive while anything valid arrives from it. Each node watches
//! only the [`WATCHED`] peers that follow it in node-id order (a ring, so
//! every peer is watched by about as many): after [`Timing::suspect_after`]
//! of silence a watched peer is suspected and probed, directly and through
//! a few other peers (SWIM's indirect probes), and any valid packet refutes
//! the suspicion. After [`Timing::offline_after`] of silence its watchers
//! declare it offline and tell the group (`Liveness::Offline` with
//! `watched`); the others take that word only for a peer they have not
//! heard for [`Timing::suspect_after`] either. So a lost heartbeat costs
//! probes at a few peers, not at every peer on the LAN: suspicion traffic
//! does not grow with the number of peers. A peer nobody's word reaches
//! is probed by each node itself after [`Timing::offline_after`] of
//! silence and declared offline `UNWATCHED_GRACE` later.
//!
//! A higher epoch from the same node id is a restart:
//! the entry is replaced at once, so no duplicate or phantom appears. Peers
//! that left are remembered (bounded) so a late or replayed packet of a life
//! that said goodbye does not bring it back.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::ops::Bound;
use std::time::{Duration, Instant};

use crate::chain::{self, Tracked};
use crate::deadlines::Deadlines;
use crate::protocol::{OfflineReason, PeerInfo, Refusal, Target, Timing};
use crate::types::NodeId;
use crate::wire::{ChannelState, Presence};

/// Most peers kept online at once.
pub const MAX_PEERS: usize = 1024;
/// Packets after which a peer is probed through others too.
pub(crate) const ESTABLISHED: u32 = 3;
/// Most departed peers remembered.
pub const MAX_DEPARTED: usize = 1024;
/// Peers each node watches: its successors in node-id order.
pub const WATCHED: usize = 3;
/// How long a peer nobody reported offline is probed by a node that does
/// not watch it (its watchers' word was lost, or none of them hears it)
/// before it is declared offline.
pub(crate) const UNWATCHED_GRACE: Duration = Duration::from_secs(2);
/// Most other proven addresses kept per peer (a node on several networks
/// is heard from one address on each).
pub const MAX_ALTERNATES: usize = 3;

/// One peer that is online.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    pub(crate) epoch: u64,
    /// The address it was last heard from, which unicast goes to.
    pub(crate) addr: SocketAddr,
    /// Its other proven addresses (on its other interfaces), newest first.
    pub(crate) alternates: Vec<SocketAddr>,
    pub(crate) presence: Presence,
    /// When it was last heard. Private, as `suspect` is: both make its
    /// deadline, so they change only in the table, which indexes it.
    last_heard: Instant,
    suspect: Option<Suspicion>,
    /// Whether its silence reached [`Timing::suspect_after`] since it was
    /// last heard ([`Liveness::Quiet`] was handed out).
    quiet: bool,
    /// Whether I am one of its watchers ([`WATCHED`]).
    watched: bool,
    /// Whether a watcher said it is down while I still heard it lately
    /// (the watcher lost its last heartbeats, I did not): since then I
    /// time it as a watcher does, until it is heard again.
    told_down: bool,
    pub(crate) last_hello_reply: Option<Instant>,
    /// Packets heard in this life; only established peers are probed
    /// through others (a one-packet phantom must not multiply traffic).
    pub(crate) heard: u32,
    /// Its heartbeats' key chain, as its signed presences anchor it.
    pub(crate) chain: Tracked,
    /// Its latest lean heartbeat as it came, and when: handed to a peer
    /// that probes it through me (it proves itself, [`crate::chain`]).
    pub(crate) last_lean: Option<(Instant, Vec<u8>)>,
}

impl Peer {
    /// Whether it has sent a few packets in this life (a presence made up
    /// once by a flood has not): only such peers are worth work of ours
    /// beyond the answer to what they send.
    pub(crate) fn established(&self) -> bool {
        self.heard >= ESTABLISHED
    }

    /// Whether `addr` is one of its proven addresses.
    pub(crate) fn is_at(&self, addr: SocketAddr) -> bool {
        self.addr == addr || self.alternates.contains(&addr)
    }

    /// Makes `addr` (proven) the one unicast goes to; the one in use so far
    /// becomes an alternate.
    pub(crate) fn use_addr(&mut self, addr: SocketAddr) {
        if addr == self.addr {
            return;
        }
        self.alternates.retain(|a| *a != addr);
        self.alternates.insert(0, self.addr);
        self.alternates.truncate(MAX_ALTERNATES);
        self.addr = addr;
    }

    /// Every proven address, the one in use first.
    pub(crate) fn addrs(&self) -> Vec<SocketAddr> {
        std::iter::once(self.addr)
            .chain(self.alternates.iter().copied())
            .collect()
    }

    /// The silence after which it is probed, and the one after which it
    /// is offline: a watched peer's from [`Timing`], a peer others watch
    /// later (their word is expected first).
    fn limits(&self, t: &Timing) -> (Duration, Duration) {
        if self.watched || self.told_down {
            (t.suspect_after, t.offline_after)
        } else {
            (t.offline_after, t.offline_after + UNWATCHED_GRACE)
        }
    }

    /// Notes a proof of life at `at`: silence counts from then, and a
    /// silence now under the suspicion time ends suspicion.
    fn alive(&mut self, at: Instant, now: Instant, t: &Timing) {
        self.last_heard = self.last_heard.max(at);
        if now.saturating_duration_since(self.last_heard) < t.suspect_after {
            self.suspect = None;
            self.quiet = false;
        }
    }

    /// Whether its next probe goes through others too. An unwatched
    /// peer's first probe goes to it alone: among 1,000 peers at 10 %
    /// loss, one peer or another loses its heartbeats for the unwatched
    /// probe time every few seconds at every node, and its direct answer
    /// settles that; helpers join in the next round if it does not come.
    fn probed_through_others(&self) -> bool {
        self.established() && (self.watched || self.told_down || self.suspect.is_some())
    }

    /// Whether a probe of it is due at `now` (it is silent past its probe
    /// time, and not probed in the last [`Timing::probe_interval`]).
    fn probe_due(&self, now: Instant, t: &Timing) -> bool {
        let (probe_after, offline_after) = self.limits(t);
        let silence = now.saturating_duration_since(self.last_heard);
        silence >= probe_after
            && silence < offline_after
            && self.suspect.is_none_or(|s| s.next_probe <= now)
    }

    /// When [`PeerTable::check`] first has something to do for it: it is
    /// quiet, goes offline, or (after the suspicion starts) is probed.
    fn deadline(&self, t: &Timing) -> Instant {
        let (probe_after, offline_after) = self.limits(t);
        let offline = self.last_heard + offline_after;
        let probe_from = self.last_heard + probe_after;
        let probe = self
            .suspect
            .map_or(probe_from, |s| s.next_probe.max(probe_from));
        let quiet = if self.quiet {
            offline
        } else {
            self.last_heard + t.suspect_after
        };
        offline.min(probe).min(quiet)
    }
}

/// Probing state of a suspected peer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Suspicion {
    pub(crate) next_probe: Instant,
}

/// A peer that went offline.
#[derive(Clone, Debug)]
pub(crate) struct Departed {
    pub(crate) epoch: u64,
    pub(crate) nick: String,
    pub(crate) reason: OfflineReason,
    pub(crate) at: Instant,
}

/// How a packet's sender relates to what the table knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Online, same life.
    Known,
    /// Online under an older epoch: it restarted.
    Restarted,
    /// Offline by timeout, same or newer life: it is back.
    Returning,
    /// Never seen, or left for good and now in a newer life.
    New,
    /// An older life, or a life that said goodbye: ignore the packet.
    Stale,
}

/// Work the failure detector asks for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Liveness {
    /// `id` has been silent for [`Timing::suspect_after`]: whatever it said
    /// last may have been lost by some (once per silence, for every peer,
    /// watched or not).
    Quiet(NodeId),
    /// Probe `target` at `addr` directly and through `helpers`.
    Probe {
        target: NodeId,
        addr: SocketAddr,
        helpers: Vec<SocketAddr>,
    },
    /// `id` has been silent too long; `watched`: I am one of its watchers,
    /// whose word the others wait for.
    Offline { id: NodeId, watched: bool },
}

/// What a presence changed.
#[derive(Debug, Default)]
pub(crate) struct PresenceChange {
    pub(crate) old_nick: Option<String>,
    pub(crate) status_changed: bool,
    pub(crate) joined: Vec<String>,
    pub(crate) parted: Vec<String>,
}

/// The peers online and those recently gone.
#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
pub struct PeerTable {
    peers: BTreeMap<NodeId, Peer>,
    /// Each online peer's [`Peer::deadline`], so neither
    /// [`PeerTable::next_deadline`] (asked after every datagram) nor
    /// [`PeerTable::check`] scans every peer.
    deadlines: Deadlines<NodeId>,
    departed: BTreeMap<NodeId, Departed>,
    /// This node's id: the ring of watchers starts after it.
    me: NodeId,
    /// The peers I watch: the [`WATCHED`] next after me in id order.
    watching: Vec<NodeId>,
    /// The online lives by the tag of their lean heartbeats
    /// ([`chain::tag`]); two may share one.
    tags: HashMap<u32, Vec<NodeId>>,
    timing: Timing,
}

impl PeerTable {
    /// An empty table of the node `me`.
    pub fn new(timing: Timing, me: NodeId) -> Self {
        PeerTable {
            peers: BTreeMap::new(),
            deadlines: Deadlines::default(),
            departed: BTreeMap::new(),
            me,
            watching: Vec::new(),
            tags: HashMap::new(),
            timing,
        }
    }

    /// Indexes the deadline of `id` again after its silence or suspicion
    /// changed.
    fn reindex(&mut self, id: NodeId) {
        let at = self.peers.get(&id).map(|p| p.deadline(&self.timing));
        self.deadlines.set(&id, at);
    }

    /// Chooses the peers I watch again after one came or went: the
    /// [`WATCHED`] next after me in id order, wrapping around. Each peer
    /// is so watched by about as many (ids are random), and every node
    /// that sees the same peers agrees who watches whom.
    fn rewatch(&mut self) {
        let after = (Bound::Excluded(self.me), Bound::Unbounded);
        let next: Vec<NodeId> = self
            .peers
            .range(after)
            .chain(self.peers.range(..self.me))
            .map(|(id, _)| *id)
            .take(WATCHED)
            .collect();
        if next == self.watching {
            return;
        }
        let old = std::mem::replace(&mut self.watching, next);
        for id in old.into_iter().chain(self.watching.clone()) {
            let watched = self.watching.contains(&id);
            if let Some(p) = self.peers.get_mut(&id) {
                p.watched = watched;
                self.reindex(id);
            }
        }
    }

    /// How a packet from `id` in life `epoch` stands.
    pub(crate) fn standing(&self, id: NodeId, epoch: u64) -> Standing {
        if let Some(p) = self.peers.get(&id) {
            return match epoch.cmp(&p.epoch) {
                std::cmp::Ordering::Equal => Standing::Known,
                std::cmp::Ordering::Greater => Standing::Restarted,
                std::cmp::Ordering::Less => Standing::Stale,
            };
        }
        match self.departed.get(&id) {
            Some(d) if epoch < d.epoch => Standing::Stale,
            Some(d) if epoch == d.epoch && d.reason == OfflineReason::Quit => Standing::Stale,
            Some(d) if d.reason == OfflineReason::Timeout => Standing::Returning,
            _ => Standing::New,
        }
    }

    /// Notes that something valid arrived from an online peer at `from`;
    /// a proven address it came from becomes the one in use (the peer may
    /// have lost its other network).
    pub(crate) fn heard(&mut self, id: NodeId, from: SocketAddr, now: Instant) {
        if let Some(p) = self.peers.get_mut(&id) {
            if p.alternates.contains(&from) {
                p.use_addr(from);
            }
            p.last_heard = now;
            p.suspect = None;
            p.quiet = false;
            p.told_down = false;
            p.heard = p.heard.saturating_add(1);
            self.reindex(id);
        }
    }

    /// Whether I am one of the watchers of `id`.
    pub(crate) fn watches(&self, id: NodeId) -> bool {
        self.watching.contains(&id)
    }

    /// A watcher says `id` (in life `epoch`) is down, but I heard it less
    /// than [`Timing::suspect_after`] ago: from now on I time its silence
    /// as its watchers do (probed after `suspect_after`, offline after
    /// `offline_after`), until I hear it again. So a node whose watchers
    /// lost its last heartbeats is still seen offline within
    /// `offline_after` of when it was last heard here, not after the
    /// longer wait of a node nobody reported.
    pub(crate) fn told_down(&mut self, id: NodeId, epoch: u64) {
        if let Some(p) = self.peers.get_mut(&id).filter(|p| p.epoch == epoch) {
            p.told_down = true;
            self.reindex(id);
        }
    }

    /// Notes that an online peer was alive at `at` (a heartbeat of its
    /// own, passed on by another peer): its silence counts from then, if
    /// that is later than it was last heard, and it is no longer suspected
    /// if that silence is short.
    pub(crate) fn alive_at(&mut self, id: NodeId, at: Instant, now: Instant) {
        if let Some(p) = self.peers.get_mut(&id)
            && at > p.last_heard
        {
            p.alive(at, now, &self.timing);
            self.reindex(id);
        }
    }

    /// Excuses `gap` of every peer's silence (this node did not run for
    /// that long, so it could not hear them). A peer whose silence is then
    /// under the suspicion time is no longer suspected.
    pub(crate) fn excuse(&mut self, gap: Duration, now: Instant) {
        for p in self.peers.values_mut() {
            let at = (p.last_heard + gap).min(now);
            p.alive(at, now, &self.timing);
        }
        let ids: Vec<NodeId> = self.peers.keys().copied().collect();
        for id in ids {
            self.reindex(id);
        }
    }

    /// Something claims the peer is gone: start probing it now rather than
    /// believe the claim.
    pub(crate) fn doubt(&mut self, id: NodeId, now: Instant) {
        if let Some(p) = self.peers.get_mut(&id) {
            let (probe_after, _) = p.limits(&self.timing);
            p.last_heard = now
                .checked_sub(probe_after)
                .unwrap_or(p.last_heard)
                .min(p.last_heard);
            self.reindex(id);
        }
    }

    /// How long `id` has not been heard, if it is online in life `epoch`.
    pub(crate) fn silence(&self, id: NodeId, epoch: u64, now: Instant) -> Option<Duration> {
        self.peers
            .get(&id)
            .filter(|p| p.epoch == epoch)
            .map(|p| now.saturating_duration_since(p.last_heard))
    }

    /// Whether a presence numbered `seq` from the online life of `id` is
    /// older than the one already taken in.
    pub(crate) fn outdated(&self, id: NodeId, seq: u64) -> bool {
        self.peers.get(&id).is_some_and(|p| seq < p.presence.seq)
    }

    /// Whether one more peer can be taken in.
    pub(crate) fn has_room(&self) -> bool {
        self.peers.len() < MAX_PEERS
    }

    /// Takes in a presence; inserts the peer if it is new (or new in this
    /// life). Returns what changed, or `None` when it was inserted.
    pub(crate) fn apply_presence(
        &mut self,
        id: NodeId,
        epoch: u64,
        addr: SocketAddr,
        presence: &Presence,
        now: Instant,
    ) -> Option<PresenceChange> {
        let Some(peer) = self.peers.get_mut(&id).filter(|p| p.epoch == epoch) else {
            self.departed.remove(&id);
            let mut presence = presence.clone();
            presence.hello = false;
            let tracked = Tracked::new(&presence.chain, now);
            let old = self.peers.insert(
                id,
                Peer {
                    epoch,
                    addr,
                    alternates: Vec::new(),
                    presence,
                    last_heard: now,
                    suspect: None,
                    quiet: false,
                    watched: self.watching.contains(&id),
                    told_down: false,
                    last_hello_reply: None,
                    heard: 1,
                    chain: tracked,
                    last_lean: None,
                },
            );
            if let Some(old) = old {
                self.untag(id, old.epoch);
            }
            self.tags.entry(chain::tag(id, epoch)).or_default().push(id);
            self.reindex(id);
            self.rewatch();
            return None;
        };
        peer.chain.told(&presence.chain, now, self.timing.heartbeat);
        peer.use_addr(addr);
        peer.last_heard = now;
        peer.heard = peer.heard.saturating_add(1);
        peer.suspect = None;
        peer.quiet = false;
        self.deadlines.set(&id, Some(peer.deadline(&self.timing)));
        let old = &peer.presence;
        let mut change = PresenceChange {
            status_changed: old.status != presence.status
                || old.status_text != presence.status_text,
            ..PresenceChange::default()
        };
        if old.nick != presence.nick {
            change.old_nick = Some(old.nick.clone());
        }
        let has = |list: &[ChannelState], name: &str| list.iter().any(|c| c.name == name);
        change.joined = presence
            .channels
            .iter()
            .filter(|c| !has(&old.channels, &c.name))
            .map(|c| c.name.clone())
            .collect();
        change.parted = old
            .channels
            .iter()
            .filter(|c| !has(&presence.channels, &c.name))
            .map(|c| c.name.clone())
            .collect();
        peer.presence = presence.clone();
        peer.presence.hello = false;
        Some(change)
    }

    /// Moves a peer to the departed list.
    pub(crate) fn depart(
        &mut self,
        id: NodeId,
        reason: OfflineReason,
        now: Instant,
    ) -> Option<Peer> {
        let peer = self.peers.remove(&id)?;
        self.deadlines.remove(&id);
        self.untag(id, peer.epoch);
        self.rewatch();
        if self.departed.len() >= MAX_DEPARTED {
            let oldest = self
                .departed
                .iter()
                .min_by_key(|(_, d)| d.at)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.departed.remove(&oldest);
            }
        }
        self.departed.insert(
            id,
            Departed {
                epoch: peer.epoch,
                nick: peer.presence.nick.clone(),
                reason,
                at: now,
            },
        );
        Some(peer)
    }

    /// What is remembered of a peer that went offline.
    pub(crate) fn departed_record(&self, id: NodeId) -> Option<&Departed> {
        self.departed.get(&id)
    }

    /// Forgets the tag of life `epoch` of `id`.
    fn untag(&mut self, id: NodeId, epoch: u64) {
        let tag = chain::tag(id, epoch);
        if let Some(ids) = self.tags.get_mut(&tag) {
            ids.retain(|i| *i != id);
            if ids.is_empty() {
                self.tags.remove(&tag);
            }
        }
    }

    /// The online peers whose lean heartbeats carry `tag`.
    pub(crate) fn by_tag(&self, tag: u32) -> &[NodeId] {
        self.tags.get(&tag).map_or(&[], Vec::as_slice)
    }

    /// The online peer, if any.
    pub(crate) fn get(&self, id: NodeId) -> Option<&Peer> {
        self.peers.get(&id)
    }

    /// The online peer, mutable.
    pub(crate) fn get_mut(&mut self, id: NodeId) -> Option<&mut Peer> {
        self.peers.get_mut(&id)
    }

    /// Online peers.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&NodeId, &Peer)> {
        self.peers.iter()
    }

    /// Every online peer, to change.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&NodeId, &mut Peer)> {
        self.peers.iter_mut()
    }

    /// Number of online peers.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer is online.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// The nick of a peer online or departed.
    pub(crate) fn nick(&self, id: NodeId) -> Option<&str> {
        self.peers
            .get(&id)
            .map(|p| p.presence.nick.as_str())
            .or_else(|| self.departed.get(&id).map(|d| d.nick.as_str()))
    }

    /// `nick`, or `nick#abcd` when another online peer or `me` has the same
    /// nick.
    pub(crate) fn label(&self, id: NodeId, me: (NodeId, &str)) -> String {
        let Some(nick) = self.nick(id) else {
            return format!("?{}", id.short());
        };
        let clash = (me.0 != id && me.1.eq_ignore_ascii_case(nick))
            || self
                .peers
                .iter()
                .any(|(k, p)| *k != id && p.presence.nick.eq_ignore_ascii_case(nick));
        crate::types::label(nick, id, clash)
    }

    /// What the user sees of a peer.
    pub(crate) fn info(&self, id: NodeId, me: (NodeId, &str)) -> Option<PeerInfo> {
        let p = self.peers.get(&id)?;
        Some(PeerInfo {
            id,
            epoch: p.epoch,
            nick: p.presence.nick.clone(),
            label: self.label(id, me),
            addr: p.addr,
            status: p.presence.status,
            status_text: p.presence.status_text.clone(),
            host: p.presence.host.clone(),
            version: p.presence.version.clone(),
            since_ms: p.presence.since_ms,
            channels: p.presence.channels.iter().map(|c| c.name.clone()).collect(),
            // Filled in by the node, which holds the keys.
            key: crate::envelope::PublicKey::default(),
        })
    }

    /// Finds the person a user means: a node id, `nick#abcd`, or a nick.
    /// Online peers are searched first, then departed ones (a message to
    /// someone offline is queued).
    pub(crate) fn resolve(&self, target: &Target, me: (NodeId, &str)) -> Result<NodeId, Refusal> {
        let name = match target {
            Target::Node(id) => return Ok(*id),
            Target::Channel(c) => return Err(Refusal::NotAPerson(c.clone())),
            Target::Person(name) => name.trim(),
        };
        if let Some(id) = NodeId::parse(name) {
            return Ok(id);
        }
        let (nick, prefix) = match name.split_once('#') {
            Some((n, p)) => (n, p.to_ascii_lowercase()),
            None => (name, String::new()),
        };
        let fits = |id: &NodeId, n: &str| {
            n.eq_ignore_ascii_case(nick) && id.to_string().starts_with(&prefix)
        };
        if fits(&me.0, me.1) && prefix.len() >= 4 {
            return Err(Refusal::ThatIsYou);
        }
        let mut online: Vec<NodeId> = self
            .peers
            .iter()
            .filter(|(id, p)| fits(id, &p.presence.nick))
            .map(|(id, _)| *id)
            .collect();
        if online.is_empty() {
            online = self
                .departed
                .iter()
                .filter(|(id, d)| fits(id, &d.nick))
                .map(|(id, _)| *id)
                .collect();
        }
        match online.len() {
            0 if fits(&me.0, me.1) => Err(Refusal::ThatIsYou),
            0 => Err(Refusal::NoOneCalled(name.to_string())),
            1 => Ok(online[0]),
            _ => {
                online.sort();
                let labels = online
                    .iter()
                    .map(|id| crate::types::label(nick, *id, true))
                    .collect();
                Err(Refusal::WhichOne {
                    nick: nick.to_string(),
                    labels,
                })
            }
        }
    }

    /// Runs the failure detector at `now`; `pick` chooses helpers at random.
    /// Only the peers whose deadline has come are looked at, in id order.
    pub(crate) fn check(
        &mut self,
        now: Instant,
        mut pick: impl FnMut(usize) -> usize,
    ) -> Vec<Liveness> {
        let due = self.deadlines.due(now);
        if due.is_empty() {
            return Vec::new();
        }
        let t = &self.timing;
        let mut work = Vec::new();
        // Helpers are the peers not suspected before this round; listed
        // (every peer) only when a probe through others is due.
        let through_others = due.iter().any(|id| {
            self.peers
                .get(id)
                .is_some_and(|p| p.probed_through_others() && p.probe_due(now, t))
        });
        let helpers: Vec<(NodeId, SocketAddr)> = if through_others {
            self.peers
                .iter()
                .filter(|(_, p)| p.suspect.is_none())
                .map(|(id, p)| (*id, p.addr))
                .collect()
        } else {
            Vec::new()
        };
        for id in due {
            let Some(p) = self.peers.get_mut(&id) else {
                continue;
            };
            let silence = now.saturating_duration_since(p.last_heard);
            let (_, offline_after) = p.limits(t);
            if silence >= offline_after {
                work.push(Liveness::Offline {
                    id,
                    watched: p.watched,
                });
                continue;
            }
            if silence >= t.suspect_after && !p.quiet {
                p.quiet = true;
                work.push(Liveness::Quiet(id));
            }
            if p.probe_due(now, t) {
                let through_others = p.probed_through_others();
                if p.suspect.is_none() {
                    tracing::debug!(peer = %id, silence_ms = silence.as_millis() as u64, watched = p.watched, "peer suspected");
                }
                p.suspect = Some(Suspicion {
                    next_probe: now + t.probe_interval,
                });
                let mut chosen = Vec::new();
                for _ in 0..(t.indirect_probes * 3) {
                    if !through_others {
                        break;
                    }
                    if chosen.len() >= t.indirect_probes || helpers.is_empty() {
                        break;
                    }
                    let (hid, haddr) = helpers[pick(helpers.len())];
                    if hid != id && !chosen.contains(&haddr) {
                        chosen.push(haddr);
                    }
                }
                work.push(Liveness::Probe {
                    target: id,
                    addr: p.addr,
                    helpers: chosen,
                });
            }
            self.deadlines.set(&id, Some(p.deadline(t)));
        }
        work
    }

    /// When [`PeerTable::check`] next has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.next()
    }
}

#[cfg(test)]
mod tests;
