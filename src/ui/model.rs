//! What the window knows, built from the node's events and nothing else:
//! the chats with their rows and unread counts, the people online, who is
//! typing. Pure state (time is passed in), so it is tested without a window;
//! the views in `ui/view/` only read it.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::transfers::Transfers;
use crate::api::{ChannelSummary, ChatMessage, Event, OfflineReason, PeerInfo, TYPING_SHOWN};
use crate::files::FileEvent;
use crate::files::{Offer, Withdrawal};
use crate::net::{NodeEvent, ReadyInfo};
use crate::protocol::CoreEvent;
use crate::types::{Chat, MAIN_CHANNEL, MessageKind, MsgId, NodeId, Status};

/// Most rows kept per chat in the window (older ones are dropped from view;
/// `/history` can bring recent ones back).
pub const MAX_ROWS: usize = 200_000;

/// Messages asked from the store at a time: the newest when a chat is
/// opened, then a page further back each time the user scrolls to the top.
pub const HISTORY_PAGE: usize = 500;

/// A page of stored history to ask for, as in
/// [`crate::api::Command::History`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// Messages stamped at or before this; `None`: the newest.
    pub before: Option<u64>,
    /// How many at most.
    pub limit: usize,
}

/// How much of a chat's stored history the window has read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// Older messages may be stored: reaching the top asks for them.
    More,
    /// This page is asked for and not all here yet.
    Loading(Page),
    /// The oldest stored message is shown.
    Start,
}

/// The state of a direct message I sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmState {
    /// Not acknowledged yet.
    Sending,
    /// The recipient has it.
    Delivered,
    /// The recipient is away; it will go when they are back.
    Queued,
}

/// One message in a chat.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    /// Message id.
    pub id: MsgId,
    /// Author.
    pub from: NodeId,
    /// Author's nick then.
    pub nick: String,
    /// Text or action.
    pub kind: MessageKind,
    /// The text.
    pub text: String,
    /// Wall time, ms since the Unix epoch.
    pub time_ms: u64,
    /// Hybrid logical clock stamp: display order is `(hlc, from)`.
    pub hlc: u64,
    /// Whether I wrote it.
    pub mine: bool,
    /// For my direct messages: how far it got.
    pub state: Option<DmState>,
    /// Replayed from history, not live.
    pub history: bool,
    /// It mentions my nick.
    pub mention: bool,
    /// For a file message: the offer its text makes (`None` when the text
    /// is no sound offer).
    pub offer: Option<Offer>,
    /// For a file message: the withdrawal its text makes, if it is one.
    pub withdrawal: Option<Withdrawal>,
}

/// A line that is not a message: something happened.
#[derive(Clone, Debug, PartialEq)]
pub enum SystemLine {
    /// Someone joined the channel.
    Joined(String),
    /// Someone left the channel.
    Parted(String),
    /// The other party of a private chat came online.
    Online(String),
    /// Someone went offline.
    Offline(String, OfflineReason),
    /// A nick change, old and new.
    Nick(String, String),
    /// A topic change: who and the topic.
    Topic(String, String),
    /// Someone beeped me.
    Beeped(String),
    /// I beeped someone.
    BeepSent(String),
    /// Messages lost for good: from whom and how many.
    Missed(String, u64),
    /// A status change: who, status, text.
    Status(String, Status, String),
    /// An error or notice, already in words.
    Notice(String),
}

/// One row of a chat.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// A message.
    Message(MessageRow),
    /// Something that happened, at a wall time.
    System(u64, SystemLine),
}

impl Row {
    /// Wall time of the row, ms since the Unix epoch.
    pub fn time_ms(&self) -> u64 {
        match self {
            Row::Message(m) => m.time_ms,
            Row::System(t, _) => *t,
        }
    }
}

/// One chat in the left panel.
#[derive(Clone, Debug)]
pub struct ChatView {
    /// Which chat.
    pub chat: Chat,
    /// Its rows, oldest first.
    pub rows: Vec<Row>,
    /// Messages not seen yet.
    pub unread: usize,
    /// An unseen message mentions me (or it is a private chat).
    pub attention: bool,
    /// Bumped on every change of `rows`, so views can tell.
    pub revision: u64,
    /// How far back the stored history has been read.
    pub paging: Paging,
    seen: HashSet<MsgId>,
    /// Replayed messages waiting for the end of their answer, so a page
    /// is merged in one pass (and the view moves once).
    replayed: Vec<MessageRow>,
}

