//! Password channels on a lossy simulated LAN: members read each other,
//! nobody else reads anything or learns who the members are, and the
//! channel is known to exist and to need a password.

use std::time::Duration;

use lanchat::envelope::ChannelKey;
use lanchat::protocol::{CoreEvent, Secret, Target};
use lanchat::wire::{self, Body, ChannelMsg, Packet};
use lanchat::{Chat, CoreCommand, MessageKind, MsgId};

use super::features::{channel_list, errors, lan};
use super::net::{Sim, open, seal};
use super::{say, secs};

const OPS: &str = "#ops";

fn run_for(sim: &mut Sim, s: f64) {
    let t = sim.elapsed() + secs(s);
    sim.run_until(t);
}

fn join(sim: &mut Sim, host: usize, secret: Option<Secret>) {
    sim.command(
        host,
        CoreCommand::Join {
            channel: OPS.into(),
            secret,
        },
    );
}

fn password(p: &str) -> Option<Secret> {
    Some(Secret::Password(p.into()))
}

fn texts(sim: &Sim, host: usize, since: Duration) -> Vec<String> {
    let chat = Chat::Channel(OPS.into());
    sim.events(host, since)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Message(m) if m.chat == chat => Some(m.text.clone()),
            _ => None,
        })
        .collect()
}

/// Who `host` sees in #ops (by host index), from the peers' info.
fn members(sim: &Sim, host: usize) -> Vec<usize> {
    let peers = sim.node(host).expect("alive").peers();
    (0..sim.len())
        .filter(|i| {
            peers
                .iter()
                .any(|p| p.id == sim.id(*i) && p.channels.iter().any(|c| c == OPS))
        })
        .collect()
}

