//! What an offer says, and how it is written as the text of a
//! [`MessageKind::File`](crate::types::MessageKind::File) message: a small
//! JSON object, so history, search and older views keep something
//! readable. Parsing takes nothing on trust: a text that is not a sound
//! offer is no offer.
//!
//! A sender that withdraws an offer says so with another file message in
//! the same chat ([`Withdrawal`]), so that receivers who never answered
//! do not keep an open offer that cannot be had.

use serde::{Deserialize, Serialize};

use super::FileId;
use super::names::MAX_NAME;

/// Most files one offer may hold (a folder of more is refused when offered).
pub(crate) const MAX_FILES: u32 = 10_000;

/// One offer: a file or a folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Its id (also what lets a receiver fetch it).
    pub id: FileId,
    /// The file's or folder's name, as the sender has it (a receiver
    /// sanitises it before use).
    pub name: String,
    /// Bytes in all.
    pub size: u64,
    /// How many files (1 for a file).
    pub files: u32,
    /// A folder (saved as a folder of that name).
    pub folder: bool,
    /// The TCP port the sender serves it on.
    pub port: u16,
}

/// The text form, with the field names spelled out for whoever reads the
/// database.
#[derive(Serialize, Deserialize)]
struct Text {
    offer: String,
    name: String,
    size: u64,
    files: u32,
    folder: bool,
    port: u16,
}

impl Offer {
    /// The text of the message that makes this offer.
    pub fn to_text(&self) -> String {
        let text = Text {
            offer: self.id.to_string(),
            name: self.name.clone(),
            size: self.size,
            files: self.files,
            folder: self.folder,
            port: self.port,
        };
        serde_json::to_string(&text).unwrap_or_default()
    }

    /// The offer a message's text makes; `None` if it is not a sound one.
    pub fn from_text(text: &str) -> Option<Offer> {
        if text.len() > 4 * MAX_NAME {
            return None;
        }
        let text: Text = serde_json::from_str(text).ok()?;
        let id = FileId::parse(&text.offer)?;
        let sound = !text.name.is_empty()
            && text.name.len() <= MAX_NAME
            && (1..=MAX_FILES).contains(&text.files)
            && (text.folder || text.files == 1)
            && text.port != 0;
        sound.then_some(Offer {
            id,
            name: text.name,
            size: text.size,
            files: text.files,
            folder: text.folder,
            port: text.port,
        })
    }

    /// "report.pdf (1.4 MB)" or "photos/ (12 files, 40.1 MB)".
    pub fn describe(&self) -> String {
        if self.folder {
            format!(
                "{}/ ({} files, {})",
                self.name,
                self.files,
                super::human_size(self.size)
            )
        } else {
            format!("{} ({})", self.name, super::human_size(self.size))
        }
    }
}

/// The text of a file message that withdraws an offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    /// The offer withdrawn.
    pub id: FileId,
    /// Its name, to say what was withdrawn.
    pub name: String,
}

#[derive(Serialize, Deserialize)]
struct WithdrawalText {
    withdrawn: String,
    name: String,
}

impl Withdrawal {
    /// The withdrawal of `offer`.
    pub fn of(offer: &Offer) -> Withdrawal {
        Withdrawal {
            id: offer.id,
            name: offer.name.clone(),
        }
    }

    /// The text of the message that withdraws the offer.
    pub fn to_text(&self) -> String {
        let text = WithdrawalText {
            withdrawn: self.id.to_string(),
            name: self.name.clone(),
        };
        serde_json::to_string(&text).unwrap_or_default()
    }

    /// The withdrawal a message's text makes; `None` if it is none.
    pub fn from_text(text: &str) -> Option<Withdrawal> {
        if text.len() > 4 * MAX_NAME {
            return None;
        }
        let text: WithdrawalText = serde_json::from_str(text).ok()?;
        let id = FileId::parse(&text.withdrawn)?;
        (text.name.len() <= MAX_NAME).then_some(Withdrawal {
            id,
            name: text.name,
        })
    }
}

