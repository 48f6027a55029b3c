//! Presence: my heartbeats (full and lean) and announces, the peers'
//! presences, beats and probes, and who goes offline when.

use super::*;

impl Node {
    /// My presence; my password channels are added, sealed, in `send`.
    pub(super) fn own_presence(&mut self, hello: bool) -> Body {
        let mut p = self.presence.clone();
        p.channels = self.open_channel_states();
        p.hello = hello;
        p.chain = self.chain.point(self.interval(self.last_now));
        Body::Presence(p)
    }

    /// My open channels (not my password channels), in the order both my
    /// presence and my lean heartbeats' tails give them.
    pub(super) fn open_channel_states(&self) -> Vec<wire::ChannelState> {
        let mut states = self.channels.states();
        states.retain(|c| !self.protected.keys.contains_key(&c.name));
        states
    }

    /// Sends my full presence, and the password channels I know of.
    pub(super) fn beat(&mut self, dest: Dest, hello: bool) {
        let body = self.own_presence(hello);
        self.send(dest, body);
        self.tell_protected(dest);
        self.tell_unheard(dest);
    }

    /// A presence now and a couple soon after, so a change is seen quickly
    /// even under loss.
    pub(super) fn announce_change(&mut self, now: Instant) {
        self.presence.seq += 1;
        self.beat(Dest::Group, false);
        self.quick_beats = QUICK_BEATS.iter().map(|d| now + *d).collect();
        self.quick_full = true;
    }

    /// A heartbeat: usually lean ([`crate::chain`]) by one way (multicast
    /// and broadcast take turns), signed (`Beat`) if not the periodic one
    /// or for a while after I said something; a full presence by both ways
    /// after a change, and by one way every [`FULL_PRESENCE_EVERY`] beats.
    pub(super) fn heartbeat(&mut self, periodic: bool) {
        // A password channel's tail travels only in a full presence (lean
        // beats carry open channels' tails): after it changes, the next
        // few heartbeats (the quick ones first) are full.
        let hidden = self.protected.tails(&self.channels.joined);
        if hidden != self.protected.told_tails {
            self.protected.told_tails = hidden;
            self.protected.fulls_due = protected::FULLS_AFTER_CHANGE;
        }
        if self.quick_full || self.lean_beats >= FULL_PRESENCE_EVERY || self.protected.fulls_due > 0
        {
            self.protected.fulls_due = self.protected.fulls_due.saturating_sub(1);
            // After a change, by both ways; the routine one by one way (in
            // turn with the beats), as a lean beat goes.
            let routine = !self.quick_full && self.protected.fulls_due == 0;
            self.full_presences += 1;
            let dest = if !routine {
                Dest::Group
            } else if self.full_presences.is_multiple_of(2) {
                Dest::Multicast
            } else {
                Dest::Broadcast
            };
            self.lean_beats = 0;
            self.beat(dest, false);
            return;
        }
        self.lean_beats += 1;
        let tails: Vec<u64> = self.open_channel_states().iter().map(|c| c.tail).collect();
        let dest = if self.lean_beats.is_multiple_of(2) {
            Dest::Multicast
        } else {
            Dest::Broadcast
        };
        // The periodic one goes lean (one per interval) when I have been
        // quiet. A lean beat's tails count only once its key is disclosed,
        // two intervals later; a receiver that lost my last message learns
        // of the gap from a signed beat at once.
        let beat = wire::LeanBeat {
            seq: self.presence.seq,
            tails,
            knows: self.presence.knows,
        };
        let quiet = self
            .said_at
            .is_none_or(|t| self.last_now >= t + SIGNED_AFTER_SAYING);
        if periodic && quiet && self.send_lean(dest, &beat) {
            return;
        }
        self.send(
            dest,
            Body::Beat {
                seq: beat.seq,
                tails: beat.tails,
            },
        );
    }

    pub(super) fn check_liveness(&mut self, now: Instant) {
        let mut rng = self.rng.clone();
        let work = self.peers.check(now, |n| rng.usize(..n));
        self.rng = rng;
        for item in work {
            match item {
                Liveness::Offline { id, watched } => {
                    let epoch = self.peers.get(id).map(|p| p.epoch);
                    self.peer_gone(id, OfflineReason::Timeout, now);
                    if let Some(epoch) = epoch
                        && watched
                    {
                        // The others wait for my word (they do not probe it).
                        self.say_down(id, epoch);
                    }
                }
                Liveness::Quiet(id) => self.pass_on_newest(id),
                Liveness::Probe {
                    target,
                    addr,
                    helpers,
                } => {
                    self.stats.probes_sent += 1 + helpers.len() as u64;
                    let nonce = self.rng.u64(..);
                    self.send(
                        Dest::Unicast(addr),
                        Body::Probe {
                            nonce,
                            reply_to: None,
                        },
                    );
                    for h in helpers {
                        self.send(
                            Dest::Unicast(h),
                            Body::ProbeRequest {
                                target,
                                addr,
                                nonce,
                            },
                        );
                    }
                }
            }
        }
    }

