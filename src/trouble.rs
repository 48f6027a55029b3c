//! What went wrong that the user did not cause: the disk, the OS, a port
//! taken. Said to the user in their language, with the raw cause kept.

use std::path::PathBuf;

/// What failed for a reason outside the user's hands, with the raw cause
/// (an OS or SQLite error, in English). The window says what it means in
/// its language ([`crate::i18n::Strings::trouble`]) and shows the cause
/// behind Details; the headless mode prints the English here.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Trouble {
    /// The history database could not be opened: this run keeps history in
    /// memory.
    #[error("history is kept in memory only (it will not survive a restart): {cause}")]
    HistoryInMemory {
        /// Why.
        cause: String,
    },
    /// Writing history failed (said once).
    #[error("history is not being saved: {cause}")]
    HistoryNotSaved {
        /// Why.
        cause: String,
    },
    /// Reading a page of history failed.
    #[error("reading history failed: {cause}")]
    HistoryUnread {
        /// Why.
        cause: String,
    },
    /// Searching history failed.
    #[error("search failed: {cause}")]
    Search {
        /// Why.
        cause: String,
    },
    /// Writing an export failed.
    #[error("exporting to {} failed: {cause}", path.display())]
    Export {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: String,
    },
    /// Trusting a key could not be saved.
    #[error("trust failed: {cause}")]
    Trust {
        /// Why.
        cause: String,
    },
    /// The network part could not start.
    #[error("network failed to start: {cause}")]
    NetworkStart {
        /// Why.
        cause: String,
    },
    /// No TCP port for files: nothing can be offered in this run.
    #[error("files cannot be offered: no TCP port could be opened ({cause})")]
    NoFilePort {
        /// Why.
        cause: String,
    },
    /// A path to offer could not be read.
    #[error("cannot offer {path}: {cause}")]
    CannotOffer {
        /// The path.
        path: String,
        /// Why.
        cause: String,
    },
}

impl Trouble {
    /// The raw cause.
    pub fn cause(&self) -> &str {
        match self {
            Trouble::HistoryInMemory { cause }
            | Trouble::HistoryNotSaved { cause }
            | Trouble::HistoryUnread { cause }
            | Trouble::Search { cause }
            | Trouble::Export { cause, .. }
            | Trouble::Trust { cause }
            | Trouble::NetworkStart { cause }
            | Trouble::NoFilePort { cause }
            | Trouble::CannotOffer { cause, .. } => cause,
        }
    }
}
