//! The driver: one named thread ("lanchat-net") with a current-thread tokio
//! runtime that owns the sockets and timers and runs the sans-IO core, and
//! the clonable [`NodeHandle`] that clients use to talk to it.
//!
//! Each wake-up handles one thing (a datagram and up to [`DRAIN_MOST`] more
//! already waiting, a command, a timer), then sends what the core queued
//! (group traffic first) and hands its events to the store's thread in one
//! batch. While the core's channel backlog is long ([`BACKLOG_HIGH`]) no
//! command is taken, so a client cannot outrun the sending budget.
//!
//! Shutdown has two phases (as in mini-redis): `CoreCommand::Quit` (or the last
//! handle going away) asks the core to leave; the driver keeps sending until
//! the core reports [`CoreEvent::Stopped`](crate::protocol::CoreEvent::Stopped), flushes what is left, forwards
//! `Stopped` and ends, which closes the event stream.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::link::{Link, Opened, RESCAN_EVERY};
use super::socket::SocketError;
use super::writer::{Job, Writer};
use super::{COMMAND_CAPACITY, Events, NetOptions, ReadyInfo, peers};
use crate::api::{Command, Event, Names, Secret, Target};
use crate::catchup;
use crate::envelope::{ChannelKey, WorkgroupKey};
use crate::files::manager::{Ask, Files, Order};
use crate::files::{FileMessage, FileOffer};
use crate::identity::{self, Identity, IdentityError};
use crate::node::{Config, Node};
use crate::protocol::{CoreCommand, CoreEvent, Refusal};
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use crate::trouble::Trouble;
use crate::types::valid_nick;
use crate::types::{Chat, MessageKind};

/// How long the driver waits for the core to finish leaving before it stops
/// on its own (a core that never says `Stopped` must not hang the program).
const QUIT_GRACE: Duration = Duration::from_secs(1);

/// How often the replay marks are saved while running (and once at stop).
const SAVE_SEEN_EVERY: Duration = Duration::from_secs(10);

/// Datagrams taken in one wake-up beyond the first (see
/// [`Driver::drain_datagrams`]); few enough that timers and commands wait
/// at most a few milliseconds.
const DRAIN_MOST: usize = 32;

/// The output of `future` if it is ready at once (receiving from a socket
/// or a channel is cancel-safe: one not ready is dropped, nothing is lost).
async fn ready_now<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match future.as_mut().poll(cx) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

/// Channel datagrams waiting for the sending budget above which no command
/// is taken (a few seconds' worth): the command queue then fills and the
/// client waits ([`NodeHandle::send_blocking`]) or is told it is full
/// ([`NodeHandle::send`]), instead of the backlog growing without bound.
const BACKLOG_HIGH: usize = 1_024;

