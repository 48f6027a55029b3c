//! The file runtime: a thread ("lanchat-files") with a tokio runtime of
//! its own (two workers), so hashing, encryption and disk writes never
//! hold up the chat's thread. The driver hands it [`Order`]s and gets
//! [`Ask`]s back (send this offer as a chat message); events and records
//! go straight to the store's thread, in order with the rest.
//!
//! It owns the transfers' state: my offers (served by [`super::serve`])
//! and offers to me (fetched by [`super::fetch`]), each kept in the
//! database on every change, so both survive restarts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Semaphore, mpsc, watch};

use super::offer::MAX_FILES;
use super::record::{Incoming, Outgoing, Record};
use super::session::{Entry, MAX_REPLY};
use super::{
    Answer, Direction, FileEvent, FileFailed, FileFailure, FileId, FileOffer, FileOptions,
    FileState, FileStatus, Offer, Outlet, Withdrawal, names,
};
use crate::envelope::Keys;
use crate::identity::unix_ms;
use crate::protocol::{OfferPast, Refusal};
use crate::shutdown::Shutdown;
use crate::trouble::Trouble;
use crate::types::{Chat, NodeId};

/// What the driver asks of the file runtime.
#[derive(Debug)]
pub(crate) enum Order {
    /// Offer these files and folders in this chat.
    Send(Chat, Vec<PathBuf>),
    /// An offer arrived in a chat message.
    Offered(Box<FileOffer>),
    /// The user accepted an offer.
    Accept(FileId),
    /// The user declined an offer.
    Decline(FileId),
    /// The user cancelled a transfer or withdrew an offer.
    Cancel(FileId),
    /// A peer withdrew an offer (a file message said so).
    Withdrawn(FileId, NodeId),
    /// List every transfer.
    List,
    /// A peer is online at this unicast address.
    Online(NodeId, SocketAddr),
    /// A peer went offline.
    Offline(NodeId),
}

/// What the file runtime asks of the driver.
#[derive(Debug)]
pub(crate) enum Ask {
    /// Send this offer's text as a file message to this chat.
    Say(Chat, String),
}

/// The state the runtime's tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// My keys (for each connection's handshake).
    pub(crate) keys: Keys,
    /// My id.
    pub(crate) me: NodeId,
    /// The node is on an in-process LAN (tests): its peers' addresses are
    /// made up, so files go over loopback (each node's offer names its
    /// port), never to those addresses.
    pub(crate) in_memory: bool,
    /// Where news and records go.
    outlet: Arc<dyn Outlet>,
    /// The user's choices.
    pub(crate) options: FileOptions,
    /// Where received files go.
    pub(crate) downloads: PathBuf,
    /// My offers.
    pub(crate) outgoing: Mutex<HashMap<FileId, Outgoing>>,
    /// Offers to me.
    pub(crate) incoming: Mutex<HashMap<FileId, Incoming>>,
    /// Where each online peer is.
    pub(crate) peers: watch::Sender<HashMap<NodeId, SocketAddr>>,
    /// Connections served at once.
    pub(crate) uploads: Arc<Semaphore>,
    /// Offers received at once.
    pub(crate) downloads_running: Arc<Semaphore>,
    /// The cancel switch of each running download.
    cancels: Mutex<HashMap<FileId, watch::Sender<bool>>>,
    /// The withdraw switch of each offer of mine that was served or
    /// withdrawn in this run (uploads under way watch it).
    withdrawals: Mutex<HashMap<FileId, watch::Sender<bool>>>,
}

/// Ports other than `port` that my kept offers still being served (at
/// `now_ms`) name, the most recent first, at most [`EARLIER_PORTS`].
fn earlier_ports(records: &[Record], port: u16, now_ms: u64) -> Vec<u16> {
    let mut offers: Vec<&Outgoing> = records
        .iter()
        .filter_map(|r| match r {
            Record::Out(out) if !out.cancelled && !out.expired(now_ms) => Some(out),
            _ => None,
        })
        .filter(|out| out.offer.port != port && out.offer.port != 0)
        .collect();
    offers.sort_by_key(|out| std::cmp::Reverse(out.made_ms));
    let mut ports = Vec::new();
    for out in offers {
        if !ports.contains(&out.offer.port) && ports.len() < EARLIER_PORTS {
            ports.push(out.offer.port);
        }
    }
    ports
}

