//! Channel messages handed on by someone other than their author (repair
//! and catch-up) count only with the author's own signature.

use std::time::Duration;

use lanchat::protocol::{CoreEvent, Target};
use lanchat::types::MAIN_CHANNEL;
use lanchat::wire::{Body, Packet, Recalled};
use lanchat::{Chat, MessageKind, MsgId};

use super::features::lan;
use super::net::{Sim, seal};
use super::{say, secs};

fn run_for(sim: &mut Sim, s: f64) {
    let t = sim.elapsed() + secs(s);
    sim.run_until(t);
}

fn main_texts(sim: &Sim, host: usize, since: Duration, recalled: bool) -> Vec<String> {
    let main = Chat::Channel(MAIN_CHANNEL.into());
    sim.events(host, since)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Message(m) if !recalled && m.chat == main => Some(m.text.clone()),
            CoreEvent::Recalled(m) if recalled && m.chat == main => Some(m.text.clone()),
            _ => None,
        })
        .collect()
}

/// The sender falls silent right after a burst under 10 % loss: the other
/// members repair each other with the sender's own datagrams, and every
/// message arrives live, in order, once.
#[test]
fn holders_repair_with_the_senders_own_datagrams_when_the_sender_is_silent() {
    let mut sim = lan(0x51a7, &["ann", "bob", "cat", "dan", "eve"]);
    let ann = 0;
    let since = sim.elapsed();
    let said: Vec<String> = (0..30).map(|n| format!("burst {n}")).collect();
    for text in &said {
        say(
            &mut sim,
            ann,
            Target::Channel(MAIN_CHANNEL.into()),
            text.clone(),
        );
    }
    run_for(&mut sim, 0.02);
    sim.freeze(ann, true);
    run_for(&mut sim, 6.0);
    let mut repaired = 0;
    for host in 1..5 {
        assert_eq!(main_texts(&sim, host, since, false), said, "host {host}");
        repaired += sim.node(host).expect("alive").stats().repairs_sent;
    }
    assert!(repaired > 0, "no holder repaired anything");
    println!("holders resent {repaired} of ann's datagrams");
}

/// A member hands out "history" in someone else's name: with its own key,
/// or with the author's key and a signature of another text. Neither is
/// shown; the author's real message handed on by the same member is.
#[test]
fn catch_up_in_someone_elses_name_needs_their_signature() {
    let mut sim = lan(0x51a8, &["ann", "bob", "eve"]);
    let (ann, bob, eve) = (0, 1, 2);
    let since = sim.elapsed();
    let forged_before = sim.node(bob).expect("alive").stats().forged;
    let recalled = |id: u8, text: &str, author: Vec<u8>| Recalled {
        channel: MAIN_CHANNEL.into(),
        origin: sim.id(ann),
        nick: "ann".into(),
        id: MsgId([id; 16]),
        hlc: 1_700_000_000_000 << 16,
        kind: MessageKind::Text,
        part: 0,
        parts: 1,
        text: text.into(),
        author,
    };
    let sign = |keys: &lanchat::envelope::Keys, id: u8, text: &str| {
        keys.sign_message(
            MAIN_CHANNEL,
            MsgId([id; 16]),
            1_700_000_000_000 << 16,
            MessageKind::Text,
            text,
        )
        .to_bytes()
        .to_vec()
    };
    // Eve's key under ann's name.
    let own = recalled(
        1,
        "ann owes me 100",
        sign(&sim.keys(eve), 1, "ann owes me 100"),
    );
    // Ann's key, with the signature of something ann did say.
    let lifted = sign(&sim.keys(ann), 2, "see you at lunch");
    let lifted_msg = recalled(2, "I resign", lifted);
    // What ann really wrote (the test holds her key), handed on by eve.
    let real = recalled(
        3,
        "see you at lunch",
        sign(&sim.keys(ann), 3, "see you at lunch"),
    );
    let from = sim.addr(eve);
    for r in [own, lifted_msg, real] {
        let packet = Packet {
            from: sim.id(eve),
            epoch: 1,
            body: Body::Recalled(r),
        };
        let bytes = seal(&sim.keys(eve), &packet);
        sim.inject(bob, from, &bytes);
    }
    run_for(&mut sim, 3.0);
    assert_eq!(main_texts(&sim, bob, since, true), vec!["see you at lunch"]);
    assert_eq!(
        sim.node(bob).expect("alive").stats().forged,
        forged_before + 2
    );
}
