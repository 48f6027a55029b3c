//! Dialogs: join a channel, the channel list, nick, status, a person's
//! info, the network, the command list and about (the settings are in
//! `settings_dialog`).

use eframe::egui::{self, RichText};

use super::status_colour;
use crate::api::Command;
use crate::i18n::fill;
use crate::identity::format_local;
use crate::input::{self, Action};
use crate::protocol::CoreCommand;
use crate::types::{Chat, Status};
use crate::ui::{JoinForm, LanchatApp};

pub(super) fn show(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    join(app, &ctx);
    export(app, &ctx);
    channels(app, &ctx);
    nick(app, &ctx);
    status(app, &ctx);
    super::settings_dialog::show(app, &ctx);
    info(app, &ctx);
    network(app, &ctx);
    text_windows(app, &ctx);
}

/// How often the Network window asks for a fresh report while open.
const NETWORK_REFRESH_MS: u64 = 2_000;

/// The Network window: what the doctor finds, then each interface and
/// peer, and addresses to reach by unicast (add and remove).
fn network(app: &mut LanchatApp, ctx: &egui::Context) {
    let Some(mut form) = app.dialogs.network.take() else {
        return;
    };
    let t = app.t();
    let lang = app.settings.lang();
    let now = crate::identity::unix_ms();
    if now.saturating_sub(form.asked_ms) >= NETWORK_REFRESH_MS {
        form.asked_ms = now;
        app.command(Command::Network);
    }
    ctx.request_repaint_after(std::time::Duration::from_millis(NETWORK_REFRESH_MS));
    let mut open = true;
    let mut add = false;
    let mut forget = None;
    egui::Window::new(t.network)
        .open(&mut open)
        .collapsible(false)
        .resizable(true)
        .default_width(560.0)
        .show(ctx, |ui| {
            egui::ScrollArea::vertical()
                .max_height(420.0)
                .show(ui, |ui| match &app.model.network {
                    None => {
                        ui.label(t.network_waiting);
                    }
                    Some((_, report)) => {
                        ui.heading(t.network_findings);
                        for finding in crate::doctor::findings(report) {
                            let text = lang.strings().finding(&finding);
                            let quiet = matches!(finding, crate::doctor::Finding::AllWell);
                            let mark = if quiet { "✔" } else { "⚠" };
                            ui.label(format!("{mark} {text}"));
                        }
                        ui.separator();
                        ui.heading(t.network_details);
                        for line in lang.strings().network_report(report) {
                            if !line.starts_with('→') {
                                ui.label(RichText::new(line).small());
                            }
                        }
                    }
                });
            ui.separator();
            ui.label(t.network_add_hint);
            ui.horizontal(|ui| {
                let r = ui.add(
                    egui::TextEdit::singleline(&mut form.address)
                        .hint_text("10.0.0.5")
                        .desired_width(220.0),
                );
                add = enter_pressed(ui, &r);
                add |= ui.button(t.network_add).clicked();
            });
            for addr in &app.model.static_peers {
                ui.horizontal(|ui| {
                    ui.label(addr.to_string());
                    if ui.small_button(t.network_remove).clicked() {
                        forget = Some(*addr);
                    }
                });
            }
        });
    if add && !form.address.trim().is_empty() {
        let line = format!("/peer {}", form.address.trim());
        match input::parse(&line, &app.current_target()) {
            Ok(Action::Command(command)) => {
                app.command(command);
                form.address.clear();
                form.asked_ms = 0;
            }
            Ok(_) => {}
            Err(err) => {
                let text = t.input_error(&err);
                app.notice(text);
            }
        }
    }
    if let Some(addr) = forget {
        app.command(Command::Core(CoreCommand::ForgetPeer(addr)));
        form.asked_ms = 0;
    }
    if open {
        app.dialogs.network = Some(form);
    }
}

