//! A simulated LAN on a virtual clock: N cores, one seeded random source,
//! loss, duplication and reordering per datagram copy. Time jumps to the next
//! delivery or wake-up, so ten minutes of a 50-node LAN run in seconds.
//!
//! The one simulator of the tests and of `benches/lan.rs` (which includes
//! this directory by path). The next wake-up comes from a heap and a
//! datagram's receivers from a map and from lists, not from a look at
//! every host, so a run of 300–1,000 peers spends its time in the cores.
//!
//! By default the network has room for everything and a copy arrives after
//! 0.1–2 ms. [`Sim::with_buffers`] puts finite queues and finite rates in
//! the way instead ([`buffers`]), so a burst can overflow them as on a real
//! LAN.

mod arp;
pub(crate) mod buffers;
pub(crate) mod fabric;
mod packets;
mod traffic;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use lanchat::catchup::Share;
use lanchat::envelope::{self, Datagram, Keys};
use lanchat::protocol::{ChatMessage, CoreEvent, Dest, Timing, Transmit};
use lanchat::wire::DecodeError;
use lanchat::{Config, CoreCommand, Node, NodeId};

use buffers::{Buffers, Drops, Load};
use fabric::{Fabric, Frame, Out};
// The bench uses fewer of them than the tests.
#[allow(unused_imports)]
pub(crate) use packets::{address, drawn_keys, open, open_trusted, seal, seal_direct};
pub(crate) use traffic::Traffic;

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

/// Whether a receiver checks the signature of what it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signatures {
    /// As lanchat does. A fresh datagram is checked once for all its
    /// receivers, as if each had checked it ([`Sim::opened`]).
    Checked,
    /// Decoded, not checked ([`open_trusted`]): for a run whose hosts are
    /// all honest, where a datagram's time is to be the core's own work,
    /// not an Ed25519 check of some 50 µs repeated by each of hundreds of
    /// receivers (the bench of `benches/lan.rs`). A test that forges
    /// needs `Checked`.
    Trusted,
}

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
    /// The wake-up it has in [`Sim::timers`], if any.
    queued: Option<Instant>,
    /// The wall clock given to the node at its last start, and when.
    booted: (u64, Instant),
    /// The datagram its driver waits to send while the send queue is full
    /// (finite network only).
    held: Option<Transmit>,
}

