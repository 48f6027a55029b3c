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

/// The key of one direction of a file-transfer connection: ChaCha20-Poly1305
/// with the frame's number as nonce (each connection has fresh keys, so a
/// number is never used twice under one key).
#[derive(Clone)]
pub struct StreamKey {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamKey")
    }
}

fn stream_nonce(counter: u64) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[..8].copy_from_slice(&counter.to_le_bytes());
    nonce.into()
}

impl StreamKey {
    /// Encrypts frame number `counter` in place; returns its 16-byte tag.
    pub fn seal(&self, counter: u64, buf: &mut [u8]) -> [u8; 16] {
        self.cipher
            .encrypt_in_place_detached(&stream_nonce(counter), &[], buf)
            .map(Into::into)
            // Encryption fails only for frames of gigabytes.
            .unwrap_or_default()
    }

    /// Decrypts frame number `counter` in place; false (and `buf` is not
    /// to be used) if it was changed or sealed with another key.
    pub fn open(&self, counter: u64, buf: &mut [u8], tag: &[u8; 16]) -> bool {
        self.cipher
            .decrypt_in_place_detached(&stream_nonce(counter), &[], buf, tag.into())
            .is_ok()
    }
}

/// The key of one direction of a direct conversation.
#[derive(Clone)]
pub struct DirectKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for DirectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectKey")
    }
}

/// The nonce of a sealed direct message: the sender's epoch and datagram
/// counter, which no two datagrams of one sender share.
/// XChaCha20-Poly1305 of `plain` with associated data `aad`.
fn aead_seal(cipher: &XChaCha20Poly1305, nonce: &XNonce, aad: &[u8], plain: &[u8]) -> Vec<u8> {
    cipher
        .encrypt(nonce, Payload { msg: plain, aad })
        // Encryption fails only for inputs of gigabytes.
        .unwrap_or_default()
}

/// The plaintext of [`aead_seal`]; `None` if anything differs.
fn aead_open(
    cipher: &XChaCha20Poly1305,
    nonce: &XNonce,
    aad: &[u8],
    sealed: &[u8],
) -> Option<Vec<u8>> {
    cipher.decrypt(nonce, Payload { msg: sealed, aad }).ok()
}

fn direct_nonce(epoch: u64, counter: u64) -> XNonce {
    let mut nonce = [0u8; 24];
    nonce[..8].copy_from_slice(&epoch.to_le_bytes());
    nonce[8..16].copy_from_slice(&counter.to_le_bytes());
    nonce.into()
}

fn direct_aad(from: NodeId, to: NodeId, epoch: u64) -> [u8; 40] {
    let mut aad = [0u8; 40];
    aad[..16].copy_from_slice(&from.0);
    aad[16..32].copy_from_slice(&to.0);
    aad[32..].copy_from_slice(&epoch.to_le_bytes());
    aad
}

impl DirectKey {
    /// Encrypts `plain` from `from` to `to`, sent in datagram `counter` of
    /// life `epoch`.
    pub fn seal(
        &self,
        from: NodeId,
        to: NodeId,
        epoch: u64,
        counter: u64,
        plain: &[u8],
    ) -> Vec<u8> {
        let aad = direct_aad(from, to, epoch);
        aead_seal(&self.cipher, &direct_nonce(epoch, counter), &aad, plain)
    }

    /// Decrypts what [`DirectKey::seal`] made; `None` if it was changed,
    /// is for someone else or was sealed with another key.
    pub fn open(
        &self,
        from: NodeId,
        to: NodeId,
        epoch: u64,
        counter: u64,
        sealed: &[u8],
    ) -> Option<Vec<u8>> {
        let aad = direct_aad(from, to, epoch);
        aead_open(&self.cipher, &direct_nonce(epoch, counter), &aad, sealed)
    }
}

/// A channel message signed by its author, with the author's key: anyone
/// can check a message that someone else hands on (repair, catch-up,
/// history), and nobody can hand out a made-up one in another's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthorSig {
    /// The author's public key (its id is the author's node id).
    pub key: PublicKey,
    /// Ed25519 over `message_signed_bytes` (author, channel, id, stamp,
    /// kind and text).
    pub sig: [u8; 64],
}