/// A small centred window; `open` turns false when its close box is used.
pub(super) fn window<'a>(title: &'a str, open: &'a mut bool) -> egui::Window<'a> {
    egui::Window::new(title)
        .open(open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
}

/// Whether Enter was pressed in `response`'s field.
fn enter_pressed(ui: &egui::Ui, response: &egui::Response) -> bool {
    response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
}

fn join(app: &mut LanchatApp, ctx: &egui::Context) {
    let Some(mut form) = app.dialogs.join.take() else {
        return;
    };
    let t = app.t();
    let mut open = true;
    let mut go = false;
    let mut cancel = false;
    window(t.join_title, &mut open).show(ctx, |ui| {
        ui.label(t.channel_name);
        let r = ui.add(egui::TextEdit::singleline(&mut form.name).hint_text("#team"));
        if form.name.is_empty() {
            r.request_focus();
        }
        go = enter_pressed(ui, &r);
        ui.label(t.channel_password);
        let r = ui.add(egui::TextEdit::singleline(&mut form.password).password(true));
        // Read before focus is asked for again: `lost_focus` is live.
        go |= enter_pressed(ui, &r);
        if !go && !form.name.is_empty() && ui.memory(|m| m.focused().is_none()) {
            r.request_focus();
        }
        ui.label(RichText::new(t.channel_password_hint).weak().small());
        ui.horizontal(|ui| {
            go |= ui.button(t.join).clicked();
            cancel = ui.button(t.cancel).clicked();
        });
    });
    if go {
        let name = form.name.trim();
        let name = if name.starts_with('#') {
            name.to_string()
        } else {
            format!("#{name}")
        };
        let line = format!("/join {name} {}", form.password);
        match input::parse(&line, &app.current_target()) {
            Ok(Action::JoinAndSwitch { command, chat }) => {
                app.command(command);
                if let crate::api::Target::Channel(name) = chat {
                    app.select(Chat::Channel(name));
                }
            }
            Ok(_) => {}
            Err(err) => {
                let text = t.input_error(&err);
                app.notice(text);
            }
        }
    } else if open && !cancel {
        app.dialogs.join = Some(form);
    }
}

fn export(app: &mut LanchatApp, ctx: &egui::Context) {
    let Some(mut path) = app.dialogs.export.take() else {
        return;
    };
    let t = app.t();
    let mut open = true;
    let mut go = false;
    let mut cancel = false;
    let title = app.model.title(&app.selected);
    window(t.export_chat.trim_end_matches('…'), &mut open).show(ctx, |ui| {
        ui.label(RichText::new(&title).strong());
        ui.label(t.file);
        let r = ui.add(egui::TextEdit::singleline(&mut path).desired_width(420.0));
        go = enter_pressed(ui, &r);
        ui.horizontal(|ui| {
            go |= ui.button(t.save).clicked();
            cancel = ui.button(t.cancel).clicked();
        });
    });
    if go && !path.trim().is_empty() {
        let chat = app.current_target();
        app.command(Command::Export {
            chat,
            path: path.trim().into(),
        });
    } else if open && !cancel {
        app.dialogs.export = Some(path);
    }
}

fn channels(app: &mut LanchatApp, ctx: &egui::Context) {
    if !app.dialogs.channels {
        return;
    }
    let t = app.t();
    let mut open = true;
    let mut join = None;
    let mut refresh = false;
    window(t.channel_list, &mut open).show(ctx, |ui| {
        egui::ScrollArea::vertical()
            .max_height(320.0)
            .show(ui, |ui| {
                egui::Grid::new("channel-list")
                    .striped(true)
                    .show(ui, |ui| {
                        for channel in &app.model.channel_list {
                            let label = if channel.protected {
                                format!("🔒 {}", channel.name)
                            } else {
                                channel.name.clone()
                            };
                            let mut name = RichText::new(label).strong();
                            if channel.joined {
                                name = name.underline();
                            }
                            let link = ui.link(name);
                            if channel.protected {
                                link.clone().on_hover_text(t.protected_hint);
                            }
                            if link.clicked() {
                                join =
                                    Some((channel.name.clone(), channel.joined, channel.protected));
                            }
                            if channel.protected && !channel.joined {
                                ui.label(t.protected);
                            } else {
                                ui.label(fill(t.members, &[("n", &channel.members.to_string())]));
                            }
                            ui.label(channel.topic.clone().unwrap_or_default());
                            ui.end_row();
                        }
                    });
            });
        ui.horizontal(|ui| {
            refresh = ui.button(t.refresh).clicked();
            if ui.button(t.join_channel).clicked() {
                app.dialogs.join = Some(JoinForm::default());
            }
        });
    });
    app.dialogs.channels = open;
    if refresh {
        app.command(Command::Core(CoreCommand::Channels));
    }
    if let Some((name, joined, protected)) = join {
        if protected && !joined {
            // It needs its password: the join dialog asks for it.
            app.dialogs.join = Some(JoinForm {
                name,
                password: String::new(),
            });
        } else {
            if !joined {
                app.command(Command::Core(CoreCommand::Join {
                    channel: name.clone(),
                    secret: None,
                }));
            }
            app.select(Chat::Channel(name));
        }
        app.dialogs.channels = false;
    }
}

fn nick(app: &mut LanchatApp, ctx: &egui::Context) {
    let Some(mut nick) = app.dialogs.nick.take() else {
        return;
    };
    let t = app.t();
    let mut open = true;
    let mut go = false;
    let mut cancel = false;
    window(t.change_nick, &mut open).show(ctx, |ui| {
        ui.label(t.new_nick);
        let r = ui.text_edit_singleline(&mut nick);
        go = enter_pressed(ui, &r);
        ui.horizontal(|ui| {
            go |= ui.button(t.apply).clicked();
            cancel = ui.button(t.cancel).clicked();
        });
    });
    if go {
        let nick = nick.trim().to_string();
        if crate::types::valid_nick(&nick) {
            app.command(Command::Core(CoreCommand::Nick(nick)));
        } else {
            let text = t.input_error(&input::InputError::BadNick(nick));
            app.notice(text);
        }
    } else if open && !cancel {
        app.dialogs.nick = Some(nick);
    }
}

fn status(app: &mut LanchatApp, ctx: &egui::Context) {
    let Some((mut status, mut text)) = app.dialogs.status.take() else {
        return;
    };
    let t = app.t();
    let mut open = true;
    let mut go = false;
    let mut cancel = false;
    window(t.status, &mut open).show(ctx, |ui| {
        for choice in [Status::Available, Status::Away, Status::DoNotDisturb] {
            let label = RichText::new(t.status(choice)).color(status_colour(choice));
            ui.radio_value(&mut status, choice, label);
        }
        ui.label(t.status_text);
        let r = ui.text_edit_singleline(&mut text);
        go = enter_pressed(ui, &r);
        ui.horizontal(|ui| {
            go |= ui.button(t.apply).clicked();
            cancel = ui.button(t.cancel).clicked();
        });
    });
    if go {
        let text = crate::types::clip(text.trim(), crate::types::MAX_STATUS_TEXT);
        app.command(Command::Core(CoreCommand::Status { status, text }));
    } else if open && !cancel {
        app.dialogs.status = Some((status, text));
    }
}

fn info(app: &mut LanchatApp, ctx: &egui::Context) {
    let Some(id) = app.dialogs.info else {
        return;
    };
    let t = app.t();
    let mut open = true;
    let title = app.model.label(&id);
    window(&title, &mut open).show(ctx, |ui| {
        let Some(peer) = app.model.peers.get(&id) else {
            ui.label(t.offline);
            return;
        };
        let since = format_local(peer.since_ms, "%Y-%m-%d %H:%M");
        let mut status = t.status(peer.status).to_string();
        if !peer.status_text.is_empty() {
            status = format!("{status}: {}", peer.status_text);
        }
        egui::Grid::new("info").num_columns(2).show(ui, |ui| {
            for (key, value) in [
                (t.nick, peer.nick.clone()),
                (t.status, status),
                (t.host, peer.host.clone()),
                (t.address, peer.addr.to_string()),
                (t.version, peer.version.clone()),
                (t.online_since, since),
                (t.channels, peer.channels.join(", ")),
                (t.node_id, peer.id.to_string()),
                (t.fingerprint, peer.key.fingerprint()),
            ] {
                ui.label(RichText::new(key).strong());
                ui.label(value);
                ui.end_row();
            }
        });
        ui.label(RichText::new(t.fingerprint_hint).weak());
        // A clock far off the LAN's, as the doctor says it.
        let off = app.model.network.as_ref().and_then(|(_, report)| {
            report
                .core
                .peers
                .iter()
                .find(|p| p.id == id)
                .and_then(|p| p.clock_off_ms)
        });
        if let Some(off_ms) = off
            && off_ms.unsigned_abs() >= crate::doctor::CLOCK_FAR_OFF_MS
        {
            let finding = crate::doctor::Finding::ClockOff {
                label: Some(peer.nick.clone()),
                off_ms,
            };
            ui.colored_label(
                egui::Color32::from_rgb(0xc0, 0x60, 0x00),
                app.settings.lang().strings().finding(&finding),
            );
        }
    });
    if !open {
        app.dialogs.info = None;
    }
}

fn text_windows(app: &mut LanchatApp, ctx: &egui::Context) {
    let t = app.t();
    let mut help = app.dialogs.help;
    if help {
        window(t.commands, &mut help).show(ctx, |ui| {
            ui.label(RichText::new(input::HELP).monospace());
        });
    }
    app.dialogs.help = help;
    let mut about = app.dialogs.about;
    if about {
        window(t.about, &mut about).show(ctx, |ui| {
            ui.heading("lanchat");
            ui.label(format!("{} {}", t.version, env!("CARGO_PKG_VERSION")));
            ui.label(t.about_text);
            if let Some(ready) = &app.session.ready {
                ui.label(format!("{}: {}", t.fingerprint, ready.key.fingerprint()));
                ui.label(RichText::new(format!("{} · {}", ready.host, ready.addr)).weak());
                ui.label(RichText::new(ready.data_dir.display().to_string()).weak());
            }
        });
    }
    app.dialogs.about = about;
}
