//! One node among many peers that only send: what a datagram costs one
//! node, with only that node's state in memory.
//!
//! The simulated LAN (`tests/sim/net/`) holds the state of every node
//! (each knowing every other), so at a thousand peers its memory is a
//! million peer entries and each datagram finds its receiver's tables out
//! of the cache: its time per datagram grows with the size of the
//! simulation, not only with the work of one node. Here the peers run the real core on their own
//! (heartbeats, full presences, start-up hellos, as they would on a LAN
//! where they hear nobody) and their datagrams are recorded first; then one
//! node, the hub, takes them in arrival order as the driver would feed it,
//! each followed by `poll_timeout`, with its timeouts between them. Only
//! the hub's work is timed. What the hub sends is dropped (its pings and
//! catch-up go unanswered, as with peers behind a firewall).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use lanchat::protocol::{Dest, Timing};
use lanchat::{Config, Node};

use crate::Cpu;
use crate::sim::{address, drawn_keys, open_trusted};

/// What the hub measured.
pub(crate) struct Measured {
    /// CPU of the hub per datagram received in the window.
    pub(crate) per_datagram: Duration,
    /// Datagrams received in the window.
    pub(crate) datagrams: u64,
    /// Peers the hub had online at the end.
    pub(crate) online: usize,
}

/// A datagram on its way to the hub: (arrival, order, from, bytes).
type ToHub = (Instant, u64, SocketAddr, Vec<u8>);

/// Runs `peers` senders for `settle` and then `idle`, and the hub over
/// what they sent; a datagram is lost with probability `loss`.
pub(crate) fn run(peers: usize, loss: f64, settle: Duration, idle: Duration) -> Measured {
    let start = Instant::now();
    let end = start + settle + idle;
    let mut rng = fastrand::Rng::with_seed(0x4ab);
    let (_, hub_config) = host(&mut rng, 0, "hub");
    let mut senders: Vec<(SocketAddr, Node)> = (1..=peers)
        .map(|i| {
            let (addr, config) = host(&mut rng, i, &format!("p{i}"));
            (addr, Node::new(config, start))
        })
        .collect();
    // The senders, on virtual time: their group datagrams are recorded.
    let mut wire: Vec<ToHub> = Vec::new();
    let mut timers: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let mut order = 0;
    for (i, (_, node)) in senders.iter().enumerate() {
        if let Some(wake) = node.poll_timeout() {
            timers.push(Reverse((wake, i)));
        }
    }
    while let Some(Reverse((now, i))) = timers.pop() {
        let (addr, node) = &mut senders[i];
        node.handle_timeout(now);
        while let Some(t) = node.poll_transmit() {
            if t.dest != Dest::Group && t.dest != Dest::Multicast && t.dest != Dest::Broadcast
                || rng.f64() < loss
            {
                continue;
            }
            order += 1;
            let arrival = now + Duration::from_micros(rng.u64(100..2_000));
            wire.push((arrival, order, *addr, t.bytes));
        }
        while node.poll_event().is_some() {}
        if let Some(wake) = node.poll_timeout().filter(|t| *t <= end) {
            timers.push(Reverse((wake.max(now), i)));
        }
    }
    drop(senders);
    wire.sort_unstable_by_key(|(at, order, ..)| (*at, *order));
    // The hub.
    let mut hub = Node::new(hub_config, start);
    let window = start + settle;
    let mut cpu = None;
    let mut datagrams = 0;
    for (at, _, from, bytes) in &wire {
        if *at > end {
            break;
        }
        if cpu.is_none() && *at >= window {
            timeouts(&mut hub, window);
            cpu = Some(Cpu::now());
        }
        timeouts(&mut hub, *at);
        if hub.admit(*at, *from) {
            hub.handle_opened(*at, *from, bytes, open_trusted(bytes, None));
        }
        drain(&mut hub);
        // As the driver does after every datagram.
        std::hint::black_box(hub.poll_timeout());
        if cpu.is_some() {
            datagrams += 1;
        }
    }
    timeouts(&mut hub, end);
    let used = cpu.map_or(Duration::ZERO, |c| c.elapsed());
    Measured {
        per_datagram: used / u32::try_from(datagrams.max(1)).unwrap_or(u32::MAX),
        datagrams,
        online: hub.peers().len(),
    }
}

/// The address and configuration of host `index`, drawn from `rng`.
fn host(rng: &mut fastrand::Rng, index: usize, nick: &str) -> (SocketAddr, Config) {
    let config = Config {
        keys: drawn_keys(rng),
        workgroup: None,
        seen: Vec::new(),
        epoch: 1,
        nick: nick.to_string(),
        host: format!("pc{index}"),
        wall_ms: 1_700_000_000_000 + rng.u64(0..2_000),
        seed: rng.u64(..),
        timing: Timing::default(),
        share: Some(lanchat::catchup::Share::default()),
        peers: Vec::new(),
        history_lost: false,
    };
    (address(index), config)
}

/// Runs the hub's timeouts due by `now`.
fn timeouts(hub: &mut Node, now: Instant) {
    let mut last = None;
    let mut again = 0;
    while let Some(t) = hub.poll_timeout().filter(|t| *t <= now) {
        again = if last == Some(t) { again + 1 } else { 0 };
        assert!(again < 1_000, "the hub asks again and again for {t:?}");
        last = Some(t);
        hub.handle_timeout(t);
        drain(hub);
    }
}

/// Drops what the hub sends and shows.
fn drain(hub: &mut Node) {
    while hub.poll_transmit().is_some() {}
    while hub.poll_event().is_some() {}
}
