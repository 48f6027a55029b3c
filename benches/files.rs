//! File transfer throughput between two hosts of a namespace LAN, beside a
//! raw TCP copy between the same two hosts in the same run (goal ≥ 0.9×).
//!
//! `cargo bench --bench files` (needs root, iproute2, nftables and `tc`,
//! like `benches/lan.rs`; `LANCHAT_BENCH_FILE_MIB` sets the file size, 512
//! by default; `LANCHAT_BENCH_FILE_ROUNDS` how many raw/lanchat pairs each
//! link gets, 2 by default). Two links: the veth pair as it is, where the
//! machine's CPU is the limit (both hosts, the crypto and the kernel's
//! networking share its cores), and the same veth shaped to an office LAN
//! of 1 Gbit/s by a token bucket on the sender's interface.
//!
//! The baseline is what `nc host port < file > out` does: a plain
//! `TcpStream` in host 0 reads the file and writes it to the socket, a
//! plain `TcpListener` in host 1 writes what it reads to a file; both in
//! chunks as large as lanchat's frames. lanchat is two in-process nodes
//! (hosts 0 and 1): A offers the file to B, B accepts by itself, and the
//! time runs from B's `FileOffer` to B's `FileDone`, the received file's
//! SHA-256 checked against the source's. No socket is ever opened in the
//! root namespace.

// A benchmark may panic on what it did not expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/lan/bed.rs"]
mod bed;
mod common;
#[allow(dead_code)]
#[path = "../tests/util/mod.rs"]
mod util;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use lanchat::api::Event;
use lanchat::files::session::CHUNK;
use lanchat::files::{Direction, FileOptions, Flow};
use lanchat::net::{Events, NetOptions, NodeHandle};
use lanchat::{Command, NodeId, Target};
use sha2::{Digest, Sha256};

use bed::Lan as Bed;
use common::Row;
use lanchat::files::FileEvent;
use lanchat::protocol::CoreEvent;
use util::TempDir;

/// The shaping of the office LAN, on the sender's `eth0` (`tc qdisc …`).
const SHAPE: &str = "tbf rate 1gbit burst 256kb latency 20ms";
/// Seconds per tick of `/proc` CPU times (`USER_HZ`, 100 on Linux).
const TICK: f64 = 0.01;
/// Bytes per megabyte in every figure (a 1 Gbit/s link carries 125 MB/s).
const MB: f64 = 1e6;

