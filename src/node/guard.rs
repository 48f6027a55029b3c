//! What stands between a datagram and the node's state: a rate limit per
//! source address (checked before any cryptography, so a flood costs little),
//! the replay window per sender, and the keys of the peers heard (with the
//! direct-message keys made from them). Every table here is capped.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Instant;

use crate::envelope::{DirectKey, Keys, PublicKey};
use crate::types::NodeId;

/// Datagrams per second one source address may send before the rest is
/// dropped unread. Above what a busy peer sends for long (catch-up at
/// 200/s, every group datagram twice); a 1,000-message burst fits in the
/// burst allowance. A tenth of a 10,000/s flood. Several users on one
/// terminal server share it.
pub const SOURCE_RATE: f64 = 1_000.0;
/// Datagrams a quiet source may send at once.
pub(crate) const SOURCE_BURST: f64 = 4_000.0;
/// Source addresses tracked; when full, idle ones are forgotten, and a new
/// source shares one overflow budget until room is made.
const MAX_SOURCES: usize = 4_096;
/// Least time between two sweeps of a full source table.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// Senders whose replay window is kept (online and recently gone).
pub(super) const MAX_WINDOWS: usize = 4_096;
/// Counters remembered behind the newest one (datagrams that overtake each
/// other on the way by up to this many are still taken).
const WINDOW_BITS: u64 = 1_024;
/// Peer keys remembered.
const MAX_KEYS: usize = 4_096;

/// A token bucket.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(now: Instant) -> Bucket {
        Bucket {
            tokens: SOURCE_BURST,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * SOURCE_RATE).min(SOURCE_BURST);
        self.at = now;
    }

    fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Rate limits per source address.
#[derive(Debug)]
pub(super) struct Sources {
    buckets: HashMap<IpAddr, Bucket>,
    overflow: Bucket,
    /// When the full table was last swept of idle sources: at most once a
    /// second, so spoofed sources cannot make every datagram a full scan.
    swept: Option<Instant>,
}

impl Sources {
    pub(super) fn new(now: Instant) -> Sources {
        Sources {
            buckets: HashMap::new(),
            overflow: Bucket::full(now),
            swept: None,
        }
    }

    /// Whether a datagram from `ip` may be read now.
    pub(super) fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if let Some(bucket) = self.buckets.get_mut(&ip) {
            return bucket.take(now);
        }
        if self.buckets.len() >= MAX_SOURCES
            && self
                .swept
                .is_none_or(|t| now.saturating_duration_since(t) >= SWEEP_EVERY)
        {
            // Forget the sources whose budget is whole again (idle).
            self.swept = Some(now);
            self.buckets.retain(|_, b| {
                b.refill(now);
                b.tokens < SOURCE_BURST
            });
        }
        if self.buckets.len() >= MAX_SOURCES {
            return self.overflow.take(now);
        }
        let mut bucket = Bucket::full(now);
        let allowed = bucket.take(now);
        self.buckets.insert(ip, bucket);
        allowed
    }
}

/// One life's replay window: its newest counter and which of
/// the [`WINDOW_BITS`] before it were seen.
#[derive(Clone, Debug)]
struct Window {
    newest: u64,
    seen: [u64; (WINDOW_BITS / 64) as usize],
    /// When the sender was last heard, to forget the quietest first.
    heard: Instant,
}

impl Window {
    fn new(newest: u64, now: Instant) -> Window {
        let mut w = Window {
            newest,
            seen: [0; (WINDOW_BITS / 64) as usize],
            heard: now,
        };
        w.mark(0);
        w
    }

    fn bit(back: u64) -> (usize, u64) {
        ((back / 64) as usize, 1 << (back % 64))
    }

    fn mark(&mut self, back: u64) {
        let (i, b) = Window::bit(back);
        self.seen[i] |= b;
    }

