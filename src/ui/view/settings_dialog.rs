//! The settings dialog: a draft of [`crate::settings::Settings`]
//! edited in a grid (nick, workgroup, interfaces, download folder, history,
//! language) and checkboxes; values the administrator's policy locks are
//! greyed out with a note. Save applies the draft (a network choice
//! restarts the node).

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::dialogs::window;
use crate::i18n::{Lang, Strings};
use crate::input;
use crate::ui::{LanchatApp, lang_name};

/// The settings dialog: edits a draft of the settings; Save applies it.
pub(super) fn show(app: &mut LanchatApp, ctx: &egui::Context) {
    let Some(mut draft) = app.dialogs.settings.take() else {
        return;
    };
    let t = draft.lang().strings();
    let locks = app.locks();
    let mut open = true;
    let mut save = false;
    let mut cancel = false;
    window(t.settings.trim_end_matches('…'), &mut open).show(ctx, |ui| {
        egui::Grid::new("settings").num_columns(2).show(ui, |ui| {
            let label = ui.label(t.nick);
            let mut nick = draft
                .nick
                .clone()
                .unwrap_or_else(|| app.model.my_nick().to_string());
            let edit = egui::TextEdit::singleline(&mut nick);
            if lockable(ui, locks.nick, t, edit, label.id).changed() {
                draft.nick = Some(nick.trim().to_string());
            }
            ui.end_row();
            let label = ui.label(t.workgroup);
            // A locked passphrase is not the user's to see, not even its length.
            let mut passphrase = if locks.workgroup {
                "locked-passphrase".to_string()
            } else {
                app.workgroup_for(&draft).unwrap_or_default()
            };
            let edit = egui::TextEdit::singleline(&mut passphrase).password(true);
            if lockable(ui, locks.workgroup, t, edit, label.id).changed() {
                draft.workgroup = Some(passphrase);
            }
            ui.end_row();
            ui.label("");
            ui.label(RichText::new(t.workgroup_help).small().weak());
            ui.end_row();
            let names = |list: &[String]| list.join(", ");
            let parse = |text: &str| -> Vec<String> {
                text.split([',', ' '])
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            ui.label(t.interfaces_only);
            let mut only = names(&draft.interfaces);
            if ui
                .add(egui::TextEdit::singleline(&mut only).hint_text("eth0, wlan0"))
                .changed()
            {
                draft.interfaces = parse(&only);
            }
            ui.end_row();
            ui.label(t.interfaces_never);
            let mut never = names(&draft.exclude_interfaces);
            if ui
                .add(egui::TextEdit::singleline(&mut never).hint_text("docker0"))
                .changed()
            {
                draft.exclude_interfaces = parse(&never);
            }
            ui.end_row();
            ui.label(t.multicast_ttl);
            let mut ttl = draft.multicast_ttl.max(1);
            if ui
                .add(egui::DragValue::new(&mut ttl).range(1..=255))
                .changed()
            {
                draft.multicast_ttl = ttl;
            }
            ui.end_row();
            ui.label("");
            ui.label(RichText::new(t.interfaces_help).small().weak());
            ui.end_row();
            let label = ui.label(t.download_dir);
            // Kept as typed (a trailing space may be on its way to a
            // name); made a path on Save.
            let mut folder = draft
                .download_dir
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let hint = app.default_downloads().display().to_string();
            let edit = egui::TextEdit::singleline(&mut folder)
                .hint_text(hint)
                .desired_width(260.0);
            if lockable(ui, locks.download_dir, t, edit, label.id).changed() {
                draft.download_dir =
                    Some(PathBuf::from(folder)).filter(|p| !p.as_os_str().is_empty());
            }
            ui.end_row();
            ui.label("");
            ui.label(RichText::new(t.download_help).small().weak());
            ui.end_row();
            let label = ui.label(t.auto_away);
            let value = egui::DragValue::new(&mut draft.auto_away_minutes).range(0..=240);
            lockable(ui, locks.auto_away_minutes, t, value, label.id);
            ui.end_row();
            let label = ui.label(t.keep_days);
            let value = egui::DragValue::new(&mut draft.keep_days).range(0..=3650);
            lockable(ui, locks.keep_days, t, value, label.id);
            ui.end_row();
            let label = ui.label(t.join_history);
            let default = crate::catchup::Share::default().max_messages;
            let mut given = draft.join_history.unwrap_or(default);
            let max = crate::catchup::PER_CHANNEL;
            let value = egui::DragValue::new(&mut given).range(0..=max);
            if lockable(ui, locks.join_history, t, value, label.id).changed() {
                draft.join_history = Some(given);
            }
            ui.end_row();
            ui.label(t.language);
            ui.horizontal(|ui| {
                ui.add_enabled_ui(!locks.language, |ui| {
                    egui::ComboBox::from_id_salt("language")
                        .selected_text(lang_name(draft.language, t))
                        .show_ui(ui, |ui| {
                            for choice in [None, Some(Lang::En), Some(Lang::Ru)] {
                                ui.selectable_value(
                                    &mut draft.language,
                                    choice,
                                    lang_name(choice, t),
                                );
                            }
                        });
                });
                if locks.language {
                    admin_note(ui, t);
                }
            });
            ui.end_row();
        });
        for (value, text, locked) in [
            (&mut draft.sounds, t.sounds, locks.sounds),
            (
                &mut draft.notifications,
                t.notifications,
                locks.notifications,
            ),
            (
                &mut draft.start_minimised,
                t.start_minimised,
                locks.start_minimised,
            ),
            (
                &mut draft.start_at_login,
                t.start_at_login,
                locks.start_at_login,
            ),
            (
                &mut draft.auto_accept_files,
                t.auto_accept_files,
                locks.auto_accept_files,
            ),
        ] {
            ui.horizontal(|ui| {
                ui.add_enabled(!locked, egui::Checkbox::new(value, text));
                if locked {
                    admin_note(ui, t);
                }
            });
        }
        ui.separator();
        ui.horizontal(|ui| {
            save = ui.button(t.save).clicked();
            cancel = ui.button(t.cancel).clicked();
        });
    });
    if save {
        if let Some(nick) = &draft.nick
            && !crate::types::valid_nick(nick)
        {
            let text = t.input_error(&input::InputError::BadNick(nick.clone()));
            app.notice(text);
            app.dialogs.settings = Some(draft);
            return;
        }
        draft.download_dir = draft
            .download_dir
            .take()
            .map(|p| super::send_files::expand(&p.to_string_lossy()))
            .filter(|p| !p.as_os_str().is_empty());
        app.apply_settings(draft);
    } else if open && !cancel {
        app.dialogs.settings = Some(draft);
    }
}

/// A setting's value, named by `label`; greyed out with the administrator's
/// note beside it when the policy file locks it.
fn lockable(
    ui: &mut egui::Ui,
    locked: bool,
    t: &Strings,
    widget: impl egui::Widget,
    label: egui::Id,
) -> egui::Response {
    ui.horizontal(|ui| {
        let response = ui.add_enabled(!locked, widget).labelled_by(label);
        if locked {
            admin_note(ui, t);
        }
        response
    })
    .inner
}

/// "Set by your administrator", beside a locked setting.
fn admin_note(ui: &mut egui::Ui, t: &Strings) {
    ui.label(RichText::new(t.set_by_admin).italics().weak());
}
