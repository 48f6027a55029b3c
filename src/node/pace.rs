//! Pacing: a node never sends its peers more than their guard reads.
//!
//! Every receiver reads at most [`SOURCE_RATE`] datagrams a second from one
//! source address, after a burst of [`SOURCE_BURST`], and drops the rest
//! unread ([`super::guard`]). A sender that outran that (a pasted log, a
//! script, a catch-up) lost most of what it sent, and its repairs with it:
//! delivery stopped for as long as the flood went on (issue 16: 1,833
//! messages in the first second of a 4 s burst, then none).
//!
//! So the sender keeps the same budget for itself, in what its group
//! traffic costs a receiver: each group datagram arrives twice (by
//! multicast and by broadcast, [`GROUP_COPIES`]), and each copy takes a
//! token there. New channel messages wait in the node's queue
//! ([`super::Node::backlog`]) and go out, numbered and sealed then, as the
//! budget allows. Everything else (heartbeats, presences, repairs,
//! acknowledgements) is never held: it goes at once and spends the budget,
//! so a channel burst gives way to it. Unicast is not counted: each peer
//! gets its own, and it is capped where it is made (catch-up, relays).

use std::time::{Duration, Instant};

use super::guard::{SOURCE_BURST, SOURCE_RATE};

/// Copies of one group datagram a receiver reads: multicast and broadcast.
pub(crate) const GROUP_COPIES: f64 = 2.0;
/// The share of a receiver's budget this node plans to use: the rest is
/// margin for clocks that differ and for the unicast a peer also gets.
const SHARE: f64 = 0.9;
/// Tokens per second.
const RATE: f64 = SOURCE_RATE * SHARE;
/// Tokens when rested.
const BURST: f64 = SOURCE_BURST * SHARE;
/// Most debt that traffic sent at once can run up.
const MOST_DEBT: f64 = BURST;

/// The budget, in receiver tokens.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pacer {
    tokens: f64,
    at: Instant,
}

impl Pacer {
    /// A rested budget, as a receiver's for a source it has not heard.
    pub(crate) fn new(now: Instant) -> Pacer {
        Pacer {
            tokens: BURST,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * RATE).min(BURST);
        self.at = self.at.max(now);
    }

    /// Something went at once: spends `cost`, into debt if need be.
    pub(crate) fn spend(&mut self, now: Instant, cost: f64) {
        self.refill(now);
        self.tokens = (self.tokens - cost).max(-MOST_DEBT);
    }

    /// Whether the budget has `cost` now (what waits then goes and
    /// [`Pacer::spend`]s it).
    pub(crate) fn has(&mut self, now: Instant, cost: f64) -> bool {
        self.refill(now);
        self.tokens >= cost
    }

    /// When the budget next has `cost`.
    pub(crate) fn ready_at(&self, cost: f64) -> Instant {
        let short = (cost - self.tokens).max(0.0);
        // Rounded up, so that the budget has it then.
        self.at + Duration::from_nanos((short / RATE * 1e9).ceil() as u64 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rested_budget_lets_a_burst_go_then_the_rate() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        let mut sent = 0;
        while p.has(t0, GROUP_COPIES) {
            p.spend(t0, GROUP_COPIES);
            sent += 1;
        }
        assert_eq!(sent, (BURST / GROUP_COPIES) as usize);
        // A second later, a second's worth.
        let t1 = t0 + Duration::from_secs(1);
        let mut more = 0;
        while p.has(t1, GROUP_COPIES) {
            p.spend(t1, GROUP_COPIES);
            more += 1;
        }
        assert_eq!(more, (RATE / GROUP_COPIES) as usize);
        // And it says when the next one may go.
        let next = p.ready_at(GROUP_COPIES);
        assert!(
            next > t1 && next <= t1 + Duration::from_millis(3),
            "{next:?}"
        );
        assert!(p.has(next, GROUP_COPIES));
    }

    #[test]
    fn what_goes_at_once_delays_what_waits_but_its_debt_is_bounded() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        for _ in 0..100_000 {
            p.spend(t0, GROUP_COPIES);
        }
        assert!(!p.has(t0, GROUP_COPIES));
        // Out of the deepest debt within two bursts' time.
        let back = p.ready_at(GROUP_COPIES);
        let most = Duration::from_secs_f64((2.0 * BURST + GROUP_COPIES) / RATE);
        assert!(back <= t0 + most, "{:?}", back - t0);
        assert!(p.has(back, GROUP_COPIES));
    }

    #[test]
    fn over_any_second_it_stays_within_what_a_receiver_reads() {
        // A receiver's bucket, as the guard keeps it, takes every copy.
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        let mut receiver = (SOURCE_BURST, t0);
        let mut now = t0;
        // Something that goes at once 20 times a second (beats, repairs),
        // and a channel flood that waits for the budget.
        for step in 0..200_000u64 {
            now = t0 + Duration::from_micros(step * 50);
            if step % 1_000 != 0 && !p.has(now, GROUP_COPIES) {
                continue;
            }
            p.spend(now, GROUP_COPIES);
            let (tokens, at) = &mut receiver;
            let dt = now.saturating_duration_since(*at).as_secs_f64();
            *tokens = (*tokens + dt * SOURCE_RATE).min(SOURCE_BURST);
            *at = now;
            *tokens -= GROUP_COPIES;
            assert!(*tokens >= 0.0, "the receiver would drop a copy at {step}");
        }
        assert!(now > t0 + Duration::from_secs(9));
    }
}
