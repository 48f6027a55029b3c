//! The node's side of catch-up (`crate::catchup`): when to compare recent
//! history with whom, answering peers, and taking in what they send.
//!
//! - A channel is compared with one random member every
//!   [`Timing::sync_every`](crate::protocol::Timing), soon after joining it (or
//!   after the first member is seen), and again shortly after a round
//!   brought news (an answer cut short by the bandwidth budget goes on).
//!   Each periodic comparison in a row that finds both sides the same
//!   doubles the period, up to 8 times it ([`CALM_DOUBLINGS`]).
//! - An opening is always answered (with nothing, when the windows agree),
//!   so a lost one is tried again, with another member, after [`RETRY`].
//! - When a peer comes online, each member of a shared channel compares with
//!   it with a chance that makes about two do so, so a returning node is not
//!   flooded with the same messages by everyone; after a short wait, so
//!   stream repair (which keeps each sender's order) fills what it can first.
//! - Caught-up messages are held until none came for [`QUIET`], then given
//!   out in stamp order: the network may reorder them, the user should not
//!   see that.
//! - What is sent for catch-up is bounded by a token bucket of
//!   [`SYNC_RATE`] datagrams a second.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tracing::debug;

use super::{Node, Stats};
use crate::catchup::{self, Gathering, Kept, Recent, Share};
use crate::channels::Joined;
use crate::discovery::PeerTable;
use crate::protocol::{ChatMessage, CoreEvent, Dest};
use crate::types::{Chat, NodeId};
use crate::wire::{Body, Sync};

mod exchange;
mod held;

/// Catch-up datagrams sent per second at most (about 240 KB/s).
pub const SYNC_RATE: f64 = 200.0;
/// A round that brought news is followed by another after this.
const FOLLOW_UP: Duration = Duration::from_millis(400);
/// Random wait before comparing after joining.
const SOON: Duration = Duration::from_millis(300);
/// Wait (up to half again) before comparing after a peer came online.
const AFTER_APPEARING: Duration = Duration::from_secs(2);
/// An opening not answered within this is tried again.
const RETRY: Duration = Duration::from_secs(1);
/// Tries of an opening before waiting for the next period.
const TRIES: u8 = 3;
/// Caught-up messages are given out once none came for this long.
const QUIET: Duration = Duration::from_millis(250);
/// Most caught-up messages held before they are given out regardless.
const MAX_HELD: usize = 4 * catchup::PER_CHANNEL;
/// Most rounds of one comparison (each side answers the other's).
const MAX_ROUNDS: u8 = 16;
/// A comparison that found differences is followed by another after this,
/// up to [`MAX_FRUITLESS`] times in a row without news.
const AGAIN: Duration = Duration::from_secs(1);
const MAX_FRUITLESS: u8 = 5;
/// Each periodic comparison that found both sides the same doubles the
/// wait before the next one of that channel, this many times at most (so
/// an idle channel is compared every 4 minutes rather than every 30 s,
/// saving a node two datagrams and often an ARP exchange each time); news
/// or a difference brings it back to [`Timing::sync_every`](crate::protocol::Timing).
const CALM_DOUBLINGS: u8 = 3;

/// Catch-up state of a node: the recent messages of each channel, and when
/// to compare them with whom.
#[derive(Debug)]
pub(super) struct SyncState {
    /// Recent channel messages, for catch-up and to drop repeats.
    recent: Recent,
    /// How much of a channel's history a newcomer asks for.
    share: Option<Share>,
    /// [`Config::history_lost`](super::Config): the windows refill from
    /// what peers give.
    refill: bool,
    /// When each joined channel is next compared.
    due: BTreeMap<String, Instant>,
    /// Whom to compare a channel with next (a peer that came online).
    with: BTreeMap<String, SocketAddr>,
    /// When each peer was first heard in each shared channel (our clock, ms):
    /// what came before, it cannot get live.
    heard_in: BTreeMap<(NodeId, String), u64>,
    /// Openings not answered yet, with their tries.
    tries: BTreeMap<String, u8>,
    /// Members asked for a channel's history while waiting to be given it.
    asked: BTreeMap<String, BTreeSet<SocketAddr>>,
    /// Rounds in a row that found differences but brought nothing (lost
    /// on the way, or held back by a budget), per channel.
    fruitless: BTreeMap<String, u8>,
    /// Periodic comparisons in a row that found both sides the same, per
    /// channel ([`CALM_DOUBLINGS`]).
    agreed: BTreeMap<String, u8>,
    /// Channels compared at least once since joining (or starting).
    synced: BTreeSet<String>,
    /// Caught-up messages not given out yet (each with its author's own
    /// stamp), and when to give them.
    held: Vec<(u64, ChatMessage)>,
    held_until: Option<Instant>,
    /// Messages being put together from their fragments.
    gathering: Gathering,
    /// Send budget, in datagrams, and when it was last topped up.
    tokens: f64,
    tokens_at: Instant,
}

