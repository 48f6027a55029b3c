//! One sender's messages in one channel, as a receiver sees them: held back
//! until every earlier sequence number has arrived, repaired by NACK, and
//! kept for a while so this node can repair others. What is kept is the
//! datagram as the sender signed it: a repair by another holder passes it
//! on unchanged, so nobody can repair a message into something else.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::fragments::{Assembled, Fragment, Outcome, Reassembly};
use crate::wire::{ChannelMsg, MAX_NACK_RANGES};

/// Most out-of-order datagrams held per stream.
pub(crate) const MAX_HELD: usize = 1024;
/// Delivered datagrams kept per stream to repair other receivers.
pub(crate) const KEEP_FOR_REPAIR: usize = 256;
/// Most sequence numbers asked for in one NACK.
const MAX_NACK_SEQS: u64 = 256;
/// A gap wider than this is not waited for: the stream jumps ahead.
const MAX_GAP: u64 = 100_000;

/// What became of a received datagram.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// New; held or ready for delivery.
    Accepted,
    /// Already delivered or held.
    Duplicate,
    /// The hold-back buffer is full; it will be asked for again.
    Full,
}

/// Receiver state of one (sender, epoch, channel).
#[derive(Debug)]
pub(crate) struct Stream {
    next: u64,
    highest: u64,
    held: BTreeMap<u64, (ChannelMsg, Vec<u8>)>,
    reassembly: Reassembly,
    /// Delivered datagrams as received (sequence number, the sender's bytes).
    kept: VecDeque<(u64, Vec<u8>)>,
    /// How many delivered datagrams to keep (fewer when there are many streams).
    keep: usize,
    nack_at: Option<Instant>,
    attempt: u8,
}

impl Stream {
    /// A stream whose first wanted sequence number is `base`.
    pub(crate) fn new(base: u64) -> Self {
        let base = base.max(1);
        Stream {
            next: base,
            highest: base - 1,
            held: BTreeMap::new(),
            reassembly: Reassembly::default(),
            kept: VecDeque::new(),
            keep: KEEP_FOR_REPAIR,
            nack_at: None,
            attempt: 0,
        }
    }

    /// Takes in a datagram of this stream (`raw`: its bytes, as the sender
    /// signed them); `crowded` says the node holds too many out-of-order
    /// datagrams already.
    pub(crate) fn receive(&mut self, msg: ChannelMsg, raw: &[u8], crowded: bool) -> Arrival {
        let seq = msg.seq;
        self.highest = self.highest.max(seq);
        if seq < self.next || self.held.contains_key(&seq) {
            return Arrival::Duplicate;
        }
        if (crowded || self.held.len() >= MAX_HELD) && seq > self.next {
            return Arrival::Full;
        }
        self.held.insert(seq, (msg, raw.to_vec()));
        Arrival::Accepted
    }

    /// Keeps at most `keep` delivered datagrams from now on (at least one).
    pub(crate) fn limit_kept(&mut self, keep: usize) {
        self.keep = keep.max(1);
        while self.kept.len() > self.keep {
            self.kept.pop_front();
        }
    }

    /// Delivered datagrams kept for repair.
    #[cfg(test)]
    pub(crate) fn kept_len(&self) -> usize {
        self.kept.len()
    }

    /// Datagrams held out of order.
    pub(crate) fn held_len(&self) -> usize {
        self.held.len()
    }

    /// Learns the sender's newest sequence number.
    pub(crate) fn saw_tail(&mut self, tail: u64) {
        self.highest = self.highest.max(tail);
    }

    /// Pops the messages now complete and in order. Also returns how many
    /// fragments were dropped as broken.
    pub(crate) fn ready(&mut self) -> (Vec<Assembled>, u64) {
        let mut out = Vec::new();
        let mut broken = 0;
        if self.highest.saturating_sub(self.next) > MAX_GAP {
            self.jump(self.highest - MAX_GAP);
        }
        while let Some((msg, raw)) = self.held.remove(&self.next) {
            self.next += 1;
            while self.kept.len() >= self.keep {
                self.kept.pop_front();
            }
            self.kept.push_back((msg.seq, raw));
            let frag = Fragment {
                id: msg.id,
                kind: msg.kind,
                hlc: msg.hlc,
                part: msg.part,
                parts: msg.parts,
                text: msg.text,
                sig: msg.sig,
            };
            match self.reassembly.push(frag) {
                Outcome::Complete(a) => out.push(a),
                Outcome::Pending => {}
                Outcome::Broken => broken += 1,
            }
        }
        (out, broken)
    }

    /// Stops waiting for everything below `next`; returns how many sequence
    /// numbers were given up.
    pub(crate) fn jump(&mut self, next: u64) -> u64 {
        if next <= self.next {
            return 0;
        }
        let skipped = (self.next..next)
            .filter(|s| !self.held.contains_key(s))
            .count() as u64;
        self.held = self.held.split_off(&next);
        self.next = next;
        self.highest = self.highest.max(next - 1);
        self.reassembly.clear();
        skipped
    }

    /// Gives up the first gap: jumps to the first held datagram (or past
    /// the highest known). Returns how many were given up.
    pub(crate) fn skip_gap(&mut self) -> u64 {
        let to = self.held.keys().next().copied().unwrap_or(self.highest + 1);
        self.jump(to)
    }

    /// Whether anything known to exist is missing.
    pub(crate) fn has_gap(&self) -> bool {
        // Every held key lies in next..=highest, so a gap is a shortfall.
        self.highest >= self.next && (self.held.len() as u64) < self.highest - self.next + 1
    }

