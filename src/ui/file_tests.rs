//! The window's file transfer under `egui_kittest`: the real app on an
//! in-memory LAN, file events handed to it as its node would hand them,
//! and the commands its cards, dialog and drops give the node read back
//! from the session. No offer here reaches a node, so nothing is fetched.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::model::{Alert, Model};
use super::{AppOptions, LanchatApp};
use crate::api::{ChatMessage, Command, Event, Target};
use crate::files::FileEvent;
use crate::files::{
    Direction, FileDone, FileFailed, FileFailure, FileId, FileOffer, FileOptions, FileProgress,
    Flow, Offer,
};
use crate::net::{MemoryLan, NetOptions, NodeEvent};
use crate::protocol::{CoreCommand, CoreEvent};
use crate::settings::Settings;
use crate::types::{Chat, MAIN_CHANNEL, MessageKind, MsgId, NodeId};

const BOB: NodeId = NodeId([2; 16]);
const CAROL: NodeId = NodeId([3; 16]);

fn main_chat() -> Chat {
    Chat::Channel(MAIN_CHANNEL.into())
}

/// The app as alice, its node on a LAN of its own (its file port any
/// free one), with `settings` saved before it starts.
fn app(dir: &Path, settings: &Settings) -> Harness<'static, LanchatApp> {
    let settings_path = dir.join("settings.json");
    settings.save(&settings_path).expect("settings saved");
    let options = AppOptions {
        net: NetOptions {
            data_dir: Some(dir.join("data")),
            nick: Some("alice".into()),
            lan: Some(MemoryLan::new()),
            files: FileOptions {
                port: 0,
                ..FileOptions::default()
            },
            ..NetOptions::default()
        },
        settings_path: Some(settings_path),
        desktop: false,
        policy_path: Some(dir.join("no-policy.toml")),
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1000.0, 700.0))
        .build_eframe(|cc| LanchatApp::new(cc, options));
    harness.run_steps(2);
    // The node lists its transfers once it runs; an offer fed before the
    // list came would be closed by it, as one no longer open.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !harness.state().model().transfers.listed {
        assert!(Instant::now() < deadline, "the node never listed transfers");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness
}

pub(super) fn english(dir: &Path) -> Harness<'static, LanchatApp> {
    let settings = Settings {
        language: Some(crate::i18n::Lang::En),
        ..Settings::default()
    };
    app(dir, &settings)
}

/// Hands the app an event as its node would, and draws it.
pub(super) fn feed(harness: &mut Harness<'_, LanchatApp>, event: Event) {
    harness.state_mut().apply_event(NodeEvent {
        event,
        history: false,
        search: false,
    });
    harness.run_steps(2);
}

/// What the app handed its node so far.
fn sent(harness: &Harness<'_, LanchatApp>) -> Vec<Command> {
    harness
        .state()
        .session
        .sent
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default()
}

fn offer(n: u8, name: &str, size: u64) -> Offer {
    Offer {
        id: FileId([n; 16]),
        name: name.into(),
        size,
        files: 1,
        folder: false,
        port: 47079,
    }
}

/// Bob's file message making `offer` in `chat`.
fn offered_by_bob(offer: &Offer, chat: Chat) -> Event {
    bobs_file_message(MsgId(offer.id.0), chat, offer.to_text())
}

/// A file message of Bob's with this text, sent now.
fn bobs_file_message(id: MsgId, chat: Chat, text: String) -> Event {
    let now = crate::identity::unix_ms();
    Event::Core(CoreEvent::Message(ChatMessage {
        id,
        chat,
        from: BOB,
        nick: "bob".into(),
        kind: MessageKind::File,
        text,
        time_ms: now,
        hlc: now << 16,
        author: None,
    }))
}

/// Bob's offer as a card in #Main, open.
fn bobs_offer(harness: &mut Harness<'_, LanchatApp>, offer: &Offer) {
    feed(harness, offered_by_bob(offer, main_chat()));
    feed(
        harness,
        Event::File(FileEvent::Offer(FileOffer {
            offer: offer.clone(),
            from: BOB,
            nick: "bob".into(),
            chat: main_chat(),
        })),
    );
}

