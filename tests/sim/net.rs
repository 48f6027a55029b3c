//! A simulated LAN on a virtual clock: N cores, one seeded random source,
//! loss, duplication and reordering per datagram copy. Time jumps to the next
//! delivery or wake-up, so ten minutes of a 50-node LAN run in seconds.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use lanchat::api::{ChatMessage, Dest, Event, Timing};
use lanchat::catchup::Share;
use lanchat::envelope::{self, Keys};
use lanchat::wire::{DecodeError, Packet};
use lanchat::{Command, Config, Node, NodeId};

/// How the network misbehaves.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Faults {
    /// Chance that a copy is lost.
    pub(crate) loss: f64,
    /// Chance that a copy is delivered twice.
    pub(crate) duplicate: f64,
    /// Chance that a copy is held back (and so overtaken).
    pub(crate) reorder: f64,
}

impl Faults {
    /// A network that loses, doubles and reorders nothing by itself.
    pub(crate) fn none() -> Self {
        Faults {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
        }
    }

    pub(crate) fn lossy(loss: f64) -> Self {
        Faults {
            loss,
            duplicate: 0.05,
            reorder: 0.1,
        }
    }
}

/// Ethernet (14), IPv4 (20) and UDP (8) header bytes of one datagram.
pub(crate) const FRAME_OVERHEAD: u64 = 42;

/// A datagram copy on the wire: (arrival, tie-break order, from, to, bytes).
type InFlight = (Instant, u64, usize, usize, Vec<u8>);

struct Host {
    id: NodeId,
    keys: Keys,
    epoch: u64,
    addr: SocketAddr,
    node: Option<Node>,
    /// Frozen hosts neither run timers nor receive (SIGSTOP).
    frozen: bool,
    /// Cut hosts run but nothing reaches them or leaves them (cable out).
    cut: bool,
    /// Deaf hosts send, but nothing reaches them (an inbound firewall).
    deaf: bool,
    /// The subnets the host is on: group traffic reaches the hosts that
    /// share one; unicast reaches every host (the subnets are routed).
    subnets: Vec<usize>,
    /// Addresses it is told to reach by unicast (`--peer`).
    peers: Vec<SocketAddr>,
    /// The history it asks for when joining a channel it has none of.
    share: Option<Share>,
    /// The node's wake-up, cached after each step it takes.
    wake: Option<Instant>,
    /// The wall clock given to the node at its last start, and when.
    booted: (u64, Instant),
}

/// One recorded event.
#[derive(Clone, Debug)]
pub(crate) struct Logged {
    pub(crate) at: Duration,
    pub(crate) host: usize,
    pub(crate) event: Event,
}

pub(crate) struct Sim {
    pub(crate) start: Instant,
    pub(crate) now: Instant,
    rng: fastrand::Rng,
    pub(crate) faults: Faults,
    hosts: Vec<Host>,
    queue: BinaryHeap<Reverse<InFlight>>,
    order: u64,
    pub(crate) log: Vec<Logged>,
    /// Bytes each host put on its wire, headers included.
    pub(crate) bytes_sent: Vec<u64>,
    /// Every datagram sent so far, for mutation by hostile tests.
    sent: Vec<Vec<u8>>,
    pub(crate) datagrams: u64,
    pub(crate) largest: usize,
    /// When set, the time and sender of every catch-up message datagram.
    pub(crate) recalled_log: Option<Vec<(Duration, usize)>>,
    /// Datagrams opened already: opening is a pure function of the bytes
    /// (signature check, decode), so one multicast datagram is opened once
    /// for all its receivers, as if each had checked it.
    opened: HashMap<Vec<u8>, Result<envelope::Opened, DecodeError>>,
    /// While set, channel datagrams of this author on their way to this
    /// host wait in `parked` (a repair that is slow to come).
    parking: Option<(NodeId, usize)>,
    parked: Vec<(usize, usize, Vec<u8>)>,
}

/// Most opened datagrams remembered before the memo starts over.
const OPENED_MEMO: usize = 50_000;

