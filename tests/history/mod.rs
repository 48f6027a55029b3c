//! History on disk, with real processes in a namespace: what a node showed
//! is still there after a restart and after a SIGKILL in the middle of a
//! burst, and search finds it.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::util::{Netns, Peer, TempDir, event};

const WAIT: Duration = Duration::from_secs(10);

/// Starts `anna` (on a data directory that outlives her) and `ben`, and waits
/// until each sees the other.
fn pair(ns: &Netns, data: &TempDir) -> (Peer, Peer) {
    let mut anna = Peer::spawn_with_data(&ns.name, "anna", Some(&data.0.join("anna")), &[]);
    let mut ben = Peer::spawn(ns, "ben");
    anna.expect_event("ready", event("ready", &[]), WAIT);
    ben.expect_event("ready", event("ready", &[]), WAIT);
    anna.expect_event("ben", event("peer_online", &[("nick", "ben")]), WAIT);
    ben.expect_event("anna", event("peer_online", &[("nick", "anna")]), WAIT);
    (anna, ben)
}

fn restart(ns: &Netns, data: &TempDir) -> Peer {
    let mut anna = Peer::spawn_with_data(&ns.name, "anna", Some(&data.0.join("anna")), &[]);
    anna.expect_event("ready again", event("ready", &[]), WAIT);
    anna
}

fn is_message(v: &Value) -> bool {
    v["event"] == "message"
}

fn text(v: &Value) -> String {
    v["text"].as_str().unwrap_or_default().to_string()
}

/// Asks for up to `n` messages of #Main and returns the texts replayed.
fn history(anna: &mut Peer, n: usize) -> Vec<String> {
    anna.send(&format!("/history #Main {n}"));
    anna.count_after(Duration::from_millis(1500), |_| true);
    anna.backlog()
        .iter()
        .filter(|(_, v)| is_message(v) && v["history"] == true)
        .map(|(_, v)| text(v))
        .collect()
}

#[test]
fn history_survives_a_restart_and_search_finds_it() {
    let Some(ns) = Netns::create() else { return };
    let data = TempDir::create();
    let (mut anna, mut ben) = pair(&ns, &data);
    for n in 0..20 {
        ben.send(&format!("note {n} для протокола"));
    }
    anna.send("my own words");
    for n in 0..20 {
        let want = format!("note {n} для протокола");
        anna.expect_event("ben's note", |v| is_message(v) && text(v) == want, WAIT);
    }
    anna.expect_event(
        "my message",
        event("sent", &[("text", "my own words")]),
        WAIT,
    );
    anna.send("/quit");
    assert!(anna.wait_exit(WAIT).success());

    let mut anna = restart(&ns, &data);
    let replayed = history(&mut anna, 100);
    let mut want: Vec<String> = (0..20).map(|n| format!("note {n} для протокола")).collect();
    want.push("my own words".into());
    assert_eq!(
        replayed, want,
        "history after a restart, in order, once each"
    );

    anna.send("/search NOTE 7");
    let (_, hit) = anna.expect_event(
        "a search hit",
        |v| is_message(v) && v["search"] == true,
        WAIT,
    );
    assert_eq!(text(&hit), "note 7 для протокола");
    anna.send("/search ПРОТОКОЛА 19");
    let (_, hit) = anna.expect_event(
        "a Cyrillic hit",
        |v| is_message(v) && v["search"] == true,
        WAIT,
    );
    assert_eq!(text(&hit), "note 19 для протокола");
    let extra = anna.count_after(Duration::from_millis(300), |v| v["search"] == true);
    assert_eq!(extra, 0, "only the one message has both words");
}

#[test]
fn a_sigkill_during_a_burst_loses_nothing_that_was_shown() {
    let Some(ns) = Netns::create() else { return };
    let data = TempDir::create();
    let (mut anna, mut ben) = pair(&ns, &data);
    for n in 0..1000 {
        ben.send(&format!("burst {n}"));
    }
    // Kill anna part-way through what she is showing.
    anna.expect_event(
        "the 300th message",
        |v| is_message(v) && text(v) == "burst 299",
        WAIT,
    );
    anna.kill();
    let shown: HashSet<String> = {
        anna.count_after(Duration::from_millis(500), |_| true);
        anna.backlog()
            .iter()
            .filter(|(_, v)| is_message(v))
            .map(|(_, v)| text(v))
            .chain((0..300).map(|n| format!("burst {n}")))
            .collect()
    };
    assert!(shown.len() >= 300, "{} shown", shown.len());

    let mut anna = restart(&ns, &data);
    let stored: HashSet<String> = history(&mut anna, 5000).into_iter().collect();
    let lost: Vec<&String> = shown.difference(&stored).collect();
    println!(
        "history figure: SIGKILL after {} of 1000 shown; {} stored after restart; {} shown but lost",
        shown.len(),
        stored.len(),
        lost.len()
    );
    assert!(
        lost.is_empty(),
        "shown before the kill but not stored: {lost:?}"
    );
}
