//! The packet format: a bincode-encoded [`Packet`], which
//! [`crate::envelope`] signs (and encrypts in a workgroup) behind a fixed
//! header (magic, protocol version, flags). This file is the only place that
//! knows the encoding, so it can be swapped without touching the protocol.
//!
//! Decoding never trusts the peer: the body is read with a byte limit, a
//! datagram with trailing bytes is rejected, and every string and list is
//! checked against its cap before the packet is handed on.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::chain::ChainPoint;

use crate::types::{
    MAX_CHANNEL_NAME, MAX_HOST, MAX_JOINED, MAX_NICK, MAX_STATUS_TEXT, MAX_TEXT, MAX_TOPIC,
    MessageKind, MsgId, NodeId, Status, channel_name,
};

/// First bytes of every lanchat datagram.
pub const MAGIC: [u8; 4] = *b"LNCH";
/// Protocol version; a datagram of another version is dropped. Version 2
/// signs every datagram; version 3 signs each channel message by its author
/// too, hides password channels, and repairs by passing on the sender's
/// datagram (the bodies were renumbered then). Version 4 has the way hint
/// in the flags (outside the signature), presence says how many peers the
/// sender knows, and new bodies say which peers' group traffic does not
/// reach the sender, pass on peers' addresses, and ping. Version 5 has lean
/// heartbeats authenticated by a key chain ([`crate::chain`]) instead of a
/// signature, and presences that anchor it ([`ChainPoint`]).
pub const VERSION: u8 = 5;
/// Largest datagram lanchat sends or accepts: what IPv6's least MTU (1280)
/// leaves after its 40-byte header and UDP's 8, so no network fragments it.
pub const MAX_DATAGRAM: usize = 1232;
/// Largest encoded packet body: what the envelope's header, signature and
/// workgroup encryption leave.
pub const MAX_BODY: usize = MAX_DATAGRAM - ENVELOPE_OVERHEAD;
/// Bytes the envelope adds to a packet at most: header 6, trailer (counter,
/// key, signature) 104, workgroup nonce and tag 40
/// ([`crate::envelope::OVERHEAD`], which checks it against its layout).
pub const ENVELOPE_OVERHEAD: usize = 6 + (8 + 32 + 64) + (24 + 16);
/// Bytes of an author signature on the wire and on disk: key, then
/// signature ([`crate::envelope::AuthorSig`]).
pub const AUTHOR_SIG_LEN: usize = 96;
/// Catch-up: a range holding at most this many messages is answered with their ids.
pub const LIST_AT_MOST: usize = 32;
/// Catch-up: most ranges in one sync datagram.
pub const MAX_RANGES: usize = 24;
/// Most ids asked for in one datagram.
pub const MAX_WANT: usize = 48;
/// Text bytes carried by one fragment of a message.
pub const FRAGMENT_TEXT: usize = 780;
/// Most fragments one message may have: [`split_text`] cuts on character
/// boundaries, so a fragment may hold as little as `FRAGMENT_TEXT - 3` bytes
/// (a 4-byte character that does not fit), and 64 KiB then needs 74.
pub const MAX_PARTS: u16 = MAX_TEXT.div_ceil(FRAGMENT_TEXT - 3) as u16;
/// Largest sealed channel state in a presence: two numbers and the AEAD tag.
pub const SEALED_STATE: usize = 9 + 9 + 16;
/// Most ranges in one repair request.
pub const MAX_NACK_RANGES: usize = 16;

/// One datagram's content: who sent it, in which life, and what it says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Packet {
    /// The sending node.
    pub from: NodeId,
    /// The sender's epoch: grows at each start, so a restart replaces the old entry.
    pub epoch: u64,
    /// What the packet says.
    pub body: Body,
}