/// Most ports of earlier runs served besides this run's.
const EARLIER_PORTS: usize = 4;

/// A lock that a panicking task left poisoned still holds sound data
/// (every change is one assignment), so it is used as it is.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Hands an event to the client (through the store's thread).
    pub(crate) fn emit(&self, event: FileEvent) {
        self.outlet.tell(event);
    }

    /// Tells the client something asked of the files failed.
    pub(crate) fn trouble(&self, trouble: Trouble) {
        self.outlet.trouble(trouble);
    }

    /// Tells the client something asked of the files is a mistake.
    pub(crate) fn refuse(&self, refusal: Refusal) {
        self.outlet.refuse(refusal);
    }

    /// Keeps an offer of mine.
    pub(crate) fn save_out(&self, out: &Outgoing) {
        let record = Record::Out(out.clone());
        self.outlet.keep(record, unix_ms());
    }

    /// A receiver finished with my offer: kept with it, so that after a
    /// restart I still see who has it.
    pub(crate) fn answered(&self, id: FileId, peer: NodeId, answer: Answer) {
        let out = {
            let mut all = lock(&self.outgoing);
            let Some(out) = all.get_mut(&id) else {
                return;
            };
            out.answers.retain(|(p, _)| *p != peer);
            out.answers.push((peer, answer));
            out.clone()
        };
        self.save_out(&out);
    }

    /// Keeps an offer to me.
    pub(crate) fn save_in(&self, inc: &Incoming) {
        let record = Record::In(inc.clone());
        self.outlet.keep(record, unix_ms());
    }

    /// Changes an offer to me and keeps it; `None` if there is none.
    pub(crate) fn update_in<T>(
        &self,
        id: FileId,
        change: impl FnOnce(&mut Incoming) -> T,
    ) -> Option<T> {
        let mut incoming = lock(&self.incoming);
        let inc = incoming.get_mut(&id)?;
        let out = change(inc);
        self.save_in(inc);
        Some(out)
    }

    /// Changes an offer to me without keeping it yet (kept with the next
    /// [`Shared::update_in`]: a record with thousands of files' hashes is
    /// not rewritten per file or per chunk).
    pub(crate) fn change_in(&self, id: FileId, change: impl FnOnce(&mut Incoming)) {
        if let Some(inc) = lock(&self.incoming).get_mut(&id) {
            change(inc);
        }
    }

    /// Ends a download without the file: state, record, event.
    pub(crate) fn fail_in(&self, id: FileId, reason: FileFailure) {
        let from = self.update_in(id, |inc| {
            inc.state = FileState::Failed(reason.clone());
            inc.from
        });
        lock(&self.cancels).remove(&id);
        self.emit(FileEvent::Failed(FileFailed {
            id,
            peer: from,
            direction: Direction::Down,
            reason,
        }));
    }

    /// The withdraw switch of an offer of mine. Taken before its record is
    /// looked at, so a withdrawal in between is not missed.
    pub(crate) fn withdrawal(&self, id: FileId) -> watch::Receiver<bool> {
        lock(&self.withdrawals)
            .entry(id)
            .or_insert_with(|| watch::channel(false).0)
            .subscribe()
    }

    /// Withdraws an offer of mine: uploads under way stop at their next
    /// chunk.
    fn withdraw(&self, id: FileId) {
        lock(&self.withdrawals)
            .entry(id)
            .or_insert_with(|| watch::channel(false).0)
            .send_replace(true);
    }

    /// Forgets a finished download's cancel switch.
    pub(crate) fn finished(&self, id: FileId) {
        lock(&self.cancels).remove(&id);
    }
}

/// The driver's end of the file runtime. Dropping it stops the runtime
/// (transfers under way stop; they resume at the next start).
#[derive(Debug)]
pub(crate) struct Files {
    orders: mpsc::UnboundedSender<Order>,
    /// What the runtime asks of the driver.
    pub(crate) asks: mpsc::UnboundedReceiver<Ask>,
    /// The TCP port files are served on (0: none could be opened).
    pub(crate) port: u16,
}