    /// Moves the window so `counter` is the newest.
    fn advance(&mut self, counter: u64) {
        let shift = counter - self.newest;
        if shift >= WINDOW_BITS {
            self.seen = [0; (WINDOW_BITS / 64) as usize];
        } else {
            // Shift the bit set "back" by `shift` places (bit k → bit k+shift).
            let words = (shift / 64) as usize;
            let bits = shift % 64;
            let n = self.seen.len();
            for i in (0..n).rev() {
                let from = i.checked_sub(words);
                let hi = from.map_or(0, |f| self.seen[f] << bits);
                let lo = match (from.and_then(|f| f.checked_sub(1)), bits) {
                    (Some(f), b) if b > 0 => self.seen[f] >> (64 - b),
                    _ => 0,
                };
                self.seen[i] = hi | lo;
            }
        }
        self.newest = counter;
        self.mark(0);
    }
}

/// Why a datagram was refused as a replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Replay {
    /// New: take it.
    Fresh,
    /// Seen before, or too old to tell.
    Again,
    /// Of a life older than the newest seen of this sender.
    OldLife,
}

/// The replay windows of all senders, one per life (a claimed restart
/// does not shut out the life still running until it is proven), and each
/// sender's newest life: a life older than that with no window is over.
#[derive(Debug, Default)]
pub(super) struct Windows {
    windows: HashMap<(NodeId, u64), Window>,
    newest: HashMap<NodeId, u64>,
}

/// What is kept of a sender across restarts: its newest life and counter.
/// After a restart everything up to it counts as seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The sender.
    pub id: NodeId,
    /// Its newest life seen.
    pub epoch: u64,
    /// Its newest counter seen in that life.
    pub counter: u64,
}

impl Windows {
    /// Windows as they were persisted: all up to each mark seen.
    pub(super) fn restore(marks: &[Seen], now: Instant) -> Windows {
        let mut w = Windows::default();
        for m in marks.iter().take(MAX_WINDOWS) {
            let mut window = Window::new(m.counter, now);
            window.seen = [u64::MAX; (WINDOW_BITS / 64) as usize];
            w.windows.insert((m.id, m.epoch), window);
            w.newest.insert(m.id, m.epoch);
        }
        w
    }

    /// What [`Windows::check`] would say, recording nothing.
    pub(super) fn peek(&self, id: NodeId, epoch: u64, counter: u64) -> Replay {
        let Some(w) = self.windows.get(&(id, epoch)) else {
            return if self.newest.get(&id).is_some_and(|n| epoch < *n) {
                Replay::OldLife
            } else {
                Replay::Fresh
            };
        };
        if counter > w.newest {
            return Replay::Fresh;
        }
        let back = w.newest - counter;
        if back >= WINDOW_BITS {
            return Replay::Again;
        }
        let (i, b) = Window::bit(back);
        if w.seen[i] & b != 0 {
            Replay::Again
        } else {
            Replay::Fresh
        }
    }

    /// Checks datagram `counter` of `id` in life `epoch` and, when fresh,
    /// records it.
    pub(super) fn check(&mut self, id: NodeId, epoch: u64, counter: u64, now: Instant) -> Replay {
        let verdict = self.peek(id, epoch, counter);
        if verdict != Replay::Fresh {
            return verdict;
        }
        if let Some(w) = self.windows.get_mut(&(id, epoch)) {
            w.heard = now;
            if counter > w.newest {
                w.advance(counter);
            } else {
                w.mark(w.newest - counter);
            }
            return Replay::Fresh;
        }
        if self.windows.len() >= MAX_WINDOWS {
            // Forget the life heard longest ago.
            if let Some(oldest) = self
                .windows
                .iter()
                .min_by_key(|(_, w)| w.heard)
                .map(|(key, _)| *key)
            {
                self.windows.remove(&oldest);
            }
            if self.newest.len() >= MAX_WINDOWS {
                let live: std::collections::HashSet<NodeId> =
                    self.windows.keys().map(|(id, _)| *id).collect();
                self.newest.retain(|id, _| live.contains(id));
            }
        }
        self.windows.insert((id, epoch), Window::new(counter, now));
        let newest = self.newest.entry(id).or_insert(epoch);
        *newest = (*newest).max(epoch);
        Replay::Fresh
    }

    /// What to persist: each sender's newest life and counter.
    pub(super) fn marks(&self) -> Vec<Seen> {
        let mut marks: Vec<Seen> = self
            .windows
            .iter()
            .filter(|((id, epoch), _)| self.newest.get(id) == Some(epoch))
            .map(|((id, epoch), w)| Seen {
                id: *id,
                epoch: *epoch,
                counter: w.newest,
            })
            .collect();
        marks.sort_by_key(|m| m.id);
        marks
    }
}

