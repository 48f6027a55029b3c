//! The Windows build, run under Wine on a virtual LAN beside a Linux node
//! (issue 19): Winsock, the Windows data directory and the Windows code
//! paths, exercised by the real `lanchat.exe`.
//!
//! `.ci/run` cross-builds it (`x86_64-pc-windows-gnu` with mingw-w64) and
//! installs Wine; `LANCHAT_WINDOWS_EXE` names the exe (by default the
//! debug build under `target/x86_64-pc-windows-gnu`). Without Wine, mingw
//! or the exe the test is skipped, unless `LANCHAT_REQUIRE_WINE=1` (as in
//! `.ci/run`) makes that a failure.
//!
//! Wine opens a program's sockets in its wineserver, not in the program's
//! own process. So every Wine command of a host, the prefix's creation
//! included, runs inside that host's namespace, and the server is stopped
//! there at the end: no socket of the test lands in the machine's own
//! network.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::lan::bed::Lan;
use crate::util::{Peer, TempDir, event};

/// Longest the Windows node may take to print `ready` (Wine starts slowly,
/// the first time in a new prefix most of all).
const WINE_START: Duration = Duration::from_secs(90);
/// Generous wait for what the figures bound separately.
const PATIENCE: Duration = Duration::from_secs(30);

/// A Wine prefix in one host of a LAN, with `lanchat.exe` and the
/// `bcryptprimitives.dll` stand-in beside it.
struct Wine {
    netns: String,
    prefix: PathBuf,
    exe: PathBuf,
    _dir: TempDir,
}

/// Where the Windows build is.
fn windows_exe() -> PathBuf {
    std::env::var_os("LANCHAT_WINDOWS_EXE").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/x86_64-pc-windows-gnu/debug/lanchat.exe")
        },
        PathBuf::from,
    )
}

