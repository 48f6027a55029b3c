//! The names of the peers the driver has seen, so a user can name a chat by
//! nick in `/history` (the messages themselves are in [`crate::store`]).

use std::collections::HashMap;

use crate::api::Target;
use crate::protocol::CoreEvent;
use crate::protocol::Refusal;
use crate::types::{Chat, NodeId, channel_name};

/// Who is called what.
#[derive(Debug)]
pub(crate) struct History {
    me: NodeId,
    /// Every peer seen this run: (nick, label). Kept after it leaves so its
    /// direct chat can still be named.
    names: HashMap<NodeId, (String, String)>,
}

impl History {
    /// No names yet, for node `me`.
    pub(crate) fn new(me: NodeId) -> History {
        History {
            me,
            names: HashMap::new(),
        }
    }

    /// Learns names from an event the core emitted.
    pub(crate) fn record(&mut self, event: &CoreEvent) {
        match event {
            CoreEvent::PeerOnline(peer) => {
                self.names
                    .insert(peer.id, (peer.nick.clone(), peer.label.clone()));
            }
            CoreEvent::NickChanged { id, new, .. } if *id != self.me => {
                if let Some(names) = self.names.get_mut(id) {
                    names.0 = new.clone();
                    names.1 = new.clone();
                }
            }
            _ => {}
        }
    }

    /// Which chat a user's target names.
    pub(crate) fn resolve(&self, target: &Target) -> Result<Chat, Refusal> {
        match target {
            Target::Channel(name) => {
                channel_name(name)
                    .map(Chat::Channel)
                    .map_err(|cause| Refusal::BadChannel {
                        raw: name.clone(),
                        cause,
                    })
            }
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
                    [] => Err(Refusal::NoOneCalled(who.clone())),
                    many => Err(Refusal::WhichOne {
                        nick: nick.to_string(),
                        labels: many
                            .iter()
                            .map(|id| format!("{nick}#{}", id.short()))
                            .collect(),
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PeerInfo;
    use crate::types::Status;

    fn peer(id: NodeId, nick: &str) -> CoreEvent {
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
    fn resolves_chats_by_name() {
        let me = NodeId::random();
        let bob = NodeId::random();
        let mut h = History::new(me);
        h.record(&peer(bob, "bob"));
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
        h.record(&peer(NodeId::random(), "bob"));
        assert!(h.resolve(&Target::Person("bob".into())).is_err());
    }
}
