//! What a node counts of what it received and dropped, and what it
//! reports of the network to the doctor.

use std::time::Instant;

use super::Node;
use crate::protocol::{CoreReport, PeerReport};

/// Counters of what the node received and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handled.
    pub datagrams: u64,
    /// Datagrams that did not decode.
    pub malformed: u64,
    /// Datagrams with a bad signature or signed with another node's key.
    pub forged: u64,
    /// Datagrams of another workgroup (or of the open LAN in a workgroup),
    /// and datagrams in the clear about a channel that has a password here.
    pub foreign: u64,
    /// Datagrams about a password channel I am not in (read by nobody here).
    pub hidden: u64,
    /// Datagrams seen before (a replay, or a second copy on another path).
    pub replayed: u64,
    /// Datagrams dropped unread because their source sent too many.
    pub rate_limited: u64,
    /// Packets of an older life, or of a life that said goodbye.
    pub stale: u64,
    /// Lean heartbeats whose content came too late to be checked (their
    /// proof of life still counts).
    pub late_beats: u64,
    /// Packets dropped because a table or buffer was full.
    pub over_capacity: u64,
    /// Fragments that did not fit the message they claimed to continue.
    pub broken_fragments: u64,
    /// Beeps ignored by the rate limit.
    pub beeps_limited: u64,
    /// Direct messages addressed to another node.
    pub misaddressed: u64,
    /// Channel datagrams resent on request.
    pub repairs_sent: u64,
    /// Repair requests sent.
    pub nacks_sent: u64,
    /// Probes of suspected peers sent, directly or through others (each
    /// indirect-probe request counts).
    pub probes_sent: u64,
    /// Peers I took offline on a watcher's word ([`Body::Down`](crate::wire::Body::Down)).
    pub taken_down: u64,
    /// Typing notices not shown: from a sender not online at its own
    /// address, for a channel I am not in, or for someone else's chat.
    pub typing_dropped: u64,
    /// Catch-up comparisons this node started.
    pub syncs_started: u64,
    /// Messages sent to peers that lacked them.
    pub recalls_sent: u64,
    /// Messages not sent for catch-up because the budget was spent (the
    /// next round sends them).
    pub recall_limited: u64,
    /// Messages received by catch-up.
    pub recalled: u64,
    /// Channel messages received again (by catch-up and repair both).
    pub duplicates: u64,
    /// Unicast copies of group traffic not sent: more peers were unheard
    /// than the relay budget allows (they get the next copies in turn).
    pub relays_capped: u64,
    /// Datagrams of another wire version (a node not updated, or updated
    /// before this one): heard, told, not read.
    pub other_version: u64,
}

impl Node {
    /// What the core knows of the network, for the doctor.
    pub fn network(&self, now: Instant) -> CoreReport {
        // One sort of every peer's clock, not one per peer.
        let lan = self.lan_offset_now();
        let peers = self
            .peers
            .iter()
            .map(|(id, p)| {
                let reached = self.reach.reached(*id, now);
                PeerReport {
                    id: *id,
                    label: self.peers.label(*id, self.me()),
                    addrs: p.addrs(),
                    by_group: reached.by_group,
                    hears_me: reached.hears_me,
                    relayed: reached.relayed,
                    clock_off_ms: self.clock_off(*id, lan),
                }
            })
            .collect();
        let (own_multicast_back, own_broadcast_back) = self.reach.own_back(now);
        CoreReport {
            own_multicast_back,
            own_broadcast_back,
            peers,
            unanswered: self.reach.unanswered(),
            malformed: self.stats.malformed,
            forged: self.stats.forged,
            foreign: self.stats.foreign,
            rate_limited: self.stats.rate_limited,
            other_versions: self.versions.recent(now),
            clock_off_ms: -lan,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::Lan;

    /// The doctor's report: each online peer by its label and address,
    /// and what was dropped, counted.
    #[test]
    fn the_network_report_names_the_peers_and_counts_what_was_dropped() {
        let mut lan = Lan::new(&["ann", "bob"]);
        lan.run(Duration::from_secs(2));
        let bob = lan.addr(1);
        lan.inject(0, bob, b"not a datagram");
        let report = lan.nodes[0].network(lan.now);
        assert_eq!(report.peers.len(), 1);
        assert_eq!(report.peers[0].label, "bob");
        assert_eq!(report.peers[0].addrs, [bob]);
        assert!(report.peers[0].by_group);
        assert_eq!(report.malformed, 1);
        assert_eq!(report.clock_off_ms, 0);
    }
}
