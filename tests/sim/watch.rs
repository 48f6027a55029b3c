//! Who watches whom (issue 16, items 4 and 5): each node probes only the
//! few peers that follow it in node-id order, and tells the group when one
//! of them is gone. A lost heartbeat then costs probes at a few nodes, not
//! at every node on the LAN, and a watcher's word takes offline only a
//! peer the others have not heard either.

use std::time::Duration;

use lanchat::Node;
use lanchat::protocol::CoreEvent;
use lanchat::wire::{Body, Packet};

use super::net::{Faults, Sim, open, seal};
use super::secs;

/// Probes sent per node per second over `window` of idle, after `n` nodes
/// at `loss` found each other; and the offline events in that window.
fn probe_rate(n: usize, loss: f64, window: f64) -> (f64, usize) {
    let mut sim = Sim::new(0x3a7c + n as u64, Faults::lossy(loss));
    for i in 0..n {
        sim.add(&format!("p{i}"));
    }
    sim.run_until(secs(12.0));
    for i in 0..n {
        let seen = sim.node(i).expect("alive").peers().len();
        assert_eq!(seen, n - 1, "host {i} sees {seen} peers");
    }
    let probes = |sim: &Sim| -> u64 {
        (0..n)
            .filter_map(|i| sim.node(i))
            .map(|node: &Node| node.stats().probes_sent)
            .sum()
    };
    let (before, from) = (probes(&sim), sim.elapsed());
    sim.run_until(from + secs(window));
    let offline = (0..n)
        .flat_map(|i| sim.events(i, from))
        .filter(|e| matches!(e, CoreEvent::PeerOffline { .. }))
        .count();
    let rate = (probes(&sim) - before) as f64 / window / n as f64;
    (rate, offline)
}

/// At 20 % loss two heartbeats in a row are lost for one peer in 25. If
/// every node probed every peer it missed, a node among 40 would probe
/// about 5.6 times as often as one among 8 (and 1,000 peers would storm).
/// Watching three peers each, the rate per node is about the same at any
/// size (a little more among many: the rare peer its watchers' word about
/// did not reach is probed by the others too).
#[test]
fn probes_per_node_do_not_grow_with_the_peers() {
    let (few, offline_few) = probe_rate(8, 0.2, 40.0);
    let (many, offline_many) = probe_rate(40, 0.2, 40.0);
    println!(
        "probes per node per second at 20 % loss: {few:.2} among 8, {many:.2} among 40; \
         offline events {offline_few} and {offline_many}"
    );
    assert_eq!(offline_few + offline_many, 0, "a false offline");
    assert!(few > 0.0, "no probe at all among 8: the loss did not bite");
    assert!(
        many <= few * 2.5,
        "among 40 a node probes {many:.2}/s, among 8 {few:.2}/s"
    );
}

/// Starts `n` nodes on a clean LAN and lets them find each other.
fn clean(n: usize) -> Sim {
    let mut sim = Sim::new(0x3a7c, Faults::none());
    for i in 0..n {
        sim.add(&format!("p{i}"));
    }
    sim.run_until(secs(3.0));
    sim
}

/// `Body::Down` about `peer` signed by `watcher`, as the watcher sends it.
fn down(sim: &Sim, watcher: usize, peer: usize) -> Vec<u8> {
    let node = sim.node(peer).expect("alive");
    let packet = Packet {
        from: sim.id(watcher),
        epoch: sim.node(watcher).expect("alive").epoch(),
        body: Body::Down {
            peer: node.id(),
            epoch: node.epoch(),
        },
    };
    seal(&sim.keys(watcher), &packet)
}

#[test]
fn a_watchers_word_does_not_take_offline_a_peer_i_hear() {
    let mut sim = clean(4);
    let word = down(&sim, 1, 2);
    let at = sim.elapsed();
    sim.inject(0, sim.addr(1), &word);
    sim.run_until(at + secs(2.0));
    let offline = sim
        .events(0, at)
        .into_iter()
        .filter(|e| matches!(e, CoreEvent::PeerOffline { .. }))
        .count();
    assert_eq!(offline, 0);
    assert_eq!(sim.node(0).expect("alive").stats().taken_down, 0);
    assert_eq!(sim.node(0).expect("alive").peers().len(), 3);
}

