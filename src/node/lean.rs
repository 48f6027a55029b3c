//! Lean heartbeats ([`crate::chain`]): sending mine once per interval, and
//! taking in peers' (their proof of life at once, their content once its key
//! is disclosed).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tracing::debug;

use super::Node;
use crate::chain::{self, Disclosure};
use crate::envelope::{self, Way};
use crate::protocol::{Dest, Timing};
use crate::types::NodeId;
use crate::wire::{self, LeanBeat};

/// Where in its interval a periodic heartbeat goes: the middle, within the
/// jitter (so consecutive ones are as far apart as the jitter allows).
pub(super) fn beat_offset(timing: &Timing, rng: &mut fastrand::Rng) -> Duration {
    let j = timing.jitter.clamp(0.0, 0.8);
    timing.heartbeat.mul_f64(0.5 - j / 2.0 + rng.f64() * j)
}

impl Node {
    /// My heartbeat interval at `now`.
    pub(super) fn interval(&self, now: Instant) -> u64 {
        chain::interval_at(self.start, now, self.timing.heartbeat)
    }

    /// When the periodic heartbeat after `now` is due: in the middle of the
    /// next interval (within the jitter), so one falls in each interval and
    /// none near an edge, where a receiver could not tell whether its key is
    /// still secret.
    pub(super) fn next_beat_after(&mut self, now: Instant) -> Instant {
        let next = self.interval(now) + 1;
        chain::interval_start(self.start, next, self.timing.heartbeat)
            + beat_offset(&self.timing, &mut self.rng)
    }

    /// Sends a lean heartbeat, if none went out in this interval yet;
    /// false if one did (the caller sends a signed one instead).
    pub(super) fn send_lean(&mut self, dest: Dest, beat: &LeanBeat) -> bool {
        let i = self.interval(self.last_now);
        if self.lean_sent >= i {
            return false;
        }
        let key = self.chain.key(i);
        let disclosed = self.chain.key(i - chain::DELAY);
        match envelope::seal_lean(
            beat,
            self.id,
            self.epoch,
            i,
            &key,
            &disclosed,
            self.workgroup.as_ref(),
        ) {
            Ok(bytes) => {
                self.lean_sent = i;
                self.own_disclosed = Some(disclosed);
                self.push_out(dest, bytes);
                true
            }
            Err(err) => {
                debug!(cause = %err, "lean heartbeat not sent");
                false
            }
        }
    }

    /// A peer probes `target` through me: it has not heard it for a while.
    /// If I heard its lean heartbeat lately, I pass it on as it came: it
    /// proves by itself that the target ran then (SWIM's indirect probe
    /// answered with evidence, not with my word), so a peer that lost the
    /// target's last heartbeats does not count its silence from long
    /// before (a process stopped for a few seconds at 30 % loss).
    /// Returns whether it did (if not, the target is probed instead).
    pub(super) fn vouch(&mut self, now: Instant, target: NodeId, to: SocketAddr) -> bool {
        let fresh = self.timing.suspect_after;
        let Some((at, bytes)) = self.peers.get(target).and_then(|p| p.last_lean.clone()) else {
            return false;
        };
        if now >= at + fresh {
            return false;
        }
        self.transmits.push_back(crate::protocol::Transmit {
            dest: Dest::Unicast(to),
            bytes,
        });
        true
    }

    /// A lean heartbeat (`raw`) arrived from `from`.
    pub(super) fn on_lean(
        &mut self,
        now: Instant,
        from: SocketAddr,
        raw: &[u8],
        lean: envelope::Lean,
    ) {
        if lean.tag == chain::tag(self.id, self.epoch) && self.own_disclosed == Some(lean.key) {
            // My own, looped back.
            self.reach.own(lean.way, now);
            return;
        }
        let period = self.timing.heartbeat;
        let candidates: Vec<NodeId> = self.peers.by_tag(lean.tag).to_vec();
        for id in &candidates {
            let Some(peer) = self.peers.get_mut(*id) else {
                continue;
            };
            let i = peer.chain.interval(lean.low, now, period);
            let Some(disclosed) = i.checked_sub(chain::DELAY) else {
                continue;
            };
            match peer.chain.disclose(disclosed, &lean.key) {
                // Perhaps another life with the same tag.
                Disclosure::Wrong => continue,
                Disclosure::Old => {
                    self.stats.stale += 1;
                    return;
                }
                Disclosure::Same => {
                    self.stats.replayed += 1;
                    // The group copy of what came by unicast first still
                    // shows that the group reaches me from this peer.
                    if lean.way.is_group() && self.reach.doubts(*id, now) {
                        self.reach.heard(*id, Way::Multicast, now);
                    }
                    return;
                }
                Disclosure::Fresh => {}
            }
            let epoch = peer.epoch;
            let home = peer.addr;
            let timely = peer.chain.timely(i, now, period);
            let at_home = peer.is_at(from);
            let began = peer.chain.began_by(i, period);
            if !peer.chain.hold(i, lean.body, lean.mac, now, period) {
                self.stats.late_beats += 1;
            }
            let released = peer.chain.release(*id, epoch);
            self.stats.forged += released.forged as u64;
            // Proof of life only from its own addresses, and only for a
            // beat of about now (a copy held back says nothing of now).
            if timely && at_home {
                self.peers.heard(*id, from, now);
                self.reach.heard(*id, lean.way, now);
                if let Some(peer) = self.peers.get_mut(*id) {
                    peer.last_lean = Some((now, raw.to_vec()));
                }
            } else if timely && let Some(began) = began {
                // Passed on by a peer (an indirect probe's answer): the
                // sender ran when its interval began, by my count at the
                // latest.
                self.peers.alive_at(*id, began.min(now), now);
            }
            self.way_in = lean.way;
            for (_, body) in released.bodies {
                match wire::decode_lean(&body) {
                    Ok(beat) => {
                        self.on_beat(now, *id, epoch, home, beat.seq, &beat.tails);
                        self.maybe_tell_peers(now, *id, beat.knows);
                    }
                    Err(_) => self.stats.malformed += 1,
                }
            }
            return;
        }
        if candidates.is_empty() {
            // Someone I do not know yet: ask who it is.
            self.hello_unknown(now, from);
        } else {
            self.stats.forged += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{Lan, body_name};
    use crate::protocol::CoreEvent;

    /// Between full presences a node says it is alive with lean beats
    /// only: a peer that gets nothing else keeps it online, and takes it
    /// offline once they stop too.
    #[test]
    fn lean_beats_alone_keep_a_peer_online() {
        let mut lan = Lan::new(&["ann", "bob"]);
        lan.run(Duration::from_secs(2));
        assert_eq!(lan.nodes[0].peers().len(), 1);
        let seen = lan.events[0].len();
        // From bob, only lean beats get through, for 40 s.
        lan.lose(|from, _, _, bytes| from == 1 && body_name(bytes) != "Lean");
        lan.run(Duration::from_secs(40));
        assert_eq!(lan.nodes[0].peers().len(), 1, "bob is kept online");
        assert!(
            !lan.since(0, seen)
                .iter()
                .any(|e| matches!(e, CoreEvent::PeerOffline { .. })),
            "never offline meanwhile"
        );
        // Nothing at all from bob: he goes.
        lan.lose(|from, _, _, _| from == 1);
        lan.run(Duration::from_secs(15));
        assert!(lan.nodes[0].peers().is_empty(), "bob is offline");
    }
}
