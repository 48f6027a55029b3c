//! Channels: the ones this node is in (with its send log and the topic),
//! and the receive streams of every other sender in them.
//!
//! Delivery follows DESIGN.md: per-sender, per-channel sequence numbers;
//! gaps found from later messages and from the tail each sender advertises;
//! NACK repair from the sender or any holder; order held per sender.

mod stream;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

pub(crate) use stream::{Arrival, Stream};

use crate::deadlines::Deadlines;
use crate::types::NodeId;
use crate::wire::{ChannelMsg, ChannelState, TopicInfo};

/// Own datagrams kept per channel to answer repair requests.
pub const SEND_LOG: usize = 2048;
/// Most delivered datagrams kept for repair by all streams together.
pub const MAX_KEPT_TOTAL: usize = 65_536;
/// Most out-of-order datagrams held by all streams together.
pub const MAX_HELD_TOTAL: usize = 16_384;
/// Held datagrams in one stream from which the total is checked.
const CHECK_TOTAL_ABOVE: usize = 64;
/// Most receive streams (sender × channel) at once.
pub const MAX_STREAMS: usize = 4096;

/// A channel this node is in.
#[derive(Debug, Default)]
pub(crate) struct Joined {
    /// Sequence number of the last datagram sent (0: none).
    pub(crate) tail: u64,
    /// Own recent datagrams with the time each was last resent.
    log: VecDeque<(ChannelMsg, Option<Instant>)>,
    /// The newest topic known.
    pub(crate) topic: Option<TopicInfo>,
    /// When the topic was last asked of a peer.
    pub(crate) topic_asked: Option<Instant>,
}

impl Joined {
    /// Numbers and logs an outgoing datagram.
    pub(crate) fn record(&mut self, mut msg: ChannelMsg) -> ChannelMsg {
        self.tail += 1;
        msg.seq = self.tail;
        if self.log.len() >= SEND_LOG {
            self.log.pop_front();
        }
        self.log.push_back((msg.clone(), None));
        msg
    }

    /// Oldest sequence number still held (0 if none sent).
    pub(crate) fn oldest(&self) -> u64 {
        self.log.front().map_or(self.tail + 1, |(m, _)| m.seq)
    }

    /// A logged datagram to resend, unless it was resent within `spacing`
    /// (many receivers asking for one loss get one resend).
    pub(crate) fn resend(
        &mut self,
        seq: u64,
        now: Instant,
        spacing: std::time::Duration,
    ) -> Option<ChannelMsg> {
        let first = self.log.front()?.0.seq;
        let idx = usize::try_from(seq.checked_sub(first)?).ok()?;
        let (msg, last) = self.log.get_mut(idx)?;
        if last.is_some_and(|t| now < t + spacing) {
            return None;
        }
        *last = Some(now);
        Some(msg.clone())
    }

    /// Topic stamp advertised in presence.
    pub(crate) fn topic_stamp(&self) -> u64 {
        self.topic.as_ref().map_or(0, |t| t.stamp)
    }
}

/// Key of a receive stream.
pub(crate) type StreamKey = (NodeId, u64, String);

/// Channels joined and streams received.
#[derive(Debug, Default)]
pub struct Channels {
    pub(crate) joined: BTreeMap<String, Joined>,
    streams: BTreeMap<StreamKey, Stream>,
    /// Each stream's NACK timer, so the earliest is found without a scan
    /// of every stream (asked after every datagram). Private like the
    /// streams: a timer only changes through the methods here.
    nacks: Deadlines<StreamKey>,
    /// Datagrams each stream keeps for repair now.
    keep: usize,
}

impl Channels {
    /// What presence advertises: each channel with its tail and topic stamp.
    pub(crate) fn states(&self) -> Vec<ChannelState> {
        self.joined
            .iter()
            .map(|(name, j)| ChannelState {
                name: name.clone(),
                tail: j.tail,
                topic_stamp: j.topic_stamp(),
            })
            .collect()
    }

    /// The stream of `key`, if there is one.
    pub(crate) fn get(&self, key: &StreamKey) -> Option<&Stream> {
        self.streams.get(key)
    }

