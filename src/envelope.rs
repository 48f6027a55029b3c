//! The envelope around every datagram: the sender's public key, a counter
//! against replays and an Ed25519 signature over all of it; with a
//! workgroup, the whole is also encrypted and authenticated with the
//! workgroup's key. Direct messages inside are sealed once more, for the
//! recipient only ([`DirectKey`]). Pure: no I/O, no clock, no randomness
//! (nonces come from the sender's epoch and counter, which never repeat).
//!
//! ```text
//! open LAN:   MAGIC(4) VERSION(1) FLAGS=0 | packet | counter(8) | key(32) | signature(64)
//! workgroup:  MAGIC(4) VERSION(1) FLAGS=1 | nonce(24) | XChaCha20-Poly1305(the same inner part)
//! lean beat:  MAGIC(4) VERSION(1) FLAGS=2 | tag(4) | interval(1) | content | MAC(8) | key(12)
//! in a workgroup: FLAGS=3 | nonce(24) | XChaCha20-Poly1305(the lean beat's inner part)
//! ```
//!
//! A lean beat ([`Lean`]) is the idle heartbeat: instead of the key and
//! signature it carries its sender's short tag, the lowest byte of its
//! interval, a MAC made with that interval's key of the sender's key chain,
//! and an earlier key of that chain, disclosed ([`crate::chain`]).
//!
//! The signature covers the header and everything before it; the node id
//! in the packet must be the id of the key ([`PublicKey::id`]), so nobody
//! can speak for a node without its secret key.
//!
//! The one exception is the way hint in bits 4–5 of FLAGS ([`Way`]): how the
//! datagram was sent (multicast, broadcast or unicast). The driver stamps it
//! on each copy it sends ([`stamp`]), after signing, so it is neither signed
//! nor encrypted, and is read as zero for both. It is a hint for the
//! receiver's picture of the network (which peers its group traffic reaches;
//! the doctor), never for what a packet means.

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::chain::{self, ChainKey, KEY_LEN, MAC_LEN};
use crate::types::{MessageKind, MsgId, NodeId};
use crate::wire::{self, DecodeError, EncodeError, LeanBeat, MAGIC, MAX_DATAGRAM, Packet, VERSION};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 6;
/// Header flag: the rest is encrypted with the workgroup key.
const FLAG_WORKGROUP: u8 = 1;
/// Header flag: a lean heartbeat, not a signed packet.
const FLAG_LEAN: u8 = 2;
/// Whether `bytes` is a lean heartbeat by its header (checked by the
/// sender's key chain, not by a signature), as far as the header tells:
/// for a cost model, not for trust.
pub fn is_lean(bytes: &[u8]) -> bool {
    bytes.len() > HEADER_LEN && bytes[..4] == MAGIC && bytes[5] & FLAG_LEAN != 0
}
/// Where in FLAGS the way hint lives.
const WAY_SHIFT: u8 = 4;
/// The bits of FLAGS that hold the way hint.
const WAY_MASK: u8 = 0b11 << WAY_SHIFT;

/// How a datagram was sent, as its sender's driver stamped it ([`stamp`]).
/// Unsigned: someone on the path can change it, so it only ever decides how
/// to reach a peer, never what a packet means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Way {
    /// To the multicast group (also what an unstamped datagram reads as).
    #[default]
    Multicast,
    /// To a subnet's broadcast address.
    Broadcast,
    /// To one node's socket.
    Unicast,
}

impl Way {
    /// By the group (multicast or broadcast), as opposed to unicast.
    pub fn is_group(self) -> bool {
        self != Way::Unicast
    }

    fn bits(self) -> u8 {
        let n = match self {
            Way::Multicast => 0,
            Way::Broadcast => 1,
            Way::Unicast => 2,
        };
        n << WAY_SHIFT
    }

    fn of_flags(flags: u8) -> Way {
        match (flags & WAY_MASK) >> WAY_SHIFT {
            1 => Way::Broadcast,
            2 => Way::Unicast,
            _ => Way::Multicast,
        }
    }
}

/// Marks a sealed datagram with the way it is about to be sent; the
/// signature and the workgroup's tag stay valid. Bytes that are not a
/// datagram are left alone.
pub fn stamp(bytes: &mut [u8], way: Way) {
    if bytes.len() >= HEADER_LEN && bytes[..4] == MAGIC {
        bytes[5] = (bytes[5] & !WAY_MASK) | way.bits();
    }
}

