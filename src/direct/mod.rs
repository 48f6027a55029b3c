//! Direct messages: unicast, acknowledged per fragment, retransmitted with
//! exponential back-off, kept while the recipient is offline and sent again
//! when it is seen; received in order and without duplicates.
//!
//! Each (sender life, recipient) pair is one stream with sequence numbers.
//! Every fragment carries `base`, the lowest number the sender still waits
//! for, so a receiver that lost its state (a restart) neither waits for what
//! it already acknowledged nor takes a resend for a new message.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::deadlines::Deadlines;
use crate::fragments::{Assembled, Fragment, Outcome, Reassembly};
use crate::protocol::{Refusal, Timing};
use crate::types::{MessageKind, MsgId, NodeId};
use crate::wire::{DirectMsg, split_text};

/// Most unacknowledged fragments kept in the outbox.
pub const MAX_OUTBOX: usize = 16_384;
/// Most out-of-order fragments held per sender.
pub const MAX_HELD: usize = 1024;
/// Most out-of-order fragments held from all senders together.
pub const MAX_HELD_TOTAL: usize = 16_384;
/// Held fragments of one sender from which the total is checked.
const CHECK_TOTAL_ABOVE: usize = 64;
/// Most senders with inbox state.
pub const MAX_INBOX_STREAMS: usize = 1024;

#[derive(Debug)]
#[cfg_attr(test, derive(Clone))]
struct Pending {
    msg: DirectMsg,
    next_at: Instant,
    tries: u32,
    rto: Duration,
}

#[derive(Debug, Default)]
#[cfg_attr(test, derive(Clone))]
struct Progress {
    remaining: u16,
    queued_reported: bool,
}

#[derive(Debug, Default)]
#[cfg_attr(test, derive(Clone))]
struct OutStream {
    next_seq: u64,
    pending: BTreeMap<u64, Pending>,
    progress: BTreeMap<MsgId, Progress>,
}

/// A message to send, as the user wrote it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Draft<'a> {
    pub(crate) id: MsgId,
    pub(crate) hlc: u64,
    pub(crate) kind: MessageKind,
    pub(crate) text: &'a str,
}

/// What the outbox reports.
#[derive(Debug, PartialEq)]
pub(crate) enum OutboxNews {
    /// Send this fragment to the peer.
    Send(NodeId, DirectMsg),
    /// The message is not delivered yet and is kept.
    Queued(NodeId, MsgId),
}

/// Direct messages not yet acknowledged.
#[derive(Debug, Default)]
#[cfg_attr(test, derive(Clone))]
pub struct Outbox {
    streams: BTreeMap<NodeId, OutStream>,
    fragments: usize,
    /// When each pending fragment (recipient, seq) is sent next, so the
    /// earliest is found without a scan of every stream (asked after every
    /// datagram). Fragments to a recipient in `away` are left out.
    resends: Deadlines<(NodeId, u64)>,
    /// Recipients with fragments pending that were found offline: nothing
    /// goes to them until they are back ([`Outbox::peer_online`]), so their
    /// fragments are not in `resends`, where they would be skipped over
    /// after every datagram.
    away: BTreeSet<NodeId>,
}

impl Outbox {
    /// Queues a message to `to`; it goes out on the next [`Outbox::due`].
    /// Fails when the outbox is full.
    pub(crate) fn push(
        &mut self,
        now: Instant,
        timing: &Timing,
        to: NodeId,
        draft: Draft<'_>,
    ) -> Result<(), Refusal> {
        let Draft {
            id,
            hlc,
            kind,
            text,
        } = draft;
        let pieces = split_text(text);
        if self.fragments + pieces.len() > MAX_OUTBOX {
            return Err(Refusal::OutboxFull);
        }
        let stream = self.streams.entry(to).or_default();
        let parts = pieces.len() as u16;
        for (i, piece) in pieces.into_iter().enumerate() {
            stream.next_seq += 1;
            let msg = DirectMsg {
                to,
                seq: stream.next_seq,
                base: 1,
                id,
                hlc,
                kind,
                part: i as u16,
                parts,
                text: piece.to_string(),
            };
            if !self.away.contains(&to) {
                self.resends.set(&(to, msg.seq), Some(now));
            }
            stream.pending.insert(
                msg.seq,
                Pending {
                    msg,
                    next_at: now,
                    tries: 0,
                    rto: timing.dm_rto,
                },
            );
        }
        stream.progress.insert(
            id,
            Progress {
                remaining: parts,
                queued_reported: false,
            },
        );
        self.fragments += usize::from(parts);
        Ok(())
    }

