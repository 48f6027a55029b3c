//! A damaged history database (a disk error, a bad shutdown on a file
//! system without barriers, a copy gone wrong) is never silent and never the
//! end of history: at every start the database is checked (`PRAGMA
//! quick_check`, or the full `integrity_check` when the last run did not
//! close it), a damaged file is renamed aside with the date (nothing is
//! deleted), and what can still be read of it is copied into a fresh one.
//!
//! Messages are read in key order; where a damaged page stops the scan, the
//! scan jumps ahead in the key space (message ids are random 16-byte
//! values, spread evenly) to the first key that reads again, so one bad
//! page costs the messages on it, not the rest. The other tables (replay
//! marks, known keys, transfers) are copied as far as a plain scan reads.
//! What the peers still hold comes back by catch-up.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use super::{FILE_NAME, Store, StoreError, Stored, Write};

/// What was found and done at a start whose database was damaged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// Where the damaged file is now.
    pub moved_to: PathBuf,
    /// Messages copied into the fresh database.
    pub recovered: u64,
    /// What the check said.
    pub cause: String,
}

/// Messages read per query while the file reads well.
const CHUNK: usize = 256;

/// Whether `err` says the file is damaged (rather than, say, unwritable).
fn is_damage(err: &StoreError) -> bool {
    matches!(
        err,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}

/// The companion files SQLite keeps beside a database in WAL mode.
fn companions(path: &Path) -> [PathBuf; 2] {
    let with = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    [with("-wal"), with("-shm")]
}

impl Store {
    /// Opens the database in `dir` like [`Store::open`], after checking it:
    /// a damaged one is moved aside and what reads of it is carried into a
    /// fresh one, which is returned with what was done.
    pub fn open_checked(dir: &Path) -> Result<(Store, Option<Recovery>), StoreError> {
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            return Ok((Store::open(dir)?, None));
        }
        // A write-ahead log left behind: the last run did not close the
        // database (a crash, a power cut), so the whole file is checked.
        let crashed = companions(&path)[0].exists();
        let cause = match Store::open(dir) {
            Ok(store) => match store.check(crashed) {
                Ok(None) => return Ok((store, None)),
                Ok(Some(cause)) => cause,
                Err(err) if is_damage(&err) => err.to_string(),
                Err(err) => return Err(err),
            },
            Err(err) if is_damage(&err) => err.to_string(),
            Err(err) => return Err(err),
        };
        tracing::warn!(%cause, "the history database is damaged; moving it aside and recovering it");
        let moved_to = move_aside(&path)?;
        let mut store = Store::open(dir)?;
        let recovered = store.salvage(&moved_to);
        tracing::warn!(recovered, moved_to = %moved_to.display(), "history recovered");
        Ok((
            store,
            Some(Recovery {
                moved_to,
                recovered,
                cause,
            }),
        ))
    }

    /// What SQLite's check finds wrong, if anything (`full`: the complete
    /// integrity check, else the quick one).
    fn check(&self, full: bool) -> Result<Option<String>, StoreError> {
        let pragma = if full {
            "PRAGMA integrity_check(20)"
        } else {
            "PRAGMA quick_check(20)"
        };
        let mut stmt = self.conn.prepare(pragma)?;
        let found: Vec<String> = stmt
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok((found != ["ok"]).then(|| found.join("; ")))
    }

    /// Copies what reads of the damaged database at `old` into this one;
    /// returns how many messages.
    fn salvage(&mut self, old: &Path) -> u64 {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let Ok(old) = Connection::open_with_flags(old, flags) else {
            return 0;
        };
        let messages = self.salvage_messages(&old);
        for (table, columns) in [
            ("seen", "node, epoch, counter"),
            ("known_key", "nick, host, key"),
            ("transfer", "id, outgoing, record, updated_ms"),
        ] {
            self.salvage_table(&old, table, columns);
        }
        messages
    }

    /// The messages of `old`, in key order, jumping over what does not read.
    fn salvage_messages(&mut self, old: &Connection) -> u64 {
        let mut copied = 0;
        // Keys below `from` are done (read, or given up as damaged).
        let mut from: Option<u128> = Some(0);
        while let Some(start) = from {
            let (rows, failed) = read_from(old, start, CHUNK);
            let last = rows.last().map(|(key, _)| *key);
            let batch: Vec<Write> = rows
                .into_iter()
                .map(|(_, stored)| Write::Message(stored))
                .collect();
            if let Ok(known) = self.write(&batch) {
                copied += (batch.len() - known.len()) as u64;
            }
            from = match (failed, last) {
                // Read to the end.
                (false, None) => None,
                (false, Some(key)) => key.checked_add(1),
                // A damaged page after the last key read (or at `start`).
                (true, last) => {
                    let damaged_at = last.map_or(Some(start), |k| k.checked_add(1));
                    damaged_at.and_then(|at| next_readable(old, at))
                }
            };
        }
        copied
    }

    /// The rows of `table` that a plain scan reads before the damage.
    fn salvage_table(&mut self, old: &Connection, table: &str, columns: &str) {
        let Ok(mut stmt) = old.prepare(&format!("SELECT {columns} FROM {table}")) else {
            return;
        };
        let width = columns.split(',').count();
        let Ok(mut rows) = stmt.query([]) else {
            return;
        };
        let marks = vec!["?"; width].join(", ");
        let insert = format!("INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})");
        while let Ok(Some(row)) = rows.next() {
            let values: Result<Vec<rusqlite::types::Value>, _> =
                (0..width).map(|i| row.get(i)).collect();
            let Ok(values) = values else { break };
            let _ = self
                .conn
                .execute(&insert, rusqlite::params_from_iter(values));
        }
    }
}