pub use crate::wire::AUTHOR_SIG_LEN;

impl AuthorSig {
    /// Checks that `author` (the key's id) wrote this message.
    pub fn verify(
        &self,
        author: NodeId,
        channel: &str,
        id: MsgId,
        hlc: u64,
        kind: MessageKind,
        text: &str,
    ) -> bool {
        if self.key.id() != author {
            return false;
        }
        let Ok(verifying) = VerifyingKey::from_bytes(&self.key.0) else {
            return false;
        };
        let signed = message_signed_bytes(author, channel, id, hlc, kind, text);
        verifying
            .verify_strict(&signed, &Signature::from_bytes(&self.sig))
            .is_ok()
    }

    /// Key and signature, as sent and stored.
    pub fn to_bytes(&self) -> [u8; AUTHOR_SIG_LEN] {
        let mut out = [0u8; AUTHOR_SIG_LEN];
        out[..32].copy_from_slice(&self.key.0);
        out[32..].copy_from_slice(&self.sig);
        out
    }

    /// From [`AuthorSig::to_bytes`]; `None` for another length.
    pub fn from_bytes(bytes: &[u8]) -> Option<AuthorSig> {
        if bytes.len() != AUTHOR_SIG_LEN {
            return None;
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes[..32]);
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&bytes[32..]);
        Some(AuthorSig {
            key: PublicKey(key),
            sig,
        })
    }
}

/// What an author signs of a channel message: who, where, which, when,
/// what kind and the whole text (not the life or the sequence number, so
/// the signature holds for history handed on in any later life).
fn message_signed_bytes(
    author: NodeId,
    channel: &str,
    id: MsgId,
    hlc: u64,
    kind: MessageKind,
    text: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + channel.len() + text.len());
    out.extend_from_slice(b"lanchat message v1\0");
    out.extend_from_slice(&author.0);
    out.extend_from_slice(&(channel.len() as u32).to_le_bytes());
    out.extend_from_slice(channel.as_bytes());
    out.extend_from_slice(&id.0);
    out.extend_from_slice(&hlc.to_le_bytes());
    out.push(match kind {
        MessageKind::Text => 0,
        MessageKind::Action => 1,
        MessageKind::Beep => 2,
        MessageKind::File => 3,
    });
    out.extend_from_slice(text.as_bytes());
    out
}

/// The key of a workgroup, derived from its passphrase.
#[derive(Clone)]
pub struct WorkgroupKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for WorkgroupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkgroupKey")
    }
}

/// Why a workgroup key could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WorkgroupError {
    /// An empty passphrase.
    #[error("the workgroup passphrase is empty")]
    Empty,
    /// Argon2 failed (it does not for these parameters).
    #[error("deriving the workgroup key: {0}")]
    Derive(String),
}

impl WorkgroupKey {
    /// Derives the key with Argon2id (64 MiB, 3 passes: about a quarter of a
    /// second, once per start). The salt is fixed, so every node derives the
    /// same key from the same passphrase; the cost is what slows guessing.
    pub fn derive(passphrase: &str) -> Result<WorkgroupKey, WorkgroupError> {
        if passphrase.is_empty() {
            return Err(WorkgroupError::Empty);
        }
        let params = argon2::Params::new(64 * 1024, 3, 1, Some(32))
            .map_err(|e| WorkgroupError::Derive(e.to_string()))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), b"lanchat workgroup v1", key.as_mut())
            .map_err(|e| WorkgroupError::Derive(e.to_string()))?;
        Ok(WorkgroupKey::from_bytes(&key))
    }

    /// A key given directly (tests, and after [`WorkgroupKey::derive`]).
    pub fn from_bytes(key: &[u8; 32]) -> WorkgroupKey {
        WorkgroupKey {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }
}

/// The key of a password channel, derived from the channel's name and its
/// password: everything said about the channel (messages, repairs, topic,
/// typing, catch-up, and the membership in a presence) is encrypted with it,
/// so a node without the password reads none of it and learns no member.
#[derive(Clone)]
pub struct ChannelKey {
    bytes: Zeroizing<[u8; 32]>,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for ChannelKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChannelKey")
    }
}