/// Peers' public keys and the direct-message keys made from them.
#[derive(Debug, Default)]
pub(super) struct KeyBook {
    keys: HashMap<NodeId, PublicKey>,
    direct: HashMap<NodeId, (DirectKey, DirectKey)>,
    /// Ids in the order their keys were learnt (the oldest goes first).
    order: VecDeque<NodeId>,
}

impl KeyBook {
    /// Remembers the key of peer `id`, which a checked datagram showed to
    /// be the key's id (so a key once learnt for an id is the only one it
    /// can have). When full, the oldest key not `in_use` is forgotten: a
    /// flood of made-up identities cannot push out the keys of the people
    /// online, whose messages are checked with them.
    pub(super) fn learn(&mut self, id: NodeId, key: PublicKey, in_use: impl Fn(NodeId) -> bool) {
        if self.keys.contains_key(&id) {
            return;
        }
        if self.keys.len() >= MAX_KEYS {
            // At most one pass over the book: if every key is in use, the
            // oldest goes all the same.
            for _ in 0..self.order.len() {
                let Some(old) = self.order.pop_front() else {
                    break;
                };
                if in_use(old) {
                    self.order.push_back(old);
                    continue;
                }
                self.keys.remove(&old);
                self.direct.remove(&old);
                break;
            }
            if self.keys.len() >= MAX_KEYS
                && let Some(old) = self.order.pop_front()
            {
                self.keys.remove(&old);
                self.direct.remove(&old);
            }
        }
        self.keys.insert(id, key);
        self.order.push_back(id);
    }

    /// A peer's key, if heard.
    pub(super) fn get(&self, id: NodeId) -> Option<PublicKey> {
        self.keys.get(&id).copied()
    }