/// Renames the damaged file (and its write-ahead log, which holds its last
/// commits) aside, with the date and time; returns the new name.
fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let aside = crate::identity::aside_name(path);
    let io = |source: std::io::Error| StoreError::Aside {
        path: path.to_path_buf(),
        source,
    };
    std::fs::rename(path, &aside).map_err(io)?;
    for (from, to) in companions(path).into_iter().zip(companions(&aside)) {
        if from.exists() {
            std::fs::rename(&from, &to).map_err(io)?;
        }
    }
    Ok(aside)
}

/// A message id as a number, in the order SQLite sorts the blobs.
fn key_of(id: &[u8]) -> Option<u128> {
    Some(u128::from_be_bytes(id.try_into().ok()?))
}

/// Up to `limit` messages with keys from `start` on, in key order, and
/// whether the read stopped at damage.
fn read_from(old: &Connection, start: u128, limit: usize) -> (Vec<(u128, Stored)>, bool) {
    let mut out = Vec::new();
    let Ok(mut stmt) = old.prepare_cached(
        "SELECT id, chat, sender, nick, kind, body, time_ms, hlc, dm_state, author FROM message
         WHERE id >= ?1 ORDER BY id LIMIT ?2",
    ) else {
        return (out, true);
    };
    let Ok(mut rows) = stmt.query(params![&start.to_be_bytes()[..], limit as i64]) else {
        return (out, true);
    };
    loop {
        match rows.next() {
            Ok(None) => return (out, false),
            Ok(Some(row)) => {
                let id: Option<Vec<u8>> = row.get(0).ok();
                match (id.as_deref().and_then(key_of), Store::row(row)) {
                    (Some(key), Ok(Some(stored))) => out.push((key, stored)),
                    // A row of another shape: skipped, the scan goes on.
                    (Some(_), _) => {}
                    (None, _) => return (out, true),
                }
            }
            Err(_) => return (out, true),
        }
    }
}

/// Whether a read from `key` gets past the damage (finds a row, or the end).
fn reads(old: &Connection, key: u128) -> bool {
    !read_from(old, key, 1).1
}

