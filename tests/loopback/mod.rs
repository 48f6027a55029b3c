//! Real `lanchat` processes talking over `lo` inside a fresh network
//! namespace: discovery, #Main, a direct message, and a graceful quit.

mod window;

use std::time::{Duration, Instant};

use crate::util::{Netns, Peer, TempDir, event};

const START: Duration = Duration::from_secs(10);

/// Starts peers and waits for each one's `ready`; returns their node ids and
/// when the last one was ready.
fn start(ns: &Netns, nicks: &[&str]) -> (Vec<Peer>, Vec<String>, Instant) {
    let mut peers: Vec<Peer> = nicks.iter().map(|n| Peer::spawn(ns, n)).collect();
    let mut ids = Vec::new();
    let mut last = Instant::now();
    for peer in &mut peers {
        let (at, ready) = peer.expect_event("ready", event("ready", &[]), START);
        assert_eq!(ready["nick"], peer.nick.as_str());
        assert_eq!(ready["group"], "239.255.77.77");
        assert_eq!(ready["port"], 47077);
        assert!(
            ready["addr"]
                .as_str()
                .is_some_and(|a| a.starts_with("127.0.0.1:")),
            "{ready}"
        );
        let id = ready["node"].as_str().expect("node id").to_string();
        assert_eq!(id.len(), 32, "{ready}");
        ids.push(id);
        last = last.max(at);
    }
    (peers, ids, last)
}

#[test]
fn a_node_starts_and_quits_cleanly() {
    let Some(ns) = Netns::create() else { return };
    let (mut peers, _, _) = start(&ns, &["solo"]);
    let solo = &mut peers[0];
    solo.send("/bogus");
    solo.expect_event("error for a bad command", event("error", &[]), START);
    solo.send("/quit");
    solo.expect_event("stopped", event("stopped", &[]), START);
    assert!(solo.wait_exit(START).success());
    // End of stdin quits too.
    let (mut peers, _, _) = start(&ns, &["eof"]);
    peers[0].close_stdin();
    assert!(peers[0].wait_exit(START).success());
}

#[test]
fn three_nodes_find_each_other_chat_and_leave() {
    let Some(ns) = Netns::create() else { return };
    let nicks = ["n1", "n2", "n3"];
    let (mut peers, ids, last_ready) = start(&ns, &nicks);

    // Discovery: everyone sees everyone within 1 s of the last start.
    for (i, peer) in peers.iter_mut().enumerate() {
        for (j, id) in ids.iter().enumerate() {
            if i == j {
                continue;
            }
            let (at, online) = peer.expect_event(
                &format!("peer_online of {}", nicks[j]),
                event("peer_online", &[("node", id)]),
                Duration::from_secs(3),
            );
            assert_eq!(online["nick"], nicks[j]);
            assert!(
                online["addr"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("127.0.0.1:"))
            );
            let late = at.saturating_duration_since(last_ready);
            assert!(
                late <= Duration::from_secs(1),
                "{} saw {} online {late:?} after the last ready",
                peer.nick,
                nicks[j]
            );
        }
    }

    // #Main: one message from each reaches the other two exactly once.
    let texts: Vec<String> = nicks.iter().map(|n| format!("hello from {n}")).collect();
    for (peer, text) in peers.iter_mut().zip(&texts) {
        peer.send(text);
        peer.expect_event(
            "sent",
            event("sent", &[("chat", "#Main"), ("text", text)]),
            START,
        );
    }
    for (i, peer) in peers.iter_mut().enumerate() {
        for (j, text) in texts.iter().enumerate() {
            if i == j {
                continue;
            }
            let (_, msg) = peer.expect_event(
                &format!("#Main message from {}", nicks[j]),
                event(
                    "message",
                    &[("chat", "#Main"), ("text", text), ("from", &ids[j])],
                ),
                Duration::from_secs(3),
            );
            assert_eq!(msg["nick"], nicks[j]);
            assert_eq!(msg["kind"], "text");
        }
    }
    for peer in &mut peers {
        let again = peer.count_after(Duration::from_millis(500), |v| {
            v["event"] == "message" && texts.iter().any(|t| v["text"] == t.as_str())
        });
        assert_eq!(again, 0, "{} got a #Main message twice", peer.nick);
    }

    // A direct message is delivered.
    peers[0].send("/msg n2 just for you");
    let (_, sent) = peers[0].expect_event("sent DM", event("sent", &[("chat", "@n2")]), START);
    let msg_id = sent["id"].as_str().expect("message id").to_string();
    peers[0].expect_event(
        "delivered",
        event("delivered", &[("id", &msg_id), ("to", &ids[1])]),
        Duration::from_secs(3),
    );
    let (_, dm) = peers[1].expect_event(
        "the DM",
        event("message", &[("chat", "@n1"), ("text", "just for you")]),
        Duration::from_secs(3),
    );
    assert_eq!(dm["peer"], ids[0].as_str());
    assert_eq!(dm["id"], msg_id.as_str());
    assert_eq!(
        peers[2].count_after(
            Duration::ZERO,
            event("message", &[("text", "just for you")])
        ),
        0
    );

    // /quit: the others see it within 0.5 s and the process exits 0.
    let quit_at = Instant::now();
    peers[2].send("/quit");
    for peer in &mut peers[..2] {
        let (at, offline) = peer.expect_event(
            "peer_offline of n3",
            event("peer_offline", &[("node", &ids[2])]),
            Duration::from_secs(3),
        );
        assert_eq!(offline["reason"], "quit");
        let late = at.saturating_duration_since(quit_at);
        assert!(
            late <= Duration::from_millis(500),
            "{} saw n3 leave after {late:?}",
            peer.nick
        );
    }
    assert!(peers[2].wait_exit(START).success());
}

/// Portable mode: with a `portable` file beside the program, everything it
/// keeps (keys, history, settings) goes into the `data` folder beside it,
/// and nothing into the user's home.
#[test]
fn a_portable_copy_keeps_everything_beside_itself() {
    let Some(ns) = Netns::create() else { return };
    let stick = TempDir::create();
    let app = stick.0.join("lanchat");
    std::fs::create_dir_all(&app).expect("app folder");
    let exe = app.join("lanchat");
    std::fs::copy(env!("CARGO_BIN_EXE_lanchat"), &exe).expect("copy the program");
    std::fs::write(app.join(lanchat::places::PORTABLE_MARKER), b"").expect("marker");
    // A home of its own, empty, where the system's places would be.
    let home = stick.0.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let env: Vec<(&str, std::path::PathBuf)> = vec![
        ("HOME", home.clone()),
        ("XDG_DATA_HOME", home.join(".local/share")),
        ("XDG_CONFIG_HOME", home.join(".config")),
        ("XDG_CACHE_HOME", home.join(".cache")),
    ];
    let env: Vec<(&str, &std::path::Path)> = env.iter().map(|(k, v)| (*k, v.as_path())).collect();
    let args: Vec<std::ffi::OsString> = ["headless", "--json", "--nick", "usb"]
        .iter()
        .map(Into::into)
        .collect();
    let mut usb = Peer::spawn_command(TempDir::create(), &ns.name, "usb", &exe, &args, &env);
    let (_, ready) = usb.expect_event("ready", event("ready", &[]), START);
    assert_eq!(
        ready["data_dir"].as_str().map(std::path::PathBuf::from),
        Some(app.join("data")),
        "{ready}"
    );
    usb.say_quit_and_find_history_in(&app.join("data"), START);
    let left: Vec<_> = walk(&home);
    assert!(left.is_empty(), "written into the home folder: {left:?}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