    /// The keys to write to and read from `id` (made on first use).
    pub(super) fn direct(&mut self, me: &Keys, id: NodeId) -> Option<&(DirectKey, DirectKey)> {
        if !self.direct.contains_key(&id) {
            let pair = me.direct_keys(self.keys.get(&id)?)?;
            self.direct.insert(id, pair);
        }
        self.direct.get(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn id(n: u8) -> NodeId {
        NodeId([n; 16])
    }

    #[test]
    fn a_flood_of_new_keys_does_not_push_out_the_keys_in_use() {
        let key = |n: u32| PublicKey([n as u8; 32]);
        let nid = |n: u32| {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&n.to_le_bytes());
            NodeId(id)
        };
        let mut book = KeyBook::default();
        let online = [nid(0), nid(1)];
        let in_use = |id: NodeId| online.contains(&id);
        for n in 0..(MAX_KEYS as u32 * 3) {
            book.learn(nid(n), key(n), in_use);
        }
        assert_eq!(book.keys.len(), MAX_KEYS);
        assert_eq!(book.get(nid(0)), Some(key(0)));
        assert_eq!(book.get(nid(1)), Some(key(1)));
        // The oldest of the others went; the newest are there.
        assert_eq!(book.get(nid(2)), None);
        let last = MAX_KEYS as u32 * 3 - 1;
        assert_eq!(book.get(nid(last)), Some(key(last)));
    }

    #[test]
    fn each_counter_is_taken_once_in_any_order() {
        let now = Instant::now();
        let mut w = Windows::default();
        assert_eq!(w.check(id(1), 5, 10, now), Replay::Fresh);
        assert_eq!(w.check(id(1), 5, 10, now), Replay::Again);
        assert_eq!(w.check(id(1), 5, 12, now), Replay::Fresh);
        // 11 overtaken by 12: still taken, once.
        assert_eq!(w.check(id(1), 5, 11, now), Replay::Fresh);
        assert_eq!(w.check(id(1), 5, 11, now), Replay::Again);
        assert_eq!(w.check(id(1), 5, 12, now), Replay::Again);
        // Far ahead, then one just inside the window and one just behind.
        assert_eq!(w.check(id(1), 5, 5_000, now), Replay::Fresh);
        assert_eq!(w.check(id(1), 5, 5_000 - 1_023, now), Replay::Fresh);
        assert_eq!(w.check(id(1), 5, 5_000 - 1_023, now), Replay::Again);
        assert_eq!(
            w.check(id(1), 5, 5_000 - 1_024, now),
            Replay::Again,
            "behind the window"
        );
        assert_eq!(w.check(id(1), 5, 4_935, now), Replay::Fresh);
        assert_eq!(w.check(id(1), 5, 4_935, now), Replay::Again);
        // An older life is refused; a newer one starts its own window, and
        // the life before it keeps its own (a claimed restart is proven later).
        assert_eq!(w.check(id(1), 4, 99_999, now), Replay::OldLife);
        assert_eq!(w.check(id(1), 6, 1, now), Replay::Fresh);
        assert_eq!(w.check(id(1), 6, 1, now), Replay::Again);
        assert_eq!(w.check(id(1), 5, 5_001, now), Replay::Fresh);
        assert_eq!(w.check(id(1), 5, 5_001, now), Replay::Again);
        assert_eq!(
            w.marks(),
            vec![Seen {
                id: id(1),
                epoch: 6,
                counter: 1
            }]
        );
    }

    #[test]
    fn the_window_matches_a_set_of_seen_counters() {
        let now = Instant::now();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut w = Windows::default();
        let mut seen = std::collections::BTreeSet::new();
        let mut newest = 0u64;
        for _ in 0..20_000 {
            let c = (newest + 40).saturating_sub(rng.u64(..2_000)).max(1);
            let fresh = w.check(id(2), 1, c, now) == Replay::Fresh;
            let expected = if newest > 0 && c + WINDOW_BITS <= newest {
                false
            } else {
                !seen.contains(&c)
            };
            assert_eq!(fresh, expected, "counter {c}, newest {newest}");
            if fresh {
                seen.insert(c);
                newest = newest.max(c);
            }
        }
    }

    #[test]
    fn peek_tells_what_check_would_say_without_recording() {
        let now = Instant::now();
        let mut w = Windows::default();
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..5_000 {
            let (epoch, counter) = (rng.u64(1..3), rng.u64(1..3_000));
            let seen = w.peek(id(4), epoch, counter);
            assert_eq!(seen, w.peek(id(4), epoch, counter), "peek records nothing");
            assert_eq!(seen, w.check(id(4), epoch, counter, now));
        }
    }

    #[test]
    fn restored_marks_refuse_everything_up_to_them() {
        let now = Instant::now();
        let mut w = Windows::default();
        for c in 1..=50 {
            w.check(id(3), 9, c, now);
        }
        let mut back = Windows::restore(&w.marks(), now);
        assert_eq!(back.check(id(3), 9, 50, now), Replay::Again);
        assert_eq!(back.check(id(3), 9, 7, now), Replay::Again);
        assert_eq!(back.check(id(3), 8, 60, now), Replay::OldLife);
        assert_eq!(back.check(id(3), 9, 51, now), Replay::Fresh);
    }

    #[test]
    fn a_flooding_source_is_cut_to_its_rate_and_others_are_not() {
        let t0 = Instant::now();
        let mut s = Sources::new(t0);
        let flood: IpAddr = "10.0.0.66".parse().expect("ip");
        let good: IpAddr = "10.0.0.7".parse().expect("ip");
        let mut allowed = 0;
        // 10,000 a second for 3 s.
        for i in 0..30_000u32 {
            let now = t0 + Duration::from_micros(u64::from(i) * 100);
            if s.allow(flood, now) {
                allowed += 1;
            }
            if i % 100 == 0 {
                assert!(s.allow(good, now));
            }
        }
        let most = SOURCE_BURST + 3.0 * SOURCE_RATE + 1.0;
        assert!(f64::from(allowed) <= most, "{allowed}");
        assert!(f64::from(allowed) >= most - 10.0, "{allowed}");
    }

    #[test]
    fn spoofed_sources_cannot_grow_the_table() {
        let t0 = Instant::now();
        let mut s = Sources::new(t0);
        for i in 0..100_000u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            s.allow(ip, t0);
        }
        assert!(s.buckets.len() <= MAX_SOURCES);
    }
}
