//! The LAN's time, so that one wrong clock does not reorder a conversation.
//!
//! A message is stamped by its author ([`crate::hlc`]) and every node files
//! and keeps it under that stamp, live, in history and in catch-up, so the
//! order of a chat is the same everywhere. That order is causal only if the
//! author's clock agrees with the others': a PC an hour ahead would stamp
//! its answer after the thanks for it (the thanks' author clamps what it
//! believes of a stamp to 2 s past its own clock), and a PC ten minutes
//! behind would stamp its answer before the question.
//!
//! So each node stamps by the LAN's time, not its own clock. Every signed
//! presence tells when its sender's life began by that sender's clock
//! (`since_ms`) and how many heartbeat intervals ago (its chain interval):
//! their sum is the sender's clock now, to within an interval. The LAN's
//! time is the median of every online node's clock, mine included (the
//! lower one of the middle two when they are even, so two nodes agree on
//! which of them is right); where it is more than [`MAX_AHEAD_MS`] off
//! mine, my stamps follow it. One clock far off, or a few, cannot move the
//! median; a node alone keeps its own clock.
//!
//! A node's wall clock is read once, at its start: an NTP correction in
//! the middle of a run moves nothing until the next start.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::Node;
use crate::chain;
use crate::hlc::MAX_AHEAD_MS;
use crate::types::NodeId;
use crate::wire::Presence;

/// How long the LAN's offset is used before it is worked out again (a sort
/// of every peer's offset: not per datagram).
const RECOMPUTE: Duration = Duration::from_secs(1);

/// Every online peer's clock against mine.
#[derive(Debug, Default)]
pub(super) struct Clocks {
    /// Its clock minus mine, in ms, from its latest signed presence.
    offsets: BTreeMap<NodeId, i64>,
    /// The LAN's offset from mine (0 when within [`MAX_AHEAD_MS`]), and
    /// when it was worked out.
    lan: Option<(Instant, i64)>,
}

impl Clocks {
    /// The lower median of the offsets, mine (0) included.
    fn median(&self) -> i64 {
        let mut all: Vec<i64> = self.offsets.values().copied().collect();
        all.push(0);
        all.sort_unstable();
        all[(all.len() - 1) / 2]
    }
}

impl Node {
    /// A signed presence of `id` came: notes its clock against mine.
    pub(super) fn clock_heard(&mut self, now: Instant, id: NodeId, p: &Presence) {
        let heartbeat = self.timing.heartbeat.as_millis() as u64;
        let intervals = p.chain.interval.saturating_sub(chain::FIRST);
        // Sent somewhere in its interval: the middle is the best guess.
        let theirs = p
            .since_ms
            .saturating_add(intervals.saturating_mul(heartbeat))
            .saturating_add(heartbeat / 2);
        let mine = self.wall_ms(now);
        let offset =
            i64::try_from(theirs).unwrap_or(i64::MAX) - i64::try_from(mine).unwrap_or(i64::MAX);
        self.clocks.offsets.insert(id, offset);
    }

    /// `id` went offline: its clock no longer counts.
    pub(super) fn clock_gone(&mut self, id: NodeId) {
        self.clocks.offsets.remove(&id);
    }

    /// How far `id`'s clock is from the LAN's, in ms, if known, given the
    /// LAN's offset from mine ([`Node::lan_offset_now`]).
    pub(super) fn clock_off(&self, id: NodeId, lan: i64) -> Option<i64> {
        self.clocks.offsets.get(&id).map(|o| o - lan)
    }

    /// [`Node::lan_offset`], worked out now (for a report).
    pub(super) fn lan_offset_now(&self) -> i64 {
        let median = self.clocks.median();
        if median.unsigned_abs() > MAX_AHEAD_MS {
            median
        } else {
            0
        }
    }

    /// The LAN's time from my clock's offset to it, in ms (0 while my
    /// clock agrees within [`MAX_AHEAD_MS`]).
    pub(super) fn lan_offset(&mut self, now: Instant) -> i64 {
        if let Some((at, offset)) = self.clocks.lan
            && now.saturating_duration_since(at) < RECOMPUTE
        {
            return offset;
        }
        let offset = self.lan_offset_now();
        if self.clocks.lan.is_none_or(|(_, was)| was != offset) && offset != 0 {
            tracing::debug!(
                offset_ms = offset,
                "my clock is off the LAN's; stamping by the LAN's"
            );
        }
        self.clocks.lan = Some((now, offset));
        offset
    }

    /// The LAN's time now, in ms since the Unix epoch: what stamps follow.
    pub(super) fn lan_wall_ms(&mut self, now: Instant) -> u64 {
        let offset = self.lan_offset(now);
        self.wall_ms(now).saturating_add_signed(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(k: u8) -> NodeId {
        NodeId([k; 16])
    }

    fn clocks(offsets: &[i64]) -> Clocks {
        Clocks {
            offsets: offsets
                .iter()
                .enumerate()
                .map(|(k, o)| (id(k as u8), *o))
                .collect(),
            lan: None,
        }
    }

    #[test]
    fn the_lans_time_is_the_median_clock_and_one_far_off_does_not_move_it() {
        // I am an hour ahead of everyone else: I follow them.
        let hour = 3_600_000;
        assert_eq!(clocks(&[-hour, -hour + 300, -hour - 200]).median(), -hour);
        // One of them is an hour ahead: it moves nothing.
        assert_eq!(clocks(&[hour, 100, -300]).median(), 0);
        // Two: the lower clock is the LAN's, seen alike from both sides.
        assert_eq!(clocks(&[hour]).median(), 0);
        assert_eq!(clocks(&[-hour]).median(), -hour);
        // Alone, my own.
        assert_eq!(clocks(&[]).median(), 0);
    }
}
