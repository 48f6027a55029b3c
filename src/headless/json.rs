//! The headless mode's JSON events (`lanchat headless --json`, and
//! `lanchat doctor --json` for [`JsonEvent::Network`]): the public scripting
//! contract as one type. Each line of output is one [`JsonEvent`], its kind
//! in the `event` key.
//!
//! README.md shows an example of every event; a test parses each example
//! into this type and writes it back, so the two cannot drift apart.

use std::net::{Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::api::{ChannelSummary, OfflineReason, PeerInfo};
use crate::files::{Direction, FileId, Flow};
use crate::net::ReadyInfo;
use crate::types::{MessageKind, MsgId, NodeId, Status};

mod files;
mod network;
#[cfg(test)]
mod tests;
mod words;

pub use files::{Answer, FailureKind, FileEntry, FileEntryState, Offer};
pub use network::{Dropped, Finding, FindingKind, Interface, Network, NetworkPeer};
use words::{DirectionDef, FlowDef, MessageKindDef, OfflineReasonDef, StatusDef, hex_id};

/// One event a line. Ids are 32 hex digits; `chat` is a channel's name or
/// `@` and the other party's label; times are RFC 3339 in UTC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JsonEvent {
    /// The node has started.
    Ready {
        /// This node's id.
        #[serde(with = "hex_id")]
        node: NodeId,
        /// The starting nick.
        nick: String,
        /// The group socket's UDP port.
        port: u16,
        /// The multicast group.
        group: Ipv4Addr,
        /// The unicast address peers see.
        addr: SocketAddr,
        /// This run's epoch.
        epoch: u64,
        /// The host name.
        host: String,
        /// The interfaces in use.
        interfaces: Vec<String>,
        /// The data directory.
        data_dir: String,
        /// This node's key fingerprint.
        fingerprint: String,
        /// Whether a workgroup passphrase is in use.
        workgroup: bool,
        /// The TCP port files are served on (0: none).
        file_port: u16,
    },
    /// A peer came online, came back, or restarted.
    PeerOnline(Peer),
    /// A peer went offline.
    PeerOffline {
        /// Who.
        #[serde(with = "hex_id")]
        node: NodeId,
        /// Their nick.
        nick: String,
        /// `quit` or `timeout`.
        #[serde(with = "OfflineReasonDef")]
        reason: OfflineReason,
    },
    /// Someone appeared with another key than the one first seen for their
    /// nick and host.
    KeyChanged {
        /// The node now using the nick.
        #[serde(with = "hex_id")]
        node: NodeId,
        /// The nick.
        nick: String,
        /// The host.
        host: String,
        /// The fingerprint first seen.
        old_fingerprint: String,
        /// The fingerprint now.
        new_fingerprint: String,
    },
    /// I joined a password channel (its key stays in the node).
    ChannelKey {
        /// The channel.
        channel: String,
    },
    /// A person's current key is trusted from now on.
    Trusted {
        /// The node.
        #[serde(with = "hex_id")]
        node: NodeId,
        /// Its nick.
        nick: String,
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// Someone (maybe me) changed nick.
    Nick {
        /// Who.
        #[serde(with = "hex_id")]
        node: NodeId,
        /// Before.
        old: String,
        /// After.
        new: String,
        /// Whether it is me.
        me: bool,
    },
    /// Someone (maybe me) changed status.
    Status {
        /// Who.
        #[serde(with = "hex_id")]
        node: NodeId,
        /// Their nick.
        nick: String,
        /// `available`, `away` or `dnd`.
        #[serde(with = "StatusDef")]
        status: Status,
        /// The status text.
        text: String,
    },
    /// A message, now or from history.
    Message {
        /// Message id.
        #[serde(with = "hex_id")]
        id: MsgId,
        /// The chat.
        chat: String,
        /// In a direct chat: the other party.
        #[serde(
            default,
            with = "hex_id::option",
            skip_serializing_if = "Option::is_none"
        )]
        peer: Option<NodeId>,
        /// The author.
        #[serde(with = "hex_id")]
        from: NodeId,
        /// The author's nick.
        nick: String,
        /// The text.
        text: String,
        /// `text`, `action`, `beep` or `file`.
        #[serde(with = "MessageKindDef")]
        kind: MessageKind,
        /// When it was sent.
        time: String,
        /// Its hybrid logical clock stamp.
        hlc: u64,
        /// Caught up or replayed, not happening now.
        history: bool,
        /// A search result (present only then).
        #[serde(default, skip_serializing_if = "is_false")]
        search: bool,
    },
    /// I sent a message (one event per chat it went to).
    Sent {
        /// Message id.
        #[serde(with = "hex_id")]
        id: MsgId,
        /// Where it went.
        chat: String,
        /// In a direct chat: the other party.
        #[serde(
            default,
            with = "hex_id::option",
            skip_serializing_if = "Option::is_none"
        )]
        peer: Option<NodeId>,
        /// The text.
        text: String,
        /// `text`, `action`, `beep` or `file`.
        #[serde(with = "MessageKindDef")]
        kind: MessageKind,
        /// Its hybrid logical clock stamp.
        hlc: u64,
    },
    /// A direct message reached its recipient.
    Delivered {
        /// Message id.
        #[serde(with = "hex_id")]
        id: MsgId,
        /// The recipient.
        #[serde(with = "hex_id")]
        to: NodeId,
        /// The recipient's label.
        nick: String,
    },
    /// A direct message is kept and sent when the recipient returns.
    Queued {
        /// Message id.
        #[serde(with = "hex_id")]
        id: MsgId,
        /// The recipient.
        #[serde(with = "hex_id")]
        to: NodeId,
        /// The recipient's label.
        nick: String,
    },
    /// Someone (maybe me) joined a channel I am in.
    Joined {
        /// The channel.
        channel: String,
        /// Who.
        #[serde(with = "hex_id")]
        node: NodeId,
        /// Their nick.
        nick: String,
        /// Whether it is me.
        me: bool,
    },
    /// Someone (maybe me) left a channel I am in.
    Parted {
        /// The channel.
        channel: String,
        /// Who.
        #[serde(with = "hex_id")]
        node: NodeId,
        /// Their nick.
        nick: String,
        /// Whether it is me.
        me: bool,
    },
    /// A channel's topic changed (or was learnt on joining).
    Topic {
        /// The channel.
        channel: String,
        /// The topic.
        text: String,
        /// Who set it.
        #[serde(with = "hex_id")]
        by: NodeId,
        /// Their nick then.
        nick: String,
    },
    /// Someone is typing in a chat of mine.
    Typing {
        /// The chat.
        chat: String,
        /// Who.
        #[serde(with = "hex_id")]
        node: NodeId,
        /// Their nick.
        nick: String,
    },
    /// Someone beeped me.
    Beep {
        /// Who.
        #[serde(with = "hex_id")]
        from: NodeId,
        /// Their nick.
        nick: String,
    },
    /// The answer to `/who`.
    Who {
        /// The peers online.
        peers: Vec<Peer>,
    },
    /// The answer to `/channels`.
    Channels {
        /// The channels known.
        channels: Vec<Channel>,
    },
    /// Messages that can no longer be had.
    Missed {
        /// The chat.
        chat: String,
        /// The sender.
        #[serde(with = "hex_id")]
        from: NodeId,
        /// The sender's label.
        nick: String,
        /// How many datagrams were skipped.
        count: u64,
    },
    /// The end of a `/history` answer.
    HistoryDone {
        /// The chat.
        chat: String,
        /// The request's `before` (an HLC stamp), if any.
        before: Option<u64>,
        /// The request's `limit`.
        limit: usize,
        /// How many messages the answer had.
        count: usize,
    },
    /// A chat's history was written to a file.
    Exported {
        /// The chat.
        chat: String,
        /// The file.
        path: String,
        /// How many messages it holds.
        count: usize,
    },
    /// A command could not be done, or something went wrong.
    Error {
        /// What happened.
        message: String,
    },
    /// The history database was found damaged at start and moved aside.
    HistoryRecovered {
        /// Where the damaged file is now.
        moved_to: String,
        /// Messages recovered from it.
        recovered: u64,
        /// What SQLite's check said.
        cause: String,
    },
    /// A node speaks another wire version.
    OtherVersion {
        /// Where it was heard.
        addr: SocketAddr,
        /// The nick of the peer last online there, if any.
        nick: Option<String>,
        /// The version it speaks.
        version: u8,
        /// The version this node speaks.
        mine: u8,
        /// Whether its version is newer than mine.
        newer: bool,
    },
    /// The doctor's report (`/doctor`, `lanchat doctor --json`).
    Network(Network),
    /// The addresses reached by unicast too, after `/peer` or `/unpeer`.
    StaticPeers {
        /// All of them now.
        peers: Vec<SocketAddr>,
    },
    /// The current chat changed (after `/join` and the like).
    Current {
        /// The chat.
        chat: String,
    },
    /// The answer to `/help`.
    Help {
        /// The list of commands.
        text: String,
    },
    /// My offer went out.
    FileOffered {
        /// What is offered.
        #[serde(flatten)]
        offer: Offer,
        /// Where it went.
        chat: String,
    },
    /// Someone offers me a file or folder.
    FileOffer {
        /// What is offered.
        #[serde(flatten)]
        offer: Offer,
        /// Who offers it.
        #[serde(with = "hex_id")]
        from: NodeId,
        /// Their label.
        nick: String,
        /// Where it was offered.
        chat: String,
    },
    /// A transfer moved on.
    FileProgress {
        /// The offer.
        #[serde(with = "hex_id")]
        id: FileId,
        /// The other side.
        #[serde(with = "hex_id")]
        peer: NodeId,
        /// `up` or `down`.
        #[serde(with = "DirectionDef")]
        direction: Direction,
        /// Bytes moved so far.
        done: u64,
        /// The offer's size.
        total: u64,
        /// Bytes a second.
        rate: u64,
        /// Seconds left at that rate; null while the rate is 0.
        eta: Option<u64>,
        /// `active`, `queued`, `reconnecting` or `sender_away`.
        #[serde(with = "FlowDef")]
        flow: Flow,
    },
    /// A transfer completed.
    FileDone {
        /// The offer.
        #[serde(with = "hex_id")]
        id: FileId,
        /// The other side.
        #[serde(with = "hex_id")]
        peer: NodeId,
        /// `up` or `down`.
        #[serde(with = "DirectionDef")]
        direction: Direction,
        /// Where it was saved; null for my own offer.
        path: Option<String>,
        /// The offer's size.
        size: u64,
        /// SHA-256 (hex) of the file, or of a folder's listing.
        sha256: String,
        /// Bytes that crossed the network.
        carried: u64,
        /// How many times it went on after a dropped connection.
        resumes: u32,
    },
    /// A transfer ended without the file.
    FileFailed {
        /// The offer.
        #[serde(with = "hex_id")]
        id: FileId,
        /// The other side; null for my own offer withdrawn from everyone.
        #[serde(with = "hex_id::option")]
        peer: Option<NodeId>,
        /// `up` or `down`.
        #[serde(with = "DirectionDef")]
        direction: Direction,
        /// Why, in a word.
        reason: FailureKind,
        /// Why, in English.
        text: String,
    },
    /// The answer to `/files`.
    Files {
        /// Offers made and received.
        files: Vec<FileEntry>,
    },
    /// The node has said goodbye; nothing more will come.
    Stopped,
}

