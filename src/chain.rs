//! Lean heartbeats authenticated by a one-way key chain (TESLA, RFC 4082),
//! so an idle node's heartbeat needs neither its 32-byte key nor a 64-byte
//! signature, and checking one costs two hashes instead of an Ed25519
//! verification.
//!
//! Each life has a chain of keys, one per heartbeat interval
//! ([`crate::protocol::Timing::heartbeat`]), made backwards: each key is the hash
//! of the next, so anyone can check a key against an earlier one and nobody
//! can compute a later one. The lean beat of interval `i`
//! ([`crate::envelope::Lean`]) carries a MAC of its content made with
//! `key(i)` and discloses `key(i − DELAY)`.
//!
//! - **Proof of life at once.** `key(i − DELAY)` stayed secret until the
//!   sender sent beat `i`. A receiver that hashes it down to a key it already
//!   trusts knows the sender ran then. A beat of an interval far behind the
//!   one the receiver's clock expects is refused, so a copy held back cannot
//!   keep a dead node online.
//! - **Content `DELAY` intervals later.** The beat's content (presence
//!   version, tails) is held until its key is disclosed, then checked. It is
//!   taken only if it arrived before anyone could have learned that key
//!   (TESLA's safety condition), judged from when the sender's last signed
//!   presence arrived.
//! - **Trust from signatures.** Every signed presence names its interval and
//!   discloses `key(p − DELAY)` ([`ChainPoint`]): the key later ones are
//!   checked against, and the mark the receiver counts the sender's intervals
//!   from. A chain has [`SEGMENT`] keys; near the end of one, presences also
//!   give the next segment's first key.
//!
//! Pure: the caller gives the time and the heartbeat interval.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::types::NodeId;

/// Bytes of a chain key on the wire.
pub const KEY_LEN: usize = 12;
/// Bytes of a lean beat's MAC.
pub const MAC_LEN: usize = 8;
/// A key of the chain.
pub type ChainKey = [u8; KEY_LEN];

/// Where a node's heartbeat key chain stands, said in its signed presence:
/// the presence's interval, the key it discloses (that of
/// `interval − DELAY`), and near the end of a chain segment the next
/// segment's anchor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainPoint {
    /// The heartbeat interval the presence was sent in.
    pub interval: u64,
    /// The key of interval `interval − DELAY`.
    pub key: ChainKey,
    /// The next segment's anchor, late in a segment.
    pub next: Option<ChainKey>,
}
/// Intervals after its own that a key is disclosed. Two, because a receiver
/// knows the sender's interval only to within one (it knows when a presence
/// arrived, not when in its interval it was sent).
pub const DELAY: u64 = 2;
/// The first interval of a life, so `key(i − DELAY)` exists from the first
/// beat on.
pub const FIRST: u64 = DELAY;
/// Intervals per chain segment (an hour and a bit at one beat a second).
pub const SEGMENT: u64 = 4096;
/// From this place in a segment on, presences give the next one's anchor.
const NEXT_FROM: u64 = SEGMENT / 4 * 3;
/// One key kept per this many, so a segment costs 65 keys of memory.
const CHECKPOINT: u64 = 64;
/// Most hashes spent checking one disclosed key (a minute of lost beats).
pub const MAX_STEPS: u64 = 64;
/// The longest a datagram is assumed to take across the LAN, for the safety
/// condition (a late beat only loses its content, never its proof of life).
pub const MAX_DELAY: Duration = Duration::from_millis(100);
/// Intervals after which a presence gives a new mark even if a later one.
const REMARK: u64 = 30;
/// Beats held at most per peer while their keys are not disclosed.
const MAX_HELD: usize = 4;
/// Intervals a beat may lag the one the receiver expects and still prove
/// life (the estimate is low by up to one; the rest is slack for a slow host).
const LATE: u64 = 3;

/// One step down the chain: the key before `key`.
fn step(key: &ChainKey) -> ChainKey {
    let digest = Sha256::new()
        .chain_update(b"lanchat chain\0")
        .chain_update(key)
        .finalize();
    let mut out = [0u8; KEY_LEN];
    out.copy_from_slice(&digest[..KEY_LEN]);
    out
}

