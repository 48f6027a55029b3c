//! Discovery of many nodes started together on a network with finite
//! buffers (issue 16). On the namespace bed (`lanchat headless` processes
//! in network namespaces on one Linux bridge, a VM of 2 cores) discovery
//! collapsed at 40 nodes and not at 20 or 30; [`Buffers::bed`] models that
//! bed. There the start-up bursts overflow the switch's buffer (a group
//! frame takes a slot per port) and keep the cores busy; peers miss each
//! other's heartbeats, become suspect and are probed, directly and through
//! three others, and some become unheard and get copies by unicast: N²
//! unicast datagrams that keep the cores busy and the buffers full (the
//! figures printed name the kinds). These tests say what a node that does
//! not collapse does there; the controls show that the buffers, not the
//! scenario, make the difference.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use lanchat::NodeId;
use lanchat::protocol::CoreEvent;

use super::net::buffers::{Buffers, Drops, Load};
use super::net::{Faults, Sim};
use super::secs;

/// Between two starts: the bed's loop spawning one process after another.
const SPACING: Duration = Duration::from_millis(10);
/// By when every node must see every other (since the first start).
const SETTLED: f64 = 20.0;
/// The idle window whose traffic is measured (since the first start).
const IDLE_UNTIL: f64 = 30.0;
/// Most unicast datagrams, as a share of all a node sends while idle. On a
/// LAN where the group works they are catch-up digests (`Sync`), 2–16 % in
/// these runs; in a collapse, probes of suspects and copies to unheard
/// peers, 95 % and more.
const MOST_UNICAST: f64 = 0.25;

/// What one run shows.
#[derive(Debug)]
struct Figures {
    nodes: usize,
    /// (a, b) with a not seeing b online at [`SETTLED`].
    missing: usize,
    /// Nodes that see nobody at [`SETTLED`].
    blind: usize,
    /// Peers reported offline (no node quits or dies here).
    false_offline: usize,
    /// When every node first saw every other.
    all_see_all: Option<Duration>,
    drops: Drops,
    /// The network's work in the first [`SETTLED`] seconds.
    load: Load,
    /// Datagrams sent per node per second in the idle window.
    group_rate: f64,
    unicast_rate: f64,
    /// Unicast datagrams sent in the idle window, by kind, most first.
    unicast_kinds: Vec<(String, u64)>,
    wall: Duration,
}

impl Figures {
    fn unicast_share(&self) -> f64 {
        self.unicast_rate / (self.group_rate + self.unicast_rate).max(f64::MIN_POSITIVE)
    }

    fn print(&self, what: &str) {
        let network = if self.load.reading.is_zero() {
            "room for everything".to_string()
        } else {
            format!(
                "{} copies dropped: switch {}, group sockets {}, unicast sockets {}, ARP {}; \
                 CPU until {SETTLED} s: reading {:.2} s, forwarding {:.2} s, switch peak {} copies",
                self.drops.total(),
                self.drops.switch,
                self.drops.group_socket,
                self.drops.unicast_socket,
                self.drops.neighbour,
                self.load.reading.as_secs_f64(),
                self.load.forwarding.as_secs_f64(),
                self.load.switch_peak,
            )
        };
        println!(
            "SIM figure: {what}: {} nodes; after {SETTLED} s {} of {} pairs missing, {} nodes see nobody; \
             {} false peer_offline; all saw all {}; {network}; \
             idle {SETTLED}–{IDLE_UNTIL} s per node: {:.2} group and {:.2} unicast datagrams/s ({:.0} % unicast: {}); \
             {:.1} s of wall time",
            self.nodes,
            self.missing,
            self.nodes * (self.nodes - 1),
            self.blind,
            self.false_offline,
            self.all_see_all
                .map_or_else(|| "never".to_string(), |t| format!("after {t:.2?}")),
            self.group_rate,
            self.unicast_rate,
            self.unicast_share() * 100.0,
            self.unicast_kinds
                .iter()
                .take(4)
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.wall.as_secs_f64(),
        );
    }

    /// What a node that does not collapse does.
    fn check(&self) {
        assert_eq!(
            self.missing, 0,
            "{} pairs do not see each other: {self:?}",
            self.missing
        );
        assert_eq!(
            self.false_offline, 0,
            "live peers reported offline: {self:?}"
        );
        assert!(
            self.unicast_share() <= MOST_UNICAST,
            "idle traffic is {:.0} % unicast: {self:?}",
            self.unicast_share() * 100.0
        );
    }
}

