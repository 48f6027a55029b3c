//! Who this installation is: the data directory, the key pair kept in it
//! (the node id is the public key's, see [`crate::envelope::PublicKey::id`]),
//! the epoch that grows at every start, and the default nick and host name
//! taken from the operating system.
//!
//! Files are written atomically (temp file, then rename), so a crash while
//! writing never leaves a half-written key behind. The key file is readable
//! by its owner only (on Unix; elsewhere it lives in the user's own profile).

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::envelope::Keys;
use crate::types::{MAX_HOST, MAX_NICK, NodeId, clip, valid_nick};

/// File holding the secret key, as 64 hex digits.
pub const KEY_FILE: &str = "identity.key";
/// File holding the last epoch, as a decimal number.
const EPOCH_FILE: &str = "epoch";
/// File whose OS lock says which process uses the data directory (it holds
/// that process's id, for the message the next one shows).
pub const LOCK_FILE: &str = "lock";
/// How long a start waits for a data directory in use to be freed.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Why the identity could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// No home directory is known, so there is no default data directory.
    #[error("no default data directory on this system; pass --data-dir")]
    NoDataDir,
    /// The data directory could not be created.
    #[error("creating data directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// A file could not be read.
    #[error("reading {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// A file could not be written.
    #[error("writing {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// Another process uses the data directory: two nodes with one
    /// identity would share one replay window and one database.
    #[error(
        "the data directory {path} is in use by another lanchat{}: quit it first, or give this one another --data-dir",
        pid.map(|p| format!(" (process {p})")).unwrap_or_default()
    )]
    InUse {
        /// The directory.
        path: PathBuf,
        /// The other process's id, when its lock file could be read.
        pid: Option<u32>,
    },
    /// The key file holds something that is not a key.
    #[error("{path} does not hold a key (64 hex digits); delete it to get a new identity")]
    BadKey {
        /// The file.
        path: PathBuf,
    },
    /// The system gave no randomness for a new key.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// This installation's identity for one run.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The data directory it was loaded from.
    pub data_dir: PathBuf,
    /// The installation's key pair.
    pub keys: Keys,
    /// Stable id of the installation (its key's).
    pub id: NodeId,
    /// This run's epoch, higher than every earlier run's.
    pub epoch: u64,
    /// The data directory's lock: no other process loads it while this or
    /// a clone of it lives.
    pub lock: Arc<DirLock>,
}

/// An OS lock (advisory on Unix, `LockFileEx` on Windows) on the data
/// directory's [`LOCK_FILE`], released when dropped or when the process
/// ends, however it ends.
#[derive(Debug)]
pub struct DirLock {
    _file: Option<fs::File>,
}

impl DirLock {
    /// Takes `dir` for this process, or says which process has it. A file
    /// system without locks (some network shares) is used unlocked, with a
    /// warning: better two processes there than none.
    pub fn take(dir: &Path) -> Result<DirLock, IdentityError> {
        let path = dir.join(LOCK_FILE);
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| IdentityError::Write {
                path: path.clone(),
                source,
            })?;
        // A lanchat that is just quitting (a restart of the network in
        // this process, or a window closed a moment ago) frees it soon.
        let give_up = std::time::Instant::now() + LOCK_WAIT;
        let mut tried = file.try_lock();
        while matches!(tried, Err(fs::TryLockError::WouldBlock))
            && std::time::Instant::now() < give_up
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
            tried = file.try_lock();
        }
        match tried {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let pid = fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| t.trim().parse().ok());
                return Err(IdentityError::InUse {
                    path: dir.to_path_buf(),
                    pid,
                });
            }
            Err(fs::TryLockError::Error(err)) => {
                tracing::warn!(path = %path.display(), cause = %err, "the data directory cannot be locked; a second lanchat on it would not be stopped");
                return Ok(DirLock { _file: None });
            }
        }
        // Mine now: my process id, for the message of the next one.
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.flush());
        Ok(DirLock { _file: Some(file) })
    }
}

/// The default data directory ([`crate::places::data_dir`]: the system's,
/// or beside the program in portable mode).
pub fn default_data_dir() -> Result<PathBuf, IdentityError> {
    crate::places::data_dir().ok_or(IdentityError::NoDataDir)
}