impl PartialEq for ChannelKey {
    fn eq(&self, other: &ChannelKey) -> bool {
        *self.bytes == *other.bytes
    }
}

impl Eq for ChannelKey {}

impl ChannelKey {
    /// Derives the key of channel `name` (normalised, with `#`) from its
    /// password with Argon2id (19 MiB, 2 passes: about a tenth of a second,
    /// once per join), salted with the name so one password makes
    /// different keys for different channels.
    pub fn derive(name: &str, password: &str) -> Result<ChannelKey, WorkgroupError> {
        if password.is_empty() {
            return Err(WorkgroupError::Empty);
        }
        let params = argon2::Params::new(19 * 1024, 2, 1, Some(32))
            .map_err(|e| WorkgroupError::Derive(e.to_string()))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut salt = b"lanchat channel v1\0".to_vec();
        salt.extend_from_slice(name.as_bytes());
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(password.as_bytes(), &salt, key.as_mut())
            .map_err(|e| WorkgroupError::Derive(e.to_string()))?;
        Ok(ChannelKey::from_bytes(&key))
    }

    /// A key given directly (remembered from an earlier join, and tests).
    pub fn from_bytes(key: &[u8; 32]) -> ChannelKey {
        ChannelKey {
            bytes: Zeroizing::new(*key),
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The key's bytes, to remember the channel for the next start.
    pub fn to_bytes(&self) -> [u8; 32] {
        *self.bytes
    }

    /// The key as 64 hex digits (for a settings file).
    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes.as_slice())
    }

    /// A key from [`ChannelKey::to_hex`]; `None` if it is not 64 hex digits.
    pub fn from_hex(text: &str) -> Option<ChannelKey> {
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), key.as_mut_slice()).ok()?;
        Some(ChannelKey::from_bytes(&key))
    }

    /// Encrypts part `index` of datagram `counter` that `from` sends in
    /// life `epoch`. Members share the key, so the nonce (a hash of all
    /// four) names the sender as well; it never repeats.
    pub fn seal(
        &self,
        from: NodeId,
        epoch: u64,
        counter: u64,
        index: u32,
        plain: &[u8],
    ) -> Vec<u8> {
        let (nonce, aad) = channel_nonce(from, epoch, counter, index);
        aead_seal(&self.cipher, &nonce, &aad, plain)
    }

    /// Decrypts what [`ChannelKey::seal`] made; `None` if it was made with
    /// another key, changed, or lifted into another datagram.
    pub fn open(
        &self,
        from: NodeId,
        epoch: u64,
        counter: u64,
        index: u32,
        sealed: &[u8],
    ) -> Option<Vec<u8>> {
        let (nonce, aad) = channel_nonce(from, epoch, counter, index);
        aead_open(&self.cipher, &nonce, &aad, sealed)
    }
}

