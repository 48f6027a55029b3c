//! The window's layout: menu bar and banners on top, chats on the left,
//! people on the right, and in the middle the open chat's header, messages,
//! typing line and input. Views are functions over [`LanchatApp`]; they
//! read the model and turn clicks and keys into commands.

mod compose;
mod dialogs;
pub(crate) mod file_card;
pub(crate) mod messages;
pub(crate) mod search;
pub(crate) mod send_files;
mod settings_dialog;
mod sidebar;

use eframe::egui::{self, Color32, RichText};

use super::LanchatApp;
use super::session::Problem;
use crate::api::Command;
use crate::i18n::fill;
use crate::protocol::CoreCommand;
use crate::types::{Chat, NodeId, Status};

/// Global look: a little more room than egui's default, readable sizes.
/// A character no font has (a peer may send any) is drawn as a box, never
/// a panic.
pub(crate) fn style(ctx: &egui::Context) {
    ctx.set_missing_glyph_policy(egui::epaint::text::MissingGlyphPolicy::Tofu);
    ctx.global_style_mut(|style| {
        style.spacing.item_spacing = egui::vec2(8.0, 5.0);
        style.interaction.selectable_labels = true;
        // A blinking cursor repaints the window twice a second forever; a
        // steady one lets an idle window cost nothing.
        style.visuals.text_cursor.blink = false;
    });
}

/// A stable colour per person: hue from the node id, fixed lightness that
/// reads on both light and dark backgrounds.
pub(crate) fn nick_colour(id: &NodeId, dark: bool) -> Color32 {
    let hue = f32::from(u16::from_le_bytes([id.0[0], id.0[1]])) / f32::from(u16::MAX);
    let value = if dark { 0.95 } else { 0.6 };
    egui::ecolor::Hsva::new(hue, 0.65, value, 1.0).into()
}

/// A status dot (painted: not every font has a circle).
pub(crate) fn dot(ui: &mut egui::Ui, colour: Color32) {
    let size = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, size), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 4.5, colour);
}

/// The colour of a status dot.
pub(crate) fn status_colour(status: Status) -> Color32 {
    match status {
        Status::Available => Color32::from_rgb(0x3c, 0xb3, 0x71),
        Status::Away => Color32::from_rgb(0xe8, 0xb0, 0x2a),
        Status::DoNotDisturb => Color32::from_rgb(0xd9, 0x48, 0x3b),
    }
}

/// Draws the whole window.
pub(crate) fn show(app: &mut LanchatApp, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| menu_bar(app, ui));
    banners(app, ui);
    egui::Panel::left("chats")
        .resizable(true)
        .default_size(190.0)
        .min_size(140.0)
        .show(ui, |ui| sidebar::chats(app, ui));
    egui::Panel::right("people")
        .resizable(true)
        .default_size(200.0)
        .min_size(140.0)
        .show(ui, |ui| sidebar::people(app, ui));
    egui::CentralPanel::default_margins().show(ui, |ui| {
        egui::Panel::top("chat-header").show(ui, |ui| header(app, ui));
        egui::Panel::bottom("compose")
            .frame(egui::Frame::NONE.inner_margin(egui::Margin::symmetric(0, 6)))
            .show(ui, |ui| compose::show(app, ui));
        messages::show(app, ui);
    });
    dialogs::show(app, ui);
    send_files::dialog(app, &ui.ctx().clone());
    search::results(app, ui);
    send_files::drops(app, ui);
}

fn menu_bar(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let t = app.t();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button(t.menu_chat, |ui| {
            if ui.button(t.join_channel).clicked() {
                app.dialogs.join = Some(super::JoinForm::default());
            }
            if ui.button(t.channel_list).clicked() {
                app.command(Command::Core(CoreCommand::Channels));
            }
            if ui.button(t.export_chat).clicked() {
                app.dialogs.export = Some(app.export_path());
            }
            ui.separator();
            if ui.button(t.quit).clicked() {
                app.quit();
            }
        });
        ui.menu_button(t.menu_me, |ui| {
            if ui.button(t.change_nick).clicked() {
                app.dialogs.nick = Some(app.model.my_nick().to_string());
            }
            ui.separator();
            for status in [Status::Available, Status::Away, Status::DoNotDisturb] {
                let label = RichText::new(t.status(status)).color(status_colour(status));
                let current = app.model.my_status == status;
                if ui.selectable_label(current, label).clicked() {
                    app.command(Command::Core(CoreCommand::Status {
                        status,
                        text: app.model.my_status_text.clone(),
                    }));
                }
            }
            if ui.button(t.set_status).clicked() {
                app.dialogs.status = Some((app.model.my_status, app.model.my_status_text.clone()));
            }
            ui.separator();
            if ui.button(t.settings).clicked() {
                app.dialogs.settings = Some(app.settings.clone());
            }
        });
        ui.menu_button(t.menu_help, |ui| {
            if ui.button(t.network).clicked() {
                app.dialogs.network = Some(crate::ui::NetworkForm::default());
            }
            if ui.button(t.commands).clicked() {
                app.dialogs.help = true;
            }
            if ui.button(t.about).clicked() {
                app.dialogs.about = true;
            }
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            search::search_box(app, ui);
        });
    });
}