    /// A sender fell silent: its last message may have been lost by some
    /// members, who cannot know (no later message or tail shows the gap).
    /// So members pass on the newest datagram they hold of each of its
    /// streams, as it signed it, once, each with a probability that keeps
    /// about four copies per stream; whoever lacked it takes it, and the
    /// repair of anything before it follows from the gap it shows.
    pub(super) fn pass_on_newest(&mut self, sender: NodeId) {
        let Some(epoch) = self.peers.get(sender).map(|p| p.epoch) else {
            return;
        };
        let mut newest = Vec::new();
        for ((id, e, channel), stream) in self.channels.streams() {
            if *id != sender || *e != epoch || !self.channels.joined.contains_key(channel) {
                continue;
            }
            let members = self
                .peers
                .iter()
                .filter(|(_, p)| p.presence.channels.iter().any(|c| &c.name == channel))
                .count();
            let p = (4.0 / members.max(1) as f64).min(1.0);
            if let Some(raw) = stream.newest_kept()
                && self.rng.f64() < p
            {
                newest.push(raw.to_vec());
            }
        }
        self.stats.repairs_sent += newest.len() as u64;
        for bytes in newest {
            self.transmits.push_back(Transmit {
                dest: Dest::Group,
                bytes,
            });
        }
    }

    pub(super) fn peer_gone(&mut self, id: NodeId, reason: OfflineReason, now: Instant) {
        let Some(peer) = self.peers.depart(id, reason, now) else {
            return;
        };
        self.clock_gone(id);
        debug!(peer = %id, reason = reason.as_str(), "peer offline");
        self.events.push_back(CoreEvent::PeerOffline {
            id,
            nick: peer.presence.nick.clone(),
            reason,
        });
        for msg in self.outbox.peer_offline(id) {
            self.events.push_back(CoreEvent::Queued { id: msg, to: id });
        }
        self.sync.gone(id);
        self.reach.gone(id, self.last_now);
    }

    pub(super) fn peer_info_event(&mut self, id: NodeId) {
        if let Some(info) = self.info(id, self.me()) {
            self.events.push_back(CoreEvent::PeerOnline(info));
        }
    }