impl Files {
    /// Opens the listening socket and starts the runtime with the records
    /// kept from earlier runs (`in_memory`: see [`Shared::in_memory`]).
    pub(crate) fn start(
        keys: Keys,
        outlet: Arc<dyn Outlet>,
        options: FileOptions,
        data_dir: &Path,
        records: Vec<Record>,
        in_memory: bool,
        shutdown: Shutdown,
    ) -> std::io::Result<Files> {
        let downloads = options.downloads(data_dir);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lanchat-files")
            .enable_all()
            .build()?;
        let listener = super::serve::listen(options.port, in_memory);
        let port = listener
            .as_ref()
            .ok()
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port());
        if let Err(err) = &listener {
            tracing::warn!(cause = %err, "cannot serve files: no TCP port");
            outlet.trouble(Trouble::NoFilePort {
                cause: err.to_string(),
            });
        }
        // An offer names the port it was made on: offers kept from a run
        // that had another port (the usual one was taken then) are served
        // there too, where it is free.
        let earlier: Vec<std::net::TcpListener> = if in_memory {
            Vec::new()
        } else {
            super::serve::listen_also(&earlier_ports(&records, port, unix_ms()))
        };
        let (orders, orders_rx) = mpsc::unbounded_channel();
        let (asks_tx, asks) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            me: keys.id(),
            in_memory,
            keys,
            outlet,
            uploads: Arc::new(Semaphore::new(options.max_uploads.max(1))),
            downloads_running: Arc::new(Semaphore::new(options.max_downloads.max(1))),
            options,
            downloads,
            outgoing: Mutex::new(HashMap::new()),
            incoming: Mutex::new(HashMap::new()),
            peers: watch::Sender::new(HashMap::new()),
            cancels: Mutex::new(HashMap::new()),
            withdrawals: Mutex::new(HashMap::new()),
        });
        std::thread::Builder::new()
            .name("lanchat-files".into())
            .spawn(move || {
                runtime.block_on(async move {
                    for listener in listener.into_iter().chain(earlier) {
                        match tokio::net::TcpListener::from_std(listener) {
                            Ok(listener) => {
                                tokio::spawn(super::serve::run(Arc::clone(&shared), listener));
                            }
                            Err(err) => tracing::warn!(cause = %err, "cannot serve files"),
                        }
                    }
                    let mut manager = Manager {
                        shared,
                        asks: asks_tx,
                        port,
                        withdrawn: HashMap::new(),
                    };
                    manager.restore(records);
                    manager.run(orders_rx, &shutdown).await;
                });
                runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            })?;
        Ok(Files { orders, asks, port })
    }

    /// Hands an order to the runtime.
    pub(crate) fn order(&self, order: Order) {
        // The runtime ends only after this handle is gone.
        let _ = self.orders.send(order);
    }
}

struct Manager {
    shared: Arc<Shared>,
    asks: mpsc::UnboundedSender<Ask>,
    port: u16,
    /// Offers withdrawn by their senders, with whom, in case the offer
    /// comes after its withdrawal (catch-up gives them in stamp order, but
    /// a direct offer and its withdrawal may cross).
    withdrawn: HashMap<FileId, NodeId>,
}

/// Most withdrawals remembered for offers not seen yet.
const WITHDRAWN_KEPT: usize = 1024;

impl Manager {
    async fn run(&mut self, mut orders: mpsc::UnboundedReceiver<Order>, shutdown: &Shutdown) {
        loop {
            let order = tokio::select! {
                order = orders.recv() => order,
                () = shutdown.triggered() => None,
            };
            let Some(order) = order else { break };
            match order {
                Order::Send(chat, paths) => {
                    for path in paths {
                        self.offer(chat.clone(), path).await;
                    }
                }
                Order::Offered(offer) => self.offered(*offer),
                Order::Accept(id) => self.accept(id),
                Order::Decline(id) => self.decline(id),
                Order::Cancel(id) => self.cancel(id),
                Order::Withdrawn(id, from) => self.withdrawn(id, from),
                Order::List => self.list(),
                Order::Online(id, addr) => {
                    // Always a wake-up: a peer back at the same address
                    // (a restart) is worth trying again at once.
                    self.shared.peers.send_modify(|peers| {
                        peers.insert(id, addr);
                    });
                }
                Order::Offline(id) => {
                    self.shared
                        .peers
                        .send_if_modified(|peers| peers.remove(&id).is_some());
                }
            }
        }
    }

