//! Unlucky PCs (issue 17): a data directory that two processes try to use,
//! a damaged history database, a clock far off. Each is an office accident
//! that must not cost a message or confuse who is who.

use std::time::{Duration, Instant};

use super::bed::Lan;
use super::{PATIENCE, START, figure};
use crate::util::{Peer, TempDir, event};

/// A second lanchat on a data directory in use (a second start from the
/// menu, a script, a roaming profile opened on another PC) is refused at
/// once, with an `error` event and a non-zero exit, and sends nothing; the
/// first runs on as before, with the same life.
#[test]
fn a_second_process_on_a_data_directory_in_use_is_refused_and_sends_nothing() {
    let Some(lan) = Lan::new(3) else { return };
    let data = TempDir::create();
    let mut first = Peer::spawn_with_data(&lan.host(0), "n0", Some(&data.0), &[]);
    let (_, ready) = first.expect_event("ready", event("ready", &[]), START);
    let id = ready["node"].as_str().expect("node id").to_string();
    let mut other = lan.spawn(1, "n1");
    other.expect_event("ready", event("ready", &[]), START);
    other.expect_event(
        "peer_online of n0",
        event("peer_online", &[("node", &id)]),
        PATIENCE,
    );
    // The same directory from host 2 (a shared profile), and from host 0
    // itself (a second start on the same PC).
    for host in [2, 0] {
        let before = lan.counters(host);
        let started = Instant::now();
        let mut second = Peer::spawn_with_data(&lan.host(host), "second", Some(&data.0), &[]);
        let (_, said) = second.expect_event("error", event("error", &[]), START);
        let status = second.wait_exit(START);
        let took = started.elapsed();
        let message = said["message"].as_str().unwrap_or_default();
        assert!(message.contains("in use by another lanchat"), "{said}");
        assert!(
            message.contains(&format!("(process {})", first.pid())),
            "names the first: {said}"
        );
        assert!(!status.success(), "exit status {status}");
        assert!(
            second.count_after(Duration::ZERO, |v| v["event"] == "ready") == 0,
            "the second said ready"
        );
        if host == 2 {
            // Nothing of the second's on host 2's cable.
            let after = lan.counters(host);
            assert_eq!(
                after.tx_packets, before.tx_packets,
                "host 2 sent while only the refused second ran there"
            );
        }
        figure(
            "a second process on a data directory in use",
            &format!(
                "host {host}: refused in {} ms, exit {status}, {}",
                took.as_millis(),
                if host == 2 {
                    "0 frames sent"
                } else {
                    "same host as the first"
                }
            ),
        );
    }
    // The first runs on in the same life: a message goes both ways, and n1
    // never saw it leave or restart.
    first.send("still here");
    let (_, got) = other.expect_event(
        "n0's message",
        |v| v["event"] == "message" && v["text"] == "still here",
        PATIENCE,
    );
    assert_eq!(got["from"], id.as_str(), "{got}");
    other.send("so am I");
    first.expect_event(
        "n1's message",
        |v| v["event"] == "message" && v["text"] == "so am I",
        PATIENCE,
    );
    let backlog = other.backlog();
    assert!(
        !backlog.iter().any(|(_, v)| {
            (v["event"] == "peer_offline" || v["event"] == "peer_online")
                && v["node"] == id.as_str()
        }),
        "n1 saw n0 go or come again: {backlog:?}"
    );
}

/// Overwrites the middle half of the history database in `data` (from a
/// page boundary), as a disk error would.
fn damage_the_middle(data: &std::path::Path) {
    use std::io::{Seek, SeekFrom, Write};
    let path = data.join(lanchat::store::FILE_NAME);
    let size = std::fs::metadata(&path).expect("database").len();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open the database");
    file.seek(SeekFrom::Start(size / 4 / 4096 * 4096))
        .expect("seek");
    let len = (size / 2) as usize;
    let junk: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
    file.write_all(&junk).expect("overwrite");
}

