//! File transfer between real processes (issue 8): a 200 MiB file across a
//! cable pulled for 5 s, a transfer that outlives a restart of the sender
//! and then of the receiver, and a hostile sender whose names try to
//! escape the download directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::bed::Lan;
use super::{Nodes, PATIENCE, START, figure};
use crate::util::{Peer, TempDir, event};

const MIB: u64 = 1024 * 1024;
/// The port files are served on when it is free.
const FILE_PORT: u16 = 47079;

/// Writes `mib` MiB of seeded random bytes to `path`; returns the SHA-256.
fn random_file(path: &Path, mib: u64, seed: u64) -> String {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; MIB as usize];
    for _ in 0..mib {
        rng.fill(&mut block);
        hasher.update(&block);
        out.write_all(&block).expect("write");
    }
    out.flush().expect("flush");
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_of(path: &Path) -> String {
    let mut file = std::fs::File::open(path).expect("open");
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).expect("read");
    hex(&hasher.finalize())
}

/// The receiver's answer to an offer: waits for it and accepts it.
fn accept_offer(receiver: &mut Peer) -> String {
    let (_, offer) = receiver.expect_event("file_offer", event("file_offer", &[]), PATIENCE);
    let id = offer["id"].as_str().expect("offer id").to_string();
    receiver.send(&format!("/accept {id}"));
    id
}

/// Waits until the receiver has more than `bytes` of offer `id`.
fn wait_past(receiver: &mut Peer, id: &str, bytes: u64) {
    receiver.expect_event(
        &format!("progress past {bytes} bytes"),
        |v| v["event"] == "file_progress" && v["id"] == id && v["done"].as_u64() > Some(bytes),
        PATIENCE,
    );
}

/// The flows (`active`, `reconnecting`…) the receiver reported for `id`.
fn flows(receiver: &mut Peer, id: &str) -> Vec<String> {
    receiver
        .backlog()
        .iter()
        .filter(|(_, v)| v["event"] == "file_progress" && v["id"] == id)
        .filter_map(|(_, v)| v["flow"].as_str().map(str::to_string))
        .collect()
}

fn done_event(receiver: &mut Peer, id: &str, timeout: Duration) -> (Instant, Value) {
    let id = id.to_string();
    receiver.expect_event(
        "file_done",
        move |v| {
            (v["event"] == "file_done" || v["event"] == "file_failed") && v["id"] == id.as_str()
        },
        timeout,
    )
}

#[test]
fn a_200_mib_file_arrives_intact_after_its_cable_is_pulled_for_5_s() {
    const SIZE_MIB: u64 = 200;
    let Some(lan) = Lan::new(2) else {
        return;
    };
    // About 4 s for the file: on a fast machine an unlimited veth carries
    // 200 MiB before the first progress report (every half second), and
    // the cable would be pulled after the end.
    lan.rate(0, 400);
    let dir = TempDir::create();
    let source = dir.0.join("big.bin");
    let sha = random_file(&source, SIZE_MIB, 8);
    let downloads = dir.0.join("downloads");
    let downloads_arg = downloads.display().to_string();
    let mut nodes = Nodes::start_with(&lan, 2, |i| {
        if i == 1 {
            vec!["--downloads".into(), downloads_arg.clone()]
        } else {
            Vec::new()
        }
    });
    let since = nodes.last_ready;
    nodes.all_see_all(since, PATIENCE);
    nodes.peers[0].send(&format!("/send n1 \"{}\"", source.display()));
    let id = accept_offer(&mut nodes.peers[1]);
    let started = Instant::now();
    let receiver = &mut nodes.peers[1];
    wait_past(receiver, &id, SIZE_MIB * MIB / 4);
    lan.cable(1, false);
    let pulled = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    lan.cable(1, true);
    let (at, done) = done_event(receiver, &id, Duration::from_secs(120));
    assert_eq!(done["event"], "file_done", "{done}");
    assert_eq!(done["sha256"], sha.as_str(), "the SHA-256 reported");
    let path = PathBuf::from(done["path"].as_str().expect("path"));
    assert_eq!(path, downloads.join("big.bin"));
    assert_eq!(sha256_of(&path), sha, "the SHA-256 of the file on disk");
    let carried = done["carried"].as_u64().expect("carried");
    // Started over would carry a quarter or more twice.
    assert!(
        carried < (SIZE_MIB + 16) * MIB,
        "{carried} bytes carried for a {SIZE_MIB} MiB file: it started over"
    );
    let resumes = done["resumes"].as_u64().unwrap_or(0);
    let seen = flows(receiver, &id);
    let leftovers: Vec<_> = std::fs::read_dir(&downloads)
        .expect("downloads")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "only the file is left: {leftovers:?}");
    figure(
        "200 MiB, cable pulled 5 s",
        &format!(
            "done {:.1} s after accept ({:.1} s after the cable came back), SHA-256 intact, \
             {carried} bytes carried ({:.2}x the file), {resumes} resume(s), reconnecting reported: {}",
            (at - started).as_secs_f64(),
            (at - pulled).as_secs_f64() - 5.0,
            carried as f64 / (SIZE_MIB * MIB) as f64,
            seen.iter()
                .any(|f| f == "reconnecting" || f == "sender_away"),
        ),
    );
}