    /// The missing sequence numbers, as at most [`MAX_NACK_RANGES`] ranges.
    pub(crate) fn missing(&self) -> Vec<(u64, u64)> {
        let mut ranges = Vec::new();
        let mut budget = MAX_NACK_SEQS;
        let mut cursor = self.next;
        let mut held = self.held.keys().copied().peekable();
        while cursor <= self.highest && ranges.len() < MAX_NACK_RANGES && budget > 0 {
            while held.peek().is_some_and(|&h| h < cursor) {
                held.next();
            }
            match held.peek() {
                Some(&h) if h == cursor => cursor += 1,
                other => {
                    let end = other
                        .map_or(self.highest, |&h| h - 1)
                        .min(cursor + budget - 1);
                    ranges.push((cursor, end));
                    budget -= end - cursor + 1;
                    cursor = end + 1;
                }
            }
        }
        ranges
    }

    /// The newest kept datagram, as its sender signed it.
    pub(crate) fn newest_kept(&self) -> Option<&[u8]> {
        self.kept.back().map(|(_, raw)| raw.as_slice())
    }

    /// A kept datagram, as its sender signed it, to repair another
    /// receiver.
    pub(crate) fn kept(&self, seq: u64) -> Option<&[u8]> {
        let first = self.kept.front()?.0;
        let idx = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.kept
            .get(idx)
            .filter(|(s, _)| *s == seq)
            .map(|(_, raw)| raw.as_slice())
    }

    /// When the next NACK is due, if a gap is open.
    pub(crate) fn nack_at(&self) -> Option<Instant> {
        self.nack_at
    }

    /// Number of NACKs sent for the current gap.
    pub(crate) fn attempt(&self) -> u8 {
        self.attempt
    }

    /// Arms or disarms the NACK timer after the stream changed; `delay` is
    /// the random first wait. (This and the other changes of the timer go
    /// through [`super::Channels`], which indexes it.)
    pub(super) fn arm(&mut self, now: Instant, delay: Duration) {
        if !self.has_gap() {
            self.nack_at = None;
            self.attempt = 0;
        } else if self.nack_at.is_none() {
            self.nack_at = Some(now + delay);
        }
    }

    /// Records that a NACK was sent and sets when to ask again.
    pub(super) fn nacked(&mut self, now: Instant, retry: Duration) {
        self.attempt = self.attempt.saturating_add(1);
        self.nack_at = Some(now + retry);
    }

    /// Someone else asked for the same: wait at least `hold` before asking.
    pub(super) fn suppress(&mut self, now: Instant, hold: Duration, their_ranges: &[(u64, u64)]) {
        let covered = |s: u64| their_ranges.iter().any(|(a, b)| (*a..=*b).contains(&s));
        let mine = self.missing();
        if !mine.is_empty()
            && mine.iter().all(|(a, b)| covered(*a) && covered(*b))
            && let Some(at) = self.nack_at.as_mut()
        {
            *at = (*at).max(now + hold);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{MessageKind, MsgId};

    fn msg(seq: u64) -> ChannelMsg {
        ChannelMsg {
            channel: "#Main".into(),
            seq,
            id: MsgId([seq as u8; 16]),
            hlc: seq,
            kind: MessageKind::Text,
            part: 0,
            parts: 1,
            text: format!("m{seq}"),
            sig: Vec::new(),
        }
    }

    fn texts(s: &mut Stream) -> Vec<String> {
        s.ready().0.into_iter().map(|a| a.text).collect()
    }

    #[test]
    fn holds_back_until_the_gap_fills() {
        let mut s = Stream::new(1);
        assert_eq!(s.receive(msg(1), &[], false), Arrival::Accepted);
        assert_eq!(s.receive(msg(3), &[], false), Arrival::Accepted);
        assert_eq!(texts(&mut s), vec!["m1"]);
        assert!(s.has_gap());
        assert_eq!(s.missing(), vec![(2, 2)]);
        assert_eq!(s.receive(msg(2), &[], false), Arrival::Accepted);
        assert_eq!(texts(&mut s), vec!["m2", "m3"]);
        assert!(!s.has_gap());
        assert_eq!(s.receive(msg(2), &[], false), Arrival::Duplicate);
    }

    #[test]
    fn tail_reveals_lost_last_messages() {
        let mut s = Stream::new(1);
        s.saw_tail(4);
        assert_eq!(s.missing(), vec![(1, 4)]);
        s.receive(msg(2), &[], false);
        assert_eq!(s.missing(), vec![(1, 1), (3, 4)]);
    }

    #[test]
    fn skip_gap_releases_held_messages() {
        let mut s = Stream::new(1);
        s.receive(msg(3), &[], false);
        assert_eq!(s.skip_gap(), 2);
        assert_eq!(texts(&mut s), vec!["m3"]);
    }

    #[test]
    fn kept_messages_answer_repairs() {
        let mut s = Stream::new(5);
        for q in 5..9 {
            s.receive(msg(q), &[q as u8; 3], false);
        }
        s.ready();
        // The sender's datagram, byte for byte.
        assert_eq!(s.kept(6), Some(&[6u8; 3][..]));
        assert!(s.kept(4).is_none());
        assert!(s.kept(9).is_none());
    }

    #[test]
    fn nack_ranges_are_bounded() {
        let mut s = Stream::new(1);
        for q in (2..200).step_by(2) {
            s.receive(msg(q), &[], false);
        }
        s.saw_tail(1_000_000);
        let r = s.missing();
        assert!(r.len() <= MAX_NACK_RANGES);
        assert!(r.iter().map(|(a, b)| b - a + 1).sum::<u64>() <= MAX_NACK_SEQS);
    }
}