/// The history database overwritten in the middle while the node is
/// stopped: the node starts and chats, says what happened (where the old
/// file is, how many messages came back), fetches from its peer what it
/// lost, and what is said afterwards survives the next restart with every
/// peer off (the first PC on in the morning).
#[test]
fn a_damaged_database_is_moved_aside_recovered_and_saved_to_again() {
    const EACH: usize = 20;
    let Some(lan) = Lan::new(2) else { return };
    let data = TempDir::create();
    let start = |lan: &Lan| {
        let mut anna = Peer::spawn_with_data(&lan.host(0), "anna", Some(&data.0), &[]);
        anna.expect_event("ready", event("ready", &[]), START);
        anna
    };
    let mut anna = start(&lan);
    let mut ben = lan.spawn(1, "ben");
    ben.expect_event("ready", event("ready", &[]), START);
    anna.expect_event("ben", event("peer_online", &[("nick", "ben")]), PATIENCE);
    let before: Vec<String> = (0..EACH)
        .map(|n| format!("before {n} {}", "x".repeat(1500)))
        .collect();
    for text in &before {
        anna.send(text);
        ben.expect_event(
            "anna's message",
            |v| v["event"] == "message" && v["text"] == text.as_str(),
            PATIENCE,
        );
    }
    anna.send("/quit");
    assert!(anna.wait_exit(START).success());
    damage_the_middle(&data.0);
    // The PC stays off a while: what anna said is settled at ben (catch-up
    // leaves the last 10 s to stream repair).
    std::thread::sleep(Duration::from_secs(11));

    let mut anna = start(&lan);
    let (_, told) = anna.expect_event("history_recovered", event("history_recovered", &[]), START);
    let moved_to = told["moved_to"].as_str().expect("moved_to").to_string();
    let recovered = told["recovered"].as_u64().expect("recovered");
    assert!(std::path::Path::new(&moved_to).exists(), "{told}");
    assert!(
        moved_to.starts_with(&data.0.display().to_string()),
        "{told}"
    );
    // Half the file was overwritten: messages are gone from it, and must
    // come back from ben.
    assert!(recovered < EACH as u64, "{told}");
    anna.expect_event("ben", event("peer_online", &[("nick", "ben")]), PATIENCE);
    let after: Vec<String> = (0..EACH).map(|n| format!("after {n}")).collect();
    for text in &after {
        anna.send(text);
        ben.expect_event(
            "anna's message",
            |v| v["event"] == "message" && v["text"] == text.as_str(),
            PATIENCE,
        );
    }
    // What the damage took comes back from ben by catch-up (as history).
    let deadline = Instant::now() + PATIENCE;
    let mut shown = Vec::new();
    while Instant::now() < deadline {
        anna.forget();
        shown = crate::history::history(&mut anna, 100);
        if before.iter().all(|t| shown.contains(t)) {
            break;
        }
    }
    let missing = before.iter().filter(|t| !shown.contains(t)).count();
    assert_eq!(
        missing, 0,
        "before the damage, not back: {missing} of {EACH}"
    );
    anna.send("/quit");
    assert!(anna.wait_exit(START).success());
    ben.send("/quit");
    assert!(ben.wait_exit(START).success());

    // Every peer off: history is what anna's own disk holds.
    let mut anna = start(&lan);
    anna.forget();
    let shown = crate::history::history(&mut anna, 100);
    let want: Vec<String> = before.iter().chain(&after).cloned().collect();
    assert_eq!(shown, want, "history after the next start, peers off");
    assert_eq!(
        anna.count_after(Duration::from_millis(200), |v| v["event"]
            == "history_recovered"),
        0,
        "told again at the next start"
    );
    figure(
        "a damaged history database",
        &format!(
            "moved aside, {recovered} of {EACH} messages recovered from it, the rest back by catch-up; {} of {} in history after a restart with every peer off",
            shown.len(),
            want.len()
        ),
    );
}