/// Every kind of datagram.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Body {
    /// Who I am and what I am in; sent in the start-up burst and as heartbeat.
    Presence(Presence),
    /// I am leaving (sent a few times).
    Leave,
    /// Are you there? Answer to `reply_to`, or to the sender when `None`.
    Probe {
        /// Echoed in the answer.
        nonce: u64,
        /// Where to answer, for a probe made on someone else's behalf.
        reply_to: Option<SocketAddr>,
    },
    /// Yes, I am here.
    ProbeAck {
        /// The nonce of the probe answered.
        nonce: u64,
    },
    /// Please probe `target` at `addr` for me (an indirect probe).
    ProbeRequest {
        /// The node to probe.
        target: NodeId,
        /// Its unicast address.
        addr: SocketAddr,
        /// Echoed by the target.
        nonce: u64,
    },
    /// A fragment of a channel message, sent to the group. A holder that
    /// repairs it for another receiver passes on the sender's datagram
    /// unchanged (there is no "repair" body a holder could fill in).
    Channel(ChannelMsg),
    /// I miss these sequence numbers of this sender in this channel.
    Nack(Nack),
    /// The sender no longer holds these messages; stop waiting for them.
    Gone {
        /// The channel.
        channel: String,
        /// Every sequence number up to and including this one is gone.
        upto: u64,
    },
    /// A fragment of a direct message, unicast.
    Direct(DirectMsg),
    /// Direct fragment received.
    DirectAck {
        /// The epoch of the direct stream acknowledged.
        stream_epoch: u64,
        /// Its sequence number.
        seq: u64,
    },
    /// Send me the topic you know for this channel.
    TopicRequest {
        /// The channel.
        channel: String,
    },
    /// A channel's topic; the highest stamp wins.
    Topic(TopicInfo),
    /// The lean heartbeat: "still here, presence `seq` holds, these are my
    /// tails" (in the order of that presence's channels).
    Beat {
        /// The presence version this beat abbreviates.
        seq: u64,
        /// Newest sequence number per channel.
        tails: Vec<u64>,
    },
    /// I am typing in this chat (best effort: not acknowledged, not
    /// repaired, repeated while the typing goes on). Last, so the indices
    /// of the older bodies stay.
    Typing {
        /// A channel, or the recipient of a direct chat.
        chat: TypingChat,
    },
    /// Catch-up: how my recent messages of a channel compare with yours
    /// (see `catchup`). Unicast; answered with ranges that differ.
    Sync(Sync),
    /// Catch-up: send me these messages of a channel.
    Want {
        /// The channel.
        channel: String,
        /// The ids, at most [`MAX_WANT`].
        ids: Vec<MsgId>,
    },
    /// Catch-up: a fragment of a channel message someone missed, unicast by
    /// a peer that holds it.
    Recalled(Recalled),
    /// A direct-message fragment ([`DirectMsg`]) encrypted for its
    /// recipient (see [`crate::envelope::DirectKey`]).
    Sealed {
        /// The recipient.
        to: NodeId,
        /// The encrypted fragment.
        bytes: Vec<u8>,
    },
    /// A body about a password channel ([`channel_of`] names it), encrypted
    /// with the channel's key ([`crate::envelope::ChannelKey`], part 0 of
    /// the datagram). It names neither the channel nor a key: a member
    /// tries the keys of its password channels, everyone else drops it.
    Hidden {
        /// The encrypted body ([`encode_body`]).
        bytes: Vec<u8>,
    },
    /// Password channels I know exist (I am in them, or heard of them); sent
    /// with a full presence to the group.
    Protected {
        /// At most [`MAX_PROTECTED`].
        channels: Vec<ProtectedChannel>,
    },
    /// Do you hear me? Answered with `ProbeAck` by unicast, and nothing
    /// else (unlike `Probe`, it is not a suspicion to refute). Tells the
    /// sender whether its unicast reaches the peer (the doctor's one-way
    /// check).
    Ping {
        /// Echoed in the answer.
        nonce: u64,
    },
    /// Peers I have online and where I hear them; sent by unicast to a peer
    /// whose presence says it knows fewer, so it can greet them itself.
    Peers {
        /// At most [`MAX_KNOWN_PEERS`].
        peers: Vec<KnownPeer>,
    },
    /// Peers whose group traffic (multicast and broadcast) does not reach
    /// me, by [`short_id`]: they send it to me by unicast as well. Sent
    /// with a full presence while the list is not empty, and for a while
    /// after it empties. At most [`MAX_UNHEARD`].
    Unheard {
        /// Short ids.
        peers: Vec<u32>,
    },
    /// I watch `peer` (it follows me in node-id order) and declared its
    /// life `epoch` offline: it was silent for [`crate::protocol::Timing::offline_after`]
    /// and did not answer probes. Sent to the group a few times. A node
    /// that has not heard it for a while either takes it offline too; the
    /// peer itself, if alive, answers with a presence to the group.
    Down {
        /// The peer.
        peer: NodeId,
        /// Its life.
        epoch: u64,
    },
}

/// A peer and the address it is heard from, as told in [`Body::Peers`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownPeer {
    /// Its id.
    pub id: NodeId,
    /// Its unicast socket.
    pub addr: SocketAddr,
}

/// Most peers one [`Body::Peers`] names.
pub const MAX_KNOWN_PEERS: usize = 40;
/// Most peers one [`Body::Unheard`] lists.
pub const MAX_UNHEARD: usize = 128;

/// The short form of a node id in [`Body::Unheard`]: its first 4
/// bytes (two peers that share it only cost some unicast copies).
pub fn short_id(id: NodeId) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&id.0[..4]);
    u32::from_le_bytes(bytes)
}

/// One round of catch-up for a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sync {
    /// The channel.
    pub channel: String,
    /// 0 for an opening (always answered), then one more per answer.
    pub round: u8,
    /// Most messages the sender of this wants in answer.
    pub limit: u32,
    /// Ranges of stamps and what the sender holds in each.
    pub ranges: Vec<SyncRange>,
}

/// Messages stamped in `lo..hi` (`hi == u64::MAX`: no upper end).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRange {
    /// First stamp in the range.
    pub lo: u64,
    /// First stamp past it.
    pub hi: u64,
    /// What the sender holds there.
    pub what: RangeSummary,
}

/// What a node holds in a range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeSummary {
    /// How many messages, and the sum of their id hashes.
    Fingerprint {
        /// Messages in the range.
        count: u32,
        /// Wrapping sum of the ids' first eight bytes.
        fp: u64,
    },
    /// All their ids (few).
    Ids(Vec<MsgId>),
}

/// A fragment of a channel message sent for catch-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recalled {
    /// The channel.
    pub channel: String,
    /// Who wrote it.
    pub origin: NodeId,
    /// The author's nick when it was written.
    pub nick: String,
    /// Message id.
    pub id: MsgId,
    /// Its stamp.
    pub hlc: u64,
    /// Text or action.
    pub kind: MessageKind,
    /// Index of this fragment.
    pub part: u16,
    /// Number of fragments.
    pub parts: u16,
    /// This fragment's text.
    pub text: String,
    /// The author's key and signature of the whole message
    /// ([`crate::envelope::AuthorSig`], [`AUTHOR_SIG_LEN`]
    /// bytes): the peer that hands it on cannot have made it up.
    pub author: Vec<u8>,
}

/// Where a [`Body::Typing`] notice is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TypingChat {
    /// A channel, by its normalised name (with `#`).
    Channel(String),
    /// The direct chat with this node, the recipient.
    Direct(NodeId),
}

/// A node's self-description.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    /// Display name.
    pub nick: String,
    /// Available, away or do-not-disturb.
    pub status: Status,
    /// Free text with the status.
    pub status_text: String,
    /// Host name, for "info".
    pub host: String,
    /// Program version, for "info".
    pub version: String,
    /// Wall time (ms since the Unix epoch) this life started.
    pub since_ms: u64,
    /// The channels this node is in, with its newest sequence number in each.
    pub channels: Vec<ChannelState>,
    /// Set in the start-up burst: peers answer with their own presence.
    pub hello: bool,
    /// Version of what this presence says; grows with each change in this
    /// life, so one that arrives late (overtaken by a newer one) is not taken
    /// for a change, and a lean heartbeat can name what it abbreviates.
    pub seq: u64,
    /// My place in each password channel I am in: its tail and topic stamp
    /// ([`encode_state`]) encrypted with the channel's key (part 1, 2, … of the datagram), so
    /// only its members learn that I am one. Not in `channels`, and not in
    /// a lean heartbeat's tails. With `channels`, at most [`MAX_JOINED`].
    pub sealed: Vec<Vec<u8>>,
    /// How many peers I have online: a peer that knows more tells me their
    /// addresses ([`Body::Peers`]), so one node on two subnets joins them.
    pub knows: u16,
    /// Where my heartbeats' key chain stands ([`crate::chain`]).
    pub chain: ChainPoint,
    /// Not sent: how many entries at the end of `channels` the receiver
    /// opened from `sealed` (a lean heartbeat's tails cover the others).
    #[serde(skip)]
    pub opened: usize,
    /// Not sent: the counter of the datagram this came in (`sealed` opens
    /// with it, also later, when I join one of those channels).
    #[serde(skip)]
    pub counter: u64,
}

