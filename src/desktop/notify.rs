//! Desktop notifications, shown by a worker thread.
//!
//! Showing a notification is a D-Bus round trip on Linux (and can stall for
//! seconds while the bus tries to start a daemon), so [`Notifier`] only queues;
//! its worker shows them one by one and ends when the handle is dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

/// Notifications waiting beyond this are dropped: a burst must not queue
/// minutes of popups behind a stalled daemon.
const QUEUE: usize = 16;

/// Desktop notifications on a worker thread, so showing one never blocks the caller.
#[derive(Debug)]
pub struct Notifier {
    queue: Option<mpsc::SyncSender<Note>>,
    failure: Arc<Failure>,
}

#[derive(Debug)]
struct Note {
    summary: String,
    body: String,
}

/// The first failure, kept until taken; later failures are not recorded.
#[derive(Debug, Default)]
struct Failure {
    seen: AtomicBool,
    first: Mutex<Option<String>>,
}

impl Failure {
    fn record(&self, cause: String) {
        if !self.seen.swap(true, Ordering::AcqRel) {
            *self.first.lock().unwrap_or_else(PoisonError::into_inner) = Some(cause);
        }
    }

    fn take(&self) -> Option<String> {
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Notifier {
    /// Starts the worker. `app_name` is what the notification daemon shows
    /// as the sender (e.g. "LAN Chat").
    pub fn new(app_name: &str) -> Notifier {
        let failure = Arc::new(Failure::default());
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let app_name = app_name.to_owned();
        let worker_failure = Arc::clone(&failure);
        let spawned = std::thread::Builder::new()
            .name("lanchat-notify".into())
            .spawn(move || run(&app_name, &rx, &worker_failure));
        let queue = match spawned {
            Ok(_) => Some(tx),
            Err(e) => {
                failure.record(format!("cannot start the notification thread: {e}"));
                None
            }
        };
        Notifier { queue, failure }
    }

    /// Queues a notification. The first failure (no daemon, no bus) is
    /// reported once by [`Notifier::take_failure`]; later ones are silent.
    pub fn notify(&self, summary: &str, body: &str) {
        let Some(queue) = &self.queue else {
            return;
        };
        let note = Note {
            summary: summary.to_owned(),
            body: body.to_owned(),
        };
        if let Err(e) = queue.try_send(note) {
            tracing::debug!(cause = %e, "notification dropped");
        }
    }

    /// The first failure, once (then `None` forever).
    pub fn take_failure(&self) -> Option<String> {
        self.failure.take()
    }
}

fn run(app_name: &str, notes: &mpsc::Receiver<Note>, failure: &Failure) {
    #[cfg(target_os = "linux")]
    let icon = match super::cache_file("icon.png", super::ICON_PNG) {
        Ok(path) => path.to_string_lossy().into_owned(),
        Err(e) => {
            tracing::debug!(cause = %e, "notifications go without an icon");
            String::new()
        }
    };
    while let Ok(note) = notes.recv() {
        let mut n = notify_rust::Notification::new();
        n.appname(app_name).summary(&note.summary).body(&note.body);
        #[cfg(target_os = "linux")]
        if !icon.is_empty() {
            n.icon(&icon);
        }
        match n.show() {
            Ok(_) => tracing::trace!("notification shown"),
            Err(e) => {
                tracing::debug!(cause = %e, "notification failed");
                failure.record(e.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_failure_is_reported_and_only_once() {
        let f = Failure::default();
        assert_eq!(f.take(), None);
        f.record("no bus".into());
        f.record("still no bus".into());
        assert_eq!(f.take().as_deref(), Some("no bus"));
        assert_eq!(f.take(), None);
        f.record("again".into());
        assert_eq!(f.take(), None);
    }

    /// Runs in a child process without a session bus (see `one_failure_without_a_session_bus`).
    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "run by one_failure_without_a_session_bus in a child process"]
    fn child_notify_without_bus() {
        if !crate::desktop::tests::in_child() {
            return;
        }
        use std::time::{Duration, Instant};
        let n = Notifier::new("LAN Chat test");
        let started = Instant::now();
        n.notify("one", "first");
        n.notify("two", "second");
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "notify blocked"
        );
        let mut failure = None;
        while failure.is_none() && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
            failure = n.take_failure();
        }
        println!("failure: {failure:?}");
        assert!(failure.is_some(), "no failure reported");
        n.notify("three", "third");
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(n.take_failure(), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn one_failure_without_a_session_bus() {
        let runtime = tempfile::tempdir().unwrap();
        crate::desktop::tests::run_child(
            "desktop::notify::tests::child_notify_without_bus",
            &crate::desktop::tests::no_bus_env(runtime.path()),
            &["DBUS_SESSION_BUS_ADDRESS"],
        );
    }
}
