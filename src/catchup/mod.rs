//! Catch-up: the messages a node missed in its channels (it was off, its
//! cable was out, it joined late, the sender restarted), fetched from any
//! peer that holds them.
//!
//! Each node keeps a window of recent channel messages in memory ([`Recent`],
//! loaded from the store at start). Two nodes compare their windows for a
//! channel by range-based set reconciliation: one sends a fingerprint (count
//! and sum of id hashes) of its messages stamped in `[floor, ∞)`; the other
//! compares it with its own; a range that differs is split into
//! [`SPLIT`] smaller ones, until a range holds few enough messages to list
//! their ids. Each side then sends what the other lacks and asks for what it
//! lacks. Equal windows cost one small datagram.
//!
//! Everything here is pure: the node decides when and with whom, and sends.

mod gather;

use std::collections::{BTreeMap, HashMap, HashSet};

pub(crate) use gather::{Gathering, fragments};

use crate::hlc::stamp_of;
use crate::types::{MessageKind, MsgId, NodeId};
use crate::wire::{RangeSummary, SyncRange};

/// Most messages kept per channel.
pub const PER_CHANNEL: usize = 2000;
/// Most messages kept over all channels.
pub const TOTAL: usize = 20_000;
/// Oldest message kept, in days.
pub const MAX_AGE_DAYS: u64 = 14;
/// A range holding more is split into this many.
pub const SPLIT: usize = 8;
pub use crate::wire::{LIST_AT_MOST, MAX_RANGES, MAX_WANT};
/// Most ranges one answer may hold (so one request brings a bounded reply).
const MAX_ANSWER_RANGES: usize = 4 * MAX_RANGES;
/// Messages younger than this are left to stream repair (NACK), which keeps
/// each sender's order; catch-up compares only older ones, except what was
/// said before this node began to hear the channel.
pub const SETTLE_MS: u64 = 10_000;

const DAY_MS: u64 = 24 * 3600 * 1000;
const HOUR_MS: u64 = 3600 * 1000;

/// A channel message as catch-up keeps and sends it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Kept {
    pub(crate) id: MsgId,
    pub(crate) from: NodeId,
    pub(crate) nick: String,
    pub(crate) kind: MessageKind,
    pub(crate) text: String,
    pub(crate) hlc: u64,
    /// When this node got it (its own clock, ms; 0: an earlier life).
    pub(crate) arrived_ms: u64,
    /// The author's signature; a message without one (kept before
    /// signatures) is not handed on.
    pub(crate) author: Option<crate::envelope::AuthorSig>,
}

/// The recent messages of one channel.
#[derive(Debug, Default)]
struct Log {
    by_time: BTreeMap<(u64, MsgId), Kept>,
    ids: HashMap<MsgId, u64>,
    /// Nothing stamped before this is wanted or offered.
    since: u64,
    /// While set, this node joined with nothing: it wants only this many
    /// newest messages (the history a late joiner is given).
    share: Option<usize>,
    /// Since when this node hears the channel live (its streams begin
    /// there): what was said before is only had by catch-up.
    live_from: u64,
    /// While waiting for its share: every member was asked once and some is
    /// still lacking, so the window begins at `since`, not at the oldest
    /// message held; and the share's cap holds until the members were
    /// asked again ([`Recent::widen`]).
    widened: bool,
}

impl Log {
    fn oldest(&self) -> Option<u64> {
        self.by_time.keys().next().map(|(h, _)| *h)
    }

    fn range(&self, lo: u64, hi: u64) -> impl DoubleEndedIterator<Item = &Kept> {
        let end = if hi == u64::MAX {
            std::ops::Bound::Unbounded
        } else {
            std::ops::Bound::Excluded((hi, MsgId([0; 16])))
        };
        self.by_time
            .range((std::ops::Bound::Included((lo, MsgId([0; 16]))), end))
            .map(|(_, k)| k)
    }
}

/// What the history a late joiner receives is limited to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    /// Most messages.
    pub max_messages: usize,
    /// Oldest, in days.
    pub max_age_days: u64,
}