/// What a lean heartbeat says ([`crate::envelope::Lean`]): "presence `seq`
/// holds, these are my tails" (in the order of that presence's open
/// channels), as [`Body::Beat`] does in a signed datagram.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeanBeat {
    /// The presence version this beat abbreviates.
    pub seq: u64,
    /// Newest sequence number per open channel.
    pub tails: Vec<u64>,
    /// How many peers I have online, as in my presence (a peer that knows
    /// more tells me their addresses, [`Body::Peers`]).
    pub knows: u16,
}

/// Encodes a lean heartbeat's content.
pub fn encode_lean(beat: &LeanBeat) -> Vec<u8> {
    bincode::serde::encode_to_vec(beat, bincode::config::standard()).unwrap_or_default()
}

/// Decodes and checks a lean heartbeat's content.
pub fn decode_lean(bytes: &[u8]) -> Result<LeanBeat, DecodeError> {
    if bytes.len() > MAX_BODY {
        return Err(DecodeError::Size(bytes.len()));
    }
    let beat: LeanBeat = decode_exact(bytes)?;
    cap("tails", beat.tails.len(), MAX_JOINED)?;
    Ok(beat)
}

impl Presence {
    /// The open channels: all of `channels` but the states opened from
    /// `sealed`, which follow them (what a lean heartbeat's tails cover).
    pub fn open_channels(&self) -> &[ChannelState] {
        &self.channels[..self.channels.len() - self.opened]
    }

    /// The password channels' states opened from `sealed`.
    pub fn opened_channels(&self) -> &[ChannelState] {
        &self.channels[self.channels.len() - self.opened..]
    }
}

/// A password channel known to exist: its name, and how long ago a member
/// last vouched for it, as far as the sender knows. Members say 0, everyone
/// passes on the age of the newest vouching they heard (grown by the time
/// since), and a name nobody vouched for in [`PROTECTED_FOR`] is
/// forgotten; so a member looks like anyone else who heard of the channel,
/// and no clock need agree with another.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedChannel {
    /// Channel name, with `#`.
    pub name: String,
    /// Seconds since a member vouched for it.
    pub age_secs: u32,
}

/// How long a password channel is listed after a member last vouched for it.
pub const PROTECTED_FOR: std::time::Duration = std::time::Duration::from_secs(300);
/// Most password channels one [`Body::Protected`] names.
pub const MAX_PROTECTED: usize = 16;

/// A node's position in one channel, as advertised in its presence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelState {
    /// Channel name.
    pub name: String,
    /// The newest sequence number this node sent there (0: none yet).
    pub tail: u64,
    /// Stamp of the newest topic this node knows for the channel (0: none).
    pub topic_stamp: u64,
}

/// One fragment of a channel message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelMsg {
    /// Channel name.
    pub channel: String,
    /// Per-sender, per-channel, per-epoch sequence number, from 1.
    pub seq: u64,
    /// Message id, shared by its fragments.
    pub id: MsgId,
    /// Hybrid logical clock stamp of the message.
    pub hlc: u64,
    /// Text or action.
    pub kind: MessageKind,
    /// Index of this fragment.
    pub part: u16,
    /// Number of fragments.
    pub parts: u16,
    /// This fragment's text.
    pub text: String,
    /// The author's signature of the whole message (64 bytes) in the first
    /// fragment, empty in the others: a holder that repairs the message
    /// for its author passes it on ([`crate::envelope::AuthorSig`]).
    pub sig: Vec<u8>,
}

/// One fragment of a direct message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirectMsg {
    /// The recipient.
    pub to: NodeId,
    /// Sequence number in the sender's stream to this recipient.
    pub seq: u64,
    /// Everything below this sequence number is acknowledged already.
    pub base: u64,
    /// Message id, shared by its fragments (and by a memo's copies).
    pub id: MsgId,
    /// Hybrid logical clock stamp.
    pub hlc: u64,
    /// Text, action or beep.
    pub kind: MessageKind,
    /// Index of this fragment.
    pub part: u16,
    /// Number of fragments.
    pub parts: u16,
    /// This fragment's text.
    pub text: String,
}

/// A repair request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nack {
    /// Whose messages are missing.
    pub sender: NodeId,
    /// In which of its lives.
    pub epoch: u64,
    /// In which channel.
    pub channel: String,
    /// Inclusive ranges of missing sequence numbers.
    pub ranges: Vec<(u64, u64)>,
    /// How many times this requester asked already; after the first tries any
    /// holder answers, not just the sender.
    pub attempt: u8,
}

/// A channel topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicInfo {
    /// Channel name.
    pub channel: String,
    /// The topic.
    pub text: String,
    /// HLC stamp; the highest wins, ties broken by setter.
    pub stamp: u64,
    /// Who set it.
    pub setter: NodeId,
    /// The setter's nick at the time.
    pub setter_nick: String,
}

/// Why a datagram was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than the header, or longer than [`MAX_DATAGRAM`].
    #[error("datagram of {0} bytes is outside the allowed size")]
    Size(usize),
    /// Does not start with [`MAGIC`]: not ours.
    #[error("bad magic")]
    Magic,
    /// Another protocol version.
    #[error("protocol version {0} is not supported")]
    Version(u8),
    /// Header flags this version does not understand.
    #[error("unknown header flags {0:#04x}")]
    Flags(u8),
    /// The body is not a valid packet.
    #[error("body does not decode: {0}")]
    Body(String),
    /// Bytes left over after the body.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// A string or list is over its cap.
    #[error("field {0} is over its limit")]
    Limit(&'static str),
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// Signed with a key that is not the sender's.
    #[error("signed with another node's key")]
    WrongKey,
    /// Of another workgroup, or of the open LAN inside a workgroup (or
    /// the other way round).
    #[error("not of this workgroup")]
    Workgroup,
}

