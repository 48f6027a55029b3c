//! A hostile host on the LAN: 100,000 random and mutated datagrams at real
//! nodes. None may crash, memory must stay flat, and chat must still work.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::util::{Netns, Peer, event};

const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 77, 77);
const PORT: u16 = 47077;
const FLOOD: usize = 100_000;
const WAIT: Duration = Duration::from_secs(5);

/// A socket inside the namespace that hears the group and can send anywhere.
pub(crate) fn hostile_socket(ns: &Netns) -> UdpSocket {
    ns.enter(|| {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).expect("socket");
        s.set_reuse_address(true).expect("reuse address");
        s.set_reuse_port(true).expect("reuse port");
        s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT).into())
            .expect("bind");
        s.join_multicast_v4(&GROUP, &Ipv4Addr::LOCALHOST)
            .expect("join");
        s.set_multicast_if_v4(&Ipv4Addr::LOCALHOST)
            .expect("multicast interface");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        s.into()
    })
}

/// One mutation of a captured datagram: flipped bytes, a cut, an extension
/// or a splice of two captures.
pub(crate) fn mutate(rng: &mut fastrand::Rng, captured: &[Vec<u8>]) -> Vec<u8> {
    let mut d = captured[rng.usize(..captured.len())].clone();
    match rng.u8(..5) {
        0 | 1 => {
            for _ in 0..rng.usize(1..4) {
                let i = rng.usize(..d.len());
                d[i] ^= 1 << rng.u8(..8);
            }
        }
        2 => d.truncate(rng.usize(..d.len())),
        3 => d.extend((0..rng.usize(1..64)).map(|_| rng.u8(..))),
        _ => {
            let other = &captured[rng.usize(..captured.len())];
            let cut = rng.usize(..d.len().min(other.len()).max(1));
            d.truncate(cut);
            d.extend_from_slice(&other[cut.min(other.len())..]);
        }
    }
    d
}

/// Up to 200 datagrams the hostile socket hears within `window`.
pub(crate) fn capture_for(socket: &UdpSocket, window: Duration) -> Vec<Vec<u8>> {
    let mut captured = Vec::new();
    let mut buf = [0u8; 2048];
    let until = Instant::now() + window;
    while Instant::now() < until && captured.len() < 200 {
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            captured.push(buf[..n].to_vec());
        }
    }
    captured
}

/// Random bytes, half of them behind a valid header.
/// Up to 200 real datagrams the hostile socket hears in 2 s, to mutate;
/// at least 5 or the test cannot go on.
pub(crate) fn capture(socket: &UdpSocket) -> Vec<Vec<u8>> {
    let captured = capture_for(socket, Duration::from_secs(2));
    assert!(
        captured.len() >= 5,
        "captured only {} datagrams",
        captured.len()
    );
    captured
}

pub(crate) fn random_datagram(rng: &mut fastrand::Rng) -> Vec<u8> {
    let len = rng.usize(..1500);
    let mut d: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
    // Half look like ours, to get past the header check.
    if rng.bool() && d.len() >= 6 {
        d[..6].copy_from_slice(&[b'L', b'N', b'C', b'H', lanchat::wire::VERSION, 0]);
    }
    d
}

