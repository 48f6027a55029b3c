//! `lanchat headless`: a node driven by text. One command a line on stdin
//! (the [`crate::input`] language), events on stdout one a line, as text for
//! people or as one JSON object a line for scripts and tests.
//!
//! Two threads: one reads stdin and hands commands to the node; the calling
//! thread prints events until the node has stopped. Every line is flushed on
//! its own, so a reader sees each event as it happens.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::api::{Command, CoreCommand, CoreEvent, Event, Names, Target};
use crate::i18n::Lang;
use crate::input::{self, Action};
use crate::net::{NetOptions, NodeEvent, NodeHandle, StartError};
use crate::policy::Policy;
use crate::types::MAIN_CHANNEL;

mod describe;
mod files;
pub mod json;

use describe::describe;
use json::JsonEvent;

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
    let mut names = Names::new(ready.id, &ready.nick);
    out.line(&JsonEvent::from(&ready), || {
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
        if let Event::Core(core) = &event {
            names.record(core);
        }
        let (json, text) = describe(&event, history, search, &names);
        let written = match text {
            Some(text) => out.line(&json, || text),
            None => out.json_only(&json),
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
        match JsonEvent::Network(json::Network::from(&*report)).to_line() {
            Ok(line) => println!("{line}"),
            Err(err) => tracing::error!(cause = %err, "the report could not be written as JSON"),
        }
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
    let loaded = match &options.policy_path {
        Some(path) => Policy::load(path),
        None => Policy::load_system(),
    };
    match loaded {
        Ok(policy) => {
            if !policy.ignored.is_empty() {
                let keys = policy.ignored.join(", ");
                tracing::warn!(path = %policy.from.display(), %keys, "unknown keys in the policy ignored");
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
    let shutdown = handle.shutdown();
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        () = ctrl_c() => {}
                        _ = term.recv() => {}
                        () = shutdown.triggered() => {}
                    }
                }
                Err(_) => tokio::select! {
                    () = ctrl_c() => {}
                    () = shutdown.triggered() => {}
                },
            }
        }
        #[cfg(not(unix))]
        tokio::select! {
            () = ctrl_c() => {}
            () = shutdown.triggered() => {}
        }
    });
    // A signal: the node leaves as on /quit. The node's own end: nothing
    // more to watch.
    shutdown.trigger();
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
        // The node is gone (a signal, or it stopped): the rest is unread.
        if handle.shutdown().is_triggered() {
            break;
        }
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
                let text = format!("now talking in {name}");
                out.line(&JsonEvent::Current { chat: name }, || text);
                command
            }
            Ok(Action::Help) => {
                let help = JsonEvent::Help {
                    text: input::HELP.to_string(),
                };
                out.line(&help, || input::HELP.to_string());
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
    let event = JsonEvent::Error {
        message: message.to_string(),
    };
    out.line(&event, || format!("error: {message}"));
}

/// Where lines go.
struct Output {
    json: bool,
}

impl Output {
    /// Prints one line and flushes; false when stdout is gone.
    fn line(&self, event: &JsonEvent, text: impl FnOnce() -> String) -> bool {
        let line = if self.json {
            match event.to_line() {
                Ok(line) => line,
                Err(err) => {
                    // Cannot happen with these types (no map with other keys
                    // than strings); a line left out rather than half written.
                    tracing::error!(cause = %err, "an event could not be written as JSON");
                    return true;
                }
            }
        } else {
            text()
        };
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_ok()
    }

    /// Prints one line in JSON mode only (for events that would be noise to
    /// a person); false when stdout is gone.
    fn json_only(&self, event: &JsonEvent) -> bool {
        !self.json || self.line(event, String::new)
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
