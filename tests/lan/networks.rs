//! Real networks beyond one switch (issue 7): two network cards on two
//! bridges, both group ways blocked with `--peer`, two routed subnets with
//! one node on both, an IPv6-only bridge, and an inbound firewall the doctor
//! must name. Real processes, one per host namespace (see `bed.rs`).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::bed::{Lan, Segment, Topology};
use super::{Nodes, PATIENCE, figure, is_offline, received};
use crate::util::event;

const V4: Segment = Segment::V4;
const V6: Segment = Segment::V6;

/// Each node says `each` lines in #Main; waits until every node has every
/// other's. Returns how long that took, or `None` on a timeout.
fn everyone_says(nodes: &mut Nodes, tag: &str, each: usize) -> Option<Duration> {
    let n = nodes.peers.len();
    let started = Instant::now();
    for (i, peer) in nodes.peers.iter_mut().enumerate() {
        for k in 0..each {
            peer.send(&format!("{tag} {i} {k}"));
        }
    }
    let want = (n - 1) * each;
    let prefix = format!("{tag} ");
    let done = nodes.wait_until(PATIENCE * 2, |_, b| {
        received(b, "#Main")
            .filter(|(_, _, text)| text.starts_with(&prefix))
            .count()
            >= want
    });
    done.then(|| started.elapsed())
}

/// How many `peer_online` events for `id` a node printed.
fn onlines(backlog: &[crate::util::Seen], id: &str) -> usize {
    backlog
        .iter()
        .filter(|(_, v)| v["event"] == "peer_online" && v["node"] == id)
        .count()
}

#[test]
fn two_network_cards_are_one_buddy_and_chat_goes_on_when_one_is_unplugged() {
    const NODES: usize = 3;
    let topology = Topology {
        segments: vec![V4, V4],
        hosts: vec![vec![0, 1]; NODES],
        routed: false,
        snooping: false,
    };
    let Some(lan) = Lan::build(&topology) else {
        return;
    };
    let mut nodes = Nodes::start_with(&lan, NODES, |_| Vec::new());
    let since = nodes.last_ready;
    let discovered = nodes.all_see_all(since, PATIENCE);
    let before = everyone_says(&mut nodes, "both", 5).expect("chat on two cards");
    // Host 0's first card loses its link.
    lan.cable_on(0, 0, false);
    let unplugged = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let after = everyone_says(&mut nodes, "one", 5);
    let ids = nodes.ids.clone();
    for (i, peer) in nodes.peers.iter_mut().enumerate() {
        // `all_see_all` took the first `peer_online` of each: a second one
        // would be a twin or a flap.
        peer.count_after(Duration::from_millis(200), |_| false);
        let backlog = peer.backlog();
        for (j, id) in ids.iter().enumerate().filter(|(j, _)| *j != i) {
            assert_eq!(onlines(backlog, id), 0, "n{i} listed n{j} again");
        }
        let offline = backlog.iter().filter(|(_, v)| is_offline(v)).count();
        assert_eq!(offline, 0, "n{i} saw someone go offline");
        peer.send("/who");
        let (_, who) = peer.expect_event("who", event("who", &[]), PATIENCE);
        let listed: Vec<&str> = who["peers"]
            .as_array()
            .expect("peers")
            .iter()
            .filter_map(|p| p["node"].as_str())
            .collect();
        let mut others: Vec<&str> = ids
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, id)| id.as_str())
            .collect();
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        others.sort_unstable();
        assert_eq!(sorted, others, "n{i}'s /who: {who}");
    }
    figure(
        "two cards on two bridges, 3 nodes",
        &format!(
            "all saw all {} ms after the last ready, each peer listed once; 10 lines each within {} ms; \
             with host 0's first card unplugged, 10 more within {:?} of the unplug",
            discovered.as_millis(),
            before.as_millis(),
            after.map(|_| unplugged.elapsed())
        ),
    );
    assert!(after.is_some(), "chat stopped when one card was unplugged");
}

#[test]
fn with_multicast_and_broadcast_blocked_one_peer_address_is_enough() {
    const NODES: usize = 5;
    let Some(lan) = Lan::new(NODES) else { return };
    for i in 0..NODES {
        lan.block_multicast(i);
        lan.block_broadcast(i);
    }
    // Everyone is given host 0's address; nothing more.
    let first = Lan::addr(0).to_string();
    let mut nodes = Nodes::start_with(&lan, NODES, |i| {
        if i == 0 {
            Vec::new()
        } else {
            vec!["--peer".into(), first.clone()]
        }
    });
    let since = nodes.last_ready;
    let discovered = nodes.all_see_all(since, PATIENCE * 2);
    let took = everyone_says(&mut nodes, "isolated", 5);
    nodes.peers[1].send("/msg n3 direct");
    let (_, sent) =
        nodes.peers[1].expect_event("sent DM", event("sent", &[("chat", "@n3")]), PATIENCE);
    let dm = sent["id"].as_str().expect("message id").to_string();
    nodes.peers[1].expect_event("DM delivered", event("delivered", &[("id", &dm)]), PATIENCE);
    figure(
        "multicast and broadcast blocked, --peer to one node, 5 nodes",
        &format!(
            "all saw all {} ms after the last ready; 20 #Main lines each within {:?}; DM delivered",
            discovered.as_millis(),
            took
        ),
    );
    assert!(
        took.is_some(),
        "#Main incomplete with both group ways blocked"
    );
}