/// `key` stepped down `n` times.
fn steps(mut key: ChainKey, n: u64) -> ChainKey {
    for _ in 0..n {
        key = step(&key);
    }
    key
}

/// The segment of interval `i`, and the place of its key in it (1 to
/// [`SEGMENT`]; place 0 is the segment's anchor, which no beat uses).
fn place(i: u64) -> (u64, u64) {
    (i / SEGMENT, i % SEGMENT + 1)
}

/// The MAC of a lean beat's content: HMAC-SHA256 with the interval's key
/// over the sender, its life, the interval and the encoded content.
pub fn mac(key: &ChainKey, from: NodeId, epoch: u64, interval: u64, body: &[u8]) -> [u8; MAC_LEN] {
    // HMAC takes a key of any length.
    let Ok(mut hmac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; MAC_LEN];
    };
    hmac.update(b"lanchat beat\0");
    hmac.update(&from.0);
    hmac.update(&epoch.to_le_bytes());
    hmac.update(&interval.to_le_bytes());
    hmac.update(body);
    let full = hmac.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

/// The short name of a life in its lean beats (receivers look the sender up
/// by it; two lives with one tag are told apart by their chains).
pub fn tag(from: NodeId, epoch: u64) -> u32 {
    let digest = Sha256::new()
        .chain_update(b"lanchat tag\0")
        .chain_update(from.0)
        .chain_update(epoch.to_le_bytes())
        .finalize();
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The interval `now` falls in, for a life that started at `start`.
pub fn interval_at(start: Instant, now: Instant, period: Duration) -> u64 {
    let since = now.saturating_duration_since(start).as_nanos();
    FIRST + (since / period.as_nanos().max(1)) as u64
}

/// When interval `i` of a life that started at `start` begins.
pub fn interval_start(start: Instant, i: u64, period: Duration) -> Instant {
    let n = u32::try_from(i.saturating_sub(FIRST)).unwrap_or(u32::MAX);
    start + period.saturating_mul(n)
}

/// My chain: the keys of my heartbeats in this life.
pub struct Chain {
    seed: Zeroizing<[u8; 32]>,
    /// Every [`CHECKPOINT`]th key of the segments in use (at most two).
    segments: VecDeque<(u64, Vec<ChainKey>)>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Chain")
    }
}

impl Chain {
    /// The chain of one life, from a secret seed
    /// ([`crate::envelope::Keys::chain_seed`]).
    pub fn new(seed: Zeroizing<[u8; 32]>) -> Chain {
        Chain {
            seed,
            segments: VecDeque::new(),
        }
    }

    /// The checkpoints of segment `s`, made when first needed.
    fn segment(&mut self, s: u64) -> &[ChainKey] {
        if let Some(at) = self.segments.iter().position(|(n, _)| *n == s) {
            return &self.segments[at].1;
        }
        // The top of a segment comes from the seed; the rest hash down.
        let mut top = [0u8; KEY_LEN];
        if let Ok(mut hmac) = Hmac::<Sha256>::new_from_slice(self.seed.as_ref()) {
            hmac.update(b"lanchat chain segment\0");
            hmac.update(&s.to_le_bytes());
            top.copy_from_slice(&hmac.finalize().into_bytes()[..KEY_LEN]);
        }
        let mut checkpoints = vec![[0u8; KEY_LEN]; (SEGMENT / CHECKPOINT + 1) as usize];
        let mut key = top;
        for pos in (0..=SEGMENT).rev() {
            if pos % CHECKPOINT == 0 {
                checkpoints[(pos / CHECKPOINT) as usize] = key;
            }
            key = step(&key);
        }
        if self.segments.len() >= 2 {
            self.segments.pop_front();
        }
        self.segments.push_back((s, checkpoints));
        let last = self.segments.len() - 1;
        &self.segments[last].1
    }

    /// The key at `place` of segment `s` (0 is its anchor).
    fn at(&mut self, s: u64, pos: u64) -> ChainKey {
        let above = pos.div_ceil(CHECKPOINT);
        let checkpoint = self.segment(s)[above as usize];
        steps(checkpoint, above * CHECKPOINT - pos)
    }

