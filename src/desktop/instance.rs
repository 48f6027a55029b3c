//! One window per user and data directory. A second start of the window
//! asks the first to come forward and exits; it never reaches the data
//! directory's lock (which would refuse it with an error).
//!
//! The first start listens on a local socket: `window.sock` in the data
//! directory on Unix (only its owner can reach it; a file left by a crash is
//! replaced), a named pipe on Windows named after the user and the data
//! directory. A later start connects, says `show`, and waits (at most
//! [`ANSWER_WAIT`]) for `ok`. Whatever fails on the way, the later start
//! goes on as if alone: the lock then says what is wrong.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use interprocess::local_socket::prelude::*;
use interprocess::local_socket::{ListenerOptions, Name, Stream};

/// How long a later start waits for the first one's answer.
pub const ANSWER_WAIT: Duration = Duration::from_secs(2);
/// The request and its answer, one line each.
const SHOW: &str = "show";
const OK: &str = "ok";
/// Longest line read from a connection.
const MAX_LINE: u64 = 64;

/// What a start of the window is.
#[derive(Debug)]
pub enum Claim {
    /// The first: it shows the window and serves later starts.
    First(Instance),
    /// A later one: the first was asked to come forward; this one exits.
    HandedOver,
}

/// The first start's socket, served by [`Instance::serve`].
#[derive(Debug)]
pub struct Instance {
    listener: interprocess::local_socket::Listener,
}

/// The socket's name for the data directory `dir`.
fn name(dir: &Path) -> std::io::Result<Name<'static>> {
    #[cfg(unix)]
    {
        use interprocess::local_socket::GenericFilePath;
        dir.join("window.sock")
            .to_fs_name::<GenericFilePath>()
            .map(|n| n.into_owned())
    }
    #[cfg(not(unix))]
    {
        use interprocess::local_socket::GenericNamespaced;
        use std::hash::{Hash, Hasher};
        let mut hash = std::collections::hash_map::DefaultHasher::new();
        crate::identity::default_nick().hash(&mut hash);
        dir.hash(&mut hash);
        format!("lanchat-window-{:016x}", hash.finish())
            .to_ns_name::<GenericNamespaced>()
            .map(|n| n.into_owned())
    }
}

/// Asks a running first start to come forward; true when it answered.
fn ask(name: Name<'static>) -> bool {
    let (tx, rx) = mpsc::channel();
    // A first start that hangs must not hang this one: the answer is
    // awaited on a thread of its own.
    let asked = std::thread::Builder::new()
        .name("lanchat-instance-ask".into())
        .spawn(move || {
            let answered = (|| -> std::io::Result<bool> {
                let mut stream = Stream::connect(name)?;
                stream.write_all(format!("{SHOW}\n").as_bytes())?;
                let mut line = String::new();
                BufReader::new(stream.take(MAX_LINE)).read_line(&mut line)?;
                Ok(line.trim() == OK)
            })();
            let _ = tx.send(answered);
        });
    if asked.is_err() {
        return false;
    }
    matches!(rx.recv_timeout(ANSWER_WAIT), Ok(Ok(true)))
}

/// Claims the window for the data directory `dir`: the first start gets
/// the socket, a later one hands over. An error means neither could be
/// done (the caller goes on alone).
pub fn claim(dir: &Path) -> std::io::Result<Claim> {
    std::fs::create_dir_all(dir)?;
    if ask(name(dir)?) {
        return Ok(Claim::HandedOver);
    }
    // Nobody answered: a socket file left by a crash is replaced.
    match ListenerOptions::new()
        .name(name(dir)?)
        .try_overwrite(true)
        .create_sync()
    {
        Ok(listener) => Ok(Claim::First(Instance { listener })),
        // Two started at once and the other won.
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse && ask(name(dir)?) => {
            Ok(Claim::HandedOver)
        }
        Err(err) => Err(err),
    }
}

impl Instance {
    /// Serves later starts on a thread of its own until the process ends:
    /// each `show` calls `show` and is answered `ok`. The thread keeps
    /// nothing that needs saving, so it has no part in the shutdown.
    pub fn serve(self, show: impl Fn() + Send + 'static) {
        let spawned = std::thread::Builder::new()
            .name("lanchat-instance".into())
            .spawn(move || {
                tracing::debug!("serving later starts of the window");
                for conn in self.listener.incoming() {
                    let mut conn = match conn {
                        Ok(conn) => BufReader::new(conn),
                        Err(err) => {
                            tracing::debug!(cause = %err, "a later start could not connect");
                            continue;
                        }
                    };
                    let mut line = String::new();
                    if (&mut conn).take(MAX_LINE).read_line(&mut line).is_err() {
                        continue;
                    }
                    if line.trim() == SHOW {
                        tracing::info!("a second start of the window: bringing this one forward");
                        show();
                        let _ = conn.get_mut().write_all(format!("{OK}\n").as_bytes());
                    }
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(cause = %err, "later starts of the window will not find this one");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_later_claim_hands_over_to_the_first_and_another_folder_is_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let Claim::First(first) = claim(dir.path()).expect("claim") else {
            panic!("the first claim must be first");
        };
        let shown = Arc::new(AtomicUsize::new(0));
        let counter = shown.clone();
        first.serve(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        for _ in 0..2 {
            assert!(matches!(claim(dir.path()), Ok(Claim::HandedOver)));
        }
        assert_eq!(shown.load(Ordering::SeqCst), 2);
        // Another data directory is another window.
        let other = tempfile::tempdir().expect("tempdir");
        assert!(matches!(claim(other.path()), Ok(Claim::First(_))));
    }

    #[cfg(unix)]
    #[test]
    fn a_socket_left_by_a_crash_is_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A socket file nobody listens on, as a killed first start leaves.
        let path = dir.path().join("window.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
        assert!(path.exists());
        assert!(matches!(claim(dir.path()), Ok(Claim::First(_))));
    }
}
