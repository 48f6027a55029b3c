//! The app's API: what a [`NodeHandle`](crate::net::NodeHandle) takes and
//! gives. A command is one for the protocol core ([`CoreCommand`]) or one
//! the driver answers from history, files or the network; an event is the
//! core's ([`CoreEvent`]), a file transfer's, the network doctor's report,
//! or news of the history database. The headless mode, the window and the
//! tests speak these types.

use std::path::PathBuf;

mod names;

pub use names::Names;

use crate::doctor::NetworkReport;
use crate::envelope::PublicKey;
use crate::files::{FileEvent, FileId};
// What clients see of the core's API, by the names they know it by.
pub use crate::protocol::{
    ChannelSummary, ChatMessage, CoreCommand, CoreEvent, DmState, OfflineReason, PeerInfo, Refusal,
    Secret, TYPING_SHOWN, Target,
};
pub use crate::trouble::Trouble;
use crate::types::{Chat, NodeId};

/// Something a user asks the node to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// A command for the protocol core.
    Core(CoreCommand),
    /// Replay the newest `limit` stored messages of a chat, in display order
    /// (`hlc`, then sender), then [`Event::HistoryDone`] (answered by the
    /// driver, which holds history; the core ignores it).
    History {
        /// Which chat.
        chat: Target,
        /// How many messages at most.
        limit: usize,
        /// Only messages stamped at or before this HLC stamp: a page further
        /// back, for a window that shows the ones after it. The bound is
        /// inclusive so that messages sharing the stamp of the oldest one
        /// shown (several senders may stamp alike) are never skipped; the
        /// page repeats that one, and the client drops what it shows
        /// already. `None`: the newest.
        before: Option<u64>,
    },
    /// Find stored messages containing all these words, newest first
    /// (answered by the driver from the history database; the core ignores
    /// it).
    Search {
        /// The words.
        text: String,
        /// How many results at most.
        limit: usize,
    },
    /// Write a chat's whole stored history to a text file (answered by the
    /// driver from the history database; the core ignores it).
    Export {
        /// Which chat.
        chat: Target,
        /// The file to write (replaced if it exists).
        path: PathBuf,
    },
    /// Accept a person's new key after a [`Event::KeyChanged`] warning
    /// (the user compared fingerprints): it is the one trusted from now on.
    Trust {
        /// Who.
        peer: Target,
    },
    /// What the node sees of the network ([`Event::Network`]).
    Network,
    /// Offer files or folders, each one offer, to a person (who accepts or
    /// declines) or a channel (each member decides for themselves). The
    /// paths must exist and be readable now ([`FileEvent::Offered`] per
    /// offer made, or [`Event::Trouble`] or [`Event::Refused`]).
    SendFiles {
        /// A person or a channel.
        to: Target,
        /// The files and folders.
        paths: Vec<PathBuf>,
    },
    /// Accept an offer made to me: it is saved in the download directory.
    AcceptFile(FileId),
    /// Decline an offer made to me (the sender is told).
    DeclineFile(FileId),
    /// Cancel a transfer: stop receiving an offer I accepted (what came so
    /// far is deleted), or withdraw an offer of mine from everyone.
    CancelFile(FileId),
    /// List the offers I made and received ([`FileEvent::List`]).
    Files,
}

impl From<CoreCommand> for Command {
    fn from(command: CoreCommand) -> Command {
        Command::Core(command)
    }
}

/// Something the user should know.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// What the protocol core tells: peers, messages, channels.
    Core(CoreEvent),
    /// The last message of an answer to [`Command::History`] has been
    /// handed out (sent whenever the chat was found, also when reading
    /// failed or there was nothing). A page that came back with fewer than
    /// `limit` messages reached the chat's oldest stored message.
    HistoryDone {
        /// The chat.
        chat: Chat,
        /// The request's `before`.
        before: Option<u64>,
        /// The request's `limit`.
        limit: usize,
        /// How many messages the answer had.
        count: usize,
    },
    /// A chat's history was written to a file ([`Command::Export`]).
    Exported {
        /// The chat.
        chat: Chat,
        /// The file.
        path: PathBuf,
        /// How many messages it holds.
        count: usize,
    },
    /// The history database was found damaged at the start: it was moved
    /// aside (nothing deleted) and what could be read of it was copied into
    /// a fresh one, which history is saved in from now on. Said once.
    HistoryRecovered {
        /// Where the damaged file is now.
        moved_to: PathBuf,
        /// Messages recovered from it.
        recovered: u64,
        /// What SQLite's check said.
        cause: String,
    },
    /// The answer to [`Command::Network`]: interfaces, peers and what the
    /// doctor makes of them ([`crate::doctor::findings`]).
    Network(Box<NetworkReport>),
    /// A file transfer's news.
    File(FileEvent),
    /// Something failed for a reason outside the user's hands (the disk,
    /// the OS): what it means, with the raw cause.
    Trouble(Trouble),
    /// What the user asked of the driver is a mistake (a chat that is no
    /// chat, trusting a channel): said as the core says its own.
    Refused(Refusal),
    /// Someone appeared with a key other than the one first seen for their
    /// nick and host (trust on first use): it may be another person posing
    /// as them. Shown as a warning until [`Command::Trust`].
    KeyChanged {
        /// The node now using the nick.
        id: NodeId,
        /// The nick.
        nick: String,
        /// The host.
        host: String,
        /// The key first seen.
        old: PublicKey,
        /// The key now.
        new: PublicKey,
    },
    /// A person's current key is trusted from now on ([`Command::Trust`]).
    Trusted {
        /// The node.
        id: NodeId,
        /// Its nick.
        nick: String,
        /// The key's fingerprint.
        fingerprint: String,
    },
}

impl From<CoreEvent> for Event {
    fn from(event: CoreEvent) -> Event {
        Event::Core(event)
    }
}

impl From<FileEvent> for Event {
    fn from(event: FileEvent) -> Event {
        Event::File(event)
    }
}
