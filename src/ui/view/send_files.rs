//! Offering files: the "Send a file…" dialog (paths typed one a line, or
//! picked with a file picker drawn in egui, so no desktop service is
//! needed), and files dragged onto the window: while they hover, an
//! overlay says where they will go; dropped, they are offered in the chat
//! on screen (or added to the dialog when it is open).

use std::path::{Path, PathBuf};

use eframe::egui::{self, Color32, RichText};

use crate::api::{Command, Target};
use crate::i18n::{Strings, fill};
use crate::ui::LanchatApp;

/// The "Offer files" dialog.
pub(crate) struct SendForm {
    /// Where the files go: the chat on screen when it was opened.
    pub(crate) to: Target,
    /// That chat's name.
    pub(crate) title: String,
    /// Paths, one a line.
    pub(crate) paths: String,
    /// What was wrong with the last try, in words.
    pub(crate) problems: Vec<String>,
    /// The file picker, while it is open.
    picker: Option<Box<egui_file::FileDialog>>,
    /// Put the cursor in the paths field (once, when opened).
    focus: bool,
}

impl SendForm {
    /// An empty dialog offering in `to`, called `title`.
    pub(crate) fn new(to: Target, title: String) -> SendForm {
        SendForm {
            to,
            title,
            paths: String::new(),
            problems: Vec::new(),
            picker: None,
            focus: true,
        }
    }

    /// Adds paths (a line each, under the home folder as `~/…`) that are
    /// not listed yet.
    pub(crate) fn add(&mut self, paths: &[PathBuf]) {
        for path in paths {
            if self.paths.lines().any(|l| expand(l) == *path) {
                continue;
            }
            let line = shown(path);
            if !self.paths.is_empty() && !self.paths.ends_with('\n') {
                self.paths.push('\n');
            }
            self.paths.push_str(&line);
        }
    }
}

/// A typed path as a path: surrounding quotes (a path copied from a file
/// manager often has them) and spaces go, and a leading `~` is the home
/// folder.
pub(crate) fn expand(text: &str) -> PathBuf {
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
        .unwrap_or(text);
    if text == "~" {
        return home().unwrap_or_else(|| PathBuf::from(text));
    }
    match (text.strip_prefix("~/"), home()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(text),
    }
}

/// The home folder, if known.
fn home() -> Option<PathBuf> {
    directories::UserDirs::new().map(|d| d.home_dir().to_path_buf())
}

/// A path as a line of the dialog: on Unix `~/…` under the home folder
/// (shorter, and [`expand`] reads it back); on Windows, where `~` means
/// nothing to the user, the whole path.
fn shown(path: &Path) -> String {
    let under_home = home().and_then(|home| path.strip_prefix(home).ok().map(Path::to_path_buf));
    match under_home {
        Some(rest) if cfg!(unix) && !rest.as_os_str().is_empty() => {
            format!("~/{}", rest.display())
        }
        _ => path.display().to_string(),
    }
}

/// The paths of the lines of `text` (blank lines skipped): those that
/// exist, and those that do not, as typed.
pub(crate) fn check(text: &str) -> (Vec<PathBuf>, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let path = expand(line);
        if path.exists() {
            if !found.contains(&path) {
                found.push(path);
            }
        } else {
            missing.push(line.trim().to_string());
        }
    }
    (found, missing)
}

/// A file picker of files and folders, several at a time, in the
/// language's words, starting in `dir`.
fn picker(t: &Strings, dir: &Path) -> Box<egui_file::FileDialog> {
    let mut picker = egui_file::FileDialog::open_file()
        .id(egui::Id::unique("file-picker"))
        .initial_path(dir)
        .multi_select(true)
        .show_rename(false)
        .show_new_folder(false)
        .keep_on_top(true)
        .default_size([560.0, 420.0])
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .title(t.picker_title)
        .open_button_text(t.picker_choose.into())
        .cancel_button_text(t.cancel.into())
        .file_label_text(t.picker_name.into())
        .show_hidden_checkbox_text(t.picker_hidden.into())
        .parent_folder_button_hover_text(t.picker_up.into())
        .refresh_button_hover_text(t.refresh.into());
    picker.open();
    Box::new(picker)
}

