//! `lanchat headless`: a node driven by text. One command a line on stdin
//! (the [`crate::input`] language), events on stdout one a line, as text for
//! people or as one JSON object a line for scripts and tests.
//!
//! Two threads: one reads stdin and hands commands to the node; the calling
//! thread prints events until the node has stopped. Every line is flushed on
//! its own, so a reader sees each event as it happens.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::api::{ChannelSummary, Command, Event, PeerInfo, Target};
use crate::files::FileEvent;
use crate::i18n::Lang;
use crate::input::{self, Action};
use crate::net::{NetOptions, NodeEvent, NodeHandle, ReadyInfo, StartError};
use crate::policy::Policy;
use crate::protocol::{CoreCommand, CoreEvent};
use crate::types::{Chat, MAIN_CHANNEL, MessageKind, NodeId};

mod files;

/// How to run the headless mode.
#[derive(Clone, Debug, Default)]
pub struct HeadlessOptions {
    /// One JSON object a line instead of text.
    pub json: bool,
    /// How to start the node.
    pub net: NetOptions,
    /// The administrator's policy file; `LANCHAT_POLICY` or the system's
    /// ([`Policy::path`]) when `None`.
    pub policy_path: Option<PathBuf>,
}

/// Why the headless mode ended with an error.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    /// The node could not start.
    #[error("starting the node")]
    Start(#[from] StartError),
    /// The stdin reader thread could not be started.
    #[error("starting the input thread")]
    Thread(#[source] io::Error),
}

/// Runs a node until `/quit`, the end of stdin, or a closed stdout.
///
/// The administrator's policy applies first; a policy file that cannot be
/// used is an `error` event, and the node starts without it.
pub fn run(options: HeadlessOptions) -> Result<(), HeadlessError> {
    let out = Arc::new(Output { json: options.json });
    let policy = policy(&options, &out);
    // No settings file here: the defaults stand in for options not given.
    let effective = policy.apply(crate::settings::Settings::default(), options.net);
    if !effective.overridden.is_empty() {
        let flags = effective.overridden.join(", ");
        tracing::warn!(%flags, "command-line options overridden by the administrator's policy");
    }
    let nick_locked = policy.locks().nick;
    let (handle, mut events, ready) = match NodeHandle::start(effective.net, Box::new(|| {})) {
        Ok(started) => started,
        Err(err) => {
            // Said as an event too, for a script that reads only the events.
            error(&out, &err.in_words());
            return Err(err.into());
        }
    };
    let mut names = Names::new(&ready);
    out.line(&ready_line(&ready), || {
        format!(
            "ready: {} ({}) on {} group {}:{} via {}",
            ready.nick,
            ready.id,
            ready.addr,
            ready.group,
            ready.port,
            ready.interfaces.join(",")
        )
    });
    let reader_out = Arc::clone(&out);
    let reader_handle = handle.clone();
    std::thread::Builder::new()
        .name("lanchat-stdin".into())
        .spawn(move || read_commands(&reader_handle, &reader_out, nick_locked))
        .map_err(HeadlessError::Thread)?;
    let signal_handle = handle.clone();
    std::thread::Builder::new()
        .name("lanchat-signal".into())
        .spawn(move || quit_on_signal(&signal_handle))
        .map_err(HeadlessError::Thread)?;
    let mut printing = true;
    while let Some(NodeEvent {
        event,
        history,
        search,
    }) = events.blocking_recv()
    {
        if !printing {
            continue;
        }
        names.learn(&event);
        let (value, text) = describe(&event, history, search, &names);
        let written = match text {
            Some(text) => out.line(&value, || text),
            None => out.json_only(&value),
        };
        if !written {
            // Nobody reads stdout any more: leave, and wait until the leave
            // has been sent (the stream closes then).
            printing = false;
            let _ = handle.send(Command::Core(CoreCommand::Quit));
        }
    }
    Ok(())
}

/// How long `lanchat doctor` listens before it reports: long enough for
/// every peer's heartbeat and for the pings that show who hears us.
pub const DOCTOR_LISTEN: std::time::Duration = std::time::Duration::from_secs(9);

/// `lanchat doctor`: starts a node of its own (a fresh identity in a
/// temporary directory, nick `doctor-<host>`, so a running lanchat is not
/// disturbed), listens for [`DOCTOR_LISTEN`], prints the report in the
/// system's language (or as one JSON object) and leaves.
pub fn doctor(mut net: NetOptions, json: bool) -> Result<(), HeadlessError> {
    let dir = std::env::temp_dir().join(format!("lanchat-doctor-{}", std::process::id()));
    net.data_dir = Some(dir.clone());
    let host: String = crate::identity::host_name()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(20)
        .collect();
    net.nick = Some(format!("doctor-{host}"));
    let result = doctor_run(net, json);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn doctor_run(net: NetOptions, json: bool) -> Result<(), HeadlessError> {
    let (handle, mut events, ready) = NodeHandle::start(net, Box::new(|| {}))?;
    let lang = Lang::from_system();
    if !json {
        let listening = match lang {
            Lang::Ru => "Слушаю сеть",
            Lang::En => "Listening to the network",
        };
        println!(
            "{listening} ({} s, {} {})…",
            DOCTOR_LISTEN.as_secs(),
            ready.addr,
            ready.interfaces.join(",")
        );
    }
    std::thread::sleep(DOCTOR_LISTEN);
    let _ = handle.send(Command::Network);
    let mut report = None;
    while let Some(NodeEvent { event, .. }) = events.blocking_recv() {
        match event {
            Event::Network(r) => {
                report = Some(r);
                let _ = handle.send(Command::Core(CoreCommand::Quit));
            }
            Event::Core(CoreEvent::Stopped) => break,
            _ => {}
        }
    }
    let Some(report) = report else {
        return Ok(());
    };
    if json {
        println!("{}", network_value(&report));
    } else {
        for line in lang.strings().network_report(&report) {
            println!("{line}");
        }
    }
    Ok(())
}

/// The administrator's policy; none (after an `error` event) when its file
/// cannot be used.
fn policy(options: &HeadlessOptions, out: &Output) -> Policy {
    let path = options.policy_path.clone().unwrap_or_else(Policy::path);
    match Policy::load(&path) {
        Ok(policy) => {
            if !policy.ignored.is_empty() {
                let keys = policy.ignored.join(", ");
                tracing::warn!(path = %path.display(), %keys, "unknown keys in the policy file ignored");
            }
            policy
        }
        Err(err) => {
            error(out, &format!("{err}; starting without it"));
            Policy::default()
        }
    }
}

/// Leaves gracefully on Ctrl-C (and SIGTERM on Unix), so a closed terminal
/// or a `kill` shows as "quit" to the others, not as a timeout.
fn quit_on_signal(handle: &NodeHandle) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            tracing::warn!(cause = %err, "no signal handling: Ctrl-C will not leave gracefully");
            return;
        }
    };
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        () = ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => ctrl_c().await,
            }
        }
        #[cfg(not(unix))]
        ctrl_c().await;
    });
    let _ = handle.send(Command::Core(CoreCommand::Quit));
}

