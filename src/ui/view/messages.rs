//! The open chat's messages. Only the rows in view are laid out: each
//! row's height is remembered once measured (an estimate stands in until
//! then), so a channel of 100,000 messages costs a binary search and a
//! screenful of layout per frame. The list sticks to the bottom while the
//! user is there; elsewhere the first row in view stays put when rows
//! above it change. Scrolling near the top reads older messages from the
//! store, a page at a time.

use std::collections::HashMap;

use eframe::egui::{self, Color32, RichText};

use super::{file_card, nick_colour};
use crate::i18n::{Strings, fill};
use crate::identity::{format_local, local_time};
use crate::protocol::DmState;
use crate::types::{Chat, MessageKind, MsgId};
use crate::ui::LanchatApp;
use crate::ui::model::{MessageRow, Model, Paging, Row, SystemLine};

/// Measured row heights of one chat at one width, and where the user was.
#[derive(Default)]
struct Heights {
    width: f32,
    /// Height of each row; `None` until it has been laid out.
    rows: Vec<Option<f32>>,
    revision: u64,
    /// The first row in view last frame and its top then.
    anchor: Option<Anchor>,
    /// The view was at the bottom last frame (it sticks there).
    at_bottom: bool,
    /// The scroll area, to read its offset before it is shown.
    area: Option<egui::Id>,
}

/// A row that should stay where it is on screen when rows above it change
/// (a page of older messages merged in, rows above measured).
#[derive(Clone, Copy)]
struct Anchor {
    index: usize,
    id: MsgId,
    top: f32,
}

/// What clicks on the rows ask for, done once the rows are drawn (they
/// are drawn from a borrowed model).
#[derive(Default)]
pub(super) struct Clicks {
    /// Text to put on the clipboard.
    pub(super) copy: Option<String>,
    /// Commands for the node (a file card's buttons).
    pub(super) commands: Vec<crate::api::Command>,
    /// A received file or folder to open with the desktop's program.
    pub(super) open: Option<std::path::PathBuf>,
}

/// Row heights per chat, kept between frames.
#[derive(Default)]
pub(crate) struct ScrollState {
    chats: HashMap<Chat, Heights>,
}

/// The id of a message row.
fn row_id(row: &Row) -> Option<MsgId> {
    match row {
        Row::Message(m) => Some(m.id),
        Row::System(..) => None,
    }
}

impl Heights {
    /// Brings the heights in line with the rows after they changed, and
    /// returns where the anchor row is now. Rows added just above it (a
    /// page of older messages) shift the heights known down; rows added at
    /// the end are new; after anything else all is measured again.
    fn follow(&mut self, rows: &[Row], width: f32, revision: u64) -> Option<usize> {
        let rewrapped = (self.width - width).abs() > 0.5;
        if !rewrapped && self.revision == revision {
            return self.anchor.map(|a| a.index);
        }
        self.width = width;
        self.revision = revision;
        let added = rows.len().saturating_sub(self.rows.len());
        let moved = self.anchor.and_then(|a| {
            let is_anchor = |i: usize| rows.get(i).and_then(row_id) == Some(a.id);
            [a.index + added, a.index]
                .into_iter()
                .find(|i| is_anchor(*i))
                .or_else(|| rows.iter().position(|r| row_id(r) == Some(a.id)))
                .map(|now| (a.index, now))
        });
        match moved {
            _ if rewrapped => self.rows.clear(),
            Some((then, now)) if added > 0 && now == then + added => {
                self.rows.splice(0..0, std::iter::repeat_n(None, added));
            }
            Some((then, now)) if now == then => {}
            None if self.rows.len() <= rows.len() => {}
            _ => self.rows.clear(),
        }
        self.rows.truncate(rows.len());
        self.rows.resize(rows.len(), None);
        // The last rows may have changed state (sending → delivered).
        let tail = self.rows.len().saturating_sub(8);
        for h in &mut self.rows[tail..] {
            *h = None;
        }
        moved.map(|(_, now)| now)
    }
}