impl ChatView {
    fn new(chat: Chat) -> ChatView {
        ChatView {
            chat,
            rows: Vec::new(),
            unread: 0,
            attention: false,
            revision: 0,
            paging: Paging::More,
            seen: HashSet::new(),
            replayed: Vec::new(),
        }
    }

    /// The page of stored history to ask for next: the newest when no
    /// message is shown, else the one ending at the oldest shown (the
    /// first message row: live messages with odd stamps land at the
    /// bottom). `None` while a page is on its way (never two at once) or
    /// when the beginning is shown. The caller must send the request.
    pub fn next_page(&mut self) -> Option<Page> {
        if self.paging != Paging::More {
            return None;
        }
        let page = Page {
            before: self.rows.iter().find_map(|r| match r {
                Row::Message(m) => Some(m.hlc),
                Row::System(..) => None,
            }),
            limit: HISTORY_PAGE,
        };
        self.paging = Paging::Loading(page);
        Some(page)
    }

    /// The end of a history answer: merges what it brought and, when it
    /// answers the page asked for, notes whether older messages may be
    /// stored (the page came back full) or the beginning is reached.
    fn history_done(&mut self, page: Page, count: usize) {
        let replayed = std::mem::take(&mut self.replayed);
        let oldest_before = self.first_stamp();
        self.merge(replayed);
        if self.paging != Paging::Loading(page) {
            // Someone's `/history`, not my page.
            return;
        }
        // The bound is inclusive: a full page stamped all alike at the
        // bound would be asked for again and again; stop there instead.
        let stuck = page.before.is_some() && self.first_stamp() == oldest_before;
        self.paging = if count >= page.limit && !stuck {
            Paging::More
        } else {
            Paging::Start
        };
    }

    fn first_stamp(&self) -> Option<u64> {
        self.rows.iter().find_map(|r| match r {
            Row::Message(m) => Some(m.hlc),
            Row::System(..) => None,
        })
    }

    fn push(&mut self, row: Row) {
        if let Row::Message(m) = &row {
            self.seen.insert(m.id);
        }
        self.rows.push(row);
        if self.rows.len() > MAX_ROWS {
            let excess = self.rows.len() - MAX_ROWS;
            self.rows.drain(..excess);
        }
        self.revision += 1;
    }

