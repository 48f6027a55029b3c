//! What an idle node costs the network: heartbeats only, and the goal
//! (issue 16: at most 100 bytes a second per node, Ethernet, IP and UDP
//! headers included) asserted, so a change to the wire cannot quietly
//! raise it again. The idle heartbeat is the lean one (`chain.rs`): 35
//! bytes for #Main, where a signed one took 131; every twentieth is a full
//! presence, and catch-up compares now and then.

use std::time::Duration;

use super::net::{Faults, Sim};

#[test]
fn an_idle_node_sends_at_most_100_bytes_a_second() {
    let mut sim = Sim::new(0x1d1e, Faults::lossy(0.0));
    for i in 0..5 {
        sim.add(&format!("idle{i}"));
    }
    // After the start-up announces, two quiet minutes.
    sim.run_until(Duration::from_secs(5));
    let before = sim.bytes_sent.clone();
    sim.run_until(Duration::from_secs(125));
    for (i, (b, a)) in before.iter().zip(&sim.bytes_sent).enumerate() {
        let rate = (a - b) as f64 / 120.0;
        println!("idle node {i}: {rate:.0} bytes/s on the wire (one interface, headers included)");
        assert!(rate <= 100.0, "node {i} sends {rate:.0} B/s while idle");
        assert!(rate > 40.0, "node {i} sends no heartbeat ({rate:.0} B/s)");
    }
}
