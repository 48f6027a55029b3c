//! The outbox's index of resends against the scans it replaced.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

/// What [`Outbox::next_deadline`] was: a scan of every stream.
fn scanned(out: &Outbox, online: impl Fn(NodeId) -> bool) -> Option<Instant> {
    out.streams
        .iter()
        .filter(|(id, _)| online(**id))
        .flat_map(|(_, s)| s.pending.values().map(|p| p.next_at))
        .min()
}

/// What [`Outbox::due`] was: every fragment of every stream looked at.
fn due_by_scan(
    out: &mut Outbox,
    now: Instant,
    timing: &Timing,
    online: impl Fn(NodeId) -> bool,
) -> Vec<OutboxNews> {
    let mut news = Vec::new();
    for (to, stream) in out.streams.iter_mut() {
        if !online(*to) {
            continue;
        }
        let base = stream
            .pending
            .keys()
            .next()
            .copied()
            .unwrap_or(stream.next_seq + 1);
        for p in stream.pending.values_mut() {
            if p.next_at > now {
                continue;
            }
            p.tries += 1;
            p.next_at = now + p.rto;
            p.rto = p.rto.mul_f64(1.25).min(timing.dm_rto_max);
            let mut msg = p.msg.clone();
            msg.base = base;
            news.push(OutboxNews::Send(*to, msg));
            if p.tries > timing.dm_tries_before_queued
                && let Some(prog) = stream.progress.get_mut(&p.msg.id)
                && !prog.queued_reported
            {
                prog.queued_reported = true;
                news.push(OutboxNews::Queued(*to, p.msg.id));
            }
        }
    }
    news
}

/// Every pending fragment's schedule, to compare two outboxes.
fn schedule(out: &Outbox) -> Vec<(NodeId, u64, Instant, u32, Duration)> {
    out.streams
        .iter()
        .flat_map(|(to, s)| {
            s.pending
                .iter()
                .map(|(seq, p)| (*to, *seq, p.next_at, p.tries, p.rto))
        })
        .collect()
}

/// What happens around an outbox, as the node makes it happen.
#[derive(Clone, Debug)]
enum Op {
    /// A message of this many fragments to a peer.
    Push(u8, usize),
    /// The peer acknowledges its n-th pending fragment.
    Ack(u8, usize),
    Online(u8),
    Offline(u8),
    Due,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3, 1usize..4).prop_map(|(k, n)| Op::Push(k, n)),
        (0u8..3, 0usize..4).prop_map(|(k, n)| Op::Ack(k, n)),
        (0u8..3).prop_map(Op::Online),
        (0u8..3).prop_map(Op::Offline),
        Just(Op::Due),
        Just(Op::Due),
    ]
}

fn node(k: u8) -> NodeId {
    NodeId([k; 16])
}

proptest! {
    // A wrong index shows only after a few particular steps in a row.
    #![proptest_config(ProptestConfig::with_cases(2_048))]

    /// Whatever is sent, acknowledged and resent while peers come and go,
    /// the index gives the earliest resend a scan gives, and a round sends
    /// what the scan sent, in the same order, with the same schedule after.
    #[test]
    fn the_index_agrees_with_a_scan(
        ops in proptest::collection::vec((op(), 0u64..3_000), 0..250),
    ) {
        let timing = Timing::default();
        let mut out = Outbox::default();
        let mut now = Instant::now();
        let mut online = BTreeSet::new();
        let mut n = 0u8;
        for (op, step) in ops {
            now += Duration::from_millis(step);
            match op {
                Op::Push(k, parts) => {
                    n = n.wrapping_add(1);
                    let text = "x".repeat((parts - 1) * 780 + 1);
                    let draft = Draft { id: MsgId([n; 16]), hlc: 0, kind: MessageKind::Text, text: &text };
                    prop_assert!(out.push(now, &timing, node(k), draft).is_ok());
                    if !online.contains(&node(k)) {
                        out.peer_offline(node(k));
                    }
                }
                Op::Ack(k, i) => {
                    let seq = out
                        .streams
                        .get(&node(k))
                        .and_then(|s| s.pending.keys().nth(i).copied());
                    if let Some(seq) = seq {
                        out.ack(node(k), seq);
                    }
                }
                Op::Online(k) => {
                    if online.insert(node(k)) {
                        out.peer_online(node(k), now, &timing);
                    }
                }
                Op::Offline(k) => {
                    if online.remove(&node(k)) {
                        out.peer_offline(node(k));
                    }
                }
                Op::Due => {
                    if step % 2 == 0 {
                        let here = |id: NodeId| online.contains(&id);
                        now = out.next_deadline(here).map_or(now, |t| t.max(now));
                    }
                    let mut scan = out.clone();
                    let expected = due_by_scan(&mut scan, now, &timing, |id| online.contains(&id));
                    let news = out.due(now, &timing, |id| online.contains(&id));
                    prop_assert_eq!(news, expected);
                    prop_assert_eq!(schedule(&out), schedule(&scan));
                    let next = out.next_deadline(|id| online.contains(&id));
                    prop_assert!(next.is_none_or(|t| t > now));
                }
            }
            let here = |id: NodeId| online.contains(&id);
            prop_assert_eq!(out.next_deadline(here), scanned(&out, here));
        }
    }
}
