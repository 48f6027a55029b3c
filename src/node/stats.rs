//! What a node counts of what it received and dropped.

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