fn main() {
    let mib: u64 = env_number("LANCHAT_BENCH_FILE_MIB", 512);
    let rounds: usize = env_number("LANCHAT_BENCH_FILE_ROUNDS", 2);
    // `Lan::new` prints why when this machine cannot build the LAN.
    let Some(bed) = Bed::new(2) else {
        return;
    };
    let shaping = util::run("tc", &["-V"]).is_ok();
    if !shaping {
        eprintln!("SKIPPED (1 Gbit/s link): the `tc` command (iproute2) is missing");
    }
    let dir = TempDir::create();
    let source = dir.0.join("payload.bin");
    let made = Instant::now();
    let sha256 = make_source(&source, mib);
    let size = mib << 20;
    println!(
        "source: {mib} MiB of random bytes, written and synced in {:.1} s; SHA-256 {sha256}",
        made.elapsed().as_secs_f64()
    );
    let downloads = dir.0.join("downloads");
    let mut a = start_node(&bed, 0, &dir.0.join("a"), &dir.0.join("a-downloads"));
    let mut b = start_node(&bed, 1, &dir.0.join("b"), &downloads);
    await_peer(&mut a, b.id);
    await_peer(&mut b, a.id);

    let mut rows = Vec::new();
    let links: &[Link] = if shaping {
        &[Link::Veth, Link::Gigabit]
    } else {
        &[Link::Veth]
    };
    for &link in links {
        if link == Link::Gigabit {
            shape(&bed, true).expect("shape host 0's eth0");
        }
        let mut pairs = Vec::new();
        for round in 1..=rounds {
            let raw = raw_copy(&bed, &source, &dir.0.join("raw.bin"), size);
            println!(
                "{} round {round}: raw TCP {:.1} MB/s ({:.2} s, then fsync {:.2} s); process CPU {:.2} s, machine busy {:.0} % of {} cores",
                link.name(),
                size as f64 / MB / raw.secs,
                raw.secs,
                raw.fsync,
                raw.cpu.process,
                raw.cpu.busy * 100.0,
                raw.cpu.cores
            );
            let sent = lanchat_send(&mut a, &mut b, &source, size, &sha256);
            println!(
                "{} round {round}: lanchat {:.1} MB/s (FileOffer → FileDone on B, {:.2} s; SendFiles → FileDone {:.2} s; first Active progress → FileDone {}); process CPU {:.2} s, machine busy {:.0} % of {} cores; SHA-256 matches",
                link.name(),
                size as f64 / MB / sent.secs,
                sent.secs,
                sent.from_command,
                sent.steady
                    .map_or_else(|| "—".into(), |r| format!("{:.1} MB/s", r / MB)),
                sent.cpu.process,
                sent.cpu.busy * 100.0,
                sent.cpu.cores
            );
            println!("    CPU by thread: {}", sent.cpu.by_thread());
            pairs.push((raw, sent));
        }
        if link == Link::Gigabit {
            shape(&bed, false).expect("unshape host 0's eth0");
        }
        summarise(link, size, &pairs, &mut rows);
    }
    stop(vec![a, b]);

    common::print_table(&rows);
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}: a whole number, not {v:?}")),
        Err(_) => default,
    }
}

/// Writes `mib` MiB of random bytes to `path`, synced so no write-back of
/// it runs during the measurements; its SHA-256 in hex.
fn make_source(path: &Path, mib: u64) -> String {
    let mut rng = fastrand::Rng::with_seed(0xf11e);
    let mut file = File::create(path).expect("create the source");
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..mib {
        rng.fill(&mut buf);
        hasher.update(&buf);
        file.write_all(&buf).expect("write the source");
    }
    file.sync_all().expect("sync the source");
    hex::encode(hasher.finalize())
}

// ------------------------------------------------------------------ links

#[derive(Clone, Copy, PartialEq, Eq)]
enum Link {
    /// The veth pair as it is.
    Veth,
    /// Host 0's `eth0` shaped to 1 Gbit/s ([`SHAPE`]).
    Gigabit,
}

impl Link {
    fn name(self) -> &'static str {
        match self {
            Link::Veth => "veth, unshaped",
            Link::Gigabit => "1 Gbit/s (tbf on the sender)",
        }
    }
}

/// Puts the token bucket on host 0's `eth0`, or takes it off.
fn shape(bed: &Bed, on: bool) -> Result<(), String> {
    let host = bed.host(0);
    let mut args = vec!["netns", "exec", &host, "tc", "qdisc"];
    if on {
        args.extend(["replace", "dev", "eth0", "root"]);
        args.extend(SHAPE.split_whitespace());
    } else {
        args.extend(["del", "dev", "eth0", "root"]);
    }
    util::run("ip", &args)
}

// -------------------------------------------------------------------- CPU

/// CPU times at one moment: this process's, each of its live threads', and
/// the whole machine's.
struct Snapshot {
    process: u64,
    threads: HashMap<u32, (String, u64)>,
    machine_busy: u64,
    machine_total: u64,
    cores: usize,
}