    /// The key of interval `i`, which signs its beat's content.
    pub fn key(&mut self, i: u64) -> ChainKey {
        let (s, pos) = place(i);
        self.at(s, pos)
    }

    /// What a presence sent in interval `i` says of the chain.
    pub fn point(&mut self, i: u64) -> ChainPoint {
        let disclosed = i.saturating_sub(DELAY);
        let (s, pos) = place(disclosed);
        let next = (pos > NEXT_FROM).then(|| self.at(s + 1, 0));
        ChainPoint {
            interval: i,
            key: self.key(disclosed),
            next,
        }
    }
}

/// What a disclosed key turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disclosure {
    /// Newer than any known, and genuine: the sender ran when it sent it.
    Fresh,
    /// The newest one already known (a second copy).
    Same,
    /// Older than the newest known.
    Old,
    /// Not the sender's (or too far ahead to check).
    Wrong,
}

/// A beat whose key is not disclosed yet.
#[derive(Clone, Debug)]
struct Held {
    interval: u64,
    body: Vec<u8>,
    mac: [u8; MAC_LEN],
}

/// A peer's chain as I know it.
#[derive(Clone, Debug)]
pub struct Tracked {
    /// The newest key known to be genuine, and its interval.
    trusted: (u64, ChainKey),
    /// The anchor of the segment after the trusted key's, when told.
    next: Option<ChainKey>,
    /// The interval of the newest signed presence, and when it arrived.
    told: (u64, Instant),
    held: VecDeque<Held>,
}

/// Beats whose content checked out, released by a disclosure, oldest first.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Released {
    /// Their intervals and encoded contents.
    pub bodies: Vec<(u64, Vec<u8>)>,
    /// Held beats whose MAC was wrong.
    pub forged: usize,
}

impl Tracked {
    /// A peer's chain as its signed presence, arrived at `now`, gives it.
    pub fn new(point: &ChainPoint, now: Instant) -> Tracked {
        Tracked {
            trusted: (point.interval.saturating_sub(DELAY), point.key),
            next: point.next,
            told: (point.interval, now),
            held: VecDeque::new(),
        }
    }

    /// Takes in what a later signed presence, arrived at `now`, says. The
    /// mark intervals are counted from moves only to an earlier one (a copy
    /// that took longer, or came round by a claim's probe, would make the
    /// safety condition looser), or to a fresh one every `REMARK`
    /// intervals (the two clocks drift apart).
    pub fn told(&mut self, point: &ChainPoint, now: Instant, period: Duration) {
        let (p, at) = self.told;
        let after = |n: u64| period.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
        let earlier = now + after(p) < at + after(point.interval);
        if earlier || point.interval >= p + REMARK {
            self.told = (point.interval, now);
        }
        let disclosed = point.interval.saturating_sub(DELAY);
        if disclosed > self.trusted.0 {
            self.trusted = (disclosed, point.key);
            self.next = point.next;
        } else if disclosed == self.trusted.0 && self.next.is_none() {
            self.next = point.next;
        }
    }

    /// The interval the sender is in at `now`, as low as it may be: its
    /// last presence was sent at the latest when it arrived.
    pub fn expected(&self, now: Instant, period: Duration) -> u64 {
        let since = now.saturating_duration_since(self.told.1).as_nanos();
        self.told.0 + (since / period.as_nanos().max(1)) as u64
    }

    /// The interval whose lowest byte is `low`, nearest the one expected.
    pub fn interval(&self, low: u8, now: Instant, period: Duration) -> u64 {
        let expected = self.expected(now, period);
        let ahead = low.wrapping_sub(expected as u8) as i8;
        expected.saturating_add_signed(i64::from(ahead))
    }

    /// When interval `i` began at the latest, by my clock: no later than
    /// the sender's last presence's arrival, plus the intervals since.
    pub fn began_by(&self, i: u64, period: Duration) -> Option<Instant> {
        let ahead = u32::try_from(i.checked_sub(self.told.0)?).ok()?;
        Some(self.told.1 + period.saturating_mul(ahead))
    }

