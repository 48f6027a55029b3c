//! File transfer: offering files and folders to a person or a channel,
//! and carrying them directly between the two peers over TCP.
//!
//! ```text
//!  sender                                   receiver
//!  /send bob report.pdf
//!    manifest built (sizes) ─ offer ──────▶  a `File` message (a DM, or a
//!    (kept in the database)   (the core's    channel message: each member
//!                              reliable      decides for themselves)
//!                              delivery)     accept ─┐
//!  serve ◀──────────── TCP: handshake, Open(id), Get(file, offset) ◀┘
//!        ────────────▶ Data … End(sha-256) per file, then Done
//! ```
//!
//! The offer rides the chat's own delivery (so it is shown, kept in
//! history, retried and caught up like any message); the data goes by TCP
//! on a runtime of its own (`manager`), so hashing and encryption never
//! hold up the chat. Each connection is authenticated and encrypted with
//! the same X25519 keys as direct messages, fresh per connection
//! ([`session`]). A dropped connection is resumed from the last byte
//! written; every file's SHA-256 is checked at the end. Names from a peer
//! are sanitised and never overwrite a file ([`names`]).
//!
//! This module's root holds the types clients see; the rest is the
//! driver's.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::types::{Chat, NodeId};

pub(crate) mod fetch;
pub(crate) mod hash;
pub(crate) mod manager;
pub mod names;
pub(crate) mod offer;
pub(crate) mod record;
pub(crate) mod serve;
pub mod session;

pub use offer::{FileMessage, Offer, Withdrawal};

/// The TCP port a node serves files on when it is free (the next node on
/// the same host takes any port; the offer says which).
pub const FILE_PORT: u16 = 47079;

/// An offer's id: 128 random bits, made by the sender. Knowing it is what
/// lets a peer fetch the offer, so it travels only inside the (encrypted
/// or workgroup-sealed) chat message that makes the offer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileId(pub [u8; 16]);

impl FileId {
    /// A new random id from the system's secure generator (the id is
    /// what lets a receiver fetch the offer, so it must not be guessable).
    pub fn random() -> FileId {
        FileId(*uuid::Uuid::new_v4().as_bytes())
    }

    /// Parses the 32 hex digits [`fmt::Display`] writes.
    pub fn parse(text: &str) -> Option<FileId> {
        let mut id = [0u8; 16];
        hex::decode_to_slice(text.trim(), &mut id).ok()?;
        Some(FileId(id))
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileId({self})")
    }
}

/// Which way a transfer goes, seen from this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// I receive it.
    Down,
    /// I send it.
    Up,
}

impl Direction {
    /// The word used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Down => "down",
            Direction::Up => "up",
        }
    }
}

/// An offer made to me, as the user sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileOffer {
    /// What is offered.
    pub offer: Offer,
    /// Who offers it.
    pub from: NodeId,
    /// Their nick.
    pub nick: String,
    /// Where it was offered: my direct chat with the sender, or a channel.
    pub chat: Chat,
}

/// How a transfer is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flow {
    /// Bytes are moving.
    Active,
    /// Waiting for a free slot ([`FileOptions::max_downloads`], or the
    /// sender is busy).
    Queued,
    /// The connection dropped; trying again, from where it stopped.
    Reconnecting,
    /// The sender is offline; it goes on when the sender is back.
    SenderAway,
}

impl Flow {
    /// The word used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Active => "active",
            Flow::Queued => "queued",
            Flow::Reconnecting => "reconnecting",
            Flow::SenderAway => "sender_away",
        }
    }
}

/// Progress of one transfer (at most a few a second per transfer).
#[derive(Clone, Debug, PartialEq)]
pub struct FileProgress {
    /// The offer.
    pub id: FileId,
    /// The other side.
    pub peer: NodeId,
    /// Up or down.
    pub direction: Direction,
    /// Bytes of the offer received (down) or sent (up), resumed ones
    /// included.
    pub done: u64,
    /// The offer's size.
    pub total: u64,
    /// Bytes a second, over the last few seconds.
    pub rate: u64,
    /// Seconds left at that rate (`None` while the rate is 0).
    pub eta_secs: Option<u64>,
    /// Moving, queued, reconnecting or waiting for the sender.
    pub flow: Flow,
}

