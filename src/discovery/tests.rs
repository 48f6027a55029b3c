//! The peer table's deadline index against the scan it replaced.

use std::time::Duration;

use proptest::prelude::*;

use super::*;

/// The peers `me` watches, found by a scan: the [`WATCHED`] ids after it
/// in order, wrapping around.
fn watched_by_scan(table: &PeerTable) -> Vec<NodeId> {
    let ids: Vec<NodeId> = table.peers.keys().copied().collect();
    let first = ids.iter().position(|id| *id > table.me).unwrap_or(0);
    (0..ids.len().min(WATCHED))
        .map(|i| ids[(first + i) % ids.len()])
        .collect()
}

/// A peer's probe and offline silences, with the watched set scanned.
fn limits(table: &PeerTable, id: &NodeId) -> (Duration, Duration) {
    let t = &table.timing;
    if watched_by_scan(table).contains(id) || table.peers[id].told_down {
        (t.suspect_after, t.offline_after)
    } else {
        (t.offline_after, t.offline_after + UNWATCHED_GRACE)
    }
}

/// What [`PeerTable::next_deadline`] was: a scan of every peer. (A probe
/// is never due before the silence reaches the probe time, which an
/// excused gap can move past a suspected peer's next probe.)
fn scanned(table: &PeerTable) -> Option<Instant> {
    let t = &table.timing;
    table
        .peers
        .iter()
        .map(|(id, p)| {
            let (probe_after, offline_after) = limits(table, id);
            let offline = p.last_heard + offline_after;
            let probe = match p.suspect {
                Some(s) => s.next_probe.max(p.last_heard + probe_after),
                None => p.last_heard + probe_after,
            };
            let quiet = if p.quiet {
                offline
            } else {
                p.last_heard + t.suspect_after
            };
            offline.min(probe).min(quiet)
        })
        .min()
}

/// What [`PeerTable::check`] was: every peer looked at, in id order.
fn checked_by_scan(
    table: &mut PeerTable,
    now: Instant,
    mut pick: impl FnMut(usize) -> usize,
) -> Vec<Liveness> {
    let t = table.timing.clone();
    let mut work = Vec::new();
    let helpers: Vec<(NodeId, SocketAddr)> = table
        .peers
        .iter()
        .filter(|(_, p)| p.suspect.is_none())
        .map(|(id, p)| (*id, p.addr))
        .collect();
    let watched = watched_by_scan(table);
    let all_limits: Vec<(Duration, Duration)> =
        table.peers.keys().map(|id| limits(table, id)).collect();
    // An unwatched peer's first probe goes to it alone.
    let through = |id: &NodeId, p: &Peer| {
        p.established() && (watched.contains(id) || p.told_down || p.suspect.is_some())
    };
    let any_due = table
        .peers
        .iter()
        .zip(&all_limits)
        .any(|((id, p), (probe, off))| {
            let silence = now.saturating_duration_since(p.last_heard);
            through(id, p)
                && silence >= *probe
                && silence < *off
                && p.suspect.is_none_or(|s| s.next_probe <= now)
        });
    for ((id, p), (probe_after, offline_after)) in table.peers.iter_mut().zip(all_limits) {
        let silence = now.saturating_duration_since(p.last_heard);
        if silence >= offline_after {
            work.push(Liveness::Offline {
                id: *id,
                watched: watched.contains(id),
            });
            continue;
        }
        if silence >= t.suspect_after && !p.quiet {
            p.quiet = true;
            work.push(Liveness::Quiet(*id));
        }
        if silence < probe_after {
            continue;
        }
        let due = p.suspect.is_none_or(|s| s.next_probe <= now);
        if !due {
            continue;
        }
        let through_others = through(id, p);
        p.suspect = Some(Suspicion {
            next_probe: now + t.probe_interval,
        });
        let mut chosen = Vec::new();
        for _ in 0..(t.indirect_probes * 3) {
            if !any_due
                || !through_others
                || chosen.len() >= t.indirect_probes
                || helpers.is_empty()
            {
                break;
            }
            let (hid, haddr) = helpers[pick(helpers.len())];
            if hid != *id && !chosen.contains(&haddr) {
                chosen.push(haddr);
            }
        }
        work.push(Liveness::Probe {
            target: *id,
            addr: p.addr,
            helpers: chosen,
        });
    }
    work
}

