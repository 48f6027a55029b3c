//! Receivers that trust their senders ([`Signatures::Trusted`], what the
//! 300-peer bench runs) do what checking ones do on a LAN of honest hosts:
//! the bench measures the LAN these tests check.

use lanchat::protocol::{CoreEvent, Target};

use super::net::{Faults, Signatures, Sim};
use super::{say, secs};

/// Twelve hosts start, talk in #Main and directly, and one is killed.
fn run(signatures: Signatures) -> Sim {
    let mut sim = Sim::new(0x7257, Faults::lossy(0.2));
    sim.signatures = signatures;
    for i in 0..12 {
        sim.add(&format!("p{i}"));
    }
    sim.run_until(secs(3.0));
    for i in 0..12 {
        say(&mut sim, i, Target::Channel("#Main".into()), format!("{i}"));
        let to = sim.id((i + 5) % 12);
        say(&mut sim, i, Target::Node(to), format!("to {to}"));
        let t = sim.elapsed() + secs(0.05);
        sim.run_until(t);
    }
    sim.run_until(secs(8.0));
    sim.kill(4);
    sim.run_until(secs(20.0));
    sim
}

#[test]
fn receivers_that_trust_honest_senders_do_what_checking_ones_do() {
    let checked = run(Signatures::Checked);
    let trusted = run(Signatures::Trusted);
    let happened =
        |what: fn(&CoreEvent) -> bool| checked.log.iter().filter(|l| what(&l.event)).count();
    assert!(happened(|e| matches!(e, CoreEvent::Message(_))) >= 12 * 11);
    assert!(happened(|e| matches!(e, CoreEvent::PeerOffline { .. })) >= 11);
    assert_eq!(checked.datagrams, trusted.datagrams);
    assert_eq!(checked.total_traffic(), trusted.total_traffic());
    assert!(checked.log == trusted.log, "the two runs' events differ");
}
