//! The machinery of the finite network that `buffers` describes: send
//! queues and lines, the switch's buffer, the receive queues, and the cores
//! that forward and read, on the simulation's clock.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use lanchat::envelope;

use super::arp::{self, Arp, Hold, Neighbours, Retry};
use super::buffers::{Buffers, Drops, Load, truesize};

/// A frame handed to a host's line: from whom, to which hosts, the bytes,
/// and whether it is multicast or broadcast (no neighbour to resolve).
pub(crate) struct Frame {
    pub(crate) from: usize,
    pub(crate) targets: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
    pub(crate) group: bool,
}

impl Frame {
    /// Bytes on the wire: Ethernet, IPv4, UDP headers (42) and preamble,
    /// frame check and gap (24).
    fn wire(len: usize) -> u64 {
        len as u64 + 42 + 24
    }
}

/// What the fabric hands back to the simulation.
pub(crate) enum Out {
    /// A frame copy left the switch for host `to` (faults and latency are
    /// the simulation's).
    Forwarded {
        from: usize,
        to: usize,
        bytes: Vec<u8>,
    },
    /// Frames left the host's send queue: it may have room.
    Sent(usize),
    /// The host has read this datagram: the core handles it now.
    Read {
        host: usize,
        from: usize,
        bytes: Vec<u8>,
        again: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Task {
    Host(usize),
    Switch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    /// The head frame of a host's send queue is on the wire.
    Line(usize),
    /// A host's request for a neighbour's address waited long enough.
    Arp(usize, usize),
    /// A task finished its unit of work (one datagram, one copy).
    Done(Task),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Ready,
    Running,
}

/// A datagram in a receive queue.
struct Received {
    from: usize,
    bytes: Vec<u8>,
    group: bool,
}

struct Port {
    line: VecDeque<Frame>,
    line_bytes: u64,
    received: VecDeque<Received>,
    group_bytes: u64,
    unicast_bytes: u64,
    /// The datagram being read, and whether it is a copy.
    reading: Option<(Received, bool)>,
    /// Signatures read (a copy of one costs less).
    seen: HashSet<u64>,
    /// Neither reading nor taking a core (blocked on a send, frozen).
    held: bool,
    state: State,
    drops: Drops,
    /// The subnets (links) it is on, and its neighbour table.
    links: Vec<usize>,
    arp: Neighbours,
}

struct Switch {
    queue: VecDeque<(usize, usize, Vec<u8>)>,
    forwarding: Option<(usize, usize, Vec<u8>)>,
    state: State,
}

/// Most signatures a host remembers before it starts over (a copy then
/// costs a fresh read; the core's own replay window still drops it).
const SEEN_MEMO: usize = 200_000;

/// The queues and cores of a finite network.
pub(crate) struct Fabric {
    config: Buffers,
    ports: Vec<Port>,
    switch: Switch,
    /// Shared cores free; unused without shared cores.
    free: usize,
    ready: VecDeque<Task>,
    /// Tasks that finished a unit and have not been placed again, with
    /// the time they have run in this turn.
    finished: Vec<(Task, Duration)>,
    /// Time each running task has run in its turn.
    turn: Vec<Duration>,
    switch_turn: Duration,
    events: BinaryHeap<Reverse<(Instant, u64, Job)>>,
    order: u64,
    load: Load,
}

impl Fabric {
    pub(crate) fn new(config: Buffers) -> Self {
        Fabric {
            config,
            ports: Vec::new(),
            switch: Switch {
                queue: VecDeque::new(),
                forwarding: None,
                state: State::Idle,
            },
            free: config.cores.unwrap_or(0),
            ready: VecDeque::new(),
            finished: Vec::new(),
            turn: Vec::new(),
            switch_turn: Duration::ZERO,
            events: BinaryHeap::new(),
            order: 0,
            load: Load::default(),
        }
    }

    pub(crate) fn add_host(&mut self, links: &[usize]) {
        self.ports.push(Port {
            line: VecDeque::new(),
            line_bytes: 0,
            received: VecDeque::new(),
            group_bytes: 0,
            unicast_bytes: 0,
            reading: None,
            seen: HashSet::new(),
            held: false,
            state: State::Idle,
            drops: Drops::default(),
            links: links.to_vec(),
            arp: Neighbours::default(),
        });
        self.turn.push(Duration::ZERO);
    }

    /// From leaving the switch to a receiver's socket.
    pub(crate) fn latency(&self) -> Duration {
        self.config.latency
    }

    /// How hard it worked so far.
    pub(crate) fn load(&self) -> Load {
        self.load
    }

    /// Drops per kind, all hosts.
    pub(crate) fn drops(&self) -> Drops {
        let mut all = Drops::default();
        for p in &self.ports {
            all.add(&p.drops);
        }
        all
    }

    /// Whether the host's send queue takes `frames` frames of `len` bytes.
    pub(crate) fn room(&self, host: usize, frames: usize, len: usize) -> bool {
        let port = &self.ports[host];
        let queued = port.line_bytes + port.arp.waiting_bytes();
        queued == 0 || queued + frames as u64 * Frame::wire(len) <= self.config.send_queue
    }

    /// Sends a frame: onto its sender's line, or first to resolve the
    /// neighbour it goes to.
    pub(crate) fn send(&mut self, now: Instant, frame: Frame) {
        let host = frame.from;
        if self.config.neighbours
            && !frame.group
            && let [to] = frame.targets[..]
            && self.on_link(host, to)
            && !self.ports[host].arp.known(to)
        {
            match self.ports[host].arp.hold(to, frame) {
                Hold::Ask => self.ask(now, host, to),
                Hold::Queued => {}
                Hold::Dropped(n) => self.ports[to].drops.neighbour += n,
            }
            return;
        }
        self.line(now, frame);
    }

    /// Whether two hosts share a link (else a router resolves the second).
    fn on_link(&self, a: usize, b: usize) -> bool {
        self.ports[a]
            .links
            .iter()
            .any(|l| self.ports[b].links.contains(l))
    }

    /// Broadcasts a request for `to`'s address and sets its timer.
    fn ask(&mut self, now: Instant, host: usize, to: usize) {
        let mates: Vec<usize> = (0..self.ports.len())
            .filter(|&i| i != host && self.on_link(host, i))
            .collect();
        self.line(
            now,
            Frame {
                from: host,
                targets: mates,
                bytes: Arp::Request { target: to }.bytes(),
                group: true,
            },
        );
        self.schedule(now + arp::RETRY, Job::Arp(host, to));
    }

    /// Queues a frame on its sender's line.
    fn line(&mut self, now: Instant, frame: Frame) {
        let host = frame.from;
        let len = frame.bytes.len();
        let port = &mut self.ports[host];
        port.line_bytes += Frame::wire(len);
        port.line.push_back(frame);
        if port.line.len() == 1 {
            let at = now + self.on_wire(len);
            self.schedule(at, Job::Line(host));
        }
    }

    /// Stops (`true`) or resumes the host's reading.
    pub(crate) fn hold(&mut self, host: usize, held: bool) {
        self.ports[host].held = held;
        if !held {
            self.wake(Task::Host(host));
        }
    }

    /// A host's process ended: its sockets and what they held are gone.
    pub(crate) fn reset(&mut self, host: usize) {
        let port = &mut self.ports[host];
        port.received.clear();
        port.group_bytes = 0;
        port.unicast_bytes = 0;
        port.seen.clear();
    }

    /// A copy reaches host `to`: its kernel answers ARP; anything else goes
    /// to a socket (which one, the way hint says).
    pub(crate) fn arrive(&mut self, now: Instant, to: usize, from: usize, bytes: Vec<u8>) {
        match Arp::read(&bytes) {
            Some(Arp::Request { target }) => {
                if target == to {
                    self.learned(now, to, from);
                    self.line(
                        now,
                        Frame {
                            from: to,
                            targets: vec![from],
                            bytes: Arp::Reply.bytes(),
                            group: false,
                        },
                    );
                }
                return;
            }
            Some(Arp::Reply) => {
                self.learned(now, to, from);
                return;
            }
            None => {}
        }
        let group = envelope::way_of(&bytes).is_group();
        let cap = self.config.recv_queue;
        let port = &mut self.ports[to];
        let (used, dropped) = if group {
            (&mut port.group_bytes, &mut port.drops.group_socket)
        } else {
            (&mut port.unicast_bytes, &mut port.drops.unicast_socket)
        };
        // As udp_rmem_schedule: over capacity already, dropped; otherwise
        // taken, even if it goes over.
        if *used > cap {
            *dropped += 1;
            return;
        }
        *used += truesize(bytes.len());
        port.received.push_back(Received { from, bytes, group });
        self.wake(Task::Host(to));
    }

    /// `host` learned `peer`'s address: what waited for it goes out.
    fn learned(&mut self, now: Instant, host: usize, peer: usize) {
        for frame in self.ports[host].arp.learn(peer) {
            self.line(now, frame);
        }
    }

    /// When the next piece of work is done.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.events.peek().map(|Reverse((t, ..))| *t)
    }

    /// Does the next piece of work (due at `now`); [`Fabric::dispatch`]
    /// must follow once the simulation has handled what it gives.
    pub(crate) fn step(&mut self, now: Instant) -> Option<Out> {
        let Reverse((_, _, job)) = self.events.pop()?;
        match job {
            Job::Line(host) => {
                let port = &mut self.ports[host];
                let frame = port.line.pop_front()?;
                port.line_bytes -= Frame::wire(frame.bytes.len());
                if let Some(len) = port.line.front().map(|f| f.bytes.len()) {
                    let at = now + self.on_wire(len);
                    self.schedule(at, Job::Line(host));
                }
                self.flood(frame);
                Some(Out::Sent(host))
            }
            Job::Arp(host, peer) => {
                match self.ports[host].arp.retry(peer) {
                    Retry::Ask => self.ask(now, host, peer),
                    Retry::GaveUp(n) => {
                        self.ports[peer].drops.neighbour += n;
                        // What waited was charged to the send queue.
                        return Some(Out::Sent(host));
                    }
                    Retry::Done => {}
                }
                None
            }
            Job::Done(Task::Host(host)) => {
                let (r, again) = self.ports[host].reading.take()?;
                self.finished.push((Task::Host(host), self.turn[host]));
                Some(Out::Read {
                    host,
                    from: r.from,
                    bytes: r.bytes,
                    again,
                })
            }
            Job::Done(Task::Switch) => {
                let (from, to, bytes) = self.switch.forwarding.take()?;
                self.finished.push((Task::Switch, self.switch_turn));
                Some(Out::Forwarded { from, to, bytes })
            }
        }
    }

    /// Gives the cores their next work: a task that finished a unit goes
    /// on while it has work and its slice lasts (or nobody waits), else
    /// the first task waiting takes the core.
    pub(crate) fn dispatch(&mut self, now: Instant) {
        let shared = self.config.cores.is_some();
        for (task, ran) in std::mem::take(&mut self.finished) {
            if self.has_work(task) {
                let waiting = shared && !self.ready.is_empty();
                if ran < self.config.slice || !waiting {
                    let ran = if ran < self.config.slice {
                        ran
                    } else {
                        Duration::ZERO
                    };
                    self.start(now, task, ran);
                    continue;
                }
                *self.state(task) = State::Ready;
                self.ready.push_back(task);
            } else {
                *self.state(task) = State::Idle;
            }
            self.free += 1;
        }
        while !shared || self.free > 0 {
            let Some(task) = self.ready.pop_front() else {
                break;
            };
            if !self.has_work(task) {
                *self.state(task) = State::Idle;
                continue;
            }
            if shared {
                self.free -= 1;
            }
            self.start(now, task, Duration::ZERO);
        }
    }

    fn on_wire(&self, len: usize) -> Duration {
        Duration::from_nanos(Frame::wire(len) * 8 * 1_000_000_000 / self.config.line_rate)
    }

    fn schedule(&mut self, at: Instant, job: Job) {
        self.order += 1;
        self.events.push(Reverse((at, self.order, job)));
    }

    /// A frame enters the switch: a copy for each receiving port, each
    /// taking a slot of the shared buffer or dropped.
    fn flood(&mut self, frame: Frame) {
        let Frame {
            from,
            targets,
            bytes,
            ..
        } = frame;
        for to in targets {
            if self.switch.queue.len() >= self.config.switch_frames {
                self.ports[to].drops.switch += 1;
            } else {
                self.switch.queue.push_back((from, to, bytes.clone()));
            }
        }
        self.load.switch_peak = self.load.switch_peak.max(self.switch.queue.len());
        self.wake(Task::Switch);
    }

    fn state(&mut self, task: Task) -> &mut State {
        match task {
            Task::Host(h) => &mut self.ports[h].state,
            Task::Switch => &mut self.switch.state,
        }
    }

    fn has_work(&self, task: Task) -> bool {
        match task {
            Task::Host(h) => !self.ports[h].held && !self.ports[h].received.is_empty(),
            Task::Switch => !self.switch.queue.is_empty(),
        }
    }

    /// Work came for a task: an idle one waits for a core.
    fn wake(&mut self, task: Task) {
        if *self.state(task) == State::Idle && self.has_work(task) {
            *self.state(task) = State::Ready;
            // Forwarding starts as a softirq, before any process; only
            // once it has used a slice does it wait its turn (ksoftirqd).
            if task == Task::Switch {
                self.ready.push_front(task);
            } else {
                self.ready.push_back(task);
            }
        }
    }

    /// Starts the task's next unit on a core it holds; `ran` is its time
    /// in this turn so far.
    fn start(&mut self, now: Instant, task: Task, ran: Duration) {
        let cost = match task {
            Task::Host(h) => {
                let port = &mut self.ports[h];
                let Some(r) = port.received.pop_front() else {
                    return;
                };
                // recvfrom frees the datagram's room at once.
                let size = truesize(r.bytes.len());
                if r.group {
                    port.group_bytes -= size;
                } else {
                    port.unicast_bytes -= size;
                }
                if port.seen.len() >= SEEN_MEMO {
                    port.seen.clear();
                }
                let again = !port.seen.insert(signature(&r.bytes));
                let lean = lanchat::envelope::is_lean(&r.bytes);
                port.reading = Some((r, again));
                // A lean heartbeat is checked by a hash chain, no Ed25519:
                // charged as a copy is (the work beside the signature).
                let cost = if again || lean {
                    self.config.cpu_again
                } else {
                    self.config.cpu_fresh
                };
                self.turn[h] = ran + cost;
                self.load.reading += cost;
                cost
            }
            Task::Switch => {
                let Some(copy) = self.switch.queue.pop_front() else {
                    return;
                };
                self.switch.forwarding = Some(copy);
                self.switch_turn = ran + self.config.forward;
                self.load.forwarding += self.config.forward;
                self.config.forward
            }
        };
        *self.state(task) = State::Running;
        self.schedule(now + cost, Job::Done(task));
    }
}

/// What tells copies of one datagram apart from other datagrams: the end
/// of its signature (or of its workgroup tag), the same in every copy
/// whatever way it went.
fn signature(bytes: &[u8]) -> u64 {
    let mut tail = [0u8; 8];
    let n = bytes.len().min(8);
    tail[8 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
    u64::from_be_bytes(tail)
}
