//! A colleague on another wire version (issue 16, item 9): an office
//! upgrades one PC at a time, so a node that hears a version it cannot read
//! says so, naming who, in headless and in the doctor.
//!
//! No node built with another version exists yet (the wire is still the one
//! this build speaks), so host 1's "upgraded" lanchat is a socket on its
//! group port that sends what a newer one would start with: the magic and
//! a higher version, then bytes this build cannot read.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::bed::{self, Lan};
use super::{Nodes, PATIENCE, figure};
use crate::util::event;

/// A datagram of wire version `version`: shorter than the shortest this
/// build sends, as another version's may be.
fn datagram(version: u8) -> Vec<u8> {
    let mut d = lanchat::wire::MAGIC.to_vec();
    d.extend_from_slice(&[version, 0]);
    d.extend((0..30u8).map(|i| i.wrapping_mul(37)));
    d
}

#[test]
fn a_colleague_on_a_newer_version_is_named_not_left_silent() {
    let Some(lan) = Lan::new(3) else { return };
    let mut nodes = Nodes::start(&lan, 2);
    let since = nodes.last_ready;
    nodes.all_see_all(since, PATIENCE);
    // n1 is "updated": its old lanchat stops (killed, so n0 still has it
    // online for a few seconds) and the new one speaks from the same host.
    nodes.peers[1].kill();
    let newer = lanchat::wire::VERSION + 1;
    let upgraded: UdpSocket = lan.enter(1, || {
        let me = Lan::addr(1);
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).expect("socket");
        s.set_reuse_address(true).expect("reuse address");
        s.set_reuse_port(true).expect("reuse port");
        s.set_broadcast(true).expect("broadcast");
        s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, bed::PORT).into())
            .expect("bind");
        s.set_multicast_if_v4(&me).expect("multicast interface");
        s.into()
    });
    // And a host that was never updated from an older one.
    let older: UdpSocket = lan.enter(2, || {
        UdpSocket::bind(SocketAddrV4::new(Lan::addr(2), 0)).expect("bind")
    });
    let group: SocketAddr = SocketAddrV4::new(bed::GROUP, bed::PORT).into();
    for _ in 0..20 {
        upgraded.send_to(&datagram(newer), group).expect("send");
        older
            .send_to(&datagram(lanchat::wire::VERSION - 1), nodes.addrs[0])
            .expect("send");
        std::thread::sleep(Duration::from_millis(50));
    }
    let n0 = &mut nodes.peers[0];
    let (_, told) = n0.expect_event(
        "other_version from n1's host",
        |v| v["event"] == "other_version" && v["version"] == u64::from(newer),
        PATIENCE,
    );
    assert_eq!(told["nick"], "n1", "named by who was there: {told}");
    assert_eq!(told["newer"], true, "{told}");
    assert!(
        told["addr"]
            .as_str()
            .is_some_and(|a| a.starts_with(&format!("{}:", Lan::addr(1)))),
        "{told}"
    );
    let (_, old) = n0.expect_event(
        "other_version from the older host",
        |v| v["event"] == "other_version" && v["newer"] == false,
        PATIENCE,
    );
    assert_eq!(
        old["nick"],
        serde_json::Value::Null,
        "nobody known there: {old}"
    );
    // Told once each, though 20 came.
    std::thread::sleep(Duration::from_millis(500));
    let again = n0
        .backlog()
        .iter()
        .filter(|(_, v)| v["event"] == "other_version")
        .count();
    assert_eq!(again, 0, "told again");
    // The doctor lists both, in words.
    n0.send("/doctor");
    let (_, report) = n0.expect_event("network", event("network", &[]), PATIENCE);
    let findings: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == "other_version")
        .collect();
    assert_eq!(findings.len(), 2, "{report}");
    let newer_text = findings
        .iter()
        .find(|f| f["nick"] == "n1")
        .and_then(|f| f["text"].as_str())
        .expect("a finding for n1");
    assert!(
        newer_text.contains("n1") && newer_text.contains("newer"),
        "{newer_text}"
    );
    assert_eq!(
        report["dropped"]["malformed"], 0,
        "not counted as bad: {report}"
    );
    figure(
        "a newer and an older version",
        &format!("the doctor on n0 says: {newer_text}"),
    );
}
