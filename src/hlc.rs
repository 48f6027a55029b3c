//! Hybrid logical clock: wall milliseconds in the high 48 bits, a counter in
//! the low 16. Stamps grow strictly on each node and never fall behind a
//! stamp it has seen, so `(hlc, sender)` orders messages across senders the
//! way people read them. A peer whose clock runs far ahead is clamped to
//! [`MAX_AHEAD_MS`] past ours, so it cannot push its messages to the top.

/// How far ahead of our wall clock a received stamp is believed.
pub const MAX_AHEAD_MS: u64 = 2_000;

/// Bits used by the logical counter.
const COUNTER_BITS: u32 = 16;

/// One node's clock state.
#[derive(Clone, Debug, Default)]
pub struct Hlc {
    last: u64,
}

impl Hlc {
    /// A stamp for a local event at wall time `wall_ms`.
    pub fn stamp(&mut self, wall_ms: u64) -> u64 {
        let physical = wall_ms << COUNTER_BITS;
        self.last = physical.max(self.last.saturating_add(1));
        self.last
    }

    /// Takes in a peer's stamp; returns the stamp to file its message under
    /// (clamped when the peer's clock is far ahead).
    pub fn observe(&mut self, remote: u64, wall_ms: u64) -> u64 {
        let ceiling = wall_ms.saturating_add(MAX_AHEAD_MS) << COUNTER_BITS;
        let effective = remote.min(ceiling);
        self.last = self.last.max(effective);
        effective
    }
}

/// The first stamp of a wall time.
pub fn stamp_of(wall_ms: u64) -> u64 {
    wall_ms << COUNTER_BITS
}

/// Wall milliseconds of a stamp.
pub fn wall_ms(stamp: u64) -> u64 {
    stamp >> COUNTER_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_grow_even_when_the_wall_clock_stands_still() {
        let mut c = Hlc::default();
        let a = c.stamp(1000);
        let b = c.stamp(1000);
        let d = c.stamp(999);
        assert!(a < b && b < d);
        assert_eq!(wall_ms(a), 1000);
    }

    #[test]
    fn a_clock_far_ahead_is_clamped() {
        let mut c = Hlc::default();
        let hour = 3_600_000;
        let eff = c.observe((10_000 + hour) << 16, 10_000);
        assert_eq!(wall_ms(eff), 10_000 + MAX_AHEAD_MS);
        // Our next stamp still follows what we have seen.
        assert!(c.stamp(10_001) > eff);
    }
}