#[test]
fn a_password_channel_is_read_and_seen_by_its_members_only() {
    // ann, bob and dan know the password; cat typed it wrong; eve has none.
    let mut sim = lan(0x9a55, &["ann", "bob", "cat", "dan", "eve"]);
    let (ann, bob, cat, dan, eve) = (0, 1, 2, 3, 4);
    let t0 = sim.elapsed();
    join(&mut sim, ann, password("correct horse"));
    join(&mut sim, bob, password("correct horse"));
    join(&mut sim, cat, password("correct hors"));
    run_for(&mut sim, 1.0);
    assert_eq!(members(&sim, ann), vec![bob]);
    assert_eq!(members(&sim, bob), vec![ann]);
    assert_eq!(members(&sim, cat), Vec::<usize>::new());
    assert_eq!(members(&sim, eve), Vec::<usize>::new());
    // The key is handed out once, for remembering.
    let keys: Vec<ChannelKey> = sim
        .events(ann, t0)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::ChannelKey { channel, key } if channel == OPS => Some(key.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0],
        ChannelKey::derive(OPS, "correct horse").expect("derives")
    );

    // Outsiders see that it exists and has a password, not who is in it.
    let list = channel_list(&mut sim, eve);
    let ops = list.iter().find(|c| c.name == OPS).expect("#ops listed");
    assert_eq!((ops.protected, ops.joined, ops.members), (true, false, 0));
    let list = channel_list(&mut sim, ann);
    let ops = list.iter().find(|c| c.name == OPS).expect("#ops listed");
    assert_eq!((ops.protected, ops.joined, ops.members), (true, true, 2));
    // Joining without the password is refused with a hint.
    let t = sim.elapsed();
    join(&mut sim, eve, None);
    run_for(&mut sim, 0.1);
    assert_eq!(
        errors(&sim, eve, t),
        vec!["#ops has a password: /join #ops <password>"]
    );

    // Talk, a long message (many fragments), and a topic, under 10 % loss.
    let talk = sim.elapsed();
    let long = "секрет ".repeat(900);
    say(
        &mut sim,
        ann,
        Target::Channel(OPS.into()),
        "launch at noon".into(),
    );
    say(&mut sim, bob, Target::Channel(OPS.into()), long.clone());
    sim.command(
        ann,
        CoreCommand::Topic {
            channel: OPS.into(),
            text: "rota for the weekend".into(),
        },
    );
    run_for(&mut sim, 3.0);
    assert_eq!(texts(&sim, bob, talk), vec!["launch at noon"]);
    assert_eq!(texts(&sim, ann, talk), vec![long.clone()]);
    for outsider in [cat, dan, eve] {
        assert!(texts(&sim, outsider, t0).is_empty(), "host {outsider}");
    }
    let topic_seen = |sim: &Sim, host| {
        sim.events(host, talk)
            .iter()
            .any(|e| matches!(e, CoreEvent::Topic { channel, text, .. } if channel == OPS && text == "rota for the weekend"))
    };
    assert!(topic_seen(&sim, bob));
    assert!(!topic_seen(&sim, cat) && !topic_seen(&sim, eve));

    // A late joiner with the password sees the members at once and gets
    // what is said from then on.
    let late = sim.elapsed();
    join(&mut sim, dan, password("correct horse"));
    run_for(&mut sim, 0.5);
    assert_eq!(members(&sim, dan), vec![ann, bob]);
    say(
        &mut sim,
        bob,
        Target::Channel(OPS.into()),
        "welcome dan".into(),
    );
    run_for(&mut sim, 2.0);
    assert!(texts(&sim, dan, late).contains(&"welcome dan".to_string()));
    assert_eq!(members(&sim, ann), vec![bob, dan]);

    // Nothing on the wire says #ops in the clear except its name in the
    // list of password channels, and no text of it travels readable.
    let mut hidden = 0;
    for bytes in sim.captured() {
        for secret in ["launch at noon", "секрет", "rota for", "welcome dan"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret:?} readable on the wire"
            );
        }
        let Some(packet) = open(&bytes) else {
            continue;
        };
        match &packet.body {
            Body::Hidden { .. } => hidden += 1,
            Body::Presence(p) => {
                assert!(p.channels.iter().all(|c| c.name != OPS), "{p:?}");
            }
            Body::Protected { .. } => {}
            body => assert_ne!(wire::channel_of(body), Some(OPS), "{body:?}"),
        }
    }
    assert!(hidden > 20, "only {hidden} hidden datagrams");
    // The outsiders dropped what they could not read, and counted it.
    assert!(sim.node(eve).expect("alive").stats().hidden > 0);
}

#[test]
fn a_message_in_the_clear_or_under_another_key_does_not_reach_a_password_channel() {
    let mut sim = lan(0x9a56, &["ann", "bob", "eve"]);
    let (ann, bob, eve) = (0, 1, 2);
    join(&mut sim, ann, password("s3cret"));
    join(&mut sim, bob, password("s3cret"));
    run_for(&mut sim, 1.0);
    let t = sim.elapsed();
    let foreign_before = sim.node(bob).expect("alive").stats().foreign;

    // Eve writes to #ops in the clear, signed as herself.
    let forged = Packet {
        from: sim.id(eve),
        epoch: 1,
        body: Body::Channel(ChannelMsg {
            channel: OPS.into(),
            seq: 1,
            id: MsgId([7; 16]),
            hlc: 1,
            kind: MessageKind::Text,
            part: 0,
            parts: 1,
            text: "let me in".into(),
            sig: vec![0; 64],
        }),
    };
    let bytes = seal(&sim.keys(eve), &forged);
    let from = sim.addr(eve);
    sim.inject(bob, from, &bytes);
    // And hidden under a key made from a guessed password.
    let guess = ChannelKey::derive(OPS, "secret").expect("derives");
    let inner = Body::Channel(ChannelMsg {
        text: "guessed".into(),
        id: MsgId([8; 16]),
        seq: 2,
        ..match forged.body.clone() {
            Body::Channel(m) => m,
            _ => unreachable!(),
        }
    });
    let counter = 1 << 50;
    let hidden = Packet {
        from: sim.id(eve),
        epoch: 1,
        body: Body::Hidden {
            bytes: guess.seal(sim.id(eve), 1, counter, 0, &wire::encode_body(&inner)),
        },
    };
    let bytes = lanchat::envelope::seal(&hidden, counter, &sim.keys(eve), None).expect("seals");
    sim.inject(bob, from, &bytes);
    run_for(&mut sim, 1.0);
    assert!(texts(&sim, bob, t).is_empty());
    let stats = sim.node(bob).expect("alive").stats();
    assert_eq!(stats.foreign, foreign_before + 1);
    assert!(stats.hidden >= 1);

    // The members still talk.
    say(
        &mut sim,
        ann,
        Target::Channel(OPS.into()),
        "still here".into(),
    );
    run_for(&mut sim, 1.0);
    assert_eq!(texts(&sim, bob, t), vec!["still here"]);
}