    /// The stream of `key`, to take in or give out datagrams (its NACK
    /// timer changes with [`Channels::arm`], [`Channels::nacked`] and
    /// [`Channels::suppress`]).
    pub(crate) fn get_mut(&mut self, key: &StreamKey) -> Option<&mut Stream> {
        self.streams.get_mut(key)
    }

    /// Every stream, by key.
    pub(crate) fn streams(&self) -> impl Iterator<Item = (&StreamKey, &Stream)> {
        self.streams.iter()
    }

    /// The stream of `key`, created starting at `base` if there is room.
    pub(crate) fn stream(&mut self, key: StreamKey, base: u64) -> Option<&mut Stream> {
        if !self.streams.contains_key(&key) {
            if self.streams.len() >= MAX_STREAMS {
                return None;
            }
            tracing::debug!(sender = %key.0, channel = %key.2, base, "stream started");
            let mut stream = Stream::new(base);
            stream.limit_kept(self.keep_per_stream(self.streams.len() + 1));
            self.streams.insert(key.clone(), stream);
            self.share_kept();
        }
        self.streams.get_mut(&key)
    }

    /// Datagrams each stream keeps for repair when there are `streams`:
    /// all together keep at most [`MAX_KEPT_TOTAL`].
    fn keep_per_stream(&self, streams: usize) -> usize {
        (MAX_KEPT_TOTAL / streams.max(1)).min(stream::KEEP_FOR_REPAIR)
    }

    /// Re-divides the repair budget after the number of streams changed.
    fn share_kept(&mut self) {
        let keep = self.keep_per_stream(self.streams.len());
        if keep != self.keep {
            self.keep = keep;
            for s in self.streams.values_mut() {
                s.limit_kept(keep);
            }
        }
    }

    /// Whether `key` may not hold more out-of-order datagrams: it holds many
    /// and all streams together hold [`MAX_HELD_TOTAL`]. Counting is only
    /// done for a stream that already holds many, which is rare.
    pub(crate) fn crowded(&self, key: &StreamKey) -> bool {
        self.streams
            .get(key)
            .is_some_and(|s| s.held_len() >= CHECK_TOTAL_ABOVE)
            && self.streams.values().map(Stream::held_len).sum::<usize>() >= MAX_HELD_TOTAL
    }

    /// Drops the streams of one life of a node.
    pub(crate) fn forget_life(&mut self, id: NodeId, epoch: u64) {
        let nacks = &mut self.nacks;
        self.streams.retain(|key, _| {
            let keep = !(key.0 == id && key.1 == epoch);
            if !keep {
                nacks.remove(key);
            }
            keep
        });
    }

    /// Drops the streams of a channel this node left.
    pub(crate) fn forget_channel(&mut self, channel: &str) {
        let nacks = &mut self.nacks;
        self.streams.retain(|key, _| {
            let keep = key.2 != channel;
            if !keep {
                nacks.remove(key);
            }
            keep
        });
        self.share_kept();
    }

    /// Arms or disarms the NACK timer of a stream after it changed
    /// ([`Stream::arm`]).
    pub(crate) fn arm(&mut self, key: &StreamKey, now: Instant, delay: Duration) {
        if let Some(s) = self.streams.get_mut(key) {
            let before = s.nack_at();
            s.arm(now, delay);
            // Usually no gap before or after (every datagram comes here):
            // the index is left alone.
            if s.nack_at() != before {
                self.nacks.set(key, s.nack_at());
            }
        }
    }

    /// Records that a NACK was sent for a stream ([`Stream::nacked`]).
    pub(crate) fn nacked(&mut self, key: &StreamKey, now: Instant, retry: Duration) {
        if let Some(s) = self.streams.get_mut(key) {
            s.nacked(now, retry);
            self.nacks.set(key, s.nack_at());
        }
    }

    /// Someone else asked for what a stream misses ([`Stream::suppress`]).
    pub(crate) fn suppress(
        &mut self,
        key: &StreamKey,
        now: Instant,
        hold: Duration,
        their_ranges: &[(u64, u64)],
    ) {
        if let Some(s) = self.streams.get_mut(key) {
            s.suppress(now, hold, their_ranges);
            self.nacks.set(key, s.nack_at());
        }
    }

