//! The window under `egui_kittest`: the real app state, the real node
//! handle, driver and core, and live peers, all in one process on an
//! in-memory LAN (no display, no sockets). The last test puts the app on a
//! real loopback network in a namespace with a real `lanchat headless`.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use lanchat::api::{ChatMessage, Command, Event, Target};
use lanchat::net::{Events, MemoryLan, NetOptions, NodeEvent, NodeHandle};
use lanchat::protocol::DmState;
use lanchat::settings::Settings;
use lanchat::store::{Store, Stored, Write};
use lanchat::types::{Chat, MAIN_CHANNEL, MessageKind, MsgId, NodeId, Status};
use lanchat::ui::model::{HISTORY_PAGE, Paging, Row, SystemLine};
use lanchat::ui::{AppOptions, LanchatApp};

use crate::util::memory;
use crate::util::{Netns, Peer, TempDir, event};
use lanchat::protocol::{CoreCommand, CoreEvent};

mod files;

const WAIT: Duration = Duration::from_secs(10);

/// A peer on the in-memory LAN, driven directly through its handle.
struct Buddy {
    handle: NodeHandle,
    events: Events,
    id: NodeId,
}

impl Buddy {
    fn start(lan: &MemoryLan, dir: &TempDir, nick: &str) -> Buddy {
        let (handle, events, id) = memory::start(lan, &dir.0, nick);
        Buddy { handle, events, id }
    }

    fn send(&self, command: Command) {
        self.handle.send(command).expect("buddy command");
    }