impl JsonEvent {
    /// The event as one line of JSON, its keys in alphabetical order (as
    /// the headless mode has always written them).
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        // Through a `Value`: its map sorts the keys.
        serde_json::to_value(self).map(|value| value.to_string())
    }
}

impl From<&ReadyInfo> for JsonEvent {
    fn from(ready: &ReadyInfo) -> JsonEvent {
        JsonEvent::Ready {
            node: ready.id,
            nick: ready.nick.clone(),
            port: ready.port,
            group: ready.group,
            addr: ready.addr,
            epoch: ready.epoch,
            host: ready.host.clone(),
            interfaces: ready.interfaces.clone(),
            data_dir: ready.data_dir.display().to_string(),
            fingerprint: ready.key.fingerprint(),
            workgroup: ready.workgroup,
            file_port: ready.file_port,
        }
    }
}

/// A peer, as `peer_online` and `who` show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Peer {
    /// Its id.
    #[serde(with = "hex_id")]
    pub node: NodeId,
    /// Its nick.
    pub nick: String,
    /// The nick, or `nick#abcd` when two online share it.
    pub label: String,
    /// Its unicast socket.
    pub addr: SocketAddr,
    /// `available`, `away` or `dnd`.
    #[serde(with = "StatusDef")]
    pub status: Status,
    /// Its status text.
    pub status_text: String,
    /// Its host name.
    pub host: String,
    /// Its program version.
    pub version: String,
    /// Its current life.
    pub epoch: u64,
    /// When it came online.
    pub since: String,
    /// The channels it is in.
    pub channels: Vec<String>,
    /// Its key fingerprint.
    pub fingerprint: String,
}

impl From<&PeerInfo> for Peer {
    fn from(peer: &PeerInfo) -> Peer {
        Peer {
            node: peer.id,
            nick: peer.nick.clone(),
            label: peer.label.clone(),
            addr: peer.addr,
            status: peer.status,
            status_text: peer.status_text.clone(),
            host: peer.host.clone(),
            version: peer.version.clone(),
            epoch: peer.epoch,
            since: super::rfc3339(peer.since_ms),
            channels: peer.channels.clone(),
            fingerprint: peer.key.fingerprint(),
        }
    }
}

/// A channel, as `channels` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    /// Its name, with `#`.
    pub name: String,
    /// People in it, me included (0 for a password channel I am not in).
    pub members: usize,
    /// Its topic, if any.
    pub topic: Option<String>,
    /// Whether I am in it.
    pub joined: bool,
    /// A password channel.
    pub protected: bool,
}

impl From<&ChannelSummary> for Channel {
    fn from(channel: &ChannelSummary) -> Channel {
        Channel {
            name: channel.name.clone(),
            members: channel.members,
            topic: channel.topic.clone(),
            joined: channel.joined,
            protected: channel.protected,
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}
