//! The history database: every channel message and direct message this node
//! showed, in SQLite (bundled, WAL mode) in the data directory, with a
//! full-text index (FTS5) for search. Schema changes are numbered
//! migrations recorded in `PRAGMA user_version`.
//!
//! The store is written by one thread (the driver's writer, `net/writer.rs`) that commits each
//! batch of events *before* handing it to the client, so a message that was
//! shown is on disk even if the process is killed right after.

mod recover;
mod transfers;

pub use recover::Recovery;

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::protocol::{ChatMessage, DmState};
use crate::types::{Chat, MessageKind, MsgId, NodeId};

/// The file name of the database in the data directory.
pub const FILE_NAME: &str = "history.sqlite3";

/// The schema, one migration per entry; entry `i` takes the database from
/// version `i` to `i + 1`. Never edit a shipped entry: add one.
const MIGRATIONS: &[&str] = &[
    // 1: messages, their full-text index, and my direct messages' state.
    "CREATE TABLE message (
        id BLOB PRIMARY KEY,
        chat TEXT NOT NULL,
        sender BLOB NOT NULL,
        nick TEXT NOT NULL,
        kind INTEGER NOT NULL,
        body TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        hlc INTEGER NOT NULL,
        dm_state INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX message_chat ON message (chat, hlc, sender);
    CREATE TABLE message_text (seq INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE);
    CREATE VIRTUAL TABLE message_fts USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');",
    // 2: each sender's newest life and datagram counter (replay marks), and
    // the key first seen for each person (nick and host).
    "CREATE TABLE seen (node BLOB PRIMARY KEY, epoch INTEGER NOT NULL, counter INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE known_key (nick TEXT NOT NULL, host TEXT NOT NULL, key BLOB NOT NULL, PRIMARY KEY (nick, host)) WITHOUT ROWID;",
    // 3: a channel message's author key and signature (96 bytes), so it can
    // be handed on as history; NULL for direct messages and older rows.
    "ALTER TABLE message ADD COLUMN author BLOB;",
    // 4: file transfers, mine and offered to me (see `files::record`).
    "CREATE TABLE transfer (
        id BLOB NOT NULL,
        outgoing INTEGER NOT NULL,
        record TEXT NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (id, outgoing)
    ) WITHOUT ROWID;",
];

/// A page of a chat further back ([`Store::before`]).
const BEFORE_SQL: &str =
    "SELECT id, chat, sender, nick, kind, body, time_ms, hlc, dm_state, author FROM message
     WHERE chat = ?1 AND hlc <= ?2 ORDER BY hlc DESC, sender DESC LIMIT ?3";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("history database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A damaged database could not be moved aside.
    #[error("moving the damaged history database {path} aside")]
    Aside {
        /// The database.
        path: std::path::PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The database is newer than this program.
    #[error("history database has schema version {found}; this lanchat knows up to {known}")]
    TooNew {
        /// Its version.
        found: u32,
        /// Ours.
        known: u32,
    },
}

/// A message as stored: the message and, for my direct messages, its state.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    /// The message.
    pub message: ChatMessage,
    /// For my direct messages.
    pub dm_state: Option<DmState>,
}

/// The history database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// The data directory's lock, held while the database is open (the
    /// store's thread is the last of a node's to end).
    _lock: Option<std::sync::Arc<crate::identity::DirLock>>,
}

/// How a chat is written in the `chat` column: `#name` for a channel,
/// `@` and the other party's id for a direct chat.
fn chat_key(chat: &Chat) -> String {
    match chat {
        Chat::Channel(name) => name.clone(),
        Chat::Direct(id) => format!("@{id}"),
    }
}

fn parse_chat(key: &str) -> Option<Chat> {
    match key.strip_prefix('@') {
        Some(hex) => uuid::Uuid::parse_str(hex)
            .ok()
            .map(|u| Chat::Direct(NodeId(*u.as_bytes()))),
        None => Some(Chat::Channel(key.to_string())),
    }
}

fn kind_code(kind: MessageKind) -> i64 {
    match kind {
        MessageKind::Text => 0,
        MessageKind::Action => 1,
        MessageKind::Beep => 2,
        MessageKind::File => 3,
    }
}

fn kind_from(code: i64) -> MessageKind {
    match code {
        1 => MessageKind::Action,
        2 => MessageKind::Beep,
        3 => MessageKind::File,
        _ => MessageKind::Text,
    }
}

