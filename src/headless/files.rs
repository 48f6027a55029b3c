//! How file-transfer events read in the headless mode: one JSON object
//! for scripts, one line for people (with the command that answers an
//! offer).

use serde_json::{Value, json};

use super::Names;
use crate::api::Event;
use crate::files::FileEvent;
use crate::files::{Answer, Direction, FileState, FileStatus, Offer, human_size};

fn offer_value(offer: &Offer) -> Value {
    json!({
        "id": offer.id.to_string(),
        "name": offer.name,
        "size": offer.size,
        "files": offer.files,
        "folder": offer.folder,
    })
}

fn with(mut value: Value, event: &str, more: Value) -> Value {
    value["event"] = json!(event);
    if let (Some(map), Value::Object(more)) = (value.as_object_mut(), more) {
        map.extend(more);
    }
    value
}

fn status_value(status: &FileStatus, names: &Names) -> Value {
    let (state, more) = match &status.state {
        FileState::Offered => ("offered", json!({})),
        FileState::Accepted { done } => ("accepted", json!({"done": done})),
        FileState::Done { path, sha256 } => (
            "done",
            json!({"path": path.display().to_string(), "sha256": sha256}),
        ),
        FileState::Failed(reason) => (
            "failed",
            json!({"reason": reason.kind(), "text": reason.to_string()}),
        ),
    };
    let mut value = offer_value(&status.offer);
    value["direction"] = json!(status.direction.as_str());
    value["chat"] = json!(names.chat(&status.chat));
    value["state"] = json!(state);
    if let Some(from) = status.from {
        value["from"] = json!(from.to_string());
        value["nick"] = json!(status.nick);
    }
    if status.direction == Direction::Up {
        let answers: Vec<Value> = status
            .answers
            .iter()
            .map(|(peer, answer)| match answer {
                Answer::Received => json!({"peer": peer.to_string(), "state": "done"}),
                Answer::Failed(reason) => json!({
                    "peer": peer.to_string(), "state": "failed", "reason": reason.kind(),
                }),
            })
            .collect();
        value["answers"] = json!(answers);
    }
    if let (Some(map), Value::Object(more)) = (value.as_object_mut(), more) {
        map.extend(more);
    }
    value
}

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Down => "from",
        Direction::Up => "to",
    }
}

/// A file event as JSON and as a line; `None` for other events.
pub(super) fn describe(event: &Event, names: &Names) -> Option<(Value, String)> {
    Some(match event {
        Event::File(FileEvent::Offered { offer, chat }) => (
            with(
                offer_value(offer),
                "file_offered",
                json!({"chat": names.chat(chat)}),
            ),
            format!(
                "* you offer {} in {} (/cancel {} withdraws it)",
                offer.describe(),
                names.chat(chat),
                offer.id
            ),
        ),
        Event::File(FileEvent::Offer(shown)) => (
            with(
                offer_value(&shown.offer),
                "file_offer",
                json!({
                    "from": shown.from.to_string(),
                    "nick": names.label(&shown.from),
                    "chat": names.chat(&shown.chat),
                }),
            ),
            format!(
                "* {} offers {} in {}: /accept {id} or /decline {id}",
                names.label(&shown.from),
                shown.offer.describe(),
                names.chat(&shown.chat),
                id = shown.offer.id
            ),
        ),
        Event::File(FileEvent::Progress(p)) => {
            let percent = (p.done as f64 * 100.0 / p.total.max(1) as f64).min(100.0);
            let eta = p
                .eta_secs
                .map_or(String::new(), |s| format!(", {s} s left"));
            (
                json!({
                    "event": "file_progress", "id": p.id.to_string(),
                    "peer": p.peer.to_string(), "direction": p.direction.as_str(),
                    "done": p.done, "total": p.total, "rate": p.rate,
                    "eta": p.eta_secs, "flow": p.flow.as_str(),
                }),
                format!(
                    "* {} {} {}: {percent:.0}% of {}, {}/s{eta} ({})",
                    p.id,
                    arrow(p.direction),
                    names.label(&p.peer),
                    human_size(p.total),
                    human_size(p.rate),
                    p.flow.as_str().replace('_', " ")
                ),
            )
        }
        Event::File(FileEvent::Done(d)) => {
            let path = d.path.as_ref().map(|p| p.display().to_string());
            (
                json!({
                    "event": "file_done", "id": d.id.to_string(),
                    "peer": d.peer.to_string(), "direction": d.direction.as_str(),
                    "path": path, "size": d.size, "sha256": d.sha256,
                    "carried": d.carried, "resumes": d.resumes,
                }),
                match &path {
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
                },
            )
        }
        Event::File(FileEvent::Failed(f)) => {
            let peer = f.peer.map(|p| p.to_string());
            let who = f.peer.map_or_else(String::new, |p| {
                format!(" {} {}", arrow(f.direction), names.label(&p))
            });
            (
                json!({
                    "event": "file_failed", "id": f.id.to_string(), "peer": peer,
                    "direction": f.direction.as_str(), "reason": f.reason.kind(),
                    "text": f.reason.to_string(),
                }),
                format!("* file {}{who}: {}", f.id, f.reason),
            )
        }
        Event::File(FileEvent::List(all)) => {
            let list: Vec<Value> = all.iter().map(|s| status_value(s, names)).collect();
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
            (json!({"event": "files", "files": list}), text)
        }
        _ => return None,
    })
}