/// What the text of a file message is: an offer, the withdrawal of one,
/// or neither (a damaged or foreign text, shown as "a file"). The one
/// place that reads it, for the driver, the store's export, the window and
/// headless alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileMessage {
    /// An offer.
    Offer(Offer),
    /// An offer taken back.
    Withdrawal(Withdrawal),
}

impl FileMessage {
    /// Reads a message's text; `None` unless it is a file message that says
    /// one of the two.
    pub fn read(kind: crate::types::MessageKind, text: &str) -> Option<FileMessage> {
        if kind != crate::types::MessageKind::File {
            return None;
        }
        Offer::from_text(text)
            .map(FileMessage::Offer)
            .or_else(|| Withdrawal::from_text(text).map(FileMessage::Withdrawal))
    }

    /// The offer, if it is one.
    pub fn offer(self) -> Option<Offer> {
        match self {
            FileMessage::Offer(offer) => Some(offer),
            FileMessage::Withdrawal(_) => None,
        }
    }

    /// The withdrawal, if it is one.
    pub fn withdrawal(self) -> Option<Withdrawal> {
        match self {
            FileMessage::Withdrawal(w) => Some(w),
            FileMessage::Offer(_) => None,
        }
    }
}

#[cfg(test)]
impl Offer {
    /// An offer of one 5 GiB file on the usual port, for tests.
    pub(crate) fn sample() -> Offer {
        Offer {
            id: FileId::random(),
            name: "report.pdf".into(),
            size: 5 << 30,
            files: 1,
            folder: false,
            port: 47079,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_message_is_an_offer_a_withdrawal_or_nothing() {
        use crate::types::MessageKind;
        let o = Offer::sample();
        let w = Withdrawal::of(&o);
        assert_eq!(
            FileMessage::read(MessageKind::File, &o.to_text()),
            Some(FileMessage::Offer(o.clone()))
        );
        assert_eq!(
            FileMessage::read(MessageKind::File, &w.to_text()),
            Some(FileMessage::Withdrawal(w))
        );
        assert_eq!(FileMessage::read(MessageKind::Text, &o.to_text()), None);
        assert_eq!(FileMessage::read(MessageKind::File, "{\"offer\":1}"), None);
    }

    #[test]
    fn an_offer_reads_back_from_its_text() {
        let o = Offer::sample();
        assert_eq!(Offer::from_text(&o.to_text()), Some(o));
    }

    #[test]
    fn unsound_offers_are_no_offers() {
        let o = Offer::sample();
        let bad = [
            String::from("hello"),
            Offer {
                name: String::new(),
                ..o.clone()
            }
            .to_text(),
            Offer {
                files: 0,
                ..o.clone()
            }
            .to_text(),
            Offer {
                files: 2,
                ..o.clone()
            }
            .to_text(),
            Offer {
                port: 0,
                ..o.clone()
            }
            .to_text(),
            Offer {
                name: "x".repeat(MAX_NAME + 1),
                ..o.clone()
            }
            .to_text(),
            Offer {
                files: MAX_FILES + 1,
                folder: true,
                ..o.clone()
            }
            .to_text(),
            o.to_text().replace(&o.id.to_string(), "not-an-id"),
        ];
        for text in bad {
            assert_eq!(Offer::from_text(&text), None, "{text}");
        }
    }

    #[test]
    fn a_withdrawal_reads_back_and_is_no_offer() {
        let o = Offer::sample();
        let w = Withdrawal::of(&o);
        let text = w.to_text();
        assert_eq!(Withdrawal::from_text(&text), Some(w));
        assert_eq!(Offer::from_text(&text), None);
        assert_eq!(Withdrawal::from_text(&o.to_text()), None);
        assert_eq!(Withdrawal::from_text("hello"), None);
        let long = Withdrawal {
            name: "x".repeat(MAX_NAME + 1),
            ..Withdrawal::of(&o)
        };
        assert_eq!(Withdrawal::from_text(&long.to_text()), None);
    }
}