/// Why a packet could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The encoder failed.
    #[error("packet does not encode: {0}")]
    Encode(String),
    /// The encoded packet would exceed the datagram budget.
    #[error("packet of {0} bytes is over the datagram budget")]
    TooLarge(usize),
}

/// Most memory one decode may claim. bincode counts the in-memory size of
/// what it allocates (a `Vec` of structs claims more than its wire bytes), so
/// this is above [`MAX_BODY`] yet still stops a forged length at once.
const DECODE_LIMIT: usize = 16 * 1024;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// Decodes a value that must take every byte (within the memory limit).
fn decode_exact<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (value, used): (T, usize) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| DecodeError::Body(e.to_string()))?;
    if used != bytes.len() {
        return Err(DecodeError::Trailing(bytes.len() - used));
    }
    Ok(value)
}

/// Encodes a packet (what [`crate::envelope::seal`] signs).
pub fn encode_packet(packet: &Packet) -> Result<Vec<u8>, EncodeError> {
    // bincode does not apply the limit when encoding: check the size after.
    let body = bincode::serde::encode_to_vec(packet, bincode::config::standard())
        .map_err(|e| EncodeError::Encode(e.to_string()))?;
    if body.len() > MAX_BODY {
        return Err(EncodeError::TooLarge(body.len()));
    }
    Ok(body)
}

/// Decodes and checks a packet (what [`crate::envelope::open`] found signed).
pub fn decode_packet(body: &[u8]) -> Result<Packet, DecodeError> {
    if body.len() > MAX_BODY {
        return Err(DecodeError::Size(body.len()));
    }
    let packet: Packet = decode_exact(body)?;
    check(&packet)?;
    Ok(packet)
}

/// The password channel a body is about, if it is about one channel: what
/// [`Body::Hidden`] hides when that channel has a password.
pub fn channel_of(body: &Body) -> Option<&str> {
    match body {
        Body::Channel(m) => Some(&m.channel),
        Body::Nack(n) => Some(&n.channel),
        Body::Gone { channel, .. }
        | Body::TopicRequest { channel }
        | Body::Want { channel, .. }
        | Body::Typing {
            chat: TypingChat::Channel(channel),
        } => Some(channel),
        Body::Topic(t) => Some(&t.channel),
        Body::Sync(sync) => Some(&sync.channel),
        Body::Recalled(r) => Some(&r.channel),
        _ => None,
    }
}

/// Encodes a body to be hidden in a password channel's [`Body::Hidden`].
pub fn encode_body(body: &Body) -> Vec<u8> {
    // A body the node built always encodes; the size is checked with the
    // packet around it.
    bincode::serde::encode_to_vec(body, bincode::config::standard()).unwrap_or_default()
}

/// Decodes and checks a body opened from a [`Body::Hidden`]: one about a
/// channel, not hidden once more.
pub fn decode_body(bytes: &[u8]) -> Result<Body, DecodeError> {
    let body: Body = decode_exact(bytes)?;
    if channel_of(&body).is_none() {
        return Err(DecodeError::Limit("hidden"));
    }
    check_body(&body)?;
    Ok(body)
}

/// Encodes a password channel's state (tail and topic stamp: the name is
/// the key's), to be sealed into a presence.
pub fn encode_state(state: &ChannelState) -> Vec<u8> {
    bincode::serde::encode_to_vec((state.tail, state.topic_stamp), bincode::config::standard())
        .unwrap_or_default()
}

/// Decodes a password channel's state opened from a presence.
pub fn decode_state(name: &str, bytes: &[u8]) -> Result<ChannelState, DecodeError> {
    let (tail, topic_stamp): (u64, u64) = decode_exact(bytes)?;
    Ok(ChannelState {
        name: name.to_string(),
        tail,
        topic_stamp,
    })
}

/// Encodes a direct-message fragment, to be sealed for its recipient.
pub fn encode_direct(msg: &DirectMsg) -> Vec<u8> {
    // A fragment that came through `check` always encodes.
    bincode::serde::encode_to_vec(msg, bincode::config::standard()).unwrap_or_default()
}

/// Decodes and checks a direct-message fragment that was unsealed.
pub fn decode_direct(bytes: &[u8]) -> Result<DirectMsg, DecodeError> {
    let msg: DirectMsg = decode_exact(bytes)?;
    check_direct(&msg)?;
    Ok(msg)
}

fn check_direct(m: &DirectMsg) -> Result<(), DecodeError> {
    if m.seq == 0 || m.base == 0 || m.base > m.seq {
        return Err(DecodeError::Limit("seq"));
    }
    check_fragment(m.part, m.parts, &m.text)
}

fn cap(what: &'static str, len: usize, max: usize) -> Result<(), DecodeError> {
    if len > max {
        Err(DecodeError::Limit(what))
    } else {
        Ok(())
    }
}

fn check_fragment(part: u16, parts: u16, text: &str) -> Result<(), DecodeError> {
    cap("text", text.len(), FRAGMENT_TEXT)?;
    if parts == 0 || parts > MAX_PARTS || part >= parts {
        return Err(DecodeError::Limit("parts"));
    }
    Ok(())
}

fn check_channel_msg(m: &ChannelMsg) -> Result<(), DecodeError> {
    cap("channel", m.channel.len(), MAX_CHANNEL_NAME)?;
    if m.seq == 0 {
        return Err(DecodeError::Limit("seq"));
    }
    let sig_len = if m.part == 0 { 64 } else { 0 };
    if m.sig.len() != sig_len {
        return Err(DecodeError::Limit("sig"));
    }
    check_fragment(m.part, m.parts, &m.text)
}

