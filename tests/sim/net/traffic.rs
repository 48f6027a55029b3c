//! What the hosts of the simulation send, counted as it leaves their core:
//! datagrams, frames and bytes per host, and datagrams by kind.

use std::iter::Sum;
use std::ops::{Add, Sub};

use lanchat::envelope;
use lanchat::protocol::Dest;

/// Ethernet (14), IPv4 (20) and UDP (8) header bytes of one datagram.
pub(crate) const FRAME_OVERHEAD: u64 = 42;

/// What one host's core sent (or, summed, all of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Traffic {
    /// Datagrams to the group (multicast, broadcast or both: one each).
    pub(crate) group: u64,
    /// The frames they make on one interface: a `Dest::Group` datagram
    /// goes out twice, by multicast and by broadcast.
    pub(crate) group_frames: u64,
    /// Payload (UDP) bytes of those frames.
    pub(crate) group_bytes: u64,
    /// Unicast datagrams, one frame each.
    pub(crate) unicast: u64,
    /// Their payload bytes.
    pub(crate) unicast_bytes: u64,
}

impl Traffic {
    /// Counts one datagram of `len` bytes sent to `dest`.
    pub(crate) fn count(&mut self, dest: Dest, len: usize) {
        let len = len as u64;
        match dest {
            Dest::Unicast(_) => {
                self.unicast += 1;
                self.unicast_bytes += len;
            }
            Dest::Group | Dest::Multicast | Dest::Broadcast => {
                let frames = if dest == Dest::Group { 2 } else { 1 };
                self.group += 1;
                self.group_frames += frames;
                self.group_bytes += frames * len;
            }
        }
    }

    /// Frames on one interface's wire.
    pub(crate) fn frames(&self) -> u64 {
        self.group_frames + self.unicast
    }

    /// Bytes on one interface's wire, each frame's Ethernet, IPv4 and UDP
    /// headers included.
    pub(crate) fn wire(&self) -> u64 {
        self.group_bytes + self.unicast_bytes + self.frames() * FRAME_OVERHEAD
    }
}

impl Add for Traffic {
    type Output = Traffic;

    fn add(self, other: Traffic) -> Traffic {
        Traffic {
            group: self.group + other.group,
            group_frames: self.group_frames + other.group_frames,
            group_bytes: self.group_bytes + other.group_bytes,
            unicast: self.unicast + other.unicast,
            unicast_bytes: self.unicast_bytes + other.unicast_bytes,
        }
    }
}

impl Sum for Traffic {
    fn sum<I: Iterator<Item = Traffic>>(iter: I) -> Traffic {
        iter.fold(Traffic::default(), Add::add)
    }
}

/// What was sent between two counts: the later minus the earlier.
impl Sub for Traffic {
    type Output = Traffic;

    fn sub(self, earlier: Traffic) -> Traffic {
        Traffic {
            group: self.group - earlier.group,
            group_frames: self.group_frames - earlier.group_frames,
            group_bytes: self.group_bytes - earlier.group_bytes,
            unicast: self.unicast - earlier.unicast,
            unicast_bytes: self.unicast_bytes - earlier.unicast_bytes,
        }
    }
}

/// What a datagram is, in two words: how it goes and its body's variant
/// ("group Presence", "unicast Probe"), read without checking the
/// signature (cheap). A lean beat says whose it is: the sender's own
/// (`own_tag`: a unicast one is a relayed copy) or another's (passed on by
/// a helper).
pub(crate) fn kind(dest: Dest, bytes: &[u8], own_tag: u32) -> String {
    let way = match dest {
        Dest::Unicast(_) => "unicast",
        Dest::Group | Dest::Multicast | Dest::Broadcast => "group",
    };
    let body = envelope::unwrap(bytes, None).map_or_else(
        |_| "sealed or foreign".to_string(),
        |u| match u {
            envelope::Unwrapped::Signed(u) => format!("{:?}", u.packet.body)
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or_default()
                .to_string(),
            envelope::Unwrapped::Lean(lean) if lean.tag == own_tag => "Lean:own".to_string(),
            envelope::Unwrapped::Lean(_) => "Lean:passed-on".to_string(),
        },
    );
    format!("{way} {body}")
}