impl Identity {
    /// Loads (or creates) the identity in `data_dir` (the default directory
    /// when `None`) and starts a new epoch, which is stored before returning.
    pub fn load(data_dir: Option<&Path>) -> Result<Identity, IdentityError> {
        let data_dir = match data_dir {
            Some(dir) => dir.to_path_buf(),
            None => default_data_dir()?,
        };
        fs::create_dir_all(&data_dir).map_err(|source| IdentityError::CreateDir {
            path: data_dir.clone(),
            source,
        })?;
        // Before anything else in it is read or written.
        let lock = Arc::new(DirLock::take(&data_dir)?);
        let keys = load_or_create_keys(&data_dir)?;
        let epoch = next_epoch(&data_dir, unix_ms())?;
        Ok(Identity {
            data_dir,
            id: keys.id(),
            keys,
            epoch,
            lock,
        })
    }
}

fn load_or_create_keys(dir: &Path) -> Result<Keys, IdentityError> {
    let path = dir.join(KEY_FILE);
    match fs::read(&path) {
        Ok(bytes) => {
            let bytes = zeroize::Zeroizing::new(bytes);
            // Not even text: as damaged as a wrong length.
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| IdentityError::BadKey { path: path.clone() })?;
            let secret =
                parse_secret(text.trim()).ok_or(IdentityError::BadKey { path: path.clone() })?;
            owner_only(&path);
            Ok(Keys::from_secret(&secret))
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            let keys = Keys::generate().map_err(|e| IdentityError::Random(e.to_string()))?;
            let hex = hex::encode(keys.secret());
            write_atomic(
                &path,
                &format!("{}\n", zeroize::Zeroizing::new(hex).as_str()),
            )?;
            Ok(keys)
        }
        Err(source) => Err(IdentityError::Read { path, source }),
    }
}

fn parse_secret(text: &str) -> Option<zeroize::Zeroizing<[u8; 32]>> {
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text, secret.as_mut_slice()).ok()?;
    Some(secret)
}

/// Makes a file readable by its owner only (Unix); a key file that others
/// could read is tightened, with a warning.
#[cfg(unix)]
fn owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "key file was readable by others; made owner-only");
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
    }
}

#[cfg(not(unix))]
fn owner_only(_path: &Path) {}

/// Reads the last epoch, stores and returns `max(old + 1, now_ms)`. A missing
/// or unreadable number counts as 0, so a lost file still gives a higher
/// epoch than any earlier run (the clock has moved on).
fn next_epoch(dir: &Path, now_ms: u64) -> Result<u64, IdentityError> {
    let path = dir.join(EPOCH_FILE);
    let old = match fs::read(&path) {
        Ok(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .unwrap_or_else(|| {
                tracing::warn!(path = %path.display(), "epoch file is not a number; starting over");
                0
            }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => 0,
        Err(source) => return Err(IdentityError::Read { path, source }),
    };
    let epoch = old.saturating_add(1).max(now_ms);
    write_atomic(&path, &format!("{epoch}\n"))?;
    Ok(epoch)
}

/// The name a damaged file of the data directory is moved aside to: `path`
/// with `.damaged-` and the local date and time added (`-2`, `-3`… when
/// that is taken), so nothing is overwritten.
pub fn aside_name(path: &Path) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y-%m-%d-%H%M%S");
    let named = |suffix: String| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let mut aside = named(format!(".damaged-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = named(format!(".damaged-{stamp}-{n}"));
    }
    aside
}

/// Writes `text` to a temp file beside `path`, then renames it over `path`.
fn write_atomic(path: &Path, text: &str) -> Result<(), IdentityError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let wrap = |source| IdentityError::Write {
        path: path.to_path_buf(),
        source,
    };
    write_private(&tmp, text).map_err(wrap)?;
    fs::rename(&tmp, path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        wrap(source)
    })
}

/// Creates a file readable and writable by its owner only (on Unix).
/// Writes a file only its owner can read (on Unix; elsewhere the user's
/// profile directory is private already).
pub fn write_private(path: &Path, text: &str) -> io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A wall time (ms since the Unix epoch) in the local time zone; `None`
/// when it is out of chrono's range.
pub fn local_time(ms: u64) -> Option<chrono::DateTime<chrono::Local>> {
    use chrono::TimeZone as _;
    let ms = i64::try_from(ms).ok()?;
    chrono::Local.timestamp_millis_opt(ms).single()
}

/// A wall time formatted in the local time zone (`strftime` `format`);
/// empty when out of range.
pub fn format_local(ms: u64, format: &str) -> String {
    local_time(ms)
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

/// The default nick: the OS login name, cleaned to be a valid nick.
pub fn default_nick() -> String {
    let login = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()));
    clean_nick(login.as_deref().unwrap_or("user"))
}