/// Starts `nodes` nodes one after another, [`SPACING`] apart, and runs
/// until [`IDLE_UNTIL`].
fn start_together(mut sim: Sim, nodes: usize) -> Figures {
    let wall = Instant::now();
    sim.kinds = Some(BTreeMap::new());
    for i in 0..nodes {
        sim.add(&format!("n{i}"));
        let t = sim.elapsed() + SPACING;
        sim.run_until(t);
    }
    sim.run_until(secs(SETTLED));
    let ids: Vec<NodeId> = (0..nodes).map(|i| sim.id(i)).collect();
    let (mut missing, mut blind) = (0, 0);
    for i in 0..nodes {
        let seen: HashSet<NodeId> = sim
            .node(i)
            .expect("alive")
            .peers()
            .iter()
            .map(|p| p.id)
            .collect();
        let sees = ids
            .iter()
            .enumerate()
            .filter(|(j, id)| *j != i && seen.contains(id))
            .count();
        missing += nodes - 1 - sees;
        blind += usize::from(sees == 0);
    }
    let load = sim.load();
    let before = sim.total_traffic();
    let kinds_before = sim.kinds.clone().unwrap_or_default();
    sim.run_until(secs(IDLE_UNTIL));
    let idle = sim.total_traffic() - before;
    let mut unicast_kinds: Vec<(String, u64)> = sim
        .kinds
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(kind, n)| {
            let earlier = kinds_before.get(&kind).copied().unwrap_or(0);
            let body = kind.strip_prefix("unicast ")?;
            Some((body.to_string(), n - earlier))
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    unicast_kinds.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let per_node = |n: u64| n as f64 / (IDLE_UNTIL - SETTLED) / nodes as f64;
    Figures {
        nodes,
        missing,
        blind,
        false_offline: sim
            .log
            .iter()
            .filter(|l| matches!(l.event, CoreEvent::PeerOffline { .. }))
            .count(),
        all_see_all: all_see_all(&sim, nodes),
        drops: sim.drops(),
        load,
        group_rate: per_node(idle.group),
        unicast_rate: per_node(idle.unicast),
        unicast_kinds,
        wall: wall.elapsed(),
    }
}

/// When every node first saw all others online at once.
fn all_see_all(sim: &Sim, nodes: usize) -> Option<Duration> {
    let mut online: Vec<HashSet<NodeId>> = vec![HashSet::new(); nodes];
    let mut complete = 0;
    for l in &sim.log {
        let set = &mut online[l.host];
        let was = set.len() == nodes - 1;
        match &l.event {
            CoreEvent::PeerOnline(p) => {
                set.insert(p.id);
            }
            CoreEvent::PeerOffline { id, .. } => {
                set.remove(id);
            }
            _ => continue,
        }
        let is = set.len() == nodes - 1;
        match (was, is) {
            (false, true) => complete += 1,
            (true, false) => complete -= 1,
            _ => {}
        }
        if complete == nodes {
            return Some(l.at);
        }
    }
    None
}

/// The seed of every run here; `LANCHAT_SIM_SEED` explores others.
fn seed() -> u64 {
    std::env::var("LANCHAT_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x16)
}

fn on_the_bed(nodes: usize) -> Figures {
    let _busy = crate::util::heavy();
    let seed = seed();
    let figures = start_together(
        Sim::with_buffers(seed, Faults::none(), Buffers::bed()),
        nodes,
    );
    figures.print(&format!("bed model, seed {seed:#x}"));
    figures
}

fn with_room_for_everything(nodes: usize) -> Figures {
    let _busy = crate::util::heavy();
    let seed = seed();
    let figures = start_together(Sim::new(seed, Faults::none()), nodes);
    figures.print(&format!("unlimited buffers, seed {seed:#x}"));
    figures
}

/// As the bed did at 20 and 30 nodes: all see all, and idle is quiet.
#[test]
fn twenty_nodes_started_together_on_the_bed() {
    on_the_bed(20).check();
}

#[test]
fn thirty_nodes_started_together_on_the_bed() {
    on_the_bed(30).check();
}

/// The bed of issue 16. On 42cde81 (seed 0x16): after 20 s 1 of 1,560
/// pairs missing, 35 false peer_offline, all saw all only after 6.28 s;
/// 430,795 copies dropped (switch 425,243, group sockets 335, unicast
/// sockets 163, waiting for ARP 5,054); the 2 cores busy 38.9 s of 40 until
/// 20 s; idle, per node, 3.77 group and 102.36 unicast datagrams/s (96 %
/// unicast; in the 10 s: ProbeRequest 19,797, Probe 14,014, ProbeAck
/// 5,433, Ping 757). Now (seed 0x16): none missing, no false offline, all
/// saw all after 5.97 s; 118,583 copies dropped (switch 117,361); the
/// cores busy 17.1 s of 40; idle 1.04 group and 0.01 unicast datagrams/s
/// per node (seeds 1–6: all saw all after 5.8–6.8 s, 0–16 % unicast).
#[test]
fn forty_nodes_started_together_on_the_bed() {
    on_the_bed(40).check();
}

/// On 42cde81 (seed 0x16): after 20 s 923 of 3,540 pairs missing, 1,329
/// false peer_offline, never all saw all; 2,686,335 copies dropped (switch
/// 2,637,149, waiting for ARP 49,186); the cores busy 38.4 s of 40 until
/// 20 s; idle, per node, 7.42 group and 285.69 unicast datagrams/s (97 %
/// unicast; in the 10 s: ProbeRequest 77,637, Probe 39,192, Unheard
/// 28,569, Presence 11,327).
///
/// Now: 3 pairs missing at 20 s, 9 false peer_offline, all saw all after
/// 22.6 s; the cores busy 37.9 s of 40. The model charges every signed
/// datagram 650 µs, a calibration to the old code's collapse (see
/// `buffers`), and 60 nodes' start-up presences alone are 32,000 of them
/// to read on 2 cores. On the bed itself 60 real nodes started together
/// see each other within 3 s (`lan::scale`, in CI), so this stays a
/// model's question: what start-up costs when the cores are this slow.
#[test]
#[ignore = "the model's 2 cores saturate on 60 nodes' start-up; the real bed of 60 passes (lan::scale)"]
fn sixty_nodes_started_together_on_the_bed() {
    on_the_bed(60).check();
}

/// Control: the same start with room for everything (the model every
/// other simulation uses) does not collapse.
#[test]
fn forty_nodes_started_together_with_unlimited_buffers() {
    with_room_for_everything(40).check();
}

/// Control, as above with 60 nodes.
#[test]
fn sixty_nodes_started_together_with_unlimited_buffers() {
    with_room_for_everything(60).check();
}
