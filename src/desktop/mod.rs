//! Desktop integration: tray icon, notifications, the beep, start at login.
//!
//! The window calls into this module; nothing here knows about egui. Every
//! call returns at once: D-Bus traffic runs on worker threads ([`Tray`],
//! [`Notifier`]) and sound players are child processes reaped by a waiter
//! thread ([`sound::play_beep`]).
//!
//! The default build needs no system `-dev` package: on Linux the tray is a
//! StatusNotifierItem (`ksni`) and notifications go over pure-Rust zbus
//! (`notify-rust`), both on the session bus. Where a platform has no
//! implementation the call returns [`DesktopError::Unsupported`].
//!
//! | feature       | Linux                              | Windows                 | macOS                     |
//! |---------------|------------------------------------|-------------------------|---------------------------|
//! | tray icon     | StatusNotifierItem (KDE, GNOME with the AppIndicator extension, Xfce, waybar…) | `Unsupported` | `Unsupported` |
//! | notifications | org.freedesktop.Notifications      | toast (`notify-rust`)   | `notify-rust`             |
//! | beep          | `pw-play`, `paplay` or `aplay`     | PowerShell SoundPlayer  | `afplay`                  |
//! | autostart     | `~/.config/autostart/lanchat.desktop` | `HKCU\…\Run`         | `~/Library/LaunchAgents`  |
//!
//! # Verified on Linux (Debian 12 without a desktop)
//!
//! In the unit tests (`cargo test --lib desktop`):
//! - no session bus (`DBUS_SESSION_BUS_ADDRESS` unset, empty
//!   `XDG_RUNTIME_DIR`, in a child process): [`Tray::start`] returns
//!   `NoService` in a few milliseconds, and [`Notifier`] reports exactly one
//!   failure for three notifications without blocking the caller;
//! - autostart writes and removes the entry under `XDG_CONFIG_HOME`, with
//!   `Exec` the test binary's own path;
//! - the beep is valid 16-bit mono PCM of 0.3 s; with fake players on `PATH`
//!   a failing `pw-play` is followed by `aplay -q <cached beep.wav>`, both
//!   children are reaped (no zombie in `/proc`), and an empty `PATH` gives
//!   `NoPlayer`;
//! - the tray pixmaps have the shipped sizes, and the badges change only
//!   top-right pixels (red dot, larger orange dot).
//!
//! By hand with `scripts/desktop_live_check.sh` (a private `dbus-run-session`):
//! - tray without a StatusNotifierWatcher: `NoService` ("…ServiceUnknown…");
//! - tray with a watcher (`scripts/sni_watcher.py`, a stand-in for a panel's):
//!   the item registers; its properties read back as set — 4 pixmaps (22, 32,
//!   48, 64 px), tooltip "LAN Chat — 3" after `set_unread(3, false)`, status
//!   `NeedsAttention` and the orange badge after `set_unread(5, true)`,
//!   Russian menu labels after `set_labels`; `Activate` and a click on the
//!   menu's last item reach `on_action` as `Show` and `Quit`. Not seen on a
//!   real panel (KDE, GNOME's AppIndicator extension): none runs here;
//! - notification: dunst 1.9 on Xvfb receives `Notify` ("LAN Chat", the icon
//!   path in the cache dir, summary, body; seen in `dbus-monitor`) and draws
//!   it; with no daemon able to start, the one failure reported is
//!   `…Spawn.ChildSignaled`;
//! - beep: real `aplay` with no sound card exits 1 and is reaped; no sound
//!   was heard (no audio device here);
//! - the autostart entry passes `desktop-file-validate`.
//!
//! Windows and macOS code is not compiled here (no such target on this
//! machine); it is kept small.

pub mod autostart;
pub mod instance;
mod notify;
pub mod sound;
mod tray;
mod tray_icon;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use notify::Notifier;

/// The application icon (256×256 PNG), for the window and notifications.
pub const ICON_PNG: &[u8] = include_bytes!("../../assets/icon.png");
pub use tray::Tray;

