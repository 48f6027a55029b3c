//! The input line: Enter sends, Shift+Enter starts a new line, Tab
//! completes nicks and channels (again for the next candidate), Up and Down
//! recall what I sent. Typing tells the chat's members, sparingly (the core
//! sends at most one notice per chat every few seconds).

use eframe::egui::{self, Key, Modifiers};

use crate::api::Command;
use crate::i18n::fill;
use crate::protocol::CoreCommand;
use crate::ui::LanchatApp;

/// The id of the input line (tests and focus handling find it by this).
pub(crate) const INPUT_ID: &str = "compose-input";

pub(super) fn show(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let t = app.t();
    let id = egui::Id::unique(INPUT_ID);
    let focused = ui.memory(|m| m.has_focus(id));
    // Keys the text field would otherwise take are handled first.
    let mut send = false;
    let mut tab = false;
    let mut recall: Option<bool> = None;
    if focused {
        ui.input_mut(|i| {
            // Enter alone sends; Shift+Enter is left to the field (a new
            // line). `consume_key` would take both: it ignores Shift.
            let before = i.events.len();
            i.events.retain(|e| {
                !matches!(e, egui::Event::Key { key: Key::Enter, pressed: true, modifiers, .. }
                    if !modifiers.shift && !modifiers.alt)
            });
            send = i.events.len() != before;
            tab = i.consume_key(Modifiers::NONE, Key::Tab);
            let single_line = !app.compose.text.contains('\n');
            if single_line && i.consume_key(Modifiers::NONE, Key::ArrowUp) {
                recall = Some(true);
            } else if single_line && i.consume_key(Modifiers::NONE, Key::ArrowDown) {
                recall = Some(false);
            }
        });
    }
    if tab {
        complete(app, ui.ctx(), id);
    }
    if let Some(up) = recall {
        recall_line(app, ui.ctx(), id, up);
    }
    let hint = fill(t.input_hint, &[("chat", &app.model.title(&app.selected))]);
    let mut response = None;
    let mut offer = false;
    ui.horizontal(|ui| {
        let button_width = 80.0;
        // The file button is as wide as its words in the language shown.
        let file_width = ui
            .painter()
            .layout_no_wrap(
                t.send_file.to_string(),
                egui::TextStyle::Button.resolve(ui.style()),
                egui::Color32::PLACEHOLDER,
            )
            .size()
            .x
            + 2.0 * ui.spacing().button_padding.x;
        let spacing = ui.spacing().item_spacing.x;
        let edit = egui::TextEdit::multiline(&mut app.compose.text)
            .id(id)
            .hint_text(hint)
            .desired_rows(1)
            .desired_width(ui.available_width() - button_width - file_width - 2.0 * spacing)
            .lock_focus(true);
        let r = ui.add(edit);
        let height = r.rect.height().max(24.0);
        offer = ui
            .add_sized([file_width, height], egui::Button::new(t.send_file))
            .on_hover_text(t.send_file_hint)
            .clicked();
        if ui
            .add_sized([button_width, height], egui::Button::new(t.send))
            .clicked()
        {
            send = true;
        }
        response = Some(r);
    });
    if let Some(r) = &response
        && r.changed()
    {
        app.compose.completion = None;
        app.compose.recall = None;
        let text = app.compose.text.trim_start();
        if !text.is_empty() && !text.starts_with('/') {
            let target = app.current_target();
            let _ = app.session.send(Command::Core(CoreCommand::Typing(target)));
        }
    }
    if offer {
        app.open_send_files();
    }
    if send {
        let line = std::mem::take(&mut app.compose.text);
        app.compose.completion = None;
        app.submit(&line);
        app.compose.focus = true;
    }
    if app.compose.focus {
        app.compose.focus = false;
        ui.memory_mut(|m| m.request_focus(id));
    }
}

/// Puts the cursor at the end of the input.
fn cursor_to_end(ctx: &egui::Context, id: egui::Id, text: &str) {
    if let Some(mut state) = egui::TextEdit::load_state(ctx, id) {
        let end = egui::text::CCursor::new(text.chars().count());
        state
            .cursor
            .set_char_range(Some(egui::text::CCursorRange::one(end)));
        state.store(ctx, id);
    }
}

/// Completes the word before the end of the input; pressed again, moves to
/// the next candidate.
fn complete(app: &mut LanchatApp, ctx: &egui::Context, id: egui::Id) {
    let compose = &mut app.compose;
    let continuing = compose
        .completion
        .as_ref()
        .is_some_and(|(_, _, _, left)| *left == compose.text);
    let (candidates, index, start) = if continuing {
        let Some((candidates, index, start, _)) = compose.completion.take() else {
            return;
        };
        let next = (index + 1) % candidates.len().max(1);
        (candidates, next, start)
    } else {
        let start = compose.text.rfind(char::is_whitespace).map_or(0, |i| {
            i + compose.text[i..].chars().next().map_or(1, char::len_utf8)
        });
        let word = &compose.text[start..];
        if word.is_empty() {
            return;
        }
        let candidates = app.model.completions(word);
        if candidates.is_empty() {
            return;
        }
        (candidates, 0, start)
    };
    let mut text = compose.text[..start].to_string();
    text.push_str(&candidates[index]);
    // A nick at the start of a line addresses that person.
    if start == 0 && !candidates[index].starts_with('#') {
        text.push(':');
    }
    text.push(' ');
    compose.text = text.clone();
    compose.completion = Some((candidates, index, start, text.clone()));
    cursor_to_end(ctx, id, &text);
}

/// Up: the line sent before the one shown; Down: the next, then empty.
fn recall_line(app: &mut LanchatApp, ctx: &egui::Context, id: egui::Id, up: bool) {
    let compose = &mut app.compose;
    if compose.sent.is_empty() {
        return;
    }
    let last = compose.sent.len() - 1;
    compose.recall = match (compose.recall, up) {
        (None, true) => Some(last),
        (None, false) => None,
        (Some(i), true) => Some(i.saturating_sub(1)),
        (Some(i), false) if i < last => Some(i + 1),
        (Some(_), false) => None,
    };
    compose.text = compose
        .recall
        .and_then(|i| compose.sent.get(i).cloned())
        .unwrap_or_default();
    let text = compose.text.clone();
    cursor_to_end(ctx, id, &text);
}