    /// Merges replayed messages (in display order: `hlc`, then sender, as
    /// the store gives them; wall clocks of two machines may disagree) into
    /// the rows, each after the last message that comes before it, leaving
    /// out those shown already. One pass from the top: a page of older
    /// messages costs one copy of the rows, not a shift per message, and
    /// a live message with an odd stamp at the bottom does not pull older
    /// ones down to it.
    fn merge(&mut self, mut page: Vec<MessageRow>) {
        page.retain(|m| self.seen.insert(m.id));
        if page.is_empty() {
            return;
        }
        page.sort_by_key(|m| (m.hlc, m.from));
        let old = std::mem::take(&mut self.rows);
        let mut out = Vec::with_capacity(old.len() + page.len());
        let mut rows = old.into_iter().peekable();
        // System rows after the last message placed: later replayed
        // messages that belong before the next message go above them.
        let mut held = Vec::new();
        for m in page {
            let key = (m.hlc, m.from);
            loop {
                match rows.peek() {
                    Some(Row::Message(r)) if (r.hlc, r.from) <= key => {
                        out.append(&mut held);
                        out.extend(rows.next());
                    }
                    Some(Row::System(..)) => held.extend(rows.next()),
                    _ => break,
                }
            }
            out.push(Row::Message(m));
        }
        out.append(&mut held);
        out.extend(rows);
        self.rows = out;
        self.revision += 1;
    }
}

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
    /// My nick.
    pub my_nick: String,
    /// My status.
    pub my_status: Status,
    /// My status text.
    pub my_status_text: String,
    /// What I am (host, address, since), when the node runs.
    pub ready: Option<ReadyInfo>,
    /// People online, by id.
    pub peers: BTreeMap<NodeId, PeerInfo>,
    /// Last nick seen for everyone ever seen (names offline private chats).
    pub nicks: HashMap<NodeId, String>,
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
            my_nick: nick,
            my_status: Status::Available,
            my_status_text: String::new(),
            ready: None,
            peers: BTreeMap::new(),
            nicks: HashMap::new(),
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

    /// What a person is called: their label when online, else the last nick
    /// known, else the short id.
    pub fn label(&self, id: &NodeId) -> String {
        if *id == self.me {
            return self.my_nick.clone();
        }
        match (self.peers.get(id), self.nicks.get(id)) {
            (Some(peer), _) => peer.label.clone(),
            (None, Some(nick)) => nick.clone(),
            (None, None) => id.short(),
        }
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
            offer: Model::offer_of(msg.kind, &msg.text),
            withdrawal: Model::withdrawal_of(msg.kind, &msg.text),
        }
    }

    /// The offer a file message makes.
    fn offer_of(kind: MessageKind, text: &str) -> Option<Offer> {
        (kind == MessageKind::File)
            .then(|| Offer::from_text(text))
            .flatten()
    }

    /// The withdrawal a file message makes.
    fn withdrawal_of(kind: MessageKind, text: &str) -> Option<Withdrawal> {
        (kind == MessageKind::File)
            .then(|| Withdrawal::from_text(text))
            .flatten()
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
        match &event.event {
            // Missed while away: placed at once by its stamp, as history
            // (no page of a request waits for it).
            Event::Core(CoreEvent::Recalled(msg)) => {
                let row = self.row(msg, true, false);
                self.nicks
                    .entry(msg.from)
                    .or_insert_with(|| msg.nick.clone());
                self.open(&msg.chat).merge(vec![row]);
                None
            }
            Event::Core(CoreEvent::PeerOnline(peer)) => {
                self.nicks.insert(peer.id, peer.nick.clone());
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
                if *id == self.me {
                    self.my_nick = new.clone();
                } else {
                    self.nicks.insert(*id, new.clone());
                    if let Some(peer) = self.peers.get_mut(id) {
                        peer.nick = new.clone();
                    }
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
                    && Model::mentions(&msg.text, &self.my_nick);
                let row = self.row(msg, event.history, mention);
                let offer = row.offer.clone();
                self.nicks
                    .entry(msg.from)
                    .or_insert_with(|| msg.nick.clone());
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
                    nick: self.my_nick.clone(),
                    kind: *kind,
                    text: text.clone(),
                    time_ms: now_ms,
                    hlc: *hlc,
                    mine: true,
                    state: matches!(chat, Chat::Direct(_)).then_some(DmState::Sending),
                    history: false,
                    mention: false,
                    offer: Model::offer_of(*kind, text),
                    withdrawal: Model::withdrawal_of(*kind, text),
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
            Event::Core(CoreEvent::Who(peers)) => {
                for peer in peers {
                    self.nicks.insert(peer.id, peer.nick.clone());
                }
                None
            }
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
            | Event::Error(_)
            | Event::Core(CoreEvent::Error(_))
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
        let mut count: HashMap<String, usize> = HashMap::new();
        for peer in self.peers.values() {
            *count.entry(peer.nick.to_lowercase()).or_default() += 1;
        }
        *count.entry(self.my_nick.to_lowercase()).or_default() += 1;
        for peer in self.peers.values_mut() {
            peer.label = if count.get(&peer.nick.to_lowercase()).copied().unwrap_or(0) > 1 {
                format!("{}#{}", peer.nick, peer.id.short())
            } else {
                peer.nick.clone()
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ChatMessage;
    use std::net::SocketAddr;

    fn id(n: u8) -> NodeId {
        NodeId([n; 16])
    }

    fn peer(n: u8, nick: &str) -> PeerInfo {
        PeerInfo {
            id: id(n),
            epoch: 1,
            nick: nick.into(),
            label: nick.into(),
            addr: SocketAddr::from(([192, 0, 2, n], 47077)),
            status: Status::Available,
            status_text: String::new(),
            host: format!("pc{n}"),
            version: "0.1.0".into(),
            since_ms: 0,
            channels: vec![MAIN_CHANNEL.into()],
            key: crate::envelope::PublicKey::default(),
        }
    }

    fn live(event: Event) -> NodeEvent {
        NodeEvent {
            event,
            history: false,
            search: false,
        }
    }

    fn message(n: u8, from: u8, chat: Chat, text: &str, time_ms: u64) -> Event {
        Event::Core(CoreEvent::Message(ChatMessage {
            id: MsgId([n; 16]),
            chat,
            from: id(from),
            nick: format!("p{from}"),
            kind: MessageKind::Text,
            text: text.into(),
            time_ms,
            hlc: time_ms,
            author: None,
        }))
    }

    fn main() -> Chat {
        Chat::Channel(MAIN_CHANNEL.into())
    }

    #[test]
    fn unread_counts_rise_elsewhere_and_clear_on_reading() {
        let mut m = Model::new(id(0), "me".into());
        let dev = Chat::Channel("#dev".into());
        m.open(&dev);
        m.apply(
            &live(message(1, 2, dev.clone(), "hi", 10)),
            10,
            Some(&main()),
            true,
        );
        m.apply(
            &live(message(2, 2, main(), "hi", 11)),
            11,
            Some(&main()),
            true,
        );
        assert_eq!(m.chat(&dev).map(|c| c.unread), Some(1));
        assert_eq!(m.chat(&main()).map(|c| c.unread), Some(0));
        // Not focused: the open chat counts too.
        m.apply(
            &live(message(3, 2, main(), "hi", 12)),
            12,
            Some(&main()),
            false,
        );
        assert_eq!(m.unread(), (2, false));
        m.mark_read(&dev);
        assert_eq!(m.unread(), (1, false));
    }

    #[test]
    fn a_mention_needs_the_nick_as_a_word() {
        assert!(Model::mentions("hey Bob, lunch?", "bob"));
        assert!(Model::mentions("бобу: привет", "Бобу"));
        assert!(!Model::mentions("bobby is here", "bob"));
        assert!(!Model::mentions("kebob", "bob"));
        let mut m = Model::new(id(0), "bob".into());
        let alert = m.apply(&live(message(1, 2, main(), "bob: look", 1)), 1, None, true);
        assert!(matches!(alert, Some(Alert::Mention { .. })));
        assert_eq!(m.unread(), (1, true));
    }

    #[test]
    fn replays_and_repeats_show_once_in_time_order() {
        let mut m = Model::new(id(0), "me".into());
        let sel = Some(main());
        m.apply(
            &live(message(1, 2, main(), "one", 100)),
            100,
            sel.as_ref(),
            true,
        );
        m.apply(
            &live(message(3, 2, main(), "three", 300)),
            300,
            sel.as_ref(),
            true,
        );
        m.apply(
            &live(message(3, 2, main(), "three", 300)),
            300,
            sel.as_ref(),
            true,
        );
        let replay = |e| NodeEvent {
            event: e,
            history: true,
            search: false,
        };
        m.apply(
            &replay(message(2, 2, main(), "two", 200)),
            400,
            sel.as_ref(),
            true,
        );
        m.apply(
            &replay(message(1, 2, main(), "one", 100)),
            400,
            sel.as_ref(),
            true,
        );
        let end = Event::HistoryDone {
            chat: main(),
            before: None,
            limit: 50,
            count: 2,
        };
        m.apply(&replay(end), 400, sel.as_ref(), true);
        let texts: Vec<&str> = m
            .chat(&main())
            .map(|c| {
                c.rows
                    .iter()
                    .filter_map(|r| match r {
                        Row::Message(m) => Some(m.text.as_str()),
                        Row::System(..) => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(texts, ["one", "two", "three"]);
    }

    /// Message `n` of #Main from p2, stamped `n`, as replayed from history.
    fn replayed(n: u8) -> NodeEvent {
        NodeEvent {
            event: message(n, 2, main(), &format!("m{n}"), u64::from(n)),
            history: true,
            search: false,
        }
    }

    fn done(page: Page, count: usize) -> NodeEvent {
        NodeEvent {
            event: Event::HistoryDone {
                chat: main(),
                before: page.before,
                limit: page.limit,
                count,
            },
            history: true,
            search: false,
        }
    }

    fn main_texts(m: &Model) -> Vec<String> {
        m.chat(&main())
            .map(|c| {
                c.rows
                    .iter()
                    .filter_map(|r| match r {
                        Row::Message(m) => Some(m.text.clone()),
                        Row::System(..) => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn a_caught_up_message_is_placed_by_its_stamp_at_once_and_only_once() {
        let mut m = Model::new(id(0), "me".into());
        let sel = Some(main());
        m.apply(
            &live(message(9, 2, main(), "live", 9)),
            9,
            sel.as_ref(),
            true,
        );
        let Event::Core(CoreEvent::Message(missed)) = message(5, 3, main(), "missed", 5) else {
            unreachable!("a message")
        };
        let recalled = NodeEvent {
            event: Event::Core(CoreEvent::Recalled(missed)),
            history: true,
            search: false,
        };
        m.apply(&recalled, 10, sel.as_ref(), true);
        m.apply(&recalled, 11, sel.as_ref(), true);
        assert_eq!(main_texts(&m), ["missed", "live"]);
    }

    #[test]
    fn pages_of_older_messages_merge_once_each_in_order_until_the_beginning() {
        let mut m = Model::new(id(0), "me".into());
        let sel = Some(main());
        // The newest page: asked once, not again while it is on its way.
        let first = m.open(&main()).next_page().expect("a first page");
        assert_eq!(first.before, None);
        assert_eq!(m.open(&main()).next_page(), None);
        // A live message and a system line come before the answer.
        m.apply(
            &live(message(90, 2, main(), "m90", 90)),
            90,
            sel.as_ref(),
            true,
        );
        m.notice(&main(), 91, "notice".into());
        // Pages here are a few messages; `count` says whether one was full.
        for n in 60..=62 {
            m.apply(&replayed(n), 100, sel.as_ref(), true);
        }
        // Nothing shows before the answer is complete (one merge, one move).
        assert_eq!(main_texts(&m), ["m90"]);
        m.apply(&done(first, HISTORY_PAGE), 100, sel.as_ref(), true);
        assert_eq!(main_texts(&m), ["m60", "m61", "m62", "m90"]);
        assert_eq!(m.chat(&main()).map(|c| c.paging), Some(Paging::More));

        // A full page further back, overlapping at its bound: the one
        // stamped 60 is not shown twice, and the system line stays below.
        let second = m.open(&main()).next_page().expect("a second page");
        assert_eq!(second.before, Some(60));
        for n in [58, 59, 60] {
            m.apply(&replayed(n), 100, sel.as_ref(), true);
        }
        m.apply(&done(second, HISTORY_PAGE), 100, sel.as_ref(), true);
        assert_eq!(main_texts(&m), ["m58", "m59", "m60", "m61", "m62", "m90"]);
        let rows = m.chat(&main()).map(|c| c.rows.clone()).unwrap_or_default();
        assert!(matches!(
            rows.last(),
            Some(Row::System(_, SystemLine::Notice(_)))
        ));
        assert_eq!(m.chat(&main()).map(|c| c.paging), Some(Paging::More));

        // A short page: the beginning; nothing more is asked.
        let third = m.open(&main()).next_page().expect("a third page");
        assert_eq!(third.before, Some(58));
        for n in [57, 58] {
            m.apply(&replayed(n), 100, sel.as_ref(), true);
        }
        m.apply(&done(third, 2), 100, sel.as_ref(), true);
        assert_eq!(m.chat(&main()).map(|c| c.paging), Some(Paging::Start));
        assert_eq!(m.open(&main()).next_page(), None);
        assert_eq!(main_texts(&m).first().map(String::as_str), Some("m57"));
        assert_eq!(main_texts(&m).len(), 7);
    }

    #[test]
    fn an_answer_to_another_request_does_not_end_paging() {
        let mut m = Model::new(id(0), "me".into());
        let page = m.open(&main()).next_page().expect("a page");
        // Someone typed `/history #Main 2`: shown, but not my page.
        m.apply(&replayed(5), 1, None, true);
        let typed = Page {
            before: None,
            limit: 2,
        };
        m.apply(&done(typed, 1), 1, None, true);
        assert_eq!(main_texts(&m), ["m5"]);
        assert_eq!(
            m.chat(&main()).map(|c| c.paging),
            Some(Paging::Loading(page))
        );
        // A full page that brings nothing older (all stamped at the bound)
        // ends paging instead of asking for the same page forever.
        m.apply(&done(page, HISTORY_PAGE), 1, None, true);
        let stuck = m.open(&main()).next_page().expect("a page");
        assert_eq!(stuck.before, Some(5));
        m.apply(&replayed(5), 1, None, true);
        m.apply(&done(stuck, HISTORY_PAGE), 1, None, true);
        assert_eq!(m.chat(&main()).map(|c| c.paging), Some(Paging::Start));
        assert_eq!(main_texts(&m), ["m5"]);
    }

    #[test]
    fn my_direct_message_goes_sending_queued_delivered() {
        let mut m = Model::new(id(0), "me".into());
        let chat = Chat::Direct(id(2));
        let msg = MsgId([9; 16]);
        let sent = Event::Core(CoreEvent::Sent {
            id: msg,
            chat: chat.clone(),
            text: "hi".into(),
            kind: MessageKind::Text,
            hlc: 1,
            author: None,
        });
        m.apply(&live(sent), 1, Some(&chat), true);
        let state = |m: &Model| match m.chat(&chat).and_then(|c| c.rows.last()) {
            Some(Row::Message(row)) => row.state,
            _ => None,
        };
        assert_eq!(state(&m), Some(DmState::Sending));
        m.apply(
            &live(Event::Core(CoreEvent::Queued { id: msg, to: id(2) })),
            2,
            None,
            true,
        );
        assert_eq!(state(&m), Some(DmState::Queued));
        m.apply(
            &live(Event::Core(CoreEvent::Delivered { id: msg, to: id(2) })),
            3,
            None,
            true,
        );
        m.apply(
            &live(Event::Core(CoreEvent::Queued { id: msg, to: id(2) })),
            4,
            None,
            true,
        );
        assert_eq!(state(&m), Some(DmState::Delivered));
    }

    #[test]
    fn typing_shows_for_a_while_and_a_message_clears_it() {
        let mut m = Model::new(id(0), "me".into());
        m.apply(
            &live(Event::Core(CoreEvent::PeerOnline(peer(2, "bob")))),
            0,
            None,
            true,
        );
        let typing = Event::Core(CoreEvent::Typing {
            chat: main(),
            id: id(2),
            nick: "bob".into(),
        });
        m.apply(&live(typing.clone()), 1000, None, true);
        assert_eq!(m.typing(&main(), 1500), ["bob"]);
        assert!(m.typing(&Chat::Direct(id(2)), 1500).is_empty());
        let shown = u64::try_from(TYPING_SHOWN.as_millis()).unwrap_or(0);
        assert!(m.typing(&main(), 1000 + shown).is_empty());
        m.apply(&live(typing), 2000, None, true);
        m.apply(&live(message(1, 2, main(), "done", 2100)), 2100, None, true);
        assert!(m.typing(&main(), 2200).is_empty());
    }

    #[test]
    fn equal_nicks_are_told_apart_and_a_lone_one_is_not() {
        let mut m = Model::new(id(0), "me".into());
        m.apply(
            &live(Event::Core(CoreEvent::PeerOnline(peer(2, "anna")))),
            0,
            None,
            true,
        );
        m.apply(
            &live(Event::Core(CoreEvent::PeerOnline(peer(3, "anna")))),
            0,
            None,
            true,
        );
        assert_eq!(m.label(&id(2)), format!("anna#{}", id(2).short()));
        assert_ne!(m.label(&id(2)), m.label(&id(3)));
        let gone = Event::Core(CoreEvent::PeerOffline {
            id: id(3),
            nick: "anna".into(),
            reason: OfflineReason::Quit,
        });
        m.apply(&live(gone), 0, None, true);
        assert_eq!(m.label(&id(2)), "anna");
    }

    #[test]
    fn channels_sort_after_main_and_private_chats_follow() {
        let mut m = Model::new(id(0), "me".into());
        m.open(&Chat::Direct(id(5)));
        m.open(&Chat::Channel("#zeta".into()));
        m.open(&Chat::Channel("#alpha".into()));
        let order: Vec<String> = m.chats.iter().map(|c| m.title(&c.chat)).collect();
        assert_eq!(order, ["#Main", "#alpha", "#zeta", &id(5).short()]);
        m.close(&main());
        assert_eq!(m.chats[0].chat, main());
    }

    #[test]
    fn completion_offers_people_and_channels_by_prefix() {
        let mut m = Model::new(id(0), "me".into());
        m.apply(
            &live(Event::Core(CoreEvent::PeerOnline(peer(2, "Boris")))),
            0,
            None,
            true,
        );
        m.apply(
            &live(Event::Core(CoreEvent::PeerOnline(peer(3, "bob")))),
            0,
            None,
            true,
        );
        m.open(&Chat::Channel("#dev".into()));
        assert_eq!(m.completions("bo"), ["bob", "Boris"]);
        assert_eq!(m.completions("#d"), ["#dev"]);
        assert!(m.completions("x").is_empty());
    }
}