#[test]
fn a_remembered_key_rejoins_after_a_restart_and_leaving_hides_me_again() {
    let mut sim = lan(0x9a57, &["ann", "bob", "cat"]);
    let (ann, bob, cat) = (0, 1, 2);
    join(&mut sim, ann, password("pw"));
    join(&mut sim, bob, password("pw"));
    run_for(&mut sim, 1.0);

    // Bob restarts and rejoins with the key he was given, not the password.
    let key = ChannelKey::derive(OPS, "pw").expect("derives");
    sim.restart(bob, "bob");
    run_for(&mut sim, 2.0);
    join(&mut sim, bob, Some(Secret::Key(key)));
    run_for(&mut sim, 1.0);
    assert_eq!(members(&sim, ann), vec![bob]);
    let t = sim.elapsed();
    say(&mut sim, ann, Target::Channel(OPS.into()), "again".into());
    run_for(&mut sim, 1.0);
    assert_eq!(texts(&sim, bob, t), vec!["again"]);

    // A password channel cannot take a name in open use.
    let t = sim.elapsed();
    sim.command(
        cat,
        CoreCommand::Join {
            channel: "#dev".into(),
            secret: None,
        },
    );
    run_for(&mut sim, 1.0);
    sim.command(
        ann,
        CoreCommand::Join {
            channel: "#dev".into(),
            secret: password("x"),
        },
    );
    let errs = errors(&sim, ann, t);
    assert_eq!(
        errs[0],
        "#dev is an open channel; /join #dev without a password, or choose another name"
    );

    // Bob leaves: ann no longer counts him, and nothing of his says #ops.
    sim.command(
        bob,
        CoreCommand::Part {
            channel: OPS.into(),
        },
    );
    run_for(&mut sim, 1.0);
    assert_eq!(members(&sim, ann), Vec::<usize>::new());
    let left = sim.elapsed();
    say(&mut sim, ann, Target::Channel(OPS.into()), "gone?".into());
    run_for(&mut sim, 1.0);
    assert!(texts(&sim, bob, left).is_empty());
}

/// The last message of a password channel lost on its way to a member:
/// its tail comes in the full presences of the next few heartbeats (lean
/// beats carry open channels' tails only), so the gap is found and
/// repaired at once, even when a quick one is lost too (as with this seed).
#[test]
fn a_lost_last_message_in_a_password_channel_is_found_by_the_next_full_presences() {
    let mut sim = lan(0x9a58, &["ann", "bob"]);
    let (ann, bob) = (0, 1);
    join(&mut sim, ann, password("pw"));
    join(&mut sim, bob, password("pw"));
    run_for(&mut sim, 2.0);
    let t = sim.elapsed();
    // Bob's cable is out while ann speaks and for her first quick beat.
    sim.cut(bob, true);
    say(
        &mut sim,
        ann,
        Target::Channel(OPS.into()),
        "the last word".into(),
    );
    run_for(&mut sim, 0.2);
    sim.cut(bob, false);
    run_for(&mut sim, 1.3);
    assert_eq!(texts(&sim, bob, t), vec!["the last word"]);
}
