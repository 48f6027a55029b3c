//! What the window knows, built from the node's events and nothing else:
//! the chats with their rows and unread counts, the people online, who is
//! typing. Pure state (time is passed in), so it is tested without a window;
//! the views in `ui/view/` only read it.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::transfers::Transfers;
use crate::api::{
    ChannelSummary, ChatMessage, Event, Names, OfflineReason, PeerInfo, TYPING_SHOWN,
};
use crate::files::FileEvent;
use crate::files::{FileMessage, Offer, Withdrawal};
use crate::net::{NodeEvent, ReadyInfo};
use crate::protocol::{CoreEvent, DmState};
use crate::types::{Chat, MAIN_CHANNEL, MessageKind, MsgId, NodeId, Status};

/// Most rows kept per chat in the window (older ones are dropped from view;
/// `/history` can bring recent ones back).
pub const MAX_ROWS: usize = 200_000;

/// Messages asked from the store at a time: the newest when a chat is
/// opened, then a page further back each time the user scrolls to the top.
pub const HISTORY_PAGE: usize = 500;

mod chat;
pub use chat::{ChatView, MessageRow, Page, Paging, Row, SystemLine};

/// Something the user should be told about outside the chat view: a
/// notification and maybe a sound.
#[derive(Clone, Debug, PartialEq)]
pub enum Alert {
    /// A private message.
    Direct {
        /// From.
        nick: String,
        /// Its text.
        text: String,
    },
    /// A channel message that mentions me.
    Mention {
        /// From.
        nick: String,
        /// The channel.
        channel: String,
        /// Its text.
        text: String,
    },
    /// Someone beeped me.
    Beep {
        /// From.
        nick: String,
    },
    /// Someone offers me a file or folder.
    File {
        /// From.
        nick: String,
        /// The channel it was offered in (`None`: to me alone).
        channel: Option<String>,
        /// What is offered.
        offer: Offer,
    },
}

/// Everything the window shows.
#[derive(Debug)]
pub struct Model {
    /// My node id.
    pub me: NodeId,
    /// My status.
    pub my_status: Status,
    /// My status text.
    pub my_status_text: String,
    /// What I am (host, address, since), when the node runs.
    pub ready: Option<ReadyInfo>,
    /// People online, by id.
    pub peers: BTreeMap<NodeId, PeerInfo>,
    /// Who is called what (names offline private chats too).
    pub names: Names,
    /// Channel topics.
    pub topics: HashMap<String, String>,
    /// My password channels (shown with a lock).
    pub protected: std::collections::HashSet<String>,
    /// The doctor's last report and when it came (the Network panel).
    pub network: Option<(u64, crate::doctor::NetworkReport)>,
    /// Addresses reached by unicast, added by hand.
    pub static_peers: Vec<std::net::SocketAddr>,
    /// The last `/channels` answer.
    pub channel_list: Vec<ChannelSummary>,
    /// Open chats: channels first (`#Main` first), then private chats.
    pub chats: Vec<ChatView>,
    /// File offers, mine and to me, and how their transfers are doing.
    pub transfers: Transfers,
    /// Who is typing where, and when I last heard it (ms).
    typing: HashMap<(Chat, NodeId), (String, u64)>,
}

impl Model {
    /// An empty model for node `me`, in `#Main`.
    pub fn new(me: NodeId, nick: String) -> Model {
        Model {
            me,
            my_status: Status::Available,
            my_status_text: String::new(),
            ready: None,
            peers: BTreeMap::new(),
            names: Names::new(me, &nick),
            topics: HashMap::new(),
            protected: std::collections::HashSet::new(),
            network: None,
            static_peers: Vec::new(),
            channel_list: Vec::new(),
            chats: vec![ChatView::new(Chat::Channel(MAIN_CHANNEL.to_string()))],
            transfers: Transfers::default(),
            typing: HashMap::new(),
        }
    }

    /// A model for a node that has just started.
    pub fn started(ready: &ReadyInfo) -> Model {
        let mut model = Model::new(ready.id, ready.nick.clone());
        model.ready = Some(ready.clone());
        model
    }

