//! What is kept of each transfer across restarts (a row of the history
//! database's `transfer` table, as JSON): my offers, so a receiver can
//! resume after I restart; offers to me, so an accepted one goes on where
//! it stopped after either side restarts.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::session::Entry;
use super::{Answer, FileId, FileState, Offer};
use crate::types::{Chat, NodeId};

/// How long an offer of mine is served after it was made.
pub(crate) const OFFER_DAYS: u64 = 7;

/// An offer I made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Outgoing {
    /// The offer as sent.
    pub(crate) offer: Offer,
    /// Where it was sent.
    pub(crate) chat: Chat,
    /// The file, or the folder the listing's paths are under.
    pub(crate) root: PathBuf,
    /// The files, in order, with their sizes when offered.
    pub(crate) entries: Vec<Entry>,
    /// Wall time it was made (ms since the Unix epoch).
    pub(crate) made_ms: u64,
    /// Withdrawn by me.
    pub(crate) cancelled: bool,
    /// Each receiver that finished with it, and how (older records have
    /// none).
    #[serde(default)]
    pub(crate) answers: Vec<(NodeId, Answer)>,
}

impl Outgoing {
    /// Whether it is past the days it is served for, at `now_ms`.
    pub(crate) fn expired(&self, now_ms: u64) -> bool {
        self.made_ms + OFFER_DAYS * 24 * 3600 * 1000 <= now_ms
    }

    /// Where entry `i` is on disk.
    pub(crate) fn path_of(&self, i: usize) -> Option<PathBuf> {
        let entry = self.entries.get(i)?;
        if self.offer.folder {
            Some(self.root.join(&entry.path))
        } else {
            Some(self.root.clone())
        }
    }

    /// The person it was offered to (`None` for a channel's members).
    pub(crate) fn recipient(&self) -> Option<NodeId> {
        match self.chat {
            Chat::Direct(id) => Some(id),
            Chat::Channel(_) => None,
        }
    }
}

/// An offer made to me.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Incoming {
    /// The offer as received.
    pub(crate) offer: Offer,
    /// The sender.
    pub(crate) from: NodeId,
    /// Their nick then.
    pub(crate) nick: String,
    /// Where it was offered.
    pub(crate) chat: Chat,
    /// Where it stands.
    pub(crate) state: FileState,
    /// Where it is being received (a `.part` file or folder), once accepted.
    pub(crate) part: Option<PathBuf>,
    /// SHA-256 (hex) of each file received and verified, in listing order.
    pub(crate) verified: Vec<String>,
    /// Bytes of file data received over all connections.
    pub(crate) carried: u64,
    /// Connections that went on from where an earlier one stopped.
    pub(crate) resumes: u32,
}

/// A row of the `transfer` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Record {
    /// An offer I made.
    Out(Outgoing),
    /// An offer made to me.
    In(Incoming),
}

impl Record {
    /// The offer's id.
    pub(crate) fn id(&self) -> FileId {
        match self {
            Record::Out(out) => out.offer.id,
            Record::In(inc) => inc.offer.id,
        }
    }

    /// Whether it is mine (the table's `outgoing` column).
    pub(crate) fn outgoing(&self) -> bool {
        matches!(self, Record::Out(_))
    }

    /// The JSON kept in the table.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A row read back; `None` for one this version cannot read.
    pub(crate) fn from_json(json: &str) -> Option<Record> {
        serde_json::from_str(json).ok()
    }
}