/// Each peer's suspicion, to compare two tables.
fn suspicions(table: &PeerTable) -> Vec<(NodeId, Option<Instant>)> {
    table
        .peers
        .iter()
        .map(|(id, p)| (*id, p.suspect.map(|s| s.next_probe)))
        .collect()
}

/// One change a node makes to its table.
#[derive(Clone, Debug)]
enum Op {
    Presence(u8, u64),
    Heard(u8),
    Doubt(u8),
    /// A watcher's word that it is down (life 1 or 2).
    ToldDown(u8, u64),
    Quit(u8),
    /// The node did not run for this many ms (frozen, asleep).
    Excuse(u64),
    Check,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..12, 1u64..3).prop_map(|(k, e)| Op::Presence(k, e)),
        (0u8..12).prop_map(Op::Heard),
        (0u8..12).prop_map(Op::Doubt),
        (0u8..12, 1u64..3).prop_map(|(k, e)| Op::ToldDown(k, e)),
        (0u8..12).prop_map(Op::Quit),
        (2_000u64..9_000).prop_map(Op::Excuse),
        Just(Op::Check),
    ]
}

fn id(k: u8) -> NodeId {
    NodeId([k; 16])
}

/// The table's own node: between `id(6)` and `id(7)`.
fn me() -> NodeId {
    let mut me = [0xff; 16];
    me[0] = 6;
    NodeId(me)
}

proptest! {
    /// After presences (new peers, restarts), proofs of life, doubts,
    /// departures, excused gaps (a frozen node) and rounds of the failure detector, at any pace, the
    /// index gives the earliest deadline a scan of every peer gives; a
    /// round does what the scan did, with the same random picks; and a
    /// round at that deadline leaves nothing due (no busy wake-ups).
    #[test]
    fn the_index_agrees_with_a_scan(
        ops in proptest::collection::vec((op(), 0u64..2_500), 0..200),
    ) {
        let mut table = PeerTable::new(Timing::default(), me());
        let mut now = Instant::now();
        let mut rng = fastrand::Rng::with_seed(1);
        let addr = |k: u8| SocketAddr::from(([10, 0, 0, k], 4000));
        for (op, step) in ops {
            now += Duration::from_millis(step);
            match op {
                Op::Presence(k, epoch) => {
                    if table.has_room() {
                        table.apply_presence(id(k), epoch, addr(k), &Presence::default(), now);
                    }
                }
                Op::Heard(k) => table.heard(id(k), addr(k), now),
                Op::Doubt(k) => table.doubt(id(k), now),
                Op::ToldDown(k, epoch) => table.told_down(id(k), epoch),
                Op::Quit(k) => {
                    table.depart(id(k), OfflineReason::Quit, now);
                }
                Op::Excuse(gap) => {
                    now += Duration::from_millis(gap);
                    table.excuse(Duration::from_millis(gap), now);
                }
                Op::Check => {
                    // Sometimes when it is due, as the node does; sometimes
                    // at another wake-up.
                    if step % 2 == 0 {
                        now = table.next_deadline().map_or(now, |t| t.max(now));
                    }
                    let mut scan = table.clone();
                    let mut scan_rng = rng.clone();
                    let expected = checked_by_scan(&mut scan, now, |n| scan_rng.usize(..n));
                    let work = table.check(now, |n| rng.usize(..n));
                    prop_assert_eq!(&work, &expected);
                    prop_assert_eq!(suspicions(&table), suspicions(&scan));
                    // Nothing left due but the peers found offline (their
                    // departure may make another peer watched, and due).
                    let gone: Vec<NodeId> = work
                        .iter()
                        .filter_map(|w| match w {
                            Liveness::Offline { id, .. } => Some(*id),
                            _ => None,
                        })
                        .collect();
                    let mut rest = table.clone();
                    for id in &gone {
                        rest.deadlines.remove(id);
                    }
                    prop_assert!(rest.next_deadline().is_none_or(|t| t > now));
                    for id in gone {
                        table.depart(id, OfflineReason::Timeout, now);
                    }
                }
            }
            prop_assert_eq!(table.next_deadline(), scanned(&table));
            prop_assert_eq!(table.deadlines.len(), table.peers.len());
            prop_assert_eq!(&table.watching, &watched_by_scan(&table));
            for (id, p) in &table.peers {
                prop_assert_eq!(p.watched, table.watching.contains(id));
            }
        }
    }
}