fn progress(id: FileId, peer: NodeId, direction: Direction, done: u64, flow: Flow) -> Event {
    Event::File(FileEvent::Progress(FileProgress {
        id,
        peer,
        direction,
        done,
        total: 1000,
        rate: 1_200_000,
        eta_secs: Some(10),
        flow,
    }))
}

#[test]
fn an_offer_to_me_is_a_card_whose_accept_and_decline_reach_the_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = english(dir.path());
    let report = offer(1, "report.pdf", 1_400_000);
    bobs_offer(&mut harness, &report);
    harness.get_by_label("bob offers report.pdf (1.4 MB)");
    harness.get_by_label("Accept").click_accesskit();
    harness.run_steps(2);
    assert!(sent(&harness).contains(&Command::AcceptFile(report.id)));

    let notes = offer(2, "notes.txt", 512);
    bobs_offer(&mut harness, &notes);
    harness.get_by_label("bob offers notes.txt (512 B)");
    // Two open offers: the second card's Decline.
    let declines: Vec<_> = harness.query_all_by_label("Decline").collect();
    assert_eq!(declines.len(), 2);
    declines[1].click_accesskit();
    harness.run_steps(2);
    assert!(sent(&harness).contains(&Command::DeclineFile(notes.id)));
    assert!(!sent(&harness).contains(&Command::DeclineFile(report.id)));
}

#[test]
fn a_download_shows_its_percentage_speed_time_left_and_flow_and_can_be_cancelled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = english(dir.path());
    let report = offer(1, "report.pdf", 1000);
    bobs_offer(&mut harness, &report);
    feed(
        &mut harness,
        progress(report.id, BOB, Direction::Down, 450, Flow::Active),
    );
    harness.get_by_label("45%");
    harness.get_by_label("1.2 MB/s · 10 s left");
    assert!(harness.query_by_label("Accept").is_none());
    for (flow, words) in [
        (Flow::SenderAway, "waiting for bob to come back online"),
        (Flow::Reconnecting, "reconnecting…"),
        (Flow::Queued, "queued"),
    ] {
        feed(
            &mut harness,
            progress(report.id, BOB, Direction::Down, 600, flow),
        );
        harness.get_by_label("60%");
        harness.get_by_label(words);
    }
    harness.get_by_label("Cancel").click_accesskit();
    harness.run_steps(2);
    assert!(sent(&harness).contains(&Command::CancelFile(report.id)));
}

#[test]
fn a_finished_download_says_where_it_is_and_a_failed_one_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = english(dir.path());
    let report = offer(1, "report.pdf", 1000);
    bobs_offer(&mut harness, &report);
    feed(
        &mut harness,
        Event::File(FileEvent::Done(FileDone {
            id: report.id,
            peer: BOB,
            direction: Direction::Down,
            path: Some(PathBuf::from("/home/alice/Downloads/report.pdf")),
            size: 1000,
            sha256: format!("0123abcd{}9876fedc", "5".repeat(48)),
            carried: 1000,
            resumes: 1,
        })),
    );
    harness.get_by_label("✔ Saved to /home/alice/Downloads/report.pdf");
    harness.get_by_label("SHA-256: 0123abcd…9876fedc");
    assert!(harness.query_by_label("Cancel").is_none());
    // The file opens, and so does the folder it is in (the tests' window
    // has no desktop, so nothing is launched).
    harness.get_by_label("Open").click_accesskit();
    harness.run();
    harness.get_by_label("Show in folder").click_accesskit();
    harness.run();
    assert_eq!(
        harness.state().opened(),
        [
            PathBuf::from("/home/alice/Downloads/report.pdf"),
            PathBuf::from("/home/alice/Downloads")
        ]
    );

    let broken = offer(2, "broken.iso", 1000);
    bobs_offer(&mut harness, &broken);
    feed(
        &mut harness,
        Event::File(FileEvent::Failed(FileFailed {
            id: broken.id,
            peer: Some(BOB),
            direction: Direction::Down,
            reason: FileFailure::Corrupt,
        })),
    );
    harness.get_by_label("Not received: the data arrived damaged twice");
}

