//! Channel messages on the receiving side: streams in order, repair of
//! gaps (NACKs and the resends they ask for), delivery of whole messages,
//! topics and typing notices.

use super::*;

impl Node {
    /// Asks again for a channel's topic that a member's presence says is
    /// newer than mine, a second after the last request went unanswered
    /// (it or its answer was lost), of a member picked at random.
    pub(super) fn run_topics(&mut self, now: Instant) {
        let again = Duration::from_secs(1);
        let mut asks = Vec::new();
        for (name, joined) in &self.channels.joined {
            if joined.topic_asked.is_none_or(|t| now < t + again) {
                continue;
            }
            let mine = joined.topic_stamp();
            let newer: Vec<SocketAddr> = self
                .peers
                .iter()
                .filter(|(_, p)| {
                    p.presence
                        .channels
                        .iter()
                        .any(|c| c.name == *name && c.topic_stamp > mine)
                })
                .map(|(_, p)| p.addr)
                .collect();
            asks.push((name.clone(), newer));
        }
        for (name, newer) in asks {
            let Some(joined) = self.channels.joined.get_mut(&name) else {
                continue;
            };
            if newer.is_empty() {
                // Nobody has a newer one: done asking (and no more scans).
                joined.topic_asked = None;
                continue;
            }
            joined.topic_asked = Some(now);
            let addr = newer[self.rng.usize(..newer.len())];
            self.send(Dest::Unicast(addr), Body::TopicRequest { channel: name });
        }
    }

    pub(super) fn run_nacks(&mut self, now: Instant) {
        for key in self.channels.nacks_due(now) {
            let (sender, epoch, channel) = key.clone();
            let sender_here = self.peers.get(sender).is_some_and(|p| p.epoch == epoch);
            let retry = self.nack_retry(&key);
            let Some(stream) = self.channels.get_mut(&key) else {
                continue;
            };
            if !stream.has_gap() {
                self.channels.arm(&key, now, Duration::ZERO);
                continue;
            }
            if !sender_here && stream.attempt() >= GIVE_UP_ATTEMPTS {
                let count = stream.skip_gap();
                debug!(%sender, %channel, count, "gap given up: its sender is gone");
                self.events.push_back(CoreEvent::Missed {
                    chat: Chat::Channel(channel),
                    from: sender,
                    count,
                });
                self.deliver_stream(&key, now);
                continue;
            }
            let nack = Nack {
                sender,
                epoch,
                channel,
                ranges: stream.missing(),
                attempt: stream.attempt(),
            };
            self.channels.nacked(&key, now, retry);
            self.stats.nacks_sent += 1;
            self.send(Dest::Group, Body::Nack(nack));
        }
    }

    pub(super) fn nack_retry(&mut self, key: &crate::channels::StreamKey) -> Duration {
        let attempt = self.channels.get(key).map_or(0, |s| s.attempt());
        // Gentle growth: on a LAN a lost repair is bad luck, not congestion.
        let base = self
            .timing
            .nack_retry
            .mul_f64(1.5f64.powi(i32::from(attempt.min(10))));
        base.min(self.timing.nack_retry_max)
            .mul_f64(1.0 + self.rng.f64() * 0.5)
    }

    pub(super) fn on_channel_msg(
        &mut self,
        now: Instant,
        sender: NodeId,
        epoch: u64,
        msg: ChannelMsg,
        raw: &[u8],
    ) {
        if !self.channels.joined.contains_key(&msg.channel) {
            return;
        }
        let key = (sender, epoch, msg.channel.clone());
        let seq = msg.seq;
        // From a peer whose presence does not list the channel yet: it has
        // just joined, so what it said there before this is a gap to repair.
        let just_joined = self.peers.get(sender).is_some_and(|p| {
            p.epoch == epoch && !p.presence.channels.iter().any(|c| c.name == msg.channel)
        });
        let base = if just_joined && seq <= JOINED_REPAIR {
            1
        } else {
            seq
        };
        let crowded = self.channels.crowded(&key);
        let Some(stream) = self.channels.stream(key.clone(), base) else {
            self.stats.over_capacity += 1;
            return;
        };
        if stream.receive(msg, raw, crowded) == Arrival::Full {
            self.stats.over_capacity += 1;
        }
        self.deliver_stream(&key, now);
    }

    /// Delivers what a stream has ready (if its sender is known) and re-arms
    /// its NACK timer.
    pub(super) fn deliver_stream(&mut self, key: &crate::channels::StreamKey, now: Instant) {
        let delay = self.timing.nack_delay.mul_f64(self.rng.f64());
        let known = self.peers.get(key.0).is_some_and(|p| p.epoch == key.1)
            || self
                .peers
                .departed_record(key.0)
                .is_some_and(|d| d.epoch == key.1);
        let Some(stream) = self.channels.get_mut(key) else {
            return;
        };
        let (ready, broken) = if known {
            stream.ready()
        } else {
            (Vec::new(), 0)
        };
        self.channels.arm(key, now, delay);
        self.stats.broken_fragments += broken;
        for a in ready {
            self.deliver(now, Chat::Channel(key.2.clone()), key.0, a);
        }
    }

