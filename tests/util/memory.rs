//! Nodes driven through `NodeHandle` in this process, on an in-memory LAN
//! (no sockets, no namespace): for the handle's tests, the window's buddies
//! and the join bench.

use std::path::Path;
use std::time::{Duration, Instant};

use lanchat::api::Event;
use lanchat::net::{Events, MemoryLan, NetOptions, NodeHandle};
use lanchat::protocol::CoreEvent;
use lanchat::types::NodeId;

/// Starts a node called `nick` on `lan`, its data in `dir/nick`; gives its
/// handle, its events and its id.
pub(crate) fn start(lan: &MemoryLan, dir: &Path, nick: &str) -> (NodeHandle, Events, NodeId) {
    let options = NetOptions {
        data_dir: Some(dir.join(nick)),
        nick: Some(nick.into()),
        lan: Some(lan.clone()),
        ..NetOptions::default()
    };
    let (handle, events, ready) =
        NodeHandle::start(options, Box::new(|| {})).expect("start a node");
    (handle, events, ready.id)
}

/// Waits (at most 10 s) for an event `want` picks something from, and
/// gives that; fails at once on trouble or a refusal.
pub(crate) fn wait_for<T>(
    events: &mut Events,
    what: &str,
    want: impl Fn(&Event) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match events.try_recv() {
            Ok(e) => {
                if let Some(found) = want(&e.event) {
                    return found;
                }
                if let Event::Trouble(text) = &e.event {
                    panic!("waiting for {what}: {text}");
                }
                if let Event::Core(CoreEvent::Error(refusal)) = &e.event {
                    panic!("waiting for {what}: {refusal}");
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    panic!("{what} did not come");
}

/// Waits (at most 10 s) for an event `want` accepts.
pub(crate) fn expect(events: &mut Events, what: &str, want: impl Fn(&Event) -> bool) {
    wait_for(events, what, |e| want(e).then_some(()));
}
