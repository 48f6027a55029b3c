//! Serving my offers: the TCP listener and one task per connection.
//!
//! A connection proves who it is ([`super::session`]), names an offer it
//! knows the id of, and then asks for files one at a time from an offset:
//! the file is hashed from its start (so the SHA-256 at the end covers all
//! of it, also after a resume) and sent from the offset. Limits: at most
//! [`HANDSHAKES`] connections that have not proven themselves, each given
//! [`HANDSHAKE_TIME`]; at most `max_uploads` transfers at once (more are
//! told to come back); a stalled receiver is dropped after [`STALL`].

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::hash::Sha256;
use tokio::net::TcpListener;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Semaphore, mpsc, watch};

use super::manager::{Shared, lock};
use super::record::Outgoing;
use super::session::{self, CHUNK, Control, Refusal, SessionError, Writer};
use super::{Answer, Direction, FileDone, FileFailed, FileFailure, FileId, FileProgress, Flow};
use crate::files::FileEvent;
use crate::identity::unix_ms;
use crate::types::NodeId;

/// Connections at once that have not yet proven who they are.
pub(crate) const HANDSHAKES: usize = 32;
/// Time a new connection has to prove who it is and name an offer.
pub(crate) const HANDSHAKE_TIME: Duration = Duration::from_secs(10);
/// A connection that takes nothing for this long is dropped.
pub(crate) const STALL: Duration = Duration::from_secs(30);
/// A connection that asks for nothing for this long is dropped.
const IDLE: Duration = Duration::from_secs(120);
/// How often progress is reported.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Opens the listening socket: `port` if free, else any; both IPv6 and
/// IPv4 where the system allows (IPv4 only where it has no IPv6). On
/// loopback only for a node on an in-process LAN.
pub(crate) fn listen(port: u16, in_memory: bool) -> std::io::Result<std::net::TcpListener> {
    if in_memory {
        let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        return Ok(listener);
    }
    bind_either(port).or_else(|_| bind_either(0))
}

/// Opens what it can of `ports` (each exactly; one that is taken is left).
pub(crate) fn listen_also(ports: &[u16]) -> Vec<std::net::TcpListener> {
    ports
        .iter()
        .filter_map(|&port| match bind_either(port) {
            Ok(listener) => {
                tracing::debug!(port, "serving earlier offers on their port too");
                Some(listener)
            }
            Err(err) => {
                tracing::debug!(port, cause = %err, "an earlier offer's port is taken");
                None
            }
        })
        .collect()
}

/// `port` on IPv6 and IPv4 together, or on IPv4 only where the system has
/// no IPv6.
fn bind_either(port: u16) -> std::io::Result<std::net::TcpListener> {
    bind(port, true).or_else(|_| bind(port, false))
}

fn bind(port: u16, v6: bool) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let (domain, addr): (Domain, SocketAddr) = if v6 {
        (Domain::IPV6, (Ipv6Addr::UNSPECIFIED, port).into())
    } else {
        (Domain::IPV4, (std::net::Ipv4Addr::UNSPECIFIED, port).into())
    };
    let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    if v6 {
        socket.set_only_v6(false)?;
    }
    // Not SO_REUSEADDR on Windows: there it lets a second node take the port.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Accepts connections until the runtime stops.
pub(crate) async fn run(shared: Arc<Shared>, listener: TcpListener) {
    let handshakes = Arc::new(Semaphore::new(HANDSHAKES));
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::debug!(cause = %err, "accepting a file connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&handshakes).try_acquire_owned() else {
            tracing::debug!(%from, "too many file connections being opened; dropped");
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            if let Err(err) = serve(&shared, stream, permit).await {
                tracing::debug!(%from, cause = %err, "file connection ended");
            }
        });
    }
}

/// What a served transfer knows of its own progress.
struct Upload {
    id: FileId,
    peer: NodeId,
    total: u64,
    /// Where each file starts in the offer's bytes.
    starts: Vec<u64>,
    meter: Meter,
    carried: u64,
    hashes: HashMap<usize, [u8; 32]>,
    /// Set when I withdraw the offer.
    withdrawn: watch::Receiver<bool>,
}