/// Turns any text into a valid nick: spaces become `_`, characters a nick
/// may not have are dropped, and it is clipped to [`MAX_NICK`] bytes; "user"
/// if nothing is left.
pub fn clean_nick(raw: &str) -> String {
    let cleaned: String = raw
        .trim()
        .trim_start_matches('#')
        .chars()
        .filter_map(|c| match c {
            c if c.is_whitespace() => Some('_'),
            c if c.is_control() || c == ',' || c == '@' => None,
            c => Some(c),
        })
        .collect();
    let nick = clip(&cleaned, MAX_NICK);
    if valid_nick(&nick) {
        nick
    } else {
        "user".to_string()
    }
}

/// The host name: env `HOSTNAME` / `COMPUTERNAME`, else `/etc/hostname`, else
/// "unknown".
pub fn host_name() -> String {
    let from_env = ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok());
    let name = from_env
        .or_else(|| fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    clip(&name, MAX_HOST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "lanchat-identity-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn node_id_is_stable_and_epoch_grows() {
        let dir = TempDir::new();
        let first = Identity::load(Some(&dir.0)).unwrap();
        let (first_id, first_epoch, first_keys) = (first.id, first.epoch, first.keys.id());
        drop(first);
        let second = Identity::load(Some(&dir.0)).unwrap();
        assert_eq!(first_id, second.id);
        assert!(second.epoch > first_epoch);
        assert_eq!(first_id, first_keys);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.0.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        // No temp files are left behind.
        let names: Vec<_> = fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    /// While one identity of a directory lives, the directory is refused
    /// to a second load, with the holder's process id; free again once
    /// the first is gone, with the same id and a higher epoch.
    #[test]
    fn a_data_directory_in_use_is_refused_and_then_free() {
        let dir = TempDir::new();
        let first = Identity::load(Some(&dir.0)).unwrap();
        let clone = first.clone();
        drop(first);
        match Identity::load(Some(&dir.0)) {
            Err(IdentityError::InUse { path, pid }) => {
                assert_eq!(path, dir.0);
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("a second load: {other:?}"),
        }
        let message = IdentityError::InUse {
            path: dir.0.clone(),
            pid: Some(42),
        }
        .to_string();
        assert!(
            message.contains("in use by another lanchat (process 42)"),
            "{message}"
        );
        let (id, epoch) = (clone.id, clone.epoch);
        drop(clone);
        let again = Identity::load(Some(&dir.0)).unwrap();
        assert_eq!(again.id, id);
        assert!(again.epoch > epoch);
    }

    #[test]
    fn epoch_survives_a_lost_or_broken_file() {
        let dir = TempDir::new();
        fs::create_dir_all(&dir.0).unwrap();
        // A stored epoch far in the future still grows by one.
        fs::write(dir.0.join(EPOCH_FILE), "99999999999999\n").unwrap();
        assert_eq!(next_epoch(&dir.0, 5).unwrap(), 100_000_000_000_000);
        // A broken file restarts from the clock.
        fs::write(dir.0.join(EPOCH_FILE), "garbage").unwrap();
        assert_eq!(next_epoch(&dir.0, 1234).unwrap(), 1234);
        // A lost file too.
        fs::remove_file(dir.0.join(EPOCH_FILE)).unwrap();
        assert_eq!(next_epoch(&dir.0, 1235).unwrap(), 1235);
        assert_eq!(next_epoch(&dir.0, 10).unwrap(), 1236);
    }

    #[test]
    fn a_broken_key_is_an_error_not_a_new_identity() {
        let dir = TempDir::new();
        fs::create_dir_all(&dir.0).unwrap();
        fs::write(dir.0.join(KEY_FILE), "not a key").unwrap();
        assert!(matches!(
            Identity::load(Some(&dir.0)),
            Err(IdentityError::BadKey { .. })
        ));
    }

    #[test]
    fn nicks_are_cleaned() {
        assert_eq!(clean_nick("John Smith"), "John_Smith");
        assert_eq!(clean_nick("a,b@c"), "abc");
        assert_eq!(clean_nick("#root"), "root");
        assert_eq!(clean_nick(""), "user");
        assert_eq!(clean_nick(&"x".repeat(50)).len(), MAX_NICK);
        assert!(valid_nick(&default_nick()));
        assert!(!host_name().is_empty());
    }
}