/// The way hint of a datagram (multicast when there is none).
pub fn way_of(bytes: &[u8]) -> Way {
    bytes.get(5).map_or(Way::Multicast, |f| Way::of_flags(*f))
}
/// Bytes after the packet: counter, public key, signature.
pub const TRAILER_LEN: usize = 8 + 32 + 64;
/// Bytes a workgroup adds: the nonce and the tag.
pub const WORKGROUP_LEN: usize = 24 + 16;
/// Bytes a lean beat's envelope puts around its content: tag, interval,
/// MAC and disclosed key.
pub const LEAN_LEN: usize = 4 + 1 + MAC_LEN + KEY_LEN;
/// Bytes the envelope adds to a packet at most.
pub const OVERHEAD: usize = HEADER_LEN + TRAILER_LEN + WORKGROUP_LEN;
const _: () = assert!(OVERHEAD == wire::ENVELOPE_OVERHEAD, "the wire's budget");

/// A node's public key (Ed25519).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// The node id of this key: the first 16 bytes of its SHA-256.
    pub fn id(&self) -> NodeId {
        let digest = Sha256::new()
            .chain_update(b"lanchat node id\0")
            .chain_update(self.0)
            .finalize();
        let mut id = [0; 16];
        id.copy_from_slice(&digest[..16]);
        NodeId(id)
    }

    /// What two people read aloud to check they see the same key: 20 hex
    /// digits of its SHA-256 in groups of four ("3f2a 9c01 …").
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"lanchat fingerprint\0")
            .chain_update(self.0)
            .finalize();
        digest[..10]
            .chunks(2)
            .map(hex::encode)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// This installation's key pair. The secret never leaves the data directory
/// and the node (Debug shows only the public half).
#[derive(Clone)]
pub struct Keys {
    signing: SigningKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({})", self.public().fingerprint())
    }
}

impl Keys {
    /// Signs a channel message I wrote ([`AuthorSig`]).
    pub fn sign_message(
        &self,
        channel: &str,
        id: MsgId,
        hlc: u64,
        kind: MessageKind,
        text: &str,
    ) -> AuthorSig {
        let signed = message_signed_bytes(self.id(), channel, id, hlc, kind, text);
        AuthorSig {
            key: self.public(),
            sig: self.signing.sign(&signed).to_bytes(),
        }
    }

    /// The key pair of a 32-byte secret.
    pub fn from_secret(secret: &[u8; 32]) -> Keys {
        Keys {
            signing: SigningKey::from_bytes(secret),
        }
    }

    /// A new key pair from the operating system's randomness.
    pub fn generate() -> Result<Keys, getrandom::Error> {
        let mut secret = Zeroizing::new([0u8; 32]);
        getrandom::fill(secret.as_mut())?;
        Ok(Keys::from_secret(&secret))
    }

    /// The secret, to be stored.
    pub fn secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The secret seed of my heartbeats' key chain in life `epoch`
    /// ([`crate::chain::Chain`]): from my secret, so nobody else can make it,
    /// and per life, so no two lives share a key.
    pub fn chain_seed(&self, epoch: u64) -> Zeroizing<[u8; 32]> {
        let secret = Zeroizing::new(self.signing.to_bytes());
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"lanchat chain v1"), secret.as_ref());
        let mut seed = Zeroizing::new([0u8; 32]);
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hk.expand(&epoch.to_le_bytes(), seed.as_mut());
        seed
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.public().id()
    }

    /// The key for what I send to `peer` and the one for what it sends me:
    /// X25519 between our keys (the Ed25519 keys on their Montgomery form),
    /// then HKDF-SHA256 per direction. `None` for a key that gives no
    /// secret (a low-order point).
    pub fn direct_keys(&self, peer: &PublicKey) -> Option<(DirectKey, DirectKey)> {
        let shared = self.shared(peer)?;
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"lanchat direct v1"), shared.as_ref());
        let (me, them) = (self.id(), peer.id());
        let derive = |from: NodeId, to: NodeId| {
            let mut info = [0u8; 32];
            info[..16].copy_from_slice(&from.0);
            info[16..].copy_from_slice(&to.0);
            let mut key = Zeroizing::new([0u8; 32]);
            // 32 bytes is always a valid HKDF-SHA256 output length.
            hk.expand(&info, key.as_mut()).ok()?;
            Some(DirectKey {
                cipher: XChaCha20Poly1305::new(key.as_ref().into()),
            })
        };
        Some((derive(me, them)?, derive(them, me)?))
    }

    /// The keys of one file-transfer connection with `peer`: the same
    /// X25519 secret as [`Keys::direct_keys`], expanded with both sides'
    /// random `salt` (so every connection has keys of its own, and a
    /// recorded one cannot be replayed); mine→peer first.
    pub fn stream_keys(&self, peer: &PublicKey, salt: &[u8]) -> Option<(StreamKey, StreamKey)> {
        let shared = self.shared(peer)?;
        let hk = hkdf::Hkdf::<Sha256>::new(Some(salt), shared.as_ref());
        let (me, them) = (self.id(), peer.id());
        let derive = |from: NodeId, to: NodeId| {
            let mut info = [0u8; 47];
            info[..15].copy_from_slice(b"lanchat file v1");
            info[15..31].copy_from_slice(&from.0);
            info[31..].copy_from_slice(&to.0);
            let mut key = Zeroizing::new([0u8; 32]);
            hk.expand(&info, key.as_mut()).ok()?;
            Some(StreamKey {
                cipher: ChaCha20Poly1305::new(key.as_ref().into()),
            })
        };
        Some((derive(me, them)?, derive(them, me)?))
    }

    /// X25519 between my key and `peer`'s (the Ed25519 keys on their
    /// Montgomery form); `None` for a low-order point.
    fn shared(&self, peer: &PublicKey) -> Option<Zeroizing<[u8; 32]>> {
        let theirs = VerifyingKey::from_bytes(&peer.0).ok()?.to_montgomery();
        let shared = Zeroizing::new(theirs.mul_clamped(self.signing.to_scalar_bytes()).0);
        (!shared.iter().all(|b| *b == 0)).then_some(shared)
    }
}