/// The first key from `damaged` on where reading works again, if any:
/// steps doubling in size find a key that reads, then halving steps find
/// the first such key after the last one that does not.
fn next_readable(old: &Connection, damaged: u128) -> Option<u128> {
    let mut bad = damaged;
    let mut step: u128 = 1;
    let good = loop {
        let probe = damaged.checked_add(step)?;
        if reads(old, probe) {
            break probe;
        }
        bad = probe;
        step = step.checked_mul(2)?;
    };
    let (mut bad, mut good) = (bad, good);
    while good - bad > 1 {
        let mid = bad + (good - bad) / 2;
        if reads(old, mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Some(good)
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write as _};

    use super::*;
    use crate::protocol::ChatMessage;
    use crate::types::{Chat, MessageKind, MsgId, NodeId};

    fn message(n: u32) -> Write {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_be_bytes());
        id[12..].copy_from_slice(&n.to_be_bytes());
        Write::Message(Stored {
            message: ChatMessage {
                id: MsgId(id),
                chat: Chat::Channel("#Main".into()),
                from: NodeId([7; 16]),
                nick: "anna".into(),
                kind: MessageKind::Text,
                text: format!("message {n} {}", "x".repeat(150)),
                time_ms: u64::from(n),
                hlc: u64::from(n) << 16,
                author: None,
            },
            dm_state: None,
        })
    }

    /// `n` messages written and the database closed.
    fn history(dir: &Path, n: u32) {
        let mut store = Store::open(dir).expect("open");
        let batch: Vec<Write> = (0..n).map(message).collect();
        store.write(&batch).expect("write");
    }

    /// Overwrites `len` bytes of the database at `at` (a fraction of it).
    fn damage(dir: &Path, at: f64, len: usize) {
        let path = dir.join(FILE_NAME);
        let size = std::fs::metadata(&path).expect("size").len();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open");
        file.seek(SeekFrom::Start((size as f64 * at) as u64 / 4096 * 4096))
            .expect("seek");
        let junk: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
        file.write_all(&junk).expect("write");
    }

    fn damaged_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".damaged-"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_sound_database_opens_as_it_is() {
        let dir = tempfile::tempdir().expect("dir");
        history(dir.path(), 100);
        let (store, recovery) = Store::open_checked(dir.path()).expect("open");
        assert_eq!(recovery, None);
        assert_eq!(store.count().expect("count"), 100);
        assert!(damaged_files(dir.path()).is_empty());
    }

    /// Pages overwritten in the middle: the file is moved aside whole, the
    /// messages on sound pages come back, the fresh database takes new ones
    /// and opens sound at the next start.
    #[test]
    fn a_database_damaged_in_the_middle_is_moved_aside_and_recovered() {
        const N: u32 = 3_000;
        let dir = tempfile::tempdir().expect("dir");
        history(dir.path(), N);
        let size = std::fs::metadata(dir.path().join(FILE_NAME))
            .expect("size")
            .len();
        damage(dir.path(), 0.3, 3 * 4096);
        let (mut store, recovery) = Store::open_checked(dir.path()).expect("open");
        let recovery = recovery.expect("the damage is found");
        assert!(!recovery.cause.is_empty());
        assert_eq!(
            damaged_files(dir.path()).len(),
            1,
            "{:?}",
            damaged_files(dir.path())
        );
        assert!(recovery.moved_to.exists());
        assert_eq!(
            std::fs::metadata(&recovery.moved_to).expect("aside").len(),
            size,
            "moved aside whole"
        );
        let got = store.count().expect("count");
        assert_eq!(got, recovery.recovered);
        // 3 pages hold about 20 messages.
        assert!(
            got >= u64::from(N) * 95 / 100,
            "only {got} of {N} recovered"
        );
        println!(
            "recovered {got} of {N} after 3 pages of {} overwritten",
            size / 4096
        );
        // What came back reads, in order, and is searchable.
        let newest = store
            .newest(&Chat::Channel("#Main".into()), 5)
            .expect("newest");
        assert_eq!(newest.len(), 5);
        assert!(!store.search("message", 10).expect("search").is_empty());
        // New history is saved again at once, and survives the next start.
        store.write(&[message(N + 1)]).expect("write");
        drop(store);
        let (store, recovery) = Store::open_checked(dir.path()).expect("reopen");
        assert_eq!(recovery, None);
        assert_eq!(store.count().expect("count"), got + 1);
    }

    /// A file whose head is gone is not a database at all: moved aside,
    /// nothing recovered, a fresh database in its place.
    #[test]
    fn a_file_that_is_no_database_is_moved_aside() {
        let dir = tempfile::tempdir().expect("dir");
        history(dir.path(), 50);
        damage(dir.path(), 0.0, 4096);
        let (store, recovery) = Store::open_checked(dir.path()).expect("open");
        let recovery = recovery.expect("the damage is found");
        assert_eq!(recovery.recovered, 0);
        assert_eq!(store.count().expect("count"), 0);
        assert_eq!(damaged_files(dir.path()).len(), 1);
    }

    /// Damage over a whole stretch of keys: the scan jumps it and reads on.
    #[test]
    fn the_scan_jumps_over_damage_to_the_keys_after_it() {
        const N: u32 = 3_000;
        let dir = tempfile::tempdir().expect("dir");
        history(dir.path(), N);
        damage(dir.path(), 0.1, 4096);
        damage(dir.path(), 0.5, 2 * 4096);
        damage(dir.path(), 0.8, 4096);
        let (store, recovery) = Store::open_checked(dir.path()).expect("open");
        let recovery = recovery.expect("the damage is found");
        let got = store.count().expect("count");
        assert_eq!(got, recovery.recovered);
        assert!(got >= u64::from(N) * 7 / 10, "only {got} of {N} recovered");
    }
}