/// Checks every cap a decoded packet must respect.
fn check(packet: &Packet) -> Result<(), DecodeError> {
    check_body(&packet.body)
}

fn check_body(body: &Body) -> Result<(), DecodeError> {
    match body {
        Body::Presence(p) => {
            cap("nick", p.nick.len(), MAX_NICK)?;
            if p.nick.is_empty() {
                return Err(DecodeError::Limit("nick"));
            }
            cap("status_text", p.status_text.len(), MAX_STATUS_TEXT)?;
            cap("host", p.host.len(), MAX_HOST)?;
            cap("version", p.version.len(), 16)?;
            cap("channels", p.channels.len(), MAX_JOINED)?;
            for c in &p.channels {
                cap("channel", c.name.len(), MAX_CHANNEL_NAME)?;
            }
            cap("sealed", p.channels.len() + p.sealed.len(), MAX_JOINED)?;
            for s in &p.sealed {
                cap("sealed", s.len(), SEALED_STATE)?;
            }
        }
        Body::Peers { peers } => cap("peers", peers.len(), MAX_KNOWN_PEERS)?,
        Body::Unheard { peers } => cap("unheard", peers.len(), MAX_UNHEARD)?,
        Body::Channel(m) => check_channel_msg(m)?,
        Body::Nack(n) => {
            cap("channel", n.channel.len(), MAX_CHANNEL_NAME)?;
            cap("ranges", n.ranges.len(), MAX_NACK_RANGES)?;
            if n.ranges.is_empty() || n.ranges.iter().any(|(a, b)| *a == 0 || a > b) {
                return Err(DecodeError::Limit("ranges"));
            }
        }
        Body::Gone { channel, .. } | Body::TopicRequest { channel } => {
            cap("channel", channel.len(), MAX_CHANNEL_NAME)?;
        }
        Body::Direct(m) => check_direct(m)?,
        Body::Sealed { bytes, .. } => cap("sealed", bytes.len(), MAX_BODY)?,
        Body::Hidden { bytes } => cap("hidden", bytes.len(), MAX_BODY)?,
        Body::Protected { channels } => {
            cap("protected", channels.len(), MAX_PROTECTED)?;
            for c in channels {
                if channel_name(&c.name).as_deref() != Ok(c.name.as_str()) {
                    return Err(DecodeError::Limit("protected"));
                }
            }
        }
        Body::Topic(t) => {
            cap("channel", t.channel.len(), MAX_CHANNEL_NAME)?;
            cap("topic", t.text.len(), MAX_TOPIC)?;
            cap("nick", t.setter_nick.len(), MAX_NICK)?;
        }
        Body::Beat { tails, .. } => cap("tails", tails.len(), MAX_JOINED)?,
        Body::Typing {
            chat: TypingChat::Channel(channel),
        } => {
            cap("channel", channel.len(), MAX_CHANNEL_NAME)?;
            // Senders normalise names before sending; anything else (no `#`,
            // spaces, "#main") names no channel anyone is in.
            if channel_name(channel).as_deref() != Ok(channel.as_str()) {
                return Err(DecodeError::Limit("channel"));
            }
        }
        Body::Typing {
            chat: TypingChat::Direct(_),
        } => {}
        Body::Sync(sync) => {
            cap("channel", sync.channel.len(), MAX_CHANNEL_NAME)?;
            cap("ranges", sync.ranges.len(), MAX_RANGES)?;
            for r in &sync.ranges {
                if r.lo >= r.hi {
                    return Err(DecodeError::Limit("ranges"));
                }
                if let RangeSummary::Ids(ids) = &r.what {
                    cap("ids", ids.len(), LIST_AT_MOST)?;
                }
            }
        }
        Body::Want { channel, ids } => {
            cap("channel", channel.len(), MAX_CHANNEL_NAME)?;
            cap("ids", ids.len(), MAX_WANT)?;
        }
        Body::Recalled(r) => {
            cap("channel", r.channel.len(), MAX_CHANNEL_NAME)?;
            cap("nick", r.nick.len(), MAX_NICK)?;
            if r.author.len() != AUTHOR_SIG_LEN {
                return Err(DecodeError::Limit("author"));
            }
            check_fragment(r.part, r.parts, &r.text)?;
        }
        Body::Leave
        | Body::Ping { .. }
        | Body::Probe { .. }
        | Body::ProbeAck { .. }
        | Body::ProbeRequest { .. }
        | Body::Down { .. }
        | Body::DirectAck { .. } => {}
    }
    Ok(())
}

