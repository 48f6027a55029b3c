//! What an idle node costs the network: heartbeats only, and the goal
//! (issue 16: at most 100 bytes a second per node, Ethernet, IP and UDP
//! headers included) asserted, so a change to the wire cannot quietly
//! raise it again. The idle heartbeat is the lean one (`chain.rs`): 35
//! bytes for #Main, where a signed one took 131; every twentieth is a full
//! presence, and catch-up compares now and then.

use std::time::Duration;

use super::net::{Faults, Sim};

/// `n` nodes on a clean LAN, 5 s after they started (past the start-up
/// announces).
fn idle_lan(seed: u64, n: usize) -> Sim {
    let mut sim = Sim::new(seed, Faults::lossy(0.0));
    for i in 0..n {
        sim.add(&format!("idle{i}"));
    }
    sim.run_until(Duration::from_secs(5));
    sim
}

#[test]
fn an_idle_node_sends_at_most_100_bytes_a_second() {
    // After the start-up announces, two quiet minutes.
    let mut sim = idle_lan(0x1d1e, 5);
    let before = sim.traffic.clone();
    sim.run_until(Duration::from_secs(125));
    for (i, (b, a)) in before.iter().zip(&sim.traffic).enumerate() {
        let rate = (*a - *b).wire() as f64 / 120.0;
        println!("idle node {i}: {rate:.0} bytes/s on the wire (one interface, headers included)");
        assert!(rate <= 100.0, "node {i} sends {rate:.0} B/s while idle");
        assert!(rate > 40.0, "node {i} sends no heartbeat ({rate:.0} B/s)");
    }
}

/// Catch-up compares an idle channel less and less often: each periodic
/// comparison that finds both sides the same doubles the wait (30 s, then
/// 1, 2 and 4 min), where every 30 s cost each node two datagrams (and
/// on a real LAN often an ARP exchange too) for nothing.
#[test]
fn an_idle_channel_is_compared_less_and_less_often() {
    let mut sim = idle_lan(0x1d1f, 3);
    let started = |sim: &Sim| -> Vec<u64> {
        (0..3)
            .map(|i| sim.node(i).expect("alive").stats().syncs_started)
            .collect()
    };
    let before = started(&sim);
    sim.run_until(Duration::from_secs(605));
    let after = started(&sim);
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        let n = a - b;
        println!("idle node {i}: {n} comparisons of #Main in 10 minutes");
        // Every 30 s would be about 20; doubling gives about 5.
        assert!((3..=8).contains(&n), "node {i}: {n} comparisons");
    }
}