    /// The chat, if open.
    pub fn chat(&self, chat: &Chat) -> Option<&ChatView> {
        self.chats.iter().find(|c| &c.chat == chat)
    }

    fn chat_mut(&mut self, chat: &Chat) -> Option<&mut ChatView> {
        self.chats.iter_mut().find(|c| &c.chat == chat)
    }

    /// Opens a chat (no-op when open) and returns it. Channels keep their
    /// order: `#Main`, then by name; private chats follow in opening order.
    pub fn open(&mut self, chat: &Chat) -> &mut ChatView {
        if let Some(i) = self.chats.iter().position(|c| &c.chat == chat) {
            return &mut self.chats[i];
        }
        let at = match chat {
            Chat::Channel(name) => self
                .chats
                .iter()
                .position(|c| match &c.chat {
                    Chat::Channel(other) => {
                        other != MAIN_CHANNEL && other.to_lowercase() > name.to_lowercase()
                    }
                    Chat::Direct(_) => true,
                })
                .unwrap_or(self.chats.len()),
            Chat::Direct(_) => self.chats.len(),
        };
        self.chats.insert(at, ChatView::new(chat.clone()));
        &mut self.chats[at]
    }

    /// Closes a chat (never `#Main`).
    pub fn close(&mut self, chat: &Chat) {
        if *chat != Chat::Channel(MAIN_CHANNEL.to_string()) {
            self.chats.retain(|c| &c.chat != chat);
        }
    }

    /// The name of a chat as the user sees it.
    pub fn title(&self, chat: &Chat) -> String {
        match chat {
            Chat::Channel(name) if self.protected.contains(name) => format!("🔒 {name}"),
            Chat::Channel(name) => name.clone(),
            Chat::Direct(id) => self.label(id),
        }
    }

    /// My nick.
    pub fn my_nick(&self) -> &str {
        self.names.my_nick()
    }

    /// What a person is called: their label when online, else the last nick
    /// known, else the short id.
    pub fn label(&self, id: &NodeId) -> String {
        self.names.label(id)
    }

    /// The channel and people that should be offered when completing `prefix`.
    pub fn completions(&self, prefix: &str) -> Vec<String> {
        let lower = prefix.to_lowercase();
        let mut out: Vec<String> = if prefix.starts_with('#') {
            let mut names: Vec<String> = self
                .chats
                .iter()
                .filter_map(|c| match &c.chat {
                    Chat::Channel(name) => Some(name.clone()),
                    Chat::Direct(_) => None,
                })
                .chain(self.channel_list.iter().map(|c| c.name.clone()))
                .collect();
            names.sort_by_key(|n| n.to_lowercase());
            names.dedup();
            names
        } else {
            let mut names: Vec<String> = self.peers.values().map(|p| p.label.clone()).collect();
            names.sort_by_key(|n| n.to_lowercase());
            names
        };
        out.retain(|n| n.to_lowercase().starts_with(&lower));
        out
    }

    /// Total unread messages, and whether any of them needs attention.
    pub fn unread(&self) -> (usize, bool) {
        self.chats.iter().fold((0, false), |(n, a), c| {
            (n + c.unread, a || (c.attention && c.unread > 0))
        })
    }

    /// Marks a chat as read.
    pub fn mark_read(&mut self, chat: &Chat) {
        if let Some(view) = self.chat_mut(chat) {
            view.unread = 0;
            view.attention = false;
        }
    }

    /// People typing in `chat` at `now_ms`, by label.
    pub fn typing(&self, chat: &Chat, now_ms: u64) -> Vec<String> {
        let shown = u64::try_from(TYPING_SHOWN.as_millis()).unwrap_or(u64::MAX);
        let mut names: Vec<String> = self
            .typing
            .iter()
            .filter(|((c, id), (_, at))| {
                c == chat && *id != self.me && now_ms.saturating_sub(*at) < shown
            })
            .map(|((_, id), (nick, _))| {
                self.peers.get(id).map_or(nick.clone(), |p| p.label.clone())
            })
            .collect();
        names.sort();
        names
    }