impl Sim {
    pub(crate) fn new(seed: u64, faults: Faults) -> Self {
        let start = Instant::now();
        Sim {
            start,
            now: start,
            rng: fastrand::Rng::with_seed(seed),
            faults,
            hosts: Vec::new(),
            queue: BinaryHeap::new(),
            order: 0,
            log: Vec::new(),
            sent: Vec::new(),
            bytes_sent: Vec::new(),
            datagrams: 0,
            largest: 0,
            recalled_log: None,
            opened: HashMap::new(),
            parking: None,
            parked: Vec::new(),
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Adds and starts a node; returns its index.
    pub(crate) fn add(&mut self, nick: &str) -> usize {
        self.add_with_share(nick, Some(Share::default()))
    }

    /// Adds and starts a node that asks for `share` history when joining.
    pub(crate) fn add_with_share(&mut self, nick: &str, share: Option<Share>) -> usize {
        self.add_host(nick, share, &[0], &[])
    }

    /// Adds and starts a node on these subnets that reaches `peers` by
    /// unicast too.
    pub(crate) fn add_on(&mut self, nick: &str, subnets: &[usize], peers: &[SocketAddr]) -> usize {
        self.add_host(nick, Some(Share::default()), subnets, peers)
    }

    fn add_host(
        &mut self,
        nick: &str,
        share: Option<Share>,
        subnets: &[usize],
        peers: &[SocketAddr],
    ) -> usize {
        let index = self.hosts.len();
        // From the seeded generator, so a failing seed replays the same ids.
        let keys = Keys::from_secret(
            &self
                .rng
                .u128(..)
                .to_be_bytes()
                .repeat(2)
                .try_into()
                .expect("32 bytes"),
        );
        let id = keys.id();
        let addr = SocketAddr::from((
            Ipv4Addr::new(10, 77, (index / 250) as u8, (index % 250 + 1) as u8),
            40000,
        ));
        self.bytes_sent.push(0);
        self.hosts.push(Host {
            id,
            keys,
            epoch: 0,
            addr,
            node: None,
            frozen: false,
            cut: false,
            deaf: false,
            subnets: subnets.to_vec(),
            peers: peers.to_vec(),
            share,
            wake: None,
            booted: (0, self.now),
        });
        self.boot(index, nick);
        index
    }

    fn boot(&mut self, index: usize, nick: &str) {
        let elapsed_ms = self.elapsed().as_millis() as u64;
        let host = &mut self.hosts[index];
        host.epoch += 1;
        // Every host's wall clock is a little off; one is far ahead.
        let skew = if index == 3 {
            3_600_000
        } else {
            self.rng.u64(0..2_000)
        };
        let wall_ms = 1_700_000_000_000 + skew + elapsed_ms;
        host.booted = (wall_ms, self.now);
        let config = Config {
            keys: host.keys.clone(),
            workgroup: None,
            seen: Vec::new(),
            epoch: host.epoch,
            nick: nick.to_string(),
            host: format!("pc{index}"),
            wall_ms,
            seed: self.rng.u64(..),
            timing: Timing::default(),
            share: host.share,
            peers: host.peers.clone(),
        };
        host.node = Some(Node::new(config, self.now));
        host.frozen = false;
        self.flush(index);
    }

    pub(crate) fn id(&self, index: usize) -> NodeId {
        self.hosts[index].id
    }

    /// The host's key pair (a test forging what only it could send).
    pub(crate) fn keys(&self, index: usize) -> Keys {
        self.hosts[index].keys.clone()
    }

    /// The host's unicast address (where its datagrams come from).
    pub(crate) fn addr(&self, index: usize) -> SocketAddr {
        self.hosts[index].addr
    }

    /// The host's wall clock (ms since the Unix epoch) at `at` since start,
    /// as its node sees it (skew included).
    pub(crate) fn wall_ms_at(&self, index: usize, at: Duration) -> u64 {
        let (wall, booted) = self.hosts[index].booted;
        let since_boot = (self.start + at).saturating_duration_since(booted);
        wall + since_boot.as_millis() as u64
    }

    /// Events of one host at or after `since`, in order.
    pub(crate) fn events(&self, index: usize, since: Duration) -> Vec<&Event> {
        self.log
            .iter()
            .filter(|l| l.host == index && l.at >= since)
            .map(|l| &l.event)
            .collect()
    }

    pub(crate) fn node(&self, index: usize) -> Option<&Node> {
        self.hosts[index].node.as_ref()
    }

    /// The host's core, to feed it by hand (bypassing the network).
    pub(crate) fn node_mut(&mut self, index: usize) -> Option<&mut Node> {
        self.hosts[index].node.as_mut()
    }

    pub(crate) fn len(&self) -> usize {
        self.hosts.len()
    }

    /// SIGKILL: the node vanishes without a word.
    pub(crate) fn kill(&mut self, index: usize) {
        self.hosts[index].node = None;
        self.hosts[index].wake = None;
    }

    /// Starts a killed node again with the same id and a higher epoch.
    pub(crate) fn restart(&mut self, index: usize, nick: &str) {
        self.boot(index, nick);
    }

    pub(crate) fn freeze(&mut self, index: usize, frozen: bool) {
        self.hosts[index].frozen = frozen;
    }

    /// Makes nothing reach the host (`true`), as an inbound firewall does.
    pub(crate) fn deaf(&mut self, index: usize, deaf: bool) {
        self.hosts[index].deaf = deaf;
    }

    /// The host's address where a node's group socket listens (what
    /// `--peer` names); in the simulation, the same as its unicast one.
    pub(crate) fn peer_addr(&self, index: usize) -> SocketAddr {
        self.hosts[index].addr
    }

    /// Pulls the host's cable out (`true`) or plugs it back in.
    pub(crate) fn cut(&mut self, index: usize, cut: bool) {
        self.hosts[index].cut = cut;
    }

    /// Holds back `author`'s channel datagrams on their way to host `to`,
    /// whoever passes them on, until [`Sim::release`].
    pub(crate) fn park_channel(&mut self, author: NodeId, to: usize) {
        self.parking = Some((author, to));
    }

    /// Lets the parked datagrams go on, in the order they were sent.
    pub(crate) fn release(&mut self) {
        self.parking = None;
        for (from, to, bytes) in std::mem::take(&mut self.parked) {
            self.transmit(from, to, bytes);
        }
    }

    /// Starts a host again with the same id and a higher epoch, and gives
    /// it messages of its earlier life, as the driver does from the store.
    pub(crate) fn restart_with(&mut self, index: usize, nick: &str, kept: Vec<ChatMessage>) {
        self.boot(index, nick);
        self.command(index, Command::Recall(kept));
    }

    pub(crate) fn command(&mut self, index: usize, cmd: Command) {
        let now = self.now;
        if let Some(node) = self.hosts[index].node.as_mut() {
            node.handle_command(now, cmd);
        }
        self.flush(index);
    }

    fn flush(&mut self, index: usize) {
        let now = self.now;
        let host = &mut self.hosts[index];
        let Some(node) = host.node.as_mut() else {
            return;
        };
        host.wake = node.poll_timeout();
        let mut out = Vec::new();
        while let Some(t) = node.poll_transmit() {
            out.push(t);
        }
        while let Some(event) = node.poll_event() {
            self.log.push(Logged {
                at: now - self.start,
                host: index,
                event,
            });
        }
        for mut t in out {
            let way = match t.dest {
                Dest::Group | Dest::Multicast => envelope::Way::Multicast,
                Dest::Broadcast => envelope::Way::Broadcast,
                Dest::Unicast(_) => envelope::Way::Unicast,
            };
            envelope::stamp(&mut t.bytes, way);
            if let Some(log) = self.recalled_log.as_mut()
                && let Some(p) = open(&t.bytes)
                && matches!(p.body, lanchat::wire::Body::Recalled(_))
            {
                log.push((now - self.start, index));
            }
            self.largest = self.largest.max(t.bytes.len());
            assert!(
                t.bytes.len() <= lanchat::wire::MAX_DATAGRAM,
                "oversized datagram"
            );
            // On the wire of a host with one interface: a group datagram
            // goes out twice (multicast and broadcast), and each frame has
            // Ethernet, IPv4 and UDP headers.
            let copies = if t.dest == Dest::Group { 2 } else { 1 };
            self.bytes_sent[index] += copies * (t.bytes.len() as u64 + FRAME_OVERHEAD);
            if self.sent.len() < 10_000 {
                self.sent.push(t.bytes.clone());
            }
            let targets: Vec<usize> = match t.dest {
                Dest::Group | Dest::Multicast | Dest::Broadcast => {
                    let mine = &self.hosts[index].subnets;
                    (0..self.hosts.len())
                        .filter(|&i| i != index)
                        .filter(|&i| self.hosts[i].subnets.iter().any(|s| mine.contains(s)))
                        .collect()
                }
                Dest::Unicast(addr) => self
                    .hosts
                    .iter()
                    .position(|h| h.addr == addr)
                    .into_iter()
                    .collect(),
            };
            for to in targets {
                self.transmit(index, to, t.bytes.clone());
            }
        }
    }

    fn transmit(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if self.hosts[from].cut
            || self.hosts[to].cut
            || self.hosts[to].deaf
            || self.rng.f64() < self.faults.loss
        {
            return;
        }
        if let Some((author, host)) = self.parking
            && host == to
            && open(&bytes).is_some_and(|p| {
                p.from == author && matches!(p.body, lanchat::wire::Body::Channel(_))
            })
        {
            self.parked.push((from, to, bytes));
            return;
        }
        let copies = if self.rng.f64() < self.faults.duplicate {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut delay = Duration::from_micros(self.rng.u64(100..2_000));
            if self.rng.f64() < self.faults.reorder {
                delay += Duration::from_millis(self.rng.u64(1..30));
            }
            self.order += 1;
            self.queue.push(Reverse((
                self.now + delay,
                self.order,
                from,
                to,
                bytes.clone(),
            )));
        }
    }

    /// Runs until `until` (time since start).
    pub(crate) fn run_until(&mut self, until: Duration) {
        let end = self.start + until;
        loop {
            let next_packet = self.queue.peek().map(|Reverse((t, ..))| *t);
            let next_timer = self
                .hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| !h.frozen)
                .filter_map(|(i, h)| h.wake.map(|t| (t, i)))
                .min();
            let next = match (next_packet, next_timer) {
                (Some(p), Some((t, _))) => p.min(t),
                (Some(p), None) => p,
                (None, Some((t, _))) => t,
                (None, None) => end,
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
                let from_addr = self.hosts[from].addr;
                let now = self.now;
                let host = &mut self.hosts[to];
                if host.frozen {
                    continue;
                }
                if let Some(node) = host.node.as_mut() {
                    self.datagrams += 1;
                    if node.admit(now, from_addr) {
                        if node.workgroup().is_none() {
                            if self.opened.len() >= OPENED_MEMO {
                                self.opened.clear();
                            }
                            let opened = match self.opened.get(&bytes) {
                                Some(opened) => opened.clone(),
                                None => {
                                    let opened = envelope::open(&bytes, None);
                                    self.opened.insert(bytes.clone(), opened.clone());
                                    opened
                                }
                            };
                            node.handle_opened(now, from_addr, &bytes, opened);
                        } else {
                            let opened = envelope::open(&bytes, node.workgroup());
                            node.handle_opened(now, from_addr, &bytes, opened);
                        }
                    }
                    self.flush(to);
                }
            } else if let Some((_, i)) = next_timer {
                let now = self.now;
                if let Some(node) = self.hosts[i].node.as_mut() {
                    node.handle_timeout(now);
                }
                self.flush(i);
            }
        }
    }

    /// Datagrams the nodes sent (the first 10,000).
    pub(crate) fn captured(&self) -> Vec<Vec<u8>> {
        self.sent.clone()
    }

    /// Sends raw bytes to a node as if from `addr`.
    pub(crate) fn inject(&mut self, to: usize, from: SocketAddr, bytes: &[u8]) {
        let now = self.now;
        if let Some(node) = self.hosts[to].node.as_mut() {
            node.handle_datagram(now, from, bytes);
        }
        self.flush(to);
    }
}

/// Signs a packet as `keys` would send it, with a counter no test used
/// before (a datagram the node has not seen).
pub(crate) fn seal(keys: &Keys, packet: &Packet) -> Vec<u8> {
    envelope::seal(packet, next_counter(), keys, None).expect("seals")
}

fn next_counter() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1 << 40);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A direct-message fragment from `keys` in life `epoch`, sealed for the
/// node with key `to` as lanchat sends it.
pub(crate) fn seal_direct(
    keys: &Keys,
    epoch: u64,
    to: &envelope::PublicKey,
    msg: &lanchat::wire::DirectMsg,
) -> Vec<u8> {
    let counter = next_counter();
    let (send, _) = keys.direct_keys(to).expect("keys");
    let bytes = send.seal(
        keys.id(),
        to.id(),
        epoch,
        counter,
        &lanchat::wire::encode_direct(msg),
    );
    let packet = Packet {
        from: keys.id(),
        epoch,
        body: lanchat::wire::Body::Sealed { to: to.id(), bytes },
    };
    envelope::seal(&packet, counter, keys, None).expect("seals")
}

/// The packet in a datagram of the open LAN.
pub(crate) fn open(bytes: &[u8]) -> Option<Packet> {
    envelope::open(bytes, None).ok().map(|o| o.packet)
}