/// What can go wrong in desktop integration.
#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    /// This platform has no implementation of the named feature.
    #[error("{0} is not supported on this platform")]
    Unsupported(&'static str),
    /// The desktop service this needs is missing: no session bus, no tray
    /// (StatusNotifierWatcher), no notification daemon.
    #[error("desktop service unavailable: {0}")]
    NoService(String),
    /// No program to play sound with was found.
    #[error("no sound player found (looked for {0})")]
    NoPlayer(&'static str),
    /// The home or configuration directory is unknown.
    #[error("cannot find the home directory")]
    NoHome,
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, e.g. "writing /home/a/.config/autostart/lanchat.desktop".
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl DesktopError {
    fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        DesktopError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Opens a file or folder with the desktop's program for it (`xdg-open`
/// and the like, Explorer, `open`), off the calling thread: finding a
/// launcher that takes it can take a quarter of a second each. `on_fail`
/// gets the reason when none would.
pub fn open_path(path: PathBuf, on_fail: impl FnOnce(String) + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name("lanchat-open".into())
        .spawn(move || {
            if let Err(err) = open::that_detached(&path) {
                tracing::debug!(path = %path.display(), cause = %err, "opening failed");
                on_fail(err.to_string());
            }
        });
    if let Err(err) = spawned {
        tracing::warn!(cause = %err, "no thread to open a file with");
    }
}

/// What the user asked for from the tray icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrayAction {
    /// Bring the window up (a click on the icon, or the menu's "Show").
    Show,
    /// Quit the application (the menu's "Quit").
    Quit,
}

/// The tray's texts, in the user's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrayLabels {
    /// Tooltip title, e.g. "LAN Chat"; the unread count is appended to it.
    pub tooltip: String,
    /// Menu item that shows the window.
    pub show: String,
    /// Menu item that quits.
    pub quit: String,
}

/// Writes `bytes` to `name` in lanchat's cache directory unless an identical
/// file is already there, and returns its path. External programs (sound
/// players, notification daemons) need a file, not bytes.
fn cache_file(name: &str, bytes: &[u8]) -> Result<PathBuf, DesktopError> {
    let dir = crate::places::cache_dir().ok_or(DesktopError::NoHome)?;
    cache_file_in(&dir, name, bytes)
}

/// [`cache_file`] in a given directory.
fn cache_file_in(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, DesktopError> {
    let path = dir.join(name);
    if std::fs::read(&path).is_ok_and(|old| old == bytes) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| DesktopError::io(format!("creating {}", dir.display()), e))?;
    // Write aside and rename, so a player started by another instance never
    // reads a half-written file.
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(DesktopError::io(format!("writing {}", path.display()), e));
    }
    Ok(path)
}

#[cfg(test)]
pub(crate) mod tests {
    //! Tests that need a different process environment (no session bus, a
    //! temporary `XDG_CONFIG_HOME`) run one test of this binary in a child
    //! process: environment variables are process-wide and changing them
    //! needs `unsafe` in edition 2024.

    use std::ffi::OsStr;
    use std::process::{Command, Output};

    /// Set in the child, so a child-only test does nothing when run directly.
    pub(crate) const CHILD_MARK: &str = "LANCHAT_DESKTOP_TEST_CHILD";

    /// True inside a child started by [`run_child`].
    pub(crate) fn in_child() -> bool {
        std::env::var_os(CHILD_MARK).is_some()
    }

    /// Runs the test `name` (full path, e.g. `desktop::tray::tests::x`) alone in a
    /// child process with `set` applied and `remove` removed from the environment.
    pub(crate) fn run_child(name: &str, set: &[(&str, &OsStr)], remove: &[&str]) -> Output {
        let exe = std::env::current_exe().expect("test binary path");
        let mut cmd = Command::new(exe);
        cmd.args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MARK, "1");
        for (k, v) in set {
            cmd.env(k, v);
        }
        for k in remove {
            cmd.env_remove(k);
        }
        let out = cmd.output().expect("run child test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child test {name} failed: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// An environment with no session bus: no address, and a runtime dir
    /// without a `bus` socket (zbus's fallback).
    pub(crate) fn no_bus_env(runtime_dir: &std::path::Path) -> Vec<(&'static str, &OsStr)> {
        vec![
            ("XDG_RUNTIME_DIR", runtime_dir.as_os_str()),
            ("DISPLAY", OsStr::new("")),
        ]
    }

    #[test]
    fn cache_file_writes_once_and_rewrites_changed_content() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        let a = super::cache_file_in(&dir, "x.bin", b"one").unwrap();
        assert_eq!(a, dir.join("x.bin"));
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
        let b = super::cache_file_in(&dir, "x.bin", b"two!").unwrap();
        assert_eq!(a, b);
        assert_eq!(std::fs::read(&b).unwrap(), b"two!");
        // Nothing left aside.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }
}