/// Draws the messages of the selected chat and the typing line under them.
/// Reaching the top asks for older messages; when they come, the row that
/// was on top stays where it was.
pub(crate) fn show(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let t = app.t();
    let now_ms = LanchatApp::now_ms();
    let typing = app.model.typing(&app.selected, now_ms);
    let typing_text = match typing.len() {
        0 => String::new(),
        1 => fill(t.typing_one, &[("nick", &typing[0])]),
        _ => fill(t.typing_many, &[("nicks", &typing.join(", "))]),
    };
    egui::Panel::bottom("typing")
        .frame(egui::Frame::NONE)
        .exact_size(18.0)
        .show(ui, |ui| {
            ui.label(RichText::new(typing_text).italics().weak().small());
        });
    let Some(view) = app.model.chat(&app.selected) else {
        return;
    };
    let dark = ui.visuals().dark_mode;
    let width = ui.available_width();
    let row_gap = ui.spacing().item_spacing.y;
    let estimate = ui.text_style_height(&egui::TextStyle::Body) + row_gap;
    // The line above the first row: loading, or the beginning.
    let header = estimate;
    let heights = app.scroll.chats.entry(view.chat.clone()).or_default();
    let anchored = heights.follow(&view.rows, width, view.revision);
    let mut tops = Vec::with_capacity(view.rows.len() + 1);
    let mut y = header;
    for h in &heights.rows {
        tops.push(y);
        y += h.unwrap_or(estimate);
    }
    tops.push(y);
    let total = y;
    // A search hit to bring into view, once its row is here.
    let jump = match &app.search.jump {
        Some((chat, id)) if *chat == view.chat => view
            .rows
            .iter()
            .position(|r| matches!(r, Row::Message(m) if m.id == *id)),
        _ => None,
    };
    if jump.is_some() {
        app.search.jump = None;
    }
    // Rows above the anchor changed height or came in: move the view by as
    // much, so what the user reads stays put (at the bottom it sticks).
    let offset = heights
        .area
        .and_then(|id| egui::scroll_area::State::load(ui.ctx(), id))
        .map(|s| s.clamped_offset().y);
    let steady = match (heights.anchor, offset) {
        (Some(a), Some(offset)) if !heights.at_bottom && jump.is_none() => {
            let moved = anchored
                .and_then(|i| tops.get(i))
                .map_or(0.0, |top| top - a.top);
            (moved.abs() > 0.5).then_some(offset + moved)
        }
        _ => None,
    };
    let mut area = egui::ScrollArea::vertical()
        .id_salt(("messages", &view.chat))
        .auto_shrink([false, false])
        .stick_to_bottom(true);
    if let Some(offset) = steady {
        area = area.vertical_scroll_offset(offset);
    }
    let mut clicks = Clicks::default();
    let mut anchor = None;
    let output = area.show_viewport(ui, |ui, viewport| {
        ui.set_height(total.max(viewport.height()));
        let first = tops
            .partition_point(|top| *top <= viewport.min.y)
            .saturating_sub(1);
        let origin = ui.min_rect().min;
        let line = match view.paging {
            Paging::Loading(_) => t.loading_older,
            Paging::Start => t.history_start,
            Paging::More => "",
        };
        if viewport.min.y < header && !line.is_empty() {
            let rect = egui::Rect::from_min_size(origin, egui::vec2(width, header));
            ui.scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
                ui.vertical_centered(|ui| {
                    ui.label(RichText::new(line).weak().small().italics());
                });
            });
        }
        if let Some(i) = jump {
            let rect = egui::Rect::from_min_size(
                origin + egui::vec2(0.0, tops[i]),
                egui::vec2(width, tops[i + 1] - tops[i]),
            );
            ui.scroll_to_rect(rect, Some(egui::Align::Center));
        }
        let mut i = first;
        while i < view.rows.len() && tops[i] < viewport.max.y {
            let rect = egui::Rect::from_min_size(
                origin + egui::vec2(0.0, tops[i]),
                egui::vec2(width, f32::INFINITY),
            );
            let previous = i.checked_sub(1).map(|p| &view.rows[p]);
            let used = ui
                .scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
                    row(
                        ui,
                        &app.model,
                        &view.chat,
                        t,
                        &view.rows[i],
                        previous,
                        dark,
                        &mut clicks,
                    );
                })
                .response
                .rect
                .height()
                + row_gap;
            heights.rows[i] = Some(used);
            if anchor.is_none()
                && let Some(id) = row_id(&view.rows[i])
            {
                anchor = Some(Anchor {
                    index: i,
                    id,
                    top: tops[i],
                });
            }
            i += 1;
        }
    });
    heights.anchor = anchor;
    heights.area = Some(output.id);
    // Where the view ended up (after sticking to the bottom, say).
    let offset = output.state.clamped_offset().y;
    let seen = output.inner_rect.height();
    heights.at_bottom = offset >= output.content_size.y - seen - 1.0;
    // Near the top: older messages are wanted before the user gets there.
    if offset < seen / 2.0 && view.paging == Paging::More {
        let chat = view.chat.clone();
        app.load_history(&chat);
    }
    if let Some(text) = clicks.copy {
        ui.ctx().copy_text(text);
    }
    for command in clicks.commands {
        app.command(command);
    }
    if let Some(path) = clicks.open {
        app.open_path(path);
    }
}

