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

use super::Node;
use crate::catchup::{self, Gathering, Kept, MAX_WANT};
use crate::protocol::{ChatMessage, CoreEvent, Dest};
use crate::types::{Chat, MsgId, NodeId};
use crate::wire::{Body, Recalled, Sync};

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

/// Catch-up state of a node.
#[derive(Debug)]
pub(super) struct SyncState {
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

impl SyncState {
    pub(super) fn new(now: Instant) -> Self {
        SyncState {
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
}

impl Node {
    /// Sets up catch-up for a channel just joined (or `#Main` at start).
    pub(super) fn sync_join(&mut self, now: Instant, channel: &str) {
        let wall = self.wall_ms(now);
        self.recent.start(channel, self.share, wall);
        if self.refill {
            self.recent.refill(channel, wall);
        }
        let soon = now + SOON.mul_f64(self.rng.f64());
        self.sync.due.insert(channel.to_string(), soon);
        self.sync.synced.remove(channel);
        self.sync.asked.remove(channel);
        self.sync.agreed.remove(channel);
    }

    /// Forgets the schedule of a channel left (its messages stay kept).
    pub(super) fn sync_part(&mut self, channel: &str) {
        self.sync.due.remove(channel);
        self.sync.with.remove(channel);
        self.sync.tries.remove(channel);
    }

    /// Takes in messages of an earlier life, read from the store.
    pub(super) fn recall(&mut self, messages: Vec<ChatMessage>) {
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
        let wall = self.wall_ms(self.last_now);
        for (channel, kept) in by_channel {
            self.recent.load(&channel, kept);
            if self.refill {
                self.recent.refill(&channel, wall);
            }
        }
    }

    /// Members of a channel other than me, online now, the longest
    /// running first.
    fn members(&self, channel: &str) -> Vec<(NodeId, SocketAddr)> {
        let mut members: Vec<(u64, NodeId, SocketAddr)> = self
            .peers
            .iter()
            .filter(|(_, p)| p.presence.channels.iter().any(|c| c.name == channel))
            .map(|(id, p)| (p.presence.since_ms, *id, p.addr))
            .collect();
        members.sort();
        members.into_iter().map(|(_, id, a)| (id, a)).collect()
    }

    /// Whom to compare a channel with: while waiting to be given its
    /// history, the longest-running member not asked yet (a newcomer like
    /// us has none to give); else a peer that just came online, or anyone.
    fn partner(&mut self, channel: &str) -> Option<SocketAddr> {
        let members = self.members(channel);
        let chosen = self.sync.with.remove(channel);
        if self.recent.sharing(channel) {
            let asked = self.sync.asked.entry(channel.to_string()).or_default();
            let next = members.iter().map(|(_, a)| *a).find(|a| !asked.contains(a));
            match next {
                Some(a) => {
                    asked.insert(a);
                    return Some(a);
                }
                None if !asked.is_empty() => {
                    self.sync.asked.remove(channel);
                    // Every member was asked. Still lacking some: the
                    // oldest may have been lost on the way, below the
                    // window, so each is asked once more from the start
                    // of the share. Then what was given is all there is.
                    if self.recent.widen(channel)
                        && let Some((_, a)) = members.first()
                    {
                        self.sync
                            .asked
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
                let pick = self.rng.usize(..members.len().max(1));
                members.get(pick).map(|(_, a)| *a)
            })
    }

    /// Runs the comparisons that are due and gives out held messages.
    pub(super) fn run_sync(&mut self, now: Instant) {
        if self.sync.held_until.is_some_and(|t| t <= now) {
            self.give_out_recalled(now);
        }
        let due: Vec<String> = self
            .sync
            .due
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(c, _)| c.clone())
            .collect();
        if due.is_empty() {
            return;
        }
        let wall = self.wall_ms(now);
        self.recent.prune(wall);
        for channel in due {
            let addr = self.partner(&channel);
            let tries = self.sync.tries.get(&channel).copied().unwrap_or(0);
            let next = match addr {
                Some(addr) if tries < TRIES => {
                    self.open_sync(now, addr, &channel);
                    self.sync.tries.insert(channel.clone(), tries + 1);
                    now + RETRY
                }
                _ => {
                    self.sync.tries.remove(&channel);
                    self.next_period(now, &channel)
                }
            };
            self.sync.due.insert(channel, next);
        }
    }

    /// When the next periodic comparison of a channel is due: about
    /// [`Timing::sync_every`](crate::protocol::Timing), doubled for each
    /// comparison in a row that found nothing to do ([`CALM_DOUBLINGS`]).
    fn next_period(&mut self, now: Instant, channel: &str) -> Instant {
        let calm = self.sync.agreed.get(channel).copied().unwrap_or(0);
        let every = self.timing.sync_every * (1u32 << calm.min(CALM_DOUBLINGS));
        now + every.mul_f64(0.75 + self.rng.f64() * 0.5)
    }

    /// Starts a comparison of a channel with the peer at `addr`.
    fn open_sync(&mut self, now: Instant, addr: SocketAddr, channel: &str) {
        let wall = self.wall_ms(now);
        let opening = self.recent.opening(channel, wall);
        debug!(%addr, channel, "catch-up: comparing");
        self.stats.syncs_started += 1;
        self.send(
            Dest::Unicast(addr),
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
    pub(super) fn sync_appeared(
        &mut self,
        now: Instant,
        id: NodeId,
        addr: SocketAddr,
        channels: &[String],
    ) {
        self.sync_heard_in(now, id, channels);
        for channel in channels {
            if !self.channels.joined.contains_key(channel) {
                continue;
            }
            let members = self.members(channel).len().max(1);
            let never = !self.sync.synced.contains(channel);
            if !never && self.rng.f64() >= 2.0 / members as f64 {
                continue;
            }
            let at = now + AFTER_APPEARING.mul_f64(1.0 + self.rng.f64() * 0.5);
            let at = if never { now + SOON } else { at };
            if self.sync.sooner(channel, at) {
                self.sync.with.insert(channel.clone(), addr);
                self.sync.tries.remove(channel);
            }
        }
    }

    /// Notes when a peer was first heard in channels (it came online, or
    /// joined them).
    pub(super) fn sync_heard_in(&mut self, now: Instant, id: NodeId, channels: &[String]) {
        let wall = self.wall_ms(now);
        for channel in channels {
            self.sync.heard_in.insert((id, channel.clone()), wall);
        }
    }

    /// Forgets a peer that went offline (it hears nothing meanwhile).
    pub(super) fn sync_gone(&mut self, id: NodeId) {
        self.sync.heard_in.retain(|(peer, _), _| *peer != id);
    }

    fn their_since(&self, id: NodeId, channel: &str) -> Option<u64> {
        self.sync.heard_in.get(&(id, channel.to_string())).copied()
    }

    /// A peer's ranges for a channel: answer what differs, send what it
    /// lacks, ask for what we lack. An opening is always answered.
    pub(super) fn on_sync(&mut self, now: Instant, id: NodeId, from: SocketAddr, sync: Sync) {
        if !self.channels.joined.contains_key(&sync.channel) {
            return;
        }
        // Our opening was answered: the next comparison is a period away;
        // unless we wait to be given the channel's history and this member
        // may have had none (the next one is asked after `RETRY`, until
        // some is given).
        if sync.round > 0
            && !self.recent.sharing(&sync.channel)
            && self.sync.tries.remove(&sync.channel).is_some()
        {
            self.sync.synced.insert(sync.channel.clone());
            if sync.ranges.is_empty() {
                let calm = self.sync.agreed.entry(sync.channel.clone()).or_default();
                *calm = calm.saturating_add(1).min(CALM_DOUBLINGS);
            } else {
                self.sync.agreed.remove(&sync.channel);
            }
            let next = self.next_period(now, &sync.channel);
            self.sync.due.insert(sync.channel.clone(), next);
        }
        if sync.round > 0 && !sync.ranges.is_empty() {
            // The windows differ: unless this round brings what we lack,
            // compare again soon (a few times).
            let fruitless = self.sync.fruitless.entry(sync.channel.clone()).or_default();
            if *fruitless < MAX_FRUITLESS {
                *fruitless += 1;
                self.sync.sooner(&sync.channel, now + AGAIN);
            }
        }
        let wall = self.wall_ms(now);
        let answer = self.recent.answer(
            &sync.channel,
            &sync.ranges,
            sync.limit as usize,
            wall,
            self.their_since(id, &sync.channel),
        );
        let limit = self.recent.limit(&sync.channel) as u32;
        let round = sync.round.saturating_add(1);
        debug!(
            %from,
            channel = sync.channel,
            round = sync.round,
            differ = answer.ranges.len(),
            give = answer.send.len(),
            want = answer.want.len(),
            "catch-up: answering"
        );
        let mut datagrams = if round < MAX_ROUNDS {
            catchup::pack(answer.ranges)
        } else {
            Vec::new()
        };
        if sync.round == 0 && datagrams.is_empty() {
            // An opening is always answered, with nothing when all agrees.
            datagrams.push(Vec::new());
        }
        for ranges in datagrams {
            self.send(
                Dest::Unicast(from),
                Body::Sync(Sync {
                    channel: sync.channel.clone(),
                    round,
                    limit,
                    ranges,
                }),
            );
        }
        for ids in answer.want.chunks(MAX_WANT) {
            self.send(
                Dest::Unicast(from),
                Body::Want {
                    channel: sync.channel.clone(),
                    ids: ids.to_vec(),
                },
            );
        }
        self.send_recalled(now, from, &sync.channel, &answer.send);
    }

    /// A peer asks for messages it lacks.
    pub(super) fn on_want(
        &mut self,
        now: Instant,
        id: NodeId,
        from: SocketAddr,
        channel: &str,
        ids: &[MsgId],
    ) {
        if !self.channels.joined.contains_key(channel) {
            return;
        }
        let wall = self.wall_ms(now);
        let found = self
            .recent
            .wanted(channel, ids, wall, self.their_since(id, channel));
        self.send_recalled(now, from, channel, &found);
    }

    /// Sends messages for catch-up as far as the budget allows.
    fn send_recalled(&mut self, now: Instant, to: SocketAddr, channel: &str, kept: &[Kept]) {
        let s = &mut self.sync;
        let elapsed = now.saturating_duration_since(s.tokens_at);
        s.tokens_at = now;
        s.tokens = (s.tokens + elapsed.as_secs_f64() * SYNC_RATE).min(SYNC_RATE);
        for k in kept {
            let fragments = catchup::fragments(channel, k);
            if fragments.is_empty() {
                continue;
            }
            if self.sync.tokens < fragments.len() as f64 {
                self.stats.recall_limited += 1;
                continue;
            }
            self.sync.tokens -= fragments.len() as f64;
            self.stats.recalls_sent += 1;
            for f in fragments {
                self.send(Dest::Unicast(to), Body::Recalled(f));
            }
        }
    }

    /// A fragment of a message we lacked.
    pub(super) fn on_recalled(&mut self, now: Instant, r: Recalled) {
        if !self.channels.joined.contains_key(&r.channel) {
            return;
        }
        let Some((channel, k)) = self.sync.gathering.push(now, r) else {
            return;
        };
        // Handed on by a peer, so it counts only with its author's
        // signature.
        if !k
            .author
            .is_some_and(|a| a.verify(k.from, &channel, k.id, k.hlc, k.kind, &k.text))
        {
            debug!(from = %k.from, %channel, "caught-up message without its author's signature dropped");
            self.stats.forged += 1;
            return;
        }
        if self.recent.contains(&channel, &k.id) {
            self.stats.duplicates += 1;
            return;
        }
        let lan_now = self.lan_wall_ms(now);
        let stamp = self.hlc.observe(k.hlc, lan_now);
        self.sync.held.push((
            k.hlc,
            ChatMessage {
                id: k.id,
                chat: Chat::Channel(channel.clone()),
                from: k.from,
                nick: k.nick.clone(),
                kind: k.kind,
                text: k.text.clone(),
                time_ms: crate::hlc::wall_ms(stamp),
                hlc: stamp,
                author: k.author,
            },
        ));
        let arrived_ms = self.wall_ms(now);
        self.recent.insert(&channel, Kept { arrived_ms, ..k });
        self.stats.recalled += 1;
        self.sync.held_until = Some(now + QUIET);
        if self.sync.held.len() >= MAX_HELD {
            self.give_out_recalled(now);
        }
        self.sync.sooner(&channel, now + FOLLOW_UP);
        self.sync.fruitless.remove(&channel);
        self.sync.agreed.remove(&channel);
    }

    /// Gives out the held caught-up messages.
    fn give_out_recalled(&mut self, now: Instant) {
        self.sync.held_until = None;
        debug!(count = self.sync.held.len(), "catch-up: giving out");
        let held = std::mem::take(&mut self.sync.held);
        self.give_out(now, held);
    }

    /// Gives out caught-up messages in stamp order. A channel joined with
    /// nothing now has its window: it begins at the oldest message given.
    fn give_out(&mut self, now: Instant, held: Vec<(u64, ChatMessage)>) {
        let mut held: Vec<ChatMessage> = held.into_iter().map(|(_, m)| m).collect();
        // A channel's share filled up meanwhile with newer ones: the older
        // ones it pushed out were more than asked for.
        held.retain(|m| match &m.chat {
            Chat::Channel(c) => self.recent.contains(c, &m.id),
            Chat::Direct(_) => true,
        });
        held.sort_by_key(|m| (m.hlc, m.from));
        let channels: BTreeSet<String> = held
            .iter()
            .filter_map(|m| match &m.chat {
                Chat::Channel(c) => Some(c.clone()),
                Chat::Direct(_) => None,
            })
            .collect();
        let later = now + Duration::from_millis(catchup::SETTLE_MS) + RETRY;
        for channel in channels {
            if self.recent.sharing(&channel) {
                // What was said just before we came is held back by the
                // givers for a while (it may still come live): one more
                // round then. Until it has all it asked for, the next
                // members are asked for the rest.
                self.sync.sooner(&channel, later);
            }
        }
        self.events
            .extend(held.into_iter().map(CoreEvent::Recalled));
    }

    /// Keeps a channel message delivered live or sent by me; false if it was
    /// had already (by catch-up, or twice by repair).
    ///
    /// Repair and catch-up can bring the same messages at once (a returning
    /// node's repairs come slowly). So that each sender's order holds, a
    /// live message first gives out what catch-up brought of its author in
    /// that channel up to it, itself included (then it is had already).
    pub(super) fn keep(&mut self, now: Instant, channel: &str, k: Kept) -> bool {
        if !self.sync.held.is_empty() {
            let (before, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.sync.held)
                .into_iter()
                .partition(|(stamp, m)| {
                    m.from == k.from
                        && matches!(&m.chat, Chat::Channel(c) if c == channel)
                        && (*stamp <= k.hlc || m.id == k.id)
                });
            self.sync.held = rest;
            if self.sync.held.is_empty() {
                self.sync.held_until = None;
            }
            if !before.is_empty() {
                self.give_out(now, before);
            }
        }
        let arrived_ms = self.wall_ms(now);
        self.recent.insert(channel, Kept { arrived_ms, ..k })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{Lan, config};
    use crate::catchup::Share;
    use crate::protocol::{CoreCommand, CoreEvent, Target};
    use crate::types::MessageKind;

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
