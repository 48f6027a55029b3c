//! The store's thread ("lanchat-store"), the driver's last stage: every
//! event the driver and the file runtime hand out passes through it. It commits what a batch means for the database
//! (messages, my direct messages' states) and only then forwards the batch
//! to the client, so what was shown is on disk even if the process is
//! killed right after. It also answers history and search requests, in
//! order with the live events. The network thread never waits for the disk.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{NodeEvent, Retention};
use crate::api::{ChatMessage, Event};
use crate::envelope::PublicKey;
use crate::files::{FileEvent, Outlet};
use crate::protocol::CoreEvent;
use crate::protocol::{DmState, Refusal};
use crate::shutdown::Shutdown;
use crate::store::{Store, Stored, Write};
use crate::trouble::Trouble;
use crate::types::{Chat, NodeId};

/// How long the store's thread waits for work before it looks at the
/// shutdown signal (it ends only with an empty queue).
const SHUTDOWN_CHECK: Duration = Duration::from_millis(200);

/// Work for the store's thread.
#[derive(Debug)]
pub(crate) enum Job {
    /// Live events from the core, with the wall time they happened at.
    Live(Vec<Event>, u64),
    /// An event that is not the core's (an error from the driver), passed
    /// on in order.
    Pass(Event),
    /// Replay the newest `limit` messages of a chat (stamped at or before
    /// `before`, if given), then say it is done.
    History {
        /// Which chat.
        chat: Chat,
        /// How many at most.
        limit: usize,
        /// The bound, as in [`crate::api::Command::History`].
        before: Option<u64>,
    },
    /// Find messages with these words.
    Search(String, usize),
    /// Write a chat's whole history to a file.
    Export(Chat, std::path::PathBuf),
    /// Keep these replay marks for the next run.
    Seen(Vec<crate::node::Seen>),
    /// Trust this node's current key for its nick and host.
    Trust(crate::types::NodeId),
    /// Keep a file transfer's state (wall time now).
    Transfer(Box<crate::files::record::Record>, u64),
}

/// The handle the driver (and the file runtime) keep. The thread ends
/// once its queue is done and either the last handle is dropped or the
/// node's shutdown was triggered.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the thread. `told` (what the opening of the database found:
    /// it could not be opened on disk, or was damaged and recovered) is
    /// reported to the client first.
    pub(crate) fn start(
        store: Store,
        retention: Retention,
        told: Vec<Event>,
        (me, nick): (NodeId, String),
        events: tokio::sync::mpsc::UnboundedSender<NodeEvent>,
        repaint: Box<dyn Fn() + Send>,
        shutdown: Shutdown,
    ) -> std::io::Result<Writer> {
        let (jobs, rx) = mpsc::channel();
        let mut thread = Thread {
            store,
            retention,
            last_prune: None,
            me,
            nick,
            events,
            repaint,
            failed: false,
            people: std::collections::HashMap::new(),
            stopped: false,
        };
        std::thread::Builder::new()
            .name("lanchat-store".into())
            .spawn(move || {
                for event in told {
                    thread.emit(event, false, false);
                }
                thread.prune();
                loop {
                    let job = match rx.recv_timeout(SHUTDOWN_CHECK) {
                        Ok(job) => job,
                        // The node has left and said so: nothing more to keep.
                        Err(mpsc::RecvTimeoutError::Timeout)
                            if shutdown.is_triggered() && thread.stopped =>
                        {
                            break;
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => continue,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    };
                    thread.run(job);
                    if thread
                        .last_prune
                        .is_some_and(|at| at.elapsed() >= PRUNE_EVERY)
                    {
                        thread.prune();
                    }
                }
            })?;
        Ok(Writer { jobs })
    }

    /// Queues a job (never blocks).
    pub(crate) fn send(&self, job: Job) {
        // The thread ends only after this handle is gone.
        let _ = self.jobs.send(job);
    }
}

/// How often the retention limits are applied while running.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

struct Thread {
    store: Store,
    retention: Retention,
    last_prune: Option<Instant>,
    me: NodeId,
    nick: String,
    events: tokio::sync::mpsc::UnboundedSender<NodeEvent>,
    repaint: Box<dyn Fn() + Send>,
    /// A write failed already (reported once).
    failed: bool,
    /// Who is online: nick, host and key, for trust on first use.
    people: std::collections::HashMap<NodeId, (String, String, PublicKey)>,
    /// The node's last event, `Stopped`, went to the client.
    stopped: bool,
}

impl Thread {
    /// Applies the retention limits (at start, then hourly).
    fn prune(&mut self) {
        self.last_prune = Some(Instant::now());
        let Retention {
            max_age_days,
            max_messages,
        } = self.retention;
        if max_age_days.is_none() && max_messages.is_none() {
            return;
        }
        let before = max_age_days
            .map(|days| crate::identity::unix_ms().saturating_sub(u64::from(days) * 86_400_000));
        match self.store.prune(before, max_messages) {
            Ok(0) => {}
            Ok(gone) => tracing::info!(gone, "old history dropped"),
            Err(err) => tracing::warn!(cause = %err, "dropping old history failed"),
        }
    }

