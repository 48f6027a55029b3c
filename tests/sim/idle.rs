//! What an idle node costs the network: heartbeats only.

use std::time::Duration;

use super::net::{Faults, Sim};

#[test]
fn an_idle_node_sends_a_few_hundred_bytes_a_second() {
    let mut sim = Sim::new(0x1d1e, Faults::lossy(0.0));
    for i in 0..5 {
        sim.add(&format!("idle{i}"));
    }
    // After the start-up announces, a quiet minute.
    sim.run_until(Duration::from_secs(5));
    let before = sim.bytes_sent.clone();
    sim.run_until(Duration::from_secs(65));
    for (i, (b, a)) in before.iter().zip(&sim.bytes_sent).enumerate() {
        let rate = (a - b) as f64 / 60.0;
        println!(
            "idle node {i}: {rate:.0} bytes/s of datagrams (each group datagram goes to multicast and to each broadcast address)"
        );
        assert!(rate < 300.0, "node {i} sends {rate:.0} B/s while idle");
        assert!(rate > 30.0, "node {i} sends no heartbeat ({rate:.0} B/s)");
    }
}
