//! Where the CPU figures of [`super::net::buffers::Buffers::bed`] come from:
//! measurements on the machine of the bed, not checks. Run them with
//! nothing else busy:
//! `<test binary> sim::costs --ignored --nocapture --test-threads 1`.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use lanchat::NodeId;

use super::net::{Faults, Sim, open};
use super::secs;
use crate::util::{Netns, Peer, event};

/// Datagrams of 40 nodes starting 10 ms apart, as the scale tests start
/// them: hellos, presences, replies, beats, pings. With each, the address
/// of its sender.
fn start_up_datagrams() -> Vec<(SocketAddr, Vec<u8>)> {
    let mut sim = Sim::new(1, Faults::none());
    for i in 0..40 {
        sim.add(&format!("m{i}"));
        let t = sim.elapsed() + secs(0.01);
        sim.run_until(t);
    }
    sim.run_until(secs(5.0));
    let from: Vec<(NodeId, SocketAddr)> = (0..40).map(|i| (sim.id(i), sim.addr(i))).collect();
    sim.captured()
        .into_iter()
        .filter_map(|d| {
            let sender = open(&d)?.from;
            let addr = from.iter().find(|(id, _)| *id == sender)?.1;
            Some((addr, d))
        })
        .collect()
}

/// `Node::handle_datagram` alone: a fresh node reads start-up datagrams
/// once (signature checked), then again (copies, dropped before the
/// check).
#[test]
#[ignore = "a measurement, not a check"]
fn core_cost_per_datagram() {
    let _busy = crate::util::heavy();
    let datagrams = start_up_datagrams();
    let mut sim = Sim::new(2, Faults::none());
    let listener = sim.add("listener");
    let mut now = sim.now;
    for round in ["fresh", "again"] {
        let node = sim.node_mut(listener).expect("alive");
        let t0 = thread_cpu();
        for (addr, bytes) in &datagrams {
            // 2 ms apart: under the per-source rate limit.
            now += Duration::from_millis(2);
            node.handle_datagram(now, *addr, bytes);
            while node.poll_transmit().is_some() {}
            while node.poll_event().is_some() {}
        }
        let per = (thread_cpu() - t0) / datagrams.len() as u32;
        println!(
            "SIM figure: Node::handle_datagram, {round}: {per:?} per datagram ({} datagrams)",
            datagrams.len()
        );
    }
}

/// CPU time of the calling thread (the machine may be busy with others),
/// to the nanosecond (`/proc/thread-self/schedstat` counts in scheduler
/// ticks while the thread runs).
fn thread_cpu() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map_or(Duration::ZERO, Duration::from)
}

/// Nanoseconds process `pid` has run, all its threads.
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// A real `lanchat headless` process (driver, core, store, events on
/// stdout) on `lo` in a namespace of its own, fed the start-up datagrams
/// from one socket at 1,000 a second (the per-source rate limit); its CPU
/// time per datagram, beyond what it spends idle, and the kernel's part of
/// a datagram over loopback.
#[test]
#[ignore = "a measurement, not a check"]
fn process_cost_per_datagram() {
    let _busy = crate::util::heavy();
    let Some(ns) = Netns::create() else { return };
    let datagrams = start_up_datagrams();
    // Quiet, and with the debug log the test helpers give every node.
    for log in ["warn", "lanchat=debug"] {
        println!("RUST_LOG={log}:");
        process_cost(&ns, &datagrams, log);
    }
    kernel_cost();
}