#[test]
fn nodes_survive_a_flood_of_garbage_and_mutations() {
    let Some(ns) = Netns::create() else { return };
    let nicks = ["h1", "h2", "h3"];
    let mut peers: Vec<Peer> = nicks.iter().map(|n| Peer::spawn(&ns, n)).collect();
    let mut ids = Vec::new();
    let mut unicast: Vec<SocketAddr> = Vec::new();
    for p in &mut peers {
        let (_, ready) = p.expect_event("ready", event("ready", &[]), WAIT);
        ids.push(ready["node"].as_str().expect("id").to_string());
        unicast.push(
            ready["addr"]
                .as_str()
                .expect("addr")
                .parse()
                .expect("socket address"),
        );
    }
    let hostile = hostile_socket(&ns);
    for (i, p) in peers.iter_mut().enumerate() {
        for (j, id) in ids.iter().enumerate() {
            if i != j {
                p.expect_event("peer_online", event("peer_online", &[("node", id)]), WAIT);
            }
        }
    }

    // Real traffic to capture: presence, channel messages, direct messages,
    // acknowledgements.
    for (i, p) in peers.iter_mut().enumerate() {
        p.send(&format!("warm-up from {i}"));
        p.send(&format!("/msg {} direct warm-up", nicks[(i + 1) % 3]));
    }
    let captured = capture(&hostile);
    std::thread::sleep(Duration::from_secs(1));
    let before: Vec<u64> = peers.iter().map(Peer::rss_kib).collect();

    let mut rng = fastrand::Rng::with_seed(0xbad);
    let group: SocketAddr = SocketAddrV4::new(GROUP, PORT).into();
    // Two halves: memory may rise to the tables' caps in the first, but must
    // not keep rising in the second.
    let mut rss = vec![before];
    for half in 0..2 {
        let started = Instant::now();
        let mut sent = 0;
        for n in 0..FLOOD / 2 {
            let d = if n % 2 == 0 {
                random_datagram(&mut rng)
            } else {
                mutate(&mut rng, &captured)
            };
            let to = if n % 4 == 0 { group } else { unicast[n % 3] };
            if hostile.send_to(&d, to).is_ok() {
                sent += 1;
            }
            // Pace a little so the kernel's buffers hand most of it to the nodes.
            if n % 500 == 499 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        std::thread::sleep(Duration::from_secs(1));
        rss.push(peers.iter().map(Peer::rss_kib).collect());
        println!(
            "flood half {half}: {sent} datagrams in {:?}; RSS KiB {:?}",
            started.elapsed(),
            rss.last()
        );
    }
    for (i, p) in peers.iter_mut().enumerate() {
        assert!(p.running(), "{} died in the flood", nicks[i]);
        let (start, mid, end) = (rss[0][i], rss[1][i], rss[2][i]);
        assert!(
            end < start + 16 * 1024,
            "{} grew from {start} to {end} KiB",
            nicks[i]
        );
        assert!(
            end < mid + 4 * 1024,
            "{} kept growing: {mid} then {end} KiB",
            nicks[i]
        );
    }

    // The phantoms mangled presences made (no signatures yet) time out, and
    // the real peers are all still there.
    std::thread::sleep(Duration::from_secs(6));
    for (i, p) in peers.iter_mut().enumerate() {
        p.send("/who");
        let (_, who) = p.expect_event("who", event("who", &[]), WAIT);
        let mut online: Vec<&str> = who["peers"]
            .as_array()
            .expect("peer list")
            .iter()
            .filter_map(|p| p["node"].as_str())
            .collect();
        online.sort_unstable();
        let mut want: Vec<&str> = ids
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, id)| id.as_str())
            .collect();
        want.sort_unstable();
        assert_eq!(online, want, "{} after the flood", nicks[i]);
    }

    // Chat still works, in #Main and directly.
    for (i, p) in peers.iter_mut().enumerate() {
        p.send(&format!("after the flood {i}"));
    }
    for (i, p) in peers.iter_mut().enumerate() {
        for j in (0..3).filter(|&j| j != i) {
            let text = format!("after the flood {j}");
            p.expect_event(
                "message after the flood",
                event("message", &[("text", &text), ("from", &ids[j])]),
                WAIT,
            );
        }
    }
    peers[0].send("/msg h2 still there?");
    let (_, sent) = peers[0].expect_event("sent", event("sent", &[("text", "still there?")]), WAIT);
    let id = sent["id"].as_str().expect("message id").to_string();
    peers[0].expect_event(
        "delivered after the flood",
        event("delivered", &[("id", &id), ("to", &ids[1])]),
        WAIT,
    );
    peers[1].expect_event(
        "DM after the flood",
        event("message", &[("text", "still there?")]),
        WAIT,
    );
}
