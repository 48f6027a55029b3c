//! A large flat office (issue 16): sixty real nodes on one switch, started
//! together, one per 100 ms, and together at 10 % loss. Each time every
//! node must see every other within 3 s of the last start, none may be
//! reported offline in the minute after, and idle traffic must go by the
//! group (the share of unicast datagrams is printed).
//!
//! Forty nodes started together used to collapse on this bed: every
//! namespace shares the kernel's neighbour (ARP) table, 1,024 entries in
//! all by default, and the last hosts to start could create none, so all
//! they sent was dropped and they saw nobody. A bed now raises those
//! limits to what its hosts would have as separate PCs (`bed.rs`).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use super::bed::{Lan, Topology, Ways};
use super::{START, figure, is_offline};
use crate::util::{Peer, event, heavy};

/// Nodes in each case (`LANCHAT_SCALE_NODES` overrides, for a bench run
/// at another size).
const NODES: usize = 60;
/// Every node sees every other within this of the last start.
const ALL_SEE_ALL: Duration = Duration::from_secs(3);
/// How long a miss is waited for, so a failure prints its figures.
const PATIENCE: Duration = Duration::from_secs(20);
/// How long the idle LAN is watched for false offlines.
const WATCH: Duration = Duration::from_secs(60);

/// One way to start the office.
struct Case {
    name: &'static str,
    /// Between two starts.
    stagger: Duration,
    /// Loss at every host, in percent.
    loss: u8,
    /// A bridge as `ip link add … type bridge` makes it (snooping on).
    default_bridge: bool,
}