/// A transfer that completed.
#[derive(Clone, Debug, PartialEq)]
pub struct FileDone {
    /// The offer.
    pub id: FileId,
    /// The other side.
    pub peer: NodeId,
    /// Up or down.
    pub direction: Direction,
    /// Where it was saved (down only).
    pub path: Option<PathBuf>,
    /// The offer's size.
    pub size: u64,
    /// SHA-256 (hex) of the file; for a folder, of its `sha256sum` listing
    /// (`<hash>  <path>\n` per file, in the offer's order).
    pub sha256: String,
    /// Bytes of file data that crossed the network in this transfer, over
    /// every connection (equal to `size` when nothing was sent twice).
    pub carried: u64,
    /// How many times it went on after a dropped connection.
    pub resumes: u32,
}

/// How a receiver of my offer finished with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// They have it all, verified.
    Received,
    /// It ended without the file for them (declined, cancelled by them,
    /// the file changed on my disk…).
    Failed(FileFailure),
}

/// Why a transfer ended without the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileFailure {
    /// The receiver declined it.
    Declined,
    /// I cancelled it.
    Cancelled,
    /// The other side cancelled it.
    CancelledByPeer,
    /// The sender no longer offers it (it was withdrawn, or is too old).
    Unavailable,
    /// The sender's file changed or went away while it was offered.
    Changed,
    /// The data arrived twice with a wrong SHA-256.
    Corrupt,
    /// Writing or reading a file failed (disk full, no permission…).
    Disk(String),
    /// The sender refused it (the reason it gave).
    Refused(String),
}

impl FileFailure {
    /// A short word for events.
    pub fn kind(&self) -> &'static str {
        match self {
            FileFailure::Declined => "declined",
            FileFailure::Cancelled => "cancelled",
            FileFailure::CancelledByPeer => "cancelled_by_peer",
            FileFailure::Unavailable => "unavailable",
            FileFailure::Changed => "changed",
            FileFailure::Corrupt => "corrupt",
            FileFailure::Disk(_) => "disk",
            FileFailure::Refused(_) => "refused",
        }
    }
}

impl fmt::Display for FileFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileFailure::Declined => f.write_str("declined"),
            FileFailure::Cancelled => f.write_str("cancelled"),
            FileFailure::CancelledByPeer => f.write_str("cancelled by the other side"),
            FileFailure::Unavailable => f.write_str("no longer offered"),
            FileFailure::Changed => f.write_str("the file changed on the sender's computer"),
            FileFailure::Corrupt => f.write_str("the data arrived damaged twice"),
            FileFailure::Disk(why) => write!(f, "file error: {why}"),
            FileFailure::Refused(why) => write!(f, "refused: {why}"),
        }
    }
}

/// A transfer that ended without the file.
#[derive(Clone, Debug, PartialEq)]
pub struct FileFailed {
    /// The offer.
    pub id: FileId,
    /// The other side; `None` for my own offer withdrawn from everyone.
    pub peer: Option<NodeId>,
    /// Up or down.
    pub direction: Direction,
    /// Why.
    pub reason: FileFailure,
}

/// Where a transfer stands, as [`crate::api::Command::Files`] lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FileState {
    /// Offered to me; not accepted or declined yet. For my own offer: open.
    Offered,
    /// Accepted and under way (or waiting to go on).
    Accepted {
        /// Bytes received so far.
        done: u64,
    },
    /// Received and verified.
    Done {
        /// Where it was saved.
        path: PathBuf,
        /// Its SHA-256 (see [`FileDone::sha256`]).
        sha256: String,
    },
    /// Ended without the file.
    Failed(FileFailure),
}

