//! What the namespace benchmarks share.

use std::time::{Duration, Instant};

use lanchat::Command;
use lanchat::api::Event;
use lanchat::net::{Events, NodeHandle};

/// Asks a node to quit and waits (at most 3 s) until it says it stopped.
pub(crate) fn quit(handle: &NodeHandle, events: &mut Events) {
    let _ = handle.send(Command::Quit);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        match events.try_recv() {
            Ok(e) if e.event == Event::Stopped => break,
            Ok(_) => {}
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => break,
        }
    }
}
