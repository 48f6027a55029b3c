//! One comparison's rounds: answering a peer's ranges and its wants, and
//! sending what it lacks within the budget ([`SYNC_RATE`]).

use std::net::SocketAddr;

use tracing::debug;

use super::{AGAIN, CALM_DOUBLINGS, Ctx, MAX_FRUITLESS, MAX_ROUNDS, SYNC_RATE, SyncState};
use crate::catchup::{self, Kept, MAX_WANT};
use crate::types::{MsgId, NodeId};
use crate::wire::{Body, Sync};

impl SyncState {
    /// A peer's ranges for a channel: answer what differs, send what it
    /// lacks, ask for what we lack. An opening is always answered.
    pub(in crate::node) fn on_sync(
        &mut self,
        cx: &mut Ctx,
        id: NodeId,
        from: SocketAddr,
        sync: Sync,
    ) {
        if !cx.joined.contains_key(&sync.channel) {
            return;
        }
        // Our opening was answered: the next comparison is a period away;
        // unless we wait to be given the channel's history and this member
        // may have had none (the next one is asked after `RETRY`, until
        // some is given).
        if sync.round > 0
            && !self.recent.sharing(&sync.channel)
            && self.tries.remove(&sync.channel).is_some()
        {
            self.synced.insert(sync.channel.clone());
            if sync.ranges.is_empty() {
                let calm = self.agreed.entry(sync.channel.clone()).or_default();
                *calm = calm.saturating_add(1).min(CALM_DOUBLINGS);
            } else {
                self.agreed.remove(&sync.channel);
            }
            let next = self.next_period(cx, &sync.channel);
            self.due.insert(sync.channel.clone(), next);
        }
        if sync.round > 0 && !sync.ranges.is_empty() {
            // The windows differ: unless this round brings what we lack,
            // compare again soon (a few times).
            let fruitless = self.fruitless.entry(sync.channel.clone()).or_default();
            if *fruitless < MAX_FRUITLESS {
                *fruitless += 1;
                self.sooner(&sync.channel, cx.now + AGAIN);
            }
        }
        let answer = self.recent.answer(
            &sync.channel,
            &sync.ranges,
            sync.limit as usize,
            cx.wall,
            self.their_since(id, &sync.channel),
        );
        let limit = self.recent.limit(&sync.channel) as u32;
        let round = sync.round.saturating_add(1);
        debug!(
            %from,
            channel = sync.channel,
            round = sync.round,
            differ = answer.ranges.len(),
            give = answer.send.len(),
            want = answer.want.len(),
            "catch-up: answering"
        );
        let mut datagrams = if round < MAX_ROUNDS {
            catchup::pack(answer.ranges)
        } else {
            Vec::new()
        };
        if sync.round == 0 && datagrams.is_empty() {
            // An opening is always answered, with nothing when all agrees.
            datagrams.push(Vec::new());
        }
        for ranges in datagrams {
            cx.send(
                from,
                Body::Sync(Sync {
                    channel: sync.channel.clone(),
                    round,
                    limit,
                    ranges,
                }),
            );
        }
        for ids in answer.want.chunks(MAX_WANT) {
            cx.send(
                from,
                Body::Want {
                    channel: sync.channel.clone(),
                    ids: ids.to_vec(),
                },
            );
        }
        self.send_recalled(cx, from, &sync.channel, &answer.send);
    }

    /// A peer asks for messages it lacks.
    pub(in crate::node) fn on_want(
        &mut self,
        cx: &mut Ctx,
        id: NodeId,
        from: SocketAddr,
        channel: &str,
        ids: &[MsgId],
    ) {
        if !cx.joined.contains_key(channel) {
            return;
        }
        let found = self
            .recent
            .wanted(channel, ids, cx.wall, self.their_since(id, channel));
        self.send_recalled(cx, from, channel, &found);
    }

    /// Sends messages for catch-up as far as the budget allows.
    fn send_recalled(&mut self, cx: &mut Ctx, to: SocketAddr, channel: &str, kept: &[Kept]) {
        let elapsed = cx.now.saturating_duration_since(self.tokens_at);
        self.tokens_at = cx.now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * SYNC_RATE).min(SYNC_RATE);
        for k in kept {
            let fragments = catchup::fragments(channel, k);
            if fragments.is_empty() {
                continue;
            }
            if self.tokens < fragments.len() as f64 {
                cx.stats.recall_limited += 1;
                continue;
            }
            self.tokens -= fragments.len() as f64;
            cx.stats.recalls_sent += 1;
            for f in fragments {
                cx.send(to, Body::Recalled(f));
            }
        }
    }
}
