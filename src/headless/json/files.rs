//! The file-transfer parts of the JSON events: an offer's fields, why a
//! transfer failed, and one entry of the `files` list.

use serde::{Deserialize, Serialize};

use super::{DirectionDef, hex_id};
use crate::files::{Direction, FileFailure, FileId};
use crate::types::NodeId;

/// An offer's fields, in `file_offered`, `file_offer` and `files`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Its id.
    #[serde(with = "hex_id")]
    pub id: FileId,
    /// The file's or folder's name.
    pub name: String,
    /// Bytes in all.
    pub size: u64,
    /// How many files (1 for a file).
    pub files: u32,
    /// Whether it is a folder.
    pub folder: bool,
}

impl From<&crate::files::Offer> for Offer {
    fn from(offer: &crate::files::Offer) -> Offer {
        Offer {
            id: offer.id,
            name: offer.name.clone(),
            size: offer.size,
            files: offer.files,
            folder: offer.folder,
        }
    }
}

/// Why a transfer ended without the file, in a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The receiver declined it.
    Declined,
    /// I cancelled it.
    Cancelled,
    /// The other side cancelled it.
    CancelledByPeer,
    /// The sender no longer offers it.
    Unavailable,
    /// The sender's file changed or went away.
    Changed,
    /// The data arrived twice with a wrong SHA-256.
    Corrupt,
    /// Writing or reading a file failed.
    Disk,
    /// The sender refused it.
    Refused,
}

impl From<&FileFailure> for FailureKind {
    fn from(failure: &FileFailure) -> FailureKind {
        match failure {
            FileFailure::Declined => FailureKind::Declined,
            FileFailure::Cancelled => FailureKind::Cancelled,
            FileFailure::CancelledByPeer => FailureKind::CancelledByPeer,
            FileFailure::Unavailable => FailureKind::Unavailable,
            FileFailure::Changed => FailureKind::Changed,
            FileFailure::Corrupt => FailureKind::Corrupt,
            FileFailure::Disk(_) => FailureKind::Disk,
            FileFailure::Refused(_) => FailureKind::Refused,
        }
    }
}

/// One offer made or received, as `files` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// What is offered.
    #[serde(flatten)]
    pub offer: Offer,
    /// `up` (my offer) or `down` (an offer to me).
    #[serde(with = "DirectionDef")]
    pub direction: Direction,
    /// Where it was offered.
    pub chat: String,
    /// Where it stands.
    #[serde(flatten)]
    pub state: FileEntryState,
    /// The sender; absent for my own offer.
    #[serde(
        default,
        with = "hex_id::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub from: Option<NodeId>,
    /// The sender's nick; absent for my own offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    /// My offer only: each receiver that finished with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<Answer>>,
}

/// Where an offer stands, in its `state` key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FileEntryState {
    /// Not answered yet; for my own offer: open.
    Offered,
    /// Accepted and under way.
    Accepted {
        /// Bytes received so far.
        done: u64,
    },
    /// Received and verified.
    Done {
        /// Where it was saved.
        path: String,
        /// Its SHA-256.
        sha256: String,
    },
    /// Ended without the file.
    Failed {
        /// Why, in a word.
        reason: FailureKind,
        /// Why, in English.
        text: String,
    },
}

/// How a receiver of my offer finished with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Answer {
    /// They have it all, verified.
    Done {
        /// The receiver.
        #[serde(with = "hex_id")]
        peer: NodeId,
    },
    /// It ended without the file for them.
    Failed {
        /// The receiver.
        #[serde(with = "hex_id")]
        peer: NodeId,
        /// Why, in a word.
        reason: FailureKind,
    },
}
