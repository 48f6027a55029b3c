//! How file-transfer events read in the headless mode: one [`JsonEvent`]
//! for scripts, one line for people (with the command that answers an
//! offer).

use super::json::{Answer, FailureKind, FileEntry, FileEntryState, JsonEvent, Offer};
use crate::api::Names;
use crate::files::{
    self, Direction, FileDone, FileFailed, FileOffer, FileProgress, FileState, FileStatus,
    human_size,
};
use crate::types::Chat;

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Down => "from",
        Direction::Up => "to",
    }
}

/// My offer went out to `chat`.
pub(super) fn offered(offer: &files::Offer, chat: &Chat, names: &Names) -> (JsonEvent, String) {
    let json = JsonEvent::FileOffered {
        offer: Offer::from(offer),
        chat: names.chat(chat),
    };
    let text = format!(
        "* you offer {} in {} (/cancel {} withdraws it)",
        offer.describe(),
        names.chat(chat),
        offer.id
    );
    (json, text)
}

/// Someone offers me a file or folder.
pub(super) fn offer(shown: &FileOffer, names: &Names) -> (JsonEvent, String) {
    let json = JsonEvent::FileOffer {
        offer: Offer::from(&shown.offer),
        from: shown.from,
        nick: names.label(&shown.from),
        chat: names.chat(&shown.chat),
    };
    let text = format!(
        "* {} offers {} in {}: /accept {id} or /decline {id}",
        names.label(&shown.from),
        shown.offer.describe(),
        names.chat(&shown.chat),
        id = shown.offer.id
    );
    (json, text)
}

/// A transfer moved on.
pub(super) fn progress(p: &FileProgress, names: &Names) -> (JsonEvent, String) {
    let percent = (p.done as f64 * 100.0 / p.total.max(1) as f64).min(100.0);
    let eta = p
        .eta_secs
        .map_or(String::new(), |s| format!(", {s} s left"));
    let json = JsonEvent::FileProgress {
        id: p.id,
        peer: p.peer,
        direction: p.direction,
        done: p.done,
        total: p.total,
        rate: p.rate,
        eta: p.eta_secs,
        flow: p.flow,
    };
    let text = format!(
        "* {} {} {}: {percent:.0}% of {}, {}/s{eta} ({})",
        p.id,
        arrow(p.direction),
        names.label(&p.peer),
        human_size(p.total),
        human_size(p.rate),
        p.flow.as_str().replace('_', " ")
    );
    (json, text)
}

/// A transfer completed.
pub(super) fn done(d: &FileDone, names: &Names) -> (JsonEvent, String) {
    let path = d.path.as_ref().map(|p| p.display().to_string());
    let text = match &path {
        Some(path) => format!(
            "* received {path} ({}) from {}, SHA-256 {}",
            human_size(d.size),
            names.label(&d.peer),
            d.sha256
        ),
        None => format!(
            "* {} has {} ({})",
            names.label(&d.peer),
            d.id,
            human_size(d.size)
        ),
    };
    let json = JsonEvent::FileDone {
        id: d.id,
        peer: d.peer,
        direction: d.direction,
        path,
        size: d.size,
        sha256: d.sha256.clone(),
        carried: d.carried,
        resumes: d.resumes,
    };
    (json, text)
}

/// A transfer ended without the file.
pub(super) fn failed(f: &FileFailed, names: &Names) -> (JsonEvent, String) {
    let who = f.peer.map_or_else(String::new, |p| {
        format!(" {} {}", arrow(f.direction), names.label(&p))
    });
    let json = JsonEvent::FileFailed {
        id: f.id,
        peer: f.peer,
        direction: f.direction,
        reason: FailureKind::from(&f.reason),
        text: f.reason.to_string(),
    };
    (json, format!("* file {}{who}: {}", f.id, f.reason))
}

/// The answer to `/files`.
pub(super) fn list(all: &[FileStatus], names: &Names) -> (JsonEvent, String) {
    let text = if all.is_empty() {
        "* no file offers".to_string()
    } else {
        all.iter()
            .map(|s| {
                let state = match &s.state {
                    FileState::Offered => "offered".to_string(),
                    FileState::Accepted { .. } => "receiving".to_string(),
                    FileState::Done { path, .. } => format!("saved as {}", path.display()),
                    FileState::Failed(reason) => reason.to_string(),
                };
                format!(
                    "  {} {} {} {}: {state}",
                    s.offer.id,
                    if s.direction == Direction::Up {
                        "to"
                    } else {
                        "from"
                    },
                    if s.direction == Direction::Up {
                        names.chat(&s.chat)
                    } else {
                        s.nick.clone()
                    },
                    s.offer.describe()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let files = all.iter().map(|s| entry(s, names)).collect();
    (JsonEvent::Files { files }, text)
}

fn entry(status: &FileStatus, names: &Names) -> FileEntry {
    let state = match &status.state {
        FileState::Offered => FileEntryState::Offered,
        FileState::Accepted { done } => FileEntryState::Accepted { done: *done },
        FileState::Done { path, sha256 } => FileEntryState::Done {
            path: path.display().to_string(),
            sha256: sha256.clone(),
        },
        FileState::Failed(reason) => FileEntryState::Failed {
            reason: FailureKind::from(reason),
            text: reason.to_string(),
        },
    };
    let answers = (status.direction == Direction::Up).then(|| {
        status
            .answers
            .iter()
            .map(|(peer, answer)| match answer {
                files::Answer::Received => Answer::Done { peer: *peer },
                files::Answer::Failed(reason) => Answer::Failed {
                    peer: *peer,
                    reason: FailureKind::from(reason),
                },
            })
            .collect()
    });
    FileEntry {
        offer: Offer::from(&status.offer),
        direction: status.direction,
        chat: names.chat(&status.chat),
        state,
        from: status.from,
        nick: status.from.map(|_| status.nick.clone()),
        answers,
    }
}