    /// Whether a beat of interval `i` arriving at `now` still proves life:
    /// not far behind the interval expected.
    pub fn timely(&self, i: u64, now: Instant, period: Duration) -> bool {
        i + LATE >= self.expected(now, period)
    }

    /// Checks `key`, disclosed as the key of interval `i`, against the
    /// newest known; a genuine newer one becomes the newest.
    pub fn disclose(&mut self, i: u64, key: &ChainKey) -> Disclosure {
        let (known, known_key) = self.trusted;
        if i < known {
            return Disclosure::Old;
        }
        if i == known {
            return if *key == known_key {
                Disclosure::Same
            } else {
                Disclosure::Wrong
            };
        }
        let (s, pos) = place(i);
        let (known_s, _) = place(known);
        let genuine = if s == known_s {
            i - known <= MAX_STEPS && steps(*key, i - known) == known_key
        } else if s == known_s + 1
            && let Some(anchor) = self.next
        {
            pos <= MAX_STEPS && steps(*key, pos) == anchor
        } else {
            false
        };
        if !genuine {
            return Disclosure::Wrong;
        }
        if s != known_s {
            self.next = None;
        }
        self.trusted = (i, *key);
        Disclosure::Fresh
    }

    /// Holds the content of beat `i`, arrived at `now`, until its key is
    /// disclosed; false (and dropped) if someone may know that key already.
    pub fn hold(
        &mut self,
        i: u64,
        body: Vec<u8>,
        mac: [u8; MAC_LEN],
        now: Instant,
        period: Duration,
    ) -> bool {
        // The sender discloses key(i) no earlier than interval i + DELAY
        // begins. Its presence of interval p was sent at most MAX_DELAY
        // before it arrived, so interval p began after told − MAX_DELAY −
        // period, and interval i + DELAY after that plus (i + DELAY − p)
        // periods.
        let (p, told_at) = self.told;
        let Some(ahead) = (i + DELAY).checked_sub(p + 1) else {
            return false;
        };
        let Ok(ahead) = u32::try_from(ahead) else {
            return false;
        };
        let safe_until = told_at + period.saturating_mul(ahead);
        if now + MAX_DELAY > safe_until || i <= self.trusted.0 {
            return false;
        }
        if self.held.iter().any(|h| h.interval == i) {
            return false;
        }
        if self.held.len() >= MAX_HELD {
            self.held.pop_front();
        }
        self.held.push_back(Held {
            interval: i,
            body,
            mac,
        });
        true
    }

