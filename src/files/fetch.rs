//! Receiving an offer I accepted: one task per offer, which waits for a
//! free slot and for the sender to be online, connects, and fetches each
//! file from the last byte on disk. Everything written was authenticated
//! first ([`super::session`]), so what is on disk is good to resume from;
//! each file's SHA-256 is checked against the sender's at its end.
//!
//! A connection that stalls for [`STALL`] is dropped and made again (the
//! cable pulled, Wi-Fi gone): the task retries with back-off from 1 s to
//! [`MAX_BACKOFF`], at once when the sender comes back online, forever
//! until the transfer completes, fails for good, or is cancelled.
//!
//! Received into `<name>.part` (a file, or a folder for a folder offer)
//! beside the final name, renamed when all is verified, to a name no file
//! has (see [`super::names`]).

use std::io::{Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::hash::Sha256;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use super::manager::{Shared, lock};
use super::record::Incoming;
use super::serve::Meter;
use super::session::{self, Control, Entry, Frame, Reader, Refusal, SessionError, Writer};
use super::{Direction, FileDone, FileFailure, FileId, FileProgress, FileState, Flow, names};
use crate::files::FileEvent;

/// No byte for this long: the connection is dropped and made again.
pub(crate) const STALL: Duration = Duration::from_secs(5);
/// Time to connect and for the sender to answer.
const CONNECT_TIME: Duration = Duration::from_secs(5);
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often the record of an offer of many files is kept while bytes
/// come in. It holds every verified file's hash (64 bytes each), so it is
/// not rewritten with each progress report; resuming needs only what is on
/// disk and that list, and a crash loses at most this much of the count
/// of bytes carried. A smaller record is kept with each report.
const SAVE_MANY_EVERY: Duration = Duration::from_secs(5);
/// From this many files an offer's record counts as large.
const MANY_FILES: usize = 256;

/// How one attempt ended.
enum Attempt {
    /// Every file is here and verified.
    Done,
    /// It will not work (or was cancelled).
    Failed(FileFailure),
    /// Try again; `moved` if bytes came in this time.
    Again {
        /// Why it is waiting.
        flow: Flow,
        /// Whether the attempt got anywhere.
        moved: bool,
    },
}

/// Receives offer `id` until it is done, failed or cancelled.
pub(crate) async fn run(shared: Arc<Shared>, id: FileId, mut cancelled: watch::Receiver<bool>) {
    report(&shared, id, 0, Flow::Queued, None);
    let slots = Arc::clone(&shared.downloads_running);
    let _slot = tokio::select! {
        slot = slots.acquire_owned() => match slot {
            Ok(slot) => slot,
            Err(_) => return,
        },
        _ = cancelled.wait_for(|c| *c) => {
            abandon(&shared, id);
            return;
        }
    };
    let mut peers = shared.peers.subscribe();
    let mut backoff = Duration::from_secs(1);
    let mut meter = Meter::new();
    loop {
        // The attempt watches the switch itself, so that it can tell the
        // sender before it lets go of the connection.
        let outcome = attempt(&shared, id, &mut meter, &cancelled).await;
        match outcome {
            Attempt::Done => return,
            Attempt::Failed(FileFailure::Cancelled) => {
                abandon(&shared, id);
                return;
            }
            Attempt::Failed(reason) => {
                shared.fail_in(id, reason);
                return;
            }
            Attempt::Again { flow, moved } => {
                shared.update_in(id, |_| ());
                if moved {
                    backoff = Duration::from_secs(1);
                }
                report(&shared, id, meter.last_done, flow, None);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = peers.changed() => {}
                    _ = cancelled.wait_for(|c| *c) => {
                        abandon(&shared, id);
                        return;
                    }
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Tells the sender I decline (best effort: if it cannot be reached, the
/// offer just stays unanswered there).
pub(crate) async fn decline(shared: Arc<Shared>, id: FileId) {
    let Some(inc) = lock(&shared.incoming).get(&id).cloned() else {
        return;
    };
    let Some(addr) = sender_addr(&shared, &inc) else {
        return;
    };
    let told = tokio::time::timeout(CONNECT_TIME, async {
        let (_, _, mut writer) = open(&shared, &inc, addr).await?;
        writer.send(&Control::Decline { id }).await?;
        writer.close().await;
        Ok::<(), SessionError>(())
    })
    .await;
    if !matches!(told, Ok(Ok(()))) {
        tracing::debug!(%id, "could not tell the sender the offer was declined");
    }
}

fn sender_addr(shared: &Shared, inc: &Incoming) -> Option<SocketAddr> {
    let mut addr = *shared.peers.borrow().get(&inc.from)?;
    if shared.in_memory {
        addr = SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
    }
    addr.set_port(inc.offer.port);
    Some(addr)
}

async fn open(
    shared: &Shared,
    inc: &Incoming,
    addr: SocketAddr,
) -> Result<session::Halves<OwnedReadHalf, OwnedWriteHalf>, SessionError> {
    let stream = TcpStream::connect(addr).await?;
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    session::connect(read, write, &shared.keys, inc.from).await
}

/// Cancelled by me: what came so far is deleted.
fn abandon(shared: &Shared, id: FileId) {
    let part = lock(&shared.incoming)
        .get(&id)
        .and_then(|inc| inc.part.clone());
    if let Some(part) = part {
        let _ = if part.is_dir() {
            std::fs::remove_dir_all(&part)
        } else {
            std::fs::remove_file(&part)
        };
    }
    shared.fail_in(id, FileFailure::Cancelled);
}

fn report(shared: &Shared, id: FileId, done: u64, flow: Flow, meter: Option<&Meter>) {
    let Some((peer, total)) = lock(&shared.incoming)
        .get(&id)
        .map(|inc| (inc.from, inc.offer.size))
    else {
        return;
    };
    shared.emit(FileEvent::Progress(FileProgress {
        id,
        peer,
        direction: Direction::Down,
        done,
        total,
        rate: meter.map_or(0, |m| m.rate),
        eta_secs: meter.and_then(|m| m.eta(total)),
        flow,
    }));
}

async fn attempt(
    shared: &Shared,
    id: FileId,
    meter: &mut Meter,
    cancelled: &watch::Receiver<bool>,
) -> Attempt {
    let Some(inc) = lock(&shared.incoming).get(&id).cloned() else {
        return Attempt::Failed(FileFailure::Unavailable);
    };
    let Some(addr) = sender_addr(shared, &inc) else {
        return Attempt::Again {
            flow: Flow::SenderAway,
            moved: false,
        };
    };
    let opening = tokio::time::timeout(CONNECT_TIME, async {
        let (_, mut reader, mut writer) = open(shared, &inc, addr).await?;
        writer.send(&Control::Open { id }).await?;
        let answer = reader.control().await?;
        Ok::<_, SessionError>((reader, writer, answer))
    });
    let mut watching = cancelled.clone();
    let opened = tokio::select! {
        opened = opening => opened,
        _ = watching.wait_for(|c| *c) => return Attempt::Failed(FileFailure::Cancelled),
    };
    let (mut reader, mut writer, answer) = match opened {
        Ok(Ok(opened)) => opened,
        Ok(Err(err)) => {
            tracing::debug!(%id, %addr, cause = %err, "connecting to the sender failed");
            return again(false);
        }
        Err(_) => return again(false),
    };
    let entries = match answer {
        Control::Listing { entries } => entries,
        Control::Refuse(Refusal::Busy) => {
            return Attempt::Again {
                flow: Flow::Queued,
                moved: false,
            };
        }
        Control::Refuse(Refusal::Changed) => return Attempt::Failed(FileFailure::Changed),
        Control::Refuse(Refusal::Cancelled) => {
            return Attempt::Failed(FileFailure::CancelledByPeer);
        }
        Control::Refuse(Refusal::Unknown) => return Attempt::Failed(FileFailure::Unavailable),
        Control::Refuse(Refusal::NotForYou) => {
            return Attempt::Failed(FileFailure::Refused("the offer is for someone else".into()));
        }
        _ => return again(false),
    };
    let Some(paths) = checked(&inc, &entries) else {
        return Attempt::Failed(FileFailure::Refused(
            "the sender's list of files does not match the offer".into(),
        ));
    };
    let part = match prepare(shared, &inc) {
        Ok(part) => part,
        Err(err) => return Attempt::Failed(FileFailure::Disk(err.to_string())),
    };
    let mut fetch = Fetch {
        shared,
        id,
        entries: &entries,
        reader: &mut reader,
        writer: &mut writer,
        meter,
        cancelled: cancelled.clone(),
        moved: false,
        resumed: false,
        saved: std::time::Instant::now(),
        save_every: if entries.len() >= MANY_FILES {
            SAVE_MANY_EVERY
        } else {
            Duration::ZERO
        },
    };
    let got = fetch.files(&part, &paths, inc.verified.len()).await;
    let moved = fetch.moved;
    match got {
        Ok(()) => {}
        Err(Stop::Failed(reason)) => {
            // The sender stops waiting for this receiver too. Closing
            // with data unread would be a reset, which can lose the
            // Cancel: read on until the sender closes (briefly).
            let _ = writer.send(&Control::Cancel).await;
            writer.close().await;
            let drain = async { while reader.next().await.is_ok() {} };
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
            return Attempt::Failed(reason);
        }
        Err(Stop::Again) => return again(moved),
    }
    let _ = writer.send(&Control::Done).await;
    writer.close().await;
    finish(shared, id, &part, &entries);
    Attempt::Done
}

fn again(moved: bool) -> Attempt {
    Attempt::Again {
        flow: Flow::Reconnecting,
        moved,
    }
}

/// The listing's paths made safe, if it matches the offer.
fn checked(inc: &Incoming, entries: &[Entry]) -> Option<Vec<PathBuf>> {
    let count = u32::try_from(entries.len()).ok()?;
    let size = entries
        .iter()
        .try_fold(0u64, |sum, e| sum.checked_add(e.size))?;
    if count != inc.offer.files || size != inc.offer.size || inc.verified.len() > entries.len() {
        return None;
    }
    if !inc.offer.folder {
        return Some(vec![PathBuf::new()]);
    }
    let mut seen = std::collections::HashSet::new();
    let mut paths = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = names::relative(&entry.path)?;
        let file = name.file_name()?.to_string_lossy().into_owned();
        // Two paths that sanitise alike get numbers, never one file.
        let mut path = name.clone();
        let mut n = 1;
        while !seen.insert(path.clone()) {
            path = name.with_file_name(format!("{file} ({n})"));
            n += 1;
        }
        paths.push(path);
    }
    Some(paths)
}

/// The `.part` file or folder this offer is received into, made the first
/// time (and again if the user deleted it).
fn prepare(shared: &Shared, inc: &Incoming) -> std::io::Result<PathBuf> {
    if let Some(part) = &inc.part
        && part.exists()
    {
        return Ok(part.clone());
    }
    std::fs::create_dir_all(&shared.downloads)?;
    let name = format!("{}.part", names::leaf(&inc.offer.name));
    let part = names::create_unique(&shared.downloads, &name, inc.offer.folder)?;
    shared.update_in(inc.offer.id, |inc| {
        inc.part = Some(part.clone());
        inc.verified.clear();
    });
    Ok(part)
}

enum Stop {
    Failed(FileFailure),
    Again,
}

impl From<SessionError> for Stop {
    fn from(err: SessionError) -> Stop {
        tracing::debug!(cause = %err, "file connection dropped");
        Stop::Again
    }
}

struct Fetch<'a> {
    shared: &'a Shared,
    id: FileId,
    entries: &'a [Entry],
    reader: &'a mut Reader<OwnedReadHalf>,
    writer: &'a mut Writer<OwnedWriteHalf>,
    meter: &'a mut Meter,
    /// The user's cancel switch.
    cancelled: watch::Receiver<bool>,
    moved: bool,
    resumed: bool,
    /// When the record was last kept, and how often it is.
    saved: std::time::Instant,
    save_every: Duration,
}

impl Fetch<'_> {
    async fn files(&mut self, part: &Path, paths: &[PathBuf], from: usize) -> Result<(), Stop> {
        let before: u64 = self.entries[..from].iter().map(|e| e.size).sum();
        let mut done_before = before;
        let mut first = true;
        for (i, entry) in self.entries.iter().enumerate().skip(from) {
            // A single file is received into the part itself.
            let path = if paths[i].as_os_str().is_empty() {
                part.to_path_buf()
            } else {
                part.join(&paths[i])
            };
            let mut wrong = 0;
            loop {
                if *self.cancelled.borrow() {
                    return Err(Stop::Failed(FileFailure::Cancelled));
                }
                let (file, hasher, have) = open_part(&path, entry.size)
                    .await
                    .map_err(|e| Stop::Failed(FileFailure::Disk(e.to_string())))?;
                if first {
                    first = false;
                    self.meter.restart(done_before + have);
                    if done_before + have > 0 && !self.resumed {
                        self.resumed = true;
                        self.shared.update_in(self.id, |inc| inc.resumes += 1);
                    }
                }
                let index = u32::try_from(i).map_err(|_| Stop::Again)?;
                self.writer
                    .send(&Control::Get {
                        file: index,
                        offset: have,
                    })
                    .await?;
                match self
                    .one(file, hasher, have, entry.size, done_before)
                    .await?
                {
                    Some(sha) => {
                        self.shared.change_in(self.id, |inc| inc.verified.push(sha));
                        break;
                    }
                    None => {
                        // The hash did not match: that file again, from 0.
                        wrong += 1;
                        tracing::warn!(id = %self.id, file = %entry.path, "SHA-256 mismatch; fetching the file again");
                        let _ = std::fs::remove_file(&path);
                        if wrong >= 2 {
                            return Err(Stop::Failed(FileFailure::Corrupt));
                        }
                    }
                }
            }
            done_before += entry.size;
        }
        Ok(())
    }

    /// Receives one file from `have` to `size`; its hash if it matched.
    async fn one(
        &mut self,
        mut file: std::fs::File,
        mut hasher: Sha256,
        mut have: u64,
        size: u64,
        done_before: u64,
    ) -> Result<Option<String>, Stop> {
        loop {
            let frame = tokio::select! {
                frame = tokio::time::timeout(STALL, self.reader.next()) => {
                    frame.map_err(|_| Stop::Again)??
                }
                _ = self.cancelled.wait_for(|c| *c) => {
                    return Err(Stop::Failed(FileFailure::Cancelled));
                }
            };
            match frame {
                Frame::Data(bytes) => {
                    let len = bytes.len() as u64;
                    if have + len > size {
                        return Err(Stop::Again);
                    }
                    file.write_all(bytes)
                        .map_err(|e| Stop::Failed(FileFailure::Disk(e.to_string())))?;
                    hasher.update(bytes);
                    have += len;
                    self.moved = true;
                    self.shared.change_in(self.id, |inc| inc.carried += len);
                    if self.meter.tick(done_before + have) {
                        // Kept now and then, so a crash loses little of the count.
                        if self.saved.elapsed() >= self.save_every {
                            self.saved = std::time::Instant::now();
                            self.shared.update_in(self.id, |_| ());
                        }
                        report(
                            self.shared,
                            self.id,
                            done_before + have,
                            Flow::Active,
                            Some(self.meter),
                        );
                    }
                }
                Frame::Control(Control::End { sha256 }) => {
                    if have != size {
                        return Err(Stop::Again);
                    }
                    file.flush()
                        .and_then(|()| file.sync_data())
                        .map_err(|e| Stop::Failed(FileFailure::Disk(e.to_string())))?;
                    let mine: [u8; 32] = hasher.finalize();
                    return Ok((mine == sha256).then(|| hex::encode(mine)));
                }
                Frame::Control(Control::Cancel | Control::Refuse(Refusal::Cancelled)) => {
                    return Err(Stop::Failed(FileFailure::CancelledByPeer));
                }
                Frame::Control(Control::Refuse(Refusal::Changed)) => {
                    return Err(Stop::Failed(FileFailure::Changed));
                }
                Frame::Control(_) => return Err(Stop::Again),
            }
        }
    }
}

/// Opens a part file to go on writing, with the hash of what it holds.
async fn open_part(path: &Path, size: u64) -> std::io::Result<(std::fs::File, Sha256, u64)> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let mut have = file.metadata()?.len();
        if have > size {
            file.set_len(0)?;
            have = 0;
        }
        let mut hasher = Sha256::new();
        let hashed = std::io::copy(&mut (&mut file).take(have), &mut hasher)?;
        if hashed != have {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        }
        file.seek(SeekFrom::Start(have))?;
        Ok((file, hasher, have))
    })
    .await
    .map_err(|_| std::io::Error::other("stopped"))?
}

