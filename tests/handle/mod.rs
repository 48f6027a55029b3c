//! Nodes driven through `NodeHandle` in this process, on an in-memory LAN:
//! what the driver does between a client and the core.

use std::time::{Duration, Instant};

use lanchat::api::{Event, Secret};
use lanchat::net::{Events, MemoryLan, NodeHandle};
use lanchat::protocol::{CoreCommand, CoreEvent, OfflineReason, Refusal};
use lanchat::{MessageKind, Target};

use crate::util::memory::{self, expect};

fn start(lan: &MemoryLan, dir: &std::path::Path, nick: &str) -> (NodeHandle, Events) {
    let (handle, events, _) = memory::start(lan, dir, nick);
    (handle, events)
}

fn join(channel: &str) -> CoreCommand {
    CoreCommand::Join {
        channel: channel.into(),
        secret: Some(Secret::Password("correct horse".into())),
    }
}

/// The key of a password channel is derived off the network thread; what
/// is typed meanwhile waits for the join and keeps its order.
#[test]
fn a_line_said_right_after_joining_a_password_channel_reaches_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lan = MemoryLan::new();
    let (alice, mut alice_events) = start(&lan, dir.path(), "alice");
    let (bob, mut bob_events) = start(&lan, dir.path(), "bob");
    expect(
        &mut alice_events,
        "bob online",
        |e| matches!(e, Event::Core(CoreEvent::PeerOnline(p)) if p.nick == "bob"),
    );
    expect(
        &mut bob_events,
        "alice seen",
        |e| matches!(e, Event::Core(CoreEvent::PeerOnline(p)) if p.nick == "alice"),
    );
    bob.send(join("#ops")).expect("bob joins");
    expect(
        &mut bob_events,
        "bob's join",
        |e| matches!(e, Event::Core(CoreEvent::Joined { channel, nick, .. }) if channel == "#ops" && nick == "bob"),
    );
    // Both at once: the line must not reach the core before the join.
    alice.send(join("#ops")).expect("alice joins");
    alice
        .send(CoreCommand::Say {
            to: vec![Target::Channel("#ops".into())],
            text: "first words".into(),
            kind: MessageKind::Text,
        })
        .expect("alice says");
    expect(
        &mut alice_events,
        "alice's line sent",
        |e| matches!(e, Event::Core(CoreEvent::Sent { text, .. }) if text == "first words"),
    );
    expect(
        &mut bob_events,
        "alice's line at bob",
        |e| matches!(e, Event::Core(CoreEvent::Message(m)) if m.text == "first words" && m.nick == "alice"),
    );
    // An empty password is refused by the core, in its words.
    alice
        .send(CoreCommand::Join {
            channel: "#empty".into(),
            secret: Some(Secret::Password(String::new())),
        })
        .expect("join");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no error for an empty password");
        match alice_events.try_recv() {
            Ok(e) => {
                if let Event::Core(CoreEvent::Error(refusal)) = &e.event {
                    assert_eq!(*refusal, Refusal::EmptyPassword("#empty".into()));
                    break;
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// The shutdown signal is obeyed like `/quit`: the node says goodbye (its
/// peer sees it leave, not time out), reports `Stopped`, and its threads
/// end: the event stream, which the store's thread holds, closes.
#[test]
fn the_shutdown_signal_makes_a_node_leave_and_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lan = MemoryLan::new();
    let (alice, mut alice_events) = start(&lan, dir.path(), "alice");
    let (_bob, mut bob_events) = start(&lan, dir.path(), "bob");
    expect(
        &mut bob_events,
        "alice online",
        |e| matches!(e, Event::Core(CoreEvent::PeerOnline(p)) if p.nick == "alice"),
    );
    alice.shutdown().trigger();
    expect(&mut alice_events, "alice stopped", |e| {
        *e == Event::Core(CoreEvent::Stopped)
    });
    expect(
        &mut bob_events,
        "alice left",
        |e| matches!(e, Event::Core(CoreEvent::PeerOffline { nick, reason: OfflineReason::Quit, .. }) if nick == "alice"),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match alice_events.try_recv() {
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => break,
            _ if Instant::now() > deadline => panic!("alice's event stream stays open"),
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    // The handle is still there, the node is not.
    assert!(alice.send(CoreCommand::Who).is_err());
}