/// Resolves on Ctrl-C; never, if Ctrl-C cannot be watched.
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Reads commands until `/quit` or the end of stdin (which also quits);
/// `/nick` is refused when the policy locks the nick.
fn read_commands(handle: &NodeHandle, out: &Output, nick_locked: bool) {
    let mut current = Target::Channel(MAIN_CHANNEL.to_string());
    let stdin = io::stdin();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(line) => line,
            Err(err) => {
                error(out, &format!("reading stdin: {err}"));
                break;
            }
        };
        let command = match input::parse(&line, &current) {
            Ok(Action::Command(command)) => command,
            Ok(Action::JoinAndSwitch { command, chat }) => {
                let name = match &chat {
                    Target::Channel(name) | Target::Person(name) => name.clone(),
                    Target::Node(id) => id.to_string(),
                };
                current = chat;
                out.line(&json!({"event": "current", "chat": name}), || {
                    format!("now talking in {name}")
                });
                command
            }
            Ok(Action::Help) => {
                out.line(&json!({"event": "help", "text": input::HELP}), || {
                    input::HELP.to_string()
                });
                continue;
            }
            Ok(Action::Nothing) => continue,
            Err(err) => {
                error(out, &err.to_string());
                continue;
            }
        };
        if nick_locked && matches!(command, Command::Core(CoreCommand::Nick(_))) {
            error(out, "your nick is set by your administrator");
            continue;
        }
        let quit = command == Command::Core(CoreCommand::Quit);
        if handle.send_blocking(command).is_err() || quit {
            return;
        }
    }
    // End of input: leave gracefully (ignored if already stopping).
    let _ = handle.send_blocking(Command::Core(CoreCommand::Quit));
}