#[test]
fn a_transfer_goes_on_after_the_sender_and_then_the_receiver_restart() {
    const SIZE_MIB: u64 = 120;
    let Some(lan) = Lan::new(2) else {
        return;
    };
    // About 5 s for the file, so that each restart lands mid-transfer (a
    // progress report comes every half second).
    lan.rate(0, 200);
    let dir = TempDir::create();
    let source = dir.0.join("notes.iso");
    let sha = random_file(&source, SIZE_MIB, 9);
    let downloads = dir.0.join("downloads");
    let data = [dir.0.join("data0"), dir.0.join("data1")];
    let dl = downloads.display().to_string();
    let spawn = |i: usize| {
        let extra: Vec<&str> = if i == 1 {
            vec!["--downloads", &dl]
        } else {
            Vec::new()
        };
        let mut peer =
            Peer::spawn_with_data(&lan.host(i), &format!("n{i}"), Some(&data[i]), &extra);
        let (_, ready) = peer.expect_event("ready", event("ready", &[]), START);
        (peer, ready["file_port"].as_u64())
    };
    // In its first run the sender finds the usual port taken, so its offer
    // names another; after the restart it has the usual one and serves the
    // offer on the other as well.
    let taken = lan.enter(0, || {
        std::net::TcpListener::bind(("::", FILE_PORT))
            .or_else(|_| std::net::TcpListener::bind(("0.0.0.0", FILE_PORT)))
    });
    let (mut sender, first_port) = spawn(0);
    assert!(
        taken.is_ok(),
        "the usual port could not be taken: {taken:?}"
    );
    assert_ne!(first_port, Some(u64::from(FILE_PORT)));
    let (mut receiver, _) = spawn(1);
    receiver.expect_event(
        "n0 online",
        event("peer_online", &[("nick", "n0")]),
        PATIENCE,
    );
    sender.expect_event(
        "n1 online",
        event("peer_online", &[("nick", "n1")]),
        PATIENCE,
    );
    sender.send(&format!("/send n1 {}", source.display()));
    let id = accept_offer(&mut receiver);
    wait_past(&mut receiver, &id, SIZE_MIB * MIB / 5);
    // The sender dies mid-file, and comes back with the same data.
    sender.kill();
    drop(taken);
    std::thread::sleep(Duration::from_secs(1));
    let (mut sender, second_port) = spawn(0);
    assert_eq!(second_port, Some(u64::from(FILE_PORT)));
    wait_past(&mut receiver, &id, SIZE_MIB * MIB / 2);
    // Now the receiver dies, and comes back: it goes on by itself.
    receiver.kill();
    let (mut receiver, _) = spawn(1);
    let (_, done) = done_event(&mut receiver, &id, Duration::from_secs(120));
    assert_eq!(done["event"], "file_done", "{done}");
    assert_eq!(done["sha256"], sha.as_str());
    let path = PathBuf::from(done["path"].as_str().expect("path"));
    assert_eq!(sha256_of(&path), sha);
    let carried = done["carried"].as_u64().expect("carried");
    let resumes = done["resumes"].as_u64().expect("resumes");
    assert!(resumes >= 2, "{resumes} resumes after two restarts");
    // What the receiver had on disk at its restart counts as carried before
    // it; only a start from zero would carry much more than the file.
    assert!(
        carried < (SIZE_MIB + 24) * MIB,
        "{carried} bytes carried for {SIZE_MIB} MiB: it started over"
    );
    // The sender's side sees it through as well.
    let (_, up) = sender.expect_event(
        "the sender's file_done",
        event("file_done", &[("id", &id), ("direction", "up")]),
        PATIENCE,
    );
    // And still knows who has it after another restart.
    let receiver_id = up["peer"].as_str().expect("peer").to_string();
    sender.kill();
    let (mut sender, _) = spawn(0);
    sender.send("/files");
    let (_, files) = sender.expect_event("files", event("files", &[]), PATIENCE);
    let mine = files["files"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["id"] == id.as_str()))
        .unwrap_or_else(|| panic!("my offer is not listed after a restart: {files}"));
    assert_eq!(
        mine["answers"],
        serde_json::json!([{"peer": receiver_id, "state": "done"}]),
        "{mine}"
    );
    figure(
        "restarts",
        &format!(
            "{SIZE_MIB} MiB through a sender restart and a receiver restart: SHA-256 intact, \
             {resumes} resumes, {carried} bytes carried ({:.2}x)",
            carried as f64 / (SIZE_MIB * MIB) as f64
        ),
    );
}