impl Default for Share {
    fn default() -> Self {
        Share {
            max_messages: 200,
            max_age_days: 7,
        }
    }
}

/// The answer to one sync datagram.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Answer {
    /// Ranges to send back (they differ, or list ids).
    pub(crate) ranges: Vec<SyncRange>,
    /// Messages the other side lacks, oldest first.
    pub(crate) send: Vec<Kept>,
    /// Ids of messages this side lacks.
    pub(crate) want: Vec<MsgId>,
}

/// Recent messages of every channel, bounded by [`PER_CHANNEL`], [`TOTAL`]
/// and [`MAX_AGE_DAYS`].
#[derive(Debug, Default)]
pub struct Recent {
    logs: BTreeMap<String, Log>,
    total: usize,
}

/// The hash that fingerprints sum: ids are random, their first bytes will do.
fn hash(id: &MsgId) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&id.0[..8]);
    u64::from_le_bytes(b)
}

impl Recent {
    /// Messages kept for a channel.
    pub(crate) fn len(&self, channel: &str) -> usize {
        self.logs.get(channel).map_or(0, |l| l.by_time.len())
    }

    /// Notes that this node hears a channel live from `now_ms` (it joined,
    /// or started). A channel with nothing kept wants the newest `share`
    /// messages of its last days, or (`None`) only what comes from now on.
    pub(crate) fn start(&mut self, channel: &str, share: Option<Share>, now_ms: u64) {
        if let Some(log) = self.logs.get_mut(channel) {
            log.live_from = stamp_of(now_ms);
            return;
        }
        let log = match share {
            Some(s) => Log {
                since: stamp_of(now_ms.saturating_sub(s.max_age_days * DAY_MS)),
                share: Some(s.max_messages.clamp(1, PER_CHANNEL)),
                live_from: stamp_of(now_ms),
                ..Log::default()
            },
            None => Log {
                since: stamp_of(now_ms),
                live_from: stamp_of(now_ms),
                ..Log::default()
            },
        };
        self.logs.insert(channel.to_string(), log);
    }

    /// Takes in messages of an earlier life (from the store). A channel's
    /// window then begins at its oldest such message: what was missed since
    /// then is fetched, nothing older.
    pub(crate) fn load(&mut self, channel: &str, messages: Vec<Kept>) {
        for k in messages {
            self.insert(channel, k);
        }
        if let Some(log) = self.logs.get_mut(channel)
            && let Some(oldest) = log.oldest()
        {
            log.since = oldest;
            log.share = None;
        }
    }

    /// My history of the channel was lost: its window begins
    /// [`MAX_AGE_DAYS`] back, so catch-up fetches all the peers hold (up
    /// to [`PER_CHANNEL`]), older than my oldest message too.
    pub(crate) fn refill(&mut self, channel: &str, now_ms: u64) {
        if let Some(log) = self.logs.get_mut(channel) {
            log.since = Self::age_floor(now_ms);
            log.share = None;
        }
    }

    /// Whether this node joined the channel with nothing and has not been
    /// given its history yet.
    pub(crate) fn sharing(&self, channel: &str) -> bool {
        self.logs.get(channel).is_some_and(|l| l.share.is_some())
    }

    /// Whether a message is kept.
    pub(crate) fn contains(&self, channel: &str, id: &MsgId) -> bool {
        self.logs
            .get(channel)
            .is_some_and(|l| l.ids.contains_key(id))
    }

