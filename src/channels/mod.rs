//! Channels: the ones this node is in (with its send log and the topic),
//! and the receive streams of every other sender in them.
//!
//! Delivery follows DESIGN.md: per-sender, per-channel sequence numbers;
//! gaps found from later messages and from the tail each sender advertises;
//! NACK repair from the sender or any holder; order held per sender.

mod stream;

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

pub(crate) use stream::{Arrival, Stream};

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
    pub(crate) streams: BTreeMap<StreamKey, Stream>,
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
        self.streams
            .retain(|(n, e, _), _| !(*n == id && *e == epoch));
    }

    /// Drops the streams of a channel this node left.
    pub(crate) fn forget_channel(&mut self, channel: &str) {
        self.streams.retain(|(_, _, c), _| c != channel);
        self.share_kept();
    }

    /// Earliest NACK timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.streams.values().filter_map(Stream::nack_at).min()
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
}