    /// Fragments due for (re)sending to peers for which `online` is true,
    /// and messages that should now be reported queued. Looks only at the
    /// fragments due, by recipient and then sequence number.
    pub(crate) fn due(
        &mut self,
        now: Instant,
        timing: &Timing,
        online: impl Fn(NodeId) -> bool,
    ) -> Vec<OutboxNews> {
        // Back without [`Outbox::peer_online`] (the node always calls it;
        // this keeps the outbox right on its own).
        let back: Vec<NodeId> = self.away.iter().copied().filter(|id| online(*id)).collect();
        for id in back {
            self.away.remove(&id);
            self.index(id);
        }
        let mut news = Vec::new();
        for (to, seq) in self.resends.due(now) {
            if !online(to) {
                self.park(to);
                continue;
            }
            let Some(stream) = self.streams.get_mut(&to) else {
                self.resends.remove(&(to, seq));
                continue;
            };
            let base = stream
                .pending
                .keys()
                .next()
                .copied()
                .unwrap_or(stream.next_seq + 1);
            let Some(p) = stream.pending.get_mut(&seq) else {
                self.resends.remove(&(to, seq));
                continue;
            };
            p.tries += 1;
            p.next_at = now + p.rto;
            self.resends.set(&(to, seq), Some(p.next_at));
            // Loss on a LAN is rarely congestion: grow gently.
            p.rto = p.rto.mul_f64(1.25).min(timing.dm_rto_max);
            let mut msg = p.msg.clone();
            msg.base = base;
            news.push(OutboxNews::Send(to, msg));
            if p.tries > timing.dm_tries_before_queued
                && let Some(prog) = stream.progress.get_mut(&p.msg.id)
                && !prog.queued_reported
            {
                prog.queued_reported = true;
                news.push(OutboxNews::Queued(to, p.msg.id));
            }
        }
        news
    }

    /// Leaves the fragments to `id` out of the index while it is away.
    fn park(&mut self, id: NodeId) {
        let Some(stream) = self.streams.get(&id) else {
            return;
        };
        if stream.pending.is_empty() || !self.away.insert(id) {
            return;
        }
        for seq in stream.pending.keys() {
            self.resends.remove(&(id, *seq));
        }
    }

    /// Indexes every fragment pending to `id`.
    fn index(&mut self, id: NodeId) {
        if let Some(stream) = self.streams.get(&id) {
            for (seq, p) in &stream.pending {
                self.resends.set(&(id, *seq), Some(p.next_at));
            }
        }
    }

    /// Takes an acknowledgement; returns the message id if that completed it.
    pub(crate) fn ack(&mut self, from: NodeId, seq: u64) -> Option<MsgId> {
        let stream = self.streams.get_mut(&from)?;
        let pending = stream.pending.remove(&seq)?;
        self.resends.remove(&(from, seq));
        if stream.pending.is_empty() {
            self.away.remove(&from);
        }
        self.fragments -= 1;
        let id = pending.msg.id;
        let prog = stream.progress.get_mut(&id)?;
        prog.remaining = prog.remaining.saturating_sub(1);
        if prog.remaining == 0 {
            stream.progress.remove(&id);
            return Some(id);
        }
        None
    }

    /// The peer was seen (again): send everything pending at once.
    pub(crate) fn peer_online(&mut self, id: NodeId, now: Instant, timing: &Timing) {
        if let Some(stream) = self.streams.get_mut(&id) {
            for p in stream.pending.values_mut() {
                p.next_at = now;
                p.tries = 0;
                p.rto = timing.dm_rto;
            }
        }
        self.away.remove(&id);
        self.index(id);
    }

    /// The peer went offline: the messages to it not yet reported queued.
    pub(crate) fn peer_offline(&mut self, id: NodeId) -> Vec<MsgId> {
        self.park(id);
        let Some(stream) = self.streams.get_mut(&id) else {
            return Vec::new();
        };
        let mut ids: Vec<MsgId> = stream
            .progress
            .iter_mut()
            .filter(|(_, p)| !p.queued_reported)
            .map(|(id, p)| {
                p.queued_reported = true;
                *id
            })
            .collect();
        ids.sort();
        ids
    }

