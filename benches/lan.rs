//! Benchmarks, each beside its baseline in the same run (issue 3):
//! direct-message round trip vs raw UDP ping-pong, channel throughput vs raw
//! UDP, discovery and idle cost of 30 real nodes on a virtual LAN of network
//! namespaces, and a simulated 300-peer LAN.
//!
//! `cargo bench --bench lan` (needs root and iproute2 for the namespace
//! parts; `LANCHAT_BENCH=lan` runs only them, `LANCHAT_BENCH=lan:dm`,
//! `lan:throughput` or `lan:thirty` one of them; `LANCHAT_BENCH=crypto` the
//! crypto of one datagram; `LANCHAT_BENCH=storm` a join storm of 200
//! simulated nodes; `LANCHAT_BENCH=join` the network thread's longest
//! wake-up while a password channel is joined (`benches/join.rs`);
//! `LANCHAT_BENCH=sim` runs only the simulations, at the peer counts
//! of `LANCHAT_BENCH_PEERS`, e.g. `100,300,1000`, default 300; their idle
//! window is `LANCHAT_BENCH_IDLE` seconds, default 10; `LANCHAT_BENCH=hub`
//! runs only the one-node part of them, `benches/hub.rs`). No node ever runs
//! in the root namespace: every socket is opened on a thread inside a host
//! namespace of the bed.

// A benchmark may panic on what it did not expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/lan/bed.rs"]
mod bed;
mod common;
mod hub;
mod join;
// The simulated LAN of the tests, whole: the bench leaves out what only
// tests use (the finite network, capture, forging, clocks set by hand).
#[allow(dead_code)]
#[path = "../tests/sim/net/mod.rs"]
mod sim;
#[allow(dead_code)]
#[path = "../tests/util/mod.rs"]
mod util;

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lanchat::api::Event;
use lanchat::net::{Events, NetOptions, NodeHandle};
use lanchat::{Command, MessageKind, NodeId, Target};

use bed::Lan as Bed;
use common::Row;
use lanchat::protocol::{CoreCommand, CoreEvent};
use sim::{Faults, Signatures, Sim};

/// Bytes a frame carries beyond the UDP payload: Ethernet, IPv4, UDP.
const FRAME_OVERHEAD: u64 = 14 + 20 + 8;