impl Snapshot {
    fn now() -> Snapshot {
        let process = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| times(&s))
            .map_or(0, |(_, t)| t);
        let mut threads = HashMap::new();
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
                    continue;
                };
                if let Some(t) = std::fs::read_to_string(task.path().join("stat"))
                    .ok()
                    .and_then(|s| times(&s))
                {
                    threads.insert(tid, t);
                }
            }
        }
        // The first line of /proc/stat: user nice system idle iowait irq
        // softirq steal …, in ticks over all cores.
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|f| f.parse().ok())
            .collect();
        let machine_total: u64 = fields.iter().sum();
        let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
        Snapshot {
            process,
            threads,
            machine_busy: machine_total.saturating_sub(idle),
            machine_total,
            cores: stat.lines().filter(|l| l.starts_with("cpu")).count() - 1,
        }
    }

    /// The thread ids alive now.
    fn tids(&self) -> HashSet<u32> {
        self.threads.keys().copied().collect()
    }
}

/// A task's name and its user + system ticks, from a `stat` file.
fn times(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    // After the name: state is field 3, utime 14 and stime 15.
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    let user: u64 = rest.get(11)?.parse().ok()?;
    let system: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, user + system))
}

/// CPU used between two snapshots.
struct CpuUse {
    /// Seconds of CPU of this process (all threads, exited ones too).
    process: f64,
    /// Share of the machine's CPU time that was busy (anyone's).
    busy: f64,
    cores: usize,
    /// Seconds per (owner, thread name), largest first.
    threads: Vec<(String, f64)>,
}

impl CpuUse {
    fn between(before: &Snapshot, after: &Snapshot, owners: &[(&str, &HashSet<u32>)]) -> CpuUse {
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        let mut listed = 0;
        for (tid, (comm, ticks)) in &after.threads {
            let used = ticks - before.threads.get(tid).map_or(0, |(_, t)| *t);
            if used == 0 {
                continue;
            }
            let owner = owners
                .iter()
                .find(|(_, tids)| tids.contains(tid))
                .map_or("", |(name, _)| name);
            let key = if owner.is_empty() {
                comm.clone()
            } else {
                format!("{owner} {comm}")
            };
            *by.entry(key).or_default() += used;
            listed += used;
        }
        let process = after.process - before.process;
        if process > listed {
            by.insert("threads that ended".into(), process - listed);
        }
        let mut threads: Vec<(String, f64)> =
            by.into_iter().map(|(k, t)| (k, t as f64 * TICK)).collect();
        threads.sort_by(|x, y| y.1.total_cmp(&x.1));
        let total = after
            .machine_total
            .saturating_sub(before.machine_total)
            .max(1);
        CpuUse {
            process: process as f64 * TICK,
            busy: after.machine_busy.saturating_sub(before.machine_busy) as f64 / total as f64,
            cores: after.cores,
            threads,
        }
    }

