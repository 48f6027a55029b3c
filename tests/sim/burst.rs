//! A burst bigger than receivers read (issue 16): a script says 4,000
//! messages a second in #Main for 3 s. Before pacing, the sender put all of
//! them on the wire at once, each receiver's guard read 4,000 and 1,000 a
//! second after that and dropped the rest unread, repairs included, and
//! delivery stopped until the flood ended. Now the sender holds what the
//! guard would drop and sends it as the budget allows.

use std::time::Duration;

use lanchat::protocol::{CoreEvent, Target};
use lanchat::{Chat, CoreCommand, MessageKind};

use super::net::{Faults, Sim};

/// Messages per second the script hands in, and for how long.
const SAID_PER_SECOND: u64 = 4_000;
const SAYING: Duration = Duration::from_secs(3);

/// What receiver `host` got in #Main from the script: message numbers with
/// the time each arrived.
fn received(sim: &Sim, host: usize) -> Vec<(Duration, u64)> {
    sim.log
        .iter()
        .filter(|l| l.host == host)
        .filter_map(|l| match &l.event {
            CoreEvent::Message(m) if m.chat == Chat::Channel("#Main".into()) => m
                .text
                .strip_prefix("burst ")
                .and_then(|n| n.parse().ok())
                .map(|n| (l.at, n)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_burst_beyond_what_receivers_read_arrives_whole_in_order_and_never_stalls() {
    let mut sim = Sim::new(0xb0257, Faults::lossy(0.0));
    for i in 0..3 {
        sim.add(&format!("b{i}"));
    }
    let start = Duration::from_secs(2);
    sim.run_until(start);
    let total = SAID_PER_SECOND * SAYING.as_secs();
    let step = Duration::from_millis(10);
    let per_step = SAID_PER_SECOND / 100;
    let mut said = 0u64;
    let mut at = start;
    while said < total {
        for _ in 0..per_step {
            sim.command(
                0,
                CoreCommand::Say {
                    to: vec![Target::Channel("#Main".into())],
                    text: format!("burst {said}"),
                    kind: MessageKind::Text,
                },
            );
            said += 1;
        }
        at += step;
        sim.run_until(at);
    }
    let backlog = sim.node(0).map_or(0, lanchat::Node::backlog);
    sim.run_until(start + Duration::from_secs(40));
    for host in [1, 2] {
        let got = received(&sim, host);
        let numbers: Vec<u64> = got.iter().map(|(_, n)| *n).collect();
        let first_wrong = numbers
            .iter()
            .zip(0..)
            .position(|(n, i)| *n != i)
            .map(|at| (at, numbers[at]));
        assert!(
            numbers.len() as u64 == total && first_wrong.is_none(),
            "b{host} got {} of {total} messages; the first out of place (index, number): {first_wrong:?}",
            numbers.len()
        );
        // Every second from the first message to the last brought some.
        let last = got.last().map_or(start, |(t, _)| *t);
        let mut per_second = Vec::new();
        let mut from = start;
        while from < last {
            let to = from + Duration::from_secs(1);
            per_second.push(got.iter().filter(|(t, _)| *t >= from && *t < to).count());
            from = to;
        }
        assert!(
            per_second.iter().all(|n| *n > 0),
            "b{host}: delivered per second {per_second:?}"
        );
        let stats = sim.node(host).expect("running").stats();
        assert_eq!(stats.rate_limited, 0, "b{host} dropped none unread");
        println!(
            "SIM figure: burst of {total} messages in {} s: b{host} had all {} s after the first, in order; per second {per_second:?}; the sender's backlog at the end of the script {backlog}; {} NACKs sent",
            SAYING.as_secs(),
            (last - start).as_secs_f64().round(),
            stats.nacks_sent,
        );
    }
}