fn error(out: &Output, message: &str) {
    out.line(&json!({"event": "error", "message": message}), || {
        format!("error: {message}")
    });
}

/// Where lines go.
struct Output {
    json: bool,
}

impl Output {
    /// Prints one line and flushes; false when stdout is gone.
    fn line(&self, value: &Value, text: impl FnOnce() -> String) -> bool {
        let line = if self.json { value.to_string() } else { text() };
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_ok()
    }

    /// Prints one line in JSON mode only (for events that would be noise to
    /// a person); false when stdout is gone.
    fn json_only(&self, value: &Value) -> bool {
        !self.json || self.line(value, String::new)
    }
}

/// Who is called what, to name direct chats `@label`.
struct Names {
    me: NodeId,
    labels: HashMap<NodeId, String>,
}

impl Names {
    fn new(ready: &ReadyInfo) -> Names {
        let mut labels = HashMap::new();
        labels.insert(ready.id, ready.nick.clone());
        Names {
            me: ready.id,
            labels,
        }
    }

    fn learn(&mut self, event: &Event) {
        match event {
            Event::Core(CoreEvent::PeerOnline(peer)) => {
                self.labels.insert(peer.id, peer.label.clone());
            }
            Event::Core(CoreEvent::NickChanged { id, new, .. }) => {
                self.labels.insert(*id, new.clone());
            }
            _ => {}
        }
    }

    fn label(&self, id: &NodeId) -> String {
        self.labels.get(id).cloned().unwrap_or_else(|| id.short())
    }

    /// `#chan`, or `@label` of the other party.
    fn chat(&self, chat: &Chat) -> String {
        match chat {
            Chat::Channel(name) => name.clone(),
            Chat::Direct(id) => format!("@{}", self.label(id)),
        }
    }
}

fn rfc3339(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn clock(ms: u64) -> String {
    crate::identity::format_local(ms, "%H:%M:%S")
}

fn kind_str(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Text => "text",
        MessageKind::Action => "action",
        MessageKind::Beep => "beep",
        MessageKind::File => "file",
    }
}

fn ready_line(ready: &ReadyInfo) -> Value {
    json!({
        "event": "ready",
        "node": ready.id.to_string(),
        "nick": ready.nick,
        "port": ready.port,
        "group": ready.group.to_string(),
        "addr": ready.addr.to_string(),
        "epoch": ready.epoch,
        "host": ready.host,
        "interfaces": ready.interfaces,
        "data_dir": ready.data_dir.display().to_string(),
        "fingerprint": ready.key.fingerprint(),
        "workgroup": ready.workgroup,
        "file_port": ready.file_port,
    })
}

fn peer_value(peer: &PeerInfo) -> Value {
    json!({
        "node": peer.id.to_string(),
        "nick": peer.nick,
        "label": peer.label,
        "addr": peer.addr.to_string(),
        "status": peer.status.as_str(),
        "status_text": peer.status_text,
        "host": peer.host,
        "version": peer.version,
        "epoch": peer.epoch,
        "since": rfc3339(peer.since_ms),
        "channels": peer.channels,
        "fingerprint": peer.key.fingerprint(),
    })
}

