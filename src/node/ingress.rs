//! What comes in: a datagram is rate-limited per source, opened (header,
//! workgroup, replay, signature or key-chain MAC) and dispatched on its body.
//! Datagrams of another wire version are noted for the user.

use super::protected::Withheld;
use super::*;

impl Node {
    /// A datagram of another wire version came from `from`: the user is
    /// told who speaks it (see [`versions`]).
    pub(super) fn other_version(&mut self, now: Instant, from: SocketAddr, version: u8) {
        let peers = &self.peers;
        let nick = || {
            peers
                .iter()
                .find(|(_, p)| p.addrs().iter().any(|a| a.ip() == from.ip()))
                .map(|(_, p)| p.presence.nick.clone())
        };
        if let Some(nick) = self.versions.heard(now, from, version, nick) {
            debug!(%from, version, "a node of another wire version");
            self.events.push_back(CoreEvent::OtherVersion {
                addr: from,
                version,
                nick,
            });
        }
    }

    /// Feeds a received datagram; `from` is the sender's unicast socket.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        if !self.admit(now, from) {
            return;
        }
        // A copy seen already (the same datagram by multicast and by
        // broadcast, or a replay) is dropped before its signature is checked.
        let unverified = match envelope::unwrap(bytes, self.workgroup.as_ref()) {
            Ok(envelope::Unwrapped::Signed(u)) => u,
            Ok(envelope::Unwrapped::Lean(lean)) => {
                return self.handle_opened(now, from, bytes, Ok(envelope::Datagram::Lean(lean)));
            }
            Err(err) => return self.handle_opened(now, from, bytes, Err(err)),
        };
        match self.windows.peek(
            unverified.packet.from,
            unverified.packet.epoch,
            unverified.counter,
        ) {
            guard::Replay::Fresh => {
                let opened = unverified.verify().map(envelope::Datagram::Signed);
                self.handle_opened(now, from, bytes, opened);
            }
            guard::Replay::Again => {
                self.stats.replayed += 1;
                // The group copy of what came by unicast first still shows
                // that the group reaches me from this peer.
                let id = unverified.packet.from;
                if unverified.way.is_group()
                    && self.reach.doubts(id, now)
                    && unverified.verify().is_ok()
                {
                    self.reach.heard(id, envelope::Way::Multicast, now);
                }
            }
            guard::Replay::OldLife => self.stats.stale += 1,
        }
    }

    /// The first half of [`Node::handle_datagram`]: whether a datagram
    /// from `from` is read at all (the source's rate limit). Then open it
    /// with [`envelope::open`] (a pure function of the bytes, which a
    /// simulation may compute once for all receivers of one datagram) and
    /// hand the result to [`Node::handle_opened`].
    pub fn admit(&mut self, now: Instant, from: SocketAddr) -> bool {
        if self.stopped {
            return false;
        }
        self.stats.datagrams += 1;
        if !self.sources.allow(from.ip(), now) {
            self.stats.rate_limited += 1;
            return false;
        }
        true
    }

    /// The workgroup key the node opens datagrams with.
    pub fn workgroup(&self) -> Option<&WorkgroupKey> {
        self.workgroup.as_ref()
    }

    /// The second half of [`Node::handle_datagram`]: a datagram (`raw`)
    /// opened with this node's workgroup key.
    pub fn handle_opened(
        &mut self,
        now: Instant,
        from: SocketAddr,
        raw: &[u8],
        opened: Result<envelope::Datagram, wire::DecodeError>,
    ) {
        if self.stopped {
            return;
        }
        self.advance(now);
        let opened = match opened {
            Ok(envelope::Datagram::Signed(opened)) => opened,
            Ok(envelope::Datagram::Lean(lean)) => return self.on_lean(now, from, raw, lean),
            Err(err) => {
                match err {
                    wire::DecodeError::Signature | wire::DecodeError::WrongKey => {
                        self.stats.forged += 1;
                    }
                    wire::DecodeError::Version(version) => {
                        self.stats.other_version += 1;
                        self.other_version(now, from, version);
                    }
                    wire::DecodeError::Workgroup => self.stats.foreign += 1,
                    _ => self.stats.malformed += 1,
                }
                debug!(%from, cause = %err, "datagram dropped");
                return;
            }
        };
        let envelope::Opened {
            packet,
            key,
            counter,
            way,
        } = opened;
        if packet.from == self.id {
            // Our own multicast or broadcast, looped back.
            self.reach.own(way, now);
            return;
        }
        self.way_in = way;
        let Packet {
            from: id,
            epoch,
            body,
        } = packet;
        match self.windows.check(id, epoch, counter, now) {
            guard::Replay::Fresh => {}
            guard::Replay::Again => {
                self.stats.replayed += 1;
                return;
            }
            guard::Replay::OldLife => {
                self.stats.stale += 1;
                return;
            }
        }
        let peers = &self.peers;
        self.key_book.learn(id, key, |old| peers.get(old).is_some());
        let body = match body {
            Body::Sealed { to, bytes } => match self.unseal(id, epoch, counter, to, &bytes) {
                Some(msg) => Body::Direct(msg),
                None => return,
            },
            // A direct message in the clear is not one lanchat sends.
            Body::Direct(_) => {
                self.stats.malformed += 1;
                return;
            }
            body => match self.protected.unhide(id, epoch, counter, body) {
                Ok(body) => body,
                Err(Withheld::Malformed) => {
                    self.stats.malformed += 1;
                    return;
                }
                Err(Withheld::NotMine) => {
                    self.stats.hidden += 1;
                    return;
                }
                Err(Withheld::InTheClear) => {
                    self.stats.foreign += 1;
                    return;
                }
            },
        };
        let standing = self.peers.standing(id, epoch);
        if standing == Standing::Stale {
            self.stats.stale += 1;
            return;
        }
        let body = match (standing, body) {
            (Standing::Restarted, Body::Presence(p)) => {
                return self.claim(now, id, epoch, from, p);
            }
            // The address of a life does not change on its own: a presence
            // from elsewhere is a claim to prove, like a restart.
            (Standing::Known, Body::Presence(p))
                if self.peers.get(id).is_some_and(|peer| !peer.is_at(from)) =>
            {
                return self.claim(now, id, epoch, from, p);
            }
            (Standing::Restarted | Standing::Known, Body::ProbeAck { nonce })
                if self
                    .claims
                    .get(&id)
                    .is_some_and(|c| c.epoch == epoch && c.addr == from) =>
            {
                return self.confirm_claim(now, id, epoch, from, nonce);
            }
            (_, Body::Presence(p)) => return self.on_presence(now, id, epoch, from, standing, p),
            (_, body) => body,
        };
        match standing {
            // Proof of life only from the peer's own addresses: a holder
            // passes on its datagrams too (repair), and those say nothing
            // about whether it still runs.
            Standing::Known if self.peers.get(id).is_some_and(|p| p.is_at(from)) => {
                self.peers.heard(id, from, now);
                self.reach.heard(id, way, now);
            }
            Standing::Known => {}
            Standing::Restarted | Standing::Returning | Standing::New => {
                // Ask who it is; its presence makes it an online peer.
                self.hello_unknown(now, from);
            }
            Standing::Stale => {}
        }
        match body {
            Body::Presence(_) => {}
            Body::Leave if standing == Standing::Known => {
                if self.peers.get(id).is_some_and(|p| p.is_at(from)) {
                    self.peer_gone(id, OfflineReason::Quit, now);
                } else {
                    // A leave from elsewhere may be forged or mangled: probe
                    // the peer instead of believing it.
                    self.peers.doubt(id, now);
                }
            }
            Body::Leave => {}
            Body::Down { peer, epoch } if standing == Standing::Known => {
                self.on_down(now, peer, epoch);
            }
            Body::Down { .. } => {}
            Body::Probe { nonce, reply_to } => self.on_probe(now, from, nonce, reply_to),
            Body::ProbeAck { nonce } => self.reach.acked(id, nonce),
            Body::Ping { nonce } => self.send(Dest::Unicast(from), Body::ProbeAck { nonce }),
            Body::Peers { peers } if standing == Standing::Known => {
                self.stats.over_capacity += self.reach.learn(now, self.id, &self.peers, &peers);
            }
            Body::Peers { .. } => {}
            Body::Unheard { peers } if standing == Standing::Known => {
                self.reach.listed(now, id, wire::short_id(self.id), &peers);
            }
            Body::Unheard { .. } => {}
            Body::ProbeRequest {
                target,
                addr,
                nonce,
            } => {
                // Its own recent heartbeat answers for it; else a probe.
                if !self.vouch(now, target, from) {
                    self.send(
                        Dest::Unicast(addr),
                        Body::Probe {
                            nonce,
                            reply_to: Some(from),
                        },
                    );
                }
            }
            Body::Channel(msg) => self.on_channel_msg(now, id, epoch, msg, raw),
            Body::Nack(nack) => self.on_nack(now, from, nack),
            Body::Gone { channel, upto } => {
                let key = (id, epoch, channel.clone());
                if let Some(stream) = self.channels.get_mut(&key) {
                    let count = stream.jump(upto.saturating_add(1));
                    debug!(peer = %id, %channel, upto, count, "sender no longer holds a gap");
                    if count > 0 {
                        self.events.push_back(CoreEvent::Missed {
                            chat: Chat::Channel(channel),
                            from: id,
                            count,
                        });
                    }
                    self.deliver_stream(&key, now);
                }
            }
            Body::Direct(msg) => self.on_direct(now, id, epoch, from, msg),
            Body::DirectAck { stream_epoch, seq } => {
                if stream_epoch == self.epoch
                    && let Some(msg) = self.outbox.ack(id, seq)
                {
                    self.events
                        .push_back(CoreEvent::Delivered { id: msg, to: id });
                }
            }
            Body::TopicRequest { channel } => {
                if let Some(topic) = self
                    .channels
                    .joined
                    .get(&channel)
                    .and_then(|j| j.topic.clone())
                {
                    self.send(Dest::Unicast(from), Body::Topic(topic));
                }
            }
            Body::Topic(topic) => self.on_topic(topic),
            Body::Beat { seq, tails } if standing == Standing::Known => {
                self.on_beat(now, id, epoch, from, seq, &tails);
            }
            Body::Beat { .. } => {}
            Body::Typing { chat } => self.on_typing(id, from, standing, chat),
            // Catch-up is between peers that know each other.
            Body::Sync(sync) if self.is_at(id, standing, from) => {
                self.catch_up(now, |s, cx| s.on_sync(cx, id, from, sync));
            }
            Body::Want { channel, ids } if self.is_at(id, standing, from) => {
                self.catch_up(now, |s, cx| s.on_want(cx, id, from, &channel, &ids));
            }
            Body::Recalled(r) if self.is_at(id, standing, from) => self.on_recalled(now, r),
            Body::Sync(_) | Body::Want { .. } | Body::Recalled(_) => {}
            Body::Protected { channels } if standing == Standing::Known => {
                self.protected.hear(&channels, now);
            }
            // Opened above.
            Body::Sealed { .. } | Body::Hidden { .. } | Body::Protected { .. } => {}
        }
    }

    /// Opens a direct message sealed for me; `None` (counted) when it is
    /// for someone else or does not open.
    pub(super) fn unseal(
        &mut self,
        id: NodeId,
        epoch: u64,
        counter: u64,
        to: NodeId,
        bytes: &[u8],
    ) -> Option<crate::wire::DirectMsg> {
        if to != self.id {
            self.stats.misaddressed += 1;
            return None;
        }
        let me = self.id;
        let plain = self
            .key_book
            .direct(&self.keys, id)
            .and_then(|(_, recv)| recv.open(id, me, epoch, counter, bytes));
        match plain.map(|p| wire::decode_direct(&p)) {
            Some(Ok(msg)) if msg.to == me => Some(msg),
            _ => {
                self.stats.forged += 1;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use super::super::testing::{Lan, body_name};
    use crate::protocol::CoreEvent;
    use crate::wire::{MAGIC, VERSION};

    #[test]
    fn garbage_forgeries_replays_and_other_versions_are_counted_and_dropped() {
        let mut lan = Lan::new(&["ann", "bob"]);
        let heard = Rc::new(RefCell::new(Vec::new()));
        let h = heard.clone();
        lan.lose(move |from, to, _, bytes| {
            if from == 0 && to == 1 && body_name(bytes) == "Presence" {
                h.borrow_mut().push(bytes.to_vec());
            }
            false
        });
        lan.run(Duration::from_secs(1));
        let presence = heard.borrow()[0].clone();
        let before = lan.nodes[1].stats();
        let ann = lan.addr(0);
        lan.inject(1, ann, &[7; 40]);
        lan.inject(1, ann, &presence);
        let mut forged = presence.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        // A fresh counter, so that the signature is what fails.
        forged[8] ^= 0x40;
        lan.inject(1, ann, &forged);
        let mut newer = MAGIC.to_vec();
        newer.extend_from_slice(&[VERSION + 1, 0]);
        newer.extend_from_slice(&[0; 120]);
        lan.inject(1, ann, &newer);
        let after = lan.nodes[1].stats();
        assert_eq!(after.malformed, before.malformed + 1, "{after:?}");
        assert_eq!(after.replayed, before.replayed + 1, "{after:?}");
        assert_eq!(after.forged, before.forged + 1, "{after:?}");
        assert_eq!(after.other_version, before.other_version + 1, "{after:?}");
        assert!(lan.events[1].iter().any(|e| matches!(e,
            CoreEvent::OtherVersion { version, nick, .. } if *version == VERSION + 1 && nick.as_deref() == Some("ann"))));
        // Still friends.
        assert_eq!(lan.nodes[1].peers().len(), 1);
    }
}