fn id16(bytes: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    if bytes.len() == 16 {
        out.copy_from_slice(bytes);
    }
    out
}

/// SQLite integers are signed; times and stamps are stored as such.
fn to_sql(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn from_sql(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// Opens (or creates) the database in `dir` and brings its schema up to
    /// date.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::setup(Connection::open(dir.join(FILE_NAME))?)
    }

    /// A database in memory (when the data directory cannot hold one; tests).
    pub fn in_memory() -> Result<Store, StoreError> {
        Store::setup(Connection::open_in_memory()?)
    }

    /// Holds the data directory's `lock` until the store is dropped.
    pub fn keep_locked(&mut self, lock: std::sync::Arc<crate::identity::DirLock>) {
        self._lock = Some(lock);
    }

    fn setup(conn: Connection) -> Result<Store, StoreError> {
        // WAL: readers do not block the writer; NORMAL sync: a commit
        // survives the process being killed (the OS has it), and only a
        // power cut can lose the last commits.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Store { conn, _lock: None };
        store.migrate()?;
        Ok(store)
    }

    /// Runs the migrations this database has not had yet.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let found: u32 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        let known = u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX);
        if found > known {
            return Err(StoreError::TooNew { found, known });
        }
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(version + 1).unwrap_or(i64::MAX),
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The schema version.
    pub fn version(&self) -> Result<u32, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// Replaces the replay marks with `marks`.
    pub fn save_seen(&mut self, marks: &[crate::node::Seen]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM seen", [])?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO seen (node, epoch, counter) VALUES (?1, ?2, ?3)")?;
            for m in marks {
                insert.execute(rusqlite::params![
                    &m.id.0[..],
                    to_sql(m.epoch),
                    to_sql(m.counter)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The replay marks saved last.
    pub fn seen(&self) -> Result<Vec<crate::node::Seen>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT node, epoch, counter FROM seen")?;
        let rows = stmt.query_map([], |row| {
            let node: Vec<u8> = row.get(0)?;
            Ok(crate::node::Seen {
                id: NodeId(id16(&node)),
                epoch: from_sql(row.get(1)?),
                counter: from_sql(row.get(2)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Opens a transaction for many small writes ([`Store::trust`]), so
    /// they cost one commit: a flood of new peers must not keep the writer
    /// (and so every event behind it) busy with a commit each.
    pub fn begin(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN")?;
        Ok(())
    }

    /// Commits what [`Store::begin`] opened.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    /// The key remembered for a person (nick and host), remembering `key`
    /// if none was: trust on first use. Returns the key known before, if it
    /// was another one. Between [`Store::begin`] and [`Store::commit`] many
    /// of these cost one commit.
    pub fn trust(
        &mut self,
        nick: &str,
        host: &str,
        key: &[u8; 32],
    ) -> Result<Option<[u8; 32]>, StoreError> {
        let known: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT key FROM known_key WHERE nick = ?1 AND host = ?2",
                rusqlite::params![nick, host],
                |row| row.get(0),
            )
            .optional()?;
        match known {
            Some(old) if old.as_slice() == key.as_slice() => Ok(None),
            Some(old) => {
                let mut k = [0u8; 32];
                if old.len() == 32 {
                    k.copy_from_slice(&old);
                }
                Ok(Some(k))
            }
            None => {
                self.conn.execute(
                    "INSERT INTO known_key (nick, host, key) VALUES (?1, ?2, ?3)",
                    rusqlite::params![nick, host, &key[..]],
                )?;
                Ok(None)
            }
        }
    }

    /// Accepts `key` as the person's from now on (the user checked it).
    pub fn retrust(&mut self, nick: &str, host: &str, key: &[u8; 32]) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO known_key (nick, host, key) VALUES (?1, ?2, ?3)",
            rusqlite::params![nick, host, &key[..]],
        )?;
        Ok(())
    }

    /// Stores a batch in one transaction: new messages (a message already
    /// stored is left as it is) and direct-message states. Returns the ids
    /// of the messages that were stored already.
    pub fn write(&mut self, batch: &[Write]) -> Result<Vec<MsgId>, StoreError> {
        let mut known = Vec::new();
        if batch.is_empty() {
            return Ok(known);
        }
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO message (id, chat, sender, nick, kind, body, time_ms, hlc, dm_state, author)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut text = tx.prepare_cached("INSERT INTO message_text (id) VALUES (?1)")?;
            let mut fts =
                tx.prepare_cached("INSERT INTO message_fts (rowid, body) VALUES (?1, ?2)")?;
            // Delivered is final: a late "queued" must not undo it.
            let mut state = tx.prepare_cached(
                "UPDATE message SET dm_state = ?2 WHERE id = ?1 AND dm_state IS NOT NULL AND dm_state != 2",
            )?;
            for write in batch {
                match write {
                    Write::Message(stored) => {
                        let m = &stored.message;
                        let added = insert.execute(params![
                            &m.id.0[..],
                            chat_key(&m.chat),
                            &m.from.0[..],
                            m.nick,
                            kind_code(m.kind),
                            m.text,
                            to_sql(m.time_ms),
                            to_sql(m.hlc),
                            stored.dm_state.map(|s| s as i64),
                            m.author.map(|a| a.to_bytes().to_vec()),
                        ])?;
                        if added == 1 {
                            text.execute(params![&m.id.0[..]])?;
                            let seq = tx.last_insert_rowid();
                            fts.execute(params![seq, m.text])?;
                        } else {
                            known.push(m.id);
                        }
                    }
                    Write::DmState { id, state: s } => {
                        state.execute(params![&id.0[..], *s as i64])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(known)
    }

    fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Stored>> {
        let id: Vec<u8> = row.get(0)?;
        let chat: String = row.get(1)?;
        let sender: Vec<u8> = row.get(2)?;
        let state: Option<i64> = row.get(8)?;
        let author: Option<Vec<u8>> = row.get(9)?;
        let Some(chat) = parse_chat(&chat) else {
            return Ok(None);
        };
        Ok(Some(Stored {
            message: ChatMessage {
                id: MsgId(id16(&id)),
                chat,
                from: NodeId(id16(&sender)),
                nick: row.get(3)?,
                kind: kind_from(row.get(4)?),
                text: row.get(5)?,
                time_ms: from_sql(row.get(6)?),
                hlc: from_sql(row.get(7)?),
                author: author.and_then(|a| crate::envelope::AuthorSig::from_bytes(&a)),
            },
            dm_state: state.map(|s| match s {
                2 => DmState::Delivered,
                1 => DmState::Queued,
                _ => DmState::Sending,
            }),
        }))
    }

    /// The newest `limit` messages of a chat, oldest first, in display
    /// order (`hlc`, then sender).
    pub fn newest(&self, chat: &Chat, limit: usize) -> Result<Vec<Stored>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, chat, sender, nick, kind, body, time_ms, hlc, dm_state, author FROM message
             WHERE chat = ?1 ORDER BY hlc DESC, sender DESC LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut out: Vec<Stored> = stmt
            .query_map(params![chat_key(chat), limit], Store::row)?
            .filter_map(|r| r.transpose())
            .collect::<Result<_, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// The newest `per_channel` messages of every channel stamped at or
    /// after `since_hlc`, each channel oldest first: what catch-up compares
    /// with peers after a restart. Channels are found by walking the chat
    /// index one key at a time, so the cost follows the channels and
    /// messages returned, not the size of the database.
    pub fn recent_channels(
        &self,
        per_channel: usize,
        since_hlc: u64,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let mut next_chat = self
            .conn
            .prepare_cached("SELECT chat FROM message WHERE chat > ?1 ORDER BY chat LIMIT 1")?;
        let mut newest = self.conn.prepare_cached(
            "SELECT id, chat, sender, nick, kind, body, time_ms, hlc, dm_state, author FROM message
             WHERE chat = ?1 AND hlc >= ?2 ORDER BY hlc DESC, sender DESC LIMIT ?3",
        )?;
        let limit = i64::try_from(per_channel).unwrap_or(i64::MAX);
        let since = i64::try_from(since_hlc).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        // Channel keys begin with '#', direct chats with '@' (which sorts
        // after it): start just below '#', stop at the first non-channel.
        let mut after = String::from("\"");
        while let Some(chat) = next_chat
            .query_row(params![after], |row| row.get::<_, String>(0))
            .optional()?
        {
            if !chat.starts_with('#') {
                break;
            }
            let mut found: Vec<ChatMessage> = newest
                .query_map(params![chat, since, limit], Store::row)?
                .filter_map(|r| r.transpose())
                .map(|r| r.map(|s| s.message))
                .collect::<Result<_, _>>()?;
            found.reverse();
            out.extend(found);
            after = chat;
        }
        Ok(out)
    }

    /// A page further back: the newest `limit` messages of a chat stamped
    /// at or before `hlc`, oldest first, in display order. Inclusive, so
    /// that messages sharing the stamp of the page after it are not
    /// skipped (see [`crate::api::Command::History`]). Walks the
    /// `message_chat` index backwards from the bound: a page costs the
    /// same at any depth.
    pub fn before(&self, chat: &Chat, hlc: u64, limit: usize) -> Result<Vec<Stored>, StoreError> {
        let mut stmt = self.conn.prepare_cached(BEFORE_SQL)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut out: Vec<Stored> = stmt
            .query_map(params![chat_key(chat), to_sql(hlc), limit], Store::row)?
            .filter_map(|r| r.transpose())
            .collect::<Result<_, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// My direct messages not yet delivered (sending or queued when the
    /// node last ran), oldest first: they go again at start.
    pub fn undelivered(&self) -> Result<Vec<Stored>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, chat, sender, nick, kind, body, time_ms, hlc, dm_state, author FROM message
             WHERE dm_state IN (0, 1) ORDER BY hlc ASC",
        )?;
        let out = stmt
            .query_map([], Store::row)?
            .filter_map(|r| r.transpose())
            .collect::<Result<_, _>>()?;
        Ok(out)
    }

    /// Messages whose text has all the words of `query` (any case, any
    /// script, accents ignored), the most recently stored first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Stored>, StoreError> {
        // Each word quoted, so what the user types is never FTS syntax.
        let words: Vec<String> = query
            .split_whitespace()
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        // The newest hits by index order (rows are numbered as they are
        // stored), so a word in half the database costs no more than a rare
        // one: FTS5 walks its rowids backwards and stops at the limit.
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id, m.chat, m.sender, m.nick, m.kind, m.body, m.time_ms, m.hlc, m.dm_state, m.author
             FROM (SELECT rowid FROM message_fts WHERE message_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2) f
             JOIN message_text t ON t.seq = f.rowid JOIN message m ON m.id = t.id
             ORDER BY t.seq DESC",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let out = stmt
            .query_map(params![words.join(" "), limit], Store::row)?
            .filter_map(|r| r.transpose())
            .collect::<Result<_, _>>()?;
        Ok(out)
    }

    /// Whether a message is stored.
    pub fn contains(&self, id: &MsgId) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM message WHERE id = ?1",
                params![&id.0[..]],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// How many messages are stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM message", [], |r| r.get(0))?;
        Ok(from_sql(n))
    }

    /// Drops messages older than `before_ms` (wall time), and then the oldest
    /// beyond `keep` messages. Returns how many went.
    pub fn prune(&mut self, before_ms: Option<u64>, keep: Option<u64>) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let mut gone = 0;
        if let Some(before) = before_ms {
            gone += Store::delete_where(&tx, "m.time_ms < ?1", to_sql(before))?;
        }
        if let Some(keep) = keep {
            let total: i64 = tx.query_row("SELECT count(*) FROM message", [], |r| r.get(0))?;
            let excess = total - to_sql(keep);
            if excess > 0 {
                let cut: Option<i64> = tx
                    .query_row(
                        "SELECT hlc FROM message ORDER BY hlc ASC LIMIT 1 OFFSET ?1",
                        params![excess - 1],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(cut) = cut {
                    gone += Store::delete_where(&tx, "m.hlc <= ?1", cut)?;
                }
            }
        }
        tx.commit()?;
        Ok(gone)
    }

    fn delete_where(
        tx: &rusqlite::Transaction<'_>,
        cond: &str,
        value: i64,
    ) -> Result<u64, StoreError> {
        tx.execute(
            &format!(
                "DELETE FROM message_fts WHERE rowid IN (SELECT t.seq FROM message_text t JOIN message m ON m.id = t.id WHERE {cond})"
            ),
            params![value],
        )?;
        tx.execute(
            &format!(
                "DELETE FROM message_text WHERE id IN (SELECT m.id FROM message m WHERE {cond})"
            ),
            params![value],
        )?;
        let n = tx.execute(
            &format!("DELETE FROM message AS m WHERE {cond}"),
            params![value],
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// One change to the store.
// Nearly every write is a message: boxing it would allocate for each.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// A message shown (received, or sent by me).
    Message(Stored),
    /// One of my direct messages changed state.
    DmState {
        /// Which.
        id: MsgId,
        /// Now.
        state: DmState,
    },
}

#[cfg(test)]
mod tests;