    fn by_thread(&self) -> String {
        self.threads
            .iter()
            .map(|(name, secs)| format!("{name} {secs:.2} s"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

// --------------------------------------------------------------- raw copy

/// One raw TCP copy.
struct Copy {
    /// Connect → the last byte written to the file (not synced).
    secs: f64,
    /// Then syncing the file to disk (lanchat syncs before `FileDone`).
    fsync: f64,
    cpu: CpuUse,
}

/// Copies `source` from host 0 to `dest` in host 1 over one TCP
/// connection, as `nc` would.
fn raw_copy(bed: &Bed, source: &Path, dest: &Path, size: u64) -> Copy {
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let copy = std::thread::scope(|s| {
        let server = s.spawn(|| {
            bed.enter(1, || {
                let listener = TcpListener::bind((Bed::addr(1), 0)).expect("bind the sink");
                let port = listener.local_addr().expect("sink address").port();
                port_tx.send(port).expect("tell the port");
                let (mut stream, _) = listener.accept().expect("accept");
                let mut out = File::create(dest).expect("create the copy");
                let mut buf = vec![0u8; CHUNK];
                let mut total = 0u64;
                loop {
                    let n = stream.read(&mut buf).expect("read the socket");
                    if n == 0 {
                        break;
                    }
                    out.write_all(&buf[..n]).expect("write the copy");
                    total += n as u64;
                }
                let (end, cpu) = (Instant::now(), Snapshot::now());
                out.sync_data().expect("sync the copy");
                (total, end, cpu, end.elapsed())
            })
        });
        let port = port_rx.recv().expect("the sink's port");
        let before = Snapshot::now();
        let start = Instant::now();
        bed.enter(0, || {
            let mut file = File::open(source).expect("open the source");
            let mut stream = TcpStream::connect((Bed::addr(1), port)).expect("connect");
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = file.read(&mut buf).expect("read the source");
                if n == 0 {
                    break;
                }
                stream.write_all(&buf[..n]).expect("write the socket");
            }
            stream.shutdown(Shutdown::Write).expect("shutdown");
        });
        let (total, end, after, fsync) = server.join().expect("sink");
        assert_eq!(total, size, "the raw copy is short");
        Copy {
            secs: end.duration_since(start).as_secs_f64(),
            fsync: fsync.as_secs_f64(),
            cpu: CpuUse::between(&before, &after, &[]),
        }
    });
    let _ = std::fs::remove_file(dest);
    copy
}

// ---------------------------------------------------------------- lanchat

/// A node started inside a host namespace, with its own data directory.
struct Running {
    handle: NodeHandle,
    events: Events,
    id: NodeId,
    /// Its threads, for the CPU breakdown.
    tids: HashSet<u32>,
}

fn start_node(bed: &Bed, i: usize, data: &Path, downloads: &Path) -> Running {
    let options = NetOptions {
        data_dir: Some(data.to_path_buf()),
        nick: Some(format!("bench{i}")),
        files: FileOptions {
            download_dir: Some(downloads.to_path_buf()),
            auto_accept: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let before = Snapshot::now().tids();
    let result = bed.enter(i, || NodeHandle::start(options, Box::new(|| {})));
    let (handle, events, ready) = result.expect("start a node");
    // The threads it started (the tokio blocking pool may add more later;
    // those show by name only).
    let tids = Snapshot::now()
        .tids()
        .difference(&before)
        .copied()
        .collect();
    Running {
        handle,
        events,
        id: ready.id,
        tids,
    }
}

fn stop(nodes: Vec<Running>) {
    for mut n in nodes {
        common::quit(&n.handle, &mut n.events);
    }
}

/// Waits until `node` has seen `other` online.
fn await_peer(node: &mut Running, other: NodeId) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match node.events.try_recv() {
            Ok(e) => {
                if matches!(&e.event, Event::Core(CoreEvent::PeerOnline(p)) if p.id == other) {
                    return;
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    panic!("{} did not see {other} online", node.id);
}

/// One file sent by lanchat.
struct Sent {
    /// B's `FileOffer` → B's `FileDone`.
    secs: f64,
    /// A's `SendFiles` → B's `FileDone`.
    from_command: f64,
    /// Bytes a second from B's first `Active` progress to `FileDone`.
    steady: Option<f64>,
    cpu: CpuUse,
}

/// A offers `source` to B; B (auto-accepting) receives it.
fn lanchat_send(a: &mut Running, b: &mut Running, source: &Path, size: u64, sha256: &str) -> Sent {
    let timeout = Duration::from_secs(60 + size / 2_000_000);
    let before = Snapshot::now();
    let command = Instant::now();
    a.handle
        .send(Command::SendFiles {
            to: Target::Node(b.id),
            paths: vec![source.to_path_buf()],
        })
        .expect("SendFiles");
    let mut offered = None;
    let mut first_active: Option<(Instant, u64)> = None;
    let (done, after, path) = loop {
        assert!(
            command.elapsed() < timeout,
            "no FileDone within {timeout:?}"
        );
        let mut idle = true;
        while let Ok(e) = a.events.try_recv() {
            idle = false;
            match e.event {
                Event::File(FileEvent::Failed(f)) => panic!("A: the transfer failed: {f:?}"),
                Event::Trouble(text) => eprintln!("A: error: {text}"),
                _ => {}
            }
        }
        let mut finished = None;
        while let Ok(e) = b.events.try_recv() {
            idle = false;
            match e.event {
                Event::File(FileEvent::Offer(_)) => offered = Some(Instant::now()),
                Event::File(FileEvent::Progress(p))
                    if p.flow == Flow::Active && first_active.is_none() =>
                {
                    first_active = Some((Instant::now(), p.done));
                }
                Event::File(FileEvent::Done(d)) if d.direction == Direction::Down => {
                    let at = (Instant::now(), Snapshot::now());
                    assert_eq!(d.sha256, sha256, "B's file has another SHA-256");
                    assert_eq!(d.size, size);
                    assert_eq!(d.resumes, 0, "the connection dropped");
                    finished = Some((at.0, at.1, d.path.expect("a received file's path")));
                }
                Event::File(FileEvent::Failed(f)) => panic!("B: the transfer failed: {f:?}"),
                Event::Trouble(text) => eprintln!("B: error: {text}"),
                _ => {}
            }
        }
        if let Some(finished) = finished {
            break finished;
        }
        if idle {
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    let received = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    assert_eq!(received, size, "{} is not the whole file", path.display());
    let _ = std::fs::remove_file(&path);
    // A's own FileDone follows B's Done frame; take it so the next round
    // starts clean.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match a.events.try_recv() {
            Ok(e) if matches!(&e.event, Event::File(FileEvent::Done(d)) if d.direction == Direction::Up) =>
            {
                break;
            }
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let offered = offered.expect("B's FileOffer came before its FileDone");
    Sent {
        secs: done.duration_since(offered).as_secs_f64(),
        from_command: done.duration_since(command).as_secs_f64(),
        steady: first_active
            .map(|(at, bytes)| (size - bytes) as f64 / done.duration_since(at).as_secs_f64()),
        cpu: CpuUse::between(&before, &after, &[("A", &a.tids), ("B", &b.tids)]),
    }
}

// ------------------------------------------------------------------ table

fn summarise(link: Link, size: u64, pairs: &[(Copy, Sent)], rows: &mut Vec<Row>) {
    let n = pairs.len() as f64;
    let rate = |secs: f64| size as f64 / MB / secs;
    let raw: Vec<f64> = pairs.iter().map(|(c, _)| rate(c.secs)).collect();
    let synced: Vec<f64> = pairs.iter().map(|(c, _)| rate(c.secs + c.fsync)).collect();
    let lan: Vec<f64> = pairs.iter().map(|(_, s)| rate(s.secs)).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n;
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        format!("{lo:.0}–{hi:.0}")
    };
    let cpu_raw = pairs.iter().map(|(c, _)| c.cpu.process).sum::<f64>() / n;
    let cpu_lan = pairs.iter().map(|(_, s)| s.cpu.process).sum::<f64>() / n;
    let mib = size >> 20;
    rows.push(Row {
        what: format!(
            "{mib} MiB host 0 → host 1, {}: MB/s (range over {n} rounds)",
            link.name()
        ),
        lanchat: format!("{:.1} ({})", mean(&lan), range(&lan)),
        baseline: format!("raw TCP {:.1} ({})", mean(&raw), range(&raw)),
        ratio: format!("**{:.2}×** (goal ≥ 0.9×)", mean(&lan) / mean(&raw)),
    });
    rows.push(Row {
        what: format!(
            "same, baseline with fsync as lanchat does ({})",
            link.name()
        ),
        lanchat: format!("{:.1}", mean(&lan)),
        baseline: format!("raw TCP + fsync {:.1} ({})", mean(&synced), range(&synced)),
        ratio: format!("{:.2}×", mean(&lan) / mean(&synced)),
    });
    rows.push(Row {
        what: format!("process CPU per transfer ({})", link.name()),
        lanchat: format!("{cpu_lan:.2} s ({:.1} ns/B)", cpu_lan * 1e9 / size as f64),
        baseline: format!("{cpu_raw:.2} s ({:.1} ns/B)", cpu_raw * 1e9 / size as f64),
        ratio: format!("{:.1}×", cpu_lan / cpu_raw.max(TICK)),
    });
}
