//! Direct messages: the outbox's retransmissions, what arrives sealed for
//! me, and the resending of what was not delivered before a restart.

use super::*;

impl Node {
    pub(super) fn run_outbox(&mut self, now: Instant) {
        let peers = &self.peers;
        let news = self
            .outbox
            .due(now, &self.timing, |id| peers.get(id).is_some());
        for n in news {
            match n {
                OutboxNews::Send(to, msg) => {
                    if let Some(addr) = self.peers.get(to).map(|p| p.addr) {
                        self.send(Dest::Unicast(addr), Body::Direct(msg));
                    }
                }
                OutboxNews::Queued(to, id) => self.events.push_back(CoreEvent::Queued { id, to }),
            }
        }
    }

    pub(super) fn on_direct(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        from: SocketAddr,
        msg: crate::wire::DirectMsg,
    ) {
        if msg.to != self.id {
            self.stats.misaddressed += 1;
            return;
        }
        let seq = msg.seq;
        let received = self.inbox.receive(id, epoch, msg);
        if received.ack {
            // A fragment had already: the acknowledgement was lost at least
            // once, so it goes twice (under loss the receipt then comes in
            // far fewer round trips; a handful of bytes).
            let copies = if received.again { 2 } else { 1 };
            for _ in 0..copies {
                self.send(
                    Dest::Unicast(from),
                    Body::DirectAck {
                        stream_epoch: epoch,
                        seq,
                    },
                );
            }
        } else {
            self.stats.over_capacity += 1;
        }
        self.stats.broken_fragments += received.broken;
        for a in received.messages {
            if a.kind == MessageKind::Beep {
                if self.beeps.get(&id).is_some_and(|t| now < *t + BEEP_SPACING) {
                    self.stats.beeps_limited += 1;
                    continue;
                }
                if self.beeps.len() >= crate::discovery::MAX_PEERS {
                    self.beeps.retain(|_, t| now < *t + BEEP_SPACING);
                }
                self.beeps.insert(id, now);
                let nick = self.sender_nick(id);
                self.events.push_back(CoreEvent::Beep { from: id, nick });
                continue;
            }
            self.deliver(now, Chat::Direct(id), id, a);
        }
    }

    /// Puts a direct message from an earlier life back in the outbox, with
    /// its id and stamp; reported queued while the recipient is away.
    pub(super) fn resend(
        &mut self,
        now: Instant,
        id: MsgId,
        to: NodeId,
        text: &str,
        kind: MessageKind,
        hlc: u64,
    ) {
        if to == self.id || text.len() > MAX_TEXT {
            return;
        }
        let draft = Draft {
            id,
            hlc,
            kind,
            text,
        };
        if let Err(refusal) = self.outbox.push(now, &self.timing, to, draft) {
            return self.refuse(refusal);
        }
        if self.peers.get(to).is_none() {
            self.events.push_back(CoreEvent::Queued { id, to });
            self.outbox.peer_offline(to);
        }
        self.run_outbox(now);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::Lan;
    use crate::protocol::{CoreCommand, CoreEvent, Target};
    use crate::types::{Chat, MessageKind};

    fn dm(lan: &mut Lan, from: usize, to: usize, text: &str) {
        let to = lan.id(to);
        lan.command(
            from,
            CoreCommand::Say {
                to: vec![Target::Node(to)],
                text: text.into(),
                kind: MessageKind::Text,
            },
        );
    }

    #[test]
    fn a_direct_message_arrives_sealed_and_its_sender_hears_it_was_delivered() {
        let mut lan = Lan::new(&["ann", "bob", "cat"]);
        lan.run(Duration::from_secs(1));
        dm(&mut lan, 0, 1, "psst");
        lan.run(Duration::from_millis(200));
        let ann = lan.id(0);
        assert!(lan.events[1].iter().any(
            |e| matches!(e, CoreEvent::Message(m) if m.text == "psst" && m.chat == Chat::Direct(ann))
        ));
        let bob = lan.id(1);
        assert!(
            lan.events[0]
                .iter()
                .any(|e| matches!(e, CoreEvent::Delivered { to, .. } if *to == bob))
        );
        assert!(
            !lan.events[2]
                .iter()
                .any(|e| matches!(e, CoreEvent::Message(m) if m.text == "psst"))
        );
    }

    #[test]
    fn a_direct_message_nobody_acknowledges_is_reported_queued_then_delivered() {
        let mut lan = Lan::new(&["ann", "bob"]);
        lan.run(Duration::from_secs(1));
        let deaf = std::rc::Rc::new(std::cell::Cell::new(true));
        let d = deaf.clone();
        lan.lose(move |_, to, _, _| to == 1 && d.get());
        dm(&mut lan, 0, 1, "are you there");
        // Ten tries, 0.2 s apart and a quarter more each time.
        lan.run(Duration::from_secs(8));
        let queued = |lan: &Lan| {
            lan.events[0]
                .iter()
                .any(|e| matches!(e, CoreEvent::Queued { .. }))
        };
        let delivered = |lan: &Lan| {
            lan.events[0]
                .iter()
                .any(|e| matches!(e, CoreEvent::Delivered { .. }))
        };
        assert!(queued(&lan) && !delivered(&lan));
        deaf.set(false);
        lan.run(Duration::from_secs(6));
        assert!(delivered(&lan));
    }
}
