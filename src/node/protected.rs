//! Password channels (`/join #name password`). Everything said about such a
//! channel (messages, repairs, topic, typing, catch-up) travels inside a
//! [`Body::Hidden`] encrypted with the channel's [`ChannelKey`], and my
//! place in it travels inside my presence as a sealed state. Neither names
//! the channel: a member tries the keys of its password channels, and a
//! node without the password reads nothing and learns no member from what
//! it receives (it sees only that some nodes send what it cannot read).
//!
//! That the channel exists is spread by name ([`Body::Protected`]) by every
//! node that heard of it, member or not: members vouch for it ("age 0"),
//! the others pass on the age of the newest vouching they heard, and a
//! name nobody vouched for in [`PROTECTED_FOR`] is forgotten.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tracing::debug;

use super::Node;
use crate::channels::Joined;
use crate::discovery::PeerTable;
use crate::envelope::ChannelKey;
use crate::protocol::Dest;
use crate::types::NodeId;
use crate::wire::{
    self, Body, ChannelState, MAX_PROTECTED, PROTECTED_FOR, Presence, ProtectedChannel,
};

/// Most password channels one node is in (each costs every presence
/// received a trial decryption per sealed state).
pub const MAX_PROTECTED_JOINED: usize = 8;
/// Heartbeats that are full presences after a password channel's tail
/// changed (a lean one would not tell it): as many as a loss of two in a
/// row still gets through.
pub(crate) const FULLS_AFTER_CHANGE: u8 = 3;
/// Most password channels remembered as heard of.
const MAX_HEARD: usize = 64;

/// My password channels, and the ones I heard of.
#[derive(Debug, Default)]
pub(crate) struct Protected {
    /// My password channels and their keys.
    pub(crate) keys: BTreeMap<String, ChannelKey>,
    /// Password channels heard of: name → when (on my clock) a member
    /// last vouched for it.
    heard: BTreeMap<String, Instant>,
    /// The tails of my password channels when they last changed (lean
    /// heartbeats cannot carry them: a change is told by full presences).
    pub(crate) told_tails: Vec<u64>,
    /// Heartbeats still to be full presences since the last change.
    pub(crate) fulls_due: u8,
}

impl Protected {
    fn fresh(vouched: Instant, now: Instant) -> bool {
        now.saturating_duration_since(vouched) < PROTECTED_FOR
    }

    /// Whether a channel is known to have a password: one of mine, or one
    /// a member vouched for lately.
    pub(crate) fn known(&self, name: &str, now: Instant) -> bool {
        self.keys.contains_key(name)
            || self
                .heard
                .get(name)
                .is_some_and(|t| Protected::fresh(*t, now))
    }

    /// Takes in the names a peer knows of.
    pub(super) fn hear(&mut self, list: &[ProtectedChannel], now: Instant) {
        for c in list {
            let age = Duration::from_secs(u64::from(c.age_secs));
            let Some(vouched) = now.checked_sub(age) else {
                continue;
            };
            if !Protected::fresh(vouched, now) {
                continue;
            }
            if !self.heard.contains_key(&c.name) && self.heard.len() >= MAX_HEARD {
                // Full: forget the stalest name, if this one is fresher.
                let Some((stalest, t)) = self
                    .heard
                    .iter()
                    .min_by_key(|(_, t)| **t)
                    .map(|(n, t)| (n.clone(), *t))
                else {
                    continue;
                };
                if t >= vouched {
                    continue;
                }
                self.heard.remove(&stalest);
            }
            let entry = self.heard.entry(c.name.clone()).or_insert(vouched);
            *entry = (*entry).max(vouched);
        }
    }

    /// What I tell others: my own channels vouched for now, then the
    /// freshest of the others I heard of.
    fn vouch(&self, now: Instant) -> Vec<ProtectedChannel> {
        let mut list: Vec<ProtectedChannel> = self
            .keys
            .keys()
            .map(|name| ProtectedChannel {
                name: name.clone(),
                age_secs: 0,
            })
            .collect();
        let mut others: Vec<(&String, Instant)> = self.heard_lately(now).collect();
        others.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        list.extend(others.into_iter().map(|(name, t)| ProtectedChannel {
            name: name.clone(),
            // Rounded up, so passing it on never makes it younger.
            age_secs:
                u32::try_from(now.saturating_duration_since(t).as_secs() + 1).unwrap_or(u32::MAX),
        }));
        list.truncate(MAX_PROTECTED);
        list
    }

