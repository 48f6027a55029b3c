//! What the user asks: `CoreCommand`s, from saying something to joining,
//! leaving, naming a topic and changing nick.

use super::*;

impl Node {
    /// Feeds a user command.
    pub fn handle_command(&mut self, now: Instant, cmd: CoreCommand) {
        if self.stopped {
            return;
        }
        self.advance(now);
        match cmd {
            CoreCommand::Say { to, text, kind } => self.say(now, to, text, kind),
            CoreCommand::Join { channel, secret } => self.join(now, &channel, secret),
            CoreCommand::Part { channel } => self.part(now, &channel),
            CoreCommand::Topic { channel, text } => self.set_topic(now, &channel, text),
            CoreCommand::Nick(nick) => self.set_nick(now, nick),
            CoreCommand::Status { status, text } => {
                self.presence.status = status;
                self.presence.status_text = clip(text.trim(), MAX_STATUS_TEXT);
                self.events.push_back(CoreEvent::StatusChanged {
                    id: self.id,
                    nick: self.presence.nick.clone(),
                    status,
                    text: self.presence.status_text.clone(),
                });
                self.announce_change(now);
            }
            CoreCommand::Beep(target) => {
                self.say(now, vec![target], String::new(), MessageKind::Beep)
            }
            CoreCommand::Resend {
                id,
                to,
                text,
                kind,
                hlc,
            } => self.resend(now, id, to, &text, kind, hlc),
            CoreCommand::Typing(target) => self.typing(now, &target),
            CoreCommand::Recall(messages) => {
                let wall = self.wall_ms(self.last_now);
                self.sync.recall(wall, messages);
            }
            CoreCommand::Who => {
                let list = self.peers();
                self.events.push_back(CoreEvent::Who(list));
            }
            CoreCommand::Channels => {
                let list = self.channel_list();
                self.events.push_back(CoreEvent::Channels(list));
            }
            CoreCommand::AddPeer(addr) => {
                if self.reach.add_static(addr, now) {
                    self.events
                        .push_back(CoreEvent::StaticPeers(self.reach.statics()));
                    self.run_reach(now);
                } else {
                    self.refuse(Refusal::TooManyAddresses(MAX_STATIC));
                }
            }
            CoreCommand::ForgetPeer(addr) => {
                self.reach.forget_static(addr);
                self.events
                    .push_back(CoreEvent::StaticPeers(self.reach.statics()));
            }
            CoreCommand::Quit => {
                for _ in 0..LEAVE_COPIES {
                    self.send(Dest::Group, Body::Leave);
                }
                self.stopped = true;
                self.events.push_back(CoreEvent::Stopped);
            }
        }
    }

    pub(super) fn say(&mut self, now: Instant, to: Vec<Target>, text: String, kind: MessageKind) {
        if kind != MessageKind::Beep && text.trim().is_empty() {
            return self.refuse(Refusal::NothingToSend);
        }
        if text.len() > MAX_TEXT {
            return self.refuse(Refusal::TooLong {
                len: text.len(),
                max: MAX_TEXT,
            });
        }
        if to.is_empty() {
            return self.refuse(Refusal::NoRecipient);
        }
        let mut chats = Vec::new();
        for target in &to {
            let chat = match target {
                Target::Channel(name) => match Refusal::channel(name) {
                    Ok(name) if self.channels.joined.contains_key(&name) => Chat::Channel(name),
                    Ok(name) => return self.refuse(Refusal::SayNotIn(name)),
                    Err(refusal) => return self.refuse(refusal),
                },
                person => match self.peers.resolve(person, self.me()) {
                    Ok(id) if id == self.id => return self.refuse(Refusal::ThatIsYou),
                    Ok(id) => Chat::Direct(id),
                    Err(refusal) => return self.refuse(refusal),
                },
            };
            if kind == MessageKind::Beep && matches!(chat, Chat::Channel(_)) {
                return self.refuse(Refusal::BeepToChannel);
            }
            if !chats.contains(&chat) {
                chats.push(chat);
            }
        }
        let id = MsgId::from_bits(self.rng.u128(..));
        let lan_now = self.lan_wall_ms(now);
        let hlc = self.hlc.stamp(lan_now);
        for chat in chats {
            let mut author = None;
            match &chat {
                Chat::Channel(name) => {
                    let signed = self.keys.sign_message(name, id, hlc, kind, &text);
                    author = Some(signed);
                    self.send_channel(now, name, id, hlc, kind, &text, signed);
                }
                Chat::Direct(peer) => {
                    if let Err(refusal) = self.outbox.push(
                        now,
                        &self.timing,
                        *peer,
                        Draft {
                            id,
                            hlc,
                            kind,
                            text: &text,
                        },
                    ) {
                        return self.refuse(refusal);
                    }
                    if self.peers.get(*peer).is_none() {
                        self.events.push_back(CoreEvent::Queued { id, to: *peer });
                        // Mark it reported so going offline does not repeat it.
                        self.outbox.peer_offline(*peer);
                    }
                }
            }
            self.events.push_back(CoreEvent::Sent {
                id,
                chat,
                text: text.clone(),
                kind,
                hlc,
                author,
            });
        }
        self.run_outbox(now);
    }