/// A sender that lies: its offer and its listing name paths outside the
/// download directory. It is a real node (for the offer, a direct
/// message), with a file server of its own made from the library's
/// session code.
struct Hostile {
    handle: lanchat::net::NodeHandle,
    events: lanchat::net::Events,
    keys: lanchat::envelope::Keys,
    listener: std::net::TcpListener,
    _dir: TempDir,
}

impl Hostile {
    fn start(lan: &Lan, host: usize) -> Hostile {
        let dir = TempDir::create();
        let data = dir.0.join("data");
        let options = lanchat::net::NetOptions {
            data_dir: Some(data.clone()),
            nick: Some("mallory".into()),
            ..Default::default()
        };
        let (started, listener) = lan.enter(host, || {
            let listener = std::net::TcpListener::bind("0.0.0.0:0").expect("listen");
            (
                lanchat::net::NodeHandle::start(options, Box::new(|| {})),
                listener,
            )
        });
        let (handle, events, _) = started.expect("start mallory");
        // Its key, read from its file (the running node holds the data
        // directory: a second Identity::load is refused).
        let text = std::fs::read_to_string(data.join(lanchat::identity::KEY_FILE)).expect("key");
        let mut secret = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut secret).expect("a key");
        let keys = lanchat::envelope::Keys::from_secret(&secret);
        Hostile {
            handle,
            events,
            keys,
            listener,
            _dir: dir,
        }
    }

    /// Waits until it sees `id` online.
    fn await_peer(&mut self, id: lanchat::NodeId) {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            match self.events.try_recv() {
                Ok(e) => {
                    if matches!(&e.event, lanchat::Event::Core(lanchat::CoreEvent::PeerOnline(p)) if p.id == id)
                    {
                        return;
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        panic!("mallory never saw the receiver");
    }

    /// Offers `name` (a folder of `entries` when given) to `to`.
    fn offer(
        &self,
        to: lanchat::NodeId,
        name: &str,
        entries: &[(&str, &[u8])],
        folder: bool,
    ) -> lanchat::files::FileId {
        let offer = lanchat::files::Offer {
            id: lanchat::files::FileId::random(),
            name: name.into(),
            size: entries.iter().map(|(_, data)| data.len() as u64).sum(),
            files: u32::try_from(entries.len()).expect("few files"),
            folder,
            port: self.listener.local_addr().expect("port").port(),
        };
        self.handle
            .send(lanchat::CoreCommand::Say {
                to: vec![lanchat::Target::Node(to)],
                text: offer.to_text(),
                kind: lanchat::MessageKind::File,
            })
            .expect("send the offer");
        offer.id
    }

    /// Serves one connection: the listing `entries`, then each file asked.
    fn serve(&self, entries: &[(&str, &[u8])]) {
        use lanchat::files::session::{self, Control, Entry};
        let (stream, _) = self.listener.accept().expect("accept");
        stream.set_nonblocking(true).expect("nonblocking");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let stream = tokio::net::TcpStream::from_std(stream).expect("tokio stream");
            let (read, write) = stream.into_split();
            let (_, mut reader, mut writer) = session::accept(read, write, &self.keys)
                .await
                .expect("handshake");
            assert!(matches!(reader.control().await, Ok(Control::Open { .. })));
            let listing = entries
                .iter()
                .map(|(path, data)| Entry {
                    path: (*path).into(),
                    size: data.len() as u64,
                })
                .collect();
            writer
                .send(&Control::Listing { entries: listing })
                .await
                .expect("listing");
            while let Ok(Control::Get { file, offset }) = reader.control().await {
                let data = entries[file as usize].1;
                writer.data(&data[offset as usize..]).await.expect("data");
                let sha256: [u8; 32] = Sha256::digest(data).into();
                writer.send(&Control::End { sha256 }).await.expect("end");
            }
        });
    }
}