    /// The held beats whose keys are known now, checked.
    pub fn release(&mut self, from: NodeId, epoch: u64) -> Released {
        let (known, known_key) = self.trusted;
        let (known_s, _) = place(known);
        let mut out = Released::default();
        let mut kept = VecDeque::new();
        for held in self.held.drain(..) {
            if held.interval > known {
                kept.push_back(held);
                continue;
            }
            // Only keys of the trusted key's segment follow from it.
            if place(held.interval).0 != known_s || known - held.interval > MAX_STEPS {
                continue;
            }
            let key = steps(known_key, known - held.interval);
            if mac(&key, from, epoch, held.interval, &held.body) == held.mac {
                out.bodies.push((held.interval, held.body));
            } else {
                out.forged += 1;
            }
        }
        self.held = kept;
        out.bodies.sort_by_key(|(i, _)| *i);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Chain {
        Chain::new(Zeroizing::new([7; 32]))
    }

    const T: Duration = Duration::from_secs(1);

    #[test]
    fn each_key_is_the_hash_of_the_next_across_segments() {
        let mut c = chain();
        for i in [
            FIRST,
            63,
            64,
            65,
            1000,
            SEGMENT - 1,
            SEGMENT + 5,
            3 * SEGMENT + 100,
        ] {
            if place(i + 1).0 == place(i).0 {
                assert_eq!(step(&c.key(i + 1)), c.key(i), "interval {i}");
            }
        }
        // A segment's last key hashes down to its anchor, not to the key
        // before in the previous segment.
        assert_eq!(steps(c.key(SEGMENT), 1), c.at(1, 0));
        assert_ne!(step(&c.key(SEGMENT)), c.key(SEGMENT - 1));
        // Another seed, another chain.
        let mut other = Chain::new(Zeroizing::new([8; 32]));
        assert_ne!(other.key(10), c.key(10));
    }

    #[test]
    fn a_disclosed_key_is_genuine_only_if_it_hashes_to_the_trusted_one() {
        let mut c = chain();
        let now = Instant::now();
        let mut t = Tracked::new(&c.point(10), now);
        assert_eq!(t.disclose(8, &c.key(8)), Disclosure::Same);
        assert_eq!(t.disclose(7, &c.key(7)), Disclosure::Old);
        // Three beats lost: still checks.
        assert_eq!(t.disclose(12, &c.key(12)), Disclosure::Fresh);
        assert_eq!(t.disclose(12, &c.key(12)), Disclosure::Same);
        // A made-up key, or a real one named for another interval.
        assert_eq!(t.disclose(13, &[1; KEY_LEN]), Disclosure::Wrong);
        assert_eq!(t.disclose(14, &c.key(13)), Disclosure::Wrong);
        assert_eq!(t.disclose(12, &c.key(11)), Disclosure::Wrong);
        // Another life's chain.
        let mut other = Chain::new(Zeroizing::new([9; 32]));
        assert_eq!(t.disclose(13, &other.key(13)), Disclosure::Wrong);
        // Too far ahead to check: refused, not hashed for ever.
        let far = 12 + MAX_STEPS + 1;
        assert_eq!(t.disclose(far, &c.key(far)), Disclosure::Wrong);
        assert_eq!(
            t.disclose(12 + MAX_STEPS, &c.key(12 + MAX_STEPS)),
            Disclosure::Fresh
        );
    }

    #[test]
    fn the_next_segment_checks_against_the_anchor_presences_gave() {
        let mut c = chain();
        let now = Instant::now();
        // A presence late in segment 0 gives segment 1's anchor.
        let late = SEGMENT - 10;
        let point = c.point(late);
        assert!(point.next.is_some());
        assert!(c.point(100).next.is_none());
        let mut t = Tracked::new(&point, now);
        assert_eq!(
            t.disclose(SEGMENT - 5, &c.key(SEGMENT - 5)),
            Disclosure::Fresh
        );
        assert_eq!(
            t.disclose(SEGMENT + 3, &c.key(SEGMENT + 3)),
            Disclosure::Fresh
        );
        assert_eq!(
            t.disclose(SEGMENT + 4, &c.key(SEGMENT + 4)),
            Disclosure::Fresh
        );
        // Without the anchor, a key of the next segment cannot be checked.
        let mut blind = Tracked::new(&c.point(100), now);
        assert_eq!(
            blind.disclose(SEGMENT + 1, &c.key(SEGMENT + 1)),
            Disclosure::Wrong
        );
        // A presence just after the switch still names the anchor (its
        // disclosed key is of the segment before).
        let after = c.point(SEGMENT + 1);
        assert!(after.next.is_some());
        let mut t = Tracked::new(&after, now);
        assert_eq!(
            t.disclose(SEGMENT + 2, &c.key(SEGMENT + 2)),
            Disclosure::Fresh
        );
    }

    #[test]
    fn the_interval_comes_back_from_its_lowest_byte_across_the_wrap() {
        let mut c = chain();
        let now = Instant::now();
        let t = Tracked::new(&c.point(254), now);
        for (i, at) in [
            (253u64, 0u64),
            (254, 0),
            (255, 1),
            (256, 1),
            (257, 2),
            (258, 3),
        ] {
            let then = now + T * at as u32;
            assert_eq!(t.interval(i as u8, then, T), i, "interval {i} at +{at}s");
        }
        assert!(t.timely(255, now + 3 * T, T));
        assert!(!t.timely(250, now + 5 * T, T));
    }

    #[test]
    fn content_is_taken_only_once_its_key_checks_and_if_it_came_in_time() {
        let mut c = chain();
        let (from, epoch) = (NodeId([3; 16]), 5);
        let start = Instant::now();
        // The presence of interval 10 arrived at the start of it.
        let mut t = Tracked::new(&c.point(10), start);
        let body = b"tails".to_vec();
        let beat = |c: &mut Chain, i: u64, body: &[u8]| mac(&c.key(i), from, epoch, i, body);
        // Beat 11, in the middle of interval 11: held.
        let at = start + T + T / 2;
        let m = beat(&mut c, 11, &body);
        assert!(t.hold(11, body.clone(), m, at, T));
        assert_eq!(t.release(from, epoch), Released::default());
        // Beat 13 discloses key(11): beat 11 is released.
        assert_eq!(t.disclose(11, &c.key(11)), Disclosure::Fresh);
        let released = t.release(from, epoch);
        assert_eq!(released.bodies, vec![(11, body.clone())]);
        assert_eq!(released.forged, 0);
        // A beat made up with a disclosed key is refused by the clock: it
        // names interval 11 when interval 13 has begun.
        let late = start + 3 * T + T / 2;
        assert!(!t.hold(11, b"forged".to_vec(), beat(&mut c, 11, b"forged"), late, T));
        assert!(!t.hold(12, b"x".to_vec(), beat(&mut c, 12, b"x"), start + 4 * T, T));
        // A beat whose MAC is wrong is counted, not taken.
        assert!(t.hold(14, body.clone(), [0; MAC_LEN], start + 4 * T + T / 2, T));
        assert_eq!(t.disclose(14, &c.key(14)), Disclosure::Fresh);
        let released = t.release(from, epoch);
        assert_eq!((released.bodies.len(), released.forged), (0, 1));
        // Another sender's or life's MAC does not pass either.
        assert_ne!(
            mac(&c.key(15), from, epoch + 1, 15, &body),
            beat(&mut c, 15, &body)
        );
    }

    #[test]
    fn a_later_presence_moves_the_trusted_key_and_the_clock_mark() {
        let mut c = chain();
        let now = Instant::now();
        let mut t = Tracked::new(&c.point(10), now);
        // A later presence that arrived earlier in its interval moves the
        // mark; one that came later in its interval does not.
        t.told(&c.point(20), now + 10 * T - T / 4, T);
        assert_eq!(t.expected(now + 11 * T - T / 4, T), 21);
        t.told(&c.point(25), now + 15 * T, T);
        assert_eq!(t.expected(now + 16 * T - T / 4, T), 26);
        assert_eq!(t.expected(now + 16 * T - T / 2, T), 25);
        assert_eq!(t.disclose(23, &c.key(23)), Disclosure::Same);
        // Thirty intervals on, a presence moves it whatever its place.
        t.told(&c.point(50), now + 41 * T, T);
        assert_eq!(t.expected(now + 41 * T, T), 50);
        // An older presence, arrived late, changes neither.
        t.told(&c.point(30), now + 42 * T, T);
        assert_eq!(t.expected(now + 42 * T, T), 51);
        assert_eq!(t.disclose(48, &c.key(48)), Disclosure::Same);
    }

    #[test]
    fn an_interval_began_by_the_mark_plus_the_intervals_since() {
        let mut c = chain();
        let now = Instant::now();
        let t = Tracked::new(&c.point(10), now);
        assert_eq!(t.began_by(10, T), Some(now));
        assert_eq!(t.began_by(12, T), Some(now + 2 * T));
        assert_eq!(t.began_by(9, T), None);
    }

    #[test]
    fn intervals_count_from_the_start_of_a_life() {
        let start = Instant::now();
        assert_eq!(interval_at(start, start, T), FIRST);
        assert_eq!(interval_at(start, start + T * 3 + T / 2, T), FIRST + 3);
        assert_eq!(interval_start(start, FIRST + 3, T), start + T * 3);
        assert_eq!(tag(NodeId([1; 16]), 1), tag(NodeId([1; 16]), 1));
        assert_ne!(tag(NodeId([1; 16]), 1), tag(NodeId([1; 16]), 2));
    }
}