fn nodes() -> usize {
    std::env::var("LANCHAT_SCALE_NODES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(NODES)
}

/// Which nodes each node has online now, by id, from its events so far.
fn online(peer: &mut Peer) -> HashSet<String> {
    let mut online = HashSet::new();
    for (_, v) in peer.backlog() {
        let Some(id) = v["node"].as_str() else {
            continue;
        };
        if v["event"] == "peer_online" {
            online.insert(id.to_string());
        } else if is_offline(v) {
            online.remove(id);
        }
    }
    online
}

fn office(case: &Case) {
    let _heavy = heavy();
    let n = nodes();
    let topology = if case.default_bridge {
        Topology::default_bridge(n)
    } else {
        Topology::switch(n)
    };
    let Some(lan) = Lan::build(&topology) else {
        return;
    };
    for i in 0..n {
        lan.count_ways(i);
        if case.loss > 0 {
            lan.loss(i, case.loss);
        }
    }
    // Sixty debug logs would cost more CPU than the nodes themselves.
    let log = [("RUST_LOG", Path::new("lanchat=info"))];
    let mut peers = Vec::new();
    let first = Instant::now();
    for i in 0..n {
        if i > 0 {
            std::thread::sleep(case.stagger);
        }
        let netns = lan.host(i);
        peers.push(Peer::spawn_with_env(
            &netns,
            &format!("n{i}"),
            None,
            &[],
            &log,
        ));
    }
    let last_start = Instant::now();
    let mut ids = Vec::new();
    for peer in &mut peers {
        let (_, ready) = peer.expect_event("ready", event("ready", &[]), START);
        ids.push(ready["node"].as_str().expect("node id").to_string());
    }
    let everyone: HashSet<String> = ids.iter().cloned().collect();
    // Poll until all see all (or patience runs out), noting when.
    let missing = |peers: &mut Vec<Peer>| -> Vec<(usize, usize)> {
        let mut missing = Vec::new();
        for (i, peer) in peers.iter_mut().enumerate() {
            let online = online(peer);
            for (j, id) in ids.iter().enumerate() {
                if i != j && !online.contains(id) {
                    missing.push((i, j));
                }
            }
        }
        missing
    };
    let all_seen = loop {
        let left = missing(&mut peers);
        if left.is_empty() {
            break Some(last_start.elapsed());
        }
        if last_start.elapsed() > PATIENCE {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // When each pair was first seen, for the slowest figure.
    let mut latest = Duration::ZERO;
    for peer in &mut peers {
        let mut first_seen: HashMap<&str, Instant> = HashMap::new();
        for (at, v) in peer.backlog() {
            if v["event"] == "peer_online"
                && let Some(id) = v["node"].as_str()
                && let Some(id) = everyone.get(id)
            {
                first_seen.entry(id.as_str()).or_insert(*at);
            }
        }
        for at in first_seen.values() {
            latest = latest.max(at.saturating_duration_since(last_start));
        }
    }
    let left = missing(&mut peers);
    let start_span = last_start - first;
    figure(
        case.name,
        &format!(
            "{n} nodes started over {} ms: {}; slowest first sighting {} ms after the last start; \
             {} of {} pairs missing",
            start_span.as_millis(),
            all_seen.map_or_else(
                || format!("not all saw all within {PATIENCE:?}"),
                |t| format!("all saw all {} ms after the last start", t.as_millis())
            ),
            latest.as_millis(),
            left.len(),
            n * (n - 1),
        ),
    );
    assert!(
        left.is_empty(),
        "{} pairs (seer, seen) missing, e.g. {:?}",
        left.len(),
        &left[..left.len().min(20)]
    );
    let all_seen = all_seen.expect("all saw all");
    assert!(
        all_seen <= ALL_SEE_ALL,
        "all saw all only {all_seen:?} after the last start"
    );

    // The idle minute: nobody goes offline, and the group carries it.
    let ways_before: Vec<Ways> = (0..n).map(|i| lan.ways(i)).collect();
    let bytes_before: Vec<u64> = (0..n).map(|i| lan.counters(i).tx_bytes).collect();
    let offline_before: Vec<usize> = peers
        .iter_mut()
        .map(|p| p.backlog().iter().filter(|(_, v)| is_offline(v)).count())
        .collect();
    let watch_start = Instant::now();
    std::thread::sleep(WATCH);
    let watched = watch_start.elapsed().as_secs_f64();
    let mut ways = Ways::default();
    let mut bytes = 0;
    for i in 0..n {
        ways = ways + (lan.ways(i) - ways_before[i]);
        bytes += lan.counters(i).tx_bytes - bytes_before[i];
    }
    let mut false_offline = 0;
    for (peer, before) in peers.iter_mut().zip(&offline_before) {
        false_offline += peer.backlog().iter().filter(|(_, v)| is_offline(v)).count() - before;
    }
    let total = (ways.multicast + ways.broadcast + ways.unicast).max(1);
    let unicast_share = ways.unicast as f64 / total as f64;
    figure(
        case.name,
        &format!(
            "idle {watched:.0} s: {false_offline} false peer_offline; per node {:.0} B/s on the wire, \
             {:.2} datagrams/s ({:.2} multicast, {:.2} broadcast, {:.2} unicast); unicast share {:.1} %",
            bytes as f64 / n as f64 / watched,
            total as f64 / n as f64 / watched,
            ways.multicast as f64 / n as f64 / watched,
            ways.broadcast as f64 / n as f64 / watched,
            ways.unicast as f64 / n as f64 / watched,
            unicast_share * 100.0,
        ),
    );
    // The unicast share is stated, not bounded: this minute follows the
    // start, and on this bed it is 37–53 % (3cc53dc): each node pings each
    // new peer once to learn that it hears it (and is answered), and
    // compares history with a few new ones. At steady idle a node sends
    // about 0.07 unicast datagrams a second (BENCHMARKS.md, 30 nodes).
    assert_eq!(false_offline, 0, "false peer_offline in the idle minute");
}

// 1.5-2.4 s after the last start on this bed since pacing, the later
// suspicion and batched wake-ups (2.2-3.3 s before, 2.4 s at 42cde81).
#[test]
fn sixty_nodes_started_together_all_see_all_within_3_s() {
    office(&Case {
        name: "scale, started together",
        stagger: Duration::ZERO,
        loss: 0,
        default_bridge: false,
    });
}

#[test]
fn sixty_nodes_started_100_ms_apart_on_a_default_bridge_all_see_all_within_3_s() {
    office(&Case {
        name: "scale, one per 100 ms, default bridge",
        stagger: Duration::from_millis(100),
        loss: 0,
        default_bridge: true,
    });
}

// 1.5-1.9 s after the last start on this bed since the later suspicion
// (4.6-5.7 s before: probes and refutations crowded the start).
#[test]
fn sixty_nodes_started_together_at_10_percent_loss_all_see_all_within_3_s() {
    office(&Case {
        name: "scale, started together, 10 % loss",
        stagger: Duration::ZERO,
        loss: 10,
        default_bridge: false,
    });
}