/// Splits a text into fragments of at most [`FRAGMENT_TEXT`] bytes, on
/// character boundaries. An empty text is one empty fragment.
pub fn split_text(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.len() > FRAGMENT_TEXT {
        let mut end = FRAGMENT_TEXT;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (head, tail) = rest.split_at(end);
        parts.push(head);
        rest = tail;
    }
    parts.push(rest);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(packet: &Packet) -> Result<Vec<u8>, EncodeError> {
        encode_packet(packet)
    }

    fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
        decode_packet(bytes)
    }
    use crate::types::clip;

    fn id(n: u8) -> NodeId {
        NodeId([n; 16])
    }

    fn full_presence() -> Packet {
        let channels = (0..MAX_JOINED)
            .map(|i| ChannelState {
                name: clip(&format!("#{i}{}", "w".repeat(40)), MAX_CHANNEL_NAME),
                tail: u64::MAX,
                topic_stamp: u64::MAX,
            })
            .collect();
        Packet {
            from: id(1),
            epoch: u64::MAX,
            body: Body::Presence(Presence {
                nick: "ж".repeat(MAX_NICK / 2),
                status: Status::DoNotDisturb,
                status_text: "s".repeat(MAX_STATUS_TEXT),
                host: "h".repeat(MAX_HOST),
                version: "v".repeat(16),
                since_ms: u64::MAX,
                channels,
                hello: true,
                seq: u64::MAX,
                knows: u16::MAX,
                chain: ChainPoint {
                    interval: u64::MAX,
                    key: [0xff; crate::chain::KEY_LEN],
                    next: Some([0xff; crate::chain::KEY_LEN]),
                },
                ..Presence::default()
            }),
        }
    }

    /// The largest presence with password channels: a sealed state is
    /// smaller than an open channel's, and together they are at most
    /// `MAX_JOINED`.
    fn full_sealed_presence(sealed: usize) -> Packet {
        let mut packet = full_presence();
        if let Body::Presence(p) = &mut packet.body {
            p.channels.truncate(MAX_JOINED - sealed);
            p.sealed = vec![vec![0xee; SEALED_STATE]; sealed];
        }
        packet
    }

    #[test]
    fn presences_with_password_channels_fit_and_are_capped() {
        for sealed in [1, 4, MAX_JOINED] {
            let packet = full_sealed_presence(sealed);
            let bytes = encode(&packet).expect("encodes");
            assert_eq!(decode(&bytes), Ok(packet), "{sealed} sealed");
        }
        // One more than the cap, counting both lists.
        let mut packet = full_sealed_presence(4);
        if let Body::Presence(p) = &mut packet.body {
            p.channels.truncate(MAX_JOINED - 4);
            p.channels[0].name = "#a".into();
            p.sealed.push(vec![0; 4]);
        }
        let bytes = encode(&packet).expect("encodes");
        assert_eq!(decode(&bytes), Err(DecodeError::Limit("sealed")));
        // A sealed state longer than any real one.
        let mut packet = full_sealed_presence(1);
        if let Body::Presence(p) = &mut packet.body {
            p.sealed[0].push(0);
        }
        let bytes = encode(&packet).expect("encodes");
        assert_eq!(decode(&bytes), Err(DecodeError::Limit("sealed")));
    }

    /// Every channel body, hidden for a password channel (its encoding,
    /// the AEAD tag and the length), still fits a datagram.
    #[test]
    fn the_largest_hidden_bodies_fit() {
        let msg = largest_fragment();
        let (channel, text) = (msg.channel.clone(), msg.text.clone());
        let bodies = [
            Body::Channel(ChannelMsg {
                part: 0,
                sig: vec![3; 64],
                ..msg.clone()
            }),
            Body::Recalled(Recalled {
                channel: channel.clone(),
                origin: id(3),
                nick: "ж".repeat(MAX_NICK / 2),
                id: MsgId([9; 16]),
                hlc: u64::MAX,
                kind: MessageKind::Action,
                part: MAX_PARTS - 1,
                parts: MAX_PARTS,
                text,
                author: vec![5; AUTHOR_SIG_LEN],
            }),
            Body::Topic(TopicInfo {
                channel: channel.clone(),
                text: "т".repeat(MAX_TOPIC / 2),
                stamp: u64::MAX,
                setter: id(3),
                setter_nick: "ж".repeat(MAX_NICK / 2),
            }),
        ];
        for body in bodies {
            let inner = encode_body(&body);
            assert_eq!(decode_body(&inner), Ok(body.clone()));
            let hidden = Packet {
                from: id(2),
                epoch: u64::MAX,
                body: Body::Hidden {
                    bytes: vec![0xaa; inner.len() + 16],
                },
            };
            let bytes = encode(&hidden).unwrap_or_else(|e| panic!("{body:?}: {e}"));
            assert_eq!(decode(&bytes), Ok(hidden));
        }
    }

    #[test]
    fn a_hidden_body_is_about_one_channel_and_hides_nothing_more() {
        assert_eq!(
            decode_body(&encode_body(&Body::Leave)),
            Err(DecodeError::Limit("hidden"))
        );
        let nested = Body::Hidden { bytes: vec![1; 8] };
        assert_eq!(
            decode_body(&encode_body(&nested)),
            Err(DecodeError::Limit("hidden"))
        );
        let typing = Body::Typing {
            chat: TypingChat::Channel("#a b".into()),
        };
        assert_eq!(
            decode_body(&encode_body(&typing)),
            Err(DecodeError::Limit("channel"))
        );
        let mut bytes = encode_body(&Body::TopicRequest {
            channel: "#ops".into(),
        });
        assert!(decode_body(&bytes).is_ok());
        bytes.push(0);
        assert_eq!(decode_body(&bytes), Err(DecodeError::Trailing(1)));
        let state = ChannelState {
            name: "#ops".into(),
            tail: 7,
            topic_stamp: u64::MAX,
        };
        let sealed = encode_state(&state);
        assert!(sealed.len() + 16 <= SEALED_STATE);
        assert_eq!(decode_state("#ops", &sealed), Ok(state));
    }

    #[test]
    fn protected_names_are_capped_and_normalised() {
        let list = |names: &[&str]| Packet {
            from: id(1),
            epoch: 1,
            body: Body::Protected {
                channels: names
                    .iter()
                    .map(|n| ProtectedChannel {
                        name: n.to_string(),
                        age_secs: 1,
                    })
                    .collect(),
            },
        };
        let good = list(&["#ops", "#ж"]);
        assert_eq!(decode(&encode(&good).expect("encodes")), Ok(good));
        let bad = list(&["#a b"]);
        assert_eq!(
            decode(&encode(&bad).expect("encodes")),
            Err(DecodeError::Limit("protected"))
        );
        let names: Vec<String> = (0..=MAX_PROTECTED).map(|i| format!("#{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let many = list(&names);
        assert_eq!(
            decode(&encode(&many).expect("encodes")),
            Err(DecodeError::Limit("protected"))
        );
    }

    #[test]
    fn largest_presence_fits_a_datagram() {
        let bytes = encode(&full_presence()).expect("encodes");
        println!("largest presence: {} of {MAX_BODY} bytes", bytes.len());
        assert!(bytes.len() <= MAX_BODY);
        assert_eq!(decode(&bytes), Ok(full_presence()));
    }

    /// A channel fragment with every field at its largest (the last part:
    /// no signature).
    fn largest_fragment() -> ChannelMsg {
        ChannelMsg {
            channel: "#".to_string() + &"c".repeat(MAX_CHANNEL_NAME - 1),
            seq: u64::MAX,
            id: MsgId([9; 16]),
            hlc: u64::MAX,
            kind: MessageKind::Action,
            part: MAX_PARTS - 1,
            parts: MAX_PARTS,
            text: "я".repeat(FRAGMENT_TEXT / 2),
            sig: Vec::new(),
        }
    }

    #[test]
    fn largest_fragments_fit_a_datagram() {
        let msg = largest_fragment();
        let first = Packet {
            from: id(2),
            epoch: u64::MAX,
            body: Body::Channel(ChannelMsg {
                part: 0,
                sig: vec![3; 64],
                ..msg.clone()
            }),
        };
        let bytes = encode(&first).expect("encodes");
        assert_eq!(decode(&bytes), Ok(first));
        let direct = Packet {
            from: id(2),
            epoch: u64::MAX,
            body: Body::Direct(DirectMsg {
                to: id(4),
                seq: u64::MAX,
                base: u64::MAX,
                id: msg.id,
                hlc: u64::MAX,
                kind: MessageKind::Text,
                part: 0,
                parts: MAX_PARTS,
                text: msg.text.clone(),
            }),
        };
        let bytes = encode(&direct).expect("encodes");
        assert_eq!(decode(&bytes), Ok(direct));
    }

    #[test]
    fn longest_text_splits_within_part_limit() {
        let text = "ю".repeat(MAX_TEXT / 2);
        let parts = split_text(&text);
        assert!(parts.len() <= MAX_PARTS as usize);
        assert_eq!(parts.concat(), text);
        assert!(parts.iter().all(|p| p.len() <= FRAGMENT_TEXT));
        assert_eq!(split_text(""), vec![""]);
    }

    /// Regression: with `MAX_PARTS` at 73 a 64 KiB text whose fragments end
    /// mid-way through 4-byte characters needed 74 fragments, which every
    /// receiver dropped as malformed, so the message never arrived.
    #[test]
    fn longest_text_of_wide_characters_splits_within_part_limit() {
        let mut text = String::new();
        while text.len() + 13 <= MAX_TEXT {
            text.push_str("a😀😀😀");
        }
        let parts = split_text(&text);
        assert!(parts.len() > 73);
        assert!(parts.len() <= MAX_PARTS as usize);
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode(&Packet {
            from: id(1),
            epoch: 1,
            body: Body::Leave,
        })
        .expect("ok");
        assert!(decode(&bytes).is_ok());
        bytes.push(0);
        assert_eq!(decode(&bytes), Err(DecodeError::Trailing(1)));
        assert!(matches!(decode(&[1, 2]), Err(DecodeError::Body(_))));
    }

    #[test]
    fn forged_huge_length_is_refused_without_allocating() {
        // A presence whose nick claims u64::MAX bytes.
        let mut bytes = vec![7; 16]; // from
        bytes.push(1); // epoch
        bytes.push(0); // Body::Presence
        bytes.push(253); // varint u64 marker
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(decode(&bytes), Err(DecodeError::Body(_))));
    }

    #[test]
    fn over_cap_fields_are_refused() {
        let mut p = full_presence();
        if let Body::Presence(pr) = &mut p.body {
            pr.channels.clear();
            pr.nick = "n".repeat(MAX_NICK + 1);
        }
        let bytes = encode(&p).expect("still fits");
        assert_eq!(decode(&bytes), Err(DecodeError::Limit("nick")));
    }

    fn typing_in(channel: &str) -> Vec<u8> {
        encode(&Packet {
            from: id(1),
            epoch: 1,
            body: Body::Typing {
                chat: TypingChat::Channel(channel.into()),
            },
        })
        .expect("encodes")
    }

    #[test]
    fn typing_names_a_normalised_channel() {
        for good in ["#dev", "#Main", "#ж", &format!("#{}", "c".repeat(31))] {
            assert!(decode(&typing_in(good)).is_ok(), "{good}");
        }
        for bad in [
            "dev",
            "#",
            "",
            "#a b",
            "#a,b",
            "#main",
            " #dev",
            "#dev\n",
            &format!("#{}", "c".repeat(32)),
        ] {
            assert_eq!(
                decode(&typing_in(bad)),
                Err(DecodeError::Limit("channel")),
                "{bad:?}"
            );
        }
    }

    /// The largest catch-up datagrams the node builds fit the budget.
    #[test]
    fn the_largest_catch_up_datagrams_fit() {
        use super::{LIST_AT_MOST, MAX_RANGES, MAX_WANT};
        let packet = |body| Packet {
            from: id(1),
            epoch: u64::MAX,
            body,
        };
        let channel = format!("#{}", "ж".repeat((MAX_CHANNEL_NAME - 1) / 2));
        let ids = Body::Sync(Sync {
            channel: channel.clone(),
            round: u8::MAX,
            limit: u32::MAX,
            ranges: vec![SyncRange {
                lo: u64::MAX - 1,
                hi: u64::MAX,
                what: RangeSummary::Ids(vec![MsgId([0xff; 16]); LIST_AT_MOST]),
            }],
        });
        assert!(decode(&encode(&packet(ids)).expect("fits")).is_ok());
        let fingerprints = Body::Sync(Sync {
            channel: channel.clone(),
            round: u8::MAX,
            limit: u32::MAX,
            ranges: vec![
                SyncRange {
                    lo: u64::MAX - 1,
                    hi: u64::MAX,
                    what: RangeSummary::Fingerprint {
                        count: u32::MAX,
                        fp: u64::MAX,
                    },
                };
                MAX_RANGES
            ],
        });
        assert!(decode(&encode(&packet(fingerprints)).expect("fits")).is_ok());
        let want = Body::Want {
            channel: channel.clone(),
            ids: vec![MsgId([0xff; 16]); MAX_WANT],
        };
        assert!(decode(&encode(&packet(want)).expect("fits")).is_ok());
        let text = "ж".repeat(FRAGMENT_TEXT);
        let recalled = Body::Recalled(Recalled {
            channel,
            origin: id(2),
            nick: "n".repeat(MAX_NICK),
            id: MsgId([0xff; 16]),
            hlc: u64::MAX,
            kind: MessageKind::Action,
            part: MAX_PARTS - 1,
            parts: MAX_PARTS,
            text: split_text(&text)[0].to_string(),
            author: vec![5; AUTHOR_SIG_LEN],
        });
        assert!(decode(&encode(&packet(recalled)).expect("fits")).is_ok());
    }

    /// The body's index is its first byte after `from` and a one-byte
    /// epoch: peers of an older build of this protocol version must still
    /// read every older body the same way, so a new body only ever goes
    /// last. (Version 3 removed `Repair`, index 7, and moved the later ones
    /// down by one.)
    #[test]
    fn new_bodies_keep_the_indices_of_older_ones() {
        let index = |body: Body| {
            let bytes = encode(&Packet {
                from: id(1),
                epoch: 1,
                body,
            })
            .expect("encodes");
            bytes[16 + 1]
        };
        assert_eq!(index(Body::Leave), 1);
        assert_eq!(
            index(Body::Beat {
                seq: 1,
                tails: vec![]
            }),
            12
        );
        let typing = Body::Typing {
            chat: TypingChat::Direct(id(2)),
        };
        assert_eq!(index(typing), 13);
    }

    mod properties {
        use super::{decode, encode};
        use proptest::prelude::*;

        use super::super::*;

        fn text(max: usize) -> impl Strategy<Value = String> {
            proptest::string::string_regex(&format!(".{{0,{max}}}"))
                .expect("regex")
                .prop_map(move |s| crate::types::clip(&s, max))
        }

        fn body() -> impl Strategy<Value = Body> {
            prop_oneof![
                (
                    text(MAX_NICK),
                    text(MAX_STATUS_TEXT),
                    any::<u64>(),
                    proptest::collection::vec(
                        (text(MAX_CHANNEL_NAME), any::<u64>(), any::<u64>()),
                        0..MAX_JOINED
                    ),
                    any::<bool>()
                )
                    .prop_filter("nick", |(n, ..)| !n.is_empty())
                    .prop_map(
                        |(nick, status_text, since_ms, chans, hello)| Body::Presence(Presence {
                            nick,
                            status: Status::Away,
                            status_text,
                            host: "pc".into(),
                            version: "1".into(),
                            since_ms,
                            channels: chans
                                .into_iter()
                                .map(|(name, tail, topic_stamp)| ChannelState {
                                    name,
                                    tail,
                                    topic_stamp
                                })
                                .collect(),
                            hello,
                            seq: since_ms / 3,
                            ..Presence::default()
                        })
                    ),
                Just(Body::Leave),
                (any::<u64>(), 1..u64::MAX, text(FRAGMENT_TEXT), 0..MAX_PARTS).prop_map(
                    |(hlc, seq, text, part)| {
                        Body::Channel(ChannelMsg {
                            channel: "#Main".into(),
                            seq,
                            id: MsgId([3; 16]),
                            hlc,
                            kind: MessageKind::Text,
                            part,
                            parts: MAX_PARTS,
                            text,
                            sig: if part == 0 { vec![1; 64] } else { Vec::new() },
                        })
                    }
                ),
                (
                    1..u64::MAX,
                    proptest::collection::vec((1..1000u64, 0..1000u64), 1..MAX_NACK_RANGES)
                )
                    .prop_map(|(epoch, r)| Body::Nack(Nack {
                        sender: NodeId([1; 16]),
                        epoch,
                        channel: "#dev".into(),
                        ranges: r.into_iter().map(|(a, len)| (a, a + len)).collect(),
                        attempt: 1,
                    })),
                (any::<u64>(), any::<u64>())
                    .prop_map(|(stream_epoch, seq)| Body::DirectAck { stream_epoch, seq }),
                proptest::string::string_regex("#[a-zA-Z0-9а-яё_.-]{1,15}")
                    .expect("regex")
                    // "#main" is sent as "#Main"; only normalised names decode.
                    .prop_filter("normalised", |n| crate::types::channel_name(n).as_deref()
                        == Ok(n.as_str()))
                    .prop_map(|name| Body::Typing {
                        chat: TypingChat::Channel(name)
                    }),
                any::<[u8; 16]>().prop_map(|to| Body::Typing {
                    chat: TypingChat::Direct(NodeId(to))
                }),
                proptest::collection::vec(
                    (
                        0..u64::MAX - 1,
                        1..1000u64,
                        proptest::option::of(any::<(u32, u64)>()),
                        0..12usize,
                    ),
                    0..4
                )
                .prop_map(|ranges| Body::Sync(Sync {
                    channel: "#Main".into(),
                    round: 1,
                    limit: 200,
                    ranges: ranges
                        .into_iter()
                        .map(|(lo, len, fp, n)| SyncRange {
                            lo,
                            hi: lo.saturating_add(len),
                            what: match fp {
                                Some((count, fp)) => RangeSummary::Fingerprint { count, fp },
                                None => RangeSummary::Ids(vec![MsgId([7; 16]); n]),
                            },
                        })
                        .collect(),
                })),
                (0..MAX_WANT).prop_map(|n| Body::Want {
                    channel: "#dev".into(),
                    ids: vec![MsgId([5; 16]); n],
                }),
                (any::<u64>(), text(200), 0..MAX_PARTS).prop_map(|(hlc, text, part)| {
                    Body::Recalled(Recalled {
                        channel: "#Main".into(),
                        origin: NodeId([4; 16]),
                        nick: "ann".into(),
                        id: MsgId([3; 16]),
                        hlc,
                        kind: MessageKind::Action,
                        part,
                        parts: MAX_PARTS,
                        text,
                        author: vec![5; AUTHOR_SIG_LEN],
                    })
                }),
            ]
        }

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
                let _ = decode(&bytes);
            }

            #[test]
            fn valid_packets_round_trip_and_survive_mutation(
                body in body(),
                epoch in any::<u64>(),
                flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
                cut in any::<usize>(),
            ) {
                let packet = Packet { from: NodeId([9; 16]), epoch, body };
                let bytes = encode(&packet).expect("within budget");
                prop_assert_eq!(decode(&bytes), Ok(packet));
                let mut mutated = bytes.clone();
                for (at, bits) in flips {
                    let i = at % mutated.len();
                    mutated[i] ^= bits;
                }
                let _ = decode(&mutated);
                let _ = decode(&bytes[..cut % bytes.len()]);
            }
        }
    }
}