    /// Names heard of lately (not mine), with when a member vouched.
    pub(crate) fn heard_lately(&self, now: Instant) -> impl Iterator<Item = (&String, Instant)> {
        self.heard
            .iter()
            .filter(move |(name, t)| !self.keys.contains_key(*name) && Protected::fresh(**t, now))
            .map(|(name, t)| (name, *t))
    }
}

/// Why a datagram's body is not for me once my keys were tried
/// ([`Protected::unhide`]).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Withheld {
    /// A hidden body that opened but is not sound.
    Malformed,
    /// A password channel I am not in: nothing here for me.
    NotMine,
    /// A body in the clear about a channel that has a password here.
    InTheClear,
}

impl Protected {
    /// Hides what a datagram says about my password channels, with the
    /// datagram's counter: a body about one goes inside [`Body::Hidden`],
    /// and a presence gets my state in each of them (from `joined`), sealed.
    pub(super) fn hide(
        &self,
        (me, epoch): (NodeId, u64),
        counter: u64,
        body: Body,
        joined: &BTreeMap<String, Joined>,
    ) -> Body {
        if let Body::Presence(mut p) = body {
            p.sealed = self
                .keys
                .iter()
                .filter_map(|(name, key)| {
                    let joined = joined.get(name)?;
                    Some((
                        key,
                        ChannelState {
                            name: name.clone(),
                            tail: joined.tail,
                            topic_stamp: joined.topic_stamp(),
                        },
                    ))
                })
                .enumerate()
                .map(|(i, (key, state))| {
                    let index = i as u32 + 1;
                    key.seal(me, epoch, counter, index, &wire::encode_state(&state))
                })
                .collect();
            return Body::Presence(p);
        }
        match wire::channel_of(&body).and_then(|c| self.keys.get(c)) {
            Some(key) => Body::Hidden {
                bytes: key.seal(me, epoch, counter, 0, &wire::encode_body(&body)),
            },
            None => body,
        }
    }

    /// Opens what a datagram of `id` hides: a hidden body with the key of
    /// one of my password channels, and the sealed states of a presence.
    pub(super) fn unhide(
        &self,
        id: NodeId,
        epoch: u64,
        counter: u64,
        body: Body,
    ) -> Result<Body, Withheld> {
        match body {
            Body::Hidden { bytes } => {
                let opened = self.keys.iter().find_map(|(name, key)| {
                    let plain = key.open(id, epoch, counter, 0, &bytes)?;
                    Some(
                        wire::decode_body(&plain)
                            .ok()
                            .filter(|inner| wire::channel_of(inner) == Some(name.as_str())),
                    )
                });
                match opened {
                    Some(Some(inner)) => Ok(inner),
                    Some(None) => Err(Withheld::Malformed),
                    None => Err(Withheld::NotMine),
                }
            }
            Body::Presence(mut p) => {
                p.counter = counter;
                p.opened = 0;
                for (name, key) in &self.keys {
                    open_states(id, epoch, &mut p, name, key);
                }
                Ok(Body::Presence(p))
            }
            body if wire::channel_of(&body).is_some_and(|c| self.keys.contains_key(c)) => {
                Err(Withheld::InTheClear)
            }
            body => Ok(body),
        }
    }

    /// The tails of my password channels (from `joined`), in key order.
    pub(super) fn tails(&self, joined: &BTreeMap<String, Joined>) -> Vec<u64> {
        self.keys
            .keys()
            .map(|name| joined.get(name).map_or(0, |j| j.tail))
            .collect()
    }

    /// Takes a password channel's key on joining it: members known already
    /// are found in the sealed states of the presences `peers` holds.
    pub(super) fn add(&mut self, name: &str, key: ChannelKey, peers: &mut PeerTable) {
        for (id, peer) in peers.iter_mut() {
            let epoch = peer.epoch;
            open_states(*id, epoch, &mut peer.presence, name, &key);
        }
        self.keys.insert(name.to_string(), key);
        debug!(channel = name, "joined a password channel");
    }

    /// Forgets a password channel on leaving it, and who `peers` showed in
    /// it.
    pub(super) fn remove(&mut self, name: &str, peers: &mut PeerTable) {
        if self.keys.remove(name).is_none() {
            return;
        }
        for (_, peer) in peers.iter_mut() {
            let p = &mut peer.presence;
            if let Some(i) = p.opened_channels().iter().position(|c| c.name == name) {
                p.channels.remove(p.open_channels().len() + i);
                p.opened -= 1;
            }
        }
    }
}

