//! The administrator's policy file in the window (under `egui_kittest`, on
//! an in-memory LAN, the policy path passed in) and in a real
//! `lanchat headless` process (the path in `LANCHAT_POLICY`, which is safe
//! to set only for a child process: tests share one environment).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use lanchat::net::{MemoryLan, NetOptions};
use lanchat::settings::Settings;
use lanchat::ui::{AppOptions, LanchatApp};

use crate::util::{Netns, Peer, TempDir, event};

const WAIT: Duration = Duration::from_secs(10);

fn write_policy(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.0.join("policy.toml");
    std::fs::write(&path, text).expect("write the policy");
    path
}

/// The window with `--nick` given as `flag_nick` and the policy at `policy`.
fn window(dir: &TempDir, flag_nick: &str, policy: &Path) -> Harness<'static, LanchatApp> {
    let options = AppOptions {
        net: NetOptions {
            data_dir: Some(dir.0.join("data")),
            nick: Some(flag_nick.into()),
            lan: Some(MemoryLan::new()),
            ..NetOptions::default()
        },
        settings_path: Some(dir.0.join("settings.json")),
        desktop: false,
        policy_path: Some(policy.to_path_buf()),
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1000.0, 700.0))
        .build_eframe(|cc| LanchatApp::new(cc, options));
    harness.step();
    harness
}

fn wait(harness: &mut Harness<'_, LanchatApp>, what: &str, done: impl Fn(&LanchatApp) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done(harness.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
}

fn open_settings(harness: &mut Harness<'_, LanchatApp>) {
    harness.get_by_label("Me").click();
    harness.run_steps(3);
    harness.get_by_label("Settings…").click();
    harness.run_steps(3);
}

#[test]
fn a_locked_nick_beats_the_settings_and_the_flag_and_is_greyed_out_in_the_settings() {
    let dir = TempDir::create();
    let policy = write_policy(
        &dir,
        "[locked]\nnick = \"kiosk-3\"\nworkgroup = \"office-secret\"\n\
         download_dir = \"/srv/incoming\"\nauto_accept_files = false\n\n\
         [defaults]\nsounds = false\n",
    );
    // The user had played with the settings.
    let played_with = Settings {
        nick: Some("mine".into()),
        sounds: true,
        ..Settings::default()
    };
    played_with
        .save(&dir.0.join("settings.json"))
        .expect("save settings");
    let mut harness = window(&dir, "from-flag", &policy);
    wait(&mut harness, "the locked nick", |a| {
        a.model().my_nick() == "kiosk-3"
    });
    let app = harness.state();
    assert_eq!(app.settings().nick.as_deref(), Some("kiosk-3"));
    assert!(!app.settings().sounds, "the default is put back");
    assert_eq!(app.workgroup().as_deref(), Some("office-secret"));
    assert!(app.locks().nick && app.locks().workgroup && !app.locks().sounds);
    assert!(
        app.notices().iter().any(|n| n.text.contains("--nick")),
        "the overridden flag is told: {:?}",
        app.notices()
    );
    // The defaults are saved, so the file shows them.
    assert!(!Settings::load(&dir.0.join("settings.json")).sounds);

    open_settings(&mut harness);
    let nick = harness.get_by_label("Nick");
    assert!(
        nick.accesskit_node().is_disabled(),
        "the nick can be edited"
    );
    assert_eq!(nick.value().as_deref(), Some("kiosk-3"));
    let workgroup = harness.get_by_label("Workgroup passphrase");
    assert!(workgroup.accesskit_node().is_disabled());
    assert_eq!(workgroup.accesskit_node().role(), Role::PasswordInput);
    assert!(
        !workgroup.value().unwrap_or_default().contains("secret"),
        "the passphrase shows"
    );
    let folder = harness.get_by_label("Download folder");
    assert!(folder.accesskit_node().is_disabled());
    assert_eq!(folder.value().as_deref(), Some("/srv/incoming"));
    assert!(
        harness
            .get_by_label("Accept files without asking")
            .accesskit_node()
            .is_disabled()
    );
    assert_eq!(
        harness
            .query_all_by_label("Set by your administrator")
            .count(),
        4
    );
    let sounds = harness.get_by_label("Play sounds");
    assert!(
        !sounds.accesskit_node().is_disabled(),
        "an unlocked setting"
    );
    harness.get_by_label("Save").click();
    harness.run_steps(2);
    assert_eq!(harness.state().settings().nick.as_deref(), Some("kiosk-3"));

    // `/nick` is refused too.
    harness.get_by_role(Role::MultilineTextInput).focus();
    harness.step();
    harness
        .get_by_role(Role::MultilineTextInput)
        .type_text("/nick other");
    harness.step();
    harness.key_press(egui::Key::Enter);
    harness.run_steps(3);
    harness.get_by_label("Your nick is set by your administrator");
    std::thread::sleep(Duration::from_millis(200));
    harness.run_steps(3);
    assert_eq!(harness.state().model().my_nick(), "kiosk-3");
}