fn channel_nonce(from: NodeId, epoch: u64, counter: u64, index: u32) -> (XNonce, [u8; 36]) {
    let mut aad = [0u8; 36];
    aad[..16].copy_from_slice(&from.0);
    aad[16..24].copy_from_slice(&epoch.to_le_bytes());
    aad[24..32].copy_from_slice(&counter.to_le_bytes());
    aad[32..].copy_from_slice(&index.to_le_bytes());
    let digest = Sha256::new()
        .chain_update(b"lanchat channel nonce\0")
        .chain_update(aad)
        .finalize();
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&digest[..24]);
    (nonce.into(), aad)
}

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
                .map_err(|_| EncodeError::TooLarge(inner.len()))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Body;

    fn keys(n: u8) -> Keys {
        Keys::from_secret(&[n; 32])
    }

    fn leave(keys: &Keys) -> Packet {
        Packet {
            from: keys.id(),
            epoch: 7,
            body: Body::Leave,
        }
    }

    #[test]
    fn a_sealed_packet_opens_with_its_key_and_counter() {
        let alice = keys(1);
        for wg in [None, Some(WorkgroupKey::from_bytes(&[5; 32]))] {
            let bytes = seal(&leave(&alice), 42, &alice, wg.as_ref()).expect("seals");
            let opened = open(&bytes, wg.as_ref())
                .expect("opens")
                .signed()
                .expect("signed");
            assert_eq!(opened.packet, leave(&alice));
            assert_eq!((opened.key, opened.counter), (alice.public(), 42));
        }
    }

    #[test]
    fn a_lean_beat_opens_as_sent_and_its_mac_holds_only_for_its_key() {
        let alice = keys(1);
        let (id, epoch) = (alice.id(), 9);
        let mut chain = chain::Chain::new(alice.chain_seed(epoch));
        let beat = LeanBeat {
            seq: 4,
            tails: vec![17, 300],
            knows: 12,
        };
        let i = 260;
        let (key, disclosed) = (chain.key(i), chain.key(i - chain::DELAY));
        for wg in [None, Some(WorkgroupKey::from_bytes(&[5; 32]))] {
            let mut bytes =
                seal_lean(&beat, id, epoch, i, &key, &disclosed, wg.as_ref()).expect("seals");
            if wg.is_none() {
                // The idle heartbeat's whole cost: header, 25 bytes and the
                // content (seq 1, count 1, tails 1 + 3, knows 1: bincode's
                // varints).
                assert_eq!(bytes.len(), HEADER_LEN + LEAN_LEN + 7);
            }
            stamp(&mut bytes, Way::Broadcast);
            let Ok(Datagram::Lean(lean)) = open(&bytes, wg.as_ref()) else {
                panic!("a lean beat");
            };
            assert_eq!(lean.tag, chain::tag(id, epoch));
            assert_eq!((lean.low, lean.way), (i as u8, Way::Broadcast));
            assert_eq!((&lean.beat, lean.key), (&beat, disclosed));
            assert_eq!(chain::mac(&key, id, epoch, i, &lean.body), lean.mac);
            // Not with another interval's key, interval, life or sender.
            assert_ne!(chain::mac(&disclosed, id, epoch, i, &lean.body), lean.mac);
            assert_ne!(chain::mac(&key, id, epoch, i + 256, &lean.body), lean.mac);
            assert_ne!(chain::mac(&key, id, epoch + 1, i, &lean.body), lean.mac);
            assert_ne!(
                chain::mac(&key, keys(2).id(), epoch, i, &lean.body),
                lean.mac
            );
        }
        // Another life of the same key has another chain.
        let mut next_life = chain::Chain::new(alice.chain_seed(epoch + 1));
        assert_ne!(next_life.key(i), key);
        // Inside a workgroup, the open LAN's lean beat is refused, and the
        // other way round; a truncated one does not decode.
        let wg = WorkgroupKey::from_bytes(&[5; 32]);
        let open_lan = seal_lean(&beat, id, epoch, i, &key, &disclosed, None).expect("seals");
        assert_eq!(open(&open_lan, Some(&wg)), Err(DecodeError::Workgroup));
        let sealed = seal_lean(&beat, id, epoch, i, &key, &disclosed, Some(&wg)).expect("seals");
        assert_eq!(open(&sealed, None), Err(DecodeError::Workgroup));
        assert!(open(&open_lan[..HEADER_LEN + LEAN_LEN - 1], None).is_err());
        assert!(open(&open_lan[..open_lan.len() - 1], None).is_err());
    }

    #[test]
    fn a_changed_bit_anywhere_is_refused() {
        let alice = keys(1);
        let bytes = seal(&leave(&alice), 1, &alice, None).expect("seals");
        for i in 0..bytes.len() {
            // Every bit but the way hint's (tested below).
            for bit in (0..8).filter(|b| i != 5 || !(4..6).contains(b)) {
                let mut bad = bytes.clone();
                bad[i] ^= 1 << bit;
                assert!(open(&bad, None).is_err(), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn the_way_hint_is_stamped_after_signing_and_read_back() {
        let alice = keys(1);
        let wg = WorkgroupKey::derive("office").expect("key");
        for workgroup in [None, Some(&wg)] {
            let mut bytes = seal(&leave(&alice), 1, &alice, workgroup).expect("seals");
            assert_eq!(way_of(&bytes), Way::Multicast);
            for way in [Way::Unicast, Way::Broadcast, Way::Multicast] {
                stamp(&mut bytes, way);
                assert_eq!(way_of(&bytes), way);
                let opened = open(&bytes, workgroup)
                    .expect("still opens")
                    .signed()
                    .expect("signed");
                assert_eq!(opened.way, way);
                assert_eq!(opened.packet, leave(&alice));
            }
        }
        // Not a datagram: left alone.
        let mut junk = vec![7u8; 10];
        stamp(&mut junk, Way::Unicast);
        assert_eq!(junk, vec![7u8; 10]);
    }

    #[test]
    fn another_key_cannot_speak_for_a_node() {
        let (alice, mallory) = (keys(1), keys(2));
        // Mallory signs a packet that claims to be from alice.
        let bytes = seal(&leave(&alice), 1, &mallory, None).expect("seals");
        assert_eq!(open(&bytes, None), Err(DecodeError::WrongKey));
    }

    #[test]
    fn a_message_signature_holds_for_exactly_that_message_and_author() {
        let ann = keys(1);
        let (id, hlc, kind) = (MsgId([4; 16]), 99, MessageKind::Text);
        let signed = ann.sign_message("#dev", id, hlc, kind, "ship it");
        // (author, channel, id, stamp, kind, text) as the receiver has them.
        let genuine = (ann.id(), "#dev", id, hlc, kind, "ship it");
        let check = |s: &AuthorSig, m: (NodeId, &str, MsgId, u64, MessageKind, &str)| {
            s.verify(m.0, m.1, m.2, m.3, m.4, m.5)
        };
        assert!(check(&signed, genuine));
        // Any field changed, or another author claimed: no.
        let (who, chan, _, _, _, text) = genuine;
        for changed in [
            (who, chan, id, hlc, kind, "ship it!"),
            (who, "#ops", id, hlc, kind, text),
            (who, chan, MsgId([5; 16]), hlc, kind, text),
            (who, chan, id, hlc + 1, kind, text),
            (who, chan, id, hlc, MessageKind::Action, text),
            (keys(2).id(), chan, id, hlc, kind, text),
        ] {
            assert!(!check(&signed, changed), "{changed:?}");
        }
        // Another key's signature under ann's name: no.
        let mallory = keys(2).sign_message("#dev", id, hlc, kind, "ship it");
        let posing = AuthorSig {
            key: ann.public(),
            sig: mallory.sig,
        };
        assert!(!check(&posing, genuine));
        assert!(!check(&mallory, genuine));
        // As stored and sent.
        assert_eq!(AuthorSig::from_bytes(&signed.to_bytes()), Some(signed));
        assert_eq!(AuthorSig::from_bytes(&[0; 95]), None);
    }

    #[test]
    fn a_channel_key_is_its_name_and_password_and_opens_only_its_own_part() {
        let key = ChannelKey::derive("#ops", "tulip").expect("derives");
        assert_eq!(key, ChannelKey::derive("#ops", "tulip").expect("derives"));
        assert_ne!(key, ChannelKey::derive("#dev", "tulip").expect("derives"));
        assert_ne!(key, ChannelKey::derive("#ops", "tulips").expect("derives"));
        assert!(ChannelKey::derive("#ops", "").is_err());
        assert_eq!(ChannelKey::from_hex(&key.to_hex()), Some(key.clone()));
        assert_eq!(ChannelKey::from_hex("zz"), None);
        assert_eq!(ChannelKey::from_hex(&"g".repeat(64)), None);

        let (ann, bob) = (keys(1).id(), keys(2).id());
        let sealed = key.seal(ann, 3, 10, 0, b"plan");
        assert_eq!(
            key.open(ann, 3, 10, 0, &sealed).as_deref(),
            Some(&b"plan"[..])
        );
        // Lifted into another datagram, part, life or sender: it does not open.
        assert_eq!(key.open(ann, 3, 11, 0, &sealed), None);
        assert_eq!(key.open(ann, 3, 10, 1, &sealed), None);
        assert_eq!(key.open(ann, 4, 10, 0, &sealed), None);
        assert_eq!(key.open(bob, 3, 10, 0, &sealed), None);
        let other = ChannelKey::derive("#ops", "tulip2").expect("derives");
        assert_eq!(other.open(ann, 3, 10, 0, &sealed), None);
        // Two members never use one nonce: the same plaintext differs.
        assert_ne!(sealed, key.seal(bob, 3, 10, 0, b"plan"));
    }

    #[test]
    fn workgroups_do_not_read_each_other_or_the_open_lan() {
        let alice = keys(1);
        let (ours, theirs) = (
            WorkgroupKey::from_bytes(&[5; 32]),
            WorkgroupKey::from_bytes(&[6; 32]),
        );
        let in_ours = seal(&leave(&alice), 1, &alice, Some(&ours)).expect("seals");
        let open_lan = seal(&leave(&alice), 1, &alice, None).expect("seals");
        assert_eq!(open(&in_ours, Some(&theirs)), Err(DecodeError::Workgroup));
        assert_eq!(open(&in_ours, None), Err(DecodeError::Workgroup));
        assert_eq!(open(&open_lan, Some(&ours)), Err(DecodeError::Workgroup));
        // Nothing of the packet shows in the clear.
        assert!(!in_ours.windows(16).any(|w| w == alice.id().0));
    }

    #[test]
    fn the_same_passphrase_gives_the_same_key() {
        let alice = keys(1);
        let a = WorkgroupKey::derive("correct horse").expect("derives");
        let b = WorkgroupKey::derive("correct horse").expect("derives");
        let c = WorkgroupKey::derive("correct horsf").expect("derives");
        let bytes = seal(&leave(&alice), 1, &alice, Some(&a)).expect("seals");
        assert!(open(&bytes, Some(&b)).is_ok());
        assert_eq!(open(&bytes, Some(&c)), Err(DecodeError::Workgroup));
        assert!(WorkgroupKey::derive("").is_err());
    }

    #[test]
    fn direct_keys_agree_per_direction_and_nobody_else_has_them() {
        let (alice, bob, eve) = (keys(1), keys(2), keys(3));
        let (a_send, a_recv) = alice.direct_keys(&bob.public()).expect("keys");
        let (b_send, b_recv) = bob.direct_keys(&alice.public()).expect("keys");
        let (e_send, _) = eve.direct_keys(&bob.public()).expect("keys");
        let (from, to) = (alice.id(), bob.id());
        let sealed = a_send.seal(from, to, 3, 9, b"hello bob");
        assert_eq!(
            b_recv.open(from, to, 3, 9, &sealed).as_deref(),
            Some(&b"hello bob"[..])
        );
        // Not the other direction, not another counter, not eve.
        assert_eq!(b_send.open(from, to, 3, 9, &sealed), None);
        assert_eq!(b_recv.open(from, to, 3, 10, &sealed), None);
        assert_eq!(e_send.open(from, to, 3, 9, &sealed), None);
        let back = b_send.seal(to, from, 4, 1, b"hi");
        assert_eq!(
            a_recv.open(to, from, 4, 1, &back).as_deref(),
            Some(&b"hi"[..])
        );
    }

    #[test]
    fn ids_and_fingerprints_are_stable_and_distinct() {
        let (a, b) = (keys(1), keys(2));
        assert_eq!(a.id(), Keys::from_secret(&a.secret()).id());
        assert_ne!(a.id(), b.id());
        let fp = a.public().fingerprint();
        assert_eq!(fp.len(), 24, "{fp}");
        assert_ne!(fp, b.public().fingerprint());
    }

    proptest::proptest! {
        /// Whatever follows a valid header, opening never panics.
        #[test]
        fn arbitrary_bytes_after_the_header_never_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1500)
        ) {
            let mut framed = MAGIC.to_vec();
            framed.extend_from_slice(&[VERSION, 0]);
            framed.extend_from_slice(&bytes);
            let _ = open(&framed, None);
        }
    }
}
