//! Claims that need proof: a known node heard from a new address or in a
//! new life is probed there before it is believed (a replayed or forged
//! presence cannot move a peer), and unknown senders are greeted.

use super::*;

/// Most claims waiting for proof at once.
pub(super) const MAX_PENDING_CLAIMS: usize = 64;
/// Interval between probes of one claim (restart or new address).
pub(super) const CLAIM_REPROBE: Duration = Duration::from_millis(100);
/// How long a claim is probed before it is dropped.
pub(super) const CLAIM_PATIENCE: Duration = Duration::from_secs(3);

/// A restart or new-address claim waiting for its probe to be answered.
pub(super) struct PendingClaim {
    pub(super) epoch: u64,
    pub(super) addr: SocketAddr,
    pub(super) presence: Presence,
    pub(super) nonce: u64,
    pub(super) asked: Instant,
    pub(super) since: Instant,
}

impl Node {
    /// A higher epoch claims the node restarted, or a presence from a new
    /// address claims the node moved. A mangled or replayed copy must not
    /// replace a live peer (its real packets would then look stale, or its
    /// messages would go astray), so the claim counts only once a probe to
    /// the claiming address is answered with its nonce.
    pub(super) fn claim(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        from: SocketAddr,
        presence: Presence,
    ) {
        match self.claims.get_mut(&id) {
            Some(r) if r.epoch == epoch && r.addr == from => {
                // Probed again by the timer until answered.
                r.presence = presence;
            }
            _ => {
                if !self.claims.contains_key(&id) && self.claims.len() >= MAX_PENDING_CLAIMS {
                    let oldest = self
                        .claims
                        .iter()
                        .min_by_key(|(_, r)| r.asked)
                        .map(|(k, _)| *k);
                    if let Some(oldest) = oldest {
                        self.claims.remove(&oldest);
                    }
                }
                let nonce = self.rng.u64(..);
                self.claims.insert(
                    id,
                    PendingClaim {
                        epoch,
                        addr: from,
                        presence,
                        nonce,
                        asked: now,
                        since: now,
                    },
                );
                self.probe_claim(from, nonce);
            }
        }
    }

    /// Probes a claim, in two copies: a restart must be seen within
    /// a second even when a third of the datagrams are lost.
    pub(super) fn probe_claim(&mut self, addr: SocketAddr, nonce: u64) {
        for _ in 0..2 {
            self.send(
                Dest::Unicast(addr),
                Body::Probe {
                    nonce,
                    reply_to: None,
                },
            );
        }
    }

    /// Probes claims again until they are answered or too old.
    pub(super) fn run_claims(&mut self, now: Instant) {
        self.claims.retain(|_, r| now < r.since + CLAIM_PATIENCE);
        let due: Vec<(SocketAddr, u64)> = self
            .claims
            .values_mut()
            .filter(|r| now >= r.asked + CLAIM_REPROBE)
            .map(|r| {
                r.asked = now;
                (r.addr, r.nonce)
            })
            .collect();
        for (addr, nonce) in due {
            self.probe_claim(addr, nonce);
        }
    }

    pub(super) fn confirm_claim(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        from: SocketAddr,
        nonce: u64,
    ) {
        let proven = self
            .claims
            .get(&id)
            .is_some_and(|r| r.epoch == epoch && r.addr == from && r.nonce == nonce);
        if let Some(r) = proven.then(|| self.claims.remove(&id)).flatten() {
            let standing = self.peers.standing(id, epoch);
            if standing == Standing::Known
                && let Some(peer) = self.peers.get_mut(id)
            {
                peer.use_addr(from);
            }
            if standing != Standing::Stale {
                self.on_presence(now, id, epoch, from, standing, r.presence);
            }
        }
    }

    pub(super) fn hello_unknown(&mut self, now: Instant, addr: SocketAddr) {
        if self
            .hello_sent
            .get(&addr)
            .is_some_and(|t| now < *t + REFUTE_SPACING)
        {
            return;
        }
        if self.hello_sent.len() >= MAX_HELLO_TARGETS {
            self.hello_sent.retain(|_, t| now < *t + REFUTE_SPACING);
            if self.hello_sent.len() >= MAX_HELLO_TARGETS {
                return;
            }
        }
        self.hello_sent.insert(addr, now);
        debug!(%addr, "greeting a sender we do not know yet");
        self.beat(Dest::Unicast(addr), true);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use super::super::testing::{Lan, body_name, config};

    #[test]
    fn a_new_life_is_believed_only_once_it_answers_a_probe_at_its_address() {
        let mut lan = Lan::new(&["ann", "bob"]);
        lan.run(Duration::from_secs(1));
        assert_eq!(lan.nodes[0].peers()[0].epoch, 1);
        let answers = Rc::new(Cell::new(false));
        let a = answers.clone();
        lan.lose(move |from, _, _, bytes| from == 1 && !a.get() && body_name(bytes) == "ProbeAck");
        let mut again = config(1, "bob");
        again.epoch = 2;
        lan.restart(1, again);
        lan.run(Duration::from_millis(1500));
        assert_eq!(lan.nodes[0].peers()[0].epoch, 1, "believed without proof");
        answers.set(true);
        lan.run(Duration::from_millis(500));
        assert_eq!(lan.nodes[0].peers()[0].epoch, 2);
    }
}
