//! The network thread while a password channel is joined under traffic
//! (issue 18, item 7): the longest single wake-up of the joining node's
//! driver. Two nodes on an in-process LAN; bob says a line in #Main every
//! 2 ms while alice joins `#ops-N` with a password, once per round; the
//! figure is the longest wake-up her driver reports (the network doctor's
//! `longest_wakeup_us`) over the rounds, each measured from just before
//! the join to the moment it is done.

use std::time::Duration;

use lanchat::api::{Command, Event, Secret};
use lanchat::net::{Events, MemoryLan, NodeHandle};
use lanchat::protocol::{CoreCommand, CoreEvent};
use lanchat::{MessageKind, Target};

use crate::common::{Row, quit};
use crate::util::memory::{self, wait_for as wait};

/// Joins measured.
const ROUNDS: usize = 10;
/// The goal for the longest wake-up.
const GOAL: Duration = Duration::from_millis(5);

fn start(lan: &MemoryLan, dir: &std::path::Path, nick: &str) -> (NodeHandle, Events) {
    let (handle, events, _) = memory::start(lan, dir, nick);
    (handle, events)
}

/// Asks for the network report and returns its longest wake-up (µs),
/// which the report resets.
fn longest(handle: &NodeHandle, events: &mut Events) -> u64 {
    handle.send(Command::Network).expect("ask");
    wait(events, "the network report", |e| match e {
        Event::Network(r) => Some(r.longest_wakeup_us),
        _ => None,
    })
}

/// Runs the benchmark and adds its row.
pub(crate) fn join_bench(rows: &mut Vec<Row>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let lan = MemoryLan::new();
    let (alice, mut alice_events) = start(&lan, dir.path(), "alice");
    let (bob, mut bob_events) = start(&lan, dir.path(), "bob");
    wait(&mut alice_events, "bob online", |e| {
        matches!(e, Event::Core(CoreEvent::PeerOnline(p)) if p.nick == "bob").then_some(0)
    });
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let talker = {
        let stop = stop.clone();
        let bob = bob.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let _ = bob.send(CoreCommand::Say {
                    to: vec![Target::Channel("#Main".into())],
                    text: format!("traffic {n}"),
                    kind: MessageKind::Text,
                });
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let mut worst = 0;
    let mut quiet = 0;
    for round in 0..ROUNDS {
        // Traffic alone, as a yardstick.
        std::thread::sleep(Duration::from_millis(100));
        quiet = quiet.max(longest(&alice, &mut alice_events));
        let name = format!("#ops-{round}");
        alice
            .send(CoreCommand::Join {
                channel: name.clone(),
                secret: Some(Secret::Password("correct horse".into())),
            })
            .expect("join");
        wait(&mut alice_events, "the join", |e| match e {
            Event::Core(CoreEvent::Joined { channel, .. }) if *channel == name => Some(0),
            _ => None,
        });
        worst = worst.max(longest(&alice, &mut alice_events));
        // At most eight password channels at once.
        alice
            .send(CoreCommand::Part { channel: name })
            .expect("part");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    talker.join().expect("talker");
    quit(&alice, &mut alice_events);
    quit(&bob, &mut bob_events);
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "join: longest wake-up while joining a password channel {:.2} ms (traffic alone {:.2} ms), goal ≤ {} ms",
        ms(worst),
        ms(quiet),
        GOAL.as_millis()
    );
    rows.push(Row {
        what: "longest network-thread wake-up, joining a password channel under traffic".into(),
        lanchat: format!("{:.2} ms", ms(worst)),
        baseline: format!("{:.2} ms (traffic alone)", ms(quiet)),
        ratio: format!("goal ≤ {} ms", GOAL.as_millis()),
    });
}