    pub(super) fn on_presence(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        addr: SocketAddr,
        standing: Standing,
        p: Presence,
    ) {
        if standing == Standing::Known && self.peers.outdated(id, p.seq) {
            // Overtaken by a newer presence: proof of life, but no news.
            self.peers.heard(id, addr, now);
            return;
        }
        if standing == Standing::Restarted
            && let Some(old) = self.peers.get(id).map(|p| p.epoch)
        {
            self.channels.forget_life(id, old);
        }
        if matches!(standing, Standing::New | Standing::Returning) && !self.peers.has_room() {
            self.stats.over_capacity += 1;
            return;
        }
        if standing == Standing::New
            && let Some(old) = self.peers.departed_record(id).map(|d| d.epoch)
            && old != epoch
        {
            self.channels.forget_life(id, old);
        }
        let change = self.peers.apply_presence(id, epoch, addr, &p, now);
        self.clock_heard(now, id, &p);
        // Channels it joined while I knew it: all it said there came after.
        let newly: Vec<String> = change.as_ref().map_or_else(Vec::new, |c| c.joined.clone());
        match change {
            None => {
                debug!(peer = %id, nick = %p.nick, "peer online");
                let nonce = self.rng.u64(..);
                self.reach.online(id, self.way_in, now, nonce);
                self.peer_info_event(id);
                if !p.hello {
                    // Found by its heartbeat or a reply: it may have missed
                    // all our hellos, so greet it directly (it answers).
                    self.beat(Dest::Unicast(addr), true);
                }
                self.outbox.peer_online(id, now, &self.timing);
                self.run_outbox(now);
                let channels: Vec<String> = p.channels.iter().map(|c| c.name.clone()).collect();
                self.catch_up(now, |sync, cx| sync.appeared(cx, id, addr, &channels));
            }
            Some(change) => {
                if let Some(old) = change.old_nick {
                    self.events.push_back(CoreEvent::NickChanged {
                        id,
                        old,
                        new: p.nick.clone(),
                    });
                }
                if change.status_changed {
                    self.events.push_back(CoreEvent::StatusChanged {
                        id,
                        nick: p.nick.clone(),
                        status: p.status,
                        text: p.status_text.clone(),
                    });
                }
                let wall = self.wall_ms(now);
                self.sync.heard_in(wall, id, &change.joined);
                for channel in change
                    .joined
                    .into_iter()
                    .filter(|c| self.channels.joined.contains_key(c))
                {
                    self.events.push_back(CoreEvent::Joined {
                        channel,
                        id,
                        nick: p.nick.clone(),
                    });
                }
                for channel in change
                    .parted
                    .into_iter()
                    .filter(|c| self.channels.joined.contains_key(c))
                {
                    self.events.push_back(CoreEvent::Parted {
                        channel,
                        id,
                        nick: p.nick.clone(),
                    });
                }
            }
        }
        for state in &p.channels {
            let Some(joined) = self.channels.joined.get_mut(&state.name) else {
                continue;
            };
            if state.topic_stamp > joined.topic_stamp()
                && joined
                    .topic_asked
                    .is_none_or(|t| now >= t + Duration::from_secs(1))
            {
                joined.topic_asked = Some(now);
                self.send(
                    Dest::Unicast(addr),
                    Body::TopicRequest {
                        channel: state.name.clone(),
                    },
                );
            }
            let key = (id, epoch, state.name.clone());
            // What a member said before I knew it was one is history
            // (catch-up brings it); but when it joined while I knew it and
            // spoke before its join reached me, its first messages are
            // repaired from its log like any gap.
            let base = if newly.contains(&state.name) && state.tail <= JOINED_REPAIR {
                1
            } else {
                state.tail + 1
            };
            match self.channels.stream(key.clone(), base) {
                Some(stream) => stream.saw_tail(state.tail),
                None => self.stats.over_capacity += 1,
            }
            // A peer's messages that came before its presence wait for it.
            self.deliver_stream(&key, now);
        }
        if !p.hello {
            self.maybe_tell_peers(now, id, p.knows);
        }
        if p.hello {
            let due = self.peers.get(id).is_none_or(|peer| {
                peer.last_hello_reply
                    .is_none_or(|t| now >= t + HELLO_REPLY_SPACING)
            });
            if due {
                if let Some(peer) = self.peers.get_mut(id) {
                    peer.last_hello_reply = Some(now);
                }
                // Two copies: a newcomer must see everyone within a second
                // even when a third of the datagrams are lost.
                self.beat(Dest::Unicast(addr), false);
                self.beat(Dest::Unicast(addr), false);
            }
        }
    }

    /// A lean heartbeat: proof of life (already noted) and the tails, if it
    /// abbreviates the presence we hold. If it names a newer one, we missed a
    /// change: greet the peer, and it answers with its full presence.
    pub(super) fn on_beat(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        from: SocketAddr,
        seq: u64,
        tails: &[u64],
    ) {
        let Some(peer) = self.peers.get_mut(id) else {
            return;
        };
        if seq < peer.presence.seq {
            return; // overtaken by a newer presence
        }
        // Lean heartbeats carry the tails of open channels only, which
        // come before the ones opened from sealed states.
        if seq > peer.presence.seq || tails.len() != peer.presence.open_channels().len() {
            debug!(peer = %id, seq, held = peer.presence.seq, "beat names a presence we lack");
            self.hello_unknown(now, from);
            return;
        }
        let mut mine = Vec::new();
        for (state, tail) in peer.presence.channels.iter_mut().zip(tails) {
            state.tail = state.tail.max(*tail);
            if self.channels.joined.contains_key(&state.name) {
                mine.push((state.name.clone(), state.tail));
            }
        }
        for (name, tail) in mine {
            let key = (id, epoch, name);
            match self.channels.stream(key.clone(), tail + 1) {
                Some(stream) => stream.saw_tail(tail),
                None => self.stats.over_capacity += 1,
            }
            self.deliver_stream(&key, now);
        }
    }

