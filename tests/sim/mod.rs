//! The protocol on a simulated LAN: seeded, virtual clock, loss,
//! duplication and reordering. A failing seed is a regression test.

mod authorship;
mod burst;
mod catchup;
mod clocks;
mod costs;
mod features;
mod finite;
mod flood;
mod idle;
mod net;
mod protected;
mod reach;
mod scale;
mod signatures;
mod typing;
mod watch;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use lanchat::protocol::{CoreEvent, OfflineReason, Target};
use lanchat::{Chat, CoreCommand, MessageKind, MsgId, NodeId};

use net::{Faults, Sim};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn say(sim: &mut Sim, host: usize, to: Target, text: String) {
    sim.command(
        host,
        CoreCommand::Say {
            to: vec![to],
            text,
            kind: MessageKind::Text,
        },
    );
}

/// When host `a` first saw host `b` online (at or after `since`).
fn seen_at(sim: &Sim, a: usize, b: NodeId, since: Duration) -> Option<Duration> {
    sim.log.iter().find_map(|l| match &l.event {
        CoreEvent::PeerOnline(p) if l.host == a && p.id == b && l.at >= since => Some(l.at),
        _ => None,
    })
}

fn offline_events(sim: &Sim) -> Vec<(Duration, usize, NodeId, OfflineReason)> {
    sim.log
        .iter()
        .filter_map(|l| match &l.event {
            CoreEvent::PeerOffline { id, reason, .. } => Some((l.at, l.host, *id, *reason)),
            _ => None,
        })
        .collect()
}

/// Checks that every message sent was received exactly once, in per-sender
/// order, by every host that was in the chat the whole time.
struct Ledger {
    /// (sender, chat) → ids in send order.
    sent: HashMap<(usize, Chat), Vec<MsgId>>,
}

impl Ledger {
    fn from_log(sim: &Sim) -> Self {
        let mut sent: HashMap<(usize, Chat), Vec<MsgId>> = HashMap::new();
        for l in &sim.log {
            if let CoreEvent::Sent { id, chat, kind, .. } = &l.event
                && *kind != MessageKind::Beep
            {
                sent.entry((l.host, chat.clone())).or_default().push(*id);
            }
        }
        Ledger { sent }
    }

    /// Ids received by `host` from `from` in `chat`, in arrival order.
    fn received(sim: &Sim, host: usize, from: NodeId, chat: &Chat) -> Vec<MsgId> {
        sim.log
            .iter()
            .filter_map(|l| match &l.event {
                CoreEvent::Message(m) if l.host == host && m.from == from && &m.chat == chat => {
                    Some(m.id)
                }
                _ => None,
            })
            .collect()
    }

    /// Asserts exactly-once, in-order delivery of `sender`'s messages in a
    /// channel at `receivers`; returns how many deliveries were checked.
    fn check_channel(&self, sim: &Sim, sender: usize, channel: &str, receivers: &[usize]) -> usize {
        let chat = Chat::Channel(channel.to_string());
        let Some(ids) = self.sent.get(&(sender, chat.clone())) else {
            return 0;
        };
        for &r in receivers.iter().filter(|&&r| r != sender) {
            let got = Self::received(sim, r, sim.id(sender), &chat);
            assert_eq!(
                &got,
                ids,
                "host {r} got {}/{} of host {sender}'s {channel} messages",
                got.len(),
                ids.len()
            );
        }
        ids.len() * receivers.iter().filter(|&&r| r != sender).count()
    }

    /// Asserts each direct message arrived once, in order, and was
    /// reported delivered.
    fn check_direct(&self, sim: &Sim) -> usize {
        let mut checked = 0;
        for ((sender, chat), ids) in &self.sent {
            let Chat::Direct(to) = chat else { continue };
            let Some(r) = (0..sim.len()).find(|&i| sim.id(i) == *to) else {
                continue;
            };
            let got = Self::received(sim, r, sim.id(*sender), &Chat::Direct(sim.id(*sender)));
            assert_eq!(&got, ids, "direct messages from {sender} to {r}");
            let delivered: HashSet<MsgId> = sim
                .log
                .iter()
                .filter_map(|l| match &l.event {
                    CoreEvent::Delivered { id, to: t } if l.host == *sender && t == to => Some(*id),
                    _ => None,
                })
                .collect();
            for id in ids {
                assert!(
                    delivered.contains(id),
                    "no delivered receipt for a message from {sender} to {r}"
                );
            }
            checked += ids.len();
        }
        checked
    }
}

