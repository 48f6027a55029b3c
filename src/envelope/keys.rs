//! The keys besides a node's own pair: the symmetric keys of sealed direct
//! messages, password channels and workgroups, and authors' signatures of
//! channel messages.

use super::*;

/// The key of one direction of a file-transfer connection: ChaCha20-Poly1305
/// with the frame's number as nonce (each connection has fresh keys, so a
/// number is never used twice under one key).
#[derive(Clone)]
pub struct StreamKey {
    pub(super) cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamKey")
    }
}

pub(super) fn stream_nonce(counter: u64) -> Nonce {
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
    pub(super) cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for DirectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectKey")
    }
}

/// The nonce of a sealed direct message: the sender's epoch and datagram
/// counter, which no two datagrams of one sender share.
/// XChaCha20-Poly1305 of `plain` with associated data `aad`.
pub(super) fn aead_seal(
    cipher: &XChaCha20Poly1305,
    nonce: &XNonce,
    aad: &[u8],
    plain: &[u8],
) -> Vec<u8> {
    cipher
        .encrypt(nonce, Payload { msg: plain, aad })
        // Encryption fails only for inputs of gigabytes.
        .unwrap_or_default()
}

/// The plaintext of [`aead_seal`]; `None` if anything differs.
pub(super) fn aead_open(
    cipher: &XChaCha20Poly1305,
    nonce: &XNonce,
    aad: &[u8],
    sealed: &[u8],
) -> Option<Vec<u8>> {
    cipher.decrypt(nonce, Payload { msg: sealed, aad }).ok()
}

pub(super) fn direct_nonce(epoch: u64, counter: u64) -> XNonce {
    let mut nonce = [0u8; 24];
    nonce[..8].copy_from_slice(&epoch.to_le_bytes());
    nonce[8..16].copy_from_slice(&counter.to_le_bytes());
    nonce.into()
}

pub(super) fn direct_aad(from: NodeId, to: NodeId, epoch: u64) -> [u8; 40] {
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
pub(super) fn message_signed_bytes(
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
    pub(super) cipher: XChaCha20Poly1305,
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

pub(super) fn channel_nonce(
    from: NodeId,
    epoch: u64,
    counter: u64,
    index: u32,
) -> (XNonce, [u8; 36]) {
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
