//! Helpers shared by the integration tests: a network namespace that is
//! deleted on drop, a `lanchat headless --json` child whose events can
//! be awaited, and nodes in this process on an in-memory LAN ([`memory`]).

pub(crate) mod memory;

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde_json::Value;

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh network namespace with only `lo` up; deleted on drop (also when a
/// test panics).
pub(crate) struct Netns {
    pub(crate) name: String,
}

impl Netns {
    /// Creates the namespace, or returns `None` (after printing why) when
    /// this machine cannot: not root, or no `ip`. With
    /// `LANCHAT_REQUIRE_NETNS=1` that is a failure instead.
    pub(crate) fn create() -> Option<Netns> {
        let required = std::env::var("LANCHAT_REQUIRE_NETNS").is_ok_and(|v| v == "1");
        let skip = |why: String| {
            assert!(!required, "LANCHAT_REQUIRE_NETNS=1 but {why}");
            eprintln!("SKIPPED: {why} (network namespace tests need root and iproute2)");
            None
        };
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
        if !root {
            return skip("not running as root".into());
        }
        if !Command::new("ip")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return skip("the `ip` command (iproute2) is missing".into());
        }
        let name = unique("lanchat-lo");
        let ns = Netns { name };
        if let Err(why) = ns.ip(&["netns", "add", &ns.name]) {
            // Nothing to delete: forget the guard.
            std::mem::forget(ns);
            return skip(why);
        }
        if let Err(why) = ns.exec_ok(&["ip", "link", "set", "lo", "up"]) {
            panic!("{why}");
        }
        Some(ns)
    }

    /// Runs `f` on a thread that has entered the namespace: sockets it
    /// opens live there.
    pub(crate) fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        enter_netns(&self.name, f)
    }

    fn ip(&self, args: &[&str]) -> Result<(), String> {
        run("ip", args)
    }

    fn exec_ok(&self, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["netns", "exec", &self.name];
        all.extend_from_slice(args);
        run("ip", &all)
    }
}

/// Runs `f` on a thread that has entered the network namespace named
/// `name` (made by `ip netns add`): sockets it opens live there.
pub(crate) fn enter_netns<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> T {
    let path = format!("/var/run/netns/{name}");
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = File::open(&path).expect("open the namespace");
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                .expect("enter the namespace");
            f()
        })
        .join()
        .expect("namespace thread")
    })
}

/// Runs `program` with `args`; on failure says what failed and why.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<(), String> {
    match Command::new(program).args(args).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(err) => Err(format!("`{program}` could not run: {err}")),
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(why) = self.ip(&["netns", "del", &self.name]) {
            eprintln!("warning: {why}");
        }
    }
}

/// A temp directory, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn create() -> TempDir {
        let dir = std::env::temp_dir().join(unique("lanchat-test"));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One event line and when it was read.
pub(crate) type Seen = (Instant, Value);

/// A running `lanchat headless --json` inside a namespace.
pub(crate) struct Peer {
    pub(crate) nick: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Seen>,
    /// Events read but not yet matched by an expectation.
    backlog: Vec<Seen>,
    stderr: PathBuf,
    _dir: TempDir,
}

impl Peer {
    /// Starts a node called `nick` in `ns`, with its own data directory.
    pub(crate) fn spawn(ns: &Netns, nick: &str) -> Peer {
        Peer::spawn_in(&ns.name, nick, &[])
    }

    /// Starts a node called `nick` in the network namespace named `netns`,
    /// with its own data directory and `extra` arguments after the others.
    pub(crate) fn spawn_in(netns: &str, nick: &str, extra: &[&str]) -> Peer {
        Peer::spawn_with_data(netns, nick, None, extra)
    }

    /// Like [`Peer::spawn_in`], with the data directory `data` when given
    /// (a restart of an earlier node).
    pub(crate) fn spawn_with_data(
        netns: &str,
        nick: &str,
        data: Option<&std::path::Path>,
        extra: &[&str],
    ) -> Peer {
        Peer::spawn_with_env(netns, nick, data, extra, &[])
    }

    /// Like [`Peer::spawn_with_data`], with environment variables `env` set
    /// for the node.
    pub(crate) fn spawn_with_env(
        netns: &str,
        nick: &str,
        data: Option<&std::path::Path>,
        extra: &[&str],
        env: &[(&str, &std::path::Path)],
    ) -> Peer {
        let program = std::path::Path::new(env!("CARGO_BIN_EXE_lanchat"));
        Peer::spawn_program(program, netns, nick, data, extra, env)
    }

    /// Like [`Peer::spawn_with_env`], running `program` (another build of
    /// lanchat) instead of this one.
    pub(crate) fn spawn_program(
        program: &std::path::Path,
        netns: &str,
        nick: &str,
        data: Option<&std::path::Path>,
        extra: &[&str],
        env: &[(&str, &std::path::Path)],
    ) -> Peer {
        let dir = TempDir::create();
        let data = data.map_or_else(|| dir.0.join("data"), std::path::Path::to_path_buf);
        let mut args: Vec<std::ffi::OsString> =
            ["headless", "--json", "--nick", nick, "--data-dir"]
                .iter()
                .map(Into::into)
                .collect();
        args.push(data.into());
        args.extend(extra.iter().map(Into::into));
        Peer::spawn_command(dir, netns, nick, program, &args, env)
    }