    /// Keeps a message; false if it was kept already.
    pub(crate) fn insert(&mut self, channel: &str, k: Kept) -> bool {
        if !self.logs.contains_key(channel) {
            self.logs.insert(
                channel.to_string(),
                Log {
                    since: k.hlc,
                    ..Log::default()
                },
            );
        }
        let Some(log) = self.logs.get_mut(channel) else {
            return false;
        };
        if log.ids.contains_key(&k.id) {
            return false;
        }
        log.ids.insert(k.id, k.hlc);
        log.by_time.insert((k.hlc, k.id), k);
        self.total += 1;
        let cap = log.share.unwrap_or(PER_CHANNEL);
        if log.by_time.len() >= cap {
            // Full: the window now begins at its oldest message.
            while self.len(channel) > cap {
                self.drop_oldest_of(channel);
            }
            if let Some(log) = self.logs.get_mut(channel) {
                log.since = log.since.max(log.oldest().unwrap_or(0));
                // Widened, the cap holds until the members were asked.
                if !log.widened {
                    log.share = None;
                }
            }
        }
        while self.total > TOTAL {
            let Some(name) = self
                .logs
                .iter()
                .max_by_key(|(_, l)| l.by_time.len())
                .map(|(n, _)| n.clone())
            else {
                break;
            };
            self.drop_oldest_of(&name);
            if let Some(log) = self.logs.get_mut(&name) {
                log.since = log.since.max(log.oldest().unwrap_or(0));
            }
        }
        true
    }

    fn drop_oldest_of(&mut self, channel: &str) {
        if let Some(log) = self.logs.get_mut(channel)
            && let Some(((_, id), _)) = log.by_time.pop_first()
        {
            log.ids.remove(&id);
            self.total -= 1;
        }
    }

    /// Every member was asked for a channel's history once, and fewer
    /// messages than the share came: a caught-up datagram lost on the way
    /// may have been among the oldest, below the window (which begins at
    /// the oldest held), where no comparison looks. Each member is then
    /// asked once more, from where the share begins. An answer split over
    /// several datagrams gives more than is wanted: the share's cap keeps
    /// the newest, and what it pushes out is not shown. False if it was
    /// widened already, lacks nothing, or was given nothing (there is
    /// none).
    pub(crate) fn widen(&mut self, channel: &str) -> bool {
        let Some(log) = self.logs.get_mut(channel) else {
            return false;
        };
        let lacking = log.share.is_some_and(|s| log.by_time.len() < s);
        // Given some history (older than what it hears live), or there was
        // none to give.
        let given = log.oldest().is_some_and(|h| h < log.live_from);
        if !lacking || !given || log.widened {
            return false;
        }
        log.widened = true;
        true
    }

    /// Every member was asked for a channel's history: what was given is
    /// all there is (fewer messages than asked for). The window begins at
    /// the oldest message held, or when this node began to hear the
    /// channel; later rounds fetch only what is missing since.
    pub(crate) fn share_done(&mut self, channel: &str) {
        if let Some(log) = self.logs.get_mut(channel)
            && log.share.is_some()
        {
            log.share = None;
            let begins = log.oldest().unwrap_or(log.live_from).min(log.live_from);
            log.since = log.since.max(begins);
        }
    }

    /// Drops messages older than [`MAX_AGE_DAYS`].
    pub(crate) fn prune(&mut self, now_ms: u64) {
        let floor = Self::age_floor(now_ms);
        for log in self.logs.values_mut() {
            while log.oldest().is_some_and(|h| h < floor) {
                if let Some(((_, id), _)) = log.by_time.pop_first() {
                    log.ids.remove(&id);
                    self.total -= 1;
                }
            }
            log.since = log.since.max(floor);
        }
    }

    /// The age bound, rounded down to the hour so that two nodes nearly
    /// always agree on it (their first fingerprints then compare).
    fn age_floor(now_ms: u64) -> u64 {
        let ms = now_ms.saturating_sub(MAX_AGE_DAYS * DAY_MS);
        stamp_of(ms - ms % HOUR_MS)
    }

    /// Where this node's window of a channel begins. While it waits to be
    /// given a channel's history and holds some, at the oldest it holds:
    /// the rest it lacks is among the newest (older ones it did not ask
    /// for).
    pub(crate) fn floor(&self, channel: &str, now_ms: u64) -> u64 {
        let since = self.logs.get(channel).map_or(0, |l| match l.share {
            Some(_) if !l.widened => l.since.max(l.oldest().unwrap_or(0)),
            _ => l.since,
        });
        since.max(Self::age_floor(now_ms))
    }

    /// How many messages this node wants in one answer: while it waits to
    /// be given a channel's history, what it still lacks of it.
    pub(crate) fn limit(&self, channel: &str) -> usize {
        self.logs
            .get(channel)
            .map_or(PER_CHANNEL, |l| match l.share {
                Some(share) => share.saturating_sub(l.by_time.len()).max(1),
                None => PER_CHANNEL,
            })
    }