pub use crate::wire::AUTHOR_SIG_LEN;
use keys::message_signed_bytes;
pub use keys::{AuthorSig, ChannelKey, DirectKey, StreamKey, WorkgroupError, WorkgroupKey};

/// A datagram that was opened: its packet, who signed it and its counter.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    /// The packet; `packet.from` is the id of `key`.
    pub packet: Packet,
    /// The sender's public key.
    pub key: PublicKey,
    /// The sender's datagram counter in this epoch.
    pub counter: u64,
    /// How it was sent, as the sender's driver says ([`Way`]).
    pub way: Way,
}

/// Wraps a packet: signed with `keys`, and encrypted when in a workgroup.
pub fn seal(
    packet: &Packet,
    counter: u64,
    keys: &Keys,
    workgroup: Option<&WorkgroupKey>,
) -> Result<Vec<u8>, EncodeError> {
    let body = wire::encode_packet(packet)?;
    let flags = if workgroup.is_some() {
        FLAG_WORKGROUP
    } else {
        0
    };
    let header = [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], VERSION, flags];
    let mut inner = Vec::with_capacity(body.len() + TRAILER_LEN);
    inner.extend_from_slice(&body);
    inner.extend_from_slice(&counter.to_le_bytes());
    inner.extend_from_slice(&keys.public().0);
    let mut signed = Vec::with_capacity(HEADER_LEN + inner.len());
    signed.extend_from_slice(&header);
    signed.extend_from_slice(&inner);
    let signature = keys.signing.sign(&signed);
    inner.extend_from_slice(&signature.to_bytes());
    frame(header, &inner, workgroup, || {
        workgroup_nonce(&keys.public(), packet.epoch, counter)
    })
}

/// The header and then the inner part: as it is on the open LAN, or in a
/// workgroup encrypted under `nonce` (made only then) with the header as
/// associated data; at most [`MAX_DATAGRAM`].
fn frame(
    header: [u8; HEADER_LEN],
    inner: &[u8],
    workgroup: Option<&WorkgroupKey>,
    nonce: impl FnOnce() -> XNonce,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = header.to_vec();
    match workgroup {
        None => out.extend_from_slice(inner),
        Some(wg) => {
            let nonce = nonce();
            let sealed = wg
                .cipher
                .encrypt(
                    &nonce,
                    Payload {
                        msg: inner,
                        aad: &header,
                    },
                )
                .map_err(|_| EncodeError::Encrypt)?;
            out.extend_from_slice(&nonce);
            out.extend_from_slice(&sealed);
        }
    }
    if out.len() > MAX_DATAGRAM {
        return Err(EncodeError::TooLarge(out.len()));
    }
    Ok(out)
}

/// A workgroup nonce: unique per sender, life and datagram.
fn workgroup_nonce(key: &PublicKey, epoch: u64, counter: u64) -> XNonce {
    let digest = Sha256::new()
        .chain_update(b"lanchat workgroup nonce\0")
        .chain_update(key.0)
        .chain_update(epoch.to_le_bytes())
        .chain_update(counter.to_le_bytes())
        .finalize();
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&digest[..24]);
    nonce.into()
}