/// The dialog, with its picker when open.
pub(super) fn dialog(app: &mut LanchatApp, ctx: &egui::Context) {
    let Some(mut form) = app.dialogs.send.take() else {
        return;
    };
    let t = app.t();
    let mut open = true;
    let mut offer = false;
    let mut cancel = false;
    let mut browse = false;
    let title = fill(t.offer_title, &[("chat", &form.title)]);
    egui::Window::new(title)
        .id(egui::Id::unique("offer-files"))
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            let label = ui.label(t.offer_paths);
            let field = ui
                .add(
                    egui::TextEdit::multiline(&mut form.paths)
                        .hint_text("/home/me/report.pdf")
                        .desired_rows(4)
                        .desired_width(560.0)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut form.focus) {
                field.request_focus();
            }
            ui.horizontal(|ui| {
                browse = ui.button(t.browse).clicked();
                ui.label(RichText::new(t.browse_hint).small().weak());
            });
            for problem in &form.problems {
                ui.label(RichText::new(problem).color(Color32::from_rgb(0xd9, 0x48, 0x3b)));
            }
            ui.separator();
            ui.horizontal(|ui| {
                offer = ui.button(t.offer).clicked();
                cancel = ui.button(t.cancel).clicked();
            });
        });
    if browse && form.picker.is_none() {
        let dir = app
            .dialogs
            .pick_dir
            .clone()
            .or_else(home)
            .unwrap_or_else(|| PathBuf::from("."));
        form.picker = Some(picker(t, &dir));
    }
    if let Some(picker) = &mut form.picker {
        picker.show(ctx);
        match picker.state() {
            egui_file::State::Open => {}
            egui_file::State::Selected => {
                let mut chosen: Vec<PathBuf> = picker
                    .selection()
                    .into_iter()
                    .map(Path::to_path_buf)
                    .collect();
                if chosen.is_empty() {
                    chosen.extend(picker.path().map(Path::to_path_buf));
                }
                app.dialogs.pick_dir = Some(picker.directory().to_path_buf());
                form.add(&chosen);
                form.problems.clear();
                form.picker = None;
            }
            egui_file::State::Cancelled | egui_file::State::Closed => form.picker = None,
        }
    }
    if offer {
        let (found, missing) = check(&form.paths);
        form.problems = if found.is_empty() && missing.is_empty() {
            vec![t.nothing_chosen.to_string()]
        } else {
            missing
                .iter()
                .map(|path| fill(t.not_found, &[("path", path)]))
                .collect()
        };
        if form.problems.is_empty() {
            app.command(Command::SendFiles {
                to: form.to.clone(),
                paths: found,
            });
            app.compose.focus = true;
            return;
        }
    }
    if open && !cancel {
        app.dialogs.send = Some(form);
    } else {
        app.compose.focus = true;
    }
}

/// Files dragged over the window: an overlay while they hover; dropped,
/// they are offered in the chat on screen, or added to the dialog when it
/// is open.
pub(super) fn drops(app: &mut LanchatApp, ui: &mut egui::Ui) {
    let (hovering, dropped) =
        ui.input(|i| (!i.raw.hovered_files.is_empty(), i.raw.dropped_files.clone()));
    let t = app.t();
    if hovering {
        let chat = app
            .dialogs
            .send
            .as_ref()
            .map_or_else(|| app.model.title(&app.selected), |f| f.title.clone());
        let rect = ui.ctx().content_rect();
        egui::Area::new(egui::Id::unique("drop-overlay"))
            .order(egui::Order::Foreground)
            .fixed_pos(rect.min)
            .interactable(false)
            .show(ui.ctx(), |ui| {
                egui::Frame::NONE
                    .fill(Color32::from_black_alpha(180))
                    .show(ui, |ui| {
                        ui.set_min_size(rect.size());
                        ui.centered_and_justified(|ui| {
                            let text = fill(t.drop_here, &[("chat", &chat)]);
                            ui.label(RichText::new(text).size(26.0).color(Color32::WHITE));
                        });
                    });
            });
    }
    if dropped.is_empty() {
        return;
    }
    let paths: Vec<PathBuf> = dropped
        .iter()
        .map(|file| file.path().to_path_buf())
        .filter(|path| !path.as_os_str().is_empty())
        .collect();
    if paths.is_empty() {
        let text = t.drop_no_path.to_string();
        app.notice(text);
    } else if let Some(form) = &mut app.dialogs.send {
        form.add(&paths);
    } else {
        app.offer_files(paths);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_paths_lose_quotes_and_find_home() {
        assert_eq!(expand("  '/tmp/a b.txt' "), PathBuf::from("/tmp/a b.txt"));
        assert_eq!(expand("\"/tmp/x\""), PathBuf::from("/tmp/x"));
        if let Some(home) = directories::UserDirs::new().map(|d| d.home_dir().to_path_buf()) {
            assert_eq!(expand("~/Documents"), home.join("Documents"));
            assert_eq!(expand("~"), home);
        }
        assert_eq!(expand("rel/~x"), PathBuf::from("rel/~x"));
    }

    #[test]
    fn checking_paths_names_the_missing_ones_as_typed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.txt");
        std::fs::write(&file, b"a").expect("write");
        let text = format!(
            "{}\n\n  /no/such/file  \n{}\n",
            file.display(),
            dir.path().display()
        );
        let (found, missing) = check(&text);
        assert_eq!(found, [file.clone(), dir.path().to_path_buf()]);
        assert_eq!(missing, ["/no/such/file"]);
        let mut form = SendForm::new(Target::Channel("#Main".into()), "#Main".into());
        form.add(std::slice::from_ref(&file));
        form.add(&[file.clone(), dir.path().to_path_buf()]);
        assert_eq!(form.paths.lines().count(), 2);
        // Under the home folder a path is shown short (on Unix), and not
        // added twice.
        if let Some(home) = home().filter(|_| cfg!(unix)) {
            let notes = home.join("Documents").join("notes.txt");
            form.paths.push_str("\n~/Documents/notes.txt");
            form.add(std::slice::from_ref(&notes));
            assert_eq!(form.paths.lines().count(), 3);
            assert_eq!(shown(&notes), "~/Documents/notes.txt");
        }
    }
}