    /// Waits for an event matching `want`, stepping the app meanwhile.
    fn expect(
        &mut self,
        harness: &mut Harness<'_, LanchatApp>,
        what: &str,
        want: impl Fn(&Event) -> bool,
    ) -> Event {
        let deadline = Instant::now() + WAIT;
        loop {
            while let Ok(NodeEvent { event, .. }) = self.events.try_recv() {
                if want(&event) {
                    return event;
                }
            }
            assert!(Instant::now() < deadline, "buddy never saw {what}");
            harness.step();
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn app(lan: Option<&MemoryLan>, dir: &TempDir, nick: &str) -> Harness<'static, LanchatApp> {
    let options = AppOptions {
        net: NetOptions {
            data_dir: Some(dir.0.join(nick)),
            nick: Some(nick.into()),
            lan: lan.cloned(),
            ..NetOptions::default()
        },
        settings_path: Some(dir.0.join("settings.json")),
        desktop: false,
        // No administrator's policy from the machine running the tests.
        policy_path: Some(dir.0.join("no-policy.toml")),
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1000.0, 700.0))
        // Real frame pacing, so two clicks can make a double-click.
        .with_step_dt(1.0 / 60.0)
        .build_eframe(|cc| LanchatApp::new(cc, options));
    harness.step();
    harness
}

/// What the input line holds.
fn input(harness: &Harness<'_, LanchatApp>) -> String {
    harness
        .get_by_role(Role::MultilineTextInput)
        .value()
        .unwrap_or_default()
}

/// Steps the app until `done` holds (the node runs on its own thread).
fn wait(harness: &mut Harness<'_, LanchatApp>, what: &str, done: impl Fn(&LanchatApp) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done(harness.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
}

fn main_chat() -> Chat {
    Chat::Channel(MAIN_CHANNEL.into())
}

/// Types a line into the input and presses Enter.
fn say(harness: &mut Harness<'_, LanchatApp>, line: &str) {
    harness.get_by_role(Role::MultilineTextInput).focus();
    harness.step();
    harness
        .get_by_role(Role::MultilineTextInput)
        .type_text(line);
    harness.step();
    harness.key_press(egui::Key::Enter);
    harness.step();
    harness.step();
}

fn texts(app: &LanchatApp, chat: &Chat) -> Vec<String> {
    app.model()
        .chat(chat)
        .map(|c| {
            c.rows
                .iter()
                .filter_map(|r| match r {
                    Row::Message(m) => Some(m.text.clone()),
                    Row::System(..) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the app (alice) and bob each see the other.
fn meet(harness: &mut Harness<'_, LanchatApp>, bob: &mut Buddy) {
    let bob_id = bob.id;
    wait(harness, "bob online", |a| {
        a.model().peers.contains_key(&bob_id)
    });
    bob.expect(
        harness,
        "alice online",
        |e| matches!(e, Event::Core(CoreEvent::PeerOnline(p)) if p.nick == "alice"),
    );
}

/// The app and bob on one LAN, each seeing the other.
fn pair(dir: &TempDir) -> (MemoryLan, Harness<'static, LanchatApp>, Buddy) {
    let lan = MemoryLan::new();
    let mut bob = Buddy::start(&lan, dir, "bob");
    let mut harness = app(Some(&lan), dir, "alice");
    meet(&mut harness, &mut bob);
    (lan, harness, bob)
}

#[test]
fn a_message_typed_and_sent_with_enter_reaches_the_channel() {
    let dir = TempDir::create();
    let (_lan, mut harness, mut bob) = pair(&dir);
    assert_eq!(harness.state().selected(), &main_chat());
    say(&mut harness, "hello from the window");
    bob.expect(&mut harness, "the message", |e| {
        matches!(e, Event::Core(CoreEvent::Message(m)) if m.text == "hello from the window" && m.nick == "alice")
    });
    wait(&mut harness, "my message shown once", |a| {
        texts(a, &main_chat()) == ["hello from the window"]
    });
    // The input is empty again and Up brings the line back.
    harness.get_by_role(Role::MultilineTextInput).focus();
    harness.step();
    harness.key_press(egui::Key::ArrowUp);
    harness.step();
    harness.step();
    assert_eq!(input(&harness), "hello from the window");
    // Shift+Enter makes a new line instead of sending.
    harness.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::Enter);
    harness
        .get_by_role(Role::MultilineTextInput)
        .type_text("second line");
    harness.step();
    harness.key_press(egui::Key::Enter);
    harness.step();
    bob.expect(
        &mut harness,
        "the two-line message",
        |e| matches!(e, Event::Core(CoreEvent::Message(m)) if m.text == "hello from the window\nsecond line"),
    );
}

#[test]
fn unread_counts_rise_in_other_chats_and_clear_when_opened_and_a_mention_stands_out() {
    let dir = TempDir::create();
    let (_lan, mut harness, bob) = pair(&dir);
    say(&mut harness, "/join #dev");
    wait(&mut harness, "switch to #dev", |a| {
        a.selected() == &Chat::Channel("#dev".into())
    });
    bob.send(Command::Core(CoreCommand::Say {
        to: vec![Target::Channel(MAIN_CHANNEL.into())],
        text: "coffee?".into(),
        kind: MessageKind::Text,
    }));
    wait(&mut harness, "one unread in #Main", |a| {
        a.model()
            .chat(&main_chat())
            .is_some_and(|c| c.unread == 1 && !c.attention)
    });
    assert!(
        harness.state().title().starts_with("(1) "),
        "{}",
        harness.state().title()
    );
    bob.send(Command::Core(CoreCommand::Say {
        to: vec![Target::Channel(MAIN_CHANNEL.into())],
        text: "alice, are you there?".into(),
        kind: MessageKind::Text,
    }));
    wait(&mut harness, "a mention", |a| {
        a.model()
            .chat(&main_chat())
            .is_some_and(|c| c.unread == 2 && c.attention)
    });
    assert_eq!(harness.state().model().unread(), (2, true));
    // The mention is marked on its row.
    let mentioned = harness.state().model().chat(&main_chat()).is_some_and(|c| {
        c.rows
            .iter()
            .any(|r| matches!(r, Row::Message(m) if m.mention && m.text.starts_with("alice,")))
    });
    assert!(mentioned);
    harness.get_by_label("#Main").click();
    harness.step();
    harness.step();
    assert_eq!(harness.state().selected(), &main_chat());
    assert_eq!(harness.state().model().unread(), (0, false));
    assert!(!harness.state().title().starts_with('('));
}

#[test]
fn double_clicking_a_buddy_opens_a_private_chat_that_shows_delivery() {
    let dir = TempDir::create();
    let (_lan, mut harness, mut bob) = pair(&dir);
    let bob_id = bob.id;
    // One click only selects; two make a double-click.
    harness.get_by_label("bob").click();
    harness.run_steps(2);
    assert_eq!(harness.state().selected(), &main_chat());
    harness.get_by_label("bob").click();
    harness.get_by_label("bob").click();
    harness.run_steps(2);
    assert_eq!(harness.state().selected(), &Chat::Direct(bob_id));
    say(&mut harness, "just between us");
    bob.expect(&mut harness, "the DM", |e| {
        matches!(e, Event::Core(CoreEvent::Message(m)) if m.text == "just between us" && matches!(m.chat, Chat::Direct(_)))
    });
    wait(&mut harness, "delivered", |a| {
        a.model().chat(&Chat::Direct(bob_id)).is_some_and(|c| {
            c.rows
                .iter()
                .any(|r| matches!(r, Row::Message(m) if m.state == Some(DmState::Delivered)))
        })
    });
    // Bob answers; the private chat is open and focused, so nothing is unread.
    bob.send(Command::Core(CoreCommand::Say {
        to: vec![Target::Node(harness.state().model().me)],
        text: "sure".into(),
        kind: MessageKind::Text,
    }));
    wait(&mut harness, "bob's answer", |a| {
        texts(a, &Chat::Direct(bob_id)).contains(&"sure".to_string())
    });
    assert_eq!(harness.state().model().unread().0, 0);
}

#[test]
fn slash_commands_work_in_the_window() {
    let dir = TempDir::create();
    let (_lan, mut harness, mut bob) = pair(&dir);
    say(&mut harness, "/nick alice2");
    wait(&mut harness, "new nick", |a| {
        a.model().my_nick() == "alice2"
    });
    bob.expect(
        &mut harness,
        "the nick change",
        |e| matches!(e, Event::Core(CoreEvent::NickChanged { new, .. }) if new == "alice2"),
    );
    say(&mut harness, "/me waves");
    bob.expect(
        &mut harness,
        "the action",
        |e| matches!(e, Event::Core(CoreEvent::Message(m)) if m.kind == MessageKind::Action && m.text == "waves"),
    );
    say(&mut harness, "/topic #Main Friday lunch");
    wait(&mut harness, "the topic", |a| {
        a.model().topics.get(MAIN_CHANNEL).map(String::as_str) == Some("Friday lunch")
    });
    say(&mut harness, "/bogus");
    let notice = harness.state().model().chat(&main_chat()).is_some_and(|c| {
        c.rows
            .iter()
            .any(|r| matches!(r, Row::System(_, SystemLine::Notice(t)) if t.contains("/bogus")))
    });
    assert!(notice, "an unknown command is explained in the chat");
    say(&mut harness, "/beep bob");
    bob.expect(&mut harness, "the beep", |e| {
        matches!(e, Event::Core(CoreEvent::Beep { .. }))
    });
    // Tab completes a nick at the start of the line.
    harness.get_by_role(Role::MultilineTextInput).focus();
    harness.step();
    harness
        .get_by_role(Role::MultilineTextInput)
        .type_text("bo");
    harness.step();
    harness.key_press(egui::Key::Tab);
    harness.step();
    harness.step();
    assert_eq!(input(&harness), "bob: ");
}

#[test]
fn status_is_changed_from_the_menu_and_peers_see_it() {
    let dir = TempDir::create();
    let (_lan, mut harness, mut bob) = pair(&dir);
    harness.get_by_label("Me").click();
    harness.run_steps(3);
    harness.get_by_label("Away").click();
    harness.run_steps(3);
    wait(&mut harness, "away", |a| {
        a.model().my_status == Status::Away
    });
    bob.expect(&mut harness, "the status change", |e| {
        matches!(
            e,
            Event::Core(CoreEvent::StatusChanged {
                status: Status::Away,
                ..
            })
        )
    });
    // Bob's own status shows in the buddy list's model.
    bob.send(Command::Core(CoreCommand::Status {
        status: Status::DoNotDisturb,
        text: "in a meeting".into(),
    }));
    let bob_id = bob.id;
    wait(&mut harness, "bob busy", |a| {
        a.model()
            .peers
            .get(&bob_id)
            .is_some_and(|p| p.status == Status::DoNotDisturb && p.status_text == "in a meeting")
    });
    harness.get_by_label("in a meeting");
}

#[test]
fn settings_are_saved_and_a_new_window_starts_with_them() {
    let dir = TempDir::create();
    {
        let mut harness = app(Some(&MemoryLan::new()), &dir, "alice");
        harness.get_by_label("Me").click();
        harness.run_steps(3);
        harness.get_by_label("Settings…").click();
        harness.run_steps(3);
        harness.get_by_label("Play sounds").click();
        harness.run_steps(2);
        harness.get_by_label("Save").click();
        harness.run_steps(2);
        assert!(!harness.state().settings().sounds);
        say(&mut harness, "/join #ops");
        wait(&mut harness, "#ops saved", |a| {
            a.settings().channels == ["#ops".to_string()]
        });
    }
    let saved = Settings::load(&dir.0.join("settings.json"));
    assert!(!saved.sounds);
    assert_eq!(saved.channels, ["#ops"]);
    let mut harness = app(Some(&MemoryLan::new()), &dir, "alice");
    assert!(!harness.state().settings().sounds);
    // The channel I was in is joined again.
    wait(&mut harness, "#ops rejoined", |a| {
        a.model().chat(&Chat::Channel("#ops".into())).is_some()
    });
}

#[test]
fn the_window_speaks_russian_when_asked() {
    let dir = TempDir::create();
    let settings = Settings {
        language: Some(lanchat::i18n::Lang::Ru),
        ..Settings::default()
    };
    settings.save(&dir.0.join("settings.json")).expect("save");
    let mut harness = app(Some(&MemoryLan::new()), &dir, "алиса");
    harness.step();
    harness.get_by_label("Чат");
    harness.get_by_label("Каналы");
    harness.get_by_label("алиса (вы)");
}

#[test]
fn someone_typing_is_shown_under_the_messages() {
    let dir = TempDir::create();
    let (_lan, mut harness, bob) = pair(&dir);
    bob.send(Command::Core(CoreCommand::Typing(Target::Channel(
        MAIN_CHANNEL.into(),
    ))));
    wait(&mut harness, "typing notice", |a| {
        !a.model()
            .typing(&main_chat(), lanchat::identity::unix_ms())
            .is_empty()
    });
    harness.get_by_label("bob is typing…");
}

#[test]
fn a_data_dir_that_cannot_be_written_shows_a_banner_not_a_crash() {
    let dir = TempDir::create();
    let blocker = dir.0.join("blocker");
    std::fs::write(&blocker, "a file").expect("write");
    let options = AppOptions {
        net: NetOptions {
            data_dir: Some(blocker.join("data")),
            lan: Some(MemoryLan::new()),
            ..NetOptions::default()
        },
        settings_path: Some(dir.0.join("settings.json")),
        desktop: false,
        // No administrator's policy from the machine running the tests.
        policy_path: Some(dir.0.join("no-policy.toml")),
    };
    let mut harness = Harness::builder().build_eframe(|cc| LanchatApp::new(cc, options));
    harness.step();
    assert!(matches!(
        harness.state().problem(),
        Some(lanchat::ui::session::Problem::DataDir { .. })
    ));
    harness.get_by_label("Restart network");
    say(&mut harness, "anyone?");
    harness.step();
}

/// The window on a real network: the app (under kittest, in a namespace on
/// loopback) and a real `lanchat headless` process exchange messages.
#[test]
fn the_window_and_a_headless_node_talk_over_a_real_network() {
    let Some(ns) = Netns::create() else { return };
    let dir = TempDir::create();
    let mut bob = Peer::spawn(&ns, "bob");
    bob.expect_event("ready", event("ready", &[]), WAIT);
    ns.enter(|| {
        let mut harness = app(None, &dir, "alice");
        wait(&mut harness, "bob online", |a| {
            a.model().peers.values().any(|p| p.nick == "bob")
        });
        say(&mut harness, "hello over udp");
        bob.expect_event(
            "alice's message",
            event("message", &[("text", "hello over udp"), ("nick", "alice")]),
            WAIT,
        );
        bob.send("/msg #Main hi alice");
        wait(&mut harness, "bob's answer", |a| {
            texts(a, &main_chat()).contains(&"hi alice".to_string())
        });
        bob.send("/msg alice a private word");
        wait(&mut harness, "bob's DM", |a| {
            a.model()
                .chats
                .iter()
                .any(|c| matches!(c.chat, Chat::Direct(_)) && c.unread == 1 && c.attention)
        });
    });
}

#[test]
fn the_window_searches_history_and_jumps_to_a_hit_and_shows_history_after_a_restart() {
    let dir = TempDir::create();
    let lan = MemoryLan::new();
    let mut bob = Buddy::start(&lan, &dir, "bob");
    {
        let mut harness = app(Some(&lan), &dir, "alice");
        meet(&mut harness, &mut bob);
        bob.send(Command::Core(CoreCommand::Say {
            to: vec![Target::Channel(MAIN_CHANNEL.into())],
            text: "the quarterly report is ready".into(),
            kind: MessageKind::Text,
        }));
        // Alice answers what she has read: her stamp then follows bob's,
        // so the order after the restart (by stamp) is the order seen now.
        wait(&mut harness, "bob's message", |a| {
            texts(a, &main_chat()).len() == 1
        });
        say(&mut harness, "thanks, отчёт прочитаю");
        wait(&mut harness, "both messages", |a| {
            texts(a, &main_chat()).len() == 2
        });
        say(&mut harness, "/join #other");
        wait(&mut harness, "in #other", |a| {
            a.selected() == &Chat::Channel("#other".into())
        });
        say(&mut harness, "/search QUARTERLY");
        wait(&mut harness, "a search hit", |a| {
            a.search_results().len() == 1
        });
        harness.run_steps(2);
        harness
            .get_by_label_contains("the quarterly report is ready")
            .click();
        harness.run_steps(3);
        assert_eq!(harness.state().selected(), &main_chat());
        say(&mut harness, "/search ОТЧЁТ");
        wait(&mut harness, "a Cyrillic hit", |a| {
            a.search_results()
                .iter()
                .any(|m| m.text.starts_with("thanks"))
        });
        let file = dir.0.join("main.txt");
        say(&mut harness, &format!("/export #Main {}", file.display()));
        wait(&mut harness, "the export notice", |a| {
            a.model().chat(&main_chat()).is_some_and(|c| {
                c.rows.iter().any(|r| {
                    matches!(r, Row::System(_, SystemLine::Notice(t)) if t.starts_with("Saved 2 messages"))
                })
            })
        });
        let exported = std::fs::read_to_string(&file).expect("the exported chat");
        assert!(
            exported.contains("<bob> the quarterly report is ready"),
            "{exported}"
        );
        assert!(
            exported.contains("<alice> thanks, отчёт прочитаю"),
            "{exported}"
        );
    }
    // A new window on the same data directory shows what was said.
    let mut harness = app(Some(&lan), &dir, "alice");
    wait(&mut harness, "history after a restart", |a| {
        texts(a, &main_chat()).len() >= 2
    });
    assert_eq!(
        texts(harness.state(), &main_chat()),
        ["the quarterly report is ready", "thanks, отчёт прочитаю"]
    );
    let marked = harness.state().model().chat(&main_chat()).is_some_and(|c| {
        c.rows
            .iter()
            .all(|r| !matches!(r, Row::Message(m) if !m.history))
    });
    assert!(marked, "replayed messages are marked as history");
}

/// `count` messages of bob's in #Main, a second apart, stored in alice's
/// history before her window starts; texts `old 0000`, `old 0001`, …
fn store_old_messages(dir: &TempDir, count: u64) -> Vec<String> {
    let data = dir.0.join("alice");
    std::fs::create_dir_all(&data).expect("data dir");
    let mut store = Store::open(&data).expect("the store");
    let start = lanchat::identity::unix_ms() - 3 * 3_600_000;
    let texts: Vec<String> = (0..count).map(|n| format!("old {n:04}")).collect();
    let batch: Vec<Write> = texts
        .iter()
        .zip(0u64..)
        .map(|(text, n)| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&(n + 1).to_be_bytes());
            let time_ms = start + n * 1000;
            Write::Message(Stored {
                message: ChatMessage {
                    id: MsgId(id),
                    chat: main_chat(),
                    from: NodeId([7; 16]),
                    nick: "bob".into(),
                    kind: MessageKind::Text,
                    text: text.clone(),
                    time_ms,
                    hlc: time_ms << 16,
                    author: None,
                },
                dm_state: None,
            })
        })
        .collect();
    store.write(&batch).expect("write");
    texts
}

fn paging(app: &LanchatApp) -> Option<Paging> {
    app.model().chat(&main_chat()).map(|c| c.paging)
}

/// The topmost of the stored messages drawn: its text and height on screen.
fn top_row(harness: &Harness<'_, LanchatApp>) -> Option<(String, f32)> {
    harness
        .query_all_by_label_contains("old ")
        .filter_map(|n| Some((n.value()?, n.rect().min.y)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Scrolls up half a screen at a time (the topmost row drawn is brought to
/// the middle: no wheel smoothing or momentum, so nothing moves between
/// steps) until `done` holds; returns the topmost row then.
fn scroll_up_until(
    harness: &mut Harness<'_, LanchatApp>,
    what: &str,
    done: impl Fn(&Harness<'_, LanchatApp>) -> bool,
) -> (String, f32) {
    let deadline = Instant::now() + WAIT;
    loop {
        let top = top_row(harness).expect("a stored message on screen");
        if done(harness) {
            return top;
        }
        assert!(
            Instant::now() < deadline,
            "timed out scrolling up to {what}"
        );
        harness.get_by_label(&top.0).scroll_to_me();
        // The scroll area moves a frame or two later.
        harness.run_steps(4);
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn scrolling_to_the_top_reads_older_history_a_page_at_a_time_and_the_view_stays_put() {
    let dir = TempDir::create();
    let all = store_old_messages(&dir, 1200);
    let mut harness = app(Some(&MemoryLan::new()), &dir, "alice");
    wait(&mut harness, "the newest page", |a| {
        paging(a) == Some(Paging::More)
    });
    assert_eq!(HISTORY_PAGE, 500);
    assert_eq!(texts(harness.state(), &main_chat()), all[700..]);
    // At the bottom, nothing more is asked.
    harness.run_steps(5);
    assert_eq!(paging(harness.state()), Some(Paging::More));
    harness.get_by_label("old 1199");

    // Near the top the next page is asked for (the answer may be here
    // already), once.
    let asked = |h: &Harness<'_, LanchatApp>| {
        paging(h.state()) != Some(Paging::More) || texts(h.state(), &main_chat()).len() > 500
    };
    let (row, y) = scroll_up_until(&mut harness, "the second page asked", asked);
    wait(&mut harness, "the second page", |a| {
        paging(a) == Some(Paging::More) && texts(a, &main_chat()).len() > 500
    });
    harness.run_steps(3);
    // Merged once each, in order (the page repeats its bound, 700)…
    assert_eq!(texts(harness.state(), &main_chat()), all[201..]);
    // …and the row that was on top stays where it was: no jump to the new
    // top.
    let now = harness.query_by_label(&row).map(|n| n.rect().min.y);
    assert!(
        now.is_some_and(|now| (now - y).abs() < 1.0),
        "{row} was at {y}, now at {now:?}"
    );
    assert!(harness.query_by_label("old 0201").is_none());

    // Up again: a short page, the beginning.
    let asked = |h: &Harness<'_, LanchatApp>| {
        paging(h.state()) != Some(Paging::More) || texts(h.state(), &main_chat()).len() > 999
    };
    scroll_up_until(&mut harness, "the third page asked", asked);
    wait(&mut harness, "the beginning", |a| {
        paging(a) == Some(Paging::Start)
    });
    assert_eq!(texts(harness.state(), &main_chat()), all);
    scroll_up_until(&mut harness, "the first message", |h| {
        h.query_by_label("Beginning of history").is_some()
    });
    harness.get_by_label("old 0000");
    // Nothing more is asked at the beginning.
    harness.run_steps(5);
    assert_eq!(paging(harness.state()), Some(Paging::Start));
}

/// A node of another wire version on the LAN (an office upgrading one PC
/// at a time) is named in a banner, not left silent.
#[test]
fn a_node_of_a_newer_version_is_named_in_a_banner() {
    let dir = TempDir::create();
    let (lan, mut harness, _bob) = pair(&dir);
    let newer = lanchat::wire::VERSION + 1;
    let mut datagram = lanchat::wire::MAGIC.to_vec();
    datagram.extend_from_slice(&[newer, 0]);
    datagram.extend_from_slice(&[7; 100]);
    let from: std::net::SocketAddr = "192.0.2.200:47077".parse().expect("address");
    lan.inject(from, &datagram);
    let words = format!("192.0.2.200 runs a newer lanchat (wire version {newer}");
    wait(&mut harness, "the notice", |a| {
        a.notices().iter().any(|n| n.text.contains(&words))
    });
    // On screen: the banner and the line in the chat.
    assert!(harness.query_all_by_label_contains(&words).count() >= 1);
    // Told once, though it goes on sending.
    for _ in 0..5 {
        lan.inject(from, &datagram);
    }
    harness.run_steps(20);
    let told = harness
        .state()
        .notices()
        .iter()
        .filter(|n| n.text.contains(&words))
        .count();
    assert_eq!(told, 1);
}