/// Why a node could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The workgroup key could not be made.
    #[error("workgroup: {0}")]
    Workgroup(#[from] crate::envelope::WorkgroupError),
    /// The identity could not be loaded.
    #[error("loading the identity")]
    Identity(#[from] IdentityError),
    /// The nick given is not a valid nick.
    #[error("{0:?} is not a valid nick (1-32 bytes; no spaces, commas, '@' or leading '#')")]
    BadNick(String),
    /// The sockets could not be opened.
    #[error("opening the sockets")]
    Socket(#[from] SocketError),
    /// Not even an in-memory history database could be made.
    #[error("opening the history database")]
    Store(#[from] StoreError),
    /// The driver thread or its runtime could not be started.
    #[error("starting the network thread")]
    Thread(#[source] std::io::Error),
}

impl StartError {
    /// The error with its causes, one after another.
    pub fn in_words(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// Why a command could not be handed to the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// The command queue is full (the node is far behind); try again.
    #[error("the node is busy; command dropped")]
    Full,
    /// The node has stopped.
    #[error("the node has stopped")]
    Closed,
}

/// A clonable handle to a running node. The node leaves the network and
/// stops when the last handle is dropped (or on `CoreCommand::Quit`).
#[derive(Clone, Debug)]
pub struct NodeHandle {
    commands: mpsc::Sender<Command>,
    shutdown: Shutdown,
}

impl NodeHandle {
    /// Loads the identity, opens the sockets and starts the driver thread.
    ///
    /// `repaint` is called on the driver thread after each batch of events
    /// (a window uses it to wake its event loop). Returns the handle, the
    /// event stream (one per node) and what the node is.
    pub fn start(
        options: NetOptions,
        repaint: Box<dyn Fn() + Send>,
    ) -> Result<(NodeHandle, Events, ReadyInfo), StartError> {
        let identity = Identity::load(options.data_dir.as_deref())?;
        let nick = match &options.nick {
            Some(nick) if valid_nick(nick) => nick.clone(),
            Some(nick) => return Err(StartError::BadNick(nick.clone())),
            None => identity::default_nick(),
        };
        let host = identity::host_name();
        let link = Opened::open(&options)?;
        let addr = link.addr()?;
        let interface_names = link.interface_names();
        let ready = ReadyInfo {
            id: identity.id,
            epoch: identity.epoch,
            nick: nick.clone(),
            host: host.clone(),
            port: options.port,
            group: options.group,
            addr,
            interfaces: interface_names,
            data_dir: identity.data_dir.clone(),
            key: identity.keys.public(),
            workgroup: options.workgroup.is_some(),
            file_port: 0,
        };
        // The key is derived on the node's thread (Argon2id takes a moment:
        // not on a window's thread); only an empty passphrase fails here.
        let passphrase = options.workgroup.clone();
        if passphrase.as_deref() == Some("") {
            return Err(crate::envelope::WorkgroupError::Empty.into());
        }
        // A data directory that cannot hold the database still gets a
        // working node: history then lasts until it stops, and the user is told.
        let (mut store, told) = match Store::open_checked(&identity.data_dir) {
            Ok((store, None)) => (store, Vec::new()),
            Ok((store, Some(r))) => (
                store,
                vec![Event::HistoryRecovered {
                    moved_to: r.moved_to,
                    recovered: r.recovered,
                    cause: r.cause,
                }],
            ),
            Err(err) => {
                tracing::warn!(cause = %err, "history database unavailable; keeping history in memory");
                let problem = Trouble::HistoryInMemory {
                    cause: err.to_string(),
                };
                (Store::in_memory()?, vec![Event::Trouble(problem)])
            }
        };
        store.keep_locked(identity.lock.clone());
        let history_lost = told
            .iter()
            .any(|e| matches!(e, Event::HistoryRecovered { .. }));
        let seen = store.seen().unwrap_or_else(|err| {
            tracing::warn!(cause = %err, "reading replay marks failed");
            Vec::new()
        });
        let config = Config {
            keys: identity.keys.clone(),
            workgroup: None,
            seen,
            epoch: identity.epoch,
            nick,
            host,
            wall_ms: identity::unix_ms(),
            seed: fastrand::u64(..),
            timing: options.timing,
            share: options.share,
            // Filled on the node's thread: resolving names may take a while.
            peers: Vec::new(),
            history_lost,
        };
        let given_peers = options.peers;
        let group_port = options.port;
        let data_dir = identity.data_dir.clone();
        let undelivered = store.undelivered().unwrap_or_else(|err| {
            tracing::warn!(cause = %err, "reading undelivered direct messages failed");
            Vec::new()
        });
        let since = identity::unix_ms().saturating_sub(catchup::MAX_AGE_DAYS * 24 * 3600 * 1000);
        let recent = store
            .recent_channels(catchup::PER_CHANNEL, crate::hlc::stamp_of(since))
            .unwrap_or_else(|err| {
                tracing::warn!(cause = %err, "reading recent channel messages failed");
                Vec::new()
            });
        let transfers = store.transfers(identity::unix_ms()).unwrap_or_else(|err| {
            tracing::warn!(cause = %err, "reading file transfers failed");
            Vec::new()
        });
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CAPACITY);
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let shutdown = Shutdown::new();
        let driver_shutdown = shutdown.clone();
        let writer = Writer::start(
            store,
            options.retention,
            told,
            (config.keys.id(), config.nick.clone()),
            event_tx,
            repaint,
            shutdown.clone(),
        )
        .map_err(StartError::Thread)?;
        let files = Files::start(
            config.keys.clone(),
            std::sync::Arc::new(writer.clone()),
            options.files.clone(),
            &data_dir,
            transfers,
            options.lan.is_some(),
            shutdown.clone(),
        )
        .map_err(StartError::Thread)?;
        let mut ready = ready;
        ready.file_port = files.port;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartError::Thread)?;
        std::thread::Builder::new()
            .name("lanchat-net".into())
            .spawn(move || {
                runtime.block_on(async move {
                    // Tokio sockets must be registered inside the runtime.
                    let link = match link.register() {
                        Ok(link) => link,
                        Err(err) => {
                            tracing::error!(cause = %err, "registering the sockets failed");
                            let cause = err.to_string();
                            writer.send(Job::Pass(Event::Trouble(Trouble::NetworkStart { cause })));
                            writer.send(Job::Pass(Event::Core(CoreEvent::Stopped)));
                            return;
                        }
                    };
                    let mut config = config;
                    let cli_peers = peers::resolve(&given_peers, group_port);
                    config.peers = peers::merge(&cli_peers, &peers::load(&data_dir));
                    if let Some(passphrase) = passphrase {
                        match WorkgroupKey::derive(&passphrase) {
                            Ok(key) => config.workgroup = Some(key),
                            Err(err) => {
                                let cause = format!("workgroup: {err}");
                                writer.send(Job::Pass(Event::Trouble(Trouble::NetworkStart {
                                    cause,
                                })));
                                writer.send(Job::Pass(Event::Core(CoreEvent::Stopped)));
                                return;
                            }
                        }
                    }
                    let mut node = Node::new(config.clone(), Instant::now());
                    node.handle_command(Instant::now(), CoreCommand::Recall(recent));
                    for stored in undelivered {
                        let m = stored.message;
                        if let crate::types::Chat::Direct(to) = m.chat {
                            let resend = CoreCommand::Resend {
                                id: m.id,
                                to,
                                text: m.text,
                                kind: m.kind,
                                hlc: m.hlc,
                            };
                            node.handle_command(Instant::now(), resend);
                        }
                    }
                    let driver = Driver {
                        node,
                        names: Names::new(config.keys.id(), &config.nick),
                        link,
                        writer,
                        files,
                        start: Instant::now(),
                        start_wall_ms: config.wall_ms,
                        seen_saved: Instant::now(),
                        group_port,
                        data_dir,
                        cli_peers,
                        later: Vec::new(),
                        longest_wakeup: Duration::ZERO,
                        deriving: None,
                        held: std::collections::VecDeque::new(),
                        closed: false,
                        shutdown: driver_shutdown,
                    };
                    driver.run(command_rx).await;
                });
            })
            .map_err(StartError::Thread)?;
        Ok((
            NodeHandle {
                commands: command_tx,
                shutdown,
            },
            event_rx,
            ready,
        ))
    }

    /// The node's shutdown signal: triggering it makes the node leave the
    /// network as `Quit` does, and every thread of the node end.
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Hands a command to the node without waiting (safe on a UI thread).
    pub fn send(&self, command: impl Into<Command>) -> Result<(), HandleError> {
        self.commands
            .try_send(command.into())
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => HandleError::Full,
                mpsc::error::TrySendError::Closed(_) => HandleError::Closed,
            })
    }

    /// Hands a command to the node, waiting while the queue is full. Do not
    /// call from async code (it blocks the thread).
    pub fn send_blocking(&self, command: impl Into<Command>) -> Result<(), HandleError> {
        self.commands
            .blocking_send(command.into())
            .map_err(|_| HandleError::Closed)
    }

    /// Hands a command to the node from async code, waiting while the queue
    /// is full.
    pub async fn send_async(&self, command: Command) -> Result<(), HandleError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| HandleError::Closed)
    }

    /// Whether the node has stopped.
    pub fn is_closed(&self) -> bool {
        self.commands.is_closed()
    }
}