fn row(what: &str, lanchat: String, baseline: &str, ratio: &str) -> Row {
    Row {
        what: what.into(),
        lanchat,
        baseline: baseline.into(),
        ratio: ratio.into(),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments select nothing here.
    let only = std::env::var("LANCHAT_BENCH").unwrap_or_default();
    let mut rows = Vec::new();
    if only.is_empty() || only.starts_with("lan") {
        // `Lan::new` prints why when this machine cannot build the LAN.
        if let Some(bed) = Bed::new(NODES) {
            lan_benches(&bed, only.strip_prefix("lan:").unwrap_or(""), &mut rows);
        }
    }
    if only.is_empty() || only == "join" {
        join::join_bench(&mut rows);
    }
    if only.is_empty() || only == "crypto" {
        crypto_bench(&mut rows);
    }
    if only.is_empty() || only == "sim" || only == "hub" {
        let losses = match std::env::var("LANCHAT_BENCH_LOSS") {
            Ok(v) => vec![v.parse::<f64>().expect("LANCHAT_BENCH_LOSS: a fraction")],
            Err(_) => vec![0.0, 0.1],
        };
        let peers = match std::env::var("LANCHAT_BENCH_PEERS") {
            Ok(v) => v
                .split(',')
                .map(|n| {
                    n.trim()
                        .parse::<usize>()
                        .expect("LANCHAT_BENCH_PEERS: counts")
                })
                .collect(),
            Err(_) => vec![300],
        };
        let idle = match std::env::var("LANCHAT_BENCH_IDLE") {
            Ok(v) => Duration::from_secs_f64(v.parse().expect("LANCHAT_BENCH_IDLE: seconds")),
            Err(_) => SIM_IDLE,
        };
        for loss in losses {
            for &n in &peers {
                hub_bench(n, loss, idle, &mut rows);
                if only != "hub" {
                    sim_bench(n, loss, idle, &mut rows);
                }
            }
        }
    }
    if only.is_empty() || only == "storm" {
        for loss in [0.0, 0.1] {
            storm_bench(STORM, loss, &mut rows);
        }
    }
    common::print_table(&rows);
}

// ---------------------------------------------------------------- real LAN

/// A node started inside a host namespace, with its own data directory.
struct Running {
    handle: NodeHandle,
    events: Events,
    id: NodeId,
    started: Instant,
    _dir: TempDir,
}

fn start_node(bed: &Bed, i: usize) -> Running {
    let dir = TempDir::create(&format!("n{i}"));
    let options = NetOptions {
        data_dir: Some(dir.0.clone()),
        nick: Some(format!("bench{i}")),
        ..Default::default()
    };
    let (started, result) = bed.enter(i, || {
        let started = Instant::now();
        (started, NodeHandle::start(options, Box::new(|| {})))
    });
    let (handle, events, ready) = result.expect("start a node");
    Running {
        handle,
        events,
        id: ready.id,
        started,
        _dir: dir,
    }
}

fn stop(nodes: Vec<Running>) {
    for mut n in nodes {
        common::quit(&n.handle, &mut n.events);
    }
}

/// Waits until `node` has seen `others` online.
fn await_peers(node: &mut Running, others: &HashSet<NodeId>, timeout: Duration) -> Option<Instant> {
    let mut seen = HashSet::new();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match node.events.try_recv() {
            Ok(e) => {
                if let Event::Core(CoreEvent::PeerOnline(p)) = e.event {
                    seen.insert(p.id);
                    if others.is_subset(&seen) {
                        return Some(Instant::now());
                    }
                }
            }
            Err(_) => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    None
}

/// The real-LAN parts; `part` (`dm`, `throughput` or `thirty`, from
/// `LANCHAT_BENCH=lan:<part>`) runs one, empty runs all.
fn lan_benches(bed: &Bed, part: &str, rows: &mut Vec<Row>) {
    let run = |name: &str| part.is_empty() || part == name;
    if run("dm") {
        dm_round_trip(bed, rows);
    }
    if run("throughput") {
        throughput(bed, rows);
    }
    if run("thirty") {
        thirty_nodes(bed, rows);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

/// Round trips measured (after a warm-up block of each kind).
const ROUNDS: usize = 500;
/// Round trips per block; lanchat and raw UDP blocks alternate, so both
/// see the same machine (a shared 2-core VM whose wake-up latency drifts).
const BLOCK: usize = 50;

fn dm_round_trip(bed: &Bed, rows: &mut Vec<Row>) {
    let mut a = start_node(bed, 0);
    let b = start_node(bed, 1);
    let want: HashSet<NodeId> = [b.id].into();
    await_peers(&mut a, &want, Duration::from_secs(5)).expect("A sees B");
    // Baseline sockets: bound inside the two namespaces, used from here.
    let port = 47_500;
    let echo = bed.enter(1, || {
        UdpSocket::bind((Bed::addr(1), port)).expect("bind echo")
    });
    echo.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let ping = bed.enter(0, || UdpSocket::bind((Bed::addr(0), 0)).expect("bind ping"));
    ping.set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let to = SocketAddr::from((Bed::addr(1), port));
    let stop_echo = AtomicBool::new(false);
    let (mut times, mut raw) = (Vec::new(), Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut buf = [0u8; 2048];
            while !stop_echo.load(Ordering::Relaxed) {
                if let Ok((n, from)) = echo.recv_from(&mut buf) {
                    let _ = echo.send_to(&buf[..n], from);
                }
            }
        });
        let payload = vec![7u8; 100];
        let mut buf = [0u8; 2048];
        for block in 0..=ROUNDS / BLOCK {
            for round in 0..BLOCK {
                let t0 = Instant::now();
                a.handle
                    .send(Command::Core(CoreCommand::Say {
                        to: vec![Target::Node(b.id)],
                        text: format!("ping {block:02} {round:02} {}", "x".repeat(50)),
                        kind: MessageKind::Text,
                    }))
                    .expect("send");
                loop {
                    let e = a.events.blocking_recv().expect("A's events");
                    match e.event {
                        Event::Core(CoreEvent::Delivered { .. }) => break,
                        Event::Core(CoreEvent::Queued { .. }) => {
                            panic!("a direct message was queued")
                        }
                        _ => {}
                    }
                }
                if block > 0 {
                    times.push(t0.elapsed());
                }
            }
            for _ in 0..BLOCK {
                let t0 = Instant::now();
                ping.send_to(&payload, to).expect("send");
                ping.recv_from(&mut buf).expect("echo");
                if block > 0 {
                    raw.push(t0.elapsed());
                }
            }
        }
        stop_echo.store(true, Ordering::Relaxed);
    });
    stop(vec![a, b]);
    times.sort();
    raw.sort();
    let (med, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    let (rmed, rp99) = (percentile(&raw, 0.5), percentile(&raw, 0.99));
    println!(
        "dm round trip: lanchat median {} p99 {}; raw UDP median {} p99 {}",
        us(med),
        us(p99),
        us(rmed),
        us(rp99)
    );
    rows.push(row(
        "DM round trip, median (Say → Delivered), 500 sequential",
        us(med),
        &format!("{} raw UDP ping-pong", us(rmed)),
        &format!(
            "{:.2}× (goal ≤ 1.5×)",
            med.as_secs_f64() / rmed.as_secs_f64()
        ),
    ));
    rows.push(row(
        "DM round trip, p99",
        us(p99),
        &us(rp99),
        &format!("{:.2}×", p99.as_secs_f64() / rp99.as_secs_f64()),
    ));
}

/// How long each throughput run lasts.
const BLAST: Duration = Duration::from_secs(4);

fn throughput(bed: &Bed, rows: &mut Vec<Row>) {
    let mut a = start_node(bed, 0);
    let mut b = start_node(bed, 1);
    await_peers(&mut a, &[b.id].into(), Duration::from_secs(5)).expect("A sees B");
    await_peers(&mut b, &[a.id].into(), Duration::from_secs(5)).expect("B sees A");
    let text = "m".repeat(100);
    let before = bed.counters(0);
    let done = AtomicBool::new(false);
    let sent = AtomicU64::new(0);
    let (per_second, received) = std::thread::scope(|s| {
        let sender = s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let ok = a.handle.send_blocking(Command::Core(CoreCommand::Say {
                    to: vec![Target::Channel("#Main".into())],
                    text: text.clone(),
                    kind: MessageKind::Text,
                }));
                if ok.is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::Relaxed);
                // Drain A's own events so they do not pile up.
                while a.events.try_recv().is_ok() {}
            }
        });
        let start = Instant::now();
        let mut per_second = Vec::new();
        let mut count = 0u64;
        let mut total = 0u64;
        let mut second = start + Duration::from_secs(1);
        while Instant::now() < start + BLAST {
            match b.events.try_recv() {
                Ok(e) => {
                    if matches!(e.event, Event::Core(CoreEvent::Message(_))) {
                        count += 1;
                        total += 1;
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_micros(100)),
            }
            if Instant::now() >= second {
                per_second.push(count);
                count = 0;
                second += Duration::from_secs(1);
            }
        }
        done.store(true, Ordering::Relaxed);
        sender.join().expect("sender");
        (per_second, total)
    });
    let after = bed.counters(0);
    let frames = after.tx_packets - before.tx_packets;
    let bytes = after.tx_bytes - before.tx_bytes;
    let datagram = (bytes / frames.max(1)).saturating_sub(FRAME_OVERHEAD) as usize;
    let sent = sent.load(Ordering::Relaxed);
    stop(vec![a, b]);
    let rate = received as f64 / BLAST.as_secs_f64();
    println!(
        "channel throughput: sent {sent}, received {received} ({rate:.0}/s; per second {per_second:?}); {frames} frames of ~{datagram} B payload from A"
    );
    let raw = raw_blast(bed, datagram.max(1));
    println!("raw UDP: {raw:.0} datagrams/s of {datagram} B");
    rows.push(row(
        "#Main messages/s node→node (100-byte text)",
        format!(
            "{rate:.0}/s ({sent} handed in, {received} delivered in {} s)",
            BLAST.as_secs()
        ),
        &format!("{raw:.0} raw UDP datagrams/s of {datagram} B"),
        &format!("{:.2}× (goal ≥ 0.5×)", rate / raw),
    ));
}