    /// The streams whose NACK timer has come, in key order.
    pub(crate) fn nacks_due(&self, now: Instant) -> Vec<StreamKey> {
        self.nacks.due(now)
    }

    /// Earliest NACK timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.nacks.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{MessageKind, MsgId};

    #[test]
    fn repair_memory_is_shared_across_streams() {
        let mut channels = Channels::default();
        let mut total = 0;
        for n in 0..MAX_STREAMS as u32 {
            let key = (NodeId(u128::from(n).to_be_bytes()), 1, "#Main".to_string());
            let stream = channels.stream(key, 1).expect("room");
            for seq in 1..=300 {
                stream.receive(
                    ChannelMsg {
                        channel: "#Main".into(),
                        seq,
                        id: MsgId([1; 16]),
                        hlc: 0,
                        kind: MessageKind::Text,
                        part: 0,
                        parts: 1,
                        text: String::new(),
                        sig: Vec::new(),
                    },
                    &[0; 1000],
                    false,
                );
            }
            stream.ready();
            if n % 512 == 0 {
                total = channels
                    .streams
                    .values()
                    .map(Stream::kept_len)
                    .sum::<usize>();
                assert!(
                    total <= MAX_KEPT_TOTAL + stream::KEEP_FOR_REPAIR,
                    "{total} kept"
                );
            }
        }
        total = total.max(
            channels
                .streams
                .values()
                .map(Stream::kept_len)
                .sum::<usize>(),
        );
        assert!(
            total <= MAX_KEPT_TOTAL + stream::KEEP_FOR_REPAIR,
            "{total} kept"
        );
        assert!(
            channels
                .stream((NodeId([0xff; 16]), 1, "#x".into()), 1)
                .is_none()
        );
    }

    /// Streams whose timers change by every path there is: the index gives
    /// the earliest timer and the due streams a scan of every stream gives.
    #[test]
    fn the_nack_index_agrees_with_a_scan() {
        let t0 = Instant::now();
        let mut rng = fastrand::Rng::with_seed(5);
        let mut channels = Channels::default();
        let names = ["#Main", "#b"];
        let msg = |channel: &str, seq: u64| ChannelMsg {
            channel: channel.into(),
            seq,
            id: MsgId([seq as u8; 16]),
            hlc: seq,
            kind: MessageKind::Text,
            part: 0,
            parts: 1,
            text: String::new(),
            sig: Vec::new(),
        };
        for round in 0..5_000u64 {
            let now = t0 + Duration::from_millis(round * 7);
            let channel = names[rng.usize(..names.len())];
            let key = (
                NodeId([rng.u8(..8); 16]),
                rng.u64(1..3),
                channel.to_string(),
            );
            let delay = Duration::from_millis(rng.u64(..200));
            match rng.u8(..10) {
                0..=3 => {
                    if let Some(s) = channels.stream(key.clone(), 1) {
                        s.receive(msg(channel, rng.u64(1..12)), &[0; 8], false);
                        s.ready();
                    }
                    channels.arm(&key, now, delay);
                }
                4 => channels.nacked(&key, now, delay),
                5 => channels.suppress(&key, now, delay, &[(1, 20)]),
                6 => {
                    if let Some(s) = channels.get_mut(&key) {
                        s.skip_gap();
                    }
                    channels.arm(&key, now, delay);
                }
                7 => channels.forget_life(key.0, key.1),
                8 if round % 50 == 0 => channels.forget_channel(channel),
                _ => {
                    for key in channels.nacks_due(now) {
                        channels.nacked(&key, now, delay);
                    }
                }
            }
            let scan = channels.streams.values().filter_map(Stream::nack_at).min();
            assert_eq!(channels.next_deadline(), scan, "round {round}");
            let due: Vec<StreamKey> = channels
                .streams
                .iter()
                .filter(|(_, s)| s.nack_at().is_some_and(|t| t <= now))
                .map(|(k, _)| k.clone())
                .collect();
            assert_eq!(channels.nacks_due(now), due, "round {round}");
        }
    }
}