/// What catch-up borrows from the node for one call (the time, my wall
/// clock, the dice, the peers, my channels and the counters), and what it
/// gives back: datagrams to send and caught-up messages to give out.
pub(super) struct Ctx<'a> {
    now: Instant,
    /// My wall clock at `now`, in ms.
    wall: u64,
    rng: &'a mut fastrand::Rng,
    peers: &'a PeerTable,
    joined: &'a BTreeMap<String, Joined>,
    stats: &'a mut Stats,
    /// [`Timing::sync_every`](crate::protocol::Timing).
    sync_every: Duration,
    sends: Vec<(SocketAddr, Body)>,
    recalled: Vec<ChatMessage>,
}

impl Ctx<'_> {
    fn send(&mut self, to: SocketAddr, body: Body) {
        self.sends.push((to, body));
    }
}

/// Members of a channel other than me, online now, the longest running
/// first.
fn members(peers: &PeerTable, channel: &str) -> Vec<(NodeId, SocketAddr)> {
    let mut members: Vec<(u64, NodeId, SocketAddr)> = peers
        .iter()
        .filter(|(_, p)| p.presence.channels.iter().any(|c| c.name == channel))
        .map(|(id, p)| (p.presence.since_ms, *id, p.addr))
        .collect();
    members.sort();
    members.into_iter().map(|(_, id, a)| (id, a)).collect()
}

impl SyncState {
    pub(super) fn new(now: Instant, share: Option<Share>, refill: bool) -> Self {
        SyncState {
            recent: Recent::default(),
            share,
            refill,
            due: BTreeMap::new(),
            with: BTreeMap::new(),
            tries: BTreeMap::new(),
            asked: BTreeMap::new(),
            heard_in: BTreeMap::new(),
            fruitless: BTreeMap::new(),
            agreed: BTreeMap::new(),
            synced: BTreeSet::new(),
            held: Vec::new(),
            held_until: None,
            gathering: Gathering::default(),
            tokens: SYNC_RATE,
            tokens_at: now,
        }
    }

