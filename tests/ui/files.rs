//! File transfer through the window on a real network: the app (under
//! kittest, in a namespace on loopback) and a real `lanchat headless`
//! offer each other files, and the cards show what happens.

use egui_kittest::kittest::Queryable;
use lanchat::files::{FileState, human_size};
use lanchat::settings::Settings;
use lanchat::types::{Chat, MessageKind};
use lanchat::ui::model::Row;
use lanchat::ui::transfers::Upload;

use super::{WAIT, app, wait};
use crate::util::{Netns, Peer, TempDir, event};

/// The offer id of the last file message in `chat`, if any.
fn last_offer(app: &lanchat::ui::LanchatApp, chat: &Chat) -> Option<lanchat::files::FileId> {
    app.model()
        .chat(chat)?
        .rows
        .iter()
        .rev()
        .find_map(|r| match r {
            Row::Message(m) if m.kind == MessageKind::File => m.offer().map(|o| o.id),
            _ => None,
        })
}

#[test]
fn the_window_accepts_a_file_from_a_headless_node_and_offers_one_back() {
    let Some(ns) = Netns::create() else { return };
    let dir = TempDir::create();
    let downloads = dir.0.join("downloads");
    let settings = Settings {
        language: Some(lanchat::i18n::Lang::En),
        download_dir: Some(downloads.clone()),
        ..Settings::default()
    };
    settings
        .save(&dir.0.join("settings.json"))
        .expect("settings");
    let report: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let report_path = dir.0.join("report.bin");
    std::fs::write(&report_path, &report).expect("write");
    let plan_path = dir.0.join("plan.txt");
    std::fs::write(&plan_path, "the plan").expect("write");
    let mut bob = Peer::spawn(&ns, "bob");
    bob.expect_event("ready", event("ready", &[]), WAIT);
    ns.enter(|| {
        let mut harness = app(None, &dir, "alice");
        wait(&mut harness, "bob online", |a| {
            a.model().peers.values().any(|p| p.nick == "bob")
        });
        let bob_id = harness
            .state()
            .model()
            .peers
            .values()
            .find(|p| p.nick == "bob")
            .map(|p| p.id)
            .expect("bob");
        let with_bob = Chat::Direct(bob_id);

        // Bob offers; the card shows with Accept, and Accept fetches it.
        bob.send(&format!("/send alice {}", report_path.display()));
        wait(&mut harness, "bob's offer", |a| {
            last_offer(a, &with_bob)
                .and_then(|id| a.model().transfers.get(&id))
                .is_some_and(|t| t.state == FileState::Offered)
        });
        assert_eq!(harness.state().model().unread(), (1, true));
        harness.state_mut().select(with_bob.clone());
        harness.run_steps(2);
        let what = format!("bob offers report.bin ({})", human_size(300_000));
        harness.get_by_label(&what);
        harness.get_by_label("Accept").click();
        harness.run_steps(2);
        wait(&mut harness, "the file received", |a| {
            last_offer(a, &with_bob)
                .and_then(|id| a.model().transfers.get(&id))
                .is_some_and(|t| matches!(t.state, FileState::Done { .. }))
        });
        let saved = downloads.join("report.bin");
        assert_eq!(std::fs::read(&saved).expect("saved"), report);
        harness.get_by_label(&format!("✔ Saved to {}", saved.display()));
        bob.expect_event(
            "bob's upload done",
            event("file_done", &[("direction", "up")]),
            WAIT,
        );

        // Alice offers a file back by dropping it on the window.
        harness
            .input_mut()
            .dropped_files
            .push(std::sync::Arc::new(Dropped(plan_path.clone())));
        harness.run_steps(2);
        let (_, offer) = bob.expect_event("alice's offer", event("file_offer", &[]), WAIT);
        let id = offer["id"].as_str().expect("offer id").to_string();
        wait(&mut harness, "my card", |a| {
            my_offer_shown(a, &with_bob, &id)
        });
        harness.get_by_label("You offered plan.txt (8 B)");
        bob.send(&format!("/accept {id}"));
        bob.expect_event(
            "bob has it",
            event("file_done", &[("direction", "down")]),
            WAIT,
        );
        wait(&mut harness, "bob received it", |a| {
            last_offer(a, &with_bob)
                .and_then(|fid| a.model().transfers.get(&fid))
                .is_some_and(|t| t.uploads.get(&bob_id) == Some(&Upload::Done))
        });
        harness.get_by_label("✔ received");
        // Nothing left to withdraw from the one it was for.
        assert!(harness.query_by_label("Withdraw").is_none());
    });
}

/// Whether `chat` shows my file message making offer `id`, and the
/// window knows the offer.
fn my_offer_shown(app: &lanchat::ui::LanchatApp, chat: &Chat, id: &str) -> bool {
    let Some(fid) = lanchat::files::FileId::parse(id) else {
        return false;
    };
    let shown = app.model().chat(chat).is_some_and(|c| {
        c.rows.iter().any(
            |r| matches!(r, Row::Message(m) if m.mine && m.offer().is_some_and(|o| o.id == fid)),
        )
    });
    shown && app.model().transfers.get(&fid).is_some()
}

/// A file dropped on the window, as eframe hands it over.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|err| err.to_string())
    }
}