    /// Runs `program args` in the network namespace `netns` as a node
    /// called `nick` whose stdout is `--json` events; `dir` is its own
    /// folder (its stderr log goes there), deleted with it.
    pub(crate) fn spawn_command(
        dir: TempDir,
        netns: &str,
        nick: &str,
        program: &std::path::Path,
        args: &[std::ffi::OsString],
        env: &[(&str, &std::path::Path)],
    ) -> Peer {
        let stderr = dir.0.join("stderr.log");
        let mut child = Command::new("ip")
            .args(["netns", "exec", netns])
            .arg(program)
            .args(args)
            .env("RUST_LOG", "lanchat=debug")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr).expect("create stderr log"))
            .spawn()
            .expect("start lanchat");
        let stdout = child.stdout.take().expect("child stdout");
        let (tx, rx) = channel();
        let name = nick.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|err| panic!("{name}: not JSON ({err}): {line}"));
                if tx.send((Instant::now(), value)).is_err() {
                    break;
                }
            }
        });
        Peer {
            nick: nick.to_string(),
            stdin: child.stdin.take(),
            child,
            lines: rx,
            backlog: Vec::new(),
            stderr,
            _dir: dir,
        }
    }

    /// The process id of the node (`ip netns exec` execs it in place).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the node, in KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{} is not running", self.nick))
    }

    /// Sends the node `signal` (SIGKILL, SIGSTOP, SIGCONT…).
    pub(crate) fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.pid()).expect("pid fits i32"));
        nix::sys::signal::kill(pid, signal)
            .unwrap_or_else(|err| panic!("{}: sending {signal}: {err}", self.nick));
    }

    /// Kills the node at once (SIGKILL): no goodbye, like a power cut.
    pub(crate) fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// Freezes the node (SIGSTOP), like a laptop lid closed or a long GC,
    /// and waits until it is stopped: the signal is delivered
    /// asynchronously, and on a busy machine a node could otherwise still
    /// answer what the test sends next.
    pub(crate) fn freeze(&self) {
        self.signal(Signal::SIGSTOP);
        // Every thread (the network one too) must have stopped.
        let tasks = format!("/proc/{}/task", self.pid());
        let stopped = |dir: std::fs::DirEntry| {
            let stat = std::fs::read_to_string(dir.path().join("stat")).unwrap_or_default();
            // The state follows the command name in parentheses.
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['T', 't']))
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(dirs) = std::fs::read_dir(&tasks)
                && dirs.flatten().all(stopped)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("{}: not stopped 5 s after SIGSTOP", self.nick);
    }

    /// Lets a frozen node run again (SIGCONT).
    pub(crate) fn thaw(&self) {
        self.signal(Signal::SIGCONT);
    }

    /// Every event read so far and not yet matched, oldest first; they stay
    /// in the backlog.
    pub(crate) fn backlog(&mut self) -> &[Seen] {
        while let Ok(seen) = self.lines.try_recv() {
            self.backlog.push(seen);
        }
        &self.backlog
    }

    /// Forgets every event read so far (before asking for a fresh answer).
    pub(crate) fn forget(&mut self) {
        self.backlog();
        self.backlog.clear();
    }

    /// Whether the process is still running.
    pub(crate) fn running(&mut self) -> bool {
        self.child.try_wait().is_ok_and(|s| s.is_none())
    }

    /// Types one line.
    pub(crate) fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to lanchat");
        stdin.flush().expect("flush to lanchat");
    }

    /// Waits up to `timeout` for an event matching `pred` (also among those
    /// read earlier and not yet matched); panics with what was seen if none.
    pub(crate) fn expect_event(
        &mut self,
        what: &str,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Seen {
        if let Some(at) = self.backlog.iter().position(|(_, v)| pred(v)) {
            return self.backlog.remove(at);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(seen) if pred(&seen.1) => return seen,
                Ok(seen) => self.backlog.push(seen),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!(
                        "{}: no {what} within {timeout:?}.\nunmatched events:\n{}\nstderr:\n{}",
                        self.nick,
                        self.backlog
                            .iter()
                            .map(|(_, v)| v.to_string())
                            .collect::<Vec<_>>()
                            .join("\n"),
                        self.stderr_text()
                    )
                }
            }
        }
    }

    /// Reads everything that arrives during `window` into the backlog, and
    /// returns how many backlog events match `pred`.
    pub(crate) fn count_after(&mut self, window: Duration, pred: impl Fn(&Value) -> bool) -> usize {
        let deadline = Instant::now() + window;
        while let Ok(seen) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.backlog.push(seen);
        }
        self.backlog.iter().filter(|(_, v)| pred(v)).count()
    }

    /// Says a line, quits (waiting at most `wait` for each), and checks
    /// that its history database is in `data`: where a portable copy keeps
    /// it.
    pub(crate) fn say_quit_and_find_history_in(&mut self, data: &std::path::Path, wait: Duration) {
        self.send("kept beside the program");
        self.expect_event("sent", event("sent", &[]), wait);
        self.send("/quit");
        assert!(
            self.wait_exit(wait).success(),
            "{} did not quit cleanly",
            self.nick
        );
        let kept: Vec<String> = std::fs::read_dir(data)
            .expect("the data folder")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        assert!(
            kept.iter().any(|f| f.starts_with("history")),
            "no history in {}: {kept:?}",
            data.display()
        );
    }

    /// Closes stdin (end of input).
    pub(crate) fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the process to end.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {timeout:?}; stderr:\n{}",
                self.nick,
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// What the node logged on stderr so far.
    pub(crate) fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Matches `{"event": name}` with every `(key, value)` string field equal.
pub(crate) fn event<'a>(
    name: &'a str,
    fields: &'a [(&'a str, &'a str)],
) -> impl Fn(&Value) -> bool + 'a {
    move |v: &Value| {
        v["event"] == name && fields.iter().all(|(k, want)| v[*k].as_str() == Some(*want))
    }
}

/// Held by tests that keep the CPU busy for long (the 50-peer simulations)
/// and by those that time real processes under load (the flood): a timed
/// test measures the code, not the other tests beside it.
pub(crate) fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