#[test]
fn two_subnets_with_one_node_on_both_are_one_chat() {
    // Host 0 is on both subnets; hosts 1, 2 on the first, 3, 4 on the
    // second; a router joins them for unicast only.
    let topology = Topology {
        segments: vec![V4, V4],
        hosts: vec![vec![0, 1], vec![0], vec![0], vec![1], vec![1]],
        routed: true,
        snooping: false,
    };
    let Some(lan) = Lan::build(&topology) else {
        return;
    };
    let mut nodes = Nodes::start_with(&lan, 5, |_| Vec::new());
    let since = nodes.last_ready;
    let discovered = nodes.all_see_all(since, PATIENCE * 2);
    let took = everyone_says(&mut nodes, "subnets", 5);
    figure(
        "two subnets, one node on both, 5 nodes",
        &format!(
            "all saw all {} ms after the last ready; 20 #Main lines each within {:?}",
            discovered.as_millis(),
            took
        ),
    );
    assert!(took.is_some(), "#Main incomplete across the subnets");
}

#[test]
fn an_ipv6_only_bridge_discovers_and_delivers() {
    const NODES: usize = 3;
    let topology = Topology {
        segments: vec![V6],
        hosts: vec![vec![0]; NODES],
        routed: false,
        snooping: false,
    };
    let Some(lan) = Lan::build(&topology) else {
        return;
    };
    let mut nodes = Nodes::start_with(&lan, NODES, |_| Vec::new());
    for addr in &nodes.addrs {
        assert!(
            addr.is_ipv6(),
            "a node on an IPv6-only LAN says it is at {addr}"
        );
    }
    let since = nodes.last_ready;
    let discovered = nodes.all_see_all(since, PATIENCE);
    let took = everyone_says(&mut nodes, "six", 10);
    figure(
        "IPv6-only bridge, 3 nodes",
        &format!(
            "all saw all {} ms after the last ready; 20 #Main lines each within {:?}",
            discovered.as_millis(),
            took
        ),
    );
    assert!(
        discovered <= Duration::from_secs(1),
        "discovery took {discovered:?}"
    );
    assert!(took.is_some(), "#Main incomplete on IPv6");
}

/// The `network` event a node prints for `/doctor`.
fn doctor(nodes: &mut Nodes, i: usize) -> Value {
    nodes.peers[i].send("/doctor");
    let (_, report) = nodes.peers[i].expect_event("network", event("network", &[]), PATIENCE);
    report
}

#[test]
fn the_doctor_names_a_peer_behind_an_inbound_firewall_and_its_ports() {
    let Some(lan) = Lan::new(3) else { return };
    lan.block_inbound(2);
    let mut nodes = Nodes::start_with(&lan, 3, |_| Vec::new());
    // n0 and n1 hear n2; n2 hears nobody.
    for i in 0..2 {
        let id = nodes.ids[2].clone();
        nodes.peers[i].expect_event(
            "n2 online",
            event("peer_online", &[("node", &id)]),
            PATIENCE,
        );
    }
    let fw_port = nodes.addrs[2].port();
    let deadline = Instant::now() + PATIENCE;
    let finding = loop {
        let report = doctor(&mut nodes, 0);
        let found = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["kind"] == "one_way")
            .cloned();
        if let Some(found) = found {
            break (report, found);
        }
        assert!(Instant::now() < deadline, "no one-way finding: {report}");
        std::thread::sleep(Duration::from_secs(1));
    };
    let (report, finding) = finding;
    figure(
        "inbound firewall on one of 3 nodes",
        &format!("the doctor on n0 says: {}", finding["text"]),
    );
    assert_eq!(finding["peer"], "n2", "{report}");
    let ports: Vec<u64> = finding["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(ports, vec![47077, u64::from(fw_port)], "{report}");
    // n1, who answers, is not named.
    let named: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "one_way")
        .collect();
    assert_eq!(named.len(), 1, "{report}");
    // The interface part: eth0 with its address, datagrams both ways, and
    // the peers heard there.
    let eth0 = &report["interfaces"][0];
    assert_eq!(eth0["name"], "eth0", "{report}");
    assert_eq!(eth0["addr"], Lan::addr(0).to_string(), "{report}");
    assert!(
        eth0["in"].as_u64() > Some(0) && eth0["out"].as_u64() > Some(0),
        "{report}"
    );
    assert_eq!(report["own_multicast_back"], true, "{report}");
}
