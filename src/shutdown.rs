//! One shutdown signal for every thread and runtime of a node, as
//! mini-redis's `Shutdown` is for its tasks: the network thread, the
//! file runtime, the store's thread and the headless mode's signal and
//! input threads each watch the same signal.
//!
//! The order stays two-phase: whoever triggers it (a Ctrl+C, or the
//! driver once the core has said goodbye) only asks. The driver then
//! leaves the network gracefully (`Quit`: leave datagrams, the last events
//! to the store) and triggers it itself when done; the file runtime stops
//! taking orders; the store's thread ends once its queue is empty.

use std::sync::Arc;

use tokio::sync::watch;

/// The signal: clones are the same signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not triggered yet.
    pub fn new() -> Shutdown {
        Shutdown {
            tx: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Triggers it (once is enough; again changes nothing).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether it was triggered.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once it is triggered (at once if it was).
    pub async fn triggered(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives as long as `self`: waiting cannot fail.
        let _ = rx.wait_for(|on| *on).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clone_hears_one_trigger() {
        let a = Shutdown::new();
        let b = a.clone();
        assert!(!b.is_triggered());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let waiter = {
            let b = b.clone();
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(b.triggered());
            })
        };
        a.trigger();
        waiter.join().unwrap();
        assert!(b.is_triggered());
        // Already triggered: resolves at once.
        runtime.block_on(b.triggered());
        a.trigger();
        assert!(a.is_triggered());
    }
}