    /// The next moment catch-up has work.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.due
            .values()
            .min()
            .copied()
            .into_iter()
            .chain(self.held_until)
            .min()
    }

    fn sooner(&mut self, channel: &str, at: Instant) -> bool {
        match self.due.get_mut(channel) {
            Some(due) if at < *due => {
                *due = at;
                true
            }
            _ => false,
        }
    }

    /// Sets up catch-up for a channel just joined (or `#Main` at start).
    pub(super) fn join(&mut self, cx: &mut Ctx, channel: &str) {
        self.recent.start(channel, self.share, cx.wall);
        if self.refill {
            self.recent.refill(channel, cx.wall);
        }
        let soon = cx.now + SOON.mul_f64(cx.rng.f64());
        self.due.insert(channel.to_string(), soon);
        self.synced.remove(channel);
        self.asked.remove(channel);
        self.agreed.remove(channel);
    }

    /// Forgets the schedule of a channel left (its messages stay kept).
    pub(super) fn part(&mut self, channel: &str) {
        self.due.remove(channel);
        self.with.remove(channel);
        self.tries.remove(channel);
    }

    /// Takes in messages of an earlier life, read from the store (`wall`:
    /// my wall clock now, in ms).
    pub(super) fn recall(&mut self, wall: u64, messages: Vec<ChatMessage>) {
        let mut by_channel: BTreeMap<String, Vec<Kept>> = BTreeMap::new();
        for m in messages {
            if let Chat::Channel(name) = m.chat {
                by_channel.entry(name).or_default().push(Kept {
                    id: m.id,
                    from: m.from,
                    nick: m.nick,
                    kind: m.kind,
                    text: m.text,
                    hlc: m.hlc,
                    arrived_ms: 0,
                    author: m.author,
                });
            }
        }
        for (channel, kept) in by_channel {
            self.recent.load(&channel, kept);
            if self.refill {
                self.recent.refill(&channel, wall);
            }
        }
    }

    /// Whom to compare a channel with: while waiting to be given its
    /// history, the longest-running member not asked yet (a newcomer like
    /// us has none to give); else a peer that just came online, or anyone.
    fn partner(&mut self, cx: &mut Ctx, channel: &str) -> Option<SocketAddr> {
        let members = members(cx.peers, channel);
        let chosen = self.with.remove(channel);
        if self.recent.sharing(channel) {
            let asked = self.asked.entry(channel.to_string()).or_default();
            let next = members.iter().map(|(_, a)| *a).find(|a| !asked.contains(a));
            match next {
                Some(a) => {
                    asked.insert(a);
                    return Some(a);
                }
                None if !asked.is_empty() => {
                    self.asked.remove(channel);
                    // Every member was asked. Still lacking some: the
                    // oldest may have been lost on the way, below the
                    // window, so each is asked once more from the start
                    // of the share. Then what was given is all there is.
                    if self.recent.widen(channel)
                        && let Some((_, a)) = members.first()
                    {
                        self.asked
                            .entry(channel.to_string())
                            .or_default()
                            .insert(*a);
                        return Some(*a);
                    }
                    self.recent.share_done(channel);
                }
                None => return None,
            }
        }
        chosen
            .filter(|a| members.iter().any(|(_, m)| m == a))
            .or_else(|| {
                let pick = cx.rng.usize(..members.len().max(1));
                members.get(pick).map(|(_, a)| *a)
            })
    }

    /// Runs the comparisons that are due and gives out held messages.
    pub(super) fn run(&mut self, cx: &mut Ctx) {
        let now = cx.now;
        if self.held_until.is_some_and(|t| t <= now) {
            self.give_out_held(cx);
        }
        let due: Vec<String> = self
            .due
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(c, _)| c.clone())
            .collect();
        if due.is_empty() {
            return;
        }
        self.recent.prune(cx.wall);
        for channel in due {
            let addr = self.partner(cx, &channel);
            let tries = self.tries.get(&channel).copied().unwrap_or(0);
            let next = match addr {
                Some(addr) if tries < TRIES => {
                    self.open(cx, addr, &channel);
                    self.tries.insert(channel.clone(), tries + 1);
                    now + RETRY
                }
                _ => {
                    self.tries.remove(&channel);
                    self.next_period(cx, &channel)
                }
            };
            self.due.insert(channel, next);
        }
    }

    /// When the next periodic comparison of a channel is due: about
    /// [`Timing::sync_every`](crate::protocol::Timing), doubled for each
    /// comparison in a row that found nothing to do ([`CALM_DOUBLINGS`]).
    fn next_period(&mut self, cx: &mut Ctx, channel: &str) -> Instant {
        let calm = self.agreed.get(channel).copied().unwrap_or(0);
        let every = cx.sync_every * (1u32 << calm.min(CALM_DOUBLINGS));
        cx.now + every.mul_f64(0.75 + cx.rng.f64() * 0.5)
    }

    /// Starts a comparison of a channel with the peer at `addr`.
    fn open(&mut self, cx: &mut Ctx, addr: SocketAddr, channel: &str) {
        let opening = self.recent.opening(channel, cx.wall);
        debug!(%addr, channel, "catch-up: comparing");
        cx.stats.syncs_started += 1;
        cx.send(
            addr,
            Body::Sync(Sync {
                channel: channel.to_string(),
                round: 0,
                limit: self.recent.limit(channel) as u32,
                ranges: vec![opening],
            }),
        );
    }

    /// A peer came online: about two members of each shared channel compare
    /// it with the newcomer; one not compared yet does so for sure. Not at
    /// once: stream repair gets [`AFTER_APPEARING`] to fill what it can.
    pub(super) fn appeared(
        &mut self,
        cx: &mut Ctx,
        id: NodeId,
        addr: SocketAddr,
        channels: &[String],
    ) {
        self.heard_in(cx.wall, id, channels);
        for channel in channels {
            if !cx.joined.contains_key(channel) {
                continue;
            }
            let members = members(cx.peers, channel).len().max(1);
            let never = !self.synced.contains(channel);
            if !never && cx.rng.f64() >= 2.0 / members as f64 {
                continue;
            }
            let at = cx.now + AFTER_APPEARING.mul_f64(1.0 + cx.rng.f64() * 0.5);
            let at = if never { cx.now + SOON } else { at };
            if self.sooner(channel, at) {
                self.with.insert(channel.clone(), addr);
                self.tries.remove(channel);
            }
        }
    }

    /// Notes when a peer was first heard in channels (it came online, or
    /// joined them); `wall` is my wall clock now, in ms.
    pub(super) fn heard_in(&mut self, wall: u64, id: NodeId, channels: &[String]) {
        for channel in channels {
            self.heard_in.insert((id, channel.clone()), wall);
        }
    }

    /// Forgets a peer that went offline (it hears nothing meanwhile).
    pub(super) fn gone(&mut self, id: NodeId) {
        self.heard_in.retain(|(peer, _), _| *peer != id);
    }

    fn their_since(&self, id: NodeId, channel: &str) -> Option<u64> {
        self.heard_in.get(&(id, channel.to_string())).copied()
    }
}

