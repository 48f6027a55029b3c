//! How the node's events read in the headless mode: each one as a
//! [`JsonEvent`] for scripts and as a line of text for people (file
//! transfers in [`super::files`]).

use crate::api::{CoreEvent, Event};
use crate::files::{FileEvent, FileMessage};
use crate::i18n::Lang;
use crate::types::{Chat, MessageKind};

use super::json::{Channel, JsonEvent, Network, Peer};
use super::{clock, files, rfc3339};
use crate::api::Names;

/// One event as JSON and as a line of text; no text for an event only
/// scripts want (to a person it would be noise).
pub(super) fn describe(
    event: &Event,
    history: bool,
    search: bool,
    names: &Names,
) -> (JsonEvent, Option<String>) {
    let (json, text) = match event {
        // The handle gives these as history messages already; a client of
        // the core alone sees them so.
        Event::Core(CoreEvent::Recalled(msg)) => {
            return describe(
                &Event::Core(CoreEvent::Message(msg.clone())),
                true,
                search,
                names,
            );
        }
        // One a chat every few seconds while someone types: noise in a
        // terminal, useful to a script.
        Event::Core(CoreEvent::Typing { chat, id, nick }) => {
            let json = JsonEvent::Typing {
                chat: names.chat(chat),
                node: *id,
                nick: nick.clone(),
            };
            return (json, None);
        }
        Event::Core(CoreEvent::PeerOnline(peer)) => (
            JsonEvent::PeerOnline(Peer::from(peer)),
            format!(
                "* {} is online ({} on {})",
                peer.label, peer.addr, peer.host
            ),
        ),
        Event::Core(CoreEvent::PeerOffline { id, nick, reason }) => (
            JsonEvent::PeerOffline {
                node: *id,
                nick: nick.clone(),
                reason: *reason,
            },
            format!("* {nick} is offline ({})", reason.as_str()),
        ),
        Event::KeyChanged {
            id,
            nick,
            host,
            old,
            new,
        } => (
            JsonEvent::KeyChanged {
                node: *id,
                nick: nick.clone(),
                host: host.clone(),
                old_fingerprint: old.fingerprint(),
                new_fingerprint: new.fingerprint(),
            },
            format!(
                "!!! WARNING: {nick} on {host} has another key than before (was {}, now {}). \
                 It may be someone else using their name. Compare fingerprints with them, then /trust {id}",
                old.fingerprint(),
                new.fingerprint()
            ),
        ),
        // The key stays in the node; scripts learn only that it was made.
        Event::Core(CoreEvent::ChannelKey { channel, .. }) => {
            let json = JsonEvent::ChannelKey {
                channel: channel.clone(),
            };
            return (json, None);
        }
        Event::Trusted {
            id,
            nick,
            fingerprint,
        } => (
            JsonEvent::Trusted {
                node: *id,
                nick: nick.clone(),
                fingerprint: fingerprint.clone(),
            },
            format!("* {nick}'s key {fingerprint} is trusted"),
        ),
        Event::Core(CoreEvent::NickChanged { id, old, new }) => (
            JsonEvent::Nick {
                node: *id,
                old: old.clone(),
                new: new.clone(),
                me: *id == names.me(),
            },
            format!("* {old} is now known as {new}"),
        ),
        Event::Core(CoreEvent::StatusChanged {
            id,
            nick,
            status,
            text,
        }) => (
            JsonEvent::Status {
                node: *id,
                nick: nick.clone(),
                status: *status,
                text: text.clone(),
            },
            format!("* {nick} is {} {text}", status.as_str())
                .trim_end()
                .to_string(),
        ),
        Event::Core(CoreEvent::Message(msg)) => {
            let chat = names.chat(&msg.chat);
            let mark = match (search, history) {
                (true, _) => "(found) ",
                (false, true) => "(history) ",
                (false, false) => "",
            };
            let body = match msg.kind {
                MessageKind::Action => format!("* {} {}", msg.nick, msg.text),
                MessageKind::Beep => format!("* {} beeps", msg.nick),
                MessageKind::Text => format!("<{}> {}", msg.nick, msg.text),
                MessageKind::File => match FileMessage::read(msg.kind, &msg.text) {
                    Some(FileMessage::Offer(offer)) => {
                        format!("* {} offers {} ({})", msg.nick, offer.describe(), offer.id)
                    }
                    Some(FileMessage::Withdrawal(w)) => {
                        format!("* {} withdrew {} ({})", msg.nick, w.name, w.id)
                    }
                    None => format!("* {} offers a file", msg.nick),
                },
            };
            let text = format!("[{}] {mark}{chat} {body}", clock(msg.time_ms));
            let json = JsonEvent::Message {
                id: msg.id,
                chat,
                peer: direct_peer(&msg.chat),
                from: msg.from,
                nick: msg.nick.clone(),
                text: msg.text.clone(),
                kind: msg.kind,
                time: rfc3339(msg.time_ms),
                hlc: msg.hlc,
                history,
                search,
            };
            (json, text)
        }
        Event::Core(CoreEvent::Sent {
            id,
            chat,
            text,
            kind,
            hlc,
            ..
        }) => {
            let name = names.chat(chat);
            let me = names.label(&names.me());
            let body = match kind {
                MessageKind::Action => format!("* {me} {text}"),
                MessageKind::Beep => format!("* you beep {}", name.trim_start_matches('@')),
                MessageKind::Text => format!("<{me}> {text}"),
                MessageKind::File => {
                    match FileMessage::read(*kind, text).and_then(FileMessage::offer) {
                        Some(offer) => format!("* you offer {}", offer.describe()),
                        None => "* you offer a file".to_string(),
                    }
                }
            };
            let line = format!("[{}] {name} {body}", clock(crate::hlc::wall_ms(*hlc)));
            let json = JsonEvent::Sent {
                id: *id,
                chat: name,
                peer: direct_peer(chat),
                text: text.clone(),
                kind: *kind,
                hlc: *hlc,
            };
            (json, line)
        }
        Event::Core(CoreEvent::Delivered { id, to }) => (
            JsonEvent::Delivered {
                id: *id,
                to: *to,
                nick: names.label(to),
            },
            format!("* delivered to {}", names.label(to)),
        ),
        Event::Core(CoreEvent::Queued { id, to }) => (
            JsonEvent::Queued {
                id: *id,
                to: *to,
                nick: names.label(to),
            },
            format!(
                "* {} is not answering; the message is kept and sent when they return",
                names.label(to)
            ),
        ),
        Event::Core(CoreEvent::Joined { channel, id, nick }) => (
            JsonEvent::Joined {
                channel: channel.clone(),
                node: *id,
                nick: nick.clone(),
                me: *id == names.me(),
            },
            format!("* {nick} joined {channel}"),
        ),
        Event::Core(CoreEvent::Parted { channel, id, nick }) => (
            JsonEvent::Parted {
                channel: channel.clone(),
                node: *id,
                nick: nick.clone(),
                me: *id == names.me(),
            },
            format!("* {nick} left {channel}"),
        ),
        Event::Core(CoreEvent::Topic {
            channel,
            text,
            by,
            nick,
        }) => (
            JsonEvent::Topic {
                channel: channel.clone(),
                text: text.clone(),
                by: *by,
                nick: nick.clone(),
            },
            format!("* topic of {channel}: {text} (set by {nick})"),
        ),
        Event::Core(CoreEvent::Beep { from, nick }) => (
            JsonEvent::Beep {
                from: *from,
                nick: nick.clone(),
            },
            format!("* {nick} beeps you\u{7}"),
        ),
        Event::Core(CoreEvent::Who(peers)) => {
            let mut text = format!("* {} online:", peers.len());
            for peer in peers {
                text.push_str(&format!(
                    "\n    {} ({}) {} {} on {}",
                    peer.label,
                    peer.status.as_str(),
                    peer.status_text,
                    peer.addr,
                    peer.host
                ));
            }
            let peers = peers.iter().map(Peer::from).collect();
            (JsonEvent::Who { peers }, text)
        }
        Event::Core(CoreEvent::Channels(channels)) => {
            let mut text = format!("* {} channels:", channels.len());
            for c in channels {
                let people = if c.protected && !c.joined {
                    "password; members hidden".to_string()
                } else if c.protected {
                    format!("password, {} people", c.members)
                } else {
                    format!("{} people", c.members)
                };
                text.push_str(&format!(
                    "\n    {}{} ({people}) {}",
                    c.name,
                    if c.joined { " [joined]" } else { "" },
                    c.topic.as_deref().unwrap_or("")
                ));
            }
            let channels = channels.iter().map(Channel::from).collect();
            (JsonEvent::Channels { channels }, text)
        }
        Event::Core(CoreEvent::Missed { chat, from, count }) => {
            let name = names.chat(chat);
            let text = format!(
                "* {count} messages from {} in {name} were lost",
                names.label(from)
            );
            let json = JsonEvent::Missed {
                chat: name,
                from: *from,
                nick: names.label(from),
                count: *count,
            };
            (json, text)
        }
        // Where a replay ends: for scripts that page through history.
        Event::HistoryDone {
            chat,
            before,
            limit,
            count,
        } => {
            let json = JsonEvent::HistoryDone {
                chat: names.chat(chat),
                before: *before,
                limit: *limit,
                count: *count,
            };
            return (json, None);
        }
        Event::Exported { chat, path, count } => {
            let name = names.chat(chat);
            let path = path.display().to_string();
            let text = format!("* wrote {count} messages of {name} to {path}");
            let json = JsonEvent::Exported {
                chat: name,
                path,
                count: *count,
            };
            (json, text)
        }
        Event::Trouble(trouble) => (
            JsonEvent::Error {
                message: trouble.to_string(),
            },
            format!("error: {trouble}"),
        ),
        Event::Core(CoreEvent::Error(refusal)) | Event::Refused(refusal) => (
            JsonEvent::Error {
                message: refusal.to_string(),
            },
            format!("error: {refusal}"),
        ),
        Event::HistoryRecovered {
            moved_to,
            recovered,
            cause,
        } => {
            let path = moved_to.display().to_string();
            let text = format!(
                "* the history database was damaged ({cause}); moved aside to {path}, {recovered} messages recovered; what peers hold comes back by catch-up"
            );
            let json = JsonEvent::HistoryRecovered {
                moved_to: path,
                recovered: *recovered,
                cause: cause.clone(),
            };
            (json, text)
        }
        Event::Core(
            core @ CoreEvent::OtherVersion {
                addr,
                version,
                nick,
            },
        ) => {
            let words = crate::doctor::Finding::of_event(core)
                .map(|f| Lang::from_system().strings().finding(&f))
                .unwrap_or_default();
            let json = JsonEvent::OtherVersion {
                addr: *addr,
                nick: nick.clone(),
                version: *version,
                mine: crate::wire::VERSION,
                newer: *version > crate::wire::VERSION,
            };
            (json, format!("* {words}"))
        }
        Event::Network(report) => (
            JsonEvent::Network(Network::from(report.as_ref())),
            Lang::from_system()
                .strings()
                .network_report(report)
                .join("\n"),
        ),
        Event::Core(CoreEvent::StaticPeers(addrs)) => {
            let text = if addrs.is_empty() {
                "* no address is added by hand".to_string()
            } else {
                let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
                format!("* reached by address too: {}", list.join(", "))
            };
            let json = JsonEvent::StaticPeers {
                peers: addrs.clone(),
            };
            (json, text)
        }
        Event::Core(CoreEvent::Stopped) => (JsonEvent::Stopped, "* left the network".to_string()),
        Event::File(FileEvent::Offered { offer, chat }) => files::offered(offer, chat, names),
        Event::File(FileEvent::Offer(shown)) => files::offer(shown, names),
        Event::File(FileEvent::Progress(progress)) => files::progress(progress, names),
        Event::File(FileEvent::Done(done)) => files::done(done, names),
        Event::File(FileEvent::Failed(failed)) => files::failed(failed, names),
        Event::File(FileEvent::List(all)) => files::list(all, names),
    };
    (json, Some(text))
}

