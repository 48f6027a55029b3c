//! Peers the group does not reach: another subnet, a switch that drops
//! multicast and broadcast, a node behind an inbound firewall. Group traffic
//! goes to them by unicast as well, addresses spread from the node that
//! sees both sides, and the doctor says who does not hear us.

use std::time::Duration;

use lanchat::CoreCommand;
use lanchat::protocol::{CoreEvent, Target};
use lanchat::types::MAIN_CHANNEL;

use super::net::{Faults, Sim};
use super::{say, secs};

/// Texts of #Main that `host` received.
fn main_texts(sim: &Sim, host: usize) -> Vec<String> {
    sim.events(host, Duration::ZERO)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Message(m) if m.chat == lanchat::Chat::Channel(MAIN_CHANNEL.into()) => {
                Some(m.text.clone())
            }
            _ => None,
        })
        .collect()
}

/// When every host first saw every other online, or `None`.
fn all_see_all(sim: &Sim) -> Option<Duration> {
    let mut latest = Duration::ZERO;
    for a in 0..sim.len() {
        for b in (0..sim.len()).filter(|b| *b != a) {
            latest = latest.max(super::seen_at(sim, a, sim.id(b), Duration::ZERO)?);
        }
    }
    Some(latest)
}

/// Each host says `per` lines in #Main; then every host must have every
/// other host's lines, in order.
fn everyone_says_and_hears(sim: &mut Sim, per: usize, within: f64) {
    let main = Target::Channel(MAIN_CHANNEL.into());
    for k in 0..per {
        for i in 0..sim.len() {
            say(sim, i, main.clone(), format!("line {i}.{k}"));
        }
        let t = sim.elapsed() + secs(0.2);
        sim.run_until(t);
    }
    let t = sim.elapsed() + secs(within);
    sim.run_until(t);
    for host in 0..sim.len() {
        let got = main_texts(sim, host);
        for i in (0..sim.len()).filter(|i| *i != host) {
            let want: Vec<String> = (0..per).map(|k| format!("line {i}.{k}")).collect();
            let from_i: Vec<String> = got
                .iter()
                .filter(|t| t.starts_with(&format!("line {i}.")))
                .cloned()
                .collect();
            assert_eq!(from_i, want, "host {host} has these lines of host {i}");
        }
    }
}

#[test]
fn one_node_on_two_subnets_joins_them_into_one_chat() {
    let mut sim = Sim::new(0x5ab, Faults::lossy(0.10));
    // Subnet 0: a0, a1; subnet 1: b0, b1; x is on both.
    for nick in ["a0", "a1"] {
        sim.add_on(nick, &[0], &[]);
    }
    for nick in ["b0", "b1"] {
        sim.add_on(nick, &[1], &[]);
    }
    sim.add_on("x", &[0, 1], &[]);
    sim.run_until(secs(30.0));
    let took = all_see_all(&sim).expect("every node sees every other");
    println!("two subnets, one node on both: all saw all after {took:?}");
    assert!(took <= secs(15.0), "took {took:?}");
    everyone_says_and_hears(&mut sim, 10, 10.0);
    // A node of subnet 0 reaches b0 by unicast, and says b0's group
    // traffic does not reach it.
    let report = sim.node(0).expect("alive").network(sim.now);
    let b0 = report
        .peers
        .iter()
        .find(|p| p.id == sim.id(2))
        .expect("b0 listed");
    assert!(!b0.by_group && b0.relayed, "{b0:?}");
    let a1 = report
        .peers
        .iter()
        .find(|p| p.id == sim.id(1))
        .expect("a1 listed");
    assert!(a1.by_group && !a1.relayed, "{a1:?}");
}

#[test]
fn with_every_group_way_blocked_one_address_is_enough() {
    let mut sim = Sim::new(0xb10c, Faults::lossy(0.10));
    // Each host alone on its subnet (client isolation): only unicast
    // works. Everyone is told host 0's address, nothing more.
    let first = sim.add_on("h0", &[0], &[]);
    let seed = sim.peer_addr(first);
    for i in 1..5 {
        sim.add_on(&format!("h{i}"), &[i], &[seed]);
    }
    sim.run_until(secs(40.0));
    let took = all_see_all(&sim).expect("every node sees every other");
    println!("every group way blocked, one address given: all saw all after {took:?}");
    assert!(took <= secs(20.0), "took {took:?}");
    everyone_says_and_hears(&mut sim, 10, 10.0);
    // A direct message too.
    let to = Target::Node(sim.id(3));
    say(&mut sim, 1, to, "direct".into());
    let t = sim.elapsed() + secs(3.0);
    sim.run_until(t);
    assert!(
        sim.events(1, Duration::ZERO)
            .iter()
            .any(|e| matches!(e, CoreEvent::Delivered { to, .. } if *to == sim.id(3)))
    );
}