    fn summary(&self, channel: &str, lo: u64, hi: u64) -> (u32, u64) {
        let Some(log) = self.logs.get(channel) else {
            return (0, 0);
        };
        log.range(lo, hi)
            .fold((0, 0), |(n, fp), k| (n + 1, fp.wrapping_add(hash(&k.id))))
    }

    fn ids(&self, channel: &str, lo: u64, hi: u64) -> Vec<MsgId> {
        self.logs
            .get(channel)
            .map(|l| l.range(lo, hi).map(|k| k.id).collect())
            .unwrap_or_default()
    }

    /// A range described as its ids when few, else as a fingerprint.
    fn describe(&self, channel: &str, lo: u64, hi: u64) -> SyncRange {
        let (count, fp) = self.summary(channel, lo, hi);
        let what = if count as usize <= LIST_AT_MOST {
            RangeSummary::Ids(self.ids(channel, lo, hi))
        } else {
            RangeSummary::Fingerprint { count, fp }
        };
        SyncRange { lo, hi, what }
    }

    /// The opening of a sync: this node's window of a channel, up to
    /// [`SETTLE_MS`] ago or to when it began to hear the channel live.
    pub(crate) fn opening(&self, channel: &str, now_ms: u64) -> SyncRange {
        let live_from = self.logs.get(channel).map_or(0, |l| l.live_from);
        let settled = stamp_of(now_ms.saturating_sub(SETTLE_MS));
        let lo = self.floor(channel, now_ms);
        self.describe(channel, lo, settled.max(live_from).max(lo + 1))
    }