/// A problem with the node, and one-time notices, each with what to do.
fn banners(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let t = app.t();
    if let Some(problem) = app.session.problem.clone() {
        let text = match &problem {
            Problem::PortTaken(port) => fill(t.problem_port, &[("port", &port.to_string())]),
            Problem::NoNetwork => t.problem_no_network.to_string(),
            Problem::DataDir { path, cause } => {
                fill(t.problem_data_dir, &[("path", path), ("cause", cause)])
            }
            Problem::InUse { path, pid } => {
                let who = pid.map(|p| format!(" ({p})")).unwrap_or_default();
                fill(t.problem_in_use, &[("path", path), ("who", &who)])
            }
            Problem::Start(cause) => fill(t.problem_start, &[("cause", cause)]),
            Problem::Stopped => t.problem_stopped.to_string(),
        };
        let mut restart = false;
        egui::Panel::top("problem")
            .frame(
                egui::Frame::NONE
                    .fill(Color32::from_rgb(0x8a, 0x1c, 0x1c))
                    .inner_margin(egui::Margin::same(8)),
            )
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("⚠").color(Color32::WHITE).size(18.0));
                    ui.label(RichText::new(text).color(Color32::WHITE));
                    restart = ui.button(t.restart_network).clicked();
                });
            });
        if restart {
            app.restart_network();
        }
    }
    if app.notices.is_empty() {
        return;
    }
    let mut dismiss = None;
    egui::Panel::top("notices")
        .frame(
            egui::Frame::NONE
                .fill(Color32::from_rgb(0x3a, 0x4a, 0x6b))
                .inner_margin(egui::Margin::same(6)),
        )
        .show(ui, |ui| {
            for (i, notice) in app.notices.iter().enumerate() {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(&notice.text).color(Color32::WHITE));
                    if ui.small_button(t.dismiss).clicked() {
                        dismiss = Some(i);
                    }
                });
                if let Some(details) = &notice.details {
                    ui.push_id(i, |ui| {
                        egui::CollapsingHeader::new(
                            RichText::new(t.details).color(Color32::LIGHT_GRAY),
                        )
                        .show(ui, |ui| {
                            ui.label(
                                RichText::new(details)
                                    .color(Color32::LIGHT_GRAY)
                                    .monospace(),
                            );
                        });
                    });
                }
            }
        });
    if let Some(i) = dismiss {
        app.notices.remove(i);
    }
}

/// The open chat's name and topic (editable for channels), or for a private
/// chat the person's status.
fn header(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let t = app.t();
    ui.horizontal(|ui| match app.selected.clone() {
        Chat::Channel(name) => {
            let heading = ui.heading(RichText::new(app.model.title(&app.selected)).strong());
            if app.model.protected.contains(&name) {
                heading.on_hover_text(t.protected_hint);
            }
            let id = egui::Id::unique(("topic", &name));
            let current = app.model.topics.get(&name).cloned().unwrap_or_default();
            let mut draft = ui
                .data(|d| d.get_temp::<String>(id))
                .unwrap_or_else(|| current.clone());
            let response = ui.add(
                egui::TextEdit::singleline(&mut draft)
                    .hint_text(t.topic_hint)
                    .desired_width(f32::INFINITY)
                    .frame(egui::Frame::NONE),
            );
            if response.has_focus() {
                ui.data_mut(|d| d.insert_temp(id, draft.clone()));
            }
            if response.lost_focus() {
                ui.data_mut(|d| d.remove::<String>(id));
                let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
                if enter && draft.trim() != current.trim() && !draft.trim().is_empty() {
                    app.command(Command::Core(CoreCommand::Topic {
                        channel: name,
                        text: draft.trim().to_string(),
                    }));
                }
            }
        }
        Chat::Direct(id) => {
            let label = app.model.label(&id);
            ui.heading(RichText::new(&label).strong());
            match app.model.peers.get(&id) {
                Some(peer) => {
                    dot(ui, status_colour(peer.status));
                    let mut words = t.status(peer.status).to_string();
                    if !peer.status_text.is_empty() {
                        words = format!("{words}: {}", peer.status_text);
                    }
                    ui.label(RichText::new(words).weak());
                    ui.label(RichText::new(format!("· {}", peer.host)).weak());
                }
                None => {
                    ui.label(RichText::new(t.offline).weak());
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, RU};

    /// Symbols the views draw besides the words of the two languages.
    const SYMBOLS: &str = "⚠✔⏳—…·*🗀🗋⬆⟲";

    #[test]
    fn every_word_and_symbol_of_the_window_has_a_glyph() {
        let ctx = egui::Context::default();
        let mut output = ctx.run_ui(egui::RawInput::default(), |_| {});
        // No renderer here to take the font texture (epaint asserts that in
        // debug builds).
        output.textures_delta.clear();
        // The Debug form holds every field's text (Cyrillic and symbols are
        // not escaped).
        let all = format!("{EN:?}{RU:?}{SYMBOLS}{}", crate::input::HELP);
        let missing: String = ctx.fonts_mut(|fonts| {
            let body = egui::FontId::proportional(14.0);
            all.chars()
                .filter(|c| !c.is_control() && !fonts.has_glyphs(&body, &c.to_string()))
                .collect()
        });
        assert!(missing.is_empty(), "no glyph for {missing:?}");
    }
}