/// Raw UDP datagrams per second received by host 1 from host 0.
fn raw_blast(bed: &Bed, size: usize) -> f64 {
    let port = 47_501;
    let done = AtomicBool::new(false);
    let ready = Barrier::new(2);
    std::thread::scope(|s| {
        let receiver = s.spawn(|| {
            bed.enter(1, || {
                let sock = UdpSocket::bind((Bed::addr(1), port)).expect("bind sink");
                sock.set_read_timeout(Some(Duration::from_millis(100)))
                    .expect("timeout");
                ready.wait();
                let mut buf = [0u8; 2048];
                let mut count = 0u64;
                let mut first = None;
                while !done.load(Ordering::Relaxed) {
                    if sock.recv_from(&mut buf).is_ok() {
                        first.get_or_insert_with(Instant::now);
                        count += 1;
                    }
                }
                (count, first.map(|f| f.elapsed()))
            })
        });
        bed.enter(0, || {
            let sock = UdpSocket::bind((Bed::addr(0), 0)).expect("bind source");
            let to = SocketAddr::from((Bed::addr(1), port));
            let payload = vec![7u8; size];
            ready.wait();
            let end = Instant::now() + BLAST;
            while Instant::now() < end {
                let _ = sock.send_to(&payload, to);
            }
        });
        std::thread::sleep(Duration::from_millis(50));
        done.store(true, Ordering::Relaxed);
        let (count, span) = receiver.join().expect("receiver");
        count as f64 / span.map_or(BLAST, |s| s.min(BLAST)).as_secs_f64()
    })
}