    fn run(&mut self, job: Job) {
        match job {
            Job::Live(mut events, wall_ms) => {
                let writes: Vec<Write> = events
                    .iter()
                    .filter_map(|e| self.write_for(e, wall_ms))
                    .collect();
                match self.store.write(&writes) {
                    // A message stored already was shown already (in an
                    // earlier life, or sent again by a restarted peer): not again.
                    Ok(known) if !known.is_empty() => events.retain(|e| match e {
                        Event::Core(CoreEvent::Message(m))
                        | Event::Core(CoreEvent::Recalled(m)) => !known.contains(&m.id),
                        _ => true,
                    }),
                    Ok(_) => {}
                    Err(err) => self.write_failed(&err),
                }
                // Keys of people coming online are checked (and the first
                // ones remembered) in one transaction per batch.
                let checks = events.iter().any(|e| {
                    matches!(
                        e,
                        Event::Core(CoreEvent::PeerOnline(_))
                            | Event::Core(CoreEvent::NickChanged { .. })
                    )
                });
                let batched = checks && self.store.begin().is_ok();
                for event in events {
                    // Missed while away: history, shown in its place.
                    let history = matches!(event, Event::Core(CoreEvent::Recalled(_)));
                    let warning = self.check_key(&event);
                    self.emit(event, history, false);
                    if let Some(warning) = warning {
                        self.emit(warning, false, false);
                    }
                }
                if batched && let Err(err) = self.store.commit() {
                    tracing::warn!(cause = %err, "remembering keys failed");
                }
            }
            Job::Pass(event) => self.emit(event, false, false),
            Job::Trust(id) => self.trust(id),
            Job::Transfer(record, now_ms) => {
                if let Err(err) = self.store.save_transfer(&record, now_ms) {
                    tracing::warn!(cause = %err, "saving a file transfer's state failed");
                }
            }
            Job::Seen(marks) => {
                if let Err(err) = self.store.save_seen(&marks) {
                    tracing::warn!(cause = %err, "saving replay marks failed");
                }
            }
            Job::History {
                chat,
                limit,
                before,
            } => {
                let found = match before {
                    None => self.store.newest(&chat, limit),
                    Some(hlc) => self.store.before(&chat, hlc, limit),
                };
                let count = match found {
                    Ok(found) => {
                        let count = found.len();
                        for stored in found {
                            self.emit(Event::Core(CoreEvent::Message(stored.message)), true, false);
                        }
                        count
                    }
                    Err(err) => {
                        let cause = err.to_string();
                        self.emit(
                            Event::Trouble(Trouble::HistoryUnread { cause }),
                            false,
                            false,
                        );
                        0
                    }
                };
                let done = Event::HistoryDone {
                    chat,
                    before,
                    limit,
                    count,
                };
                self.emit(done, true, false);
            }
            Job::Export(chat, path) => match self.export(&chat, &path) {
                Ok(count) => self.emit(Event::Exported { chat, path, count }, false, false),
                Err(err) => self.emit(
                    Event::Trouble(Trouble::Export {
                        path,
                        cause: err.to_string(),
                    }),
                    false,
                    false,
                ),
            },
            Job::Search(query, limit) => match self.store.search(&query, limit) {
                Ok(found) => {
                    for stored in found {
                        self.emit(Event::Core(CoreEvent::Message(stored.message)), true, true);
                    }
                }
                Err(err) => {
                    let cause = err.to_string();
                    self.emit(Event::Trouble(Trouble::Search { cause }), false, false);
                }
            },
        }
        (self.repaint)();
    }

    /// Writes a chat as text, one message a line (continuation lines
    /// indented), through a temporary file so a failure leaves no half file.
    fn export(
        &self,
        chat: &Chat,
        path: &std::path::Path,
    ) -> Result<usize, Box<dyn std::error::Error>> {
        use std::io::Write as _;
        let messages = self.store.newest(chat, usize::MAX)?;
        let tmp = path.with_extension("lanchat-export.tmp");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for stored in &messages {
            let m = &stored.message;
            let when = crate::identity::format_local(m.time_ms, "%Y-%m-%d %H:%M:%S");
            let text = m.text.replace('\n', "\n    ");
            match m.kind {
                crate::types::MessageKind::Action => writeln!(out, "[{when}] * {} {text}", m.nick)?,
                crate::types::MessageKind::Beep => writeln!(out, "[{when}] * {} beeps", m.nick)?,
                crate::types::MessageKind::Text => writeln!(out, "[{when}] <{}> {text}", m.nick)?,
                crate::types::MessageKind::File => {
                    match crate::files::FileMessage::read(m.kind, &m.text)
                        .and_then(crate::files::FileMessage::offer)
                    {
                        Some(offer) => {
                            writeln!(out, "[{when}] * {} offers {}", m.nick, offer.describe())?
                        }
                        None => writeln!(out, "[{when}] * {} offers a file", m.nick)?,
                    }
                }
            }
        }
        out.flush()?;
        drop(out);
        std::fs::rename(&tmp, path)?;
        Ok(messages.len())
    }