/// The running node: the core, the names it has seen, and the way out to
/// the client (through the store's thread).
struct Driver {
    node: Node,
    names: Names,
    link: Link,
    writer: Writer,
    /// The file runtime.
    files: Files,
    start: Instant,
    start_wall_ms: u64,
    /// When the replay marks were last saved.
    seen_saved: Instant,
    /// The group port (an added peer's port when it names none).
    group_port: u16,
    /// Where `peers.txt` is.
    data_dir: PathBuf,
    /// The addresses given with `--peer`: tried on every start, so not
    /// remembered in `peers.txt`.
    cli_peers: Vec<SocketAddr>,
    /// Unicast datagrams of one flush, sent after its group ones (kept for
    /// its room).
    later: Vec<crate::protocol::Transmit>,
    /// The longest wake-up since the last network report.
    longest_wakeup: Duration,
    /// A password channel's key being derived, and the join it completes.
    deriving: Option<tokio::sync::oneshot::Receiver<CoreCommand>>,
    /// Commands that came while a key was derived.
    held: std::collections::VecDeque<Command>,
    /// The node's shutdown signal: obeyed like `Quit`, and triggered when
    /// the driver is done.
    shutdown: Shutdown,
    /// Every handle is gone.
    closed: bool,
}

impl Driver {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let span = tracing::info_span!("node", id = %self.node.id());
        let _enter = span.enter();
        let mut quit_deadline: Option<Instant> = None;
        let mut next_scan = Instant::now() + RESCAN_EVERY;
        // The core may have queued its first announce when it was created.
        self.flush().await;
        self.forward();
        loop {
            let far = Instant::now() + Duration::from_secs(3600);
            let wake = self.node.poll_timeout().unwrap_or(far);
            let give_up = quit_deadline.unwrap_or(far);
            let mut gave_up = false;
            let mut woke = None;
            tokio::select! {
                received = self.link.recv() => if let Some((from, bytes)) = received {
                    woke = Some(Instant::now());
                    self.node.handle_datagram(Instant::now(), from, bytes);
                    self.drain_datagrams().await;
                },
                command = commands.recv(), if quit_deadline.is_none() && !self.closed && self.node.backlog() < BACKLOG_HIGH => {
                    woke = Some(Instant::now());
                    // The end of the handles is a quit, in order with what
                    // came before it.
                    let command = command.unwrap_or_else(|| {
                        self.closed = true;
                        Command::Core(CoreCommand::Quit)
                    });
                    if self.deriving.is_some() {
                        self.held.push_back(command);
                    } else if self.command(command) {
                        quit_deadline = Some(Instant::now() + QUIT_GRACE);
                        // Refuse further commands: the handle sees Closed.
                        commands.close();
                    }
                },
                join = Driver::derived(&mut self.deriving), if self.deriving.is_some() => {
                    woke = Some(Instant::now());
                    self.deriving = None;
                    self.node.handle_command(Instant::now(), join);
                    // What came while the key was derived, in order, until
                    // one of them derives again.
                    while self.deriving.is_none() {
                        let Some(command) = self.held.pop_front() else { break };
                        if self.command(command) {
                            quit_deadline = Some(Instant::now() + QUIT_GRACE);
                            commands.close();
                            self.held.clear();
                        }
                    }
                },
                Some(Ask::Say(chat, text)) = self.files.asks.recv() => {
                    let to = match chat {
                        Chat::Channel(name) => Target::Channel(name),
                        Chat::Direct(id) => Target::Node(id),
                    };
                    let say = CoreCommand::Say { to: vec![to], text, kind: MessageKind::File };
                    self.node.handle_command(Instant::now(), say);
                }
                () = tokio::time::sleep_until(wake.into()) => {
                    woke = Some(Instant::now());
                    self.node.handle_timeout(Instant::now());
                }
                () = tokio::time::sleep_until(give_up.into()), if quit_deadline.is_some() => gave_up = true,
                () = self.shutdown.triggered(), if quit_deadline.is_none() => {
                    woke = Some(Instant::now());
                    tracing::debug!("shutdown: leaving");
                    self.node.handle_command(Instant::now(), CoreCommand::Quit);
                    quit_deadline = Some(Instant::now() + QUIT_GRACE);
                    commands.close();
                }
                () = tokio::time::sleep_until(next_scan.into()) => {
                    self.link.rescan();
                    next_scan = Instant::now() + RESCAN_EVERY;
                }
            }
            self.flush().await;
            let stopped = self.forward();
            if let Some(woke) = woke {
                self.longest_wakeup = self.longest_wakeup.max(woke.elapsed());
            }
            if stopped || gave_up || self.seen_saved.elapsed() >= SAVE_SEEN_EVERY {
                self.seen_saved = Instant::now();
                self.writer.send(Job::Seen(self.node.seen()));
            }
            if stopped || gave_up {
                if gave_up && !stopped {
                    tracing::warn!("the core did not finish leaving in time; stopping anyway");
                    self.writer.send(Job::Pass(Event::Core(CoreEvent::Stopped)));
                }
                // The network is left: every other thread of the node may end.
                self.shutdown.trigger();
                break;
            }
        }
    }

    /// Tells the client a command it gave cannot be done.
    fn refuse(&self, refusal: Refusal) {
        self.writer.send(Job::Pass(Event::Refused(refusal)));
    }

    /// Carries out one command; true when it was the quit. A password
    /// channel's key is derived off this thread ([`Driver::derive`]).
    fn command(&mut self, command: Command) -> bool {
        match command {
            Command::History {
                chat,
                limit,
                before,
            } => self.replay(&chat, limit, before),
            Command::Search { text, limit } => self.writer.send(Job::Search(text, limit)),
            Command::Trust { peer } => match self.names.resolve(&peer) {
                Ok(crate::types::Chat::Direct(id)) => self.writer.send(Job::Trust(id)),
                Ok(Chat::Channel(name)) => self.refuse(Refusal::NotAPerson(name)),
                Err(refusal) => self.refuse(refusal),
            },
            Command::Export { chat, path } => match self.names.resolve(&chat) {
                Ok(chat) => self.writer.send(Job::Export(chat, path)),
                Err(refusal) => self.refuse(refusal),
            },
            Command::Core(CoreCommand::AddPeer(addr)) => {
                let addr = self.with_port(addr);
                self.node
                    .handle_command(Instant::now(), CoreCommand::AddPeer(addr));
            }
            Command::Core(CoreCommand::ForgetPeer(addr)) => {
                let addr = self.with_port(addr);
                self.node
                    .handle_command(Instant::now(), CoreCommand::ForgetPeer(addr));
            }
            Command::Network => self.network(),
            Command::SendFiles { to, paths } => match self.names.resolve(&to) {
                Ok(chat) => self.files.order(Order::Send(chat, paths)),
                Err(refusal) => self.refuse(refusal),
            },
            Command::AcceptFile(id) => self.files.order(Order::Accept(id)),
            Command::DeclineFile(id) => self.files.order(Order::Decline(id)),
            Command::CancelFile(id) => self.files.order(Order::Cancel(id)),
            Command::Files => self.files.order(Order::List),
            Command::Core(CoreCommand::Quit) => {
                tracing::debug!("leaving");
                self.node.handle_command(Instant::now(), CoreCommand::Quit);
                return true;
            }
            Command::Core(CoreCommand::Join {
                channel,
                secret: Some(Secret::Password(password)),
            }) => self.derive(channel, password),
            Command::Core(command) => self.node.handle_command(Instant::now(), command),
        }
        false
    }

    /// Derives a password channel's key on a blocking thread (Argon2id
    /// takes about a tenth of a second, 19 MiB): this thread owns every
    /// socket. The join reaches the core with the key when it is ready;
    /// commands that come meanwhile wait for it, in order. A name that is
    /// no channel, or an empty password, goes to the core as it is, which
    /// says what is wrong.
    fn derive(&mut self, channel: String, password: String) {
        let Ok(name) = crate::types::channel_name(&channel) else {
            let secret = Some(Secret::Password(password));
            self.node
                .handle_command(Instant::now(), CoreCommand::Join { channel, secret });
            return;
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::task::spawn_blocking(move || {
            let secret = match ChannelKey::derive(&name, &password) {
                Ok(key) => Secret::Key(key),
                Err(_) => Secret::Password(password),
            };
            let _ = tx.send(CoreCommand::Join {
                channel,
                secret: Some(secret),
            });
        });
        self.deriving = Some(rx);
    }

    /// The join whose key was being derived, once it is ready.
    async fn derived(
        deriving: &mut Option<tokio::sync::oneshot::Receiver<CoreCommand>>,
    ) -> CoreCommand {
        match deriving {
            Some(rx) => match rx.await {
                Ok(join) => join,
                // The deriving thread died (it does not): nothing to join.
                Err(_) => CoreCommand::Who,
            },
            None => std::future::pending().await,
        }
    }

    /// Hands the core the datagrams already waiting (at most
    /// [`DRAIN_MOST`]), so that a busy wake-up ends in one flush and one
    /// batch of events for the store (one transaction), not one per
    /// datagram.
    async fn drain_datagrams(&mut self) {
        for _ in 0..DRAIN_MOST {
            match ready_now(self.link.recv()).await {
                Some(Some((from, bytes))) => {
                    self.node.handle_datagram(Instant::now(), from, bytes);
                }
                _ => break,
            }
        }
    }

    /// Sends every datagram the core has queued, group traffic first: when
    /// the way out is short of room, what every peer waits for (heartbeats,
    /// channel messages) goes before what one peer does.
    async fn flush(&mut self) {
        let mut later = std::mem::take(&mut self.later);
        while let Some(transmit) = self.node.poll_transmit() {
            if matches!(transmit.dest, crate::protocol::Dest::Unicast(_)) {
                later.push(transmit);
            } else {
                self.link.send(transmit).await;
            }
        }
        for transmit in later.drain(..) {
            self.link.send(transmit).await;
        }
        self.later = later;
    }

    /// Hands the core's events to the store's thread (which saves and
    /// then forwards them); true once the core said `Stopped`.
    fn forward(&mut self) -> bool {
        let mut batch = Vec::new();
        let mut stopped = false;
        while let Some(event) = self.node.poll_event() {
            self.names.record(&event);
            if let CoreEvent::StaticPeers(all) = &event {
                self.remember(all);
            }
            self.tell_files(&event);
            stopped |= event == CoreEvent::Stopped;
            batch.push(Event::Core(event));
        }
        if !batch.is_empty() {
            self.writer.send(Job::Live(batch, self.wall_ms()));
        }
        stopped
    }

    /// What the file runtime needs to know of the core's events: where
    /// peers are, and offers made to me.
    fn tell_files(&self, event: &CoreEvent) {
        match event {
            CoreEvent::PeerOnline(peer) => self.files.order(Order::Online(peer.id, peer.addr)),
            CoreEvent::Who(peers) => {
                for peer in peers {
                    self.files.order(Order::Online(peer.id, peer.addr));
                }
            }
            CoreEvent::PeerOffline { id, .. } => self.files.order(Order::Offline(*id)),
            CoreEvent::Message(m) | CoreEvent::Recalled(m) => {
                match FileMessage::read(m.kind, &m.text) {
                    Some(FileMessage::Offer(offer)) => {
                        self.files.order(Order::Offered(Box::new(FileOffer {
                            offer,
                            from: m.from,
                            nick: m.nick.clone(),
                            chat: m.chat.clone(),
                        })));
                    }
                    Some(FileMessage::Withdrawal(withdrawal)) => {
                        self.files.order(Order::Withdrawn(withdrawal.id, m.from));
                    }
                    None if m.kind == MessageKind::File => {
                        tracing::debug!(from = %m.from, "a file message that is no offer");
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }

    /// An address with no port (0) means the group port: a node's group
    /// socket takes unicast too.
    fn with_port(&self, mut addr: SocketAddr) -> SocketAddr {
        if addr.port() == 0 {
            addr.set_port(self.group_port);
        }
        addr
    }

    /// Remembers the added addresses in `peers.txt` (those from `--peer`
    /// come back with the flag, or not, on the next start).
    fn remember(&self, all: &[SocketAddr]) {
        let added: Vec<SocketAddr> = all
            .iter()
            .filter(|a| !self.cli_peers.contains(a))
            .copied()
            .collect();
        if let Err(err) = peers::save(&self.data_dir, &added) {
            tracing::warn!(dir = %self.data_dir.display(), cause = %err, "could not remember the added peers");
        }
    }

    /// Answers `Command::Network`: the interfaces and their counters from
    /// the link, the rest from the core.
    fn network(&mut self) {
        let report = crate::doctor::NetworkReport {
            group_port: self.group_port,
            unicast_port: self.link.unicast_port(),
            file_port: self.files.port,
            interfaces: self.link.interfaces(),
            core: self.node.network(Instant::now()),
            longest_wakeup_us: u64::try_from(self.longest_wakeup.as_micros()).unwrap_or(u64::MAX),
        };
        self.longest_wakeup = Duration::ZERO;
        self.writer
            .send(Job::Pass(Event::Network(Box::new(report))));
    }

    fn replay(&mut self, chat: &crate::api::Target, limit: usize, before: Option<u64>) {
        match self.names.resolve(chat) {
            Ok(chat) => self.writer.send(Job::History {
                chat,
                limit,
                before,
            }),
            Err(refusal) => self.refuse(refusal),
        }
    }

    /// Wall time now, derived from the start so it never jumps backwards.
    fn wall_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.start_wall_ms.saturating_add(elapsed)
    }
}
