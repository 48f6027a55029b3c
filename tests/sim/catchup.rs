//! Catch-up on the simulated LAN: a node cut off, a node that restarted, a
//! sender that restarted meanwhile, a late joiner, under loss; each message
//! once, each sender's in order, and what catch-up sends stays in budget.

use std::collections::HashSet;
use std::time::Duration;

use lanchat::protocol::{ChatMessage, CoreEvent};
use lanchat::types::MAIN_CHANNEL;
use lanchat::{Chat, CoreCommand, NodeId};

use super::features::lan;
use super::net::{Faults, Sim};
use super::{say, secs};

fn main() -> Chat {
    Chat::Channel(MAIN_CHANNEL.into())
}

fn run_for(sim: &mut Sim, s: f64) {
    let t = sim.elapsed() + secs(s);
    sim.run_until(t);
}

fn talk(sim: &mut Sim, host: usize, chat: &Chat, text: String) {
    let Chat::Channel(name) = chat else {
        unreachable!("channel talk")
    };
    say(
        sim,
        host,
        lanchat::protocol::Target::Channel(name.clone()),
        text,
    );
}

/// Messages in `chat` that `host` was shown (live or caught up) since
/// `since`, with whether each came by catch-up.
fn shown(sim: &Sim, host: usize, chat: &Chat, since: Duration) -> Vec<(ChatMessage, bool)> {
    sim.events(host, since)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Message(m) if &m.chat == chat => Some((m.clone(), false)),
            CoreEvent::Recalled(m) if &m.chat == chat => Some((m.clone(), true)),
            _ => None,
        })
        .collect()
}