    /// Logs a failed write and tells the client once.
    fn write_failed(&mut self, err: &crate::store::StoreError) {
        tracing::warn!(cause = %err, "writing history failed");
        if !self.failed {
            self.failed = true;
            let error = Event::Trouble(Trouble::HistoryNotSaved {
                cause: err.to_string(),
            });
            self.emit(error, false, false);
        }
    }

    /// What an event means for the database.
    fn write_for(&mut self, event: &Event, wall_ms: u64) -> Option<Write> {
        match event {
            Event::Core(CoreEvent::Message(msg)) | Event::Core(CoreEvent::Recalled(msg)) => {
                Some(Write::Message(Stored {
                    message: msg.clone(),
                    dm_state: None,
                }))
            }
            Event::Core(CoreEvent::Sent {
                id,
                chat,
                text,
                kind,
                hlc,
                author,
            }) => Some(Write::Message(Stored {
                message: ChatMessage {
                    id: *id,
                    chat: chat.clone(),
                    from: self.me,
                    nick: self.nick.clone(),
                    kind: *kind,
                    text: text.clone(),
                    time_ms: wall_ms,
                    hlc: *hlc,
                    author: *author,
                },
                dm_state: matches!(chat, Chat::Direct(_)).then_some(DmState::Sending),
            })),
            Event::Core(CoreEvent::Delivered { id, .. }) => Some(Write::DmState {
                id: *id,
                state: DmState::Delivered,
            }),
            Event::Core(CoreEvent::Queued { id, .. }) => Some(Write::DmState {
                id: *id,
                state: DmState::Queued,
            }),
            Event::Core(CoreEvent::NickChanged { id, new, .. }) if *id == self.me => {
                self.nick = new.clone();
                None
            }
            _ => None,
        }
    }

    /// Trust on first use: the first key seen for a nick on a host is
    /// remembered; another key later for the same nick and host is a
    /// warning (until the user trusts it).
    fn check_key(&mut self, event: &Event) -> Option<Event> {
        let id = match event {
            Event::Core(CoreEvent::PeerOnline(peer)) => {
                self.people
                    .insert(peer.id, (peer.nick.clone(), peer.host.clone(), peer.key));
                peer.id
            }
            Event::Core(CoreEvent::NickChanged { id, new, .. }) if *id != self.me => {
                let person = self.people.get_mut(id)?;
                person.0 = new.clone();
                *id
            }
            Event::Core(CoreEvent::PeerOffline { id, .. }) => {
                self.people.remove(id);
                return None;
            }
            _ => return None,
        };
        let (nick, host, key) = self.people.get(&id)?.clone();
        match self.store.trust(&nick, &host, &key.0) {
            Ok(Some(old)) => Some(Event::KeyChanged {
                id,
                nick,
                host,
                old: PublicKey(old),
                new: key,
            }),
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(cause = %err, "checking a key failed");
                None
            }
        }
    }

    /// The user accepts a person's current key.
    fn trust(&mut self, id: NodeId) {
        let Some((nick, host, key)) = self.people.get(&id).cloned() else {
            self.emit(Event::Refused(Refusal::TrustOffline), false, false);
            return;
        };
        match self.store.retrust(&nick, &host, &key.0) {
            Ok(()) => self.emit(
                Event::Trusted {
                    id,
                    nick,
                    fingerprint: key.fingerprint(),
                },
                false,
                false,
            ),
            Err(err) => {
                let cause = err.to_string();
                self.emit(Event::Trouble(Trouble::Trust { cause }), false, false);
            }
        }
    }

    fn emit(&mut self, event: Event, history: bool, search: bool) {
        self.stopped |= event == Event::Core(CoreEvent::Stopped);
        // A client that dropped its receiver just stops listening.
        let _ = self.events.send(NodeEvent {
            event,
            history,
            search,
        });
    }
}

impl Outlet for Writer {
    fn tell(&self, event: FileEvent) {
        self.send(Job::Pass(Event::File(event)));
    }

    fn trouble(&self, trouble: Trouble) {
        self.send(Job::Pass(Event::Trouble(trouble)));
    }

    fn refuse(&self, refusal: Refusal) {
        self.send(Job::Pass(Event::Refused(refusal)));
    }

    fn keep(&self, record: crate::files::record::Record, at_ms: u64) {
        self.send(Job::Transfer(Box::new(record), at_ms));
    }
}
