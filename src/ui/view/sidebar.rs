//! The two side panels: chats with unread badges on the left, people online
//! with status dots on the right.

use eframe::egui::{self, Color32, RichText, Sense};

use super::{nick_colour, status_colour};
use crate::api::{Command, PeerInfo, Target};
use crate::i18n::fill;
use crate::protocol::CoreCommand;
use crate::types::{Chat, MAIN_CHANNEL};
use crate::ui::LanchatApp;

/// The colour of a badge that needs attention (a mention, a private
/// message, a beep) and of an ordinary one.
const ATTENTION: Color32 = Color32::from_rgb(0xd9, 0x3b, 0x3b);
const ORDINARY: Color32 = Color32::from_rgb(0x6b, 0x72, 0x80);

/// Left panel: channels (`#Main` first), then private chats.
pub(super) fn chats(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let t = app.t();
    let mut select = None;
    let mut part = None;
    let mut close = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.add_space(4.0);
        ui.label(RichText::new(t.channels).small().strong());
        let mut private_header = false;
        for view in &app.model.chats {
            if matches!(view.chat, Chat::Direct(_)) && !private_header {
                private_header = true;
                ui.add_space(8.0);
                ui.label(RichText::new(t.private_chats).small().strong());
            }
            let (name, online) = match &view.chat {
                chat @ Chat::Channel(_) => (app.model.title(chat), true),
                Chat::Direct(id) => (app.model.label(id), app.model.peers.contains_key(id)),
            };
            let selected = app.selected == view.chat;
            let response = ui
                .horizontal(|ui| {
                    let mut text = RichText::new(&name);
                    if view.unread > 0 {
                        text = text.strong();
                    }
                    if !online {
                        text = text.weak();
                    }
                    let label = ui.selectable_label(selected, text);
                    if view.unread > 0 {
                        badge(ui, view.unread, view.attention);
                    }
                    label
                })
                .inner;
            if response.clicked() {
                select = Some(view.chat.clone());
            }
            response.context_menu(|ui| match &view.chat {
                Chat::Channel(name) if name != MAIN_CHANNEL => {
                    if ui.button(t.leave_channel).clicked() {
                        part = Some(name.clone());
                    }
                }
                Chat::Channel(_) => {}
                Chat::Direct(_) => {
                    if ui.button(t.close_chat).clicked() {
                        close = Some(view.chat.clone());
                    }
                }
            });
        }
    });
    if let Some(chat) = select {
        app.select(chat);
    }
    if let Some(channel) = part {
        app.command(Command::Core(CoreCommand::Part { channel }));
    }
    if let Some(chat) = close {
        app.model.close(&chat);
        if app.selected == chat {
            app.select(Chat::Channel(MAIN_CHANNEL.to_string()));
        }
    }
}

/// An unread count in a pill, red when it needs attention.
fn badge(ui: &mut egui::Ui, count: usize, attention: bool) {
    let text = if count > 999 {
        "999+".to_string()
    } else {
        count.to_string()
    };
    let fill = if attention { ATTENTION } else { ORDINARY };
    egui::Frame::NONE
        .fill(fill)
        .corner_radius(8.0)
        .inner_margin(egui::Margin::symmetric(6, 1))
        .show(ui, |ui| {
            ui.label(RichText::new(text).small().strong().color(Color32::WHITE));
        });
}

/// Right panel: me first, then everyone online by name, each with a status
/// dot and text; double-click opens a private chat; right-click offers more.
pub(super) fn people(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let t = app.t();
    let dark = ui.visuals().dark_mode;
    let mut peers: Vec<&PeerInfo> = app.model.peers.values().collect();
    peers.sort_by(|a, b| {
        a.label
            .to_lowercase()
            .cmp(&b.label.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    ui.add_space(4.0);
    let count = peers.len() + 1;
    ui.label(
        RichText::new(fill(t.online, &[("n", &count.to_string())]))
            .small()
            .strong(),
    );
    let mut open = None;
    let mut beep = None;
    let mut info = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        let me = app.model.me;
        person(
            ui,
            &format!("{} {}", app.model.my_nick(), t.you),
            &app.model.my_status_text,
            app.model.my_status,
            nick_colour(&me, dark),
        );
        for peer in peers {
            let response = person(
                ui,
                &peer.label,
                &peer.status_text,
                peer.status,
                nick_colour(&peer.id, dark),
            );
            let response = response.on_hover_text(format!("{} · {}", peer.host, peer.addr));
            if response.double_clicked() {
                open = Some(peer.id);
            }
            response.context_menu(|ui| {
                if ui.button(t.private_chat).clicked() {
                    open = Some(peer.id);
                }
                if ui.button(t.beep).clicked() {
                    beep = Some(peer.id);
                }
                if ui.button(t.info).clicked() {
                    info = Some(peer.id);
                }
            });
        }
    });
    if let Some(id) = open {
        app.open_direct(id);
    }
    if let Some(id) = beep {
        app.command(Command::Core(CoreCommand::Beep(Target::Node(id))));
    }
    if let Some(id) = info {
        app.dialogs.info = Some(id);
        // Fresh figures for the dialog (how far its clock is off).
        app.command(Command::Network);
    }
}

/// One person: dot, name, status text; the whole row answers clicks.
fn person(
    ui: &mut egui::Ui,
    label: &str,
    status_text: &str,
    status: crate::types::Status,
    colour: Color32,
) -> egui::Response {
    let inner = ui.horizontal(|ui| {
        super::dot(ui, status_colour(status));
        ui.add(egui::Label::new(RichText::new(label).color(colour).strong()).selectable(false));
        if !status_text.is_empty() {
            ui.add(
                egui::Label::new(RichText::new(status_text).weak().small())
                    .selectable(false)
                    .truncate(),
            );
        }
    });
    ui.interact(
        inner.response.rect,
        ui.scope_id().with(("person", label)),
        Sense::click(),
    )
}