#[test]
fn a_watchers_word_takes_offline_a_peer_silent_here_too() {
    let mut sim = clean(4);
    // Host 2 stops (a process stopped): 3 s later, host 0 has it online
    // still (its own verdict comes after 5 s of silence), until the word.
    let word = down(&sim, 1, 2);
    sim.freeze(2, true);
    let at = sim.elapsed();
    sim.run_until(at + secs(3.0));
    assert_eq!(sim.node(0).expect("alive").peers().len(), 3, "not yet");
    sim.inject(0, sim.addr(1), &word);
    sim.run_until(at + secs(3.1));
    assert_eq!(sim.node(0).expect("alive").stats().taken_down, 1);
    assert!(
        sim.events(0, at)
            .iter()
            .any(|e| matches!(e, CoreEvent::PeerOffline { id, .. } if *id == sim.id(2)))
    );
}

#[test]
fn a_node_said_to_be_down_tells_everyone_it_is_here() {
    let mut sim = clean(4);
    let word = down(&sim, 1, 0);
    let sent_before = sim.captured().len();
    let at = sim.elapsed();
    sim.inject(0, sim.addr(1), &word);
    sim.run_until(at + Duration::from_millis(20));
    let me = sim.id(0);
    let presences = sim.captured()[sent_before..]
        .iter()
        .filter_map(|bytes| open(bytes))
        .filter(|p| p.from == me && matches!(p.body, Body::Presence(_)))
        .count();
    assert!(presences >= 1, "no presence within 20 ms of the word");
}

/// The hosts that watch host `peer` among the first `n`: the [`WATCHED`]
/// ones before it in node-id order, wrapping around.
fn watchers_of(sim: &Sim, n: usize, peer: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| sim.id(i));
    let at = order.iter().position(|&i| i == peer).expect("listed");
    (1..=lanchat::discovery::WATCHED)
        .map(|k| order[(at + n - k) % n])
        .collect()
}

/// The peers host `from` said are down in what was sent since the
/// `since`-th captured datagram.
fn downs_said(sim: &Sim, since: usize, from: usize) -> Vec<lanchat::types::NodeId> {
    sim.captured()[since..]
        .iter()
        .filter_map(|bytes| open(bytes))
        .filter(|p| p.from == sim.id(from))
        .filter_map(|p| match p.body {
            Body::Down { peer, .. } => Some(peer),
            _ => None,
        })
        .collect()
}

#[test]
fn a_watcher_that_takes_a_fellow_watchers_word_says_it_too() {
    let n = 8;
    let mut sim = clean(n);
    let victim = 5;
    let watchers = watchers_of(&sim, n, victim);
    let (first, second) = (watchers[0], watchers[1]);
    let word = down(&sim, first, victim);
    sim.freeze(victim, true);
    let at = sim.elapsed();
    // Silent for 3 s at the second watcher too, which has not declared it
    // yet (5 s): the first one's word takes it offline there.
    sim.run_until(at + secs(3.0));
    let sent_before = sim.captured().len();
    sim.inject(second, sim.addr(first), &word);
    sim.run_until(at + secs(3.05));
    let says = downs_said(&sim, sent_before, second)
        .iter()
        .filter(|peer| **peer == sim.id(victim))
        .count();
    assert_eq!(sim.node(second).expect("alive").stats().taken_down, 1);
    assert!(says >= 1, "the second watcher did not say it");
    // A node that does not watch it takes the word without repeating it.
    let other = (0..n)
        .find(|i| *i != victim && !watchers.contains(i))
        .expect("a node that does not watch it");
    let sent_before = sim.captured().len();
    sim.inject(other, sim.addr(first), &word);
    sim.run_until(at + secs(3.1));
    let repeated = downs_said(&sim, sent_before, other).len();
    assert_eq!(sim.node(other).expect("alive").stats().taken_down, 1);
    assert_eq!(repeated, 0);
}