    /// Takes up the records of earlier runs: my offers are served again,
    /// accepted offers go on, open offers are shown again.
    fn restore(&mut self, records: Vec<Record>) {
        let now = unix_ms();
        for record in records {
            match record {
                Record::Out(out) => {
                    if !out.expired(now) && !out.cancelled {
                        lock(&self.shared.outgoing).insert(out.offer.id, out);
                    }
                }
                Record::In(inc) => {
                    let id = inc.offer.id;
                    let state = inc.state.clone();
                    let shown = FileOffer {
                        offer: inc.offer.clone(),
                        from: inc.from,
                        nick: inc.nick.clone(),
                        chat: inc.chat.clone(),
                    };
                    lock(&self.shared.incoming).insert(id, inc);
                    match state {
                        FileState::Offered => self.shared.emit(FileEvent::Offer(shown)),
                        FileState::Accepted { .. } => self.start_fetch(id),
                        FileState::Done { .. } | FileState::Failed(_) => {}
                    }
                }
            }
        }
    }

    /// Builds the listing of one path and offers it.
    async fn offer(&mut self, chat: Chat, path: PathBuf) {
        if self.port == 0 {
            self.shared.trouble(Trouble::NoFilePort {
                cause: "none was free at start".into(),
            });
            return;
        }
        let shown = path.display().to_string();
        let listed = tokio::task::spawn_blocking(move || listing(&path).map(|l| (path, l))).await;
        let (root, (entries, folder)) = match listed {
            Ok(Ok(found)) => found,
            Ok(Err(why)) => {
                self.shared.trouble(Trouble::CannotOffer {
                    path: shown,
                    cause: why.to_string(),
                });
                return;
            }
            Err(_) => return,
        };
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "files".into());
        let offer = Offer {
            id: FileId::random(),
            name: cut(&name, names::MAX_NAME),
            size: entries.iter().map(|e| e.size).sum(),
            files: u32::try_from(entries.len()).unwrap_or(u32::MAX),
            folder,
            port: self.port,
        };
        let out = Outgoing {
            offer: offer.clone(),
            chat: chat.clone(),
            root,
            entries,
            made_ms: unix_ms(),
            cancelled: false,
            answers: Vec::new(),
        };
        self.shared.save_out(&out);
        lock(&self.shared.outgoing).insert(offer.id, out);
        self.shared.emit(FileEvent::Offered {
            offer: offer.clone(),
            chat: chat.clone(),
        });
        let _ = self.asks.send(Ask::Say(chat, offer.to_text()));
    }

    fn offered(&mut self, shown: FileOffer) {
        let id = shown.offer.id;
        if shown.from == self.shared.me || lock(&self.shared.incoming).contains_key(&id) {
            return;
        }
        let inc = Incoming {
            offer: shown.offer.clone(),
            from: shown.from,
            nick: shown.nick.clone(),
            chat: shown.chat.clone(),
            state: FileState::Offered,
            part: None,
            verified: Vec::new(),
            carried: 0,
            resumes: 0,
        };
        self.shared.save_in(&inc);
        lock(&self.shared.incoming).insert(id, inc);
        let from = shown.from;
        self.shared.emit(FileEvent::Offer(shown));
        if self.withdrawn.get(&id) == Some(&from) {
            self.shared.fail_in(id, FileFailure::CancelledByPeer);
        } else if self.shared.options.auto_accept {
            self.accept(id);
        }
    }

    /// The sender of an offer to me withdrew it: if I have not answered,
    /// it is closed. One I accepted learns it from the sender, which
    /// refuses it (and it ends as soon as it can reach the sender).
    fn withdrawn(&mut self, id: FileId, from: NodeId) {
        let state = lock(&self.shared.incoming)
            .get(&id)
            .map(|inc| (inc.from, inc.state.clone()));
        match state {
            Some((sender, FileState::Offered)) if sender == from => {
                self.shared.fail_in(id, FileFailure::CancelledByPeer);
            }
            Some(_) => {}
            None => {
                if self.withdrawn.len() >= WITHDRAWN_KEPT {
                    self.withdrawn.clear();
                }
                self.withdrawn.insert(id, from);
            }
        }
    }

    fn accept(&mut self, id: FileId) {
        let state = lock(&self.shared.incoming)
            .get(&id)
            .map(|inc| inc.state.clone());
        match state {
            Some(FileState::Offered) => {
                self.shared
                    .update_in(id, |inc| inc.state = FileState::Accepted { done: 0 });
                self.start_fetch(id);
            }
            Some(FileState::Accepted { .. }) => self.past(id, OfferPast::Receiving),
            Some(FileState::Done { .. }) => self.past(id, OfferPast::Received),
            Some(FileState::Failed(_)) => self.past(id, OfferPast::Ended),
            None => self.unknown(id),
        }
    }

    fn start_fetch(&mut self, id: FileId) {
        let (cancel, cancelled) = watch::channel(false);
        lock(&self.shared.cancels).insert(id, cancel);
        tokio::spawn(super::fetch::run(Arc::clone(&self.shared), id, cancelled));
    }

    fn decline(&mut self, id: FileId) {
        let state = lock(&self.shared.incoming)
            .get(&id)
            .map(|inc| inc.state.clone());
        match state {
            Some(FileState::Offered) => {
                self.shared.fail_in(id, FileFailure::Declined);
                tokio::spawn(super::fetch::decline(Arc::clone(&self.shared), id));
            }
            Some(_) => self.past(id, OfferPast::Answered),
            None => self.unknown(id),
        }
    }

    fn cancel(&mut self, id: FileId) {
        let mine = lock(&self.shared.outgoing).get_mut(&id).map(|out| {
            let again = out.cancelled;
            out.cancelled = true;
            (again, out.clone())
        });
        if let Some((again, out)) = mine {
            self.shared.withdraw(id);
            self.shared.save_out(&out);
            if !again {
                // Those who have not answered hear it in the chat.
                let text = Withdrawal::of(&out.offer).to_text();
                let _ = self.asks.send(Ask::Say(out.chat.clone(), text));
            }
            self.shared.emit(FileEvent::Failed(FileFailed {
                id,
                peer: out.recipient(),
                direction: Direction::Up,
                reason: FileFailure::Cancelled,
            }));
            return;
        }
        let state = lock(&self.shared.incoming)
            .get(&id)
            .map(|inc| inc.state.clone());
        match state {
            Some(FileState::Offered) => self.decline(id),
            Some(FileState::Accepted { .. }) => {
                if let Some(switch) = lock(&self.shared.cancels).get(&id) {
                    let _ = switch.send(true);
                }
            }
            Some(_) => self.past(id, OfferPast::Ended),
            None => self.unknown(id),
        }
    }

    fn list(&mut self) {
        let mut all: Vec<FileStatus> = Vec::new();
        for out in lock(&self.shared.outgoing).values() {
            all.push(FileStatus {
                direction: Direction::Up,
                answers: out.answers.clone(),
                offer: out.offer.clone(),
                from: None,
                nick: String::new(),
                chat: out.chat.clone(),
                state: if out.cancelled {
                    FileState::Failed(FileFailure::Cancelled)
                } else {
                    FileState::Offered
                },
            });
        }
        for inc in lock(&self.shared.incoming).values() {
            all.push(FileStatus {
                direction: Direction::Down,
                answers: Vec::new(),
                offer: inc.offer.clone(),
                from: Some(inc.from),
                nick: inc.nick.clone(),
                chat: inc.chat.clone(),
                state: inc.state.clone(),
            });
        }
        all.sort_by(|a, b| a.offer.name.cmp(&b.offer.name));
        self.shared.emit(FileEvent::List(all));
    }

    fn past(&self, id: FileId, state: OfferPast) {
        self.shared.refuse(Refusal::OfferPast {
            id: id.to_string(),
            state,
        });
    }

    fn unknown(&self, id: FileId) {
        self.shared.refuse(Refusal::NoSuchOffer(id.to_string()));
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The files under `path` (itself for a file) with their sizes, and
/// whether it is a folder. Symbolic links inside a folder are not
/// followed (a link to `/` must not offer the whole disk).
fn listing(path: &Path) -> Result<(Vec<Entry>, bool), String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or("it has no file name")?;
        return Ok((
            vec![Entry {
                path: name,
                size: meta.len(),
            }],
            false,
        ));
    }
    if !meta.is_dir() {
        return Err("not a file or folder".into());
    }
    let mut entries = Vec::new();
    let mut stack = vec![PathBuf::new()];
    let mut listing_bytes = 0usize;
    while let Some(rel) = stack.pop() {
        let mut children: Vec<_> = std::fs::read_dir(path.join(&rel))
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .collect();
        children.sort_by_key(std::fs::DirEntry::file_name);
        for child in children.into_iter().rev() {
            let kind = child.file_type().map_err(|e| e.to_string())?;
            let rel = rel.join(child.file_name());
            if kind.is_dir() {
                if rel.components().count() >= names::MAX_DEPTH {
                    return Err("its folders are nested too deep".into());
                }
                stack.push(rel);
            } else if kind.is_file() {
                let size = child.metadata().map_err(|e| e.to_string())?.len();
                let text = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                if text.len() > names::MAX_PATH {
                    return Err(format!("a path inside is too long: {text}"));
                }
                listing_bytes += text.len() + 16;
                entries.push(Entry { path: text, size });
            }
        }
        if entries.len() > MAX_FILES as usize || listing_bytes > MAX_REPLY / 2 {
            return Err(format!("it holds more than {MAX_FILES} files"));
        }
    }
    if entries.is_empty() {
        return Err("the folder holds no files".into());
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((entries, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Chat, MAIN_CHANNEL};

    fn made(port: u16, made_ms: u64, cancelled: bool) -> Record {
        Record::Out(Outgoing {
            offer: Offer {
                port,
                ..Offer::sample()
            },
            chat: Chat::Channel(MAIN_CHANNEL.into()),
            root: PathBuf::from("report.pdf"),
            entries: Vec::new(),
            made_ms,
            cancelled,
            answers: Vec::new(),
        })
    }

    #[test]
    fn offers_of_earlier_runs_keep_their_ports_newest_first() {
        let records = [
            made(47079, 5, false),
            made(40001, 1, false),
            made(40002, 3, false),
            made(40002, 2, false),
            made(40003, 4, true),
            made(40004, 6, false),
            made(40005, 7, false),
            made(40006, 8, false),
        ];
        // This run's port and withdrawn offers' ports are left out; each
        // port once; the four most recent.
        assert_eq!(
            earlier_ports(&records, 47079, 10),
            [40006, 40005, 40004, 40002]
        );
        assert!(earlier_ports(&[], 47079, 10).is_empty());
        // An offer no longer served keeps no port open.
        let week = 7 * 24 * 3600 * 1000;
        let old_and_new = [made(40007, 0, false), made(40008, 5, false)];
        assert_eq!(earlier_ports(&old_and_new, 47079, week), [40008]);
    }

    #[test]
    fn a_folder_lists_its_files_in_order_without_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("photos");
        std::fs::create_dir_all(root.join("b/c")).expect("mkdir");
        std::fs::write(root.join("z.txt"), b"zz").expect("write");
        std::fs::write(root.join("b/c/a.jpg"), b"abc").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink("/", root.join("root")).expect("symlink");
        let (entries, folder) = listing(&root).expect("listing");
        assert!(folder);
        let paths: Vec<(&str, u64)> = entries.iter().map(|e| (e.path.as_str(), e.size)).collect();
        assert_eq!(paths, [("b/c/a.jpg", 3), ("z.txt", 2)]);
        let (one, folder) = listing(&root.join("z.txt")).expect("file");
        assert!(!folder);
        assert_eq!(
            one,
            [Entry {
                path: "z.txt".into(),
                size: 2
            }]
        );
        assert!(listing(&root.join("missing")).is_err());
        std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
        assert!(listing(&dir.path().join("empty")).is_err());
    }
}