/// The other party of a direct chat; `None` for a channel.
fn direct_peer(chat: &Chat) -> Option<crate::types::NodeId> {
    match chat {
        Chat::Direct(peer) => Some(*peer),
        Chat::Channel(_) => None,
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::api::ChatMessage;
    use crate::types::{MsgId, NodeId};

    #[test]
    fn direct_messages_are_named_by_the_other_party() {
        let me = NodeId::random();
        let bob = NodeId::random();
        let mut names = Names::new(me, "me");
        names.record(&CoreEvent::NickChanged {
            id: bob,
            old: String::new(),
            new: "bob".into(),
        });
        let msg = Event::Core(CoreEvent::Message(ChatMessage {
            id: MsgId::from_bits(7),
            chat: Chat::Direct(bob),
            from: bob,
            nick: "bob".into(),
            kind: MessageKind::Text,
            text: "hi".into(),
            time_ms: 1_700_000_000_000,
            hlc: 1,
            author: None,
        }));
        let (json, text) = describe(&msg, true, false, &names);
        let text = text.expect("a message is shown");
        let value = serde_json::to_value(&json).expect("an event serializes");
        assert_eq!(value["event"], "message");
        assert_eq!(value["chat"], "@bob");
        assert_eq!(value["peer"], bob.to_string());
        assert_eq!(value["history"], true);
        assert_eq!(value["time"], "2023-11-14T22:13:20.000Z");
        assert_eq!(value["id"].as_str().map(str::len), Some(32));
        assert!(text.contains("@bob <bob> hi"), "{text}");
    }

    #[test]
    fn typing_is_for_scripts_only_and_names_the_chat_like_a_message() {
        let me = NodeId::random();
        let bob = NodeId::random();
        let mut names = Names::new(me, "me");
        names.record(&CoreEvent::NickChanged {
            id: bob,
            old: String::new(),
            new: "bob".into(),
        });
        for (chat, name) in [
            (Chat::Direct(bob), "@bob".to_string()),
            (Chat::Channel("#dev".into()), "#dev".to_string()),
        ] {
            let typing = Event::Core(CoreEvent::Typing {
                chat,
                id: bob,
                nick: "bob".into(),
            });
            let (json, text) = describe(&typing, false, false, &names);
            assert_eq!(
                serde_json::to_value(&json).expect("an event serializes"),
                serde_json::json!({"event": "typing", "chat": name, "node": bob.to_string(), "nick": "bob"})
            );
            assert_eq!(text, None, "typing printed in text mode");
        }
    }
}