/// A datagram as it was opened: a signed packet, or a lean heartbeat,
/// whose chain its receiver checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Datagram {
    /// Signed, and the signature checked.
    Signed(Opened),
    /// A lean heartbeat, decoded (its sender's chain checks it).
    Lean(Lean),
}

impl Datagram {
    /// The signed packet, if it is one.
    pub fn signed(self) -> Option<Opened> {
        match self {
            Datagram::Signed(opened) => Some(opened),
            Datagram::Lean(_) => None,
        }
    }
}

/// Opens a datagram: checks the header, decrypts it with the workgroup key
/// (a datagram of the open LAN is refused inside a workgroup, and one of a
/// workgroup outside it), checks the signature and that the key is the
/// sender's, then decodes and checks the packet. A lean heartbeat is only
/// decoded: what checks it is its sender's chain, which the receiver holds.
pub fn open(bytes: &[u8], workgroup: Option<&WorkgroupKey>) -> Result<Datagram, DecodeError> {
    match unwrap(bytes, workgroup)? {
        Unwrapped::Signed(unverified) => unverified.verify().map(Datagram::Signed),
        Unwrapped::Lean(lean) => Ok(Datagram::Lean(lean)),
    }
}

/// A lean heartbeat as it arrived ([`crate::chain`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lean {
    /// Its sender's tag ([`chain::tag`]).
    pub tag: u32,
    /// The lowest byte of its interval.
    pub low: u8,
    /// Its content as encoded (what the MAC covers).
    pub body: Vec<u8>,
    /// Its content.
    pub beat: LeanBeat,
    /// The MAC of the content with the interval's key.
    pub mac: [u8; MAC_LEN],
    /// The key of the interval [`chain::DELAY`] before, disclosed.
    pub key: ChainKey,
    /// How it was sent, as the sender's driver says ([`Way`]).
    pub way: Way,
}

/// Wraps a lean heartbeat of interval `interval`: its content MACed with
/// that interval's `key`, and `disclosed` (the key of interval
/// `interval − chain::DELAY`); encrypted when in a workgroup.
pub fn seal_lean(
    beat: &LeanBeat,
    from: NodeId,
    epoch: u64,
    interval: u64,
    key: &ChainKey,
    disclosed: &ChainKey,
    workgroup: Option<&WorkgroupKey>,
) -> Result<Vec<u8>, EncodeError> {
    let body = wire::encode_lean(beat);
    let mut inner = Vec::with_capacity(body.len() + LEAN_LEN);
    inner.extend_from_slice(&chain::tag(from, epoch).to_le_bytes());
    inner.push(interval as u8);
    inner.extend_from_slice(&body);
    inner.extend_from_slice(&chain::mac(key, from, epoch, interval, &body));
    inner.extend_from_slice(disclosed);
    let flags = FLAG_LEAN
        | if workgroup.is_some() {
            FLAG_WORKGROUP
        } else {
            0
        };
    let header = [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], VERSION, flags];
    frame(header, &inner, workgroup, || {
        // Unique per sender, life and interval: one lean beat each.
        let digest = Sha256::new()
            .chain_update(b"lanchat lean nonce\0")
            .chain_update(from.0)
            .chain_update(epoch.to_le_bytes())
            .chain_update(interval.to_le_bytes())
            .finalize();
        XNonce::clone_from_slice(&digest[..24])
    })
}

/// Reads a lean heartbeat's inner part.
fn lean_of(inner: &[u8], way: Way) -> Result<Lean, DecodeError> {
    if inner.len() < LEAN_LEN {
        return Err(DecodeError::Size(inner.len()));
    }
    let (head, rest) = inner.split_at(5);
    let (body, trailer) = rest.split_at(rest.len() - MAC_LEN - KEY_LEN);
    let beat = wire::decode_lean(body)?;
    let mut mac = [0u8; MAC_LEN];
    mac.copy_from_slice(&trailer[..MAC_LEN]);
    let mut key = [0u8; KEY_LEN];
    key.copy_from_slice(&trailer[MAC_LEN..]);
    Ok(Lean {
        tag: u32::from_le_bytes([head[0], head[1], head[2], head[3]]),
        low: head[4],
        body: body.to_vec(),
        beat,
        mac,
        key,
        way,
    })
}

