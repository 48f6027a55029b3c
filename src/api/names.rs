//! Who is called what, as a client of the node hears it: one table for
//! the driver (to read `/history bob`), the headless mode and the window
//! (to show `@bob`). A label is the nick, or `nick#abcd` while someone
//! else online, me included, has the same nick ([`crate::types::label`],
//! the rule the core uses too); it is worked out when asked, so it changes
//! as people come and go.

use std::collections::{BTreeMap, HashMap};

use crate::protocol::{CoreEvent, Refusal, Target};
use crate::types::{Chat, NodeId, label};

/// The people heard of, online or not.
#[derive(Clone, Debug)]
pub struct Names {
    me: NodeId,
    my_nick: String,
    /// Who is online now, and their nick.
    online: BTreeMap<NodeId, String>,
    /// The last nick of everyone heard of this run (kept after they leave,
    /// so their direct chat can still be named).
    known: HashMap<NodeId, String>,
}

impl Names {
    /// Nobody but me yet.
    pub fn new(me: NodeId, my_nick: &str) -> Names {
        Names {
            me,
            my_nick: my_nick.to_string(),
            online: BTreeMap::new(),
            known: HashMap::new(),
        }
    }

    /// Learns from what the core said.
    pub fn record(&mut self, event: &CoreEvent) {
        match event {
            CoreEvent::PeerOnline(peer) => {
                self.online.insert(peer.id, peer.nick.clone());
                self.known.insert(peer.id, peer.nick.clone());
            }
            CoreEvent::Who(peers) => {
                self.online = peers.iter().map(|p| (p.id, p.nick.clone())).collect();
                for p in peers {
                    self.known.insert(p.id, p.nick.clone());
                }
            }
            CoreEvent::PeerOffline { id, .. } => {
                self.online.remove(id);
            }
            // An author never seen online (history, catch-up) is named too.
            CoreEvent::Message(m) | CoreEvent::Recalled(m) if m.from != self.me => {
                self.known.entry(m.from).or_insert_with(|| m.nick.clone());
            }
            CoreEvent::NickChanged { id, new, .. } if *id == self.me => {
                self.my_nick.clone_from(new);
            }
            CoreEvent::NickChanged { id, new, .. } => {
                if let Some(nick) = self.online.get_mut(id) {
                    nick.clone_from(new);
                }
                self.known.insert(*id, new.clone());
            }
            _ => {}
        }
    }

    /// Me.
    pub fn me(&self) -> NodeId {
        self.me
    }

    /// How a chat is named in a line of text: `#chan`, or `@label` of the
    /// other party.
    pub fn chat(&self, chat: &Chat) -> String {
        match chat {
            Chat::Channel(name) => name.clone(),
            Chat::Direct(id) => format!("@{}", self.label(id)),
        }
    }

    /// My nick.
    pub fn my_nick(&self) -> &str {
        &self.my_nick
    }

    /// The last nick known of `id`.
    pub fn nick(&self, id: &NodeId) -> Option<&str> {
        if *id == self.me {
            return Some(&self.my_nick);
        }
        self.known.get(id).map(String::as_str)
    }

    /// What `id` is called now: its label while online, its last nick
    /// after, its short id if never heard of.
    pub fn label(&self, id: &NodeId) -> String {
        if *id == self.me {
            return self.my_nick.clone();
        }
        match self.online.get(id) {
            Some(nick) => {
                let shared = self.my_nick.eq_ignore_ascii_case(nick)
                    || self
                        .online
                        .iter()
                        .any(|(other, n)| other != id && n.eq_ignore_ascii_case(nick));
                label(nick, *id, shared)
            }
            None => self.known.get(id).cloned().unwrap_or_else(|| id.short()),
        }
    }

