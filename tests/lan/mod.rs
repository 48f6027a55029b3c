//! Scenarios on a real (virtual) LAN: real `lanchat` processes, one per host
//! namespace, joined by a bridge (see `bed.rs`), with loss, pulled cables,
//! blocked multicast or broadcast, killed and frozen processes, and a
//! hostile host. Each asserts the bound issue 3 states and prints its
//! figure as a `LAN figure:` line.

pub(crate) mod bed;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Peer, Seen, event};
use bed::Lan;

/// Longest a node may take to print `ready`.
const START: Duration = Duration::from_secs(10);
/// Generous wait for a result whose bound is checked separately, so a miss
/// reports the measured figure rather than a bare timeout.
const PATIENCE: Duration = Duration::from_secs(20);

/// Prints one figure so CI output shows it.
fn figure(scenario: &str, text: &str) {
    println!("LAN figure: {scenario}: {text}");
}

/// Running nodes, one per host from host 0.
struct Nodes {
    peers: Vec<Peer>,
    ids: Vec<String>,
    addrs: Vec<SocketAddr>,
    /// When the last node printed `ready`.
    last_ready: Instant,
}

impl Nodes {
    /// Starts `n` nodes called `n0`, `n1`… on hosts 0..n and waits for each
    /// one's `ready`.
    fn start(lan: &Lan, n: usize) -> Nodes {
        let mut peers: Vec<Peer> = (0..n).map(|i| lan.spawn(i, &format!("n{i}"))).collect();
        let mut ids = Vec::new();
        let mut addrs = Vec::new();
        let mut last_ready = Instant::now();
        for (i, peer) in peers.iter_mut().enumerate() {
            let (at, ready) = peer.expect_event("ready", event("ready", &[]), START);
            let addr: SocketAddr = ready["addr"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| panic!("no address in {ready}"));
            assert_eq!(addr.ip(), Lan::addr(i), "{ready}");
            ids.push(ready["node"].as_str().expect("node id").to_string());
            addrs.push(addr);
            last_ready = last_ready.max(at);
        }
        Nodes {
            peers,
            ids,
            addrs,
            last_ready,
        }
    }

    /// Waits until every node has seen every other online; returns the
    /// latest `peer_online` after `since`.
    fn all_see_all(&mut self, since: Instant, timeout: Duration) -> Duration {
        let mut latest = Duration::ZERO;
        for (i, peer) in self.peers.iter_mut().enumerate() {
            for (j, id) in self.ids.iter().enumerate() {
                if i != j {
                    let (at, _) = peer.expect_event(
                        &format!("peer_online of n{j}"),
                        event("peer_online", &[("node", id)]),
                        timeout.saturating_sub(since.elapsed()),
                    );
                    latest = latest.max(at.saturating_duration_since(since));
                }
            }
        }
        latest
    }

    /// Polls every node's output until `done` holds for each one's backlog
    /// or `timeout` passes; returns whether it held.
    fn wait_until(&mut self, timeout: Duration, done: impl Fn(usize, &[Seen]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let all = self
                .peers
                .iter_mut()
                .enumerate()
                .all(|(i, p)| done(i, p.backlog()));
            if all {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn is_offline(v: &Value) -> bool {
    v["event"] == "peer_offline"
}

#[test]
fn ten_nodes_discover_each_other_within_a_second() {
    let Some(lan) = Lan::new(10) else { return };
    let mut nodes = Nodes::start(&lan, 10);
    let since = nodes.last_ready;
    let latest = nodes.all_see_all(since, PATIENCE);
    figure(
        "discovery, 10 nodes",
        &format!("all saw all {} ms after the last ready", latest.as_millis()),
    );
    assert!(
        latest <= Duration::from_secs(1),
        "the last peer_online came {latest:?} after the last ready"
    );
}

/// The bed itself: unicast, broadcast and multicast cross the bridge, and
/// each fault stops what it should and no more.
#[test]
fn the_bed_carries_traffic_and_injects_faults() {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};

    let Some(lan) = Lan::new(2) else { return };
    assert_eq!(lan.hosts(), 2);
    const TEST_PORT: u16 = 5000;
    let rx: UdpSocket = lan.enter(1, || {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).expect("socket");
        s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, TEST_PORT).into())
            .expect("bind");
        s.join_multicast_v4(&bed::GROUP, &Lan::addr(1))
            .expect("join");
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        s.into()
    });
    let tx: UdpSocket = lan.enter(0, || {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).expect("socket");
        s.set_broadcast(true).expect("broadcast");
        s.set_multicast_if_v4(&Lan::addr(0)).expect("multicast if");
        s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0).into())
            .expect("bind");
        s.into()
    });
    let unicast = SocketAddrV4::new(Lan::addr(1), TEST_PORT);
    let broadcast = SocketAddrV4::new(bed::BROADCAST, TEST_PORT);
    let multicast = SocketAddrV4::new(bed::GROUP, TEST_PORT);
    // Sends 200 datagrams to `to` and counts those host 1 receives.
    let through = |to: SocketAddrV4| {
        for _ in 0..200 {
            let _ = tx.send_to(b"x", to);
            std::thread::sleep(Duration::from_micros(200));
        }
        let mut buf = [0u8; 16];
        let mut n = 0;
        while rx.recv_from(&mut buf).is_ok() {
            n += 1;
        }
        n
    };
    let before = lan.counters(1);
    for to in [unicast, broadcast, multicast] {
        assert_eq!(through(to), 200, "to {to}");
    }
    let delta = lan.counters(1) - before;
    assert!(
        delta.rx_packets >= 600 && delta.rx_bytes >= 600 * 29,
        "{delta:?}"
    );

    lan.loss(1, 50);
    let half = through(unicast);
    assert!((50..150).contains(&half), "{half} of 200 at 50 % loss");
    lan.loss(1, 0);
    assert_eq!(through(unicast), 200);

    lan.block_broadcast(1);
    assert_eq!(through(broadcast), 0);
    assert_eq!(through(multicast), 200);
    lan.clear_faults(1);
    lan.block_multicast(1);
    assert_eq!(through(multicast), 0);
    assert_eq!(through(broadcast), 200);
    assert_eq!(through(unicast), 200);
    lan.clear_faults(1);
    assert_eq!(through(multicast), 200);

    lan.cable(1, false);
    assert_eq!(through(unicast), 0);
    lan.cable(1, true);
    // The port forwards again once the link is back up.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(through(unicast), 200);
    figure("bed", &format!("50 % loss let {half} of 200 through"));
}