/// How many nodes the discovery and idle benchmarks run.
const NODES: usize = 30;
/// The idle window on the namespace LAN: long enough to hold the
/// occasional catch-up comparison of every node (every 4 min once calm).
const IDLE: Duration = Duration::from_secs(120);
/// Wait after discovery before the idle window: past the start-up ARP
/// confirmations (20 s) and the first catch-up comparisons, whose period
/// doubles from 30 s to 4 min while they find nothing (3.5 min).
const IDLE_SETTLE: Duration = Duration::from_secs(240);
/// The idle window in the simulation, unless `LANCHAT_BENCH_IDLE` says.
const SIM_IDLE: Duration = Duration::from_secs(10);
/// Nodes of the simulated join storm (all started within one second).
const STORM: usize = 200;

fn thirty_nodes(bed: &Bed, rows: &mut Vec<Row>) {
    let mut nodes: Vec<Running> = (0..NODES).map(|i| start_node(bed, i)).collect();
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.id).collect();
    // Each node's events are read on its own thread, so no stream waits.
    let times: Vec<Option<Duration>> = std::thread::scope(|s| {
        let waits: Vec<_> = nodes
            .iter_mut()
            .map(|n| {
                let others: HashSet<NodeId> =
                    ids.iter().copied().filter(|&id| id != n.id).collect();
                s.spawn(move || {
                    await_peers(n, &others, Duration::from_secs(30)).map(|t| t - n.started)
                })
            })
            .collect();
        waits.into_iter().map(|w| w.join().expect("wait")).collect()
    });
    let missing = times.iter().filter(|t| t.is_none()).count();
    let mut found: Vec<Duration> = times.into_iter().flatten().collect();
    found.sort();
    let spread = nodes.last().map(|n| n.started - nodes[0].started);
    println!(
        "discovery of {NODES}: {} found all, {missing} did not in 30 s; starts spread over {:?}",
        found.len(),
        spread
    );
    if !found.is_empty() {
        rows.push(row(
            &format!(
                "Discovery, {NODES} nodes: start → has seen all others (min / median / p99 / max)"
            ),
            format!(
                "{} / {} / {} / {}{}",
                ms(found[0]),
                ms(percentile(&found, 0.5)),
                ms(percentile(&found, 0.99)),
                ms(found[found.len() - 1]),
                if missing > 0 {
                    format!(" ({missing} never)")
                } else {
                    String::new()
                }
            ),
            "—",
            "—",
        ));
    }

    // Idle: let the start-up settle, then count what each host puts on the
    // wire; keep draining events meanwhile. The settling is long because the
    // kernel confirms, by ARP, each neighbour that start-up unicast went to
    // (UDP gives it no other proof of reachability): ~20 frames/s per host
    // in the first 20 s with 30 nodes, none after.
    let settle = Instant::now() + IDLE_SETTLE;
    drain_until(&mut nodes, settle);
    let before: Vec<_> = (0..NODES).map(|i| bed.counters(i)).collect();
    let t0 = Instant::now();
    drain_until(&mut nodes, t0 + IDLE);
    let after: Vec<_> = (0..NODES).map(|i| bed.counters(i)).collect();
    let secs = t0.elapsed().as_secs_f64();
    stop(nodes);
    let mut wire: Vec<f64> = Vec::new();
    let mut payload: Vec<f64> = Vec::new();
    let mut frames: Vec<f64> = Vec::new();
    for (b, a) in before.iter().zip(&after) {
        let bytes = (a.tx_bytes - b.tx_bytes) as f64;
        let packets = (a.tx_packets - b.tx_packets) as f64;
        wire.push(bytes / secs);
        payload.push((bytes - packets * FRAME_OVERHEAD as f64) / secs);
        frames.push(packets / secs);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    println!(
        "idle, {NODES} nodes, {secs:.1} s: wire {:.0} B/s (max {:.0}), payload {:.0} B/s, {:.2} frames/s per node",
        mean(&wire),
        max(&wire),
        mean(&payload),
        mean(&frames)
    );
    rows.push(row(
        &format!(
            "Idle wire bytes/s per node, {NODES} nodes, {} s window (Ethernet+IP+UDP included)",
            IDLE.as_secs()
        ),
        format!(
            "{:.0} B/s mean, {:.0} max ({:.1} frames/s)",
            mean(&wire),
            max(&wire),
            mean(&frames)
        ),
        "goal ≤ 100 B/s",
        &format!("{:.1}× the goal", mean(&wire) / 100.0),
    ));
    rows.push(row(
        "Idle UDP payload bytes/s per node (same window)",
        format!("{:.0} B/s", mean(&payload)),
        "—",
        "—",
    ));
}

