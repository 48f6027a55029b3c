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

/// Whether an `other_version` event names the address of host `host`.
fn names_host(told: &serde_json::Value, host: usize) -> bool {
    told["addr"]
        .as_str()
        .is_some_and(|a| a.starts_with(&format!("{}:", Lan::addr(host))))
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
    assert!(names_host(&told, 1), "{told}");
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

/// The build an office ran before wire version 5: f7e8502, the last commit
/// of version 4 (it already names a node of another version). `.ci/run`
/// builds it into `target/old/lanchat-v4`; `LANCHAT_OLD_BIN` names another.
fn old_build() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("LANCHAT_OLD_BIN").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/old/lanchat-v4"),
        std::path::PathBuf::from,
    );
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("LANCHAT_REQUIRE_OLD").is_none(),
        "no old build at {} (.ci/run builds it)",
        path.display()
    );
    eprintln!(
        "skipped: no old build at {} (.ci/run builds it)",
        path.display()
    );
    None
}

/// An office upgrades one desk: n0 and n1 run the old build and chat; n1
/// is updated (the new build on the same data directory) and the two
/// cannot read each other. Each says so, naming the other, and neither
/// shows the other online in the new version; n1 keeps its identity.
#[test]
fn an_old_build_and_this_one_name_each_other() {
    let Some(old) = old_build() else { return };
    let Some(lan) = Lan::new(2) else { return };
    let dirs = [
        crate::util::TempDir::create(),
        crate::util::TempDir::create(),
    ];
    let mut n0 = lan.spawn_program(0, &old, "n0", &dirs[0].0);
    let mut n1 = lan.spawn_program(1, &old, "n1", &dirs[1].0);
    let (_, ready) = n1.expect_event("ready", event("ready", &[]), PATIENCE);
    let n1_id = ready["node"].as_str().expect("node id").to_string();
    n0.expect_event(
        "n1 online at n0, both old",
        event("peer_online", &[("node", &n1_id)]),
        PATIENCE,
    );
    // n1 is updated: its old lanchat stops (killed, so n0 still has it
    // online for a few seconds and names it by its nick) and the new one
    // starts on the same data.
    n1.kill();
    let mut n1 = lan.spawn_program(
        1,
        std::path::Path::new(env!("CARGO_BIN_EXE_lanchat")),
        "n1",
        &dirs[1].0,
    );
    let (_, ready) = n1.expect_event("ready of the new build", event("ready", &[]), PATIENCE);
    assert_eq!(ready["node"], n1_id.as_str(), "the same identity: {ready}");
    let (_, told) = n0.expect_event(
        "the old build names the new one",
        |v| v["event"] == "other_version" && v["version"] == u64::from(lanchat::wire::VERSION),
        PATIENCE,
    );
    assert_eq!(told["nick"], "n1", "{told}");
    assert_eq!(told["newer"], true, "{told}");
    let (_, told) = n1.expect_event(
        "the new build names the old one",
        |v| v["event"] == "other_version" && v["version"] == 4,
        PATIENCE,
    );
    assert_eq!(told["newer"], false, "{told}");
    assert!(names_host(&told, 0), "{told}");
    // In words, in each one's doctor.
    let words = |peer: &mut crate::util::Peer| -> String {
        peer.send("/doctor");
        let (_, report) = peer.expect_event("network", event("network", &[]), PATIENCE);
        report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["kind"] == "other_version")
            .filter_map(|f| f["text"].as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let old_says = words(&mut n0);
    assert!(
        old_says.contains("n1 ") && old_says.contains("newer"),
        "{old_says}"
    );
    let new_says = words(&mut n1);
    assert!(
        new_says.contains(&Lan::addr(0).to_string()) && new_says.contains("older"),
        "{new_says}"
    );
    // Neither takes the other for someone it can talk to.
    std::thread::sleep(Duration::from_secs(6));
    let online = n1
        .backlog()
        .iter()
        .any(|(_, v)| v["event"] == "peer_online");
    assert!(!online, "the new build shows the old one online");
    let back = n0
        .backlog()
        .iter()
        .any(|(_, v)| v["event"] == "peer_online");
    assert!(!back, "the old build shows the new one online");
    figure(
        "an old build beside this one",
        &format!("the old one says: {old_says}; this one says: {new_says}"),
    );
}