    pub(super) fn on_probe(
        &mut self,
        now: Instant,
        from: SocketAddr,
        nonce: u64,
        reply_to: Option<SocketAddr>,
    ) {
        self.send(
            Dest::Unicast(reply_to.unwrap_or(from)),
            Body::ProbeAck { nonce },
        );
        // Many suspect us: tell everyone at once that we are here. (One
        // prober has its answer; a presence to the group for each would be
        // a storm among many peers under loss.)
        let prober = reply_to.unwrap_or(from);
        self.probed_by
            .retain(|(t, a)| now < *t + REFUTE_WINDOW && *a != prober);
        self.probed_by.push_back((now, prober));
        while self.probed_by.len() > REFUTE_PROBERS {
            self.probed_by.pop_front();
        }
        if self.probed_by.len() >= REFUTE_PROBERS
            && self.last_refute.is_none_or(|t| now >= t + REFUTE_SPACING)
        {
            self.last_refute = Some(now);
            self.beat(Dest::Group, false);
        }
    }

    /// Tells the group that `peer`'s life `epoch`, which I watch, is down.
    pub(super) fn say_down(&mut self, peer: NodeId, epoch: u64) {
        for _ in 0..DOWN_COPIES {
            self.send(Dest::Group, Body::Down { peer, epoch });
        }
    }

    /// A watcher of `peer` declared its life `epoch` offline. I take its
    /// word only if I have not heard `peer` for a while either (a word
    /// cannot take offline a peer I hear); if I have, I time its silence
    /// from now on as its watchers do. If it is me, I say to everyone that
    /// I am here.
    pub(super) fn on_down(&mut self, now: Instant, peer: NodeId, epoch: u64) {
        if peer == self.id {
            if epoch == self.epoch && self.last_refute.is_none_or(|t| now >= t + REFUTE_SPACING) {
                self.last_refute = Some(now);
                self.beat(Dest::Group, false);
            }
            return;
        }
        let quiet = self
            .peers
            .silence(peer, epoch, now)
            .is_some_and(|s| s >= self.timing.suspect_after);
        if quiet {
            self.stats.taken_down += 1;
            let watched = self.peers.watches(peer);
            self.peer_gone(peer, OfflineReason::Timeout, now);
            // A fellow watcher was first: I say it too, so a node that
            // lost all of its copies (30 % loss loses three in a row once
            // in 37) still gets the word from one of us.
            if watched {
                self.say_down(peer, epoch);
            }
        } else {
            self.peers.told_down(peer, epoch);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::Lan;
    use crate::protocol::{CoreCommand, CoreEvent, OfflineReason};

    fn online(lan: &Lan, i: usize, nick: &str) -> bool {
        lan.events[i]
            .iter()
            .any(|e| matches!(e, CoreEvent::PeerOnline(p) if p.nick == nick))
    }

    #[test]
    fn nodes_started_together_see_each_other_and_one_that_quits_goes_at_once() {
        let mut lan = Lan::new(&["ann", "bob", "cat"]);
        lan.run(Duration::from_millis(500));
        for (i, others) in [
            (0, ["bob", "cat"]),
            (1, ["ann", "cat"]),
            (2, ["ann", "bob"]),
        ] {
            for nick in others {
                assert!(online(&lan, i, nick), "{i} sees {nick}");
            }
        }
        let seen = lan.events[0].len();
        lan.command(1, CoreCommand::Quit);
        lan.run(Duration::from_millis(50));
        let bob = lan.id(1);
        assert!(
            lan.since(0, seen).iter().any(|e| matches!(e,
                CoreEvent::PeerOffline { id, reason: OfflineReason::Quit, .. } if *id == bob)),
            "{:?}",
            lan.since(0, seen)
        );
    }

    #[test]
    fn a_peer_that_falls_silent_goes_offline_after_the_timeout_not_before() {
        let mut lan = Lan::new(&["ann", "bob"]);
        lan.run(Duration::from_secs(2));
        assert!(online(&lan, 0, "bob"));
        let seen = lan.events[0].len();
        lan.lose(|from, _, _, _| from == 1);
        let offline = |lan: &Lan| {
            lan.since(0, seen).iter().any(|e| {
                matches!(
                    e,
                    CoreEvent::PeerOffline {
                        reason: OfflineReason::Timeout,
                        ..
                    }
                )
            })
        };
        lan.run(Duration::from_secs(4));
        assert!(!offline(&lan), "offline within 4 s of silence");
        lan.run(Duration::from_secs(4));
        assert!(offline(&lan), "still online after 8 s of silence");
    }
}
