//! The new-message beep.
//!
//! On Windows it is played from memory by the system (`PlaySound`, which
//! is made for just this: a short WAV, asynchronously), no process
//! started. Elsewhere it is played by the system's own sound player, with
//! no audio crate (`rodio`/`cpal` need ALSA headers to build on Linux): the
//! chime (`assets/beep.wav`, made by `assets/make_assets.py`) is written
//! once to the cache directory and handed to a player program in a child
//! process; a waiter thread reaps it, and falls back to the next player
//! when one fails (e.g. `pw-play` installed but PipeWire not running).

// On Windows only the chime itself is used; the players are for the others.
#![cfg_attr(windows, allow(dead_code))]

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use super::DesktopError;

/// The chime: 16-bit PCM, mono, 22050 Hz, 0.3 s.
const BEEP_WAV: &[u8] = include_bytes!("../../assets/beep.wav");

/// The players tried, in order.
#[cfg(target_os = "linux")]
const PLAYERS: &[&str] = &["pw-play", "paplay", "aplay"];
#[cfg(target_os = "macos")]
const PLAYERS: &[&str] = &["afplay"];
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
const PLAYERS: &[&str] = &[];

/// What [`DesktopError::NoPlayer`] says was looked for.
#[cfg(target_os = "linux")]
const LOOKED_FOR: &str = "pw-play, paplay, aplay";
#[cfg(target_os = "macos")]
const LOOKED_FOR: &str = "afplay";
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
const LOOKED_FOR: &str = "a known player for this platform";

/// True while a beep plays; a beep asked for meanwhile is skipped rather than
/// stacking players on a burst of messages.
static PLAYING: AtomicBool = AtomicBool::new(false);

/// Plays the beep without blocking: starts a player and returns. Fails with
/// [`DesktopError::NoPlayer`] when there is no player program (say so once,
/// then stop asking), or with [`DesktopError::Io`] when the sound file cannot
/// be written or the player cannot be started.
pub fn play_beep() -> Result<(), DesktopError> {
    #[cfg(windows)]
    {
        play_from_memory(BEEP_WAV)
    }
    #[cfg(not(windows))]
    {
        play_with_a_player()
    }
}

/// Plays a WAV image asynchronously with `PlaySound`; a newer beep cuts
/// the one playing short, so a burst never stacks. One of the crate's two
/// `unsafe` calls (see `Cargo.toml`).
#[cfg(windows)]
#[allow(unsafe_code)]
fn play_from_memory(wav: &'static [u8]) -> Result<(), DesktopError> {
    use windows_sys::Win32::Media::Audio::{PlaySoundW, SND_ASYNC, SND_MEMORY, SND_NODEFAULT};
    // SAFETY: with SND_MEMORY the first argument is the address of a whole
    // WAV image; it is static, so it outlives the asynchronous playback.
    let played = unsafe {
        PlaySoundW(
            wav.as_ptr().cast(),
            std::ptr::null_mut(),
            SND_MEMORY | SND_ASYNC | SND_NODEFAULT,
        )
    };
    if played == 0 {
        return Err(DesktopError::NoPlayer("a sound device (PlaySound failed)"));
    }
    Ok(())
}

/// Starts a player program on the chime, with a waiter thread.
fn play_with_a_player() -> Result<(), DesktopError> {
    let players = find_players(PLAYERS, std::env::var_os("PATH").as_deref());
    if players.is_empty() {
        return Err(DesktopError::NoPlayer(LOOKED_FOR));
    }
    let wav = beep_file()?;
    if PLAYING.swap(true, Ordering::AcqRel) {
        return Ok(());
    }
    let first = match spawn(&players[0], &wav) {
        Ok(child) => child,
        Err(e) => {
            PLAYING.store(false, Ordering::Release);
            return Err(DesktopError::io(
                format!("starting {}", players[0].display()),
                e,
            ));
        }
    };
    let waiter = std::thread::Builder::new()
        .name("lanchat-beep".into())
        .spawn(move || {
            wait_then_fall_back(first, &players[1..], &wav);
            PLAYING.store(false, Ordering::Release);
        });
    if let Err(e) = waiter {
        // The child is left unreaped until we exit; nothing better to do.
        PLAYING.store(false, Ordering::Release);
        tracing::warn!(cause = %e, "cannot start the beep waiter thread");
    }
    Ok(())
}

