//! Hostile input at the core: random and mutated datagrams, and forged
//! restart and leave claims. Nothing may panic, and the node keeps working.

use std::net::SocketAddr;
use std::time::Duration;

use lanchat::protocol::{CoreEvent, Target};
use lanchat::wire::{Body, Packet, Presence};
use lanchat::{Chat, CoreCommand, MessageKind};

use super::net::{Faults, Sim, open, seal};
use lanchat::envelope::{self, Keys};

fn hostile() -> SocketAddr {
    "10.77.9.9:47077".parse().expect("address")
}

fn say(sim: &mut Sim, host: usize, text: &str) {
    sim.command(
        host,
        CoreCommand::Say {
            to: vec![Target::Channel("#Main".into())],
            text: text.into(),
            kind: MessageKind::Text,
        },
    );
}

fn got(sim: &Sim, host: usize, text: &str) -> usize {
    sim.log
        .iter()
        .filter(|l| l.host == host && matches!(&l.event, CoreEvent::Message(m) if m.text == text && m.chat == Chat::Channel("#Main".into())))
        .count()
}

#[test]
fn a_hundred_thousand_mangled_datagrams_change_nothing_for_good() {
    let mut sim = Sim::new(0xf100d, Faults::lossy(0.0));
    for i in 0..3 {
        sim.add(&format!("f{i}"));
    }
    sim.run_until(Duration::from_secs(2));
    say(&mut sim, 1, "before");
    sim.command(
        1,
        CoreCommand::Say {
            to: vec![Target::Node(sim.id(0))],
            text: "dm".into(),
            kind: MessageKind::Text,
        },
    );
    sim.run_until(Duration::from_secs(3));
    let captured: Vec<Vec<u8>> = sim.captured().into_iter().take(200).collect();
    assert!(captured.len() >= 20);

    let mut rng = fastrand::Rng::with_seed(99);
    for n in 0..100_000 {
        let bytes = if n % 2 == 0 {
            (0..rng.usize(..1400)).map(|_| rng.u8(..)).collect()
        } else {
            let mut d = captured[rng.usize(..captured.len())].clone();
            for _ in 0..rng.usize(1..4) {
                let i = rng.usize(..d.len());
                d[i] ^= 1 << rng.u8(..8);
            }
            if rng.u8(..4) == 0 {
                d.truncate(rng.usize(..d.len()));
            }
            d
        };
        sim.inject(0, hostile(), &bytes);
        // At the rate one source may send (1,000/s), so every datagram is
        // read and checked.
        if n % 1_000 == 999 {
            let t = sim.elapsed() + Duration::from_secs(1);
            sim.run_until(t);
        }
    }
    let stats = sim.node(0).expect("alive").stats();
    println!("flood at the core: {stats:?}");
    assert!(stats.malformed > 50_000, "{stats:?}");
    assert!(stats.forged > 10_000, "{stats:?}");
    assert_eq!(stats.rate_limited, 0, "{stats:?}");

    // Phantoms from mangled presences time out; the real peers stay.
    let after = sim.elapsed();
    sim.run_until(after + Duration::from_secs(8));
    let mut online: Vec<_> = sim
        .node(0)
        .expect("alive")
        .peers()
        .into_iter()
        .map(|p| p.id)
        .collect();
    online.sort();
    let mut want = vec![sim.id(1), sim.id(2)];
    want.sort();
    assert_eq!(online, want);
    say(&mut sim, 1, "after");
    say(&mut sim, 0, "mine after");
    sim.run_until(sim.elapsed() + Duration::from_secs(2));
    assert_eq!(got(&sim, 0, "after"), 1);
    assert_eq!(got(&sim, 2, "mine after"), 1);
}

/// Regression: one mangled presence with a higher epoch used to replace a
/// live peer, whose real packets then looked stale: it was locked out.
#[test]
fn a_forged_restart_or_leave_does_not_replace_a_live_peer() {
    let mut sim = Sim::new(0x5ca1e, Faults::lossy(0.0));
    for i in 0..2 {
        sim.add(&format!("r{i}"));
    }
    sim.run_until(Duration::from_secs(2));
    let victim = sim.id(1);
    let epoch = sim.node(1).expect("alive").epoch();
    // A restart signed with the victim's own key (as after a real restart)
    // but sent from elsewhere: a claim to prove, not a fact.
    let restart = Packet {
        from: victim,
        epoch: epoch + 1,
        body: Body::Presence(Presence {
            nick: "impostor".into(),
            ..Presence::default()
        }),
    };
    let leave = Packet {
        from: victim,
        epoch,
        body: Body::Leave,
    };
    let victim_keys = sim.keys(1);
    let first_of_a_life = envelope::seal(&restart, 1, &victim_keys, None).expect("seals");
    sim.inject(0, hostile(), &first_of_a_life);
    // Signed by someone else in the victim's name: not even read.
    let mallory = Keys::from_secret(&[0x66; 32]);
    let forged_before = sim.node(0).expect("alive").stats().forged;
    sim.inject(0, hostile(), &seal(&mallory, &restart));
    sim.inject(0, sim.addr(1), &seal(&mallory, &leave));
    assert_eq!(
        sim.node(0).expect("alive").stats().forged,
        forged_before + 2
    );
    sim.run_until(Duration::from_secs(10));
    let peers = sim.node(0).expect("alive").peers();
    assert_eq!(peers.len(), 1);
    assert_eq!(
        (peers[0].id, peers[0].epoch, peers[0].nick.as_str()),
        (victim, epoch, "r1")
    );
    assert!(
        !sim.log
            .iter()
            .any(|l| l.host == 0 && matches!(l.event, CoreEvent::PeerOffline { .. }))
    );
    say(&mut sim, 1, "still me");
    sim.run_until(Duration::from_secs(11));
    assert_eq!(got(&sim, 0, "still me"), 1);

    // Regression: a copy of the victim's current presence sent from
    // elsewhere moved its address there, and direct messages went astray
    // until its next full presence.
    let real = sim
        .captured()
        .into_iter()
        .rev()
        .find(|d| matches!(open(d), Some(Packet { from, body: Body::Presence(_), .. }) if from == victim))
        .expect("a presence of the victim");
    sim.inject(0, hostile(), &real);
    sim.command(
        0,
        CoreCommand::Say {
            to: vec![Target::Node(victim)],
            text: "private".into(),
            kind: MessageKind::Text,
        },
    );
    sim.run_until(Duration::from_millis(11_100));
    assert_eq!(sim.node(0).expect("alive").peers()[0].addr, sim.addr(1));
    assert!(
        sim.log.iter().any(
            |l| l.host == 1 && matches!(&l.event, CoreEvent::Message(m) if m.text == "private")
        )
    );
}