/// Asserts `host` was shown exactly `expected` of `from`'s texts, once each
/// and in the order they were said.
fn assert_shown_in_order(got: &[(ChatMessage, bool)], from: NodeId, expected: &[String]) {
    let texts: Vec<&str> = got
        .iter()
        .filter(|(m, _)| m.from == from)
        .map(|(m, _)| m.text.as_str())
        .collect();
    assert_eq!(
        texts,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

/// `count` messages to #Main from `senders` in turn, one every `every`
/// seconds; what each said, in order (by its place in `senders`).
fn in_turn(sim: &mut Sim, senders: &[usize], count: usize, every: f64) -> Vec<Vec<String>> {
    let mut said = vec![Vec::new(); senders.len()];
    for n in 0..count {
        let who = n % senders.len();
        let text = format!("{who}: {n}");
        talk(sim, senders[who], &main(), text.clone());
        said[who].push(text);
        run_for(sim, every);
    }
    said
}

fn no_repeats(got: &[(ChatMessage, bool)]) {
    let mut ids = HashSet::new();
    for (m, _) in got {
        assert!(ids.insert(m.id), "{:?} shown twice", m.text);
    }
}

/// The figure on the simulated LAN: a node's cable is out for 30 s
/// while two others send 50 messages to #Main; 5 s after it is back it has
/// all 50, in each sender's order, none twice.
#[test]
fn a_node_cut_off_for_thirty_seconds_has_all_fifty_within_five_seconds() {
    let mut sim = lan(0xca7c, &["ann", "bob", "cut", "dan"]);
    let cut = 2;
    let since = sim.elapsed();
    sim.cut(cut, true);
    let said = in_turn(&mut sim, &[0, 1], 50, 0.6);
    run_for(&mut sim, 30.0 - 50.0 * 0.6);
    let back = sim.elapsed();
    sim.cut(cut, false);
    run_for(&mut sim, 5.0);
    let got = shown(&sim, cut, &main(), since);
    no_repeats(&got);
    for (who, texts) in said.iter().enumerate() {
        assert_shown_in_order(&got, sim.id(who), texts);
    }
    let last = sim
        .log
        .iter()
        .filter(|l| l.host == cut && l.at >= back)
        .filter(|l| matches!(&l.event, CoreEvent::Message(_) | CoreEvent::Recalled(_)))
        .map(|l| l.at - back)
        .max()
        .unwrap_or_default();
    println!("cut node had all 50 {last:?} after the link returned");
}

/// Catch-up and repair race for the same messages: a returning node is
/// given a sender's messages by catch-up while the sender's own repairs are
/// slow to come, and they come while the caught-up ones are still held. The
/// sender's order holds all the same: each live message comes after its
/// sender's earlier ones, caught up or not, and nothing is shown twice.
#[test]
fn repairs_that_come_while_caught_up_messages_are_held_keep_the_senders_order() {
    // Host 3's clock is an hour ahead (see `net`); it only listens here.
    let mut sim = lan(0x0bd3, &["ann", "bob", "cut", "far", "eve"]);
    let (cut, senders) = (2, [0, 1, 4]);
    let since = sim.elapsed();
    sim.cut(cut, true);
    let said = in_turn(&mut sim, &senders, 50, 0.5);
    run_for(&mut sim, 5.0);
    // Ann's repairs are slow to reach the returning node: they come only
    // once catch-up has brought (and holds) some of her messages.
    sim.park_channel(sim.id(0), cut);
    sim.cut(cut, false);
    let recalled = |sim: &Sim| sim.node(cut).map_or(0, |n| n.stats().recalled);
    let give_up = sim.elapsed() + secs(10.0);
    while recalled(&sim) == 0 && sim.elapsed() < give_up {
        run_for(&mut sim, 0.01);
    }
    assert!(
        recalled(&sim) > 0,
        "catch-up brought nothing while repair was held"
    );
    sim.release();
    run_for(&mut sim, 8.0);
    let got = shown(&sim, cut, &main(), since);
    no_repeats(&got);
    assert!(
        got.iter()
            .any(|(m, recalled)| *recalled && m.from == sim.id(0)),
        "none of ann's messages came by catch-up: the race did not happen"
    );
    for (who, texts) in said.iter().enumerate() {
        assert_shown_in_order(&got, sim.id(senders[who]), texts);
    }
}

/// A node that was off (killed) and starts again with its store gets what
/// was said meanwhile by catch-up, and nothing it had already.
#[test]
fn a_restarted_node_fetches_what_it_missed_and_nothing_it_had() {
    let mut sim = lan(0x5e7a, &["ann", "bob", "off"]);
    let off = 2;
    let before: Vec<String> = (0..5).map(|n| format!("before {n}")).collect();
    for text in &before {
        talk(&mut sim, 0, &main(), text.clone());
        run_for(&mut sim, 0.2);
    }
    run_for(&mut sim, 3.0);
    let kept: Vec<ChatMessage> = shown(&sim, off, &main(), Duration::ZERO)
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    assert_eq!(kept.len(), 5);
    sim.kill(off);
    let missed: Vec<String> = (0..20).map(|n| format!("missed {n}")).collect();
    for (n, text) in missed.iter().enumerate() {
        talk(&mut sim, n % 2, &main(), text.clone());
        run_for(&mut sim, 0.5);
    }
    run_for(&mut sim, 15.0);
    let restarted = sim.elapsed();
    sim.restart_with(off, "off", kept);
    run_for(&mut sim, 20.0);
    let got = shown(&sim, off, &main(), restarted);
    no_repeats(&got);
    assert!(got.iter().all(|(_, recalled)| *recalled));
    let texts: HashSet<&str> = got.iter().map(|(m, _)| m.text.as_str()).collect();
    let expected: HashSet<&str> = missed.iter().map(String::as_str).collect();
    assert_eq!(texts, expected, "exactly what was missed");
}

/// The sender restarted while the receiver was away, so its stream (and its
/// memory of what it sent) is gone: another member who holds the messages
/// gives them.
#[test]
fn messages_of_a_sender_that_restarted_meanwhile_come_from_another_holder() {
    let mut sim = lan(0xb0b5, &["ann", "bob", "away"]);
    let away = 2;
    let since = sim.elapsed();
    sim.cut(away, true);
    let said: Vec<String> = (0..10).map(|n| format!("ann {n}")).collect();
    for text in &said {
        talk(&mut sim, 0, &main(), text.clone());
        run_for(&mut sim, 0.3);
    }
    run_for(&mut sim, 12.0);
    sim.kill(0);
    sim.restart(0, "ann");
    run_for(&mut sim, 3.0);
    sim.cut(away, false);
    run_for(&mut sim, 40.0);
    let got = shown(&sim, away, &main(), since);
    no_repeats(&got);
    // Caught up (some in a later round, for the loss): history, placed by
    // stamp; all there, once.
    let texts: HashSet<&str> = got.iter().map(|(m, _)| m.text.as_str()).collect();
    assert_eq!(texts, said.iter().map(String::as_str).collect());
    assert!(
        sim.node(1).expect("bob").stats().recalls_sent > 0,
        "bob gave them"
    );
}

/// A node that starts with no history gets the newest 200 messages of
/// #Main (the default share), marked as caught up, in order; one that
/// turned it off gets none; joining a channel late gets its history too.
#[test]
fn a_late_joiner_gets_recent_history_and_only_as_much_as_it_asked() {
    let mut sim = lan(0x1a7e, &["ann", "bob"]);
    sim.command(
        0,
        CoreCommand::Join {
            channel: "#dev".into(),
            secret: None,
        },
    );
    sim.command(
        1,
        CoreCommand::Join {
            channel: "#dev".into(),
            secret: None,
        },
    );
    run_for(&mut sim, 2.0);
    let mut said = Vec::new();
    for n in 0..300 {
        let text = format!("{} {n}", n % 2);
        talk(&mut sim, n % 2, &main(), text.clone());
        said.push(text);
        if n % 30 == 0 {
            talk(
                &mut sim,
                0,
                &Chat::Channel("#dev".into()),
                format!("dev {n}"),
            );
        }
        run_for(&mut sim, 0.05);
    }
    run_for(&mut sim, 15.0);
    let joined = sim.elapsed();
    let late = sim.add("late");
    run_for(&mut sim, 5.0);
    let got = shown(&sim, late, &main(), joined);
    no_repeats(&got);
    assert!(got.iter().all(|(_, recalled)| *recalled));
    let texts: HashSet<&str> = got.iter().map(|(m, _)| m.text.as_str()).collect();
    let newest: HashSet<&str> = said[100..].iter().map(String::as_str).collect();
    let extra: Vec<_> = texts.difference(&newest).collect();
    assert!(extra.is_empty(), "older than asked for: {extra:?}");
    // What is lost on the way is fetched by later rounds, the oldest of
    // the first answer too (below the window, asked for once more).
    let lacking: Vec<&str> = said[100..]
        .iter()
        .map(String::as_str)
        .filter(|t| !texts.contains(t))
        .collect();
    assert!(lacking.is_empty(), "lacking {lacking:?}");
    assert_eq!(texts.len(), 200);
    // Given out in stamp order, but for the few lost on the way and
    // fetched by a later round.
    let out_of_order = got.windows(2).filter(|w| w[0].0.hlc > w[1].0.hlc).count();
    assert!(out_of_order <= 10, "{out_of_order} out of order");

    sim.command(
        late,
        CoreCommand::Join {
            channel: "#dev".into(),
            secret: None,
        },
    );
    run_for(&mut sim, 5.0);
    let dev = shown(&sim, late, &Chat::Channel("#dev".into()), joined);
    assert_eq!(dev.len(), 10, "#dev's history");

    // Nothing more comes in later rounds: the window begins where it was given.
    let settled = sim.elapsed();
    run_for(&mut sim, 90.0);
    assert!(shown(&sim, late, &main(), settled).is_empty());
}

#[test]
fn a_late_joiner_that_turned_history_off_gets_none() {
    let mut sim = lan(0x0ff, &["ann", "bob"]);
    for n in 0..20 {
        talk(&mut sim, 0, &main(), format!("old {n}"));
        run_for(&mut sim, 0.1);
    }
    run_for(&mut sim, 12.0);
    let joined = sim.elapsed();
    let late = sim.add_with_share("late", None);
    run_for(&mut sim, 60.0);
    let early = shown(&sim, late, &main(), joined);
    assert!(early.is_empty(), "{early:?}");
    talk(&mut sim, 0, &main(), "new".into());
    run_for(&mut sim, 2.0);
    let got: Vec<String> = shown(&sim, late, &main(), joined)
        .into_iter()
        .map(|(m, _)| m.text)
        .collect();
    assert_eq!(got, ["new"]);
}

/// At 20 % loss with duplication and reordering, a node cut off for a
/// minute while five others talk (one of them restarting meanwhile) ends
/// with every message once, each sender's live ones in order.
#[test]
fn catch_up_under_loss_is_complete_and_once() {
    let mut sim = Sim::new(0x10_55, Faults::lossy(0.20));
    for i in 0..6 {
        sim.add(&format!("p{i}"));
    }
    run_for(&mut sim, 3.0);
    let cut = 5;
    let since = sim.elapsed();
    sim.cut(cut, true);
    let mut said: Vec<Vec<String>> = vec![Vec::new(); 5];
    for n in 0..400 {
        let who = n % 5;
        let text = format!("{who}/{n} ") + &"x".repeat(if n % 50 == 0 { 3000 } else { 20 });
        talk(&mut sim, who, &main(), text.clone());
        said[who].push(text);
        run_for(&mut sim, 0.15);
    }
    run_for(&mut sim, 12.0);
    // p0 restarts meanwhile: its messages can only come by catch-up.
    sim.kill(0);
    sim.restart(0, "p0");
    run_for(&mut sim, 3.0);
    sim.cut(cut, false);
    run_for(&mut sim, 60.0);
    let got = shown(&sim, cut, &main(), since);
    no_repeats(&got);
    let mut missing = 0;
    for (who, texts) in said.iter().enumerate() {
        let from_who: HashSet<&str> = got
            .iter()
            .filter(|(m, _)| m.from == sim.id(who))
            .map(|(m, _)| m.text.as_str())
            .collect();
        missing += texts
            .iter()
            .filter(|t| !from_who.contains(t.as_str()))
            .count();
    }
    let recalled = got.iter().filter(|(_, r)| *r).count();
    println!(
        "{} of 400 shown ({recalled} by catch-up), {missing} missing",
        got.len()
    );
    assert_eq!(missing, 0);
    assert!(recalled >= said[0].len(), "p0's came by catch-up");
    // Each sender's live messages keep their order (caught-up ones are
    // history, placed by their stamp).
    for (who, texts) in said.iter().enumerate() {
        let said_at: Vec<usize> = got
            .iter()
            .filter(|(m, r)| !*r && m.from == sim.id(who))
            .filter_map(|(m, _)| texts.iter().position(|t| *t == m.text))
            .collect();
        assert!(
            said_at.windows(2).all(|w| w[0] < w[1]),
            "p{who}: {said_at:?}"
        );
    }
    for i in 1..5 {
        let stats = sim.node(i).expect("alive").stats();
        println!(
            "p{i}: {} comparisons started, {} messages given, {} held back by the budget",
            stats.syncs_started, stats.recalls_sent, stats.recall_limited
        );
    }
}

/// A joiner that asks for a lot is given it at most `SYNC_RATE` datagrams a
/// second per giver, and still gets all of it, in a few rounds.
#[test]
fn what_catch_up_sends_stays_within_its_budget() {
    let mut sim = lan(0xb0d6e7, &["ann", "bob"]);
    for n in 0..1000 {
        talk(&mut sim, n % 2, &main(), format!("{n}"));
        if n % 50 == 0 {
            run_for(&mut sim, 0.2);
        }
    }
    run_for(&mut sim, 15.0);
    sim.recalled_log = Some(Vec::new());
    let joined = sim.elapsed();
    let share = lanchat::catchup::Share {
        max_messages: 1000,
        max_age_days: 7,
    };
    let late = sim.add_with_share("late", Some(share));
    run_for(&mut sim, 20.0);
    let got = shown(&sim, late, &main(), joined);
    no_repeats(&got);
    assert_eq!(got.len(), 1000);
    let log = sim.recalled_log.take().unwrap_or_default();
    let rate = lanchat::node::SYNC_RATE as usize;
    let mut worst = 0;
    for host in 0..2 {
        for second in 0..60 {
            let from = secs(f64::from(second) * 0.5);
            let window = log
                .iter()
                .filter(|(at, h)| {
                    *h == host && *at >= joined + from && *at < joined + from + secs(1.0)
                })
                .count();
            worst = worst.max(window);
        }
    }
    println!(
        "{} catch-up datagrams; at most {worst} from one node in any second",
        log.len()
    );
    // A full bucket, then the rate.
    assert!(worst <= 2 * rate, "{worst} in a second");
    assert!(log.len() >= 1000);
}

/// A node that lost its history (its disk was full) quits two seconds
/// after the last message, starts again at once and is given all of it
/// within 5 s: what was said before its new life began is not left to
/// stream repair, which a new life does not get.
#[test]
fn a_node_restarted_at_once_with_nothing_gets_what_was_just_said() {
    let mut sim = lan(0x5e7b, &["ann", "bob", "full"]);
    let full = 2;
    let said: Vec<String> = (0..20).map(|n| format!("said {n}")).collect();
    for text in &said {
        talk(&mut sim, 0, &main(), text.clone());
        run_for(&mut sim, 0.05);
    }
    run_for(&mut sim, 2.0);
    // It quits (the others see it leave), and is started again at once.
    sim.command(full, CoreCommand::Quit);
    run_for(&mut sim, 0.5);
    sim.kill(full);
    let restarted = sim.elapsed();
    sim.restart_with(full, "full", Vec::new());
    run_for(&mut sim, 5.0);
    let got = shown(&sim, full, &main(), restarted);
    no_repeats(&got);
    let texts: HashSet<&str> = got.iter().map(|(m, _)| m.text.as_str()).collect();
    let expected: HashSet<&str> = said.iter().map(String::as_str).collect();
    assert_eq!(texts, expected, "all of it within 5 s of the restart");
}