/// One transfer, as [`crate::api::Command::Files`] lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileStatus {
    /// Up (my offer) or down (an offer to me).
    pub direction: Direction,
    /// For my offer: each receiver that finished with it, kept across
    /// restarts (empty for an offer to me).
    pub answers: Vec<(NodeId, Answer)>,
    /// The offer.
    pub offer: Offer,
    /// The sender (down), or `None` for my own offer.
    pub from: Option<NodeId>,
    /// The sender's nick (down), or mine.
    pub nick: String,
    /// Where it was offered.
    pub chat: Chat,
    /// Where it stands.
    pub state: FileState,
}

/// How a node handles files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileOptions {
    /// Where received files go; the user's download directory when `None`
    /// (then the home directory, then the data directory).
    pub download_dir: Option<PathBuf>,
    /// Accept every offer without asking (off by default).
    pub auto_accept: bool,
    /// Most offers received at once; more wait their turn.
    pub max_downloads: usize,
    /// Most connections served at once; more are told to come back.
    pub max_uploads: usize,
    /// The TCP port to serve on when free ([`FILE_PORT`]); 0 for any.
    pub port: u16,
}

impl Default for FileOptions {
    fn default() -> Self {
        FileOptions {
            download_dir: None,
            auto_accept: false,
            max_downloads: 3,
            max_uploads: 8,
            port: FILE_PORT,
        }
    }
}

impl FileOptions {
    /// The directory received files go to.
    pub fn downloads(&self, data_dir: &std::path::Path) -> PathBuf {
        if let Some(dir) = &self.download_dir {
            return dir.clone();
        }
        directories::UserDirs::new()
            .and_then(|dirs| {
                dirs.download_dir()
                    .map(std::path::Path::to_path_buf)
                    .or_else(|| Some(dirs.home_dir().join("Downloads")))
            })
            .unwrap_or_else(|| data_dir.join("downloads"))
    }
}

/// Formats a byte count for people: `512 B`, `1.4 MB`, `3.2 GB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Where the file runtime's news and records go: the driver's writer,
/// which keeps the records and hands the news to the client in order with
/// everything else.
pub(crate) trait Outlet: Send + Sync + fmt::Debug {
    /// News for the client.
    fn tell(&self, event: FileEvent);
    /// Something asked of the files failed for a reason outside the
    /// user's hands.
    fn trouble(&self, trouble: crate::trouble::Trouble);
    /// Something asked of the files is a mistake.
    fn refuse(&self, refusal: crate::protocol::Refusal);
    /// Keep a transfer's state (`at_ms`: wall time now).
    fn keep(&self, record: record::Record, at_ms: u64);
}

/// What the file transfers tell the user (an app event,
/// [`crate::api::Event::File`]).
#[derive(Clone, Debug, PartialEq)]
pub enum FileEvent {
    /// I offered a file or folder ([`Command::SendFiles`](crate::api::Command::SendFiles)); the offer went
    /// out as a [`MessageKind::File`](crate::types::MessageKind::File) message to `chat`.
    Offered {
        /// The offer.
        offer: Offer,
        /// Where it went.
        chat: Chat,
    },
    /// Someone offers me a file or folder (also at start, for offers not
    /// yet answered); answer with [`Command::AcceptFile`](crate::api::Command::AcceptFile) or
    /// [`Command::DeclineFile`](crate::api::Command::DeclineFile).
    Offer(FileOffer),
    /// A transfer moved on (a few times a second at most).
    Progress(FileProgress),
    /// A transfer completed; received files are verified.
    Done(FileDone),
    /// A transfer ended without the file.
    Failed(FileFailed),
    /// The answer to [`Command::Files`](crate::api::Command::Files).
    List(Vec<FileStatus>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_parse_back() {
        let id = FileId::random();
        assert_eq!(FileId::parse(&id.to_string()), Some(id));
        assert_eq!(FileId::parse("xyz"), None);
        assert_eq!(FileId::parse(&"g".repeat(32)), None);
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1_400_000), "1.4 MB");
        assert_eq!(human_size(5 << 30), "5.4 GB");
    }
}