#[test]
fn my_offer_shows_each_receiver_and_withdraw_until_withdrawn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = english(dir.path());
    let photos = Offer {
        files: 12,
        folder: true,
        ..offer(5, "photos", 40_100_000)
    };
    feed(
        &mut harness,
        Event::Core(CoreEvent::Sent {
            id: MsgId(photos.id.0),
            chat: main_chat(),
            text: photos.to_text(),
            kind: MessageKind::File,
            hlc: crate::identity::unix_ms() << 16,
            author: None,
        }),
    );
    feed(
        &mut harness,
        Event::File(FileEvent::Offered {
            offer: photos.clone(),
            chat: main_chat(),
        }),
    );
    harness.get_by_label("You offered photos/ (12 files, 40.1 MB)");
    harness.get_by_label("each member of #Main decides for themselves");
    feed(
        &mut harness,
        progress(photos.id, BOB, Direction::Up, 500, Flow::Active),
    );
    feed(
        &mut harness,
        Event::File(FileEvent::Done(FileDone {
            id: photos.id,
            peer: CAROL,
            direction: Direction::Up,
            path: None,
            size: 40_100_000,
            sha256: String::new(),
            carried: 40_100_000,
            resumes: 0,
        })),
    );
    harness.get_by_label("50%");
    harness.get_by_label("✔ received");
    // Bob's connection broke and he is not online: he is waited for.
    feed(
        &mut harness,
        progress(photos.id, BOB, Direction::Up, 500, Flow::Reconnecting),
    );
    assert!(!harness.state().model().peers.contains_key(&BOB));
    harness.get_by_label("waiting for 0202 to come back online");
    harness.get_by_label("Withdraw").click_accesskit();
    harness.run_steps(2);
    assert!(sent(&harness).contains(&Command::CancelFile(photos.id)));
    feed(
        &mut harness,
        Event::File(FileEvent::Failed(FileFailed {
            id: photos.id,
            peer: None,
            direction: Direction::Up,
            reason: FileFailure::Cancelled,
        })),
    );
    harness.get_by_label("You withdrew this offer");
    assert!(harness.query_by_label("Withdraw").is_none());
}

#[test]
fn the_window_asks_for_the_transfers_once_and_an_offer_it_does_not_list_is_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = english(dir.path());
    let asked = sent(&harness)
        .iter()
        .filter(|c| **c == Command::Files)
        .count();
    assert_eq!(asked, 1);
    // A file message from an earlier run whose offer is gone.
    feed(
        &mut harness,
        offered_by_bob(&offer(9, "old.zip", 10), main_chat()),
    );
    harness.get_by_label("bob offers old.zip (10 B)");
    harness.get_by_label("This offer is no longer open");
    assert!(harness.query_by_label("Accept").is_none());
}

/// A file dropped on the window, as eframe hands it over.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|err| err.to_string())
    }
}

#[test]
fn files_dropped_on_the_window_are_offered_in_the_chat_on_screen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plan.txt");
    std::fs::write(&file, b"the plan").expect("write");
    let mut harness = english(dir.path());
    harness.input_mut().hovered_files.push(egui::HoveredFile {
        path: Some(file.clone()),
        ..Default::default()
    });
    harness.run_steps(2);
    harness.get_by_label("Drop to offer to #Main");
    harness.input_mut().hovered_files.clear();
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(file.clone())));
    harness.run_steps(2);
    assert!(harness.query_by_label("Drop to offer to #Main").is_none());
    let to_main = Command::SendFiles {
        to: Target::Channel(MAIN_CHANNEL.into()),
        paths: vec![file.clone()],
    };
    assert!(sent(&harness).contains(&to_main), "{:?}", sent(&harness));

    // In a private chat they go to that person.
    harness.state_mut().select(Chat::Direct(BOB));
    harness.run_steps(2);
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(file.clone())));
    harness.run_steps(2);
    let to_bob = Command::SendFiles {
        to: Target::Node(BOB),
        paths: vec![file],
    };
    assert!(sent(&harness).contains(&to_bob), "{:?}", sent(&harness));
}