    /// Earliest (re)send among peers for which `online` is true. Fragments
    /// to a peer gone since the last [`Outbox::due`] are skipped over until
    /// that call parks them (or [`Outbox::peer_offline`] did already).
    pub(crate) fn next_deadline(&self, online: impl Fn(NodeId) -> bool) -> Option<Instant> {
        self.resends
            .iter()
            .find(|(_, (to, _))| online(*to))
            .map(|(t, _)| t)
    }

    /// Fragments waiting for acknowledgement.
    pub fn len(&self) -> usize {
        self.fragments
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.fragments == 0
    }
}

#[derive(Debug)]
struct InStream {
    epoch: u64,
    next: u64,
    held: BTreeMap<u64, DirectMsg>,
    reassembly: Reassembly,
}

/// What the inbox made of a fragment.
#[derive(Debug, Default)]
pub(crate) struct Received {
    /// Whether to acknowledge it (a fragment that could not be held is not).
    pub(crate) ack: bool,
    /// It was had already: the sender sent it again, so our
    /// acknowledgement (or its copy) was lost.
    pub(crate) again: bool,
    /// Messages now complete, in order.
    pub(crate) messages: Vec<Assembled>,
    /// Fragments dropped as broken.
    pub(crate) broken: u64,
}

/// Receiver state of direct streams, one per sender.
#[derive(Debug, Default)]
pub struct Inbox {
    streams: BTreeMap<NodeId, InStream>,
}

impl Inbox {
    /// Takes a fragment from `from` in life `epoch`.
    pub(crate) fn receive(&mut self, from: NodeId, epoch: u64, msg: DirectMsg) -> Received {
        let mut out = Received::default();
        let fresh = || InStream {
            epoch,
            next: msg.base,
            held: BTreeMap::new(),
            reassembly: Reassembly::default(),
        };
        match self.streams.get(&from) {
            Some(s) if s.epoch > epoch => return out, // an older life's resend
            Some(s) if s.epoch == epoch => {}
            _ => {
                if !self.streams.contains_key(&from) && self.streams.len() >= MAX_INBOX_STREAMS {
                    return out;
                }
                self.streams.insert(from, fresh());
            }
        }
        let Some(s) = self.streams.get_mut(&from) else {
            return out;
        };
        if msg.base > s.next {
            // Everything below base was acknowledged (maybe in an earlier life
            // of ours): stop waiting for it.
            let keep = s.held.split_off(&msg.base);
            let skipped = std::mem::replace(&mut s.held, keep);
            for (_, m) in skipped {
                Self::assemble(s, m, &mut out);
            }
            s.next = msg.base;
            s.reassembly.clear();
        }
        if msg.seq < s.next || s.held.contains_key(&msg.seq) {
            out.ack = true;
            out.again = true;
            return out;
        }
        let full = s.held.len() >= MAX_HELD
            || s.held.len() >= CHECK_TOTAL_ABOVE && self.held_total() >= MAX_HELD_TOTAL;
        let Some(s) = self.streams.get_mut(&from) else {
            return out;
        };
        if full && msg.seq != s.next {
            return out;
        }
        out.ack = true;
        s.held.insert(msg.seq, msg);
        while let Some(m) = s.held.remove(&s.next) {
            s.next += 1;
            Self::assemble(s, m, &mut out);
        }
        out
    }

    fn held_total(&self) -> usize {
        self.streams.values().map(|s| s.held.len()).sum()
    }

    fn assemble(s: &mut InStream, m: DirectMsg, out: &mut Received) {
        let frag = Fragment {
            id: m.id,
            kind: m.kind,
            hlc: m.hlc,
            part: m.part,
            parts: m.parts,
            text: m.text,
            sig: Vec::new(),
        };
        match s.reassembly.push(frag) {
            Outcome::Complete(a) => out.messages.push(a),
            Outcome::Pending => {}
            Outcome::Broken => out.broken += 1,
        }
    }
}

