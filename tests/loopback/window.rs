//! The window as a real process on a virtual display (Xvfb), in the
//! namespace: one window per user and data directory.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::util::{Netns, TempDir};

/// A virtual X display in a namespace; stopped on drop.
struct Display {
    number: usize,
    server: Child,
}

impl Display {
    /// Starts Xvfb, or returns `None` (after saying why) where there is
    /// none, unless `LANCHAT_REQUIRE_DISPLAY=1` (as in `.ci/run`).
    fn start(ns: &Netns) -> Option<Display> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let number =
            200 + (std::process::id() as usize % 500) + NEXT.fetch_add(1, Ordering::Relaxed);
        let server = Command::new("ip")
            .args(["netns", "exec", &ns.name, "Xvfb", &format!(":{number}")])
            .args(["-screen", "0", "1024x768x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(server) = server else {
            let required = std::env::var("LANCHAT_REQUIRE_DISPLAY").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "LANCHAT_REQUIRE_DISPLAY=1 but Xvfb does not start"
            );
            eprintln!("SKIPPED: no Xvfb (apt-get install xvfb; .ci/run does)");
            return None;
        };
        let display = Display { number, server };
        let socket = format!("/tmp/.X11-unix/X{number}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new(&socket).exists() {
            assert!(Instant::now() < deadline, "Xvfb :{number} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(display)
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// `lanchat` (the window) in `ns` on `display`, with `data` as its data
/// directory and everything else of the user's in `home`.
fn window(ns: &Netns, display: &Display, home: &Path, data: &Path, log: &Path) -> Command {
    let mut command = Command::new("ip");
    command
        .args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_lanchat")])
        .args(["--nick", "desk"])
        .arg("--data-dir")
        .arg(data)
        .env("DISPLAY", format!(":{}", display.number))
        .env("RUST_LOG", "lanchat=debug")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .env("LANCHAT_POLICY", home.join("no-policy.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log"));
    command
}

/// Waits (at most `wait`) for `text` in the file at `log`.
fn logged(log: &Path, text: &str, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        if std::fs::read_to_string(log).is_ok_and(|l| l.contains(text)) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_second_start_of_the_window_brings_the_first_forward_and_exits() {
    let Some(ns) = Netns::create() else { return };
    let Some(display) = Display::start(&ns) else {
        return;
    };
    let dir = TempDir::create();
    let (home, data) = (dir.0.join("home"), dir.0.join("data"));
    let first_log = dir.0.join("first.log");
    let mut first = window(&ns, &display, &home, &data, &first_log)
        .spawn()
        .expect("start the window");
    assert!(
        logged(&first_log, "serving later starts", Duration::from_secs(60)),
        "the first window did not come up:\n{}",
        std::fs::read_to_string(&first_log).unwrap_or_default()
    );
    let second_log = dir.0.join("second.log");
    let started = Instant::now();
    let mut second = window(&ns, &display, &home, &data, &second_log)
        .spawn()
        .expect("start it again");
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the second start did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let second_text = std::fs::read_to_string(&second_log).unwrap_or_default();
    assert!(
        status.success(),
        "the second start: {status}\n{second_text}"
    );
    assert!(second_text.contains("brought it forward"), "{second_text}");
    assert!(
        logged(
            &first_log,
            "the window comes forward",
            Duration::from_secs(5)
        ),
        "the first window was not asked forward:\n{}",
        std::fs::read_to_string(&first_log).unwrap_or_default()
    );
    assert!(
        first.try_wait().expect("wait").is_none(),
        "the first window is gone"
    );
    println!(
        "LAN figure: window: a second start handed over to the first and exited 0 in {} ms",
        took.as_millis()
    );
    let _ = first.kill();
    let _ = first.wait();
}