/// Waits for `child`; while it failed, plays with the next of `rest`.
fn wait_then_fall_back(mut child: Child, rest: &[PathBuf], wav: &Path) {
    let mut rest = rest.iter();
    loop {
        match child.wait() {
            Ok(status) if status.success() => return,
            Ok(status) => tracing::debug!(%status, "sound player failed"),
            Err(e) => tracing::debug!(cause = %e, "waiting for the sound player"),
        }
        let Some(next) = rest.next() else {
            return;
        };
        child = match spawn(next, wav) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(player = %next.display(), cause = %e, "cannot start");
                return;
            }
        };
    }
}

/// The beep file in the cache directory, written on first use.
fn beep_file() -> Result<PathBuf, DesktopError> {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    if let Some(path) = PATH.get() {
        return Ok(path.clone());
    }
    let path = super::cache_file("beep.wav", BEEP_WAV)?;
    Ok(PATH.get_or_init(|| path).clone())
}

/// The players of `names` found in `path_var` (a `PATH` value), in order.
fn find_players(names: &[&str], path_var: Option<&OsStr>) -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = path_var
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    let mut found: Vec<PathBuf> = names
        .iter()
        .filter_map(|name| dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p)))
        .collect();
    // PATH may be thin (e.g. started from a launchd or systemd unit); these
    // live in fixed places.
    #[cfg(target_os = "macos")]
    if found.is_empty() && is_executable(Path::new("/usr/bin/afplay")) {
        found.push(PathBuf::from("/usr/bin/afplay"));
    }
    found.dedup();
    found
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Starts `player` on `wav`, all standard streams closed.
fn spawn(player: &Path, wav: &Path) -> std::io::Result<Child> {
    let mut cmd = Command::new(player);
    cmd.args(player_args(player, wav))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        // CREATE_NO_WINDOW: no console flashes up from a GUI program.
        cmd.creation_flags(0x0800_0000);
    }
    cmd.spawn()
}

