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

mod codec;
pub use codec::{
    DecodeError, EncodeError, channel_of, decode_body, decode_direct, decode_lean, decode_packet,
    decode_state, encode_body, encode_direct, encode_lean, encode_packet, encode_state, split_text,
};

#[cfg(test)]
mod tests;