/// The field labelled `label` whose role is `role`.
fn field<'h>(
    harness: &'h Harness<'_, LanchatApp>,
    label: &'h str,
    role: Role,
) -> egui_kittest::Node<'h> {
    harness.get_by_role_and_label(role, label)
}

/// The offer dialog's paths field.
fn paths_field<'h>(harness: &'h Harness<'_, LanchatApp>) -> egui_kittest::Node<'h> {
    let label = "Files and folders, one per line (a folder goes whole):";
    field(harness, label, Role::MultilineTextInput)
}

#[test]
fn the_offer_dialog_names_a_missing_path_and_offers_the_ones_that_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.txt");
    std::fs::write(&file, b"a").expect("write");
    let mut harness = english(dir.path());
    harness.get_by_label("Send a file…").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Offer files in #Main");
    // Ready to type (or paste) a path.
    assert!(paths_field(&harness).is_focused());
    harness.get_by_label("Offer").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Choose at least one file or folder");
    paths_field(&harness).focus();
    harness.run_steps(1);
    let typed = format!("{}\n/no/such/file.txt", file.display());
    paths_field(&harness).type_text(&typed);
    harness.run_steps(2);
    harness.get_by_label("Offer").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Not found: /no/such/file.txt");
    let offered = |h: &Harness<'_, LanchatApp>| {
        sent(h)
            .iter()
            .any(|c| matches!(c, Command::SendFiles { .. }))
    };
    assert!(!offered(&harness));
    // The missing line goes; the rest is offered and the dialog closes.
    harness
        .state_mut()
        .dialogs
        .send
        .as_mut()
        .expect("open")
        .paths = file.display().to_string();
    harness.run_steps(1);
    harness.get_by_label("Offer").click_accesskit();
    harness.run_steps(2);
    let want = Command::SendFiles {
        to: Target::Channel(MAIN_CHANNEL.into()),
        paths: vec![file],
    };
    assert!(sent(&harness).contains(&want), "{:?}", sent(&harness));
    assert!(harness.query_by_label("Offer files in #Main").is_none());
}

#[test]
fn the_file_picker_adds_what_is_chosen_to_the_dialog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("pick");
    std::fs::create_dir_all(folder.join("photos")).expect("mkdir");
    std::fs::write(folder.join("a.txt"), b"a").expect("write");
    let mut harness = english(dir.path());
    harness.state_mut().dialogs.pick_dir = Some(folder.clone());
    harness.get_by_label("Send a file…").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Browse…").click_accesskit();
    harness.run_steps(3);
    harness.get_by_label_contains("a.txt").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Choose").click_accesskit();
    harness.run_steps(3);
    let paths = harness
        .state()
        .dialogs
        .send
        .as_ref()
        .map(|f| f.paths.clone())
        .unwrap_or_default();
    assert_eq!(paths, folder.join("a.txt").display().to_string());
    assert!(
        harness.query_by_label("Choose").is_none(),
        "the picker closed"
    );
}