    /// When the next typing notice runs out (ms), so the window can repaint
    /// then and not before.
    pub fn typing_expires(&self, now_ms: u64) -> Option<u64> {
        let shown = u64::try_from(TYPING_SHOWN.as_millis()).unwrap_or(u64::MAX);
        self.typing
            .values()
            .map(|(_, at)| at.saturating_add(shown))
            .filter(|end| *end > now_ms)
            .min()
    }

    /// Whether `text` mentions `nick` as a word (any case).
    pub fn mentions(text: &str, nick: &str) -> bool {
        if nick.is_empty() {
            return false;
        }
        let text = text.to_lowercase();
        let nick = nick.to_lowercase();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        text.match_indices(&nick).any(|(at, _)| {
            !word(text[..at].chars().next_back()) && !word(text[at + nick.len()..].chars().next())
        })
    }

    /// A received message as a row.
    fn row(&self, msg: &ChatMessage, history: bool, mention: bool) -> MessageRow {
        MessageRow {
            id: msg.id,
            from: msg.from,
            nick: msg.nick.clone(),
            kind: msg.kind,
            text: msg.text.clone(),
            time_ms: msg.time_ms,
            hlc: msg.hlc,
            mine: msg.from == self.me,
            state: None,
            history,
            mention,
            file: FileMessage::read(msg.kind, &msg.text),
        }
    }