/// A peer I do not watch, said to be down by its watcher while I still
/// heard it lately: it is probed and declared offline on the watchers'
/// times, not on the longer ones of a peer nobody reported; heard again,
/// it is back on those.
#[test]
fn a_word_while_i_still_hear_it_puts_a_peer_on_the_watchers_times() {
    let t = Timing::default();
    let start = Instant::now();
    let addr = |k: u8| SocketAddr::from(([10, 0, 0, k], 4000));
    let offline_at = |told: bool| {
        let mut table = PeerTable::new(t.clone(), me());
        // me() watches 7, 8 and 9: 2 is not watched.
        for k in [2, 7, 8, 9] {
            table.apply_presence(id(k), 1, addr(k), &Presence::default(), start);
        }
        assert!(!table.watches(id(2)));
        if told {
            table.told_down(id(2), 1);
            // A word about another life says nothing of this one.
            table.told_down(id(7), 2);
        }
        loop {
            let now = table.next_deadline().expect("a deadline");
            // The watched ones keep talking.
            for k in [7, 8, 9] {
                table.heard(id(k), addr(k), now);
            }
            let work = table.check(now, |n| n - 1);
            if work
                .iter()
                .any(|w| matches!(w, Liveness::Offline { id: gone, .. } if *gone == id(2)))
            {
                return now - start;
            }
        }
    };
    assert_eq!(offline_at(false), t.offline_after + UNWATCHED_GRACE);
    assert_eq!(offline_at(true), t.offline_after);

    let mut table = PeerTable::new(t.clone(), me());
    table.apply_presence(id(2), 1, addr(2), &Presence::default(), start);
    for k in [7, 8, 9] {
        table.apply_presence(id(k), 1, addr(k), &Presence::default(), start);
    }
    table.told_down(id(2), 1);
    table.heard(id(2), addr(2), start + Duration::from_secs(1));
    assert!(!table.peers[&id(2)].told_down);
}

/// An established peer I do not watch is probed at first directly only,
/// through helpers from the next round on; a peer I watch goes through
/// helpers at once.
#[test]
fn an_unwatched_peer_is_probed_alone_first_and_through_helpers_next() {
    let t = Timing::default();
    let start = Instant::now();
    let addr = |k: u8| SocketAddr::from(([10, 0, 0, k], 4000));
    let mut table = PeerTable::new(t.clone(), me());
    // me() watches 7, 8 and 9: 2 is not watched.
    for k in [2, 3, 4, 7, 8, 9] {
        table.apply_presence(id(k), 1, addr(k), &Presence::default(), start);
        for _ in 0..ESTABLISHED {
            table.heard(id(k), addr(k), start);
        }
    }
    let mut rounds: Vec<(NodeId, usize)> = Vec::new();
    let mut pick = 0;
    let probes_of =
        |rounds: &[(NodeId, usize)], k: u8| rounds.iter().filter(|(p, _)| *p == id(k)).count();
    for _ in 0..100 {
        if probes_of(&rounds, 2) >= 2 {
            break;
        }
        let now = table.next_deadline().expect("a deadline");
        // All but 2 keep talking; 7 falls silent until it is probed once.
        for k in [3, 4, 8, 9] {
            table.heard(id(k), addr(k), now);
        }
        if probes_of(&rounds, 7) > 0 {
            table.heard(id(7), addr(7), now);
        }
        for w in table.check(now, |n| {
            pick += 1;
            pick % n
        }) {
            if let Liveness::Probe {
                target, helpers, ..
            } = w
            {
                rounds.push((target, helpers.len()));
            }
        }
    }
    let of = |k: u8| -> Vec<usize> {
        rounds
            .iter()
            .filter(|(p, _)| *p == id(k))
            .map(|(_, h)| *h)
            .collect()
    };
    assert_eq!(of(2), vec![0, t.indirect_probes]);
    assert_eq!(of(7), vec![t.indirect_probes]);
}