impl Host {
    /// Whether it runs its timers: not frozen, and its driver not waiting
    /// for room to send.
    fn runs(&self) -> bool {
        !self.frozen && self.held.is_none()
    }
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Logged {
    pub(crate) at: Duration,
    pub(crate) host: usize,
    pub(crate) event: CoreEvent,
}

pub(crate) struct Sim {
    pub(crate) start: Instant,
    pub(crate) now: Instant,
    rng: fastrand::Rng,
    pub(crate) faults: Faults,
    /// `Checked` unless a run asks otherwise.
    pub(crate) signatures: Signatures,
    hosts: Vec<Host>,
    /// Each host by its unicast address.
    by_addr: HashMap<SocketAddr, usize>,
    /// The hosts on each subnet, in index order (what a group datagram
    /// reaches, found without a look at every host).
    members: HashMap<usize, Vec<usize>>,
    /// The receivers of the datagram being sent, kept from one send to the
    /// next: a list of hundreds allocated for each datagram made glibc
    /// consolidate its small free chunks each time, some 7 % of the
    /// 300-peer bench's idle time.
    targets: Vec<usize>,
    queue: BinaryHeap<Reverse<InFlight>>,
    /// Wake-ups (time, host), so that the next one is found without a look
    /// at every host. An entry that is no longer the host's wake-up, or
    /// whose host does not run, is dropped when it comes up; a host that
    /// runs always has its wake-up here ([`Host::queued`]).
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    order: u64,
    pub(crate) log: Vec<Logged>,
    /// What each host's core sent.
    pub(crate) traffic: Vec<Traffic>,
    /// Every datagram sent so far, for mutation by hostile tests.
    sent: Vec<Vec<u8>>,
    pub(crate) datagrams: u64,
    pub(crate) largest: usize,
    /// When set, the time and sender of every catch-up message datagram.
    pub(crate) recalled_log: Option<Vec<(Duration, usize)>>,
    /// Datagrams opened already: opening is a pure function of the bytes
    /// (signature check, decode), so one multicast datagram is opened once
    /// for all its receivers, as if each had checked it.
    opened: HashMap<Vec<u8>, Result<Datagram, DecodeError>>,
    /// While set, channel datagrams of this author on their way to this
    /// host wait in `parked` (a repair that is slow to come).
    parking: Option<(NodeId, usize)>,
    parked: Vec<(usize, usize, Vec<u8>)>,
    /// The finite network, when chosen.
    fabric: Option<Fabric>,
    /// Times a host's driver had to wait for room in its send queue.
    pub(crate) waits: u64,
    /// When set, datagrams sent so far by their kind ("group Presence",
    /// "unicast Probe", …).
    pub(crate) kinds: Option<BTreeMap<String, u64>>,
    /// Hosts whose clock a test set, and how far off (ms): read at their
    /// next start.
    clocks: HashMap<usize, i64>,
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
            signatures: Signatures::Checked,
            hosts: Vec::new(),
            by_addr: HashMap::new(),
            members: HashMap::new(),
            targets: Vec::new(),
            queue: BinaryHeap::new(),
            timers: BinaryHeap::new(),
            order: 0,
            log: Vec::new(),
            sent: Vec::new(),
            traffic: Vec::new(),
            datagrams: 0,
            largest: 0,
            recalled_log: None,
            opened: HashMap::new(),
            parking: None,
            parked: Vec::new(),
            fabric: None,
            kinds: None,
            clocks: HashMap::new(),
            waits: 0,
        }
    }

    /// A simulation whose network has finite queues and rates.
    pub(crate) fn with_buffers(seed: u64, faults: Faults, buffers: Buffers) -> Self {
        Sim {
            fabric: Some(Fabric::new(buffers)),
            ..Sim::new(seed, faults)
        }
    }

    /// Copies the finite network dropped, by where (none without one).
    pub(crate) fn drops(&self) -> Drops {
        self.fabric.as_ref().map(Fabric::drops).unwrap_or_default()
    }

    /// How hard the finite network worked (nothing without one).
    pub(crate) fn load(&self) -> Load {
        self.fabric.as_ref().map(Fabric::load).unwrap_or_default()
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
        let keys = drawn_keys(&mut self.rng);
        let id = keys.id();
        let addr = address(index);
        self.traffic.push(Traffic::default());
        if let Some(fabric) = self.fabric.as_mut() {
            fabric.add_host(subnets);
        }
        self.by_addr.insert(addr, index);
        for &subnet in subnets {
            self.members.entry(subnet).or_default().push(index);
        }
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
            queued: None,
            booted: (0, self.now),
            held: None,
        });
        self.boot(index, nick);
        index
    }

    fn boot(&mut self, index: usize, nick: &str) {
        let elapsed_ms = self.elapsed().as_millis() as u64;
        let host = &mut self.hosts[index];
        host.epoch += 1;
        // Every host's wall clock is a little off; one is far ahead.
        let skew = match self.clocks.get(&index) {
            Some(set) => *set,
            None if index == 3 => 3_600_000,
            None => self.rng.i64(0..2_000),
        };
        let wall_ms = (1_700_000_000_000 + elapsed_ms).saturating_add_signed(skew);
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
            history_lost: false,
        };
        host.node = Some(Node::new(config, self.now));
        host.frozen = false;
        host.held = None;
        if let Some(fabric) = self.fabric.as_mut() {
            fabric.reset(index);
        }
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
    pub(crate) fn events(&self, index: usize, since: Duration) -> Vec<&CoreEvent> {
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

    /// What all hosts' cores sent.
    pub(crate) fn total_traffic(&self) -> Traffic {
        self.traffic.iter().copied().sum()
    }

    /// SIGKILL: the node vanishes without a word.
    pub(crate) fn kill(&mut self, index: usize) {
        self.hosts[index].node = None;
        self.hosts[index].wake = None;
        self.hosts[index].held = None;
        if let Some(fabric) = self.fabric.as_mut() {
            fabric.reset(index);
            fabric.hold(index, false);
        }
    }

    /// Sets the host's clock `skew_ms` off (from its next start: a node
    /// reads the wall clock once).
    pub(crate) fn set_clock(&mut self, index: usize, skew_ms: i64) {
        self.clocks.insert(index, skew_ms);
    }

    /// Starts a killed node again with the same id and a higher epoch.
    pub(crate) fn restart(&mut self, index: usize, nick: &str) {
        self.boot(index, nick);
    }

    pub(crate) fn freeze(&mut self, index: usize, frozen: bool) {
        self.hosts[index].frozen = frozen;
        let held = frozen || self.hosts[index].held.is_some();
        if let Some(fabric) = self.fabric.as_mut() {
            fabric.hold(index, held);
        }
        self.schedule(index);
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
        self.command(index, CoreCommand::Recall(kept));
    }

    pub(crate) fn command(&mut self, index: usize, cmd: CoreCommand) {
        let now = self.now;
        if let Some(node) = self.hosts[index].node.as_mut() {
            node.handle_command(now, cmd);
        }
        self.flush(index);
    }

    /// Takes what the host's core has to say: its wake-up, its events, and
    /// its datagrams (on a finite network, while its send queue has room).
    fn flush(&mut self, index: usize) {
        let now = self.now;
        let host = &mut self.hosts[index];
        let Some(node) = host.node.as_mut() else {
            return;
        };
        host.wake = node.poll_timeout();
        loop {
            let host = &mut self.hosts[index];
            let Some(node) = host.node.as_mut() else {
                return;
            };
            let Some(t) = host.held.take().or_else(|| node.poll_transmit()) else {
                break;
            };
            if let Some(fabric) = self.fabric.as_ref() {
                let frames = if t.dest == Dest::Group { 2 } else { 1 };
                if !fabric.room(index, frames, t.bytes.len()) {
                    host.held = Some(t);
                    self.waits += 1;
                    break;
                }
            }
            self.put_out(index, t);
        }
        let host = &mut self.hosts[index];
        if let Some(node) = host.node.as_mut() {
            while let Some(event) = node.poll_event() {
                self.log.push(Logged {
                    at: now - self.start,
                    host: index,
                    event,
                });
            }
        }
        let held = host.frozen || host.held.is_some();
        if let Some(fabric) = self.fabric.as_mut() {
            fabric.hold(index, held);
        }
        self.schedule(index);
    }

    /// Puts the host's wake-up among the timers, if it runs and the
    /// wake-up is not there yet.
    fn schedule(&mut self, index: usize) {
        let host = &mut self.hosts[index];
        if let Some(wake) = host.wake
            && host.runs()
            && host.queued != Some(wake)
        {
            host.queued = Some(wake);
            self.timers.push(Reverse((wake, index)));
        }
    }

    /// The first wake-up of a host that runs, and the host: the one a look
    /// at every host would find (earliest, then lowest index).
    fn next_timer(&mut self) -> Option<(Instant, usize)> {
        while let Some(&Reverse((at, index))) = self.timers.peek() {
            let host = &mut self.hosts[index];
            if host.wake == Some(at) && host.runs() {
                return Some((at, index));
            }
            // Stale, or its host is frozen or held: it comes back through
            // `schedule` when the host runs again.
            self.timers.pop();
            if host.queued == Some(at) {
                host.queued = None;
            }
        }
        None
    }

    /// Sends one datagram of the host's core on its way.
    fn put_out(&mut self, index: usize, mut t: Transmit) {
        let now = self.now;
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
        self.traffic[index].count(t.dest, t.bytes.len());
        if let Some(kinds) = self.kinds.as_mut() {
            let own = self.hosts[index]
                .node
                .as_ref()
                .map_or(0, |n| lanchat::chain::tag(n.id(), n.epoch()));
            *kinds
                .entry(traffic::kind(t.dest, &t.bytes, own))
                .or_default() += 1;
        }
        if self.sent.len() < 10_000 {
            self.sent.push(t.bytes.clone());
        }
        let mut targets = std::mem::take(&mut self.targets);
        targets.clear();
        match t.dest {
            Dest::Group | Dest::Multicast | Dest::Broadcast => {
                let mine = &self.hosts[index].subnets;
                let members = mine.iter().flat_map(|s| &self.members[s]);
                targets.extend(members.filter(|&&i| i != index));
                // In index order, once each: the order of the random draws.
                if mine.len() > 1 {
                    targets.sort_unstable();
                    targets.dedup();
                }
            }
            Dest::Unicast(addr) => targets.extend(self.by_addr.get(&addr)),
        }
        let Some(fabric) = self.fabric.as_mut() else {
            // Room for everything: one copy per receiver stands for the
            // multicast and broadcast frames of a group datagram.
            for &to in &targets {
                self.transmit(index, to, t.bytes.clone());
            }
            self.targets = targets;
            return;
        };
        if t.dest == Dest::Group {
            let mut broadcast = t.bytes.clone();
            envelope::stamp(&mut broadcast, envelope::Way::Broadcast);
            fabric.send(
                now,
                Frame {
                    from: index,
                    targets: targets.clone(),
                    bytes: t.bytes,
                    group: true,
                },
            );
            fabric.send(
                now,
                Frame {
                    from: index,
                    targets,
                    bytes: broadcast,
                    group: true,
                },
            );
        } else {
            fabric.send(
                now,
                Frame {
                    from: index,
                    targets,
                    group: !matches!(t.dest, Dest::Unicast(_)),
                    bytes: t.bytes,
                },
            );
        }
    }

    /// One copy on its way from `from` to `to`: faults, then a delay.
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
            // A finite network has its delays in its queues.
            let mut delay = match self.fabric.as_ref() {
                Some(fabric) => fabric.latency(),
                None => Duration::from_micros(self.rng.u64(100..2_000)),
            };
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

    /// Host `to`'s core handles a datagram from host `from`. A copy it has
    /// read before goes the real way (`handle_datagram`: dropped before the
    /// signature check, or taken as proof that the group reaches it); a
    /// fresh one is opened once for all its receivers.
    fn hand(&mut self, to: usize, from: usize, bytes: &[u8], again: bool) {
        let from_addr = self.hosts[from].addr;
        let now = self.now;
        let Some(node) = self.hosts[to].node.as_mut() else {
            return;
        };
        self.datagrams += 1;
        if again {
            node.handle_datagram(now, from_addr, bytes);
        } else if node.admit(now, from_addr) {
            let opened = match (self.signatures, node.workgroup()) {
                (Signatures::Trusted, workgroup) => open_trusted(bytes, workgroup),
                (Signatures::Checked, None) => {
                    if self.opened.len() >= OPENED_MEMO {
                        self.opened.clear();
                    }
                    match self.opened.get(bytes) {
                        Some(opened) => opened.clone(),
                        None => {
                            let opened = envelope::open(bytes, None);
                            self.opened.insert(bytes.to_vec(), opened.clone());
                            opened
                        }
                    }
                }
                (Signatures::Checked, workgroup) => envelope::open(bytes, workgroup),
            };
            node.handle_opened(now, from_addr, bytes, opened);
        }
        self.flush(to);
    }

    /// Runs until `until` (time since start).
    pub(crate) fn run_until(&mut self, until: Duration) {
        let end = self.start + until;
        loop {
            let next_packet = self.queue.peek().map(|Reverse((t, ..))| *t);
            let next_timer = self.next_timer();
            let next_work = self.fabric.as_ref().and_then(Fabric::next);
            let Some(next) = [next_packet, next_timer.map(|(t, _)| t), next_work]
                .into_iter()
                .flatten()
                .min()
            else {
                // Nothing will happen (no host yet, say): time just passes.
                self.now = self.now.max(end);
                return;
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
                if self.hosts[to].node.is_none() {
                    continue;
                }
                if let Some(fabric) = self.fabric.as_mut() {
                    let now = self.now;
                    fabric.arrive(now, to, from, bytes);
                } else if !self.hosts[to].frozen {
                    self.hand(to, from, &bytes, false);
                }
            } else if next_work == Some(next) {
                let now = self.now;
                let out = self.fabric.as_mut().and_then(|f| f.step(now));
                match out {
                    Some(Out::Forwarded { from, to, bytes }) => self.transmit(from, to, bytes),
                    Some(Out::Sent(host)) if self.hosts[host].held.is_some() => self.flush(host),
                    Some(Out::Read {
                        host,
                        from,
                        bytes,
                        again,
                    }) => self.hand(host, from, &bytes, again),
                    Some(Out::Sent(_)) | None => {}
                }
            } else if let Some((_, i)) = next_timer {
                self.timers.pop();
                self.hosts[i].queued = None;
                let now = self.now;
                if let Some(node) = self.hosts[i].node.as_mut() {
                    node.handle_timeout(now);
                }
                self.flush(i);
            }
            let now = self.now;
            if let Some(fabric) = self.fabric.as_mut() {
                fabric.dispatch(now);
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