/// Every file under `dir`, as paths relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("inside").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn hostile_names_land_inside_the_download_directory() {
    let Some(lan) = Lan::new(2) else {
        return;
    };
    let dir = TempDir::create();
    // Deep enough that `../../etc/x` from it would still be inside `dir`,
    // where the test can see it if it escaped.
    let downloads = dir.0.join("a").join("b").join("downloads");
    let mut receiver = lan.spawn_with(1, "n1", &["--downloads", &downloads.display().to_string()]);
    let (_, ready) = receiver.expect_event("ready", event("ready", &[]), START);
    let receiver_id = lanchat::NodeId::parse(ready["node"].as_str().expect("id")).expect("node id");
    let mut mallory = Hostile::start(&lan, 0);
    mallory.await_peer(receiver_id);

    // A file called `../../etc/x`.
    let single: [(&str, &[u8]); 1] = [("../../etc/x", b"owned")];
    let id = mallory.offer(receiver_id, "../../etc/x", &single, false);
    let (_, offer) = receiver.expect_event(
        "file_offer",
        event("file_offer", &[("id", &id.to_string())]),
        PATIENCE,
    );
    assert_eq!(
        offer["name"], "../../etc/x",
        "the offer is shown as it was made"
    );
    receiver.send(&format!("/accept {id}"));
    mallory.serve(&single);
    let (_, done) = done_event(&mut receiver, &id.to_string(), PATIENCE);
    assert_eq!(done["event"], "file_done", "{done}");
    assert_eq!(done["path"], downloads.join("x").display().to_string());

    // A folder `../..` whose listing climbs out and names absolute paths.
    let folder: [(&str, &[u8]); 3] = [
        ("../../../etc/passwd", b"root::0:0"),
        ("a/../../../b", b"b"),
        ("/abs/c", b"c"),
    ];
    let id = mallory.offer(receiver_id, "../..", &folder, true);
    receiver.expect_event(
        "folder offer",
        event("file_offer", &[("id", &id.to_string())]),
        PATIENCE,
    );
    receiver.send(&format!("/accept {id}"));
    mallory.serve(&folder);
    let (_, done) = done_event(&mut receiver, &id.to_string(), PATIENCE);
    assert_eq!(done["event"], "file_done", "{done}");
    let saved = PathBuf::from(done["path"].as_str().expect("path"));
    assert_eq!(
        saved.parent(),
        Some(downloads.as_path()),
        "the folder is saved in downloads"
    );

    // Nothing anywhere but inside the download directory.
    let everything = files_under(&dir.0);
    let outside: Vec<_> = everything
        .iter()
        .filter(|p| !p.starts_with("a/b/downloads"))
        .collect();
    assert!(outside.is_empty(), "written outside downloads: {outside:?}");
    let inside = files_under(&downloads);
    let names: Vec<String> = inside.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names.contains(&"x".to_string()), "{names:?}");
    figure("hostile names", &format!("saved as {}", names.join(", ")));
}