impl Node {
    /// Sends what I know of password channels, if anything, after a
    /// presence to `dest`.
    pub(super) fn tell_protected(&mut self, dest: Dest) {
        let channels = self.protected.vouch(self.last_now);
        if !channels.is_empty() {
            self.send(dest, Body::Protected { channels });
        }
    }
}

/// Adds the state of channel `name` to a presence, if one of its sealed
/// states opens with `key`: opened states follow the open ones.
fn open_states(id: NodeId, epoch: u64, p: &mut Presence, name: &str, key: &ChannelKey) {
    if p.opened_channels().iter().any(|c| c.name == name) {
        return;
    }
    let state = p.sealed.iter().enumerate().find_map(|(i, sealed)| {
        let plain = key.open(id, epoch, p.counter, i as u32 + 1, sealed)?;
        wire::decode_state(name, &plain).ok()
    });
    if let Some(state) = state {
        p.channels.push(state);
        p.opened += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::{Protected, Withheld};
    use crate::types::NodeId;
    use crate::wire::Body;

    use super::super::testing::Lan;
    use crate::envelope::ChannelKey;
    use crate::protocol::{CoreCommand, CoreEvent, Secret, Target};
    use crate::types::MessageKind;

    #[test]
    fn a_password_channel_is_read_and_seen_only_by_those_with_its_key() {
        let mut lan = Lan::new(&["ann", "bob", "cat"]);
        lan.run(Duration::from_secs(1));
        let key = ChannelKey::derive("#ops", "correct horse").expect("a key");
        for i in 0..2 {
            lan.command(
                i,
                CoreCommand::Join {
                    channel: "#ops".into(),
                    secret: Some(Secret::Key(key.clone())),
                },
            );
        }
        lan.run(Duration::from_millis(500));
        lan.command(
            0,
            CoreCommand::Say {
                to: vec![Target::Channel("#ops".into())],
                text: "the deploy key is in the safe".into(),
                kind: MessageKind::Text,
            },
        );
        lan.run(Duration::from_millis(500));
        let read = |lan: &Lan, i: usize| {
            lan.events[i]
                .iter()
                .any(|e| matches!(e, CoreEvent::Message(m) if m.text.contains("deploy key")))
        };
        assert!(read(&lan, 1), "bob has the key");
        assert!(!read(&lan, 2), "cat has not");
        lan.command(2, CoreCommand::Channels);
        let listed = lan.events[2].iter().rev().find_map(|e| match e {
            CoreEvent::Channels(list) => Some(list.clone()),
            _ => None,
        });
        let ops = listed
            .expect("a list")
            .into_iter()
            .find(|c| c.name == "#ops")
            .expect("#ops is known to exist");
        assert!(ops.protected && ops.members == 0, "{ops:?}");
        // Cat cannot take the name as an open channel either.
        lan.command(
            2,
            CoreCommand::Join {
                channel: "#ops".into(),
                secret: None,
            },
        );
        assert!(
            lan.errors(2).iter().any(|e| e.contains("has a password")),
            "{:?}",
            lan.errors(2)
        );
    }

    #[test]
    fn a_body_about_a_password_channel_opens_only_with_its_key() {
        let key = ChannelKey::derive("#ops", "correct horse").expect("a key");
        let mut member = Protected::default();
        member.keys.insert("#ops".into(), key);
        let stranger = Protected::default();
        let me = NodeId([3; 16]);
        let about = Body::TopicRequest {
            channel: "#ops".into(),
        };
        let hidden = member.hide((me, 7), 42, about.clone(), &BTreeMap::new());
        assert!(matches!(hidden, Body::Hidden { .. }), "{hidden:?}");
        assert_eq!(member.unhide(me, 7, 42, hidden.clone()), Ok(about.clone()));
        // Another counter or life does not open it.
        assert_eq!(
            member.unhide(me, 7, 43, hidden.clone()),
            Err(Withheld::NotMine)
        );
        assert_eq!(stranger.unhide(me, 7, 42, hidden), Err(Withheld::NotMine));
        // Said in the clear about a channel with a password here: dropped.
        assert_eq!(
            member.unhide(me, 7, 42, about.clone()),
            Err(Withheld::InTheClear)
        );
        // Open channels pass as they are.
        let open = Body::TopicRequest {
            channel: "#dev".into(),
        };
        assert_eq!(
            member.hide((me, 7), 1, open.clone(), &BTreeMap::new()),
            open
        );
    }
}
