//! One chat as the window shows it: its rows (messages and system
//! lines), merged from live events and pages of history, and how far back
//! history was read.

use super::*;

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
    /// For a file message: what its text says, read once (`None` when the
    /// text is neither a sound offer nor a withdrawal).
    pub file: Option<FileMessage>,
}

impl MessageRow {
    /// For a file message: the offer its text makes.
    pub fn offer(&self) -> Option<&Offer> {
        match &self.file {
            Some(FileMessage::Offer(offer)) => Some(offer),
            _ => None,
        }
    }

    /// For a file message: the withdrawal its text makes, if it is one.
    pub fn withdrawal(&self) -> Option<&Withdrawal> {
        match &self.file {
            Some(FileMessage::Withdrawal(w)) => Some(w),
            _ => None,
        }
    }
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
    pub(super) seen: HashSet<MsgId>,
    /// Replayed messages waiting for the end of their answer, so a page
    /// is merged in one pass (and the view moves once).
    pub(super) replayed: Vec<MessageRow>,
}

impl ChatView {
    pub(super) fn new(chat: Chat) -> ChatView {
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
    pub(super) fn history_done(&mut self, page: Page, count: usize) {
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

    pub(super) fn first_stamp(&self) -> Option<u64> {
        self.rows.iter().find_map(|r| match r {
            Row::Message(m) => Some(m.hlc),
            Row::System(..) => None,
        })
    }

    pub(super) fn push(&mut self, row: Row) {
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
    pub(super) fn merge(&mut self, mut page: Vec<MessageRow>) {
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