/// Local date of a wall time, for day separators.
fn day(ms: u64) -> Option<chrono::NaiveDate> {
    local_time(ms).map(|t| t.date_naive())
}

fn clock(ms: u64) -> String {
    format_local(ms, "%H:%M")
}

/// One row: a day separator when the day changed, then the message or the
/// system line.
#[allow(clippy::too_many_arguments)]
fn row(
    ui: &mut egui::Ui,
    model: &Model,
    chat: &Chat,
    t: &Strings,
    row: &Row,
    previous: Option<&Row>,
    dark: bool,
    clicks: &mut Clicks,
) {
    let today = day(row.time_ms());
    if previous.map(|p| day(p.time_ms())) != Some(today)
        && let Some(date) = today
    {
        ui.vertical_centered(|ui| {
            ui.label(
                RichText::new(date.format("— %A, %e %B %Y —").to_string())
                    .weak()
                    .small(),
            );
        });
    }
    match row {
        Row::System(time, line) => {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(clock(*time)).weak().monospace());
                ui.label(RichText::new(system_text(t, chat, line)).italics().weak());
            });
        }
        Row::Message(m) => message(ui, model, chat, t, m, dark, clicks),
    }
}

fn system_text(t: &Strings, chat: &Chat, line: &SystemLine) -> String {
    let channel = match chat {
        Chat::Channel(name) => name.as_str(),
        Chat::Direct(_) => "",
    };
    match line {
        SystemLine::Joined(nick) => fill(t.sys_joined, &[("nick", nick), ("channel", channel)]),
        SystemLine::Parted(nick) => fill(t.sys_parted, &[("nick", nick), ("channel", channel)]),
        SystemLine::Online(nick) => fill(t.sys_online, &[("nick", nick)]),
        SystemLine::Offline(nick, crate::api::OfflineReason::Quit) => {
            fill(t.sys_quit, &[("nick", nick)])
        }
        SystemLine::Offline(nick, crate::api::OfflineReason::Timeout) => {
            fill(t.sys_timeout, &[("nick", nick)])
        }
        SystemLine::Nick(old, new) => fill(t.sys_nick, &[("old", old), ("new", new)]),
        SystemLine::Topic(nick, topic) => fill(t.sys_topic, &[("nick", nick), ("topic", topic)]),
        SystemLine::Beeped(nick) => fill(t.sys_beeped, &[("nick", nick)]),
        SystemLine::BeepSent(nick) => fill(t.sys_beep_sent, &[("nick", nick)]),
        SystemLine::Missed(nick, count) => fill(
            t.sys_missed,
            &[("nick", nick), ("count", &count.to_string())],
        ),
        SystemLine::Status(nick, status, text) => {
            let mut words = t.status(*status).to_string();
            if !text.is_empty() {
                words = format!("{words} ({text})");
            }
            fill(t.sys_status, &[("nick", nick), ("status", &words)])
        }
        SystemLine::Notice(text) => text.clone(),
    }
}

