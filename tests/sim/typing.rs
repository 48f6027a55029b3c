//! "bob is typing…": who is told, how often a notice goes, and whom a
//! notice is not believed from.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use lanchat::envelope::Keys;
use lanchat::protocol::{CoreEvent, Dest, Target, Timing};
use lanchat::types::MAIN_CHANNEL;
use lanchat::wire::{Body, ChannelState, Packet, Presence, TypingChat};
use lanchat::{Chat, Config, CoreCommand, Node, NodeId};

use super::features::{errors, lan};
use super::net::{Faults, Sim, open, seal};
use super::secs;

/// Typing events `host` had at or after `since`: (chat, typist, nick).
fn typing(sim: &Sim, host: usize, since: Duration) -> Vec<(Chat, NodeId, String)> {
    sim.events(host, since)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Typing { chat, id, nick } => Some((chat.clone(), *id, nick.clone())),
            _ => None,
        })
        .collect()
}

fn typing_dropped(sim: &Sim, host: usize) -> u64 {
    sim.node(host).expect("alive").stats().typing_dropped
}

/// Types in `target` on `host` the way a window reports it: a keystroke
/// every 150 ms for `s` seconds.
fn type_for(sim: &mut Sim, host: usize, target: &Target, s: f64) {
    let end = sim.elapsed() + secs(s);
    while sim.elapsed() < end {
        sim.command(host, CoreCommand::Typing(target.clone()));
        let t = sim.elapsed() + secs(0.15);
        sim.run_until(t);
    }
}

fn typing_packet(keys: &Keys, epoch: u64, chat: TypingChat) -> Vec<u8> {
    seal(
        keys,
        &Packet {
            from: keys.id(),
            epoch,
            body: Body::Typing { chat },
        },
    )
}

#[test]
fn typing_in_a_channel_reaches_its_members_and_no_one_else() {
    let mut sim = lan(0x7e01, &["ann", "bob", "cat", "dan"]);
    for host in 0..3 {
        sim.command(
            host,
            CoreCommand::Join {
                channel: "#dev".into(),
                secret: None,
            },
        );
    }
    sim.run_until(sim.elapsed() + secs(1.0));

    let at = sim.elapsed();
    // Four seconds of typing: two notices, so one lost copy still shows.
    type_for(&mut sim, 0, &Target::Channel("dev".into()), 4.0);
    sim.run_until(sim.elapsed() + secs(0.5));
    let ann = (Chat::Channel("#dev".into()), sim.id(0), "ann".to_string());
    for host in [1, 2] {
        let seen = typing(&sim, host, at);
        assert!(!seen.is_empty(), "host {host} was not told");
        assert!(seen.iter().all(|t| *t == ann), "host {host}: {seen:?}");
    }
    assert_eq!(typing(&sim, 3, at), vec![], "an outsider was told");
    assert!(typing_dropped(&sim, 3) > 0, "the outsider got no notice");
    assert_eq!(typing(&sim, 0, at), vec![], "the typist was told");
    assert!(errors(&sim, 0, at).is_empty());

    // Chats that do not resolve are ignored without a word (every
    // keystroke would bring an error) and reach no one.
    let at = sim.elapsed();
    for target in [
        Target::Channel("#dev".into()), // dan is not in it
        Target::Channel("#nowhere".into()),
        Target::Channel("a b".into()),
        Target::Person("nobody".into()),
        Target::Person("dan".into()), // himself
        Target::Node(sim.id(3)),
    ] {
        type_for(&mut sim, 3, &target, 0.3);
    }
    sim.run_until(sim.elapsed() + secs(0.5));
    assert_eq!(errors(&sim, 3, at), Vec::<String>::new());
    for host in 0..4 {
        assert_eq!(typing(&sim, host, at), vec![], "host {host}");
    }

    // #Main reaches everyone but the typist.
    let at = sim.elapsed();
    type_for(&mut sim, 3, &Target::Channel(MAIN_CHANNEL.into()), 4.0);
    for host in 0..3 {
        assert!(
            typing(&sim, host, at).contains(&(
                Chat::Channel(MAIN_CHANNEL.into()),
                sim.id(3),
                "dan".into()
            )),
            "host {host}"
        );
    }
    assert_eq!(typing(&sim, 3, at), vec![]);
}