async fn serve(
    shared: &Arc<Shared>,
    stream: tokio::net::TcpStream,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), SessionError> {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let opened = tokio::time::timeout(HANDSHAKE_TIME, async {
        let (peer, mut reader, writer) = session::accept(read, write, &shared.keys).await?;
        let first = reader.control().await?;
        Ok::<_, SessionError>((peer, reader, writer, first))
    })
    .await
    .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    drop(permit);
    let (peer, mut reader, mut writer, first) = opened;
    let peer = peer.id();
    let id = match first {
        Control::Open { id } => id,
        Control::Decline { id } => {
            let offered = lock(&shared.outgoing)
                .get(&id)
                .is_some_and(|out| allowed(out, peer).is_ok());
            if offered {
                shared.answered(id, peer, Answer::Failed(FileFailure::Declined));
                shared.emit(FileEvent::Failed(FileFailed {
                    id,
                    peer: Some(peer),
                    direction: Direction::Up,
                    reason: FileFailure::Declined,
                }));
            }
            return Ok(());
        }
        _ => return Err(SessionError::Malformed),
    };
    let withdrawn = shared.withdrawal(id);
    let out = lock(&shared.outgoing).get(&id).cloned();
    let out = match out
        .ok_or(Refusal::Unknown)
        .and_then(|out| allowed(&out, peer).map(|()| out))
    {
        Ok(out) => out,
        Err(refusal) => {
            writer.send(&Control::Refuse(refusal)).await?;
            writer.close().await;
            return Ok(());
        }
    };
    let Ok(_slot) = Arc::clone(&shared.uploads).try_acquire_owned() else {
        writer.send(&Control::Refuse(Refusal::Busy)).await?;
        writer.close().await;
        return Ok(());
    };
    writer
        .send(&Control::Listing {
            entries: out.entries.clone(),
        })
        .await?;
    // The requests come on their own task, so a Cancel is seen while a
    // file streams.
    let (requests_tx, mut requests) = mpsc::channel(4);
    tokio::spawn(async move {
        while let Ok(control) = reader.control().await {
            if requests_tx.send(control).await.is_err() {
                break;
            }
        }
    });
    let mut starts = Vec::with_capacity(out.entries.len());
    let mut at = 0u64;
    for entry in &out.entries {
        starts.push(at);
        at += entry.size;
    }
    let mut up = Upload {
        id,
        peer,
        total: out.offer.size,
        starts,
        meter: Meter::new(),
        carried: 0,
        hashes: HashMap::new(),
        withdrawn,
    };
    loop {
        let request = tokio::time::timeout(IDLE, requests.recv()).await;
        match request {
            Ok(Some(Control::Get { file, offset })) => {
                let sent = send_file(
                    shared,
                    &out,
                    &mut up,
                    &mut writer,
                    &mut requests,
                    file,
                    offset,
                )
                .await;
                match sent {
                    Ok(Sent::Whole) => {}
                    Ok(Sent::Stopped(reason)) => {
                        report_failed(shared, &up, reason);
                        return Ok(());
                    }
                    Err(err) => {
                        // A receiver that cancels closes at once: its
                        // Cancel may be behind the failed write.
                        let late =
                            tokio::time::timeout(Duration::from_millis(300), requests.recv());
                        if let Ok(Some(Control::Cancel)) = late.await {
                            report_failed(shared, &up, FileFailure::CancelledByPeer);
                            return Ok(());
                        }
                        report_progress(shared, &up, 0, Flow::Reconnecting);
                        return Err(err);
                    }
                }
            }
            Ok(Some(Control::Done)) => {
                shared.answered(id, peer, Answer::Received);
                let sha256 = listing_hash(&out, &up.hashes);
                shared.emit(FileEvent::Done(FileDone {
                    id,
                    peer,
                    direction: Direction::Up,
                    path: None,
                    size: out.offer.size,
                    sha256,
                    carried: up.carried,
                    resumes: 0,
                }));
                return Ok(());
            }
            Ok(Some(Control::Cancel)) => {
                report_failed(shared, &up, FileFailure::CancelledByPeer);
                return Ok(());
            }
            Ok(Some(_)) => return Err(SessionError::Malformed),
            Ok(None) | Err(_) => {
                report_progress(shared, &up, 0, Flow::Reconnecting);
                return Ok(());
            }
        }
    }
}

/// Whether `peer` may fetch `out`.
fn allowed(out: &Outgoing, peer: NodeId) -> Result<(), Refusal> {
    if out.cancelled {
        return Err(Refusal::Cancelled);
    }
    if out.expired(unix_ms()) {
        return Err(Refusal::Unknown);
    }
    match out.recipient() {
        Some(to) if to != peer => Err(Refusal::NotForYou),
        _ => Ok(()),
    }
}

enum Sent {
    /// The file went out, and its hash.
    Whole,
    /// The transfer ends.
    Stopped(FileFailure),
}