    /// Splits `[lo, hi)` into up to [`SPLIT`] ranges holding about as many
    /// of this node's messages each.
    fn split(&self, channel: &str, lo: u64, hi: u64) -> Vec<(u64, u64)> {
        let Some(log) = self.logs.get(channel) else {
            return vec![(lo, hi)];
        };
        let stamps: Vec<u64> = log.range(lo, hi).map(|k| k.hlc).collect();
        let step = stamps.len().div_ceil(SPLIT).max(1);
        let mut bounds = vec![lo];
        for s in stamps.iter().step_by(step).skip(1) {
            if *s > *bounds.last().unwrap_or(&lo) {
                bounds.push(*s);
            }
        }
        bounds.push(hi);
        bounds.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// Answers the ranges another node sent for a channel. `limit` is how
    /// many messages it wants at most. Messages this node got less than
    /// [`SETTLE_MS`] ago are not given (see [`givable`]).
    pub(crate) fn answer(
        &self,
        channel: &str,
        ranges: &[SyncRange],
        limit: usize,
        now_ms: u64,
        their_since: Option<u64>,
    ) -> Answer {
        let floor = self.floor(channel, now_ms);
        let mut out = Answer::default();
        let mut send: Vec<&Kept> = Vec::new();
        let mut wanted = HashSet::new();
        for r in ranges {
            let lo = r.lo.max(floor);
            if lo >= r.hi {
                continue;
            }
            match &r.what {
                RangeSummary::Fingerprint { count, fp } => {
                    if lo == r.lo && self.summary(channel, lo, r.hi) == (*count, *fp) {
                        continue;
                    }
                    let (mine, _) = self.summary(channel, lo, r.hi);
                    let parts = if mine as usize <= LIST_AT_MOST {
                        vec![(lo, r.hi)]
                    } else {
                        self.split(channel, lo, r.hi)
                    };
                    for (a, b) in parts {
                        if out.ranges.len() < MAX_ANSWER_RANGES {
                            let mut d = self.describe(channel, a, b);
                            if parts_is_whole(a, b, lo, r.hi)
                                && let RangeSummary::Fingerprint { .. } = d.what
                            {
                                // Could not split (one stamp): list what fits.
                                let mut ids = self.ids(channel, a, b);
                                ids.truncate(LIST_AT_MOST);
                                d.what = RangeSummary::Ids(ids);
                            }
                            out.ranges.push(d);
                        }
                    }
                }
                RangeSummary::Ids(theirs) => {
                    let theirs: HashSet<&MsgId> = theirs.iter().collect();
                    if let Some(log) = self.logs.get(channel) {
                        send.extend(log.range(lo, r.hi).filter(|k| {
                            !theirs.contains(&k.id) && givable(k, now_ms, their_since)
                        }));
                    }
                    let unknown = theirs.iter().filter(|id| !self.contains(channel, id));
                    if lo == r.lo {
                        for id in unknown {
                            if wanted.insert(**id) {
                                out.want.push(**id);
                            }
                        }
                    } else if unknown.count() > 0 && out.ranges.len() < MAX_ANSWER_RANGES {
                        // Their list reaches below my window, and ids carry
                        // no stamp: describe mine for the part we share, and
                        // they send what of it I lack.
                        out.ranges.push(self.describe(channel, lo, r.hi));
                    }
                }
            }
        }
        send.sort_by_key(|k| (k.hlc, k.id));
        send.dedup_by_key(|k| k.id);
        let skip = send.len().saturating_sub(limit);
        out.send = send.into_iter().skip(skip).cloned().collect();
        out
    }

    /// The kept messages with these ids, oldest first, but for those not
    /// [`givable`].
    pub(crate) fn wanted(
        &self,
        channel: &str,
        ids: &[MsgId],
        now_ms: u64,
        their_since: Option<u64>,
    ) -> Vec<Kept> {
        let Some(log) = self.logs.get(channel) else {
            return Vec::new();
        };
        let mut found: Vec<Kept> = ids
            .iter()
            .filter_map(|id| log.ids.get(id).and_then(|h| log.by_time.get(&(*h, *id))))
            .filter(|k| givable(k, now_ms, their_since))
            .cloned()
            .collect();
        found.sort_by_key(|k| (k.hlc, k.id));
        found.dedup_by_key(|k| k.id);
        found
    }
}

/// Bytes of ranges one sync datagram carries (the rest of the datagram,
/// with the longest channel name, fits in what is left of
/// [`crate::wire::MAX_BODY`]).
const RANGE_BYTES: usize = 960;

/// Most bytes a range takes on the wire (bincode's variable-length integers
/// at their longest).
fn wire_size(r: &SyncRange) -> usize {
    9 + 9
        + match &r.what {
            RangeSummary::Fingerprint { .. } => 1 + 5 + 9,
            RangeSummary::Ids(ids) => 1 + 1 + 16 * ids.len(),
        }
}

/// Packs ranges into datagrams of at most [`MAX_RANGES`] ranges and
/// [`RANGE_BYTES`] bytes.
pub(crate) fn pack(ranges: Vec<SyncRange>) -> Vec<Vec<SyncRange>> {
    let mut out: Vec<Vec<SyncRange>> = Vec::new();
    let mut bytes = 0;
    for r in ranges {
        let size = wire_size(&r);
        match out.last_mut() {
            Some(last) if last.len() < MAX_RANGES && bytes + size <= RANGE_BYTES => {
                bytes += size;
                last.push(r);
            }
            _ => {
                bytes = size;
                out.push(vec![r]);
            }
        }
    }
    out
}

/// Whether a message may be given for catch-up. One this node got less
/// than [`SETTLE_MS`] ago may still be on its way to the other live (stream
/// repair keeps each sender's order, and clocks differ, so stamps cannot
/// tell) — unless it came before the other was here to hear it
/// (`their_since`: when this node first heard the other in the channel,
/// its own clock; a second's margin).
fn givable(k: &Kept, now_ms: u64, their_since: Option<u64>) -> bool {
    k.arrived_ms + SETTLE_MS <= now_ms || their_since.is_some_and(|t| k.arrived_ms + 1000 <= t)
}

/// Whether a split produced the whole range again (nothing to split on).
fn parts_is_whole(a: u64, b: u64, lo: u64, hi: u64) -> bool {
    a == lo && b == hi
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn kept(n: u64) -> Kept {
        Kept {
            id: MsgId::from_bits(
                u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
            ),
            from: NodeId([1; 16]),
            nick: "ann".into(),
            kind: MessageKind::Text,
            text: format!("m{n}"),
            hlc: stamp_of(NOW - 100_000 + n),
            arrived_ms: 0,
            author: None,
        }
    }

    /// A window as a restart loads it from the store.
    fn filled(ns: impl IntoIterator<Item = u64>) -> Recent {
        let mut r = Recent::default();
        r.load("#Main", ns.into_iter().map(kept).collect());
        r
    }

    /// Runs a whole exchange between two windows; returns the datagrams
    /// sent (sync, want and message) and moves messages across.
    fn reconcile(a: &mut Recent, b: &mut Recent) -> usize {
        let mut datagrams = 1;
        let mut ranges = vec![a.opening("#Main", NOW)];
        let mut turn = 0;
        while !ranges.is_empty() && turn < 20 {
            let (me, other) = if turn % 2 == 0 {
                (&mut *b, &mut *a)
            } else {
                (&mut *a, &mut *b)
            };
            let limit = other.limit("#Main");
            let answer = me.answer("#Main", &ranges, limit, NOW, None);
            datagrams += answer.send.len() + answer.ranges.len().div_ceil(MAX_RANGES);
            for k in answer.send {
                other.insert("#Main", k);
            }
            if !answer.want.is_empty() {
                datagrams += 1;
                for k in other.wanted("#Main", &answer.want, NOW, None) {
                    datagrams += 1;
                    me.insert("#Main", k);
                }
            }
            ranges = answer.ranges;
            turn += 1;
        }
        datagrams
    }

    fn ids(r: &Recent) -> Vec<MsgId> {
        r.ids("#Main", 0, u64::MAX)
    }

    #[test]
    fn equal_windows_cost_one_datagram() {
        let mut a = filled(0..1000);
        let mut b = filled(0..1000);
        assert_eq!(reconcile(&mut a, &mut b), 1);
    }

    #[test]
    fn a_gap_in_the_middle_is_found_and_filled_both_ways() {
        let mut a = filled((0..1000).filter(|n| !(400..450).contains(n)));
        let mut b = filled((0..1000).filter(|n| *n != 7));
        let sent = reconcile(&mut a, &mut b);
        assert_eq!(ids(&a), ids(&filled(0..1000)));
        assert_eq!(ids(&b), ids(&a));
        // 51 messages moved; the search for them is a few datagrams more.
        assert!(sent < 51 + 20, "{sent} datagrams");
    }

    #[test]
    fn a_late_joiner_gets_only_the_newest_it_asked_for() {
        let mut holder = filled(0..1000);
        let mut joiner = Recent::default();
        joiner.start("#Main", Some(Share::default()), NOW);
        reconcile(&mut joiner, &mut holder);
        let got = ids(&joiner);
        assert_eq!(got.len(), 200);
        assert_eq!(got, holder.ids("#Main", kept(800).hlc, u64::MAX));
        // Its window now begins there: the next round fetches nothing older.
        assert_eq!(reconcile(&mut joiner, &mut holder), 1);
        assert_eq!(ids(&joiner).len(), 200);
    }

    #[test]
    fn a_joiner_that_turned_history_off_gets_nothing_older() {
        let mut holder = filled(0..100);
        let mut joiner = Recent::default();
        joiner.start("#Main", None, NOW);
        reconcile(&mut joiner, &mut holder);
        assert!(ids(&joiner).is_empty());
    }

    #[test]
    fn the_newest_seconds_are_left_to_stream_repair() {
        // b missed one message just said and one said long ago.
        let mut a = filled(0..100);
        let fresh = Kept {
            hlc: stamp_of(NOW - SETTLE_MS / 2),
            ..kept(100)
        };
        a.insert("#Main", fresh.clone());
        let mut b = filled((0..100).filter(|n| *n != 50));
        reconcile(&mut b, &mut a);
        assert!(b.contains("#Main", &kept(50).id));
        assert!(!b.contains("#Main", &fresh.id));
        // Unless b began to hear the channel after it was said.
        b.start("#Main", None, NOW - SETTLE_MS / 4);
        reconcile(&mut b, &mut a);
        assert!(b.contains("#Main", &fresh.id));
    }

    #[test]
    fn a_list_reaching_below_my_window_brings_nothing_older() {
        let mut holder = filled(0..20);
        let mut joiner = Recent::default();
        joiner.start("#Main", None, NOW - 50_000);
        // The holder opens (a short list, all older than the joiner's window).
        reconcile(&mut holder, &mut joiner);
        assert!(ids(&joiner).is_empty());
    }

    #[test]
    fn packed_answers_fit_a_datagram() {
        let channel = format!("#{}", "ж".repeat(15));
        let ids = SyncRange {
            lo: u64::MAX - 1,
            hi: u64::MAX,
            what: RangeSummary::Ids(vec![MsgId([0xff; 16]); LIST_AT_MOST]),
        };
        let fp = SyncRange {
            lo: u64::MAX - 1,
            hi: u64::MAX,
            what: RangeSummary::Fingerprint {
                count: u32::MAX,
                fp: u64::MAX,
            },
        };
        let ranges: Vec<SyncRange> = (0..MAX_ANSWER_RANGES)
            .map(|n| if n % 3 == 0 { ids.clone() } else { fp.clone() })
            .collect();
        let packed = pack(ranges.clone());
        assert_eq!(packed.concat(), ranges);
        for ranges in packed {
            let packet = crate::wire::Packet {
                from: NodeId([0xff; 16]),
                epoch: u64::MAX,
                body: crate::wire::Body::Sync(crate::wire::Sync {
                    channel: channel.clone(),
                    round: u8::MAX,
                    limit: u32::MAX,
                    ranges,
                }),
            };
            let bytes = crate::wire::encode_packet(&packet).expect("fits");
            assert!(crate::wire::decode_packet(&bytes).is_ok());
        }
    }

    #[test]
    fn what_just_arrived_is_left_to_stream_repair() {
        let mut holder = filled(0..10);
        let just = Kept {
            arrived_ms: NOW - SETTLE_MS / 2,
            ..kept(10)
        };
        holder.insert("#Main", just.clone());
        let everything = [SyncRange {
            lo: 0,
            hi: u64::MAX,
            what: RangeSummary::Ids(Vec::new()),
        }];
        let now = holder.answer("#Main", &everything, 100, NOW, None);
        assert_eq!(now.send.len(), 10);
        assert!(!now.send.contains(&just));
        let later = holder.answer("#Main", &everything, 100, NOW + SETTLE_MS, None);
        assert_eq!(later.send.len(), 11);
        // One who came after it arrived cannot have it live: given at once.
        let newcomer = holder.answer("#Main", &everything, 100, NOW, Some(NOW - 1));
        assert_eq!(newcomer.send.len(), 11);
        let there = holder.answer("#Main", &everything, 100, NOW, Some(NOW - SETTLE_MS));
        assert_eq!(there.send.len(), 10);
    }

    #[test]
    fn windows_are_bounded() {
        let mut r = filled(0..(PER_CHANNEL as u64 + 500));
        assert_eq!(r.len("#Main"), PER_CHANNEL);
        for c in 0..20 {
            for n in 0..PER_CHANNEL as u64 {
                r.insert(&format!("#c{c}"), kept(n));
            }
        }
        assert!(r.total <= TOTAL);
        assert_eq!(
            r.total,
            r.logs.values().map(|l| l.by_time.len()).sum::<usize>()
        );
        r.prune(NOW + (MAX_AGE_DAYS + 1) * DAY_MS);
        assert_eq!(r.total, 0);
    }

    #[test]
    fn a_node_with_more_than_a_window_does_not_push_older_ones() {
        // b keeps the newest PER_CHANNEL; a, which holds fewer and newer,
        // gets what it missed, nothing from before its window.
        let mut a = filled(5000..5100);
        let mut b = filled(0..5200);
        reconcile(&mut a, &mut b);
        let got = ids(&a);
        assert_eq!(got, b.ids("#Main", kept(5000).hlc, u64::MAX));
    }
}