#[cfg(test)]
mod outbox_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u8) -> NodeId {
        NodeId([n; 16])
    }

    fn draft(id: MsgId, text: &str) -> Draft<'_> {
        Draft {
            id,
            hlc: 0,
            kind: MessageKind::Text,
            text,
        }
    }

    fn sends(news: &[OutboxNews]) -> Vec<DirectMsg> {
        news.iter()
            .filter_map(|n| match n {
                OutboxNews::Send(_, m) => Some(m.clone()),
                OutboxNews::Queued(..) => None,
            })
            .collect()
    }

    #[test]
    fn delivery_in_order_despite_reordering_and_duplicates() {
        let t = Timing::default();
        let now = Instant::now();
        let mut out = Outbox::default();
        for i in 0..3u8 {
            out.push(now, &t, node(2), draft(MsgId([i; 16]), &format!("m{i}")))
                .expect("room");
        }
        let msgs = sends(&out.due(now, &t, |_| true));
        assert_eq!(msgs.len(), 3);
        let mut inbox = Inbox::default();
        let mut got = Vec::new();
        for m in [&msgs[2], &msgs[0], &msgs[2], &msgs[1], &msgs[0]] {
            let r = inbox.receive(node(1), 9, m.clone());
            assert!(r.ack);
            got.extend(r.messages.into_iter().map(|a| a.text));
        }
        assert_eq!(got, vec!["m0", "m1", "m2"]);
        for m in &msgs {
            out.ack(node(2), m.seq);
        }
        assert!(out.is_empty());
    }

    #[test]
    fn unacked_fragments_back_off_and_report_queued() {
        let t = Timing::default();
        let start = Instant::now();
        let mut out = Outbox::default();
        out.push(start, &t, node(2), draft(MsgId([1; 16]), "hi"))
            .expect("room");
        let mut now = start;
        let mut sent = 0;
        let mut queued = 0;
        for _ in 0..200 {
            for n in out.due(now, &t, |_| true) {
                match n {
                    OutboxNews::Send(..) => sent += 1,
                    OutboxNews::Queued(..) => queued += 1,
                }
            }
            now += Duration::from_millis(100);
        }
        // 20 s with back-off capped at 3.2 s: far fewer than 200 sends.
        assert!((8..18).contains(&sent), "{sent}");
        assert_eq!(queued, 1);
    }

    #[test]
    fn a_receiver_that_lost_state_skips_what_was_acked() {
        let t = Timing::default();
        let now = Instant::now();
        let mut out = Outbox::default();
        out.push(now, &t, node(2), draft(MsgId([1; 16]), "old"))
            .expect("room");
        let first = sends(&out.due(now, &t, |_| true));
        out.ack(node(2), first[0].seq);
        out.push(now, &t, node(2), draft(MsgId([2; 16]), "new"))
            .expect("room");
        let second = sends(&out.due(now, &t, |_| true));
        let mut fresh_inbox = Inbox::default();
        let r = fresh_inbox.receive(node(1), 9, second[0].clone());
        assert_eq!(
            r.messages
                .iter()
                .map(|a| a.text.as_str())
                .collect::<Vec<_>>(),
            vec!["new"]
        );
    }

    #[test]
    fn long_text_goes_in_fragments_and_comes_back_whole() {
        let t = Timing::default();
        let now = Instant::now();
        let mut out = Outbox::default();
        let text = "long line\n".repeat(1000);
        out.push(now, &t, node(2), draft(MsgId([1; 16]), &text))
            .expect("room");
        let msgs = sends(&out.due(now, &t, |_| true));
        assert!(msgs.len() > 10);
        let mut inbox = Inbox::default();
        let mut got = Vec::new();
        for m in msgs.iter().rev() {
            got.extend(inbox.receive(node(1), 3, m.clone()).messages);
        }
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, text);
    }

    #[test]
    fn held_fragments_are_bounded_across_senders() {
        let mut inbox = Inbox::default();
        let senders = 400u32;
        for n in 0..senders {
            let from = NodeId(u128::from(n).to_be_bytes());
            // Sequence 1 never comes: everything else waits.
            for seq in 2..200 {
                let msg = DirectMsg {
                    to: node(0),
                    seq,
                    base: 1,
                    id: MsgId([1; 16]),
                    hlc: 0,
                    kind: MessageKind::Text,
                    part: 0,
                    parts: 1,
                    text: "x".into(),
                };
                inbox.receive(from, 1, msg);
            }
        }
        let bound = MAX_HELD_TOTAL + CHECK_TOTAL_ABOVE * senders as usize;
        assert!(inbox.held_total() <= bound, "{} held", inbox.held_total());
        assert!(inbox.held_total() < senders as usize * 198);
    }
}