/// All verified: rename the part to a free final name and say so.
fn finish(shared: &Shared, id: FileId, part: &Path, entries: &[Entry]) {
    let Some(inc) = lock(&shared.incoming).get(&id).cloned() else {
        return;
    };
    let name = names::leaf(&inc.offer.name);
    let hashes: Vec<[u8; 32]> = inc.verified.iter().filter_map(|h| unhex(h)).collect();
    let sha256 = offer_hash(inc.offer.folder, entries, &hashes);
    let path = match names::settle(&shared.downloads, part, &name, inc.offer.folder) {
        Ok(path) => path,
        Err(err) => {
            shared.fail_in(id, FileFailure::Disk(err.to_string()));
            return;
        }
    };
    shared.update_in(id, |inc| {
        inc.state = FileState::Done {
            path: path.clone(),
            sha256: sha256.clone(),
        };
        inc.part = None;
    });
    shared.finished(id);
    shared.emit(FileEvent::Done(FileDone {
        id,
        peer: inc.from,
        direction: Direction::Down,
        path: Some(path),
        size: inc.offer.size,
        sha256,
        carried: inc.carried,
        resumes: inc.resumes,
    }));
}

/// The hash `file_done` reports: a file's own, or for a folder the hash
/// of its `sha256sum` listing (`<hash>  <path>\n` per file, in order).
pub(crate) fn offer_hash(folder: bool, entries: &[Entry], hashes: &[[u8; 32]]) -> String {
    if !folder {
        return hashes.first().map(hex::encode).unwrap_or_default();
    }
    let mut listing = Sha256::new();
    for (entry, hash) in entries.iter().zip(hashes) {
        listing.update(format!("{}  {}\n", hex::encode(hash), entry.path));
    }
    hex::encode(listing.finalize())
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_print_and_parse_back() {
        let mut hasher = Sha256::new();
        hasher.update(b"abc");
        let h = hasher.finalize();
        assert_eq!(
            hex::encode(h),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(unhex(&hex::encode(h)), Some(h));
    }
}
