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
pub(crate) fn history(anna: &mut Peer, n: usize) -> Vec<String> {
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
    for n in 0..20 {
        let want = format!("note {n} для протокола");
        anna.expect_event("ben's note", |v| is_message(v) && text(v) == want, WAIT);
    }
    // After them all, so its stamp is the newest (display order is by stamp).
    anna.send("my own words");
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

    let file = data.0.join("main export.txt");
    anna.send(&format!("/export #Main {}", file.display()));
    let (_, exported) = anna.expect_event("exported", event("exported", &[]), WAIT);
    assert_eq!(exported["count"], 21);
    let text_file = std::fs::read_to_string(&file).expect("the export");
    let lines: Vec<&str> = text_file.lines().collect();
    assert_eq!(lines.len(), 21);
    assert!(
        lines[7].ends_with("<ben> note 7 для протокола"),
        "{}",
        lines[7]
    );
    assert!(lines[20].ends_with("<anna> my own words"), "{}", lines[20]);

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

/// A node on a data directory under `data` that outlives it.
fn kept(ns: &Netns, data: &TempDir, nick: &str) -> Peer {
    let mut peer = Peer::spawn_with_data(&ns.name, nick, Some(&data.0.join(nick)), &[]);
    peer.expect_event("ready", event("ready", &[]), WAIT);
    peer
}

#[test]
fn a_direct_message_to_a_killed_node_arrives_after_both_restart() {
    let Some(ns) = Netns::create() else { return };
    let data = TempDir::create();
    let mut anna = kept(&ns, &data, "anna");
    let mut ben = kept(&ns, &data, "ben");
    anna.expect_event("ben", event("peer_online", &[("nick", "ben")]), WAIT);
    ben.expect_event("anna", event("peer_online", &[("nick", "anna")]), WAIT);
    ben.kill();
    anna.send("/msg ben see you tomorrow");
    let (_, sent) = anna.expect_event("sent", event("sent", &[("text", "see you tomorrow")]), WAIT);
    let id = sent["id"].as_str().unwrap_or_default().to_string();
    anna.expect_event(
        "queued",
        event("queued", &[("id", &id)]),
        Duration::from_secs(20),
    );
    anna.send("/quit");
    assert!(anna.wait_exit(WAIT).success());

    // Anna comes back first: the message is still waiting.
    let mut anna = kept(&ns, &data, "anna");
    anna.expect_event("queued again", event("queued", &[("id", &id)]), WAIT);
    // Ben comes back: he gets it once, and anna hears that he did.
    let mut ben = kept(&ns, &data, "ben");
    // (It may arrive before anna's presence, so it is matched by text.)
    ben.expect_event(
        "the message",
        event("message", &[("text", "see you tomorrow")]),
        Duration::from_secs(15),
    );
    anna.expect_event("delivered", event("delivered", &[("id", &id)]), WAIT);
    // Restarting either side brings nothing back.
    anna.send("/quit");
    assert!(anna.wait_exit(WAIT).success());
    let mut anna = kept(&ns, &data, "anna");
    anna.expect_event("ben", event("peer_online", &[("nick", "ben")]), WAIT);
    let again = ben.count_after(Duration::from_secs(2), |v| {
        v["event"] == "message" && v["text"] == "see you tomorrow"
    });
    assert_eq!(again, 0, "a delivered message is not sent again");
    let requeued = anna.count_after(Duration::from_millis(200), |v| v["event"] == "queued");
    assert_eq!(requeued, 0);
}

#[test]
fn a_message_sent_again_by_a_restarted_sender_is_shown_once() {
    let Some(ns) = Netns::create() else { return };
    let data = TempDir::create();
    let mut anna = kept(&ns, &data, "anna");
    let mut ben = kept(&ns, &data, "ben");
    anna.expect_event("ben", event("peer_online", &[("nick", "ben")]), WAIT);
    // Ben gets the message but anna is killed before she hears so: her
    // store still says "sending", and she sends it again after a restart.
    ben.freeze();
    anna.send("/msg ben only once please");
    anna.expect_event("sent", event("sent", &[("text", "only once please")]), WAIT);
    std::thread::sleep(Duration::from_millis(300));
    anna.kill();
    let early = anna.count_after(Duration::ZERO, |v| v["event"] == "delivered");
    assert_eq!(early, 0, "ben was frozen: nothing can have acknowledged it");
    ben.thaw();
    ben.expect_event(
        "the message",
        event("message", &[("text", "only once please")]),
        WAIT,
    );
    let mut anna = kept(&ns, &data, "anna");
    anna.expect_event(
        "delivered after all",
        event("delivered", &[]),
        Duration::from_secs(15),
    );
    let twice = ben.count_after(Duration::from_secs(1), |v| {
        v["event"] == "message" && v["text"] == "only once please"
    });
    assert_eq!(twice, 0, "the second copy is dropped");
}

#[test]
fn retention_keeps_the_newest_messages_it_is_told_to() {
    let Some(ns) = Netns::create() else { return };
    let data = TempDir::create();
    let (mut anna, mut ben) = pair(&ns, &data);
    for n in 0..10 {
        ben.send(&format!("old {n}"));
    }
    anna.expect_event(
        "the last one",
        |v| is_message(v) && text(v) == "old 9",
        WAIT,
    );
    anna.send("/quit");
    assert!(anna.wait_exit(WAIT).success());
    let mut anna = Peer::spawn_with_data(
        &ns.name,
        "anna",
        Some(&data.0.join("anna")),
        &["--keep-messages", "4"],
    );
    anna.expect_event("ready", event("ready", &[]), WAIT);
    let kept: Vec<String> = history(&mut anna, 100);
    assert_eq!(kept, ["old 6", "old 7", "old 8", "old 9"]);
}

/// A node that starts with no history is given #Main's recent messages by
/// the peers, marked as history, oldest first; one started with
/// `--join-history 0` is given none.
#[test]
fn a_late_joiner_of_main_receives_recent_history_marked_as_history() {
    let Some(ns) = Netns::create() else { return };
    let data = TempDir::create();
    let (mut anna, mut ben) = pair(&ns, &data);
    let said: Vec<String> = (0..12).map(|n| format!("before you came {n}")).collect();
    for (n, text) in said.iter().enumerate() {
        if n % 2 == 0 {
            anna.send(text);
        } else {
            ben.send(text);
        }
    }
    ben.expect_event(
        "anna's last",
        event("message", &[("text", &said[10])]),
        WAIT,
    );
    anna.expect_event("ben's last", event("message", &[("text", &said[11])]), WAIT);
    // Said more than a heartbeat before carl comes: it cannot reach him
    // live, so it is given at once (what is said in the last second before
    // someone comes is given once settled, or live).
    std::thread::sleep(Duration::from_millis(1500));
    let mut carl = Peer::spawn(&ns, "carl");
    let mut dora = Peer::spawn_in(&ns.name, "dora", &["--join-history", "0"]);
    carl.expect_event("ready", event("ready", &[]), WAIT);
    dora.expect_event("ready", event("ready", &[]), WAIT);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline
        && carl.count_after(Duration::from_millis(500), |v| {
            is_message(v) && text(v).starts_with("before you came")
        }) < said.len()
    {}
    carl.count_after(Duration::from_millis(500), |_| false);
    let given: Vec<&Value> = carl
        .backlog()
        .iter()
        .map(|(_, v)| v)
        .filter(|v| is_message(v) && text(v).starts_with("before you came"))
        .collect();
    assert!(given.iter().all(|v| v["history"] == true), "{given:?}");
    let texts: HashSet<String> = given.iter().map(|v| text(v)).collect();
    let expected: HashSet<String> = said.iter().cloned().collect();
    assert_eq!(
        texts,
        expected,
        "all of it; lacking {:?}; carl's log:\n{}",
        expected.difference(&texts).collect::<Vec<_>>(),
        carl.stderr_text()
    );
    assert_eq!(given.len(), said.len(), "none twice");
    let stamps: Vec<u64> = given.iter().filter_map(|v| v["hlc"].as_u64()).collect();
    assert!(stamps.is_sorted(), "given out oldest first: {stamps:?}");
    dora.expect_event("anna", event("peer_online", &[("nick", "anna")]), WAIT);
    let to_dora = dora.count_after(Duration::from_secs(4), |v| {
        is_message(v) && text(v).starts_with("before you came")
    });
    assert_eq!(to_dora, 0, "dora asked for no history");
}
