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