#[test]
fn typing_to_a_person_reaches_only_them() {
    let mut sim = lan(0x7e02, &["ann", "bob", "cat", "dan"]);
    let at = sim.elapsed();
    type_for(&mut sim, 0, &Target::Person("bob".into()), 4.0);
    sim.run_until(sim.elapsed() + secs(0.5));
    let from_ann = (Chat::Direct(sim.id(0)), sim.id(0), "ann".to_string());
    let seen = typing(&sim, 1, at);
    assert!(!seen.is_empty(), "bob was not told");
    assert!(seen.iter().all(|t| *t == from_ann), "{seen:?}");
    for host in [0, 2, 3] {
        assert_eq!(typing(&sim, host, at), vec![], "host {host}");
    }

    // By node id as well.
    let at = sim.elapsed();
    let cat = Target::Node(sim.id(2));
    type_for(&mut sim, 0, &cat, 4.0);
    assert!(typing(&sim, 2, at).contains(&from_ann));
    for host in [0, 1, 3] {
        assert_eq!(typing(&sim, host, at), vec![], "host {host}");
    }

    // A notice for cat's chat that reaches bob (from ann's own address) is
    // not shown to bob.
    let at = sim.elapsed();
    let before = typing_dropped(&sim, 1);
    let epoch = sim.node(0).expect("alive").epoch();
    let to_cat = typing_packet(&sim.keys(0), epoch, TypingChat::Direct(sim.id(2)));
    sim.inject(1, sim.addr(0), &to_cat);
    assert_eq!(typing(&sim, 1, at), vec![]);
    assert_eq!(typing_dropped(&sim, 1), before + 1);
}

/// Drains `node`'s datagrams; returns the typing notices among them.
fn notices(node: &mut Node) -> Vec<(Dest, TypingChat)> {
    std::iter::from_fn(|| node.poll_transmit())
        .filter_map(|t| match open(&t.bytes) {
            Some(Packet {
                body: Body::Typing { chat },
                ..
            }) => Some((t.dest, chat)),
            _ => None,
        })
        .collect()
}

#[test]
fn typing_notices_go_once_per_chat_per_interval() {
    let t0 = Instant::now();
    let every = Timing::default().typing_every;
    assert_eq!(every, Duration::from_secs(3));
    let mut node = Node::new(
        Config {
            keys: Keys::from_secret(&[1; 32]),
            workgroup: None,
            seen: Vec::new(),
            epoch: 1,
            nick: "ann".into(),
            host: "pc1".into(),
            wall_ms: 1_700_000_000_000,
            seed: 1,
            timing: Timing::default(),
            share: Some(lanchat::catchup::Share::default()),
            peers: Vec::new(),
            history_lost: false,
        },
        t0,
    );
    node.handle_command(
        t0,
        CoreCommand::Join {
            channel: "#dev".into(),
            secret: None,
        },
    );
    let bob_keys = Keys::from_secret(&[2; 32]);
    let bob = bob_keys.id();
    let bob_addr: SocketAddr = "10.77.0.2:40000".parse().expect("address");
    let bob_presence = seal(
        &bob_keys,
        &Packet {
            from: bob,
            epoch: 1,
            body: Body::Presence(Presence {
                nick: "bob".into(),
                channels: vec![ChannelState {
                    name: MAIN_CHANNEL.into(),
                    ..ChannelState::default()
                }],
                ..Presence::default()
            }),
        },
    );
    // Runs the node to `now` with bob alive, and types in every chat.
    let chats = [
        Target::Channel("#dev".into()),
        Target::Channel("main".into()),
        Target::Person("bob".into()),
    ];
    let keystroke = |node: &mut Node, now: Instant| {
        node.handle_datagram(now, bob_addr, &bob_presence);
        if node.poll_timeout().is_some_and(|t| t <= now) {
            node.handle_timeout(now);
        }
        let _ = notices(node);
        for chat in &chats {
            node.handle_command(now, CoreCommand::Typing(chat.clone()));
        }
        notices(node)
    };
    assert_eq!(node.peers().len(), 0);
    let mut sent = Vec::new();
    for i in 0..20 {
        sent.extend(keystroke(&mut node, t0 + Duration::from_millis(50 * i)));
    }
    assert_eq!(node.peers().len(), 1, "bob is online");
    let once = vec![
        (Dest::Multicast, TypingChat::Channel("#dev".into())),
        (Dest::Multicast, TypingChat::Channel(MAIN_CHANNEL.into())),
        (Dest::Unicast(bob_addr), TypingChat::Direct(bob)),
    ];
    assert_eq!(sent, once, "20 keystrokes in a second");
    for ms in [1000, 2000, 2999] {
        let at = t0 + Duration::from_millis(ms);
        assert_eq!(keystroke(&mut node, at), vec![], "at {ms} ms");
    }
    assert_eq!(keystroke(&mut node, t0 + every), once, "after typing_every");
    assert_eq!(keystroke(&mut node, t0 + every + every / 2), vec![]);
    assert!(
        !std::iter::from_fn(|| node.poll_event()).any(|e| matches!(e, CoreEvent::Error(_))),
        "typing reported an error"
    );
}