fn process_cost(ns: &Netns, datagrams: &[(SocketAddr, Vec<u8>)], log: &str) {
    let log = std::path::Path::new(log);
    let mut node = Peer::spawn_with_env(&ns.name, "measured", None, &[], &[("RUST_LOG", log)]);
    let (_, ready) = node.expect_event("ready", event("ready", &[]), Duration::from_secs(10));
    let unicast: SocketAddr = ready["addr"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("the node's address");
    let group = SocketAddr::from(([127, 0, 0, 1], 47077));
    let pid = node.pid();
    println!(
        "SIM figure: a lanchat process took {:.1} ms of CPU to start (until ready)",
        cpu_ns(pid) as f64 / 1e6
    );
    // What it spends idle, over as long as the feeding takes.
    std::thread::sleep(Duration::from_secs(3));
    let span = Duration::from_millis(datagrams.len() as u64);
    let idle0 = cpu_ns(pid);
    std::thread::sleep(span);
    let idle = cpu_ns(pid) - idle0;
    ns.enter(|| {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        // Its answers are read and dropped, as a peer would read them.
        let reader = socket.try_clone().expect("clone");
        reader
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while reader.recv_from(&mut buf).is_ok() {}
        });
        // Fresh, then the same again (copies: no signature check).
        for round in ["fresh", "again"] {
            let cpu0 = cpu_ns(pid);
            let t0 = Instant::now();
            for (k, (_, bytes)) in datagrams.iter().enumerate() {
                let to = if lanchat::envelope::way_of(bytes).is_group() {
                    group
                } else {
                    unicast
                };
                socket.send_to(bytes, to).expect("send");
                let due = t0 + Duration::from_millis(k as u64 + 1);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
            std::thread::sleep(Duration::from_millis(200));
            let busy = cpu_ns(pid) - cpu0;
            let per = Duration::from_nanos(busy.saturating_sub(idle) / datagrams.len() as u64);
            println!(
                "SIM figure: a lanchat process on lo, {round}: {per:?} of CPU per datagram read \
                 ({} datagrams; {:.0} ms busy, {:.0} ms idle over the same time)",
                datagrams.len(),
                busy as f64 / 1e6,
                idle as f64 / 1e6
            );
        }
    });
}

/// The kernel's part: a datagram of 300 bytes sent and read over loopback,
/// both system calls.
fn kernel_cost() {
    let (a, b) = (
        UdpSocket::bind("127.0.0.1:0").expect("bind"),
        UdpSocket::bind("127.0.0.1:0").expect("bind"),
    );
    let to = b.local_addr().expect("addr");
    let payload = [7u8; 300];
    let mut buf = [0u8; 2048];
    let rounds = 100_000;
    let t0 = thread_cpu();
    for _ in 0..rounds {
        a.send_to(&payload, to).expect("send");
        b.recv_from(&mut buf).expect("recv");
    }
    println!(
        "SIM figure: UDP over loopback, send and receive: {:?} of CPU per datagram",
        (thread_cpu() - t0) / rounds
    );
}

/// As [`process_cost_per_datagram`], with 40 processes on the machine's
/// cores at once, as on the bed: each fed the same datagrams at 50 a
/// second (2,000 a second in all, far from saturating the cores), so what
/// is measured is a read by a process whose caches the 39 others have
/// just used. (On `lo` the 40 also find each other, a LAN of their own
/// whose idle traffic is in the "idle" figure printed beside.)
#[test]
#[ignore = "a measurement, not a check"]
fn process_cost_among_forty() {
    const PROCESSES: usize = 40;
    const EACH: usize = 1000;
    let _busy = crate::util::heavy();
    let Some(ns) = Netns::create() else { return };
    let datagrams: Vec<Vec<u8>> = start_up_datagrams()
        .into_iter()
        .map(|(_, d)| d)
        .take(EACH)
        .collect();
    let quiet = std::path::Path::new("warn");
    let mut nodes: Vec<Peer> = (0..PROCESSES)
        .map(|i| {
            Peer::spawn_with_env(
                &ns.name,
                &format!("m{i}"),
                None,
                &[],
                &[("RUST_LOG", quiet)],
            )
        })
        .collect();
    let addrs: Vec<SocketAddr> = nodes
        .iter_mut()
        .map(|n| {
            let (_, ready) = n.expect_event("ready", event("ready", &[]), Duration::from_secs(20));
            ready["addr"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .expect("the node's address")
        })
        .collect();
    let pids: Vec<u32> = nodes.iter().map(Peer::pid).collect();
    let total = |pids: &[u32]| pids.iter().map(|p| cpu_ns(*p)).sum::<u64>();
    std::thread::sleep(Duration::from_secs(3));
    let span = Duration::from_millis(20 * EACH as u64);
    let idle0 = total(&pids);
    std::thread::sleep(span);
    let idle = total(&pids) - idle0;
    let busy = ns.enter(|| {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let reader = socket.try_clone().expect("clone");
        reader
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while reader.recv_from(&mut buf).is_ok() {}
        });
        let cpu0 = total(&pids);
        let t0 = Instant::now();
        for (k, bytes) in datagrams.iter().enumerate() {
            for to in &addrs {
                socket.send_to(bytes, to).expect("send");
            }
            let due = t0 + Duration::from_millis(20 * (k as u64 + 1));
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        std::thread::sleep(Duration::from_millis(300));
        total(&pids) - cpu0
    });
    let reads = (PROCESSES * datagrams.len()) as u64;
    println!(
        "SIM figure: 40 lanchat processes on lo: {:?} of CPU per datagram read \
         ({reads} reads; {:.0} ms busy, {:.0} ms idle over the same time)",
        Duration::from_nanos(busy.saturating_sub(idle) / reads),
        busy as f64 / 1e6,
        idle as f64 / 1e6
    );
}

