//! What the namespace benchmarks share.

use std::time::{Duration, Instant};

use lanchat::Command;
use lanchat::api::Event;
use lanchat::net::{Events, NodeHandle};
use lanchat::protocol::{CoreCommand, CoreEvent};

/// One row of a benchmark's final table: lanchat beside its baseline.
pub(crate) struct Row {
    pub(crate) what: String,
    pub(crate) lanchat: String,
    pub(crate) baseline: String,
    pub(crate) ratio: String,
}

/// Prints the final table (Markdown, as BENCHMARKS.md quotes it).
pub(crate) fn print_table(rows: &[Row]) {
    println!();
    println!("| what | lanchat | baseline | ratio |");
    println!("|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} |",
            r.what, r.lanchat, r.baseline, r.ratio
        );
    }
}

/// Asks a node to quit and waits (at most 3 s) until it says it stopped.
pub(crate) fn quit(handle: &NodeHandle, events: &mut Events) {
    let _ = handle.send(Command::Core(CoreCommand::Quit));
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        match events.try_recv() {
            Ok(e) if e.event == Event::Core(CoreEvent::Stopped) => break,
            Ok(_) => {}
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => break,
        }
    }
}