/// Time from each channel send to each delivery of it.
fn channel_latencies(sim: &Sim, since: Duration) -> Vec<Duration> {
    let mut sent_at = HashMap::new();
    for l in sim.log.iter().filter(|l| l.at >= since) {
        if let CoreEvent::Sent {
            id,
            chat: Chat::Channel(_),
            ..
        } = &l.event
        {
            sent_at.insert(*id, l.at);
        }
    }
    sim.log
        .iter()
        .filter_map(|l| match &l.event {
            CoreEvent::Message(m) => sent_at.get(&m.id).map(|t| l.at - *t),
            _ => None,
        })
        .collect()
}

const PEERS: usize = 50;

/// The figures the issue asks for, on one seeded run of 50 peers at 30 %
/// loss with duplication and reordering.
#[test]
fn fifty_peers_at_thirty_percent_loss() {
    // LANCHAT_SIM_SEED explores other seeds; a failing one becomes a test.
    let seed = std::env::var("LANCHAT_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1a2c);
    fifty_peers(seed);
}

/// Regression: a receiver lost all nine datagrams a restarted peer sent in
/// its first second and did not see it; a peer found by its heartbeat is now
/// greeted directly.
#[test]
fn fifty_peers_seed_5() {
    fifty_peers(5);
}

fn fifty_peers(seed: u64) {
    // Two cores' worth of work: not while a timed test runs.
    let _busy = crate::util::heavy();
    println!("seed {seed}");
    let mut sim = Sim::new(seed, Faults::lossy(0.30));
    for i in 0..PEERS {
        sim.add(&format!("p{i}"));
        let t = sim.elapsed() + secs(0.02);
        sim.run_until(t);
    }
    sim.run_until(secs(3.0));

    // A newcomer is seen by all, and sees all, within a second.
    let joined_at = sim.elapsed();
    let newcomer = sim.add("newcomer");
    sim.run_until(joined_at + secs(1.0));
    let mut worst = Duration::ZERO;
    for i in 0..PEERS {
        let a = seen_at(&sim, i, sim.id(newcomer), joined_at).expect("newcomer seen");
        let b = seen_at(&sim, newcomer, sim.id(i), joined_at).expect("peer seen by newcomer");
        worst = worst.max(a.max(b) - joined_at);
    }
    println!("newcomer seen by all {PEERS} and seeing all within {worst:?}");
    assert!(worst <= secs(1.0));

    // Some join #dev as well; everyone talks in #Main, #dev and privately,
    // with a few long texts that need many fragments.
    let dev: Vec<usize> = (0..PEERS).step_by(3).collect();
    for &i in &dev {
        sim.command(
            i,
            CoreCommand::Join {
                channel: "#dev".into(),
                secret: None,
            },
        );
    }
    sim.run_until(sim.elapsed() + secs(2.0));
    let mut rng = fastrand::Rng::with_seed(7);
    let talk_start = sim.elapsed();
    for round in 0..6 {
        for i in 0..=PEERS {
            let text = if round == 2 && i % 10 == 0 {
                format!("{i} long ") + &"ж".repeat(5000)
            } else {
                format!("{i}:{round}")
            };
            say(&mut sim, i, Target::Channel("#Main".into()), text);
            if dev.contains(&i) {
                say(
                    &mut sim,
                    i,
                    Target::Channel("#dev".into()),
                    format!("dev {i}:{round}"),
                );
            }
            let to = rng.usize(0..=PEERS);
            if to != i {
                let peer = sim.id(to);
                say(
                    &mut sim,
                    i,
                    Target::Node(peer),
                    format!("dm {i}->{to} {round}"),
                );
            }
            let t = sim.elapsed() + secs(0.01);
            sim.run_until(t);
        }
    }
    let talk_end = sim.elapsed();
    // Channel messages must be complete within 5 s; direct messages get 10 s
    // for their receipts (each try is a round trip, lost half the time).
    sim.run_until(talk_end + secs(10.0));
    let ledger = Ledger::from_log(&sim);
    let everyone: Vec<usize> = (0..=PEERS).collect();
    let mut deliveries = 0;
    for i in 0..=PEERS {
        deliveries += ledger.check_channel(&sim, i, "#Main", &everyone);
        deliveries += ledger.check_channel(&sim, i, "#dev", &dev);
    }
    let direct = ledger.check_direct(&sim);
    let last_delivery = sim
        .log
        .iter()
        .filter(|l| matches!(&l.event, CoreEvent::Message(m) if matches!(m.chat, Chat::Channel(_))))
        .map(|l| l.at)
        .max()
        .unwrap_or_default();
    println!(
        "{deliveries} channel deliveries and {direct} direct messages exactly once, in order; \
         last one {:?} after the last send",
        last_delivery.saturating_sub(talk_end)
    );
    let mut latency = channel_latencies(&sim, talk_start);
    latency.sort();
    let pick = |q: f64| latency[((latency.len() - 1) as f64 * q) as usize];
    println!(
        "channel delivery latency: median {:?}, p99 {:?}, max {:?}",
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
    assert!(last_delivery <= talk_end + secs(5.0));
    assert!(deliveries > 6 * PEERS * PEERS);
    let _ = talk_start;

    // SIGKILL: offline everywhere within 6 s.
    let victim = 7;
    let killed_at = sim.elapsed();
    sim.kill(victim);
    sim.run_until(killed_at + secs(6.0));
    for i in (0..=PEERS).filter(|&i| i != victim) {
        let seen = offline_events(&sim)
            .into_iter()
            .find(|(at, host, id, _)| *host == i && *id == sim.id(victim) && *at >= killed_at);
        let (at, _, _, reason) =
            seen.unwrap_or_else(|| panic!("host {i} still shows the killed peer"));
        assert_eq!(reason, OfflineReason::Timeout);
        assert!(at - killed_at <= secs(6.0));
    }
    let worst_kill = offline_events(&sim)
        .iter()
        .filter(|(at, _, id, _)| *id == sim.id(victim) && *at >= killed_at)
        .map(|(at, ..)| *at - killed_at)
        .max()
        .unwrap_or_default();
    println!("killed peer offline everywhere after {worst_kill:?}");

    // Restart with a higher epoch: one entry everywhere, at once.
    let restarted_at = sim.elapsed();
    sim.restart(victim, "p7");
    sim.run_until(restarted_at + secs(1.0));
    for i in (0..=PEERS).filter(|&i| i != victim) {
        let node = sim.node(i).expect("alive");
        let entries: Vec<_> = node
            .peers()
            .into_iter()
            .filter(|p| p.id == sim.id(victim))
            .collect();
        assert_eq!(entries.len(), 1, "host {i}");
        assert_eq!(
            entries[0].epoch,
            sim.node(victim).expect("restarted").epoch()
        );
    }
    // A frozen peer (SIGSTOP for 3 s) is not reported offline.
    let frozen = 11;
    let frozen_at = sim.elapsed();
    sim.freeze(frozen, true);
    sim.run_until(frozen_at + secs(3.0));
    sim.freeze(frozen, false);

    // Ten virtual minutes of idle and light talk: no live peer goes offline.
    let quiet_from = sim.elapsed();
    for minute in 0..10 {
        for i in (0..=PEERS).step_by(5) {
            say(
                &mut sim,
                i,
                Target::Channel("#Main".into()),
                format!("minute {minute} from {i}"),
            );
        }
        sim.run_until(quiet_from + secs(60.0 * (minute + 1) as f64));
    }
    let false_offline: Vec<_> = offline_events(&sim)
        .into_iter()
        .filter(|(at, ..)| *at >= restarted_at)
        .collect();
    println!(
        "{} virtual minutes after the restart: {} false offline reports; {} datagrams simulated, largest {} bytes",
        (sim.elapsed() - restarted_at).as_secs() / 60,
        false_offline.len(),
        sim.datagrams,
        sim.largest
    );
    assert!(
        false_offline.is_empty(),
        "live peers reported offline: {false_offline:?}"
    );
    let ledger = Ledger::from_log(&sim);
    for i in (0..=PEERS).step_by(5).filter(|&i| i != victim) {
        let alive: Vec<usize> = (0..=PEERS).filter(|&r| r != victim).collect();
        ledger.check_channel(&sim, i, "#Main", &alive);
    }
    // And everyone sees everyone.
    for i in 0..=PEERS {
        assert_eq!(sim.node(i).expect("alive").peers().len(), PEERS, "host {i}");
    }
}