/// The kernel's time (system, irq and softirq, all cores) so far, in
/// jiffies of 10 ms.
fn kernel_jiffies() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().next() else {
        return 0;
    };
    // cpu user nice system idle iowait irq softirq …
    cpu.split_whitespace()
        .skip(1)
        .enumerate()
        .filter(|(i, _)| [2, 5, 6].contains(i))
        .filter_map(|(_, v)| v.parse::<u64>().ok())
        .sum()
}

/// What one copy of a broadcast flooded by the bed's bridge costs the
/// kernel, from the sender's `sendto` to the receiver's `recvfrom`: a bed
/// of 40 hosts, one socket on each, host 0 broadcasting 300-byte datagrams
/// at 5,000 a second. Kernel time over the machine, beyond what as long a
/// span costs with nothing sent (others' work on a shared VM is noise
/// here: run it on a quiet machine). The rate keeps the cores busy: kernel
/// time taken from an idle core is not counted by tick accounting, so a
/// slow trickle measures next to nothing.
#[test]
#[ignore = "a measurement, not a check"]
fn flood_cost_per_copy() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    use crate::lan::bed::{BROADCAST, Lan};

    const HOSTS: usize = 40;
    const SENT: u64 = 20_000;
    /// Between two broadcasts.
    const EVERY: Duration = Duration::from_micros(200);
    const PORT: u16 = 47_999;
    let _busy = crate::util::heavy();
    let Some(lan) = Lan::new(HOSTS) else { return };
    let stop = AtomicBool::new(false);
    let received = AtomicU64::new(0);
    std::thread::scope(|s| {
        for i in 1..HOSTS {
            let socket = lan.enter(i, || UdpSocket::bind(("0.0.0.0", PORT)).expect("bind"));
            socket
                .set_read_timeout(Some(Duration::from_millis(100)))
                .expect("timeout");
            let (stop, received) = (&stop, &received);
            s.spawn(move || {
                let mut buf = [0u8; 2048];
                while !stop.load(Ordering::Relaxed) {
                    if socket.recv_from(&mut buf).is_ok() {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        let sender = lan.enter(0, || {
            let s = UdpSocket::bind((Lan::addr(0), 0)).expect("bind");
            s.set_broadcast(true).expect("broadcast");
            s
        });
        let span = EVERY * SENT as u32;
        std::thread::sleep(Duration::from_secs(1));
        let quiet0 = kernel_jiffies();
        std::thread::sleep(span);
        let quiet = kernel_jiffies() - quiet0;
        let busy0 = kernel_jiffies();
        let t0 = Instant::now();
        let payload = [7u8; 300];
        for k in 0..SENT {
            sender
                .send_to(&payload, (BROADCAST, PORT))
                .expect("broadcast");
            let due = t0 + EVERY * (k as u32 + 1);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        let busy = kernel_jiffies() - busy0;
        let took = t0.elapsed();
        stop.store(true, Ordering::Relaxed);
        let copies = received.load(Ordering::Relaxed);
        let flooded = SENT * (HOSTS as u64 - 1);
        let baseline = (quiet as f64 * took.as_secs_f64() / span.as_secs_f64()) as u64;
        let per = Duration::from_millis(10 * busy.saturating_sub(baseline)) / flooded as u32;
        println!(
            "SIM figure: a broadcast flooded by the bridge: {per:?} of kernel time per copy \
             ({flooded} copies flooded in {took:.1?}, {copies} read; kernel {} ms busy, {} ms quiet)",
            busy * 10,
            quiet * 10
        );
    });
}