/// The doctor's report for scripts: interfaces, peers and findings (each
/// with its `kind` and its English words).
fn network_value(report: &crate::doctor::NetworkReport) -> Value {
    use crate::doctor;
    let interfaces: Vec<Value> = report
        .interfaces
        .iter()
        .map(|i| {
            json!({
                "name": i.name,
                "addr": i.addr.to_string(),
                "prefix": i.prefix,
                "broadcast": i.broadcast.map(|b| b.to_string()),
                "multicast": i.multicast,
                "in": i.datagrams_in,
                "out": i.datagrams_out,
            })
        })
        .collect();
    let peers: Vec<Value> = report
        .core
        .peers
        .iter()
        .map(|p| {
            let addrs: Vec<String> = p.addrs.iter().map(ToString::to_string).collect();
            json!({
                "node": p.id.to_string(),
                "label": p.label,
                "addrs": addrs,
                "by_group": p.by_group,
                "hears_me": p.hears_me,
                "relayed": p.relayed,
            })
        })
        .collect();
    let findings: Vec<Value> = doctor::findings(report)
        .iter()
        .map(|f| {
            let mut value = json!({"kind": doctor::kind(f), "text": Lang::En.strings().finding(f)});
            if let doctor::Finding::OneWay { label, addr, ports } = f {
                value["peer"] = json!(label);
                value["addr"] = json!(addr.to_string());
                value["ports"] = json!(ports);
            }
            if let doctor::Finding::OtherVersion {
                addr,
                nick,
                version,
            } = f
            {
                value["addr"] = json!(addr.to_string());
                value["nick"] = json!(nick);
                value["version"] = json!(version);
            }
            value
        })
        .collect();
    let unanswered: Vec<String> = report
        .core
        .unanswered
        .iter()
        .map(ToString::to_string)
        .collect();
    json!({
        "event": "network",
        "group_port": report.group_port,
        "unicast_port": report.unicast_port,
        "file_port": report.file_port,
        "interfaces": interfaces,
        "own_multicast_back": report.core.own_multicast_back,
        "own_broadcast_back": report.core.own_broadcast_back,
        "peers": peers,
        "unanswered": unanswered,
        "dropped": {
            "malformed": report.core.malformed,
            "forged": report.core.forged,
            "foreign": report.core.foreign,
            "rate_limited": report.core.rate_limited,
        },
        "findings": findings,
    })
}

fn channel_value(channel: &ChannelSummary) -> Value {
    json!({
        "name": channel.name,
        "members": channel.members,
        "topic": channel.topic,
        "joined": channel.joined,
        "protected": channel.protected,
    })
}

