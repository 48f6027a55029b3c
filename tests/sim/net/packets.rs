//! Datagrams as the tests make and read them: keys drawn from the seed,
//! host addresses, and packets sealed or opened as a node would.

use std::net::{Ipv4Addr, SocketAddr};

use lanchat::envelope::{self, Datagram, Keys, Opened, Unwrapped, WorkgroupKey};
use lanchat::wire::{DecodeError, Packet};

/// Keys drawn from `rng`, so that a seed replays the same ids.
pub(crate) fn drawn_keys(rng: &mut fastrand::Rng) -> Keys {
    let secret: [u8; 32] = rng
        .u128(..)
        .to_be_bytes()
        .repeat(2)
        .try_into()
        .expect("32 bytes");
    Keys::from_secret(&secret)
}

/// The unicast address of host `index`.
pub(crate) fn address(index: usize) -> SocketAddr {
    SocketAddr::from((
        Ipv4Addr::new(10, 77, (index / 250) as u8, (index % 250 + 1) as u8),
        40000,
    ))
}

/// Opens a datagram as a receiver that trusts its sender: decrypted (in a
/// workgroup) and decoded, its signature not checked.
pub(crate) fn open_trusted(
    bytes: &[u8],
    workgroup: Option<&WorkgroupKey>,
) -> Result<Datagram, DecodeError> {
    envelope::unwrap(bytes, workgroup).map(|u| match u {
        Unwrapped::Signed(u) => Datagram::Signed(Opened {
            packet: u.packet,
            key: u.key,
            counter: u.counter,
            way: u.way,
        }),
        // Checked by the receiver's copy of the sender's chain in any case.
        Unwrapped::Lean(lean) => Datagram::Lean(lean),
    })
}

/// Signs a packet as `keys` would send it, with a counter no test used
/// before (a datagram the node has not seen).
pub(crate) fn seal(keys: &Keys, packet: &Packet) -> Vec<u8> {
    envelope::seal(packet, next_counter(), keys, None).expect("seals")
}

fn next_counter() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1 << 40);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A direct-message fragment from `keys` in life `epoch`, sealed for the
/// node with key `to` as lanchat sends it.
pub(crate) fn seal_direct(
    keys: &Keys,
    epoch: u64,
    to: &envelope::PublicKey,
    msg: &lanchat::wire::DirectMsg,
) -> Vec<u8> {
    let counter = next_counter();
    let (send, _) = keys.direct_keys(to).expect("keys");
    let bytes = send.seal(
        keys.id(),
        to.id(),
        epoch,
        counter,
        &lanchat::wire::encode_direct(msg),
    );
    let packet = Packet {
        from: keys.id(),
        epoch,
        body: lanchat::wire::Body::Sealed { to: to.id(), bytes },
    };
    envelope::seal(&packet, counter, keys, None).expect("seals")
}

/// The packet in a datagram of the open LAN.
pub(crate) fn open(bytes: &[u8]) -> Option<Packet> {
    envelope::open(bytes, None).ok()?.signed().map(|o| o.packet)
}