    /// What to call the sender of a message or beep: its nick, or `?` and
    /// its short id while its presence is not known yet (a direct message
    /// can come before it).
    pub(super) fn sender_nick(&self, id: NodeId) -> String {
        self.peers
            .nick(id)
            .map_or_else(|| format!("?{}", id.short()), str::to_string)
    }

    pub(super) fn deliver(&mut self, now: Instant, chat: Chat, from: NodeId, a: Assembled) {
        let mut author = None;
        if let Chat::Channel(name) = &chat {
            // Signed by its author, whoever handed it on (a holder's repair
            // cannot put words in someone's mouth).
            let signed = self.key_book.get(from).and_then(|key| {
                let sig: [u8; 64] = a.sig.as_slice().try_into().ok()?;
                let signed = AuthorSig { key, sig };
                signed
                    .verify(from, name, a.id, a.hlc, a.kind, &a.text)
                    .then_some(signed)
            });
            let Some(signed) = signed else {
                debug!(%from, channel = %name, "message without its author's signature dropped");
                self.stats.forged += 1;
                return;
            };
            author = Some(signed);
        }
        let lan_now = self.lan_wall_ms(now);
        let stamp = self.hlc.observe(a.hlc, lan_now);
        let nick = self.sender_nick(from);
        if let Chat::Channel(name) = &chat {
            // Kept under the author's own stamp, the same on every node
            // (what we show is clamped by our clock, see `hlc`).
            let kept = Kept {
                id: a.id,
                from,
                nick: nick.clone(),
                kind: a.kind,
                text: a.text.clone(),
                hlc: a.hlc,
                arrived_ms: 0,
                author,
            };
            if !self.catch_up(now, |sync, cx| sync.keep(cx, name, kept)) {
                self.stats.duplicates += 1;
                return;
            }
        }
        self.events.push_back(CoreEvent::Message(ChatMessage {
            id: a.id,
            chat,
            from,
            nick,
            kind: a.kind,
            text: a.text,
            time_ms: hlc::wall_ms(stamp),
            hlc: stamp,
            author,
        }));
    }

    pub(super) fn on_nack(&mut self, now: Instant, from: SocketAddr, nack: Nack) {
        let seqs = nack.ranges.iter().flat_map(|(a, b)| *a..=*b).take(256);
        if nack.sender == self.id {
            if nack.epoch != self.epoch {
                return;
            }
            let Some(joined) = self.channels.joined.get_mut(&nack.channel) else {
                return;
            };
            let oldest = joined.oldest();
            let mut resend = Vec::new();
            let mut gone = 0;
            for seq in seqs {
                if seq < oldest {
                    gone = gone.max(seq);
                } else if let Some(m) = joined.resend(seq, now, RESEND_SPACING) {
                    resend.push(m);
                }
            }
            if gone > 0 {
                self.send(
                    Dest::Group,
                    Body::Gone {
                        channel: nack.channel.clone(),
                        upto: oldest - 1,
                    },
                );
            }
            self.stats.repairs_sent += resend.len() as u64;
            for m in resend {
                self.send(Dest::Group, Body::Channel(m));
            }
            return;
        }
        let key = (nack.sender, nack.epoch, nack.channel.clone());
        let sender_here = self
            .peers
            .get(nack.sender)
            .is_some_and(|p| p.epoch == nack.epoch);
        let hold = self.timing.nack_retry;
        if self.channels.get(&key).is_none() {
            return;
        }
        self.channels.suppress(&key, now, hold, &nack.ranges);
        // After the first tries (or when the sender is gone) holders help;
        // each answers with a probability that keeps the expected number of
        // answers near two.
        if sender_here && nack.attempt < 2 {
            return;
        }
        let members = self
            .peers
            .iter()
            .filter(|(_, p)| p.presence.channels.iter().any(|c| c.name == nack.channel));
        let p = (2.0 / members.count().max(1) as f64).min(1.0);
        if self.rng.f64() >= p {
            return;
        }
        // The sender's own datagrams, unchanged: its signature vouches for
        // them, and the requester's replay window takes each once.
        let Some(stream) = self.channels.get(&key) else {
            return;
        };
        let repairs: Vec<Vec<u8>> = seqs
            .filter_map(|s| stream.kept(s).map(<[u8]>::to_vec))
            .take(64)
            .collect();
        self.stats.repairs_sent += repairs.len() as u64;
        for bytes in repairs {
            self.transmits.push_back(Transmit {
                dest: Dest::Unicast(from),
                bytes,
            });
        }
    }