    /// Takes in one event. `selected` is the chat on screen and `focused`
    /// whether the window has the user's eyes; messages elsewhere count as
    /// unread. Returns what deserves a notification.
    pub fn apply(
        &mut self,
        event: &NodeEvent,
        now_ms: u64,
        selected: Option<&Chat>,
        focused: bool,
    ) -> Option<Alert> {
        let seen_now = |chat: &Chat| focused && selected == Some(chat);
        if let Event::Core(core) = &event.event {
            self.names.record(core);
        }
        match &event.event {
            // Missed while away: placed at once by its stamp, as history
            // (no page of a request waits for it).
            Event::Core(CoreEvent::Recalled(msg)) => {
                let row = self.row(msg, true, false);
                self.open(&msg.chat).merge(vec![row]);
                None
            }
            Event::Core(CoreEvent::PeerOnline(peer)) => {
                let chat = Chat::Direct(peer.id);
                if self.peers.insert(peer.id, peer.clone()).is_none()
                    && let Some(view) = self.chat_mut(&chat)
                {
                    view.push(Row::System(now_ms, SystemLine::Online(peer.label.clone())));
                }
                self.relabel();
                None
            }
            Event::Core(CoreEvent::PeerOffline { id, nick, reason }) => {
                self.peers.remove(id);
                self.typing.retain(|(_, who), _| who != id);
                if let Some(view) = self.chat_mut(&Chat::Direct(*id)) {
                    view.push(Row::System(
                        now_ms,
                        SystemLine::Offline(nick.clone(), *reason),
                    ));
                }
                self.relabel();
                None
            }
            Event::Core(CoreEvent::NickChanged { id, old, new }) => {
                if let Some(peer) = self.peers.get_mut(id) {
                    peer.nick = new.clone();
                }
                let line = SystemLine::Nick(old.clone(), new.clone());
                let member_of: Vec<String> = self
                    .peers
                    .get(id)
                    .map(|p| p.channels.clone())
                    .unwrap_or_default();
                for view in &mut self.chats {
                    let show = match &view.chat {
                        Chat::Channel(name) => *id == self.me || member_of.contains(name),
                        Chat::Direct(other) => other == id,
                    };
                    if show {
                        view.push(Row::System(now_ms, line.clone()));
                    }
                }
                self.relabel();
                None
            }
            Event::Core(CoreEvent::StatusChanged {
                id,
                nick,
                status,
                text,
            }) => {
                if *id == self.me {
                    self.my_status = *status;
                    self.my_status_text = text.clone();
                } else if let Some(peer) = self.peers.get_mut(id) {
                    peer.status = *status;
                    peer.status_text = text.clone();
                }
                if let Some(view) = self.chat_mut(&Chat::Direct(*id)) {
                    let line = SystemLine::Status(nick.clone(), *status, text.clone());
                    view.push(Row::System(now_ms, line));
                }
                None
            }
            Event::Core(CoreEvent::Message(msg)) => {
                let from_me = msg.from == self.me;
                // A file message's text is the offer, not words to me.
                let mention = !from_me
                    && msg.kind != MessageKind::File
                    && matches!(msg.chat, Chat::Channel(_))
                    && Model::mentions(&msg.text, self.names.my_nick());
                let row = self.row(msg, event.history, mention);
                let offer = row.offer().cloned();
                self.typing.remove(&(msg.chat.clone(), msg.from));
                let seen = seen_now(&msg.chat);
                let view = self.open(&msg.chat);
                if event.history {
                    view.replayed.push(row);
                    return None;
                }
                if view.seen.contains(&msg.id) {
                    return None;
                }
                view.push(Row::Message(row));
                if seen || from_me {
                    return None;
                }
                if msg.kind == MessageKind::File && offer.is_none() {
                    // A withdrawal (or a file message that is no offer):
                    // nothing to read or answer.
                    return None;
                }
                view.unread += 1;
                if msg.kind == MessageKind::File {
                    // An offer waits for my answer, wherever it was made.
                    // A file message that is no sound offer is no alert.
                    let offer = offer?;
                    view.attention = true;
                    return Some(Alert::File {
                        nick: msg.nick.clone(),
                        channel: match &msg.chat {
                            Chat::Channel(name) => Some(name.clone()),
                            Chat::Direct(_) => None,
                        },
                        offer,
                    });
                }
                match &msg.chat {
                    Chat::Direct(_) => {
                        view.attention = true;
                        Some(Alert::Direct {
                            nick: msg.nick.clone(),
                            text: msg.text.clone(),
                        })
                    }
                    Chat::Channel(channel) if mention => {
                        view.attention = true;
                        Some(Alert::Mention {
                            nick: msg.nick.clone(),
                            channel: channel.clone(),
                            text: msg.text.clone(),
                        })
                    }
                    Chat::Channel(_) => None,
                }
            }
            Event::Core(CoreEvent::Sent {
                id,
                chat,
                text,
                kind,
                hlc,
                ..
            }) => {
                let row = MessageRow {
                    id: *id,
                    from: self.me,
                    nick: self.names.my_nick().to_string(),
                    kind: *kind,
                    text: text.clone(),
                    time_ms: now_ms,
                    hlc: *hlc,
                    mine: true,
                    state: matches!(chat, Chat::Direct(_)).then_some(DmState::Sending),
                    history: false,
                    mention: false,
                    file: FileMessage::read(*kind, text),
                };
                self.open(chat).push(Row::Message(row));
                None
            }
            Event::Core(CoreEvent::Delivered { id, to }) => {
                self.set_state(*to, *id, DmState::Delivered);
                None
            }
            Event::Core(CoreEvent::Queued { id, to }) => {
                self.set_state(*to, *id, DmState::Queued);
                None
            }
            Event::Core(CoreEvent::Joined { channel, id, nick }) => {
                let chat = Chat::Channel(channel.clone());
                if *id == self.me {
                    self.open(&chat);
                }
                if let Some(peer) = self.peers.get_mut(id)
                    && !peer.channels.contains(channel)
                {
                    peer.channels.push(channel.clone());
                }
                if let Some(view) = self.chat_mut(&chat) {
                    view.push(Row::System(now_ms, SystemLine::Joined(nick.clone())));
                }
                None
            }
            Event::Core(CoreEvent::Parted { channel, id, nick }) => {
                let chat = Chat::Channel(channel.clone());
                if let Some(peer) = self.peers.get_mut(id) {
                    peer.channels.retain(|c| c != channel);
                }
                if *id == self.me {
                    self.close(&chat);
                    self.protected.remove(channel);
                } else if let Some(view) = self.chat_mut(&chat) {
                    view.push(Row::System(now_ms, SystemLine::Parted(nick.clone())));
                }
                None
            }
            Event::Core(CoreEvent::Topic {
                channel,
                text,
                nick,
                ..
            }) => {
                let changed = self.topics.get(channel) != Some(text);
                self.topics.insert(channel.clone(), text.clone());
                if changed && let Some(view) = self.chat_mut(&Chat::Channel(channel.clone())) {
                    let line = SystemLine::Topic(nick.clone(), text.clone());
                    view.push(Row::System(now_ms, line));
                }
                None
            }
            Event::Core(CoreEvent::Beep { from, nick }) => {
                let chat = Chat::Direct(*from);
                let seen = seen_now(&chat);
                let view = self.open(&chat);
                view.push(Row::System(now_ms, SystemLine::Beeped(nick.clone())));
                if !seen {
                    view.unread += 1;
                    view.attention = true;
                }
                Some(Alert::Beep { nick: nick.clone() })
            }
            Event::Core(CoreEvent::Who(_)) => None,
            Event::Core(CoreEvent::Channels(list)) => {
                self.channel_list = list.clone();
                None
            }
            Event::Core(CoreEvent::Missed { chat, from, count }) => {
                let nick = self.label(from);
                if let Some(view) = self.chat_mut(chat) {
                    view.push(Row::System(now_ms, SystemLine::Missed(nick, *count)));
                }
                None
            }
            Event::Core(CoreEvent::Typing { chat, id, nick }) => {
                if *id != self.me {
                    self.typing
                        .insert((chat.clone(), *id), (nick.clone(), now_ms));
                }
                None
            }
            Event::HistoryDone {
                chat,
                before,
                limit,
                count,
            } => {
                if let Some(view) = self.chat_mut(chat) {
                    let page = Page {
                        before: *before,
                        limit: *limit,
                    };
                    view.history_done(page, *count);
                }
                None
            }
            // Warnings in words: the window's notices.
            Event::KeyChanged { .. }
            | Event::Core(CoreEvent::OtherVersion { .. })
            | Event::Trouble(_)
            | Event::Core(CoreEvent::Error(_))
            | Event::Refused(_)
            | Event::HistoryRecovered { .. }
            | Event::Core(CoreEvent::Stopped)
            | Event::Exported { .. }
            | Event::Trusted { .. } => None,
            // Shown on the file messages' cards.
            Event::File(FileEvent::Offered { .. })
            | Event::File(FileEvent::Offer(_))
            | Event::File(FileEvent::Progress(_))
            | Event::File(FileEvent::Done(_))
            | Event::File(FileEvent::Failed(_))
            | Event::File(FileEvent::List(_)) => {
                self.transfers.apply(&event.event);
                None
            }
            Event::Network(report) => {
                self.network = Some((now_ms, (**report).clone()));
                None
            }
            Event::Core(CoreEvent::StaticPeers(addrs)) => {
                self.static_peers.clone_from(addrs);
                None
            }
            Event::Core(CoreEvent::ChannelKey { channel, .. }) => {
                self.protected.insert(channel.clone());
                None
            }
        }
    }