    /// Tells a chat that I am typing, at most once per
    /// [`Timing::typing_every`]. A chat that does not resolve (a channel I am
    /// not in, a person not online) is ignored without an error: this comes
    /// with every keystroke. One copy, by multicast for a channel: a lost
    /// notice is made good by the next.
    pub(super) fn typing(&mut self, now: Instant, target: &Target) {
        let (chat, dest, notice) = match target {
            Target::Channel(name) => match channel_name(name) {
                Ok(name) if self.channels.joined.contains_key(&name) => (
                    Chat::Channel(name.clone()),
                    Dest::Multicast,
                    TypingChat::Channel(name),
                ),
                _ => return,
            },
            person => {
                let online = self
                    .peers
                    .resolve(person, self.me())
                    .ok()
                    .filter(|id| *id != self.id)
                    .and_then(|id| self.peers.get(id).map(|p| (id, p.addr)));
                let Some((id, addr)) = online else {
                    return;
                };
                (
                    Chat::Direct(id),
                    Dest::Unicast(addr),
                    TypingChat::Direct(id),
                )
            }
        };
        if self.typing.allow(&chat, now, self.timing.typing_every) {
            self.send(dest, Body::Typing { chat: notice });
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_channel(
        &mut self,
        now: Instant,
        channel: &str,
        id: MsgId,
        hlc: u64,
        kind: MessageKind,
        text: &str,
        author: AuthorSig,
    ) {
        let kept = Kept {
            id,
            from: self.id,
            nick: self.presence.nick.clone(),
            kind,
            text: text.to_string(),
            hlc,
            arrived_ms: 0,
            author: Some(author),
        };
        // Offered to catch-up only once sent: a comparison must not hand
        // out what still waits in the backlog, ahead of its own stream.
        self.unsent.insert(id, (channel.to_string(), kept));
        let pieces = wire::split_text(text);
        let parts = pieces.len() as u16;
        for (i, piece) in pieces.into_iter().enumerate() {
            self.backlog.push_back(ChannelMsg {
                channel: channel.to_string(),
                seq: 0,
                id,
                hlc,
                kind,
                part: i as u16,
                parts,
                text: piece.to_string(),
                sig: if i == 0 {
                    author.sig.to_vec()
                } else {
                    Vec::new()
                },
            });
        }
        self.release(now);
    }

    /// Sends the channel datagrams waiting in the backlog that the budget
    /// allows, numbering each as it goes (so my heartbeats' tails never
    /// name one not sent yet).
    pub(super) fn release(&mut self, now: Instant) {
        let mut released = false;
        while !self.backlog.is_empty() && self.pacer.has(now, pace::GROUP_COPIES) {
            let Some(msg) = self.backlog.pop_front() else {
                break;
            };
            let unsent = self.unsent.remove(&msg.id);
            // A channel left meanwhile: what was said there is in history.
            let Some(joined) = self.channels.joined.get_mut(&msg.channel) else {
                continue;
            };
            let msg = joined.record(msg);
            if let Some((channel, kept)) = unsent {
                self.catch_up(now, |sync, cx| sync.keep(cx, &channel, kept));
            }
            self.send(Dest::Group, Body::Channel(msg));
            released = true;
        }
        if released {
            self.quick_beats = QUICK_BEATS.iter().map(|d| now + *d).collect();
            self.said_at = Some(now);
        }
    }

    pub(super) fn join(&mut self, now: Instant, raw: &str, secret: Option<Secret>) {
        let name = match Refusal::channel(raw) {
            Ok(n) => n,
            Err(refusal) => return self.refuse(refusal),
        };
        if self.channels.joined.contains_key(&name) {
            return self.refuse(Refusal::AlreadyIn(name));
        }
        if self.channels.joined.len() >= MAX_JOINED {
            return self.refuse(Refusal::TooManyChannels(MAX_JOINED));
        }
        let key = match secret {
            None if self.protected.known(&name, now) => {
                return self.refuse(Refusal::NeedsPassword(name));
            }
            None => None,
            Some(secret) => match self.channel_key(&name, secret) {
                Ok(key) => Some(key),
                Err(refusal) => return self.refuse(refusal),
            },
        };
        self.channels.joined.insert(name.clone(), Joined::default());
        if let Some(key) = key {
            self.protected.add(&name, key.clone(), &mut self.peers);
            self.events.push_back(CoreEvent::ChannelKey {
                channel: name.clone(),
                key,
            });
        }
        self.catch_up(now, |sync, cx| sync.join(cx, &name));
        self.events.push_back(CoreEvent::Joined {
            channel: name.clone(),
            id: self.id,
            nick: self.presence.nick.clone(),
        });
        // Members already known start their streams at their current tail
        // (a joiner gets what is said from now on) and tell us the topic.
        let members: Vec<(NodeId, u64, SocketAddr, u64, u64)> = self
            .peers
            .iter()
            .filter_map(|(id, p)| {
                p.presence
                    .channels
                    .iter()
                    .find(|c| c.name == name)
                    .map(|c| (*id, p.epoch, p.addr, c.tail, c.topic_stamp))
            })
            .collect();
        let mut asked = false;
        for (id, epoch, addr, tail, topic_stamp) in members {
            if let Some(s) = self.channels.stream((id, epoch, name.clone()), tail + 1) {
                s.saw_tail(tail);
            }
            if topic_stamp > 0 && !asked {
                asked = true;
                if let Some(joined) = self.channels.joined.get_mut(&name) {
                    joined.topic_asked = Some(now);
                }
                self.send(
                    Dest::Unicast(addr),
                    Body::TopicRequest {
                        channel: name.clone(),
                    },
                );
            }
        }
        self.announce_change(now);
    }

    /// The key of a password channel I may join.
    pub(super) fn channel_key(&self, name: &str, secret: Secret) -> Result<ChannelKey, Refusal> {
        if name == MAIN_CHANNEL {
            return Err(Refusal::MainNoPassword);
        }
        if self.protected.keys.len() >= MAX_PROTECTED_JOINED {
            return Err(Refusal::TooManyPasswordChannels(MAX_PROTECTED_JOINED));
        }
        let open = self
            .peers
            .iter()
            .any(|(_, p)| p.presence.open_channels().iter().any(|c| c.name == name));
        if open {
            return Err(Refusal::OpenChannel(name.to_string()));
        }
        match secret {
            Secret::Key(key) => Ok(key),
            Secret::Password(password) => ChannelKey::derive(name, &password)
                .map_err(|_| Refusal::EmptyPassword(name.to_string())),
        }
    }

    pub(super) fn part(&mut self, now: Instant, raw: &str) {
        let name = match Refusal::channel(raw) {
            Ok(n) => n,
            Err(refusal) => return self.refuse(refusal),
        };
        if name == MAIN_CHANNEL {
            return self.refuse(Refusal::MainCannotBeLeft);
        }
        if self.channels.joined.remove(&name).is_none() {
            return self.refuse(Refusal::NotIn(name));
        }
        self.channels.forget_channel(&name);
        self.protected.remove(&name, &mut self.peers);
        self.sync.part(&name);
        self.events.push_back(CoreEvent::Parted {
            channel: name,
            id: self.id,
            nick: self.presence.nick.clone(),
        });
        self.announce_change(now);
    }

    pub(super) fn set_topic(&mut self, now: Instant, raw: &str, text: String) {
        let name = match Refusal::channel(raw) {
            Ok(n) => n,
            Err(refusal) => return self.refuse(refusal),
        };
        let Some(current) = self.channels.joined.get(&name).map(Joined::topic_stamp) else {
            return self.refuse(Refusal::NotIn(name));
        };
        if text.len() > MAX_TOPIC {
            return self.refuse(Refusal::TopicTooLong(MAX_TOPIC));
        }
        // A new topic replaces the one seen, even if that was stamped by a
        // clock far ahead (which would otherwise win for as long).
        let stamp = self
            .hlc
            .stamp(self.wall_ms(now))
            .max(current.saturating_add(1));
        let topic = TopicInfo {
            channel: name,
            text: text.trim().to_string(),
            stamp,
            setter: self.id,
            setter_nick: self.presence.nick.clone(),
        };
        self.on_topic(topic.clone());
        self.send(Dest::Group, Body::Topic(topic));
        self.announce_change(now);
    }

    pub(super) fn set_nick(&mut self, now: Instant, nick: String) {
        let nick = nick.trim().to_string();
        if !valid_nick(&nick) {
            return self.refuse(Refusal::BadNick(nick));
        }
        if nick == self.presence.nick {
            return;
        }
        let old = std::mem::replace(&mut self.presence.nick, nick.clone());
        self.events.push_back(CoreEvent::NickChanged {
            id: self.id,
            old,
            new: nick,
        });
        self.announce_change(now);
    }

    pub(super) fn channel_list(&self) -> Vec<ChannelSummary> {
        let mut map: std::collections::BTreeMap<String, ChannelSummary> =
            std::collections::BTreeMap::new();
        for (name, j) in &self.channels.joined {
            map.insert(
                name.clone(),
                ChannelSummary {
                    name: name.clone(),
                    members: 1,
                    topic: j.topic.as_ref().map(|t| t.text.clone()),
                    joined: true,
                    protected: self.protected.keys.contains_key(name),
                },
            );
        }
        for (_, p) in self.peers.iter() {
            let public = p.presence.open_channels().len();
            for (i, c) in p.presence.channels.iter().enumerate() {
                map.entry(c.name.clone())
                    .and_modify(|s| s.members += 1)
                    .or_insert_with(|| ChannelSummary {
                        name: c.name.clone(),
                        members: 1,
                        topic: None,
                        joined: false,
                        protected: i >= public,
                    });
            }
        }
        for (name, _) in self.protected.heard_lately(self.last_now) {
            map.entry(name.clone())
                .and_modify(|s| s.protected = true)
                .or_insert_with(|| ChannelSummary {
                    name: name.clone(),
                    members: 0,
                    topic: None,
                    joined: false,
                    protected: true,
                });
        }
        map.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::Lan;
    use crate::protocol::{CoreCommand, CoreEvent, Secret};

    fn join(channel: &str) -> CoreCommand {
        CoreCommand::Join {
            channel: channel.into(),
            secret: None,
        }
    }

    #[test]
    fn what_cannot_be_done_is_refused_with_a_reason_and_changes_nothing() {
        let mut lan = Lan::new(&["ann"]);
        lan.command(0, join("#dev"));
        lan.command(0, join("dev"));
        lan.command(0, join("#no spaces here"));
        lan.command(
            0,
            CoreCommand::Part {
                channel: "#Main".into(),
            },
        );
        lan.command(0, CoreCommand::Nick(String::new()));
        lan.command(
            0,
            CoreCommand::Join {
                channel: "#Main".into(),
                secret: Some(Secret::Password("x".into())),
            },
        );
        let errors = lan.errors(0);
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[0].contains("already in #dev"), "{errors:?}");
        assert_eq!(lan.nodes[0].joined_channels(), ["#Main", "#dev"]);
        assert_eq!(lan.nodes[0].nick(), "ann");
    }

    #[test]
    fn a_nick_change_and_a_part_reach_the_others() {
        let mut lan = Lan::new(&["ann", "bob"]);
        lan.command(0, join("#dev"));
        lan.command(1, join("#dev"));
        lan.run(Duration::from_secs(1));
        let ann = lan.id(0);
        lan.command(0, CoreCommand::Nick("anna".into()));
        lan.command(
            0,
            CoreCommand::Part {
                channel: "#dev".into(),
            },
        );
        lan.run(Duration::from_millis(300));
        assert!(lan.events[1].iter().any(|e| matches!(e,
            CoreEvent::NickChanged { id, old, new } if *id == ann && old == "ann" && new == "anna")));
        assert!(lan.events[1].iter().any(|e| matches!(e,
            CoreEvent::Parted { channel, id, .. } if channel == "#dev" && *id == ann)));
        assert_eq!(lan.nodes[0].joined_channels(), ["#Main"]);
    }
}