    /// Shows a typing notice from an online peer at its own address, for a
    /// channel I am in or for our direct chat. A notice is not worth a probe
    /// or a claim: anything else is dropped.
    /// Whether a packet comes from a peer online in this life at its own
    /// address.
    pub(super) fn is_at(&self, id: NodeId, standing: Standing, from: SocketAddr) -> bool {
        standing == Standing::Known && self.peers.get(id).is_some_and(|p| p.is_at(from))
    }

    pub(super) fn on_typing(
        &mut self,
        id: NodeId,
        from: SocketAddr,
        standing: Standing,
        chat: TypingChat,
    ) {
        let nick = match self.peers.get(id) {
            Some(peer) if standing == Standing::Known && peer.is_at(from) => {
                peer.presence.nick.clone()
            }
            _ => {
                self.stats.typing_dropped += 1;
                debug!(peer = %id, %from, "typing notice from no online peer at that address");
                return;
            }
        };
        let chat = match chat {
            TypingChat::Channel(name) if self.channels.joined.contains_key(&name) => {
                Chat::Channel(name)
            }
            TypingChat::Direct(to) if to == self.id => Chat::Direct(id),
            other => {
                self.stats.typing_dropped += 1;
                debug!(peer = %id, chat = ?other, "typing notice for a chat I am not in");
                return;
            }
        };
        self.events.push_back(CoreEvent::Typing { chat, id, nick });
    }

    pub(super) fn on_topic(&mut self, topic: TopicInfo) {
        let Some(joined) = self.channels.joined.get_mut(&topic.channel) else {
            return;
        };
        let newer = joined
            .topic
            .as_ref()
            .is_none_or(|t| (topic.stamp, topic.setter) > (t.stamp, t.setter));
        if !newer {
            return;
        }
        joined.topic = Some(topic.clone());
        self.events.push_back(CoreEvent::Topic {
            channel: topic.channel,
            text: topic.text,
            by: topic.setter,
            nick: topic.setter_nick,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{Lan, is_channel};
    use crate::protocol::{CoreCommand, CoreEvent, Target};
    use crate::types::MessageKind;

    fn say(lan: &mut Lan, i: usize, chat: &str, text: &str) {
        lan.command(
            i,
            CoreCommand::Say {
                to: vec![Target::Channel(chat.into())],
                text: text.into(),
                kind: MessageKind::Text,
            },
        );
    }

    fn texts(lan: &Lan, i: usize) -> Vec<String> {
        lan.events[i]
            .iter()
            .filter_map(|e| match e {
                CoreEvent::Message(m) => Some(m.text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_lost_channel_message_is_asked_for_again_and_shown_once_in_order() {
        let mut lan = Lan::new(&["ann", "bob"]);
        lan.run(Duration::from_secs(1));
        let mut lost = 0;
        lan.lose(move |from, _, _, bytes| {
            let lose = from == 0 && is_channel(bytes) && lost < 1;
            lost += usize::from(lose);
            lose
        });
        say(&mut lan, 0, "#Main", "one");
        say(&mut lan, 0, "#Main", "two");
        lan.run(Duration::from_secs(2));
        assert_eq!(texts(&lan, 1), ["one", "two"]);
        assert!(lan.nodes[1].stats().nacks_sent >= 1);
        assert!(lan.nodes[0].stats().repairs_sent >= 1);
    }

    #[test]
    fn a_topic_reaches_the_members_and_a_joiner_later() {
        let mut lan = Lan::new(&["ann", "bob", "cat"]);
        lan.run(Duration::from_secs(1));
        for i in 0..2 {
            lan.command(
                i,
                CoreCommand::Join {
                    channel: "#dev".into(),
                    secret: None,
                },
            );
        }
        lan.run(Duration::from_millis(500));
        lan.command(
            0,
            CoreCommand::Topic {
                channel: "#dev".into(),
                text: "release friday".into(),
            },
        );
        lan.run(Duration::from_millis(500));
        let topic = |lan: &Lan, i: usize| {
            lan.events[i].iter().any(
                |e| matches!(e, CoreEvent::Topic { channel, text, .. } if channel == "#dev" && text == "release friday"),
            )
        };
        assert!(topic(&lan, 1), "bob");
        assert!(!topic(&lan, 2), "cat is not in #dev");
        lan.command(
            2,
            CoreCommand::Join {
                channel: "#dev".into(),
                secret: None,
            },
        );
        lan.run(Duration::from_secs(1));
        assert!(topic(&lan, 2), "cat joined and asked");
    }
}