/// One event as a JSON object and as a line of text; no text for an event
/// only scripts want (to a person it would be noise).
fn describe(event: &Event, history: bool, search: bool, names: &Names) -> (Value, Option<String>) {
    if let Some((value, text)) = files::describe(event, names) {
        return (value, Some(text));
    }
    let (value, text) = match event {
        // The handle gives these as history messages already; a client of
        // the core alone sees them so.
        Event::Core(CoreEvent::Recalled(msg)) => {
            return describe(&Event::Core(CoreEvent::Message(msg.clone())), true, search, names);
        }
        // One a chat every few seconds while someone types: noise in a
        // terminal, useful to a script.
        Event::Core(CoreEvent::Typing { chat, id, nick }) => {
            let value = json!({"event": "typing", "chat": names.chat(chat), "node": id.to_string(), "nick": nick});
            return (value, None);
        }
        Event::Core(CoreEvent::PeerOnline(peer)) => {
            let mut value = peer_value(peer);
            value["event"] = json!("peer_online");
            let text = format!(
                "* {} is online ({} on {})",
                peer.label, peer.addr, peer.host
            );
            (value, text)
        }
        Event::Core(CoreEvent::PeerOffline { id, nick, reason }) => (
            json!({"event": "peer_offline", "node": id.to_string(), "nick": nick, "reason": reason.as_str()}),
            format!("* {nick} is offline ({})", reason.as_str()),
        ),
        Event::KeyChanged {
            id,
            nick,
            host,
            old,
            new,
        } => (
            json!({"event": "key_changed", "node": id.to_string(), "nick": nick, "host": host,
                   "old_fingerprint": old.fingerprint(), "new_fingerprint": new.fingerprint()}),
            format!(
                "!!! WARNING: {nick} on {host} has another key than before (was {}, now {}). \
                 It may be someone else using their name. Compare fingerprints with them, then /trust {id}",
                old.fingerprint(),
                new.fingerprint()
            ),
        ),
        // The key stays in the node; scripts learn only that it was made.
        Event::Core(CoreEvent::ChannelKey { channel, .. }) => {
            let value = json!({"event": "channel_key", "channel": channel});
            return (value, None);
        }
        Event::Trusted {
            id,
            nick,
            fingerprint,
        } => (
            json!({"event": "trusted", "node": id.to_string(), "nick": nick, "fingerprint": fingerprint}),
            format!("* {nick}'s key {fingerprint} is trusted"),
        ),
        Event::Core(CoreEvent::NickChanged { id, old, new }) => (
            json!({"event": "nick", "node": id.to_string(), "old": old, "new": new, "me": *id == names.me}),
            format!("* {old} is now known as {new}"),
        ),
        Event::Core(CoreEvent::StatusChanged {
            id,
            nick,
            status,
            text,
        }) => (
            json!({"event": "status", "node": id.to_string(), "nick": nick, "status": status.as_str(), "text": text}),
            format!("* {nick} is {} {text}", status.as_str())
                .trim_end()
                .to_string(),
        ),
        Event::Core(CoreEvent::Message(msg)) => {
            let chat = names.chat(&msg.chat);
            let mut value = json!({
                "event": "message",
                "id": msg.id.to_string(),
                "chat": chat,
                "from": msg.from.to_string(),
                "nick": msg.nick,
                "text": msg.text,
                "kind": kind_str(msg.kind),
                "time": rfc3339(msg.time_ms),
                "hlc": msg.hlc,
                "history": history,
            });
            if search {
                value["search"] = json!(true);
            }
            if let Chat::Direct(peer) = msg.chat {
                value["peer"] = json!(peer.to_string());
            }
            let mark = match (search, history) {
                (true, _) => "(found) ",
                (false, true) => "(history) ",
                (false, false) => "",
            };
            let body = match msg.kind {
                MessageKind::Action => format!("* {} {}", msg.nick, msg.text),
                MessageKind::Beep => format!("* {} beeps", msg.nick),
                MessageKind::Text => format!("<{}> {}", msg.nick, msg.text),
                MessageKind::File => match crate::files::Offer::from_text(&msg.text) {
                    Some(offer) => format!("* {} offers {} ({})", msg.nick, offer.describe(), offer.id),
                    None => match crate::files::Withdrawal::from_text(&msg.text) {
                        Some(w) => format!("* {} withdrew {} ({})", msg.nick, w.name, w.id),
                        None => format!("* {} offers a file", msg.nick),
                    },
                },
            };
            (
                value,
                format!("[{}] {mark}{chat} {body}", clock(msg.time_ms)),
            )
        }
        Event::Core(CoreEvent::Sent {
            id,
            chat,
            text,
            kind,
            hlc,
            ..
        }) => {
            let name = names.chat(chat);
            let mut value = json!({
                "event": "sent", "id": id.to_string(), "chat": name, "text": text,
                "kind": kind_str(*kind), "hlc": hlc,
            });
            if let Chat::Direct(peer) = chat {
                value["peer"] = json!(peer.to_string());
            }
            let me = names.label(&names.me);
            let body = match kind {
                MessageKind::Action => format!("* {me} {text}"),
                MessageKind::Beep => format!("* you beep {}", name.trim_start_matches('@')),
                MessageKind::Text => format!("<{me}> {text}"),
                MessageKind::File => match crate::files::Offer::from_text(text) {
                    Some(offer) => format!("* you offer {}", offer.describe()),
                    None => "* you offer a file".to_string(),
                },
            };
            (
                value,
                format!("[{}] {name} {body}", clock(crate::hlc::wall_ms(*hlc))),
            )
        }
        Event::Core(CoreEvent::Delivered { id, to }) => (
            json!({"event": "delivered", "id": id.to_string(), "to": to.to_string(), "nick": names.label(to)}),
            format!("* delivered to {}", names.label(to)),
        ),
        Event::Core(CoreEvent::Queued { id, to }) => (
            json!({"event": "queued", "id": id.to_string(), "to": to.to_string(), "nick": names.label(to)}),
            format!(
                "* {} is not answering; the message is kept and sent when they return",
                names.label(to)
            ),
        ),
        Event::Core(CoreEvent::Joined { channel, id, nick }) => (
            json!({"event": "joined", "channel": channel, "node": id.to_string(), "nick": nick, "me": *id == names.me}),
            format!("* {nick} joined {channel}"),
        ),
        Event::Core(CoreEvent::Parted { channel, id, nick }) => (
            json!({"event": "parted", "channel": channel, "node": id.to_string(), "nick": nick, "me": *id == names.me}),
            format!("* {nick} left {channel}"),
        ),
        Event::Core(CoreEvent::Topic {
            channel,
            text,
            by,
            nick,
        }) => (
            json!({"event": "topic", "channel": channel, "text": text, "by": by.to_string(), "nick": nick}),
            format!("* topic of {channel}: {text} (set by {nick})"),
        ),
        Event::Core(CoreEvent::Beep { from, nick }) => (
            json!({"event": "beep", "from": from.to_string(), "nick": nick}),
            format!("* {nick} beeps you\u{7}"),
        ),
        Event::Core(CoreEvent::Who(peers)) => {
            let list: Vec<Value> = peers.iter().map(peer_value).collect();
            let mut text = format!("* {} online:", peers.len());
            for peer in peers {
                text.push_str(&format!(
                    "\n    {} ({}) {} {} on {}",
                    peer.label,
                    peer.status.as_str(),
                    peer.status_text,
                    peer.addr,
                    peer.host
                ));
            }
            (json!({"event": "who", "peers": list}), text)
        }
        Event::Core(CoreEvent::Channels(channels)) => {
            let list: Vec<Value> = channels.iter().map(channel_value).collect();
            let mut text = format!("* {} channels:", channels.len());
            for c in channels {
                let people = if c.protected && !c.joined {
                    "password; members hidden".to_string()
                } else if c.protected {
                    format!("password, {} people", c.members)
                } else {
                    format!("{} people", c.members)
                };
                text.push_str(&format!(
                    "\n    {}{} ({people}) {}",
                    c.name,
                    if c.joined { " [joined]" } else { "" },
                    c.topic.as_deref().unwrap_or("")
                ));
            }
            (json!({"event": "channels", "channels": list}), text)
        }
        Event::Core(CoreEvent::Missed { chat, from, count }) => {
            let name = names.chat(chat);
            (
                json!({"event": "missed", "chat": name, "from": from.to_string(), "nick": names.label(from), "count": count}),
                format!(
                    "* {count} messages from {} in {name} were lost",
                    names.label(from)
                ),
            )
        }
        // Where a replay ends: for scripts that page through history.
        Event::HistoryDone {
            chat,
            before,
            limit,
            count,
        } => {
            let value = json!({
                "event": "history_done", "chat": names.chat(chat), "before": before,
                "limit": limit, "count": count,
            });
            return (value, None);
        }
        Event::Exported { chat, path, count } => {
            let name = names.chat(chat);
            let path = path.display().to_string();
            (
                json!({"event": "exported", "chat": name, "path": path, "count": count}),
                format!("* wrote {count} messages of {name} to {path}"),
            )
        }
        Event::Error(message) | Event::Core(CoreEvent::Error(message)) => (
            json!({"event": "error", "message": message}),
            format!("error: {message}"),
        ),
        Event::HistoryRecovered {
            moved_to,
            recovered,
            cause,
        } => {
            let path = moved_to.display().to_string();
            (
                json!({
                    "event": "history_recovered", "moved_to": path,
                    "recovered": recovered, "cause": cause,
                }),
                format!(
                    "* the history database was damaged ({cause}); moved aside to {path}, {recovered} messages recovered; what peers hold comes back by catch-up"
                ),
            )
        }
        Event::Core(
            core @ CoreEvent::OtherVersion {
                addr,
                version,
                nick,
            },
        ) => {
            let words = crate::doctor::Finding::of_event(core)
                .map(|f| Lang::from_system().strings().finding(&f))
                .unwrap_or_default();
            (
                json!({
                    "event": "other_version", "addr": addr.to_string(), "nick": nick,
                    "version": version, "mine": crate::wire::VERSION,
                    "newer": *version > crate::wire::VERSION,
                }),
                format!("* {words}"),
            )
        }
        Event::Network(report) => (
            network_value(report),
            Lang::from_system().strings().network_report(report).join("\n"),
        ),
        Event::Core(CoreEvent::StaticPeers(addrs)) => {
            let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            let text = if list.is_empty() {
                "* no address is added by hand".to_string()
            } else {
                format!("* reached by address too: {}", list.join(", "))
            };
            (json!({"event": "static_peers", "peers": list}), text)
        }
        Event::Core(CoreEvent::Stopped) => (
            json!({"event": "stopped"}),
            "* left the network".to_string(),
        ),
        Event::File(FileEvent::Offered { .. })
        | Event::File(FileEvent::Offer(_))
        | Event::File(FileEvent::Progress(_))
        | Event::File(FileEvent::Done(_))
        | Event::File(FileEvent::Failed(_))
        // Described by `files::describe` above.
        | Event::File(FileEvent::List(_)) => return (json!({"event": "file"}), None),
    };
    (value, Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ChatMessage;
    use crate::types::MsgId;

    #[test]
    fn direct_messages_are_named_by_the_other_party() {
        let me = NodeId::random();
        let bob = NodeId::random();
        let mut names = Names {
            me,
            labels: HashMap::new(),
        };
        names.labels.insert(bob, "bob".into());
        let msg = Event::Core(CoreEvent::Message(ChatMessage {
            id: MsgId::from_bits(7),
            chat: Chat::Direct(bob),
            from: bob,
            nick: "bob".into(),
            kind: MessageKind::Text,
            text: "hi".into(),
            time_ms: 1_700_000_000_000,
            hlc: 1,
            author: None,
        }));
        let (value, text) = describe(&msg, true, false, &names);
        let text = text.expect("a message is shown");
        assert_eq!(value["event"], "message");
        assert_eq!(value["chat"], "@bob");
        assert_eq!(value["peer"], bob.to_string());
        assert_eq!(value["history"], true);
        assert_eq!(value["time"], "2023-11-14T22:13:20.000Z");
        assert_eq!(value["id"].as_str().map(str::len), Some(32));
        assert!(text.contains("@bob <bob> hi"), "{text}");
    }

    #[test]
    fn typing_is_for_scripts_only_and_names_the_chat_like_a_message() {
        let me = NodeId::random();
        let bob = NodeId::random();
        let mut names = Names {
            me,
            labels: HashMap::new(),
        };
        names.labels.insert(bob, "bob".into());
        for (chat, name) in [
            (Chat::Direct(bob), "@bob".to_string()),
            (Chat::Channel("#dev".into()), "#dev".to_string()),
        ] {
            let typing = Event::Core(CoreEvent::Typing {
                chat,
                id: bob,
                nick: "bob".into(),
            });
            let (value, text) = describe(&typing, false, false, &names);
            assert_eq!(
                value,
                json!({"event": "typing", "chat": name, "node": bob.to_string(), "nick": "bob"})
            );
            assert_eq!(text, None, "typing printed in text mode");
        }
    }
}