async fn send_file(
    shared: &Arc<Shared>,
    out: &Outgoing,
    up: &mut Upload,
    writer: &mut Writer<OwnedWriteHalf>,
    requests: &mut mpsc::Receiver<Control>,
    file: u32,
    offset: u64,
) -> Result<Sent, SessionError> {
    let index = file as usize;
    let (Some(entry), Some(path)) = (out.entries.get(index), out.path_of(index)) else {
        return Err(SessionError::Malformed);
    };
    let size = entry.size;
    let opened = std::fs::File::open(&path).and_then(|f| f.metadata().map(|m| (f, m.len())));
    let mut source = match opened {
        Ok((source, len)) if len == size && offset <= size => source,
        _ => {
            writer.send(&Control::Refuse(Refusal::Changed)).await?;
            writer.close().await;
            return Ok(Sent::Stopped(FileFailure::Changed));
        }
    };
    // Hash what the receiver has already, off the async workers.
    let hashed = tokio::task::spawn_blocking(move || {
        let mut hasher = Sha256::new();
        let copied = std::io::copy(&mut (&mut source).take(offset), &mut hasher)?;
        if copied != offset {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        }
        source.seek(SeekFrom::Start(offset))?;
        Ok((source, hasher))
    })
    .await
    .map_err(|_| std::io::Error::other("hashing stopped"))?;
    let Ok((mut source, mut hasher)) = hashed else {
        writer.send(&Control::Refuse(Refusal::Changed)).await?;
        return Ok(Sent::Stopped(FileFailure::Changed));
    };
    let mut buf = vec![0u8; CHUNK];
    let mut at = offset;
    while at < size {
        match requests.try_recv() {
            Ok(Control::Cancel) => return Ok(Sent::Stopped(FileFailure::CancelledByPeer)),
            Ok(_) => return Err(SessionError::Malformed),
            Err(_) => {}
        }
        if *up.withdrawn.borrow() {
            writer.send(&Control::Refuse(Refusal::Cancelled)).await?;
            writer.close().await;
            return Ok(Sent::Stopped(FileFailure::Cancelled));
        }
        let want = usize::try_from((size - at).min(CHUNK as u64)).unwrap_or(CHUNK);
        let got = match source.read(&mut buf[..want]) {
            Ok(0) | Err(_) => {
                writer.send(&Control::Refuse(Refusal::Changed)).await?;
                writer.close().await;
                return Ok(Sent::Stopped(FileFailure::Changed));
            }
            Ok(got) => got,
        };
        hasher.update(&buf[..got]);
        tokio::time::timeout(STALL, writer.data(&buf[..got]))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        at += got as u64;
        up.carried += got as u64;
        let done = up.starts[index] + at;
        if up.meter.tick(done) {
            report_progress(shared, up, done, Flow::Active);
        }
    }
    let sha256: [u8; 32] = hasher.finalize();
    up.hashes.insert(index, sha256);
    writer.send(&Control::End { sha256 }).await?;
    Ok(Sent::Whole)
}

fn report_progress(shared: &Shared, up: &Upload, done: u64, flow: Flow) {
    let done = if flow == Flow::Active {
        done
    } else {
        up.meter.last_done
    };
    shared.emit(FileEvent::Progress(FileProgress {
        id: up.id,
        peer: up.peer,
        direction: Direction::Up,
        done,
        total: up.total,
        rate: if flow == Flow::Active {
            up.meter.rate
        } else {
            0
        },
        eta_secs: up.meter.eta(up.total),
        flow,
    }));
}

fn report_failed(shared: &Shared, up: &Upload, reason: FileFailure) {
    // My withdrawal is kept with the offer itself.
    if reason != FileFailure::Cancelled {
        shared.answered(up.id, up.peer, Answer::Failed(reason.clone()));
    }
    shared.emit(FileEvent::Failed(FileFailed {
        id: up.id,
        peer: Some(up.peer),
        direction: Direction::Up,
        reason,
    }));
}

/// The SHA-256 of a single file, or of a folder's `sha256sum` listing;
/// empty when this connection did not see every file whole.
fn listing_hash(out: &Outgoing, hashes: &HashMap<usize, [u8; 32]>) -> String {
    let all: Option<Vec<[u8; 32]>> = (0..out.entries.len())
        .map(|i| hashes.get(&i).copied())
        .collect();
    match all {
        Some(all) => super::fetch::offer_hash(out.offer.folder, &out.entries, &all),
        None => String::new(),
    }
}

/// Measures a transfer's speed and says when to report it.
#[derive(Debug)]
pub(crate) struct Meter {
    last_report: Instant,
    window_start: Instant,
    window_done: u64,
    /// Bytes done at the last tick.
    pub(crate) last_done: u64,
    /// Bytes a second (smoothed).
    pub(crate) rate: u64,
}

impl Meter {
    /// A meter starting now.
    pub(crate) fn new() -> Meter {
        let now = Instant::now();
        Meter {
            last_report: now,
            window_start: now,
            window_done: 0,
            last_done: 0,
            rate: 0,
        }
    }

    /// Starts measuring again from `done` (a new connection).
    pub(crate) fn restart(&mut self, done: u64) {
        let now = Instant::now();
        self.window_start = now;
        self.window_done = done;
        self.last_done = done;
    }

    /// Notes that `done` bytes are done; true when it is time to report.
    pub(crate) fn tick(&mut self, done: u64) -> bool {
        if self.window_done == 0 && self.last_done == 0 {
            self.window_done = done;
        }
        self.last_done = done;
        let now = Instant::now();
        let span = now.duration_since(self.window_start);
        if span >= Duration::from_millis(250) {
            let bytes = done.saturating_sub(self.window_done);
            let fresh = (bytes as f64 / span.as_secs_f64()) as u64;
            self.rate = if self.rate == 0 {
                fresh
            } else {
                (self.rate * 3 + fresh) / 4
            };
            self.window_start = now;
            self.window_done = done;
        }
        if now.duration_since(self.last_report) >= PROGRESS_EVERY {
            self.last_report = now;
            return true;
        }
        false
    }

    /// Seconds left to reach `total` at the current rate.
    pub(crate) fn eta(&self, total: u64) -> Option<u64> {
        (self.rate > 0).then(|| total.saturating_sub(self.last_done) / self.rate)
    }
}