/// A datagram decrypted and decoded whose signature is not checked yet:
/// enough to tell a copy already seen (by sender, life and counter) before
/// paying for the signature check.
#[derive(Clone, Debug)]
pub struct Unverified {
    header: [u8; HEADER_LEN],
    /// Packet, counter, key and signature (decrypted, in a workgroup).
    inner: Vec<u8>,
    /// The packet, as claimed.
    pub packet: Packet,
    /// The key, as claimed.
    pub key: PublicKey,
    /// The counter, as claimed.
    pub counter: u64,
    /// How it was sent, as the sender's driver says ([`Way`]).
    pub way: Way,
}

impl Unverified {
    /// Checks the signature and that the key is the sender's.
    pub fn verify(self) -> Result<Opened, DecodeError> {
        let verifying =
            VerifyingKey::from_bytes(&self.key.0).map_err(|_| DecodeError::Signature)?;
        let (signed_part, signature) = self.inner.split_at(self.inner.len() - 64);
        let mut sig = [0u8; 64];
        sig.copy_from_slice(signature);
        let mut signed = Vec::with_capacity(HEADER_LEN + signed_part.len());
        signed.extend_from_slice(&self.header);
        signed.extend_from_slice(signed_part);
        verifying
            .verify_strict(&signed, &Signature::from_bytes(&sig))
            .map_err(|_| DecodeError::Signature)?;
        if self.packet.from != self.key.id() {
            return Err(DecodeError::WrongKey);
        }
        Ok(Opened {
            packet: self.packet,
            key: self.key,
            counter: self.counter,
            way: self.way,
        })
    }
}

/// A datagram decrypted and decoded, not yet authenticated.
#[derive(Clone, Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per datagram, handed on once: a box would cost an allocation each"
)]
pub enum Unwrapped {
    /// A signed packet whose signature is not checked yet.
    Signed(Unverified),
    /// A lean heartbeat (its sender's chain checks it).
    Lean(Lean),
}

/// The first, cheap half of [`open()`]: header, decryption and decoding.
pub fn unwrap(bytes: &[u8], workgroup: Option<&WorkgroupKey>) -> Result<Unwrapped, DecodeError> {
    if bytes.len() < HEADER_LEN || bytes.len() > MAX_DATAGRAM {
        return Err(DecodeError::Size(bytes.len()));
    }
    if bytes[..4] != MAGIC {
        return Err(DecodeError::Magic);
    }
    // Before the size of this version's trailer: another version's
    // datagram may be shorter, and its sender is still to be named.
    if bytes[4] != VERSION {
        return Err(DecodeError::Version(bytes[4]));
    }
    let (header, rest) = bytes.split_at(HEADER_LEN);
    let way = Way::of_flags(header[5]);
    // The way hint is stamped after signing: it is read as zero.
    let mut head = [0u8; HEADER_LEN];
    head.copy_from_slice(header);
    head[5] &= !WAY_MASK;
    let flags = head[5];
    if flags & !(FLAG_WORKGROUP | FLAG_LEAN) != 0 {
        return Err(DecodeError::Flags(flags));
    }
    let inner = match (flags & FLAG_WORKGROUP != 0, workgroup) {
        (false, None) => rest.to_vec(),
        (true, Some(wg)) => {
            if rest.len() < WORKGROUP_LEN {
                return Err(DecodeError::Size(bytes.len()));
            }
            let (nonce, sealed) = rest.split_at(24);
            wg.cipher
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: sealed,
                        aad: &head[..],
                    },
                )
                .map_err(|_| DecodeError::Workgroup)?
        }
        (true, None) | (false, Some(_)) => return Err(DecodeError::Workgroup),
    };
    if flags & FLAG_LEAN != 0 {
        return lean_of(&inner, way).map(Unwrapped::Lean);
    }
    if inner.len() < TRAILER_LEN {
        return Err(DecodeError::Size(bytes.len()));
    }
    // The signature is checked in `verify`, only for what is not a copy.
    let signed_part = &inner[..inner.len() - 64];
    let (body, trailer) = signed_part.split_at(signed_part.len() - 40);
    let mut counter = [0u8; 8];
    counter.copy_from_slice(&trailer[..8]);
    let mut key = [0u8; 32];
    key.copy_from_slice(&trailer[8..]);
    let packet = wire::decode_packet(body)?;
    Ok(Unwrapped::Signed(Unverified {
        header: head,
        inner,
        packet,
        key: PublicKey(key),
        counter: u64::from_le_bytes(counter),
        way,
    }))
}

mod keys;
#[cfg(test)]
mod tests;
