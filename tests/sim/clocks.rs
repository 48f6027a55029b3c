//! Wrong clocks (issue 17, item 1): one order for a chat, the same live, in
//! catch-up and on every node, whatever the PCs' clocks say. A message
//! written after seeing another sorts after it.

use std::collections::BTreeMap;
use std::time::Duration;

use lanchat::protocol::{CoreEvent, Target};
use lanchat::types::MAIN_CHANNEL;
use lanchat::{Chat, CoreCommand};

use super::features::lan;
use super::net::Sim;
use super::say;

fn main_chat() -> Chat {
    Chat::Channel(MAIN_CHANNEL.into())
}

/// The stamp each host filed each #Main text under since `since` (its own
/// messages as sent, the others' as received or caught up).
fn filed(sim: &Sim, host: usize, since: Duration) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for e in sim.events(host, since) {
        match e {
            CoreEvent::Message(m) | CoreEvent::Recalled(m) if m.chat == main_chat() => {
                out.insert(m.text.clone(), m.hlc);
            }
            CoreEvent::Sent {
                chat, text, hlc, ..
            } if *chat == main_chat() => {
                out.insert(text.clone(), *hlc);
            }
            _ => {}
        }
    }
    out
}

/// Runs until `host` has `text` in #Main (said by someone else).
fn until_seen(sim: &mut Sim, host: usize, text: &str, since: Duration) {
    for _ in 0..100 {
        if filed(sim, host, since).contains_key(text) {
            return;
        }
        let t = sim.elapsed() + Duration::from_millis(100);
        sim.run_until(t);
    }
    panic!("host {host} never got {text:?}");
}

/// Eight PCs: host 3 an hour ahead, host 5 ten minutes behind, host 6 whose
/// clock jumped back five minutes (an NTP correction) and which restarted
/// since. A conversation that goes from one to another, each line written
/// after its author saw the one before, is in that order on every node,
/// each line under one stamp everywhere: live, and at a node that restarts
/// with nothing and gets it all by catch-up.
#[test]
fn a_conversation_keeps_its_order_whatever_the_clocks_say() {
    let nicks = ["ann", "bob", "cat", "fast", "eve", "slow", "jump", "hal"];
    let mut sim = lan(0x17c1, &nicks);
    sim.set_clock(5, -600_000);
    sim.kill(5);
    sim.restart(5, "slow");
    // Mid-run NTP correction: host 6's clock goes back 5 min, seen at its
    // next start.
    sim.set_clock(6, -300_000);
    sim.kill(6);
    sim.restart(6, "jump");
    let t = sim.elapsed() + Duration::from_secs(12);
    sim.run_until(t);
    let since = sim.elapsed();
    let lines = [
        (0, "a question?"),
        (3, "an answer from an hour ahead"),
        (0, "thanks"),
        (5, "an answer from ten minutes back"),
        (6, "one from a clock that jumped"),
        (1, "and the last word"),
    ];
    for (k, (host, text)) in lines.iter().enumerate() {
        if k > 0 {
            until_seen(&mut sim, *host, lines[k - 1].1, since);
        }
        say(
            &mut sim,
            *host,
            Target::Channel(MAIN_CHANNEL.into()),
            (*text).to_string(),
        );
    }
    let t = sim.elapsed() + Duration::from_secs(5);
    sim.run_until(t);
    let texts: Vec<&str> = lines.iter().map(|(_, t)| *t).collect();
    let order = |sim: &Sim, host: usize, since: Duration| -> Vec<u64> {
        let got = filed(sim, host, since);
        texts
            .iter()
            .map(|t| {
                *got.get(*t)
                    .unwrap_or_else(|| panic!("host {host} lacks {t:?}"))
            })
            .collect()
    };
    let authors: Vec<u64> = lines
        .iter()
        .map(|(host, text)| filed(&sim, *host, since)[*text])
        .collect();
    for (host, nick) in nicks.iter().enumerate() {
        let stamps = order(&sim, host, since);
        assert!(
            stamps.windows(2).all(|w| w[0] < w[1]),
            "host {host} ({nick}) orders the conversation otherwise: {stamps:?}"
        );
        assert_eq!(
            stamps, authors,
            "host {host} filed other stamps than the authors'"
        );
    }
    // The stamps are the LAN's time, not the far-off clocks'.
    let lan_now = sim.wall_ms_at(0, sim.elapsed());
    for (k, stamp) in authors.iter().enumerate() {
        let off = lanchat::hlc::wall_ms(*stamp).abs_diff(lan_now);
        assert!(off < 60_000, "{:?} stamped {off} ms off", lines[k].1);
    }
    // Host 7 restarts with nothing and gets it all back by catch-up, in
    // the same order under the same stamps.
    sim.kill(7);
    sim.restart(7, "hal");
    sim.command(7, CoreCommand::Recall(Vec::new()));
    let back = sim.elapsed();
    let t = back + Duration::from_secs(20);
    sim.run_until(t);
    assert_eq!(order(&sim, 7, back), authors, "caught up otherwise");
}

/// The doctor names a clock far off, on the PC itself and at the others,
/// with how far; a clock a second off is not worth a word.
#[test]
fn the_doctor_names_a_clock_far_off() {
    use lanchat::doctor::{Finding, findings};
    let mut sim = lan(0x17c2, &["ann", "bob", "cat", "fast", "eve"]);
    // Full presences (every 10 s) have come from everyone.
    let t = sim.elapsed() + Duration::from_secs(12);
    sim.run_until(t);
    let clock_findings = |sim: &mut Sim, host: usize| -> Vec<(Option<String>, i64)> {
        let now = sim.start + sim.elapsed();
        let report = lanchat::doctor::NetworkReport {
            core: sim.node(host).expect("alive").network(now),
            ..Default::default()
        };
        findings(&report)
            .into_iter()
            .filter_map(|f| match f {
                Finding::ClockOff { label, off_ms } => Some((label, off_ms)),
                _ => None,
            })
            .collect()
    };
    let near_an_hour = |ms: i64| (ms - 3_600_000).abs() < 5_000;
    let at_ann = clock_findings(&mut sim, 0);
    assert_eq!(at_ann.len(), 1, "{at_ann:?}");
    assert_eq!(at_ann[0].0.as_deref(), Some("fast"));
    assert!(near_an_hour(at_ann[0].1), "{at_ann:?}");
    let at_fast = clock_findings(&mut sim, 3);
    assert_eq!(at_fast.len(), 1, "{at_fast:?}");
    assert_eq!(at_fast[0].0, None, "its own clock");
    assert!(near_an_hour(at_fast[0].1), "{at_fast:?}");
    let words = lanchat::i18n::Lang::En
        .strings()
        .finding(&Finding::ClockOff {
            label: Some("fast".into()),
            off_ms: at_ann[0].1,
        });
    assert!(
        words.starts_with("fast's clock is 1 h ahead of the others'"),
        "{words}"
    );
}