/// The node's side: what catch-up borrows, sends and gives out.
impl Node {
    /// Runs `f` on catch-up with what it needs of the node at `now`, then
    /// sends the datagrams it asks for and gives out what it caught up.
    pub(super) fn catch_up<R>(
        &mut self,
        now: Instant,
        f: impl FnOnce(&mut SyncState, &mut Ctx) -> R,
    ) -> R {
        let mut cx = Ctx {
            now,
            wall: self.wall_ms(now),
            rng: &mut self.rng,
            peers: &self.peers,
            joined: &self.channels.joined,
            stats: &mut self.stats,
            sync_every: self.timing.sync_every,
            sends: Vec::new(),
            recalled: Vec::new(),
        };
        let out = f(&mut self.sync, &mut cx);
        let Ctx {
            sends, recalled, ..
        } = cx;
        for (to, body) in sends {
            self.send(Dest::Unicast(to), body);
        }
        self.events
            .extend(recalled.into_iter().map(CoreEvent::Recalled));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{Lan, config};
    use super::*;
    use crate::catchup::Share;
    use crate::protocol::{CoreCommand, Target, Timing};
    use crate::types::{MessageKind, MsgId};

    fn kept(from: u8, n: u8, hlc: u64) -> Kept {
        Kept {
            id: MsgId([n; 16]),
            from: NodeId([from; 16]),
            nick: format!("n{from}"),
            kind: MessageKind::Text,
            text: format!("{from}/{n}"),
            hlc,
            arrived_ms: 0,
            author: None,
        }
    }

    /// Caught-up messages wait for a quiet moment; a live message of the
    /// same author first gives out what catch-up brought of him up to it,
    /// so his order holds; the rest waits, then comes out in stamp order.
    #[test]
    fn caught_up_messages_come_out_in_order_and_before_their_authors_next() {
        let t0 = Instant::now();
        let mut rng = fastrand::Rng::with_seed(1);
        let peers = PeerTable::new(Timing::default(), NodeId([9; 16]));
        let joined: BTreeMap<String, Joined> = [("#Main".to_string(), Joined::default())].into();
        let mut stats = Stats::default();
        macro_rules! cx {
            ($now:expr) => {
                Ctx {
                    now: $now,
                    wall: 1_000_000,
                    rng: &mut rng,
                    peers: &peers,
                    joined: &joined,
                    stats: &mut stats,
                    sync_every: Duration::from_secs(30),
                    sends: Vec::new(),
                    recalled: Vec::new(),
                }
            };
        }
        let mut sync = SyncState::new(t0, None, false);
        sync.join(&mut cx!(t0), "#Main");
        let mut c = cx!(t0);
        // Caught up out of order: ann's 2 and 1, bob's 1.
        for k in [kept(1, 2, 20), kept(1, 1, 10), kept(2, 1, 15)] {
            let stamp = k.hlc;
            sync.hold(&mut c, "#Main".into(), k, stamp);
        }
        assert!(c.recalled.is_empty(), "held until quiet");
        // Ann's live 3: her 1 and 2 come out first, in order.
        assert!(sync.keep(&mut c, "#Main", kept(1, 3, 30)));
        let out: Vec<&str> = c.recalled.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(out, ["1/1", "1/2"]);
        // A repeat of what was kept is had already.
        assert!(!sync.keep(&mut c, "#Main", kept(1, 3, 30)));
        // Bob's waits for the quiet moment.
        let quiet = t0 + QUIET;
        assert!(sync.deadline().is_some_and(|t| t <= quiet));
        let mut c = cx!(quiet);
        sync.run(&mut c);
        let out: Vec<&str> = c.recalled.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(out, ["2/1"]);
    }

    #[test]
    fn a_node_that_joins_late_is_given_what_was_said_before_it_came() {
        let mut lan = Lan::new(&["ann", "bob"]);
        lan.run(Duration::from_secs(1));
        for text in ["first", "second", "third"] {
            lan.command(
                0,
                CoreCommand::Say {
                    to: vec![Target::Channel("#Main".into())],
                    text: text.into(),
                    kind: MessageKind::Text,
                },
            );
            lan.run(Duration::from_millis(100));
        }
        lan.run(Duration::from_secs(15));
        let mut late = config(2, "cat");
        late.share = Some(Share::default());
        let cat = lan.add(late);
        lan.run(Duration::from_secs(10));
        let recalled: Vec<String> = lan.events[cat]
            .iter()
            .filter_map(|e| match e {
                CoreEvent::Recalled(m) => Some(m.text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(recalled.len(), 3, "{recalled:?}");
        for text in ["first", "second", "third"] {
            assert!(recalled.iter().any(|t| t == text), "{recalled:?}");
        }
        assert!(lan.nodes[cat].stats().recalled >= 3);
    }
}
