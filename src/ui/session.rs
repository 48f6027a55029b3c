//! The window's link to its node: starts it through the same
//! [`NodeHandle`] the headless mode uses, drains its events without ever
//! blocking a frame, and turns a failure to start into a [`Problem`] the
//! window can explain instead of closing.

use std::io::ErrorKind;

use crate::api::{Command, Event};
use crate::identity::IdentityError;
use crate::net::socket::SocketError;
use crate::net::{Events, NetOptions, NodeEvent, NodeHandle, ReadyInfo, StartError};
use crate::protocol::{CoreCommand, CoreEvent};

/// Something that keeps the chat from working, with what the user can do.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// The group port is bound by another program.
    PortTaken(u16),
    /// No interface but loopback is up.
    NoNetwork,
    /// The data directory cannot be written.
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        cause: String,
    },
    /// Another process uses the data directory.
    InUse {
        /// The directory.
        path: String,
        /// The other process's id, if known.
        pid: Option<u32>,
    },
    /// Anything else that kept the node from starting.
    Start(String),
    /// The node stopped while the window was open.
    Stopped,
}

/// A running node, or why there is none.
pub struct Session {
    handle: Option<NodeHandle>,
    events: Option<Events>,
    /// What the node is, when it started.
    pub ready: Option<ReadyInfo>,
    /// What is wrong, if anything.
    pub problem: Option<Problem>,
    /// Every command handed to the node, for the window's unit tests.
    #[cfg(test)]
    pub(crate) sent: std::sync::Mutex<Vec<Command>>,
}

impl Session {
    /// Starts a node; `repaint` wakes the window for each batch of events.
    pub fn start(options: &NetOptions, repaint: Box<dyn Fn() + Send>) -> Session {
        match NodeHandle::start(options.clone(), repaint) {
            Ok((handle, events, ready)) => {
                let memory = options.lan.is_some();
                let loopback_only = !memory && ready.interfaces.iter().all(|i| i == "lo");
                Session {
                    handle: Some(handle),
                    events: Some(events),
                    problem: loopback_only.then_some(Problem::NoNetwork),
                    ready: Some(ready),
                    #[cfg(test)]
                    sent: std::sync::Mutex::default(),
                }
            }
            Err(err) => {
                tracing::error!(cause = %err.in_words(), "the node did not start");
                Session {
                    handle: None,
                    events: None,
                    ready: None,
                    problem: Some(Problem::from_start(&err, options.port)),
                    #[cfg(test)]
                    sent: std::sync::Mutex::default(),
                }
            }
        }
    }

    /// Whether a node is running.
    pub fn is_running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_closed())
    }

    /// Hands a command to the node; `Err` in words when it cannot.
    pub fn send(&self, command: Command) -> Result<(), String> {
        #[cfg(test)]
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(command.clone());
        }
        match &self.handle {
            Some(handle) => handle.send(command).map_err(|err| err.to_string()),
            None => Err("the network part is not running".into()),
        }
    }

    /// Every event waiting now (never waits).
    pub fn drain(&mut self) -> Vec<NodeEvent> {
        let mut out = Vec::new();
        let Some(events) = &mut self.events else {
            return out;
        };
        loop {
            match events.try_recv() {
                Ok(event) => {
                    let stopped = event.event == Event::Core(CoreEvent::Stopped);
                    out.push(event);
                    if stopped {
                        self.stopped();
                        break;
                    }
                }
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                    self.stopped();
                    break;
                }
            }
        }
        out
    }

    fn stopped(&mut self) {
        self.events = None;
        self.handle = None;
        if self.problem.is_none() {
            self.problem = Some(Problem::Stopped);
        }
    }

    /// Says goodbye and waits (at most `grace`) until the node has left, so
    /// peers see a quit rather than a timeout.
    pub fn quit(&mut self, grace: std::time::Duration) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        let _ = handle.send(Command::Core(CoreCommand::Quit));
        drop(handle);
        let deadline = std::time::Instant::now() + grace;
        if let Some(events) = &mut self.events {
            while std::time::Instant::now() < deadline {
                match events.try_recv() {
                    Ok(NodeEvent {
                        event: Event::Core(CoreEvent::Stopped),
                        ..
                    })
                    | Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => break,
                    Ok(_) => {}
                    Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                }
            }
        }
        self.events = None;
    }
}

impl Problem {
    /// The problem behind a failed start.
    pub fn from_start(err: &StartError, port: u16) -> Problem {
        match err {
            StartError::Socket(SocketError::Setup { source, .. })
                if source.kind() == ErrorKind::AddrInUse =>
            {
                Problem::PortTaken(port)
            }
            StartError::Identity(
                IdentityError::CreateDir { path, source }
                | IdentityError::Write { path, source, .. },
            ) => Problem::DataDir {
                path: path.display().to_string(),
                cause: source.to_string(),
            },
            StartError::Identity(IdentityError::InUse { path, pid }) => Problem::InUse {
                path: path.display().to_string(),
                pid: *pid,
            },
            other => Problem::Start(other.in_words()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_named_as_such() {
        let err = StartError::Socket(SocketError::Setup {
            what: "binding".into(),
            source: std::io::Error::from(ErrorKind::AddrInUse),
        });
        assert_eq!(Problem::from_start(&err, 4000), Problem::PortTaken(4000));
        let other = StartError::BadNick("a b".into());
        assert!(matches!(Problem::from_start(&other, 1), Problem::Start(t) if t.contains("a b")));
    }

    #[test]
    fn an_unwritable_data_dir_is_named_with_its_path() {
        let dir = std::env::temp_dir().join(format!("lanchat-ro-{}", std::process::id()));
        std::fs::write(&dir, "a file where a directory should be").expect("write");
        let options = NetOptions {
            data_dir: Some(dir.join("sub")),
            lan: Some(crate::net::MemoryLan::new()),
            ..NetOptions::default()
        };
        let session = Session::start(&options, Box::new(|| {}));
        let _ = std::fs::remove_file(&dir);
        assert!(!session.is_running());
        match session.problem {
            Some(Problem::DataDir { path, .. }) => assert!(path.contains("lanchat-ro"), "{path}"),
            other => panic!("expected a data-dir problem, got {other:?}"),
        }
    }

    /// A second window on a data directory in use stays offline and says
    /// who has it; the first runs on.
    #[test]
    fn a_data_dir_in_use_is_named_and_the_first_runs_on() {
        let dir = std::env::temp_dir().join(format!("lanchat-busy-{}", std::process::id()));
        let options = NetOptions {
            data_dir: Some(dir.clone()),
            lan: Some(crate::net::MemoryLan::new()),
            ..NetOptions::default()
        };
        let mut first = Session::start(&options, Box::new(|| {}));
        assert!(first.is_running());
        let second = Session::start(&options, Box::new(|| {}));
        assert!(!second.is_running());
        assert_eq!(
            second.problem,
            Some(Problem::InUse {
                path: dir.display().to_string(),
                pid: Some(std::process::id()),
            })
        );
        assert!(first.is_running());
        first.quit(std::time::Duration::from_secs(3));
        let third = Session::start(&options, Box::new(|| {}));
        assert!(third.is_running(), "{:?}", third.problem);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