#[test]
fn the_download_folder_and_auto_accept_are_saved_and_restart_the_node_with_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = english(dir.path());
    harness.get_by_label("Me").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Settings…").click_accesskit();
    harness.run_steps(2);
    // A command to the node before the restart, to tell the two apart.
    harness.state_mut().command(Command::Core(CoreCommand::Who));
    field(&harness, "Download folder", Role::TextInput).focus();
    harness.run_steps(1);
    field(&harness, "Download folder", Role::TextInput).type_text(" /srv/incoming ");
    harness.run_steps(1);
    harness
        .get_by_label("Accept files without asking")
        .click_accesskit();
    harness.run_steps(1);
    harness.get_by_label("Save").click_accesskit();
    harness.run_steps(2);
    let settings = harness.state().settings().clone();
    assert_eq!(settings.download_dir, Some(PathBuf::from("/srv/incoming")));
    assert!(settings.auto_accept_files);
    let saved = Settings::load(&dir.path().join("settings.json"));
    assert_eq!(saved, settings);
    let net = LanchatApp::net_options(&harness.state().options, &settings);
    assert_eq!(net.files.download_dir, Some(PathBuf::from("/srv/incoming")));
    assert!(net.files.auto_accept);
    // The node was restarted with them, and asked again for its transfers.
    let after = sent(&harness);
    assert!(
        !after.contains(&Command::Core(CoreCommand::Who)),
        "{after:?}"
    );
    assert_eq!(after.first(), Some(&Command::Files));
}

#[test]
fn the_card_speaks_russian() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = Settings {
        language: Some(crate::i18n::Lang::Ru),
        ..Settings::default()
    };
    let mut harness = app(dir.path(), &settings);
    let report = offer(1, "отчёт.pdf", 1_400_000);
    bobs_offer(&mut harness, &report);
    harness.get_by_label("bob предлагает отчёт.pdf (1,4 МБ)");
    harness.get_by_label("Принять");
    harness.get_by_label("Отклонить");
    harness.get_by_label("Отправить файл…");
}

#[test]
fn an_offer_to_me_counts_as_unread_with_attention_and_alerts_like_a_private_message() {
    let mut model = Model::new(NodeId([1; 16]), "report".into());
    let dev = Chat::Channel("#dev".into());
    model.open(&dev);
    // Its name holds my nick: an offer is no mention, but it is an alert.
    let report = offer(1, "report.pdf", 1_400_000);
    let event = NodeEvent {
        event: offered_by_bob(&report, dev.clone()),
        history: false,
        search: false,
    };
    let alert = model.apply(&event, 1, Some(&main_chat()), true);
    assert_eq!(
        alert,
        Some(Alert::File {
            nick: "bob".into(),
            channel: Some("#dev".into()),
            offer: report.clone(),
        })
    );
    assert_eq!(model.unread(), (1, true));
    let row = model.chat(&dev).and_then(|c| c.rows.last()).cloned();
    assert!(matches!(
        row,
        Some(super::model::Row::Message(m)) if !m.mention && m.offer() == Some(&report)
    ));
}

#[test]
fn a_withdrawn_offer_closes_its_card_and_the_withdrawal_is_a_quiet_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = english(dir.path());
    let report = offer(1, "report.pdf", 1000);
    bobs_offer(&mut harness, &report);
    harness.get_by_label("Accept");
    let withdrawal = crate::files::Withdrawal::of(&report).to_text();
    feed(
        &mut harness,
        bobs_file_message(MsgId([9; 16]), main_chat(), withdrawal.clone()),
    );
    // The node closes the offer when the withdrawal reaches it.
    feed(
        &mut harness,
        Event::File(FileEvent::Failed(FileFailed {
            id: report.id,
            peer: Some(BOB),
            direction: Direction::Down,
            reason: FileFailure::CancelledByPeer,
        })),
    );
    harness.get_by_label("bob withdrew the offer of report.pdf");
    harness.get_by_label("Not received: bob withdrew it");
    assert!(harness.query_by_label("Accept").is_none());
    // The withdrawal is no news: the offer was, once.
    let mut model = Model::new(NodeId([1; 16]), "alice".into());
    let dev = Chat::Channel("#dev".into());
    model.open(&dev);
    let event = NodeEvent {
        event: bobs_file_message(MsgId([9; 16]), dev.clone(), withdrawal),
        history: false,
        search: false,
    };
    assert_eq!(model.apply(&event, 1, Some(&main_chat()), true), None);
    assert_eq!(model.unread(), (0, false));
}