/// The arguments that make `player` play `wav` once.
fn player_args(player: &Path, wav: &Path) -> Vec<OsString> {
    let name = player
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match name.as_str() {
        "aplay" => vec!["-q".into(), wav.into()],
        _ => vec![wav.into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a little-endian u16/u32 at `at`.
    fn le16(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn le32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn beep_is_short_mono_16_bit_pcm_at_22050_hz() {
        let b = BEEP_WAV;
        assert!(b.len() < 30_000, "{} bytes", b.len());
        assert_eq!(&b[0..4], b"RIFF");
        assert_eq!(le32(b, 4) as usize, b.len() - 8);
        assert_eq!(&b[8..12], b"WAVE");
        // Walk the chunks: fmt, then data.
        let (mut at, mut fmt, mut data) = (12, None, None);
        while at + 8 <= b.len() {
            let id = &b[at..at + 4];
            let len = le32(b, at + 4) as usize;
            let body = &b[at + 8..at + 8 + len];
            match id {
                b"fmt " => fmt = Some(body),
                b"data" => data = Some(body),
                _ => {}
            }
            at += 8 + len + (len & 1);
        }
        let fmt = fmt.expect("fmt chunk");
        assert_eq!(le16(fmt, 0), 1, "PCM");
        assert_eq!(le16(fmt, 2), 1, "mono");
        assert_eq!(le32(fmt, 4), 22050);
        assert_eq!(le16(fmt, 14), 16, "bits");
        let data = data.expect("data chunk");
        let samples: Vec<i16> = data
            .chunks_exact(2)
            .map(|s| i16::from_le_bytes([s[0], s[1]]))
            .collect();
        let secs = samples.len() as f64 / 22050.0;
        assert!((0.25..=0.4).contains(&secs), "{secs} s");
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(
            (8_000..32_767).contains(&peak),
            "peak {peak}: silent or clipped"
        );
        // Starts and ends in silence: no click.
        assert!(samples[0].unsigned_abs() < 200);
        assert!(samples[samples.len() - 1].unsigned_abs() < 200);
    }

    #[cfg(unix)]
    fn fake_player(dir: &Path, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn players_are_found_in_path_order_and_must_be_executable() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        fake_player(b.path(), "aplay", "exit 0");
        fake_player(a.path(), "paplay", "exit 0");
        std::fs::write(a.path().join("pw-play"), "not executable").unwrap();
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        let found = find_players(&["pw-play", "paplay", "aplay"], Some(&path));
        assert_eq!(found, [a.path().join("paplay"), b.path().join("aplay")]);
        assert!(find_players(&["aplay"], None).is_empty());
    }

    #[test]
    fn each_player_gets_the_file() {
        let wav = Path::new("/c/it's.wav");
        assert_eq!(
            player_args(Path::new("/usr/bin/aplay"), wav),
            ["-q", "/c/it's.wav"]
        );
        assert_eq!(
            player_args(Path::new("/usr/bin/pw-play"), wav),
            ["/c/it's.wav"]
        );
    }

    /// Runs in a child process with fake players on `PATH` (see `beep_plays_and_falls_back`).
    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "run by beep_plays_and_falls_back in a child process"]
    fn child_beep_with_fake_players() {
        use std::time::{Duration, Instant};
        if !crate::desktop::tests::in_child() {
            return;
        }
        let out = PathBuf::from(std::env::var_os("FAKE_PLAYER_OUT").unwrap());
        let started = Instant::now();
        play_beep().unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "play_beep blocked"
        );
        // The failing pw-play ran first, then aplay got the cached file.
        while !out.exists() || PLAYING.load(Ordering::Acquire) {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "player never ran"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let log = std::fs::read_to_string(&out).unwrap();
        let cache = PathBuf::from(std::env::var_os("XDG_CACHE_HOME").unwrap());
        let wav = cache.join("lanchat").join("beep.wav");
        assert_eq!(log, format!("pw-play {0}\naplay -q {0}\n", wav.display()));
        assert_eq!(std::fs::read(&wav).unwrap(), BEEP_WAV);
        // The waiter reaped both children: this process has no zombie.
        let zombies = std::fs::read_dir("/proc").unwrap().filter_map(|e| {
            let stat = std::fs::read_to_string(e.ok()?.path().join("stat")).ok()?;
            let (_, after) = stat.rsplit_once(')')?;
            let mut f = after.split_whitespace();
            let state = f.next()?;
            let ppid: u32 = f.next()?.parse().ok()?;
            (state == "Z" && ppid == std::process::id()).then_some(())
        });
        assert_eq!(zombies.count(), 0);
        // With no player at all, a clear error.
        let _ = std::fs::remove_dir_all(std::env::var_os("FAKE_PLAYER_DIR").unwrap());
        assert!(matches!(play_beep(), Err(DesktopError::NoPlayer(_))));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn beep_plays_and_falls_back() {
        let bin = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let out = bin.path().join("played.log");
        // pw-play fails (no PipeWire running): aplay must get the file next.
        fake_player(
            bin.path(),
            "pw-play",
            r#"echo "pw-play $*" >> "$FAKE_PLAYER_OUT.tmp"; exit 1"#,
        );
        fake_player(
            bin.path(),
            "aplay",
            r#"echo "aplay $*" >> "$FAKE_PLAYER_OUT.tmp"; /bin/mv "$FAKE_PLAYER_OUT.tmp" "$FAKE_PLAYER_OUT""#,
        );
        crate::desktop::tests::run_child(
            "desktop::sound::tests::child_beep_with_fake_players",
            &[
                ("PATH", bin.path().as_os_str()),
                ("FAKE_PLAYER_DIR", bin.path().as_os_str()),
                ("FAKE_PLAYER_OUT", out.as_os_str()),
                ("XDG_CACHE_HOME", cache.path().as_os_str()),
            ],
            &[],
        );
    }
}