fn drain_until(nodes: &mut [Running], until: Instant) {
    while Instant::now() < until {
        for n in nodes.iter_mut() {
            while n.events.try_recv().is_ok() {}
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A temp directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn create(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("lcb-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// -------------------------------------------------------------- simulation

/// A point in this thread's CPU time (so other work on a shared machine
/// does not count), else in wall time. The thread's clock is read to the
/// nanosecond (`/proc/thread-self/schedstat` would count only in the
/// scheduler's ticks, 4 ms here: a thousand datagrams read as 0 or 4 µs).
enum Cpu {
    Thread(Duration),
    Wall(Instant),
}

impl Cpu {
    #[cfg(unix)]
    fn thread() -> Option<Duration> {
        let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).ok()?;
        Some(Duration::from(t))
    }

    #[cfg(not(unix))]
    fn thread() -> Option<Duration> {
        None
    }

    fn now() -> Cpu {
        Cpu::thread().map_or_else(|| Cpu::Wall(Instant::now()), Cpu::Thread)
    }

    fn elapsed(&self) -> Duration {
        match self {
            Cpu::Thread(t) => Cpu::thread().map_or(Duration::ZERO, |now| now.saturating_sub(*t)),
            Cpu::Wall(t) => t.elapsed(),
        }
    }
}

/// What the crypto of one datagram costs on this machine, each primitive
/// timed alone on this thread: the floor under a round trip and under a
/// receiver's datagrams per second.
fn crypto_bench(rows: &mut Vec<Row>) {
    use lanchat::envelope::{self, Keys};
    use lanchat::wire::{Body, Packet};
    const ROUNDS: u32 = 2_000;
    let a = Keys::from_secret(&[7; 32]);
    let b = Keys::from_secret(&[9; 32]);
    let packet = Packet {
        from: a.id(),
        epoch: 1_765_000_000_000,
        body: Body::Ping { nonce: 42 },
    };
    let time = |f: &mut dyn FnMut()| {
        let t0 = Cpu::now();
        for _ in 0..ROUNDS {
            f();
        }
        t0.elapsed() / ROUNDS
    };
    let mut counter = 0u64;
    let sign = time(&mut || {
        counter += 1;
        std::hint::black_box(envelope::seal(&packet, counter, &a, None).expect("seals"));
    });
    let sealed = envelope::seal(&packet, 1, &a, None).expect("seals");
    let verify = time(&mut || {
        std::hint::black_box(envelope::open(&sealed, None).expect("opens"));
    });
    let agree = time(&mut || {
        std::hint::black_box(a.direct_keys(&b.public()).expect("agrees"));
    });
    println!(
        "crypto per datagram: seal (Ed25519 sign) {:.1} µs, open (verify) {:.1} µs; X25519 agreement with a new peer {:.1} µs",
        sign.as_secs_f64() * 1e6,
        verify.as_secs_f64() * 1e6,
        agree.as_secs_f64() * 1e6
    );
    rows.push(row(
        "Crypto of one signed datagram (a 16-byte ping): seal (Ed25519 sign) / open (verify), CPU on one thread",
        format!(
            "{:.1} µs / {:.1} µs",
            sign.as_secs_f64() * 1e6,
            verify.as_secs_f64() * 1e6
        ),
        "—",
        "—",
    ));
    rows.push(row(
        "X25519 agreement and key derivation with a peer (once per peer and life; cached)",
        format!("{:.1} µs", agree.as_secs_f64() * 1e6),
        "—",
        "—",
    ));
}

/// How long the hub's peers run before its window opens: past the start-up
/// (hellos answered, pings to peers tried three times, the first full
/// presences), which costs more per datagram than idle does.
const HUB_SETTLE: Duration = Duration::from_secs(20);

fn hub_bench(peers: usize, loss: f64, idle: Duration, rows: &mut Vec<Row>) {
    let wall = Instant::now();
    let m = hub::run(peers, loss, HUB_SETTLE, idle);
    let pct = loss * 100.0;
    println!(
        "hub among {peers} sending peers, {pct:.0}% loss: {} online; {} datagrams in an idle window of {:.1} s; {:.2} µs of CPU per datagram; {:.1} s of wall time",
        m.online,
        m.datagrams,
        idle.as_secs_f64(),
        m.per_datagram.as_secs_f64() * 1e6,
        wall.elapsed().as_secs_f64()
    );
    rows.push(row(
        &format!(
            "One node among {peers} sending peers, {pct:.0} % loss: core CPU per received datagram at idle"
        ),
        format!("{:.2} µs", m.per_datagram.as_secs_f64() * 1e6),
        "goal ≤ 10 µs, flat in the peers",
        "—",
    ));
}

/// A join storm: `peers` nodes started within one second (evenly), at
/// `loss`. When does everyone see everyone, and what did it cost?
fn storm_bench(peers: usize, loss: f64, rows: &mut Vec<Row>) {
    let wall = Instant::now();
    let mut sim = lossy_lan(0x5707, loss);
    for i in 0..peers {
        sim.run_until(Duration::from_secs(1) * i as u32 / peers as u32);
        sim.add(&format!("p{i}"));
    }
    let step = Duration::from_millis(50);
    let limit = Duration::from_secs(30);
    let mut online: Vec<HashSet<NodeId>> = vec![HashSet::new(); peers];
    let mut read = 0;
    let mut converged = None;
    while sim.elapsed() < limit {
        let next = sim.elapsed() + step;
        sim.run_until(next);
        for l in &sim.log[read..] {
            match &l.event {
                CoreEvent::PeerOnline(p) => {
                    online[l.host].insert(p.id);
                }
                CoreEvent::PeerOffline { id, .. } => {
                    online[l.host].remove(id);
                }
                _ => {}
            }
        }
        read = sim.log.len();
        if online.iter().all(|s| s.len() == peers - 1) {
            converged = Some(sim.elapsed());
            break;
        }
    }
    let at_convergence = sim.total_traffic().frames() as f64 / peers as f64;
    sim.run_until(Duration::from_secs(10));
    let first_ten = sim.total_traffic().frames() as f64 / peers as f64;
    let offline = sim
        .log
        .iter()
        .filter(|l| matches!(l.event, CoreEvent::PeerOffline { .. }))
        .count();
    let pct = loss * 100.0;
    println!(
        "sim join storm, {peers} peers started within 1 s, {pct:.0}% loss: all see all at {converged:?} after the first start; datagrams sent per node {at_convergence:.0} by then, {first_ten:.0} in the first 10 s; {offline} offline events; {:.1} s of wall time",
        wall.elapsed().as_secs_f64()
    );
    rows.push(row(
        &format!("Sim, join storm of {peers} within 1 s, {pct:.0} % loss: all see all"),
        converged.map_or_else(|| format!("not within {} s", limit.as_secs()), ms),
        "—",
        "—",
    ));
    rows.push(row(
        &format!("Sim, join storm of {peers} within 1 s, {pct:.0} % loss: datagrams sent per node"),
        format!("{at_convergence:.0} until all see all, {first_ten:.0} in the first 10 s"),
        "—",
        "—",
    ));
}

/// A simulated LAN that loses a copy with probability `loss` (and neither
/// doubles nor reorders), whose receivers trust their senders: the time per
/// datagram is the core's own work.
fn lossy_lan(seed: u64, loss: f64) -> Sim {
    let mut sim = Sim::new(
        seed,
        Faults {
            loss,
            ..Faults::none()
        },
    );
    sim.signatures = Signatures::Trusted;
    sim
}

fn sim_bench(peers: usize, loss: f64, idle: Duration, rows: &mut Vec<Row>) {
    let wall = Instant::now();
    let mut sim = lossy_lan(0xbe7c, loss);
    for i in 0..peers {
        sim.add(&format!("p{i}"));
    }
    // Run in 100 ms steps until everyone sees everyone.
    let step = Duration::from_millis(100);
    let limit = Duration::from_secs(30);
    let mut online: Vec<HashSet<NodeId>> = vec![HashSet::new(); peers];
    let mut read = 0;
    let mut converged = None;
    while sim.elapsed() < limit {
        let next = sim.elapsed() + step;
        sim.run_until(next);
        for l in &sim.log[read..] {
            match &l.event {
                CoreEvent::PeerOnline(p) => {
                    online[l.host].insert(p.id);
                }
                CoreEvent::PeerOffline { id, .. } => {
                    online[l.host].remove(id);
                }
                _ => {}
            }
        }
        read = sim.log.len();
        if online.iter().all(|s| s.len() == peers - 1) {
            converged = Some(sim.elapsed());
            break;
        }
    }
    // Idle: settle, then a window (shorter than on the real LAN: at 300
    // peers every simulated second is 90,000 datagram deliveries). The
    // settling outlasts what start-up leaves: the one-way check's pings
    // (one per new peer, again 2 s later if lost, three times).
    let settle = sim.elapsed() + Duration::from_secs(8);
    sim.run_until(settle);
    let before = sim.total_traffic();
    // On stderr, for a profiler to start here (the start-up of a thousand
    // peers takes longer than the window).
    eprintln!(
        "sim {peers} peers: idle window of {:.1} s starts after {:.1} s of wall time",
        idle.as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
    // What the idle traffic is made of, counted by kind in the same window.
    sim.kinds = Some(Default::default());
    sim.run_until(settle + idle);
    let window = sim.total_traffic() - before;
    let kinds: Vec<String> = sim
        .kinds
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, n)| format!("{k} {:.2}", n as f64 / idle.as_secs_f64() / peers as f64))
        .collect();
    // The CPU in a second window (counting by kind decodes each datagram
    // once more, so not in the first).
    let (cpu0, delivered0) = (Cpu::now(), sim.datagrams);
    sim.run_until(settle + idle + idle);
    let cpu_per_datagram =
        cpu0.elapsed().as_secs_f64() / (sim.datagrams - delivered0).max(1) as f64;
    let per_node = |n: u64| n as f64 / idle.as_secs_f64() / peers as f64;
    // Group frames on one interface (a full presence goes by multicast and
    // by broadcast, a lean beat one way); the wire adds each frame's
    // Ethernet, IP and UDP headers.
    let (gb, gd) = (per_node(window.group_bytes), per_node(window.group_frames));
    let (ub, ud) = (per_node(window.unicast_bytes), per_node(window.unicast));
    let payload = gb + ub;
    let wire = per_node(window.wire());
    let offline = sim.log[read..]
        .iter()
        .filter(|l| matches!(l.event, CoreEvent::PeerOffline { .. }))
        .count();
    // A crash: host 0 killed; when does each other host show it offline?
    let killed_at = sim.elapsed();
    let victim = sim.id(0);
    sim.kill(0);
    let from = sim.log.len();
    sim.run_until(killed_at + Duration::from_secs(8));
    let mut seen: Vec<Duration> = sim.log[from..]
        .iter()
        .filter(|l| matches!(l.event, CoreEvent::PeerOffline { id, .. } if id == victim))
        .map(|l| l.at - killed_at)
        .collect();
    seen.sort();
    let missed = (peers - 1).saturating_sub(seen.len());
    let crash_median = seen.get(seen.len() / 2).copied().unwrap_or_default();
    let crash_max = seen.last().copied().unwrap_or_default();
    let pct = loss * 100.0;
    println!(
        "sim {peers} peers, {pct:.0}% loss: a killed peer offline at the others after {crash_median:?} (median), {crash_max:?} (last); {missed} still showed it 8 s later"
    );
    println!(
        "sim {peers} peers, {pct:.0}% loss: converged {converged:?}; idle per node: group {gb:.0} B/s in {gd:.2} datagrams/s, unicast {ub:.0} B/s in {ud:.2}/s, wire estimate {wire:.0} B/s; {offline} offline events after convergence; idle window {:.1} s; {:.1} µs of CPU per datagram a core handles at idle; {:.1} s of wall time",
        idle.as_secs_f64(),
        cpu_per_datagram * 1e6,
        wall.elapsed().as_secs_f64()
    );
    println!(
        "sim {peers} peers, {pct:.0}% loss: sent per node per second, by kind: {}",
        kinds.join(", ")
    );
    rows.push(row(
        &format!("Sim, {peers} peers, {pct:.0} % loss: all see all"),
        converged.map_or_else(|| format!("not within {} s", limit.as_secs()), ms),
        "—",
        "—",
    ));
    rows.push(row(
        &format!(
            "Sim, {peers} peers, {pct:.0} % loss: idle bytes/s per node, payload (wire estimate)"
        ),
        format!("{payload:.0} B/s ({wire:.0} B/s; {offline} spurious offline events)"),
        if loss > 0.0 {
            "goal ≤ 150 B/s on the wire"
        } else {
            "goal ≤ 100 B/s on the wire"
        },
        &format!(
            "{:.2}× the goal",
            wire / if loss > 0.0 { 150.0 } else { 100.0 }
        ),
    ));
    rows.push(row(
        &format!("Sim, {peers} peers, {pct:.0} % loss: a killed peer offline at all others"),
        format!(
            "median {}, last {}{}",
            ms(crash_median),
            ms(crash_max),
            if missed > 0 {
                format!(", {missed} not within 8 s")
            } else {
                String::new()
            }
        ),
        "goal ≤ 5 s",
        "—",
    ));
    rows.push(row(
        &format!("Sim, {peers} peers, {pct:.0} % loss: core CPU per received datagram at idle"),
        format!("{:.1} µs", cpu_per_datagram * 1e6),
        "—",
        "—",
    ));
}
