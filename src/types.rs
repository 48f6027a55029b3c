//! Plain values shared by the core, the driver and every client: identities,
//! chats, statuses, and the limits that bound what a peer may send.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest nickname, in bytes.
pub const MAX_NICK: usize = 32;
/// Longest channel name including the leading `#`, in bytes.
pub const MAX_CHANNEL_NAME: usize = 32;
/// Longest status text ("at lunch"), in bytes.
pub const MAX_STATUS_TEXT: usize = 64;
/// Longest channel topic, in bytes.
pub const MAX_TOPIC: usize = 300;
/// Longest host name carried in presence, in bytes.
pub const MAX_HOST: usize = 64;
/// Longest message text a user may send (a pasted log), in bytes.
pub const MAX_TEXT: usize = 64 * 1024;
/// Most channels one node may be in; presence lists them all.
pub const MAX_JOINED: usize = 16;
/// The channel every node is in and cannot leave.
pub const MAIN_CHANNEL: &str = "#Main";

/// Identity of one installation, stable across restarts (kept in the data
/// directory).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(pub [u8; 16]);

impl NodeId {
    /// A fresh random id.
    pub fn random() -> Self {
        NodeId(*uuid::Uuid::new_v4().as_bytes())
    }

    /// The first four hex digits, used to tell two equal nicks apart.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..2])
    }

    /// Parses the 32-hex-digit form written by `Display`.
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text.trim())
            .ok()
            .map(|u| NodeId(*u.as_bytes()))
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", uuid::Uuid::from_bytes(self.0).simple())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.short())
    }
}

/// Identity of one message; all fragments of a long text share it, and a memo
/// to several people keeps one id for all of them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MsgId(pub [u8; 16]);

impl MsgId {
    /// Builds an id from 128 random bits supplied by the caller (the core
    /// owns its seeded generator).
    pub fn from_bits(bits: u128) -> Self {
        MsgId(bits.to_be_bytes())
    }
}

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", uuid::Uuid::from_bytes(self.0).simple())
    }
}

impl fmt::Debug for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MsgId({self})")
    }
}

/// What a user is doing, as buddies see it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// At the desk.
    #[default]
    Available,
    /// Away from the desk.
    Away,
    /// Do not disturb: no sounds, no pop-ups.
    DoNotDisturb,
}

impl Status {
    /// The lower-case word used in events and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Available => "available",
            Status::Away => "away",
            Status::DoNotDisturb => "dnd",
        }
    }
}

/// How a text is meant: said, acted (`/me`), or a beep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageKind {
    /// Plain text.
    #[default]
    Text,
    /// `/me waves`: shown as "* alex waves".
    Action,
    /// An attention beep; carries no text.
    Beep,
    /// A file or folder offered: the text is the offer
    /// ([`crate::files::Offer::to_text`]).
    File,
}

/// A conversation: a channel, or a direct chat with one peer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Chat {
    /// A channel, by name with its `#`.
    Channel(String),
    /// Private chat with one node.
    Direct(NodeId),
}

/// Why a channel name is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty or only `#`.
    #[error("the name is empty")]
    Empty,
    /// The name is longer than the limit.
    #[error("the name is longer than {0} bytes")]
    TooLong(usize),
    /// The name has a space, a comma or a control character.
    #[error("the name may not contain spaces, commas or control characters")]
    BadCharacter,
}

/// What a person is called where others see them: `nick`, or
/// `nick#abcd` (the start of the node id) while someone else has the same
/// nick (`shared`). The one rule the core and every client use.
pub fn label(nick: &str, id: NodeId, shared: bool) -> String {
    if shared {
        format!("{nick}#{}", id.short())
    } else {
        nick.to_string()
    }
}

/// Normalises a channel name: adds the leading `#` and checks it. Case is
/// kept for display, and "#main" means `#Main`.
pub fn channel_name(raw: &str) -> Result<String, NameError> {
    let raw = raw.trim();
    let bare = raw.strip_prefix('#').unwrap_or(raw);
    if bare.is_empty() {
        return Err(NameError::Empty);
    }
    if bare
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return Err(NameError::BadCharacter);
    }
    let name = format!("#{bare}");
    if name.len() > MAX_CHANNEL_NAME {
        return Err(NameError::TooLong(MAX_CHANNEL_NAME));
    }
    if name.eq_ignore_ascii_case(MAIN_CHANNEL) {
        return Ok(MAIN_CHANNEL.to_string());
    }
    Ok(name)
}

/// Checks a nickname: 1 to [`MAX_NICK`] bytes, no spaces, commas, `#`, `@`
/// or control characters (they would make commands ambiguous).
pub fn valid_nick(nick: &str) -> bool {
    !nick.is_empty()
        && nick.len() <= MAX_NICK
        && !nick.starts_with('#')
        && !nick
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == '@')
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_are_normalised() {
        assert_eq!(channel_name("dev").as_deref(), Ok("#dev"));
        assert_eq!(channel_name("#main").as_deref(), Ok("#Main"));
        assert_eq!(channel_name("#"), Err(NameError::Empty));
        assert_eq!(channel_name("a b"), Err(NameError::BadCharacter));
        assert!(channel_name(&"x".repeat(40)).is_err());
    }

    #[test]
    fn nicks_reject_what_makes_commands_ambiguous() {
        assert!(valid_nick("alex"));
        assert!(valid_nick("Алексей"));
        assert!(!valid_nick("a b"));
        assert!(!valid_nick("#chan"));
        assert!(!valid_nick("a,b"));
        assert!(!valid_nick(""));
    }

    #[test]
    fn clip_keeps_whole_characters() {
        assert_eq!(clip("привет", 3), "п");
        assert_eq!(clip("abc", 10), "abc");
    }

    #[test]
    fn node_id_round_trips_through_text() {
        let id = NodeId::random();
        assert_eq!(NodeId::parse(&id.to_string()), Some(id));
    }
}