#[test]
fn a_folder_offered_to_a_channel_is_taken_declined_and_cancelled_member_by_member() {
    let Some(lan) = Lan::new(4) else {
        return;
    };
    let dir = TempDir::create();
    let folder = dir.0.join("project");
    std::fs::create_dir_all(folder.join("src/deep")).expect("mkdir");
    std::fs::write(folder.join("README.md"), b"read me").expect("write");
    std::fs::write(folder.join("src/main.rs"), b"fn main() {}").expect("write");
    let big = random_file(&folder.join("src/deep/data.bin"), 96, 10);
    // Seconds, not a fraction of one, so that n3 can cancel halfway.
    lan.rate(0, 400);
    let downloads: Vec<PathBuf> = (0..4).map(|i| dir.0.join(format!("dl{i}"))).collect();
    let args: Vec<String> = downloads.iter().map(|d| d.display().to_string()).collect();
    let mut nodes = Nodes::start_with(&lan, 4, |i| vec!["--downloads".into(), args[i].clone()]);
    let since = nodes.last_ready;
    nodes.all_see_all(since, PATIENCE);
    nodes.peers[0].send(&format!("/send #Main {}", folder.display()));
    let mut ids = Vec::new();
    for peer in &mut nodes.peers[1..] {
        let (_, offer) = peer.expect_event(
            "file_offer",
            event("file_offer", &[("chat", "#Main")]),
            PATIENCE,
        );
        assert_eq!(offer["folder"], true);
        assert_eq!(offer["files"], 3);
        ids.push(offer["id"].as_str().expect("id").to_string());
    }
    let id = ids[0].clone();
    assert!(ids.iter().all(|i| *i == id), "one offer for the channel");
    // n1 takes it, n2 declines, n3 takes it and cancels halfway.
    nodes.peers[1].send(&format!("/accept {id}"));
    nodes.peers[2].send(&format!("/decline {id}"));
    nodes.peers[3].send(&format!("/accept {id}"));
    wait_past(&mut nodes.peers[3], &id, 20 * MIB);
    nodes.peers[3].send(&format!("/cancel {id}"));
    let (_, cancelled) = done_event(&mut nodes.peers[3], &id, PATIENCE);
    assert_eq!(cancelled["event"], "file_failed");
    assert_eq!(cancelled["reason"], "cancelled");
    let (_, done) = done_event(&mut nodes.peers[1], &id, PATIENCE);
    assert_eq!(done["event"], "file_done", "{done}");
    let saved = PathBuf::from(done["path"].as_str().expect("path"));
    assert_eq!(saved, downloads[1].join("project"));
    assert_eq!(
        std::fs::read(saved.join("README.md")).expect("readme"),
        b"read me"
    );
    assert_eq!(
        std::fs::read(saved.join("src/main.rs")).expect("main"),
        b"fn main() {}"
    );
    assert_eq!(sha256_of(&saved.join("src/deep/data.bin")), big);
    // The folder's hash is that of its sha256sum listing.
    let listing: String = ["README.md", "src/deep/data.bin", "src/main.rs"]
        .iter()
        .map(|p| format!("{}  {p}\n", sha256_of(&saved.join(p))))
        .collect();
    assert_eq!(
        done["sha256"],
        hex(&Sha256::digest(listing.as_bytes())).as_str()
    );
    // What the canceller had is gone; the decliner never made anything.
    assert_eq!(
        files_under(&downloads[3]),
        Vec::<PathBuf>::new(),
        "n3 keeps nothing"
    );
    assert!(
        !downloads[2].exists() || files_under(&downloads[2]).is_empty(),
        "n2 made nothing"
    );
    // The sender hears each answer.
    let sender = &mut nodes.peers[0];
    let from = |i: usize| nodes.ids[i].clone();
    let (n1, n2, n3) = (from(1), from(2), from(3));
    sender.expect_event(
        "n1's done",
        event("file_done", &[("id", &id), ("peer", &n1)]),
        PATIENCE,
    );
    let (_, declined) = sender.expect_event(
        "n2's answer",
        event("file_failed", &[("id", &id), ("peer", &n2)]),
        PATIENCE,
    );
    assert_eq!(declined["reason"], "declined");
    let (_, gone) = sender.expect_event(
        "n3's cancel",
        event("file_failed", &[("id", &id), ("peer", &n3)]),
        PATIENCE,
    );
    assert_eq!(gone["reason"], "cancelled_by_peer");
    // Withdrawn: a late accept is told so.
    sender.send(&format!("/cancel {id}"));
    sender.expect_event(
        "withdrawn",
        event("file_failed", &[("id", &id), ("direction", "up")]),
        PATIENCE,
    );
    // An offer nobody answered, withdrawn: it closes for every member.
    sender.send(&format!(
        "/send #Main {}",
        folder.join("README.md").display()
    ));
    let mut second = None;
    for peer in &mut nodes.peers[1..] {
        let (_, offer) = peer.expect_event(
            "second file_offer",
            event("file_offer", &[("chat", "#Main"), ("name", "README.md")]),
            PATIENCE,
        );
        second = offer["id"].as_str().map(str::to_string);
    }
    let second = second.expect("second offer id");
    let withdrawn_at = Instant::now();
    nodes.peers[0].send(&format!("/cancel {second}"));
    let mut closed = Duration::ZERO;
    for peer in &mut nodes.peers[1..] {
        let (at, failed) = peer.expect_event(
            "withdrawn offer closed",
            event("file_failed", &[("id", &second), ("direction", "down")]),
            PATIENCE,
        );
        assert_eq!(failed["reason"], "cancelled_by_peer", "{failed}");
        closed = closed.max(at.saturating_duration_since(withdrawn_at));
    }
    figure(
        "channel folder",
        &format!(
            "3 files to #Main: n1 saved all intact, n2 declined, n3 cancelled at 20 MiB and kept nothing; \
             the sender heard each; an unanswered offer withdrawn was closed at all 3 within {} ms",
            closed.as_millis()
        ),
    );
}

