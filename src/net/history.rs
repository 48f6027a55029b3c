//! The driver's in-memory history: the newest messages of every chat, so
//! `Command::History` can be answered (the core keeps no history), and the
//! names of peers seen, so a chat can be named by nick.

use std::collections::{HashMap, VecDeque};

use crate::api::{ChatMessage, Event, Target};
use crate::types::{Chat, NodeId, channel_name};

/// Newest messages per chat, and who is called what.
#[derive(Debug)]
pub(crate) struct History {
    me: NodeId,
    my_nick: String,
    per_chat: usize,
    chats: HashMap<Chat, VecDeque<ChatMessage>>,
    /// Every peer seen this run: (nick, label). Kept after it leaves so its
    /// direct chat can still be named.
    names: HashMap<NodeId, (String, String)>,
}

impl History {
    /// Empty history for node `me`, keeping `per_chat` messages per chat.
    pub(crate) fn new(me: NodeId, my_nick: String, per_chat: usize) -> History {
        History {
            me,
            my_nick,
            per_chat,
            chats: HashMap::new(),
            names: HashMap::new(),
        }
    }

    /// Learns from an event the core emitted.
    pub(crate) fn record(&mut self, event: &Event, wall_ms: u64) {
        match event {
            Event::Message(msg) => self.push(msg.clone()),
            Event::Sent {
                id,
                chat,
                text,
                kind,
                hlc,
            } => self.push(ChatMessage {
                id: *id,
                chat: chat.clone(),
                from: self.me,
                nick: self.my_nick.clone(),
                kind: *kind,
                text: text.clone(),
                time_ms: wall_ms,
                hlc: *hlc,
            }),
            Event::PeerOnline(peer) => {
                self.names
                    .insert(peer.id, (peer.nick.clone(), peer.label.clone()));
            }
            Event::NickChanged { id, new, .. } => {
                if *id == self.me {
                    self.my_nick = new.clone();
                } else if let Some(names) = self.names.get_mut(id) {
                    names.0 = new.clone();
                    names.1 = new.clone();
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, msg: ChatMessage) {
        let list = self.chats.entry(msg.chat.clone()).or_default();
        if list.iter().any(|m| m.id == msg.id) {
            return;
        }
        list.push_back(msg);
        while list.len() > self.per_chat {
            list.pop_front();
        }
    }

    /// Which chat a user's target names.
    pub(crate) fn resolve(&self, target: &Target) -> Result<Chat, String> {
        match target {
            Target::Channel(name) => channel_name(name)
                .map(Chat::Channel)
                .map_err(|err| format!("bad channel name {name:?}: {err}")),
            Target::Node(id) => Ok(Chat::Direct(*id)),
            Target::Person(who) => {
                if let Some(id) = NodeId::parse(who) {
                    return Ok(Chat::Direct(id));
                }
                let by_label: Vec<NodeId> = self
                    .names
                    .iter()
                    .filter(|(_, (_, label))| label == who)
                    .map(|(id, _)| *id)
                    .collect();
                if let [id] = by_label.as_slice() {
                    return Ok(Chat::Direct(*id));
                }
                let (nick, short) = match who.rsplit_once('#') {
                    Some((nick, short)) => (nick, Some(short)),
                    None => (who.as_str(), None),
                };
                let found: Vec<NodeId> = self
                    .names
                    .iter()
                    .filter(|(id, (n, _))| {
                        n == nick && short.is_none_or(|s| id.to_string().starts_with(s))
                    })
                    .map(|(id, _)| *id)
                    .collect();
                match found.as_slice() {
                    [id] => Ok(Chat::Direct(*id)),
                    [] => Err(format!("no one called {who} has been seen")),
                    _ => Err(format!("{who} is ambiguous; use nick#abcd")),
                }
            }
        }
    }

    /// The newest `limit` messages of `chat`, oldest first, in display order.
    pub(crate) fn newest(&self, chat: &Chat, limit: usize) -> Vec<ChatMessage> {
        let Some(list) = self.chats.get(chat) else {
            return Vec::new();
        };
        let mut all: Vec<ChatMessage> = list.iter().cloned().collect();
        all.sort_by_key(|m| (m.hlc, m.from));
        let skip = all.len().saturating_sub(limit);
        all.split_off(skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PeerInfo;
    use crate::types::{MessageKind, MsgId, Status};

    fn msg(n: u128, chat: Chat, from: NodeId) -> Event {
        Event::Message(ChatMessage {
            id: MsgId::from_bits(n),
            chat,
            from,
            nick: "x".into(),
            kind: MessageKind::Text,
            text: format!("m{n}"),
            time_ms: 0,
            hlc: n as u64,
        })
    }

    fn peer(id: NodeId, nick: &str) -> Event {
        Event::PeerOnline(PeerInfo {
            id,
            epoch: 1,
            nick: nick.into(),
            label: nick.into(),
            addr: "127.0.0.1:1".parse().unwrap(),
            status: Status::Available,
            status_text: String::new(),
            host: "h".into(),
            version: "v".into(),
            since_ms: 0,
            channels: vec![],
        })
    }

    #[test]
    fn keeps_the_newest_per_chat_without_duplicates() {
        let me = NodeId::random();
        let other = NodeId::random();
        let main = Chat::Channel("#Main".into());
        let mut h = History::new(me, "me".into(), 3);
        for n in 0..5 {
            h.record(&msg(n, main.clone(), other), 0);
        }
        h.record(&msg(4, main.clone(), other), 0);
        let texts: Vec<_> = h.newest(&main, 10).into_iter().map(|m| m.text).collect();
        assert_eq!(texts, ["m2", "m3", "m4"]);
        assert_eq!(h.newest(&main, 1).len(), 1);
        assert_eq!(h.newest(&main, 1)[0].text, "m4");
        assert!(h.newest(&Chat::Channel("#x".into()), 5).is_empty());
    }

    #[test]
    fn resolves_chats_by_name() {
        let me = NodeId::random();
        let bob = NodeId::random();
        let mut h = History::new(me, "me".into(), 10);
        h.record(&peer(bob, "bob"), 0);
        assert_eq!(
            h.resolve(&Target::Channel("main".into())),
            Ok(Chat::Channel("#Main".into()))
        );
        assert_eq!(
            h.resolve(&Target::Person("bob".into())),
            Ok(Chat::Direct(bob))
        );
        let tagged = format!("bob#{}", bob.short());
        assert_eq!(h.resolve(&Target::Person(tagged)), Ok(Chat::Direct(bob)));
        assert!(h.resolve(&Target::Person("carol".into())).is_err());
        h.record(&peer(NodeId::random(), "bob"), 0);
        assert!(h.resolve(&Target::Person("bob".into())).is_err());
    }
}