#[test]
fn on_a_lan_where_the_group_works_nothing_is_copied_by_unicast() {
    let mut sim = Sim::new(0x1a4, Faults::lossy(0.10));
    for i in 0..5 {
        sim.add(&format!("n{i}"));
    }
    sim.run_until(secs(60.0));
    for host in 0..5 {
        let report = sim.node(host).expect("alive").network(sim.now);
        assert_eq!(report.peers.len(), 4);
        for p in &report.peers {
            assert!(p.by_group && !p.relayed, "host {host}: {p:?}");
            assert_eq!(p.hears_me, Some(true), "host {host}: {p:?}");
        }
    }
}

/// ann, bob and fw, 15 s after they started, where fw hears nothing (an
/// inbound firewall) and ann and bob hear it; ann has found that fw does
/// not hear her.
fn behind_a_firewall() -> Sim {
    let mut sim = Sim::new(0xf1e, Faults::lossy(0.0));
    for nick in ["ann", "bob", "fw"] {
        sim.add(nick);
    }
    sim.deaf(2, true);
    sim.run_until(secs(15.0));
    let report = sim.node(0).expect("alive").network(sim.now);
    let fw = report
        .peers
        .iter()
        .find(|p| p.id == sim.id(2))
        .expect("fw is online for ann");
    assert_eq!(fw.hears_me, Some(false), "{fw:?}");
    sim
}

#[test]
fn a_peer_behind_an_inbound_firewall_is_reported_as_not_hearing_us() {
    let mut sim = behind_a_firewall();
    let report = sim.node(0).expect("alive").network(sim.now);
    let bob = report
        .peers
        .iter()
        .find(|p| p.id == sim.id(1))
        .expect("bob");
    assert_eq!(bob.hears_me, Some(true), "{bob:?}");
    // Once the firewall lets traffic in, it is noticed.
    sim.deaf(2, false);
    sim.run_until(secs(40.0));
    let report = sim.node(0).expect("alive").network(sim.now);
    let fw = report.peers.iter().find(|p| p.id == sim.id(2)).expect("fw");
    assert_eq!(fw.hears_me, Some(true), "{fw:?}");
}

/// A node that answers none of my pings is not told, every 30 s, where
/// my peers are (it would not hear it; among a thousand such peers that
/// was 100 signed lists a second).
#[test]
fn a_peer_that_hears_nothing_is_not_told_where_the_others_are() {
    // fw hears nothing, so it knows no peer.
    let mut sim = behind_a_firewall();
    let before = sim.captured().len();
    sim.run_until(secs(75.0));
    let ann = sim.id(0);
    let lists = sim.captured()[before..]
        .iter()
        .filter_map(|bytes| super::net::open(bytes))
        .filter(|p| p.from == ann && matches!(p.body, lanchat::wire::Body::Peers { .. }))
        .count();
    assert_eq!(lists, 0, "ann told fw where bob is {lists} times in 60 s");
}

#[test]
fn an_address_added_later_is_reached_and_can_be_forgotten() {
    let mut sim = Sim::new(0xadd, Faults::lossy(0.0));
    sim.add_on("ann", &[0], &[]);
    sim.add_on("bob", &[1], &[]);
    sim.run_until(secs(5.0));
    assert!(sim.node(0).expect("alive").peers().is_empty());
    let bob = sim.peer_addr(1);
    sim.command(0, CoreCommand::AddPeer(bob));
    assert!(
        sim.events(0, Duration::ZERO)
            .iter()
            .any(|e| matches!(e, CoreEvent::StaticPeers(list) if list == &vec![bob]))
    );
    sim.run_until(secs(10.0));
    assert_eq!(sim.node(0).expect("alive").peers().len(), 1);
    assert_eq!(sim.node(1).expect("alive").peers().len(), 1);
    sim.command(0, CoreCommand::ForgetPeer(bob));
    assert!(
        sim.events(0, secs(10.0))
            .iter()
            .any(|e| matches!(e, CoreEvent::StaticPeers(list) if list.is_empty()))
    );
}