/// Whether `program --version` runs.
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Wine {
    /// Makes a prefix in host `host` of `lan`, or returns `None` (after
    /// printing why) when this machine cannot run the Windows build.
    fn prepare(lan: &Lan, host: usize) -> Option<Wine> {
        let exe = windows_exe();
        let missing = if !exe.is_file() {
            Some(format!("no Windows build at {}", exe.display()))
        } else if !runs("wine") {
            Some("no wine".to_string())
        } else if !runs("x86_64-w64-mingw32-gcc") {
            Some("no x86_64-w64-mingw32-gcc (mingw-w64)".to_string())
        } else {
            None
        };
        if let Some(why) = missing {
            let required = std::env::var("LANCHAT_REQUIRE_WINE").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "LANCHAT_REQUIRE_WINE=1 but {why} (.ci/run makes it)"
            );
            eprintln!("SKIPPED: {why} (.ci/run builds and installs what the Wine test needs)");
            return None;
        }
        let dir = TempDir::create();
        let app = dir.0.join("app");
        std::fs::create_dir_all(&app).expect("app folder");
        let copy = app.join("lanchat.exe");
        std::fs::copy(&exe, &copy).expect("copy lanchat.exe");
        let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/windows/bcryptprimitives.c");
        let built = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-s", "-o"])
            .arg(app.join("bcryptprimitives.dll"))
            .arg(&shim)
            .arg("-ladvapi32")
            .status()
            .expect("run mingw");
        assert!(
            built.success(),
            "building the bcryptprimitives.dll stand-in failed"
        );
        let wine = Wine {
            netns: lan.host(host),
            prefix: dir.0.join("prefix"),
            exe: copy,
            _dir: dir,
        };
        let started = Instant::now();
        let made = wine
            .command("wineboot", &["-i"])
            .status()
            .expect("run wineboot");
        assert!(made.success(), "wineboot failed");
        println!(
            "LAN figure: windows: a new Wine prefix in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Some(wine)
    }

    /// The environment of every Wine command: the prefix, no debug output,
    /// and no offer to install Mono or Gecko.
    fn env(&self) -> [(&'static str, &Path); 3] {
        [
            ("WINEPREFIX", &self.prefix),
            ("WINEDEBUG", Path::new("-all")),
            ("WINEDLLOVERRIDES", Path::new("mscoree,mshtml=")),
        ]
    }

    /// `program args` in the host's namespace, in the prefix.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.netns, program])
            .args(args)
            .envs(self.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Starts `lanchat.exe headless --json --nick <nick>` with its data in
    /// the Windows default place.
    fn spawn(&self, nick: &str) -> Peer {
        let args: Vec<OsString> = vec![
            self.exe.clone().into(),
            "headless".into(),
            "--json".into(),
            "--nick".into(),
            nick.into(),
        ];
        Peer::spawn_command(
            TempDir::create(),
            &self.netns,
            nick,
            Path::new("wine"),
            &args,
            &self.env(),
        )
    }

    /// The Unix path of a `C:\…` path of the prefix.
    fn unix_path(&self, windows: &str) -> PathBuf {
        let rest = windows
            .strip_prefix("C:\\")
            .or_else(|| windows.strip_prefix("c:\\"))
            .unwrap_or_else(|| panic!("{windows} is not on drive C:"));
        rest.split('\\')
            .fold(self.prefix.join("drive_c"), |path, part| path.join(part))
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let _ = self.command("wineserver", &["-k"]).status();
    }
}

/// Whether `v` is a `message` event in `chat` with `text`, replayed from
/// history or not.
fn message<'a>(chat: &'a str, text: &'a str, history: bool) -> impl Fn(&Value) -> bool + 'a {
    move |v| {
        event("message", &[("chat", chat), ("text", text)])(v)
            && v["history"].as_bool() == Some(history)
    }
}

#[test]
fn the_windows_build_under_wine_chats_with_a_linux_node_and_keeps_its_history() {
    let Some(lan) = Lan::new(2) else { return };
    let Some(wine) = Wine::prepare(&lan, 1) else {
        return;
    };
    let mut linus = lan.spawn(0, "linus");
    let mut winnie = wine.spawn("winnie");
    let (linus_ready, ready) = linus.expect_event("ready", event("ready", &[]), PATIENCE);
    let linus_id = ready["node"].as_str().expect("id").to_string();
    let (winnie_ready, ready) = winnie.expect_event("ready", event("ready", &[]), WINE_START);
    let winnie_id = ready["node"].as_str().expect("id").to_string();
    // The Windows default: the roaming AppData folder, in the prefix.
    let data_dir = ready["data_dir"].as_str().expect("data_dir").to_string();
    assert!(
        data_dir.contains("\\AppData\\Roaming\\lanchat"),
        "the data directory is not Windows's: {data_dir}"
    );
    assert!(
        wine.unix_path(&data_dir).is_dir(),
        "{data_dir} is not in the prefix"
    );

    // Each sees the other.
    let (seen_winnie, _) = linus.expect_event(
        "winnie online",
        event("peer_online", &[("node", &winnie_id)]),
        PATIENCE,
    );
    let (seen_linus, _) = winnie.expect_event(
        "linus online",
        event("peer_online", &[("node", &linus_id)]),
        PATIENCE,
    );
    let both_ready = linus_ready.max(winnie_ready);
    let discovery = seen_winnie
        .max(seen_linus)
        .saturating_duration_since(both_ready);
    println!(
        "LAN figure: windows: Linux and Wine nodes see each other {} ms after both are ready",
        discovery.as_millis()
    );
    assert!(discovery < Duration::from_secs(2), "{discovery:?}");

    // #Main both ways, each line once.
    linus.send("hello from linux");
    winnie.expect_event(
        "linus's line",
        message("#Main", "hello from linux", false),
        PATIENCE,
    );
    winnie.send("привет из Windows");
    linus.expect_event(
        "winnie's line",
        message("#Main", "привет из Windows", false),
        PATIENCE,
    );
    assert_eq!(
        winnie.count_after(
            Duration::from_secs(1),
            message("#Main", "hello from linux", false)
        ),
        0,
        "shown twice at winnie"
    );
    assert_eq!(
        linus.count_after(Duration::ZERO, message("#Main", "привет из Windows", false)),
        0,
        "shown twice at linus"
    );

    // Private messages both ways, sealed, each sender told `delivered`.
    let sent = Instant::now();
    linus.send("/msg winnie psst from linux");
    winnie.expect_event(
        "linus's private line",
        event(
            "message",
            &[("peer", &linus_id), ("text", "psst from linux")],
        ),
        PATIENCE,
    );
    let (delivered, _) = linus.expect_event(
        "delivered",
        event("delivered", &[("to", &winnie_id)]),
        PATIENCE,
    );
    let linux_to_windows = delivered.saturating_duration_since(sent);
    winnie.send("/msg linus psst from windows");
    linus.expect_event(
        "winnie's private line",
        event(
            "message",
            &[("peer", &winnie_id), ("text", "psst from windows")],
        ),
        PATIENCE,
    );
    winnie.expect_event(
        "delivered",
        event("delivered", &[("to", &linus_id)]),
        PATIENCE,
    );
    println!(
        "LAN figure: windows: private messages delivered both ways; Linux to Windows `delivered` {} ms after the line was typed",
        linux_to_windows.as_millis()
    );

    // Winnie quits and starts again with nobody else on the LAN: what she
    // has of #Main comes from her own history database.
    winnie.send("/quit");
    winnie.expect_event("stopped", event("stopped", &[]), PATIENCE);
    assert!(
        winnie.wait_exit(PATIENCE).success(),
        "lanchat.exe exit status"
    );
    linus.send("/quit");
    assert!(linus.wait_exit(PATIENCE).success());
    let mut winnie = wine.spawn("winnie");
    let (_, ready) = winnie.expect_event("ready again", event("ready", &[]), WINE_START);
    assert_eq!(
        ready["node"].as_str(),
        Some(winnie_id.as_str()),
        "the same identity"
    );
    winnie.send("/history #Main");
    winnie.expect_event(
        "linus's line from history",
        message("#Main", "hello from linux", true),
        PATIENCE,
    );
    winnie.expect_event(
        "her own line from history",
        message("#Main", "привет из Windows", true),
        PATIENCE,
    );
    winnie.expect_event(
        "history_done",
        event("history_done", &[("chat", "#Main")]),
        PATIENCE,
    );
    println!("LAN figure: windows: history kept across a restart of lanchat.exe");
    winnie.send("/quit");
    assert!(winnie.wait_exit(PATIENCE).success());
}

/// The portable ZIP's promise on Windows: with a `portable` file beside
/// `lanchat.exe`, its keys and history go to the `data` folder beside it,
/// and nothing to the user's AppData.
#[test]
fn a_portable_windows_copy_keeps_everything_beside_itself() {
    let Some(lan) = Lan::new(1) else { return };
    let Some(wine) = Wine::prepare(&lan, 0) else {
        return;
    };
    let app = wine.exe.parent().expect("app folder").to_path_buf();
    std::fs::write(app.join(lanchat::places::PORTABLE_MARKER), b"").expect("marker");
    let mut usb = wine.spawn("usb");
    let (_, ready) = usb.expect_event("ready", event("ready", &[]), WINE_START);
    let data_dir = ready["data_dir"].as_str().expect("data_dir").to_string();
    // Wine shows the Unix folder as drive Z:.
    let beside = format!("Z:{}", app.join("data").display()).replace('/', "\\");
    assert_eq!(data_dir, beside);
    usb.say_quit_and_find_history_in(&app.join("data"), PATIENCE);
    let roaming = wine.unix_path(r"C:\users");
    let in_appdata: Vec<PathBuf> = std::fs::read_dir(&roaming)
        .expect("users")
        .flatten()
        .map(|user| user.path().join("AppData/Roaming/lanchat"))
        .filter(|p| p.exists())
        .collect();
    assert!(in_appdata.is_empty(), "written to AppData: {in_appdata:?}");
}

/// Group Policy's place: a nick locked in
/// `HKLM\Software\Policies\lanchat\Locked` (as the ADMX template writes it)
/// beats `--nick`, and a default in `…\Defaults` is taken.
#[test]
fn a_policy_in_the_registry_applies_under_wine() {
    let Some(lan) = Lan::new(1) else { return };
    let Some(wine) = Wine::prepare(&lan, 0) else {
        return;
    };
    for (section, name, kind, data) in [
        ("Locked", "nick", "REG_SZ", "kiosk-7"),
        ("Locked", "keep_days", "REG_DWORD", "30"),
        ("Defaults", "port", "REG_DWORD", "47100"),
    ] {
        let key = format!(r"HKLM\Software\Policies\lanchat\{section}");
        let status = wine
            .command(
                "wine",
                &["reg", "add", &key, "/v", name, "/t", kind, "/d", data, "/f"],
            )
            .status()
            .expect("run reg");
        assert!(status.success(), "reg add {key} {name}");
    }
    let mut kiosk = wine.spawn("winnie");
    let (_, ready) = kiosk.expect_event("ready", event("ready", &[]), WINE_START);
    assert_eq!(ready["nick"].as_str(), Some("kiosk-7"), "{ready}");
    assert_eq!(ready["port"].as_u64(), Some(47100), "{ready}");
    kiosk.send("/nick other");
    kiosk.expect_event("the refusal", event("error", &[]), PATIENCE);
    kiosk.send("/quit");
    assert!(kiosk.wait_exit(PATIENCE).success());
}

/// The library's own tests, built for Windows (`.ci/run`:
/// `cargo test --target x86_64-pc-windows-gnu --lib --no-run`, its path in
/// `LANCHAT_WINDOWS_UNIT_TESTS`), run under Wine: the code behind
/// `cfg(windows)` (the `Run` key, the named pipe of the one-window
/// hand-over, the registry policy, the tray's image) and the core on
/// Windows. Those that need Linux are left out by their own `cfg`.
#[test]
fn the_library_tests_pass_on_windows() {
    let Some(exe) = std::env::var_os("LANCHAT_WINDOWS_UNIT_TESTS").map(PathBuf::from) else {
        let required = std::env::var("LANCHAT_REQUIRE_WINE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "LANCHAT_REQUIRE_WINE=1 but LANCHAT_WINDOWS_UNIT_TESTS is not set (.ci/run sets it)"
        );
        eprintln!("SKIPPED: LANCHAT_WINDOWS_UNIT_TESTS is not set (.ci/run builds them)");
        return;
    };
    let Some(lan) = Lan::new(1) else { return };
    let Some(wine) = Wine::prepare(&lan, 0) else {
        return;
    };
    let tests = wine.exe.with_file_name("lanchat-tests.exe");
    std::fs::copy(&exe, &tests).expect("copy the tests");
    let started = Instant::now();
    let tests = tests.to_str().expect("a UTF-8 path");
    let out = wine
        .command("wine", &[tests, "--test-threads=2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run the tests under wine");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .rfind(|l| l.starts_with("test result:"))
        .unwrap_or("no summary")
        .to_string();
    assert!(
        out.status.success() && summary.starts_with("test result: ok"),
        "{summary}\n{}\n{}",
        stdout
            .lines()
            .filter(|l| l.contains("FAILED") || l.contains("panicked"))
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    for windows_only in [
        "desktop::autostart::windows_tests::the_run_key_round_trips ... ok",
        "desktop::instance::tests::a_later_claim_hands_over_to_the_first_and_another_folder_is_apart ... ok",
    ] {
        assert!(stdout.contains(windows_only), "not run: {windows_only}");
    }
    println!(
        "LAN figure: windows: the library's tests under Wine: {summary} ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
}
