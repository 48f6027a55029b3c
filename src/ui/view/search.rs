//! Search: a box in the menu bar asks the store (`Command::Search`, FTS5
//! over every chat), a window lists the hits, and clicking one opens its
//! chat scrolled to the message.

use eframe::egui::{self, RichText};

use crate::api::{ChatMessage, Command};
use crate::i18n::fill;
use crate::identity::format_local;
use crate::types::{Chat, MsgId};
use crate::ui::LanchatApp;

/// Most hits asked for.
const MAX_HITS: usize = 200;

/// The search box, the hits, and where to jump.
#[derive(Default)]
pub(crate) struct SearchState {
    /// What is typed in the box.
    pub(crate) query: String,
    /// The last search's hits, newest first.
    pub(crate) results: Vec<ChatMessage>,
    /// The results window is open.
    pub(crate) open: bool,
    /// A hit to scroll to once its chat shows it.
    pub(crate) jump: Option<(Chat, MsgId)>,
}

impl SearchState {
    /// A new search: the old hits go, the window opens.
    pub(crate) fn start(&mut self, query: &str) {
        self.query = query.to_string();
        self.results.clear();
        self.open = true;
    }
}

/// The box in the menu bar; Enter searches.
pub(super) fn search_box(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let t = app.t();
    let response = ui.add(
        egui::TextEdit::singleline(&mut app.search.query)
            .hint_text(format!("🔍 {}", t.search_hint))
            .desired_width(200.0),
    );
    if response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
        let text = app.search.query.trim().to_string();
        if !text.is_empty() {
            app.command(Command::Search {
                text,
                limit: MAX_HITS,
            });
        }
    }
}

/// The hits; a click opens the chat at the message.
pub(super) fn results(app: &mut LanchatApp, ui: &mut egui::Ui) {
    if !app.search.open {
        return;
    }
    let t = app.t();
    let mut open = true;
    let mut chosen = None;
    egui::Window::new(t.search_results)
        .open(&mut open)
        .default_size([520.0, 360.0])
        .show(ui.ctx(), |ui| {
            if app.search.results.is_empty() {
                ui.label(RichText::new(t.nothing_found).weak());
            }
            egui::ScrollArea::vertical().show(ui, |ui| {
                for hit in &app.search.results {
                    let when = format_local(hit.time_ms, "%Y-%m-%d %H:%M");
                    // A file message's text is its offer: shown as what it offers.
                    let read = crate::files::FileMessage::read(hit.kind, &hit.text);
                    let offer = read.clone().and_then(crate::files::FileMessage::offer);
                    let withdrawal = read.and_then(crate::files::FileMessage::withdrawal);
                    let text = match (&offer, &withdrawal) {
                        (Some(offer), _) => format!("🗋 {}", super::file_card::describe(t, offer)),
                        (None, Some(w)) => {
                            fill(t.offer_withdrawn, &[("nick", &hit.nick), ("name", &w.name)])
                        }
                        (None, None) => crate::types::clip(&hit.text, 200),
                    };
                    let line = format!(
                        "{when}  {}  {}: {text}",
                        app.model.title(&hit.chat),
                        hit.nick,
                    );
                    if ui
                        .add(egui::Button::new(line).frame(false).truncate())
                        .clicked()
                    {
                        chosen = Some((hit.chat.clone(), hit.id));
                    }
                }
            });
        });
    app.search.open = open;
    if let Some((chat, id)) = chosen {
        app.select(chat.clone());
        app.search.jump = Some((chat, id));
    }
}