#[test]
fn typing_from_an_unknown_or_spoofed_sender_is_not_shown() {
    let mut sim = Sim::new(
        0x7e04,
        Faults {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
        },
    );
    for nick in ["ann", "bob", "cat"] {
        sim.add(nick);
    }
    sim.run_until(secs(3.0));
    let (ann, ann_keys, bob_keys) = (sim.id(0), sim.keys(0), sim.keys(1));
    let epoch = sim.node(0).expect("alive").epoch();
    let main = || TypingChat::Channel(MAIN_CHANNEL.into());
    let hostile: SocketAddr = "10.77.9.9:47077".parse().expect("address");

    // The real thing, from ann's own address, is shown: the injection works.
    let at = sim.elapsed();
    let real = typing_packet(&ann_keys, epoch, main());
    sim.inject(1, sim.addr(0), &real);
    assert_eq!(
        typing(&sim, 1, at),
        vec![(Chat::Channel(MAIN_CHANNEL.into()), ann, "ann".into())]
    );
    sim.run_until(sim.elapsed() + secs(0.1));

    let at = sim.elapsed();
    let dropped = typing_dropped(&sim, 1);
    let before = sim.node(1).expect("alive").stats();
    // Ann's notice (signed by her) from cat's address and from a
    // stranger's; a node no one knows; ann's id in an older life; bob's own
    // notice looped back; the real notice again (a replay); and a notice in
    // ann's name signed by another key.
    sim.inject(1, sim.addr(2), &typing_packet(&ann_keys, epoch, main()));
    sim.inject(1, hostile, &typing_packet(&ann_keys, epoch, main()));
    sim.inject(
        1,
        hostile,
        &typing_packet(&Keys::from_secret(&[0xee; 32]), 1, main()),
    );
    sim.inject(1, sim.addr(0), &typing_packet(&ann_keys, epoch - 1, main()));
    sim.inject(1, sim.addr(1), &typing_packet(&bob_keys, 1, main()));
    sim.inject(1, sim.addr(0), &real);
    let in_anns_name = Packet {
        from: ann,
        epoch,
        body: Body::Typing { chat: main() },
    };
    sim.inject(
        1,
        sim.addr(0),
        &seal(&Keys::from_secret(&[0xef; 32]), &in_anns_name),
    );
    sim.run_until(sim.elapsed() + secs(1.0));
    assert_eq!(typing(&sim, 1, at), vec![]);
    assert_eq!(typing_dropped(&sim, 1), dropped + 3);
    let after = sim.node(1).expect("alive").stats();
    assert_eq!(after.stale, before.stale + 1);
    // At least the copy of the real notice; the notices made here carry
    // counters far ahead of ann's own, so her next datagrams count too.
    assert!(after.replayed > before.replayed, "{after:?}");
    assert_eq!(after.forged, before.forged + 1);
    // Ann is still ann, at her own address.
    let peers = sim.node(1).expect("alive").peers();
    let info = peers.iter().find(|p| p.id == ann).expect("ann online");
    assert_eq!((info.epoch, info.addr), (epoch, sim.addr(0)));
}