#[test]
fn a_file_over_4_gib_crosses_intact() {
    const SIZE: u64 = (4 << 30) + 3 * MIB + 7;
    const MARKS: [u64; 3] = [0, (4 << 30) - 3, SIZE - 7];
    let _heavy = crate::util::heavy();
    let Some(lan) = Lan::new(2) else {
        return;
    };
    let dir = TempDir::create();
    // Sparse, with data at its start, across the 4 GiB line and at its end.
    let source = dir.0.join("disk.img");
    {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::File::create(&source).expect("create");
        for at in MARKS {
            file.seek(SeekFrom::Start(at)).expect("seek");
            file.write_all(b"lanchat").expect("write");
        }
        file.set_len(SIZE).expect("size");
    }
    let sha = sha256_of(&source);
    let downloads = dir.0.join("downloads");
    let dl = downloads.display().to_string();
    let mut nodes = Nodes::start_with(&lan, 2, |i| {
        if i == 1 {
            vec!["--downloads".into(), dl.clone(), "--auto-accept".into()]
        } else {
            Vec::new()
        }
    });
    let since = nodes.last_ready;
    nodes.all_see_all(since, PATIENCE);
    nodes.peers[0].send(&format!("/send n1 {}", source.display()));
    let started = Instant::now();
    let (_, offer) = nodes.peers[1].expect_event("file_offer", event("file_offer", &[]), PATIENCE);
    assert_eq!(offer["size"].as_u64(), Some(SIZE));
    let id = offer["id"].as_str().expect("id").to_string();
    let (at, done) = done_event(&mut nodes.peers[1], &id, Duration::from_secs(600));
    assert_eq!(done["event"], "file_done", "{done}");
    assert_eq!(done["size"].as_u64(), Some(SIZE));
    assert_eq!(done["sha256"], sha.as_str());
    let path = PathBuf::from(done["path"].as_str().expect("path"));
    assert_eq!(std::fs::metadata(&path).expect("saved").len(), SIZE);
    // The bytes where they were written (a second hash of 4 GiB would
    // double the test's time; the node checked the hash already).
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(&path).expect("open");
        for at in MARKS {
            let mut got = [0u8; 7];
            file.seek(SeekFrom::Start(at)).expect("seek");
            file.read_exact(&mut got).expect("read");
            assert_eq!(&got, b"lanchat", "the bytes at {at}");
        }
    }
    let secs = (at - started).as_secs_f64();
    figure(
        "over 4 GiB",
        &format!(
            "{SIZE} bytes auto-accepted and verified in {secs:.1} s ({:.0} MB/s)",
            SIZE as f64 / secs / 1e6
        ),
    );
}