    /// Adds a notice (an error, a reply) to a chat.
    pub fn notice(&mut self, chat: &Chat, now_ms: u64, text: String) {
        self.open(chat)
            .push(Row::System(now_ms, SystemLine::Notice(text)));
    }

    /// Records that I beeped someone, in our private chat.
    pub fn beep_sent(&mut self, to: NodeId, now_ms: u64) {
        let nick = self.label(&to);
        self.open(&Chat::Direct(to))
            .push(Row::System(now_ms, SystemLine::BeepSent(nick)));
    }

    fn set_state(&mut self, to: NodeId, id: MsgId, state: DmState) {
        let Some(view) = self.chat_mut(&Chat::Direct(to)) else {
            return;
        };
        for row in view.rows.iter_mut().rev() {
            if let Row::Message(m) = row
                && m.id == id
                && m.mine
            {
                // Delivered is final: a late "queued" must not undo it.
                if m.state != Some(DmState::Delivered) {
                    m.state = Some(state);
                    view.revision += 1;
                }
                return;
            }
        }
    }

    /// Recomputes labels: `nick`, or `nick#abcd` when two people online
    /// share a nick (the core does it too, but labels change as people come
    /// and go).
    fn relabel(&mut self) {
        for peer in self.peers.values_mut() {
            peer.label = self.names.label(&peer.id);
        }
    }
}

#[cfg(test)]
mod tests;
