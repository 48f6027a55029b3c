//! Encoding and decoding of packets, with every cap of the table in
//! [`super`] checked on the way in: a peer's datagram that breaks one is
//! refused whole.

use super::*;

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
    /// The workgroup's encryption failed (the AEAD refuses only inputs of
    /// gigabytes, so this is a bug, not a size).
    #[error("the workgroup encryption failed")]
    Encrypt,
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
