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

/// `from` says each of `texts`, the next once `to` has the one before.
fn say_each(from: &mut Peer, to: &mut Peer, texts: &[String]) {
    for text in texts {
        from.send(text);
        to.expect_event(
            &format!("{}'s message", from.nick),
            |v| v["event"] == "message" && v["text"] == text.as_str(),
            PATIENCE,
        );
    }
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
    say_each(&mut anna, &mut ben, &before);
    anna.send("/quit");
    assert!(anna.wait_exit(START).success());
    damage_the_middle(&data.0);
    // The PC is started again a moment later (within 1 s of the last
    // message, catch-up would leave it to stream repair).
    std::thread::sleep(Duration::from_secs(2));

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
    say_each(&mut anna, &mut ben, &after);
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

/// libfaketime, which sets a process's wall clock (Debian: `faketime`).
const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// Replays `chat`'s history at `peer` and returns the texts among `texts`,
/// in the order given.
fn history_of(peer: &mut Peer, chat: &str, texts: &[String]) -> Vec<String> {
    peer.forget();
    peer.send(&format!("/history {chat} 100"));
    peer.count_after(Duration::from_millis(1500), |_| true);
    peer.backlog()
        .iter()
        .filter(|(_, v)| v["event"] == "message" && v["history"] == true)
        .filter_map(|(_, v)| v["text"].as_str())
        .filter(|t| texts.iter().any(|w| w == t))
        .map(str::to_string)
        .collect()
}

/// Eight PCs, one whose clock is an hour ahead (libfaketime). A question
/// in #Main, its answer from the fast PC and the thanks; the same in a
/// direct message. Live (by the stamps each node shows them under) and in
/// `/history` on every node the order is question, answer, thanks; also
/// after every node restarts.
#[test]
fn an_hour_ahead_clock_keeps_the_order_live_and_in_history_on_every_node() {
    const N: usize = 8;
    const FAST: usize = 3;
    if !std::path::Path::new(FAKETIME).exists() {
        assert!(
            std::env::var_os("LANCHAT_REQUIRE_NETNS").is_none(),
            "libfaketime is missing (apt-get install faketime)"
        );
        eprintln!("skipped: no libfaketime");
        return;
    }
    let Some(lan) = Lan::new(N) else { return };
    let data: Vec<TempDir> = (0..N).map(|_| TempDir::create()).collect();
    let start = |i: usize| -> Peer {
        let nick = if i == FAST {
            "bob".to_string()
        } else {
            format!("n{i}")
        };
        let env: Vec<(&str, &std::path::Path)> = if i == FAST {
            vec![
                ("LD_PRELOAD", std::path::Path::new(FAKETIME)),
                ("FAKETIME", std::path::Path::new("+1h")),
                ("FAKETIME_DONT_FAKE_MONOTONIC", std::path::Path::new("1")),
            ]
        } else {
            Vec::new()
        };
        let mut p = Peer::spawn_with_env(&lan.host(i), &nick, Some(&data[i].0), &[], &env);
        p.expect_event("ready", event("ready", &[]), START);
        p
    };
    let mut peers: Vec<Peer> = (0..N).map(start).collect();
    for p in &mut peers {
        let want = N - 1;
        let deadline = Instant::now() + PATIENCE;
        while p
            .backlog()
            .iter()
            .filter(|(_, v)| v["event"] == "peer_online")
            .count()
            < want
        {
            assert!(Instant::now() < deadline, "{} does not see all", p.nick);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let main: Vec<String> = ["a question?", "an answer from an hour ahead", "thanks"]
        .map(String::from)
        .to_vec();
    let dm: Vec<String> = ["dm: a question?", "dm: an answer", "dm: thanks"]
        .map(String::from)
        .to_vec();
    // Each line is written after its author saw the one before.
    // (Waits without taking the event from the backlog: its stamp is
    // checked below.)
    let seen = |p: &mut Peer, text: &str| {
        let deadline = Instant::now() + PATIENCE;
        while !p
            .backlog()
            .iter()
            .any(|(_, v)| v["event"] == "message" && v["text"] == text)
        {
            assert!(Instant::now() < deadline, "{} never got {text:?}", p.nick);
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    peers[0].send(&main[0]);
    seen(&mut peers[FAST], &main[0]);
    peers[FAST].send(&main[1]);
    seen(&mut peers[0], &main[1]);
    peers[0].send(&main[2]);
    peers[0].send(&format!("/msg bob {}", dm[0]));
    seen(&mut peers[FAST], &dm[0]);
    peers[FAST].send(&format!("/msg n0 {}", dm[1]));
    seen(&mut peers[0], &dm[1]);
    peers[0].send(&format!("/msg bob {}", dm[2]));
    seen(&mut peers[FAST], &dm[2]);
    for p in peers.iter_mut() {
        p.count_after(Duration::from_millis(1000), |_| true);
    }
    // Live: the stamps each node files the lines under.
    for (i, p) in peers.iter_mut().enumerate() {
        let stamps: Vec<u64> = main
            .iter()
            .map(|t| {
                p.backlog()
                    .iter()
                    .find(|(_, v)| {
                        (v["event"] == "message" || v["event"] == "sent") && v["text"] == t.as_str()
                    })
                    .and_then(|(_, v)| v["hlc"].as_u64())
                    .unwrap_or_else(|| panic!("n{i} lacks {t:?}"))
            })
            .collect();
        assert!(
            stamps.windows(2).all(|w| w[0] < w[1]),
            "live order at {}: {stamps:?}",
            p.nick
        );
    }
    let check = |peers: &mut [Peer], when: &str| {
        for p in peers.iter_mut() {
            let got = history_of(p, "#Main", &main);
            assert_eq!(got, main, "{}'s /history #Main {when}", p.nick);
        }
        let got = history_of(&mut peers[0], "bob", &dm);
        assert_eq!(got, dm, "n0's /history bob {when}");
        let got = history_of(&mut peers[FAST], "n0", &dm);
        assert_eq!(got, dm, "bob's /history n0 {when}");
    };
    check(&mut peers, "live");
    for p in peers.iter_mut() {
        p.send("/quit");
    }
    for p in peers.iter_mut() {
        assert!(p.wait_exit(START).success(), "{} quit", p.nick);
    }
    let mut peers: Vec<Peer> = (0..N).map(start).collect();
    check(&mut peers, "after every node restarted");
    figure(
        "a clock an hour ahead, 8 nodes",
        "question, answer, thanks in #Main and in a DM: the same order live and in /history on all 8, also after all restarted",
    );
}

/// A 4 MB tmpfs, unmounted (and its directory removed) on drop.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount() -> SmallDisk {
        let dir = std::env::temp_dir().join(format!("lanchat-small-disk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mount point");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(&dir)
            .status()
            .expect("mount");
        assert!(ok.success(), "mounting a 4 MB tmpfs");
        SmallDisk(dir)
    }

    /// Fills what is left with one file; returns its path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let small = vec![0u8; 512];
        while f.write_all(&small).is_ok() {}
        let _ = f.flush();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The data directory on a full disk: the user is told history is not
/// being saved; the 200 #Main messages shown meanwhile are all in history,
/// in order, once each, after space returns and the node restarts.
#[test]
fn a_full_disk_loses_no_history_once_space_returns() {
    const COUNT: usize = 200;
    let Some(lan) = Lan::new(2) else { return };
    let disk = SmallDisk::mount();
    let data = disk.0.join("data");
    let start = || {
        let mut anna = Peer::spawn_with_data(&lan.host(0), "anna", Some(&data), &[]);
        anna.expect_event("ready", event("ready", &[]), START);
        anna
    };
    let mut anna = start();
    let mut ben = lan.spawn(1, "ben");
    ben.expect_event("ready", event("ready", &[]), START);
    anna.expect_event("ben", event("peer_online", &[("nick", "ben")]), PATIENCE);
    let filler = disk.fill();
    let texts: Vec<String> = (0..COUNT)
        .map(|n| format!("while full {n} {}", "x".repeat(200)))
        .collect();
    for text in &texts {
        ben.send(text);
    }
    for text in &texts {
        anna.expect_event(
            "ben's message",
            |v| v["event"] == "message" && v["text"] == text.as_str(),
            PATIENCE,
        );
    }
    let (_, told) = anna.expect_event(
        "an error saying history is not saved",
        |v| v["event"] == "error" && v["message"].as_str().is_some_and(|m| m.contains("history")),
        PATIENCE,
    );
    std::fs::remove_file(&filler).expect("free the space");
    anna.send("/quit");
    anna.wait_exit(START);
    // The PC is restarted a moment later. (Within 1 s of the last message
    // catch-up leaves it to stream repair, which a new life does not get:
    // it would come with the next periodic comparison, up to 40 s later.)
    std::thread::sleep(Duration::from_secs(2));
    let mut anna = start();
    // A few seconds: catch-up from ben (and what the store held).
    let deadline = Instant::now() + PATIENCE;
    let mut got = Vec::new();
    while Instant::now() < deadline {
        got = history_of(&mut anna, "#Main", &texts);
        if got.len() >= COUNT {
            break;
        }
    }
    assert_eq!(got, texts, "history after space returned and a restart");
    figure(
        "a full disk",
        &format!(
            "told {:?}; {COUNT} of {COUNT} messages shown while full are in history after space returned and a restart, in order, once each",
            told["message"].as_str().unwrap_or_default()
        ),
    );
}
