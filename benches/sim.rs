//! The simulated LAN of `tests/sim/net.rs`, cut down and made to scale to
//! hundreds of peers: the next wake-up comes from a heap instead of a scan
//! of every host, a unicast destination from a map, and nothing is captured
//! for the hostile tests. Same model: one seeded random source, a delay of
//! 0.1–2 ms per copy, loss per copy; a group datagram reaches every other
//! host. Every host is honest, so a receiver decodes each datagram but does
//! not check its signature (the tests do): the time per datagram is the
//! core's own work, not an Ed25519 check of some 50 µs repeated by each of
//! hundreds of receivers.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use lanchat::envelope::{self, Datagram, Opened, Unwrapped};
use lanchat::protocol::{CoreEvent, Dest, Timing};
use lanchat::wire::DecodeError;
use lanchat::{Config, Node};

/// A datagram copy on the wire: (arrival, tie-break order, from, to, bytes).
type InFlight = (Instant, u64, usize, usize, Vec<u8>);

struct Host {
    addr: SocketAddr,
    node: Node,
    wake: Option<Instant>,
    /// Killed: it neither runs nor receives.
    dead: bool,
}

/// The address and configuration of host `index`, drawn from `rng`.
pub(crate) fn host(rng: &mut fastrand::Rng, index: usize, nick: &str) -> (SocketAddr, Config) {
    let secret: [u8; 32] = rng
        .u128(..)
        .to_be_bytes()
        .repeat(2)
        .try_into()
        .expect("32 bytes");
    let keys = lanchat::envelope::Keys::from_secret(&secret);
    let addr = SocketAddr::from((
        Ipv4Addr::new(10, 77, (index / 250) as u8, (index % 250 + 1) as u8),
        40000,
    ));
    let config = Config {
        keys,
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
    (addr, config)
}

/// Opens a datagram as a receiver that trusts its sender: decoded, the
/// signature not checked (every host here is honest).
pub(crate) fn open(bytes: &[u8]) -> Result<Datagram, DecodeError> {
    envelope::unwrap(bytes, None).map(|u| match u {
        Unwrapped::Signed(u) => Datagram::Signed(Opened {
            packet: u.packet,
            key: u.key,
            counter: u.counter,
            way: u.way,
        }),
        // Checked by the receiver's copy of the sender's chain in any case.
        Unwrapped::Lean(lean) => Datagram::Lean(lean),
    })
}

/// One recorded event: (time since start, host, event).
pub(crate) type Logged = (Duration, usize, CoreEvent);

pub(crate) struct Sim {
    start: Instant,
    now: Instant,
    rng: fastrand::Rng,
    loss: f64,
    hosts: Vec<Host>,
    by_addr: HashMap<SocketAddr, usize>,
    queue: BinaryHeap<Reverse<InFlight>>,
    /// Wake-ups (time, host); an entry no longer equal to the host's wake is
    /// stale and skipped.
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    order: u64,
    pub(crate) log: Vec<Logged>,
    /// Payload bytes of group frames each host sent on one interface.
    pub(crate) group_bytes: Vec<u64>,
    /// Group frames each host sent on one interface.
    pub(crate) group_datagrams: Vec<u64>,
    /// Payload bytes each host sent unicast.
    pub(crate) unicast_bytes: Vec<u64>,
    /// Unicast datagrams each host sent.
    pub(crate) unicast_datagrams: Vec<u64>,
    /// Datagram copies handed to a node.
    pub(crate) delivered: u64,
    /// While set, the datagrams sent by kind ("group Presence",
    /// "unicast Probe", …): what idle traffic is made of.
    pub(crate) kinds: Option<BTreeMap<String, u64>>,
}

/// What a datagram is, in a word: its way and the body's variant.
fn kind(group: bool, bytes: &[u8]) -> String {
    let way = if group { "group" } else { "unicast" };
    let what = match open(bytes) {
        Ok(Datagram::Signed(o)) => {
            let debug = format!("{:?}", o.packet.body);
            debug
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or_default()
                .to_string()
        }
        Ok(Datagram::Lean(_)) => "lean beat".into(),
        Err(_) => "not decoded".into(),
    };
    format!("{way} {what}")
}

impl Sim {
    pub(crate) fn new(seed: u64, loss: f64) -> Self {
        let start = Instant::now();
        Sim {
            start,
            now: start,
            rng: fastrand::Rng::with_seed(seed),
            loss,
            hosts: Vec::new(),
            by_addr: HashMap::new(),
            queue: BinaryHeap::new(),
            timers: BinaryHeap::new(),
            order: 0,
            log: Vec::new(),
            group_bytes: Vec::new(),
            group_datagrams: Vec::new(),
            unicast_bytes: Vec::new(),
            unicast_datagrams: Vec::new(),
            delivered: 0,
            kinds: None,
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Adds and starts a node.
    pub(crate) fn add(&mut self, nick: &str) {
        let index = self.hosts.len();
        let (addr, config) = host(&mut self.rng, index, nick);
        self.hosts.push(Host {
            addr,
            node: Node::new(config, self.now),
            wake: None,
            dead: false,
        });
        self.by_addr.insert(addr, index);
        for v in [
            &mut self.group_bytes,
            &mut self.group_datagrams,
            &mut self.unicast_bytes,
            &mut self.unicast_datagrams,
        ] {
            v.push(0);
        }
        self.flush(index);
    }

    /// Kills host `index` (SIGKILL: no goodbye).
    pub(crate) fn kill(&mut self, index: usize) {
        self.hosts[index].dead = true;
        self.hosts[index].wake = None;
    }

    /// The node id of host `index`.
    pub(crate) fn id(&self, index: usize) -> lanchat::NodeId {
        self.hosts[index].node.id()
    }

    /// Datagrams all hosts sent so far (group frames and unicast).
    pub(crate) fn sent(&self) -> u64 {
        self.group_datagrams.iter().sum::<u64>() + self.unicast_datagrams.iter().sum::<u64>()
    }

    fn flush(&mut self, index: usize) {
        let now = self.now;
        let host = &mut self.hosts[index];
        let wake = host.node.poll_timeout();
        if wake != host.wake {
            host.wake = wake;
            if let Some(t) = wake {
                self.timers.push(Reverse((t, index)));
            }
        }
        let mut out = Vec::new();
        while let Some(t) = host.node.poll_transmit() {
            out.push(t);
        }
        while let Some(event) = host.node.poll_event() {
            self.log.push((now - self.start, index, event));
        }
        for t in out {
            let len = t.bytes.len() as u64;
            if let Some(kinds) = &mut self.kinds {
                let group = !matches!(t.dest, Dest::Unicast(_));
                *kinds.entry(kind(group, &t.bytes)).or_default() += 1;
            }
            match t.dest {
                Dest::Group | Dest::Multicast | Dest::Broadcast => {
                    // Frames on one interface: a `Group` datagram goes out by
                    // multicast and by broadcast, the others one way.
                    let copies = if t.dest == Dest::Group { 2 } else { 1 };
                    self.group_bytes[index] += copies * len;
                    self.group_datagrams[index] += copies;
                    for to in (0..self.hosts.len()).filter(|&i| i != index) {
                        self.transmit(index, to, t.bytes.clone());
                    }
                }
                Dest::Unicast(addr) => {
                    self.unicast_bytes[index] += len;
                    self.unicast_datagrams[index] += 1;
                    if let Some(&to) = self.by_addr.get(&addr) {
                        self.transmit(index, to, t.bytes);
                    }
                }
            }
        }
    }

    fn transmit(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if self.hosts[to].dead || self.rng.f64() < self.loss {
            return;
        }
        let delay = Duration::from_micros(self.rng.u64(100..2_000));
        self.order += 1;
        self.queue
            .push(Reverse((self.now + delay, self.order, from, to, bytes)));
    }

    /// Runs until `until` (time since start).
    pub(crate) fn run_until(&mut self, until: Duration) {
        let end = self.start + until;
        loop {
            // Drop stale timer entries.
            while let Some(&Reverse((t, i))) = self.timers.peek() {
                if self.hosts[i].wake == Some(t) {
                    break;
                }
                self.timers.pop();
            }
            let next_packet = self.queue.peek().map(|Reverse((t, ..))| *t);
            let next_timer = self.timers.peek().map(|Reverse(x)| *x);
            let next = match (next_packet, next_timer) {
                (Some(p), Some((t, _))) => p.min(t),
                (Some(p), None) => p,
                (None, Some((t, _))) => t,
                // Nothing will happen: time just passes.
                (None, None) => {
                    self.now = self.now.max(end);
                    return;
                }
            };
            if next > end {
                self.now = end;
                return;
            }
            self.now = self.now.max(next);
            if next_packet == Some(next) {
                let Some(Reverse((_, _, from, to, bytes))) = self.queue.pop() else {
                    continue;
                };
                if self.hosts[to].dead {
                    continue;
                }
                let from_addr = self.hosts[from].addr;
                let now = self.now;
                self.delivered += 1;
                let node = &mut self.hosts[to].node;
                if node.admit(now, from_addr) {
                    node.handle_opened(now, from_addr, &bytes, open(&bytes));
                }
                self.flush(to);
            } else if let Some((_, i)) = next_timer {
                self.timers.pop();
                self.hosts[i].wake = None;
                let now = self.now;
                self.hosts[i].node.handle_timeout(now);
                self.flush(i);
            }
        }
    }
}