#[test]
fn a_workgroup_passphrase_set_in_the_window_is_saved_and_hidden() {
    let dir = TempDir::create();
    let mut harness = window(&dir, "alice", &dir.0.join("no-policy.toml"));
    assert_eq!(harness.state().workgroup(), None);
    assert!(harness.state().notices().is_empty());
    open_settings(&mut harness);
    let field = harness.get_by_label("Workgroup passphrase");
    assert!(!field.accesskit_node().is_disabled());
    field.focus();
    harness.step();
    harness
        .get_by_label("Workgroup passphrase")
        .type_text("blue harbour");
    harness.step();
    assert!(
        !harness
            .get_by_label("Workgroup passphrase")
            .value()
            .unwrap_or_default()
            .contains("blue"),
        "the passphrase is hidden as it is typed"
    );
    harness.get_by_label("Save").click();
    harness.run_steps(2);
    assert_eq!(harness.state().workgroup().as_deref(), Some("blue harbour"));
    assert_eq!(
        Settings::load(&dir.0.join("settings.json"))
            .workgroup
            .as_deref(),
        Some("blue harbour")
    );
    // The network restarted with it and runs.
    wait(&mut harness, "the node back", |a| {
        a.problem().is_none() && a.model().my_nick() == "alice"
    });
}

#[test]
fn a_broken_policy_file_is_shown_and_the_window_starts_without_it() {
    let dir = TempDir::create();
    let policy = write_policy(&dir, "[locked]\nnick = kiosk\n");
    let mut harness = window(&dir, "alice", &policy);
    wait(&mut harness, "the flag's nick", |a| {
        a.model().my_nick() == "alice"
    });
    let notices = harness.state().notices().to_vec();
    assert!(
        notices.iter().any(|n| n.text.contains("administrator")
            && n.details.as_ref().is_some_and(|d| {
                d.contains(&policy.display().to_string()) && d.contains("line 2")
            })),
        "{notices:?}"
    );
    // The raw cause is behind Details, not in the banner.
    assert!(harness.query_by_label_contains("line 2").is_none());
    harness.get_by_label("Details").click();
    harness.run_steps(3);
    assert!(harness.query_by_label_contains("line 2").is_some());
    assert!(!harness.state().locks().nick);
}

#[test]
fn a_locked_nick_beats_the_nick_flag_in_the_headless_mode() {
    let Some(ns) = Netns::create() else { return };
    let dir = TempDir::create();
    let policy = write_policy(&dir, "[locked]\nnick = \"kiosk-7\"\n");
    let env = [("LANCHAT_POLICY", policy.as_path())];
    let mut node = Peer::spawn_with_env(&ns.name, "from-flag", None, &[], &env);
    let (_, ready) = node.expect_event("ready", event("ready", &[]), WAIT);
    assert_eq!(ready["nick"], "kiosk-7", "{ready}");
    node.send("/nick other");
    node.expect_event(
        "/nick refused",
        |v| {
            v["event"] == "error"
                && v["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("administrator"))
        },
        WAIT,
    );
    node.send("/quit");
    assert!(node.wait_exit(WAIT).success());
    assert!(
        node.stderr_text().contains("--nick"),
        "the overridden flag is told on stderr:\n{}",
        node.stderr_text()
    );

    // A broken file: an error naming it, and the node starts anyway.
    let broken = write_policy(&dir, "[locked\n");
    let env = [("LANCHAT_POLICY", broken.as_path())];
    let mut node = Peer::spawn_with_env(&ns.name, "bob", None, &[], &env);
    let path = broken.display().to_string();
    node.expect_event(
        "an error naming the policy file",
        |v| v["event"] == "error" && v["message"].as_str().is_some_and(|m| m.contains(&path)),
        WAIT,
    );
    let (_, ready) = node.expect_event("ready", event("ready", &[]), WAIT);
    assert_eq!(ready["nick"], "bob");
}