    /// Which chat a user's target names: a channel, or a person by id,
    /// label, `nick#abcd` or nick.
    pub fn resolve(&self, target: &Target) -> Result<Chat, Refusal> {
        let who = match target {
            Target::Channel(name) => return Refusal::channel(name).map(Chat::Channel),
            Target::Node(id) => return Ok(Chat::Direct(*id)),
            Target::Person(who) => who,
        };
        if let Some(id) = NodeId::parse(who) {
            return Ok(Chat::Direct(id));
        }
        let by_label: Vec<NodeId> = self
            .known
            .keys()
            .filter(|id| self.label(id) == *who)
            .copied()
            .collect();
        if let [id] = by_label.as_slice() {
            return Ok(Chat::Direct(*id));
        }
        let (nick, short) = match who.rsplit_once('#') {
            Some((nick, short)) => (nick, Some(short)),
            None => (who.as_str(), None),
        };
        let mut found: Vec<NodeId> = self
            .known
            .iter()
            .filter(|(id, n)| *n == nick && short.is_none_or(|s| id.to_string().starts_with(s)))
            .map(|(id, _)| *id)
            .collect();
        found.sort();
        match found.as_slice() {
            [id] => Ok(Chat::Direct(*id)),
            [] => Err(Refusal::NoOneCalled(who.clone())),
            many => Err(Refusal::WhichOne {
                nick: nick.to_string(),
                labels: many.iter().map(|id| label(nick, *id, true)).collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{OfflineReason, PeerInfo};
    use crate::types::Status;

    fn online(id: NodeId, nick: &str) -> CoreEvent {
        CoreEvent::PeerOnline(PeerInfo {
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
            key: crate::envelope::PublicKey::default(),
        })
    }

    #[test]
    fn a_shared_nick_is_told_apart_while_both_are_online() {
        let me = NodeId::random();
        let (bob, bob2) = (NodeId::random(), NodeId::random());
        let mut names = Names::new(me, "alex");
        names.record(&online(bob, "bob"));
        assert_eq!(names.label(&bob), "bob");
        names.record(&online(bob2, "Bob"));
        assert_eq!(names.label(&bob), format!("bob#{}", bob.short()));
        assert_eq!(names.label(&bob2), format!("Bob#{}", bob2.short()));
        names.record(&CoreEvent::PeerOffline {
            id: bob2,
            nick: "Bob".into(),
            reason: OfflineReason::Quit,
        });
        assert_eq!(names.label(&bob), "bob");
        // My own nick counts too.
        names.record(&CoreEvent::NickChanged {
            id: me,
            old: "alex".into(),
            new: "bob".into(),
        });
        assert_eq!(names.label(&bob), format!("bob#{}", bob.short()));
        assert_eq!(names.label(&me), "bob");
    }

    #[test]
    fn resolves_chats_by_name() {
        let me = NodeId::random();
        let bob = NodeId::random();
        let mut names = Names::new(me, "alex");
        names.record(&online(bob, "bob"));
        assert_eq!(
            names.resolve(&Target::Channel("main".into())),
            Ok(Chat::Channel("#Main".into()))
        );
        assert_eq!(
            names.resolve(&Target::Person("bob".into())),
            Ok(Chat::Direct(bob))
        );
        let tagged = format!("bob#{}", bob.short());
        assert_eq!(
            names.resolve(&Target::Person(tagged)),
            Ok(Chat::Direct(bob))
        );
        assert_eq!(
            names.resolve(&Target::Person("carol".into())),
            Err(Refusal::NoOneCalled("carol".into()))
        );
        let bob2 = NodeId::random();
        names.record(&online(bob2, "bob"));
        assert!(matches!(
            names.resolve(&Target::Person("bob".into())),
            Err(Refusal::WhichOne { .. })
        ));
        // Gone, still named: its direct chat stays reachable.
        names.record(&CoreEvent::PeerOffline {
            id: bob2,
            nick: "bob".into(),
            reason: OfflineReason::Timeout,
        });
        let tagged = format!("bob#{}", bob2.short());
        assert_eq!(
            names.resolve(&Target::Person(tagged)),
            Ok(Chat::Direct(bob2))
        );
    }
}