fn message(
    ui: &mut egui::Ui,
    model: &Model,
    chat: &Chat,
    t: &Strings,
    m: &MessageRow,
    dark: bool,
    clicks: &mut Clicks,
) {
    let colour = nick_colour(&m.from, dark);
    if m.kind == MessageKind::File {
        let name = author(model, m);
        if let Some(withdrawal) = m.withdrawal() {
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 4.0;
                ui.label(RichText::new(clock(m.time_ms)).weak().monospace());
                let line = fill(
                    t.offer_withdrawn,
                    &[("nick", &name), ("name", &withdrawal.name)],
                );
                ui.label(RichText::new(line).italics().weak());
            });
            return;
        }
        file_card::show(ui, model, t, m, &clock(m.time_ms), &name, colour, clicks);
        return;
    }
    let frame = if m.mention {
        egui::Frame::NONE
            .fill(if dark {
                Color32::from_rgb(0x4a, 0x3a, 0x12)
            } else {
                Color32::from_rgb(0xff, 0xf3, 0xc4)
            })
            .corner_radius(3.0)
    } else {
        egui::Frame::NONE
    };
    let response = frame
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 4.0;
                ui.label(RichText::new(clock(m.time_ms)).weak().monospace());
                let name = author(model, m);
                match m.kind {
                    MessageKind::Action => {
                        ui.label(RichText::new(format!("* {name}")).color(colour).strong());
                    }
                    MessageKind::Text | MessageKind::Beep | MessageKind::File => {
                        ui.label(RichText::new(format!("{name}:")).color(colour).strong());
                    }
                }
                for piece in pieces(&m.text) {
                    match piece {
                        Piece::Text(text) => {
                            let text = RichText::new(text);
                            let text = if m.kind == MessageKind::Action {
                                text.italics()
                            } else {
                                text
                            };
                            ui.label(text);
                        }
                        Piece::Link(url) => {
                            let target = if url.starts_with("www.") {
                                format!("https://{url}")
                            } else {
                                url.to_string()
                            };
                            ui.hyperlink_to(url, target);
                        }
                    }
                }
                if m.history {
                    ui.label(
                        RichText::new(format!("· {}", t.from_history))
                            .weak()
                            .small(),
                    );
                }
                if let Some(state) = m.state {
                    let (text, colour) = match state {
                        DmState::Sending => (t.sending.to_string(), None),
                        DmState::Delivered => (
                            format!("✔ {}", t.delivered),
                            Some(Color32::from_rgb(0x3c, 0xb3, 0x71)),
                        ),
                        DmState::Queued => (
                            format!("⏳ {}", fill(t.queued, &[("nick", &model.title(chat))])),
                            Some(Color32::from_rgb(0xe8, 0xb0, 0x2a)),
                        ),
                    };
                    let mut text = RichText::new(text).small();
                    if let Some(colour) = colour {
                        text = text.color(colour);
                    }
                    ui.label(text);
                }
            });
        })
        .response;
    let text = m.text.clone();
    response.context_menu(|ui| {
        if ui.button(t.copy).clicked() {
            clicks.copy = Some(text);
        }
    });
}

/// What the author of a message is called: my nick, a person's label
/// while online, else the nick they had then.
fn author(model: &Model, m: &MessageRow) -> String {
    if m.mine {
        model.my_nick().to_string()
    } else if model.peers.contains_key(&m.from) {
        model.label(&m.from)
    } else {
        m.nick.clone()
    }
}

/// A piece of a message: plain text or a link.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits a text into plain pieces and links (`http://`, `https://`,
/// `www.`); punctuation that ends a sentence is not part of a link.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let at_word_start = i == 0 || bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b'(';
        let rest = &text[i..];
        let is_link = at_word_start
            && (rest.starts_with("http://")
                || rest.starts_with("https://")
                || rest.starts_with("www."));
        if is_link {
            let len = rest
                .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
                .unwrap_or(rest.len());
            let link = rest[..len].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'']);
            let scheme_only = matches!(link, "http://" | "https://" | "www.");
            if !scheme_only && !link.is_empty() {
                if plain_from < i {
                    out.push(Piece::Text(&text[plain_from..i]));
                }
                out.push(Piece::Link(link));
                i += link.len();
                plain_from = i;
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    if plain_from < text.len() {
        out.push(Piece::Text(&text[plain_from..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_without_trailing_punctuation() {
        assert_eq!(
            pieces("see https://example.org/a?b=1. ok"),
            [
                Piece::Text("see "),
                Piece::Link("https://example.org/a?b=1"),
                Piece::Text(". ok")
            ]
        );
        assert_eq!(
            pieces("(www.example.org) и http://x.ru"),
            [
                Piece::Text("("),
                Piece::Link("www.example.org"),
                Piece::Text(") и "),
                Piece::Link("http://x.ru")
            ]
        );
        assert_eq!(
            pieces("nohttp://x https://"),
            [Piece::Text("nohttp://x https://")]
        );
        assert!(pieces("").is_empty());
    }
}
