//! Putting together catch-up messages from their fragments, which (unlike a
//! stream's) may come in any order, twice, or not at all.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::Kept;
use crate::types::MsgId;
use crate::wire::Recalled;

/// Most messages being put together at once.
pub(crate) const MAX_GATHERING: usize = 64;
/// A message whose fragments stop coming is dropped after this long (the
/// next sync asks for it again).
const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Partial {
    first: Recalled,
    parts: Vec<Option<String>>,
    have: usize,
    started: Instant,
}

/// Messages being put together, by id and claimed author signature (so a
/// made-up fragment under a real id cannot spoil the real message: it is
/// gathered apart, and fails its check when complete).
#[derive(Debug, Default)]
pub(crate) struct Gathering {
    partial: BTreeMap<(MsgId, Vec<u8>), Partial>,
}

impl Gathering {
    /// Takes one fragment; returns the channel and the message when it is
    /// complete.
    pub(crate) fn push(&mut self, now: Instant, r: Recalled) -> Option<(String, Kept)> {
        if r.parts == 1 {
            return Some(finish(r, String::new()));
        }
        self.partial
            .retain(|_, p| now.saturating_duration_since(p.started) < PATIENCE);
        let key = (r.id, r.author.clone());
        if !self.partial.contains_key(&key) && self.partial.len() >= MAX_GATHERING {
            let oldest = self
                .partial
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(key, _)| key.clone())?;
            self.partial.remove(&oldest);
        }
        let entry = self.partial.entry(key.clone()).or_insert_with(|| Partial {
            parts: vec![None; usize::from(r.parts)],
            have: 0,
            started: now,
            first: Recalled {
                text: String::new(),
                ..r.clone()
            },
        });
        let same = entry.first.parts == r.parts
            && entry.first.hlc == r.hlc
            && entry.first.origin == r.origin
            && entry.first.kind == r.kind
            && entry.first.author == r.author;
        let slot = entry.parts.get_mut(usize::from(r.part))?;
        if !same || slot.is_some() {
            return None;
        }
        *slot = Some(r.text);
        entry.have += 1;
        if entry.have < entry.parts.len() {
            return None;
        }
        let p = self.partial.remove(&key)?;
        let text: String = p.parts.into_iter().flatten().collect();
        Some(finish(p.first, text))
    }
}

fn finish(r: Recalled, text: String) -> (String, Kept) {
    let text = if r.parts == 1 { r.text } else { text };
    (
        r.channel,
        Kept {
            id: r.id,
            from: r.origin,
            nick: r.nick,
            kind: r.kind,
            text,
            hlc: r.hlc,
            arrived_ms: 0,
            author: crate::envelope::AuthorSig::from_bytes(&r.author),
        },
    )
}

/// The fragments that carry a kept message.
/// None for a message without its author's signature (kept before
/// messages were signed): nobody would take it.
pub(crate) fn fragments(channel: &str, k: &Kept) -> Vec<Recalled> {
    let Some(author) = k.author else {
        return Vec::new();
    };
    let author = author.to_bytes().to_vec();
    let pieces = crate::wire::split_text(&k.text);
    let parts = pieces.len() as u16;
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, text)| Recalled {
            channel: channel.to_string(),
            origin: k.from,
            nick: k.nick.clone(),
            id: k.id,
            hlc: k.hlc,
            kind: k.kind,
            part: i as u16,
            parts,
            text: text.to_string(),
            author: author.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{MessageKind, NodeId};

    fn long() -> Kept {
        Kept {
            id: MsgId([3; 16]),
            from: NodeId([1; 16]),
            nick: "ann".into(),
            kind: MessageKind::Text,
            text: "ж".repeat(1500),
            author: Some(crate::envelope::AuthorSig {
                key: crate::envelope::PublicKey([1; 32]),
                sig: [2; 64],
            }),
            hlc: 42,
            arrived_ms: 0,
        }
    }

    #[test]
    fn fragments_in_any_order_and_twice_make_the_message_once() {
        let now = Instant::now();
        let mut g = Gathering::default();
        let mut frags = fragments("#Main", &long());
        assert_eq!(frags.len(), 4);
        frags.reverse();
        let dup = frags[0].clone();
        let mut done = Vec::new();
        for f in frags.into_iter().chain([dup]) {
            done.extend(g.push(now, f));
        }
        assert_eq!(done, vec![("#Main".to_string(), long())]);
    }

    #[test]
    fn unfinished_messages_are_bounded_and_expire() {
        let now = Instant::now();
        let mut g = Gathering::default();
        for n in 0..(MAX_GATHERING as u8 + 10) {
            let mut k = long();
            k.id = MsgId([n; 16]);
            g.push(now, fragments("#Main", &k).remove(0));
        }
        assert_eq!(g.partial.len(), MAX_GATHERING);
        let mut k = long();
        k.id = MsgId([200; 16]);
        g.push(now + PATIENCE, fragments("#Main", &k).remove(0));
        assert_eq!(g.partial.len(), 1);
    }
}
