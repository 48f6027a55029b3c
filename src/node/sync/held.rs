//! Caught-up messages: put together from their fragments, checked, held
//! until none came for a moment ([`QUIET`]) and given out in stamp order,
//! so the user does not see the network's reordering.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tracing::debug;

use super::{Ctx, FOLLOW_UP, MAX_HELD, QUIET, RETRY, SyncState};
use crate::catchup::{self, Kept};
use crate::node::Node;
use crate::protocol::ChatMessage;
use crate::types::Chat;
use crate::wire::Recalled;

impl SyncState {
    /// A fragment of a message we lacked: the message, once whole, if it
    /// is signed by its author and new here.
    pub(in crate::node) fn gather(&mut self, cx: &mut Ctx, r: Recalled) -> Option<(String, Kept)> {
        if !cx.joined.contains_key(&r.channel) {
            return None;
        }
        let (channel, k) = self.gathering.push(cx.now, r)?;
        // Handed on by a peer, so it counts only with its author's
        // signature.
        if !k
            .author
            .is_some_and(|a| a.verify(k.from, &channel, k.id, k.hlc, k.kind, &k.text))
        {
            debug!(from = %k.from, %channel, "caught-up message without its author's signature dropped");
            cx.stats.forged += 1;
            return None;
        }
        if self.recent.contains(&channel, &k.id) {
            cx.stats.duplicates += 1;
            return None;
        }
        Some((channel, k))
    }

    /// Holds a message [`SyncState::gather`] gave, filed under `stamp`,
    /// until the caught-up messages can be given out in order.
    pub(in crate::node) fn hold(&mut self, cx: &mut Ctx, channel: String, k: Kept, stamp: u64) {
        self.held.push((
            k.hlc,
            ChatMessage {
                id: k.id,
                chat: Chat::Channel(channel.clone()),
                from: k.from,
                nick: k.nick.clone(),
                kind: k.kind,
                text: k.text.clone(),
                time_ms: crate::hlc::wall_ms(stamp),
                hlc: stamp,
                author: k.author,
            },
        ));
        self.recent.insert(
            &channel,
            Kept {
                arrived_ms: cx.wall,
                ..k
            },
        );
        cx.stats.recalled += 1;
        self.held_until = Some(cx.now + QUIET);
        if self.held.len() >= MAX_HELD {
            self.give_out_held(cx);
        }
        self.sooner(&channel, cx.now + FOLLOW_UP);
        self.fruitless.remove(&channel);
        self.agreed.remove(&channel);
    }

    /// Gives out the held caught-up messages.
    pub(super) fn give_out_held(&mut self, cx: &mut Ctx) {
        self.held_until = None;
        debug!(count = self.held.len(), "catch-up: giving out");
        let held = std::mem::take(&mut self.held);
        self.give_out(cx, held);
    }

    /// Gives out caught-up messages in stamp order. A channel joined with
    /// nothing now has its window: it begins at the oldest message given.
    fn give_out(&mut self, cx: &mut Ctx, held: Vec<(u64, ChatMessage)>) {
        let mut held: Vec<ChatMessage> = held.into_iter().map(|(_, m)| m).collect();
        // A channel's share filled up meanwhile with newer ones: the older
        // ones it pushed out were more than asked for.
        held.retain(|m| match &m.chat {
            Chat::Channel(c) => self.recent.contains(c, &m.id),
            Chat::Direct(_) => true,
        });
        held.sort_by_key(|m| (m.hlc, m.from));
        let channels: BTreeSet<String> = held
            .iter()
            .filter_map(|m| match &m.chat {
                Chat::Channel(c) => Some(c.clone()),
                Chat::Direct(_) => None,
            })
            .collect();
        let later = cx.now + Duration::from_millis(catchup::SETTLE_MS) + RETRY;
        for channel in channels {
            if self.recent.sharing(&channel) {
                // What was said just before we came is held back by the
                // givers for a while (it may still come live): one more
                // round then. Until it has all it asked for, the next
                // members are asked for the rest.
                self.sooner(&channel, later);
            }
        }
        cx.recalled.extend(held);
    }

    /// Keeps a channel message delivered live or sent by me; false if it was
    /// had already (by catch-up, or twice by repair).
    ///
    /// Repair and catch-up can bring the same messages at once (a returning
    /// node's repairs come slowly). So that each sender's order holds, a
    /// live message first gives out what catch-up brought of its author in
    /// that channel up to it, itself included (then it is had already).
    pub(in crate::node) fn keep(&mut self, cx: &mut Ctx, channel: &str, k: Kept) -> bool {
        if !self.held.is_empty() {
            let (before, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
                .into_iter()
                .partition(|(stamp, m)| {
                    m.from == k.from
                        && matches!(&m.chat, Chat::Channel(c) if c == channel)
                        && (*stamp <= k.hlc || m.id == k.id)
                });
            self.held = rest;
            if self.held.is_empty() {
                self.held_until = None;
            }
            if !before.is_empty() {
                self.give_out(cx, before);
            }
        }
        self.recent.insert(
            channel,
            Kept {
                arrived_ms: cx.wall,
                ..k
            },
        )
    }
}

impl Node {
    /// A fragment of a message we lacked: once whole, signed and new, it is
    /// filed under its author's stamp (as the LAN's clock sees it).
    pub(in crate::node) fn on_recalled(&mut self, now: Instant, r: Recalled) {
        let Some((channel, k)) = self.catch_up(now, |sync, cx| sync.gather(cx, r)) else {
            return;
        };
        let lan_now = self.lan_wall_ms(now);
        let stamp = self.hlc.observe(k.hlc, lan_now);
        self.catch_up(now, |sync, cx| sync.hold(cx, channel, k, stamp));
    }
}
