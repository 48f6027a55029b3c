//! The desktop window (eframe/egui, glow renderer). It is one more client
//! of [`crate::net::NodeHandle`]: [`session::Session`] starts the node and
//! drains its events each frame without waiting, [`model::Model`] turns them
//! into what is shown, and the views in `view/` draw that state and turn
//! clicks and keys into commands. The driver wakes the window after every
//! batch of events, so nothing waits for the next input to appear.
//!
//! Desktop integration (tray, notifications, the beep, start at login) is in
//! [`crate::desktop`]; where the desktop lacks a service the window says so
//! once and carries on.

mod desktop_link;
mod events;
#[cfg(test)]
mod file_tests;
#[cfg(test)]
mod info_tests;
pub mod model;
pub mod session;
pub mod transfers;
mod view;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use eframe::egui;

use crate::api::{Command, Event, Target};
use crate::desktop::instance::{Claim, Instance};
use crate::desktop::{self, Notifier, Tray, TrayAction, TrayLabels};
use crate::identity::unix_ms;
use crate::input::{self, Action};
use crate::net::{NetOptions, NodeEvent};
use crate::policy::{Locks, Policy};
use crate::types::{Chat, MAIN_CHANNEL, NodeId, Status};

use crate::i18n::{Lang, Strings, fill};
use crate::protocol::{CoreCommand, CoreEvent};
use crate::settings::Settings;
use model::{Alert, Model};
use session::{Problem, Session};

/// How long the window waits for the node to say goodbye on Quit.
const QUIT_GRACE: Duration = Duration::from_millis(1500);

/// How to start the window.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// How to start the node.
    pub net: NetOptions,
    /// The settings file; the config directory's when `None`.
    pub settings_path: Option<PathBuf>,
    /// Use the desktop's tray, notifications, sounds and autostart (off in
    /// tests, which must not touch the user's desktop).
    pub desktop: bool,
    /// The administrator's policy file; `LANCHAT_POLICY` or the system's
    /// ([`Policy::path`]) when `None`.
    pub policy_path: Option<PathBuf>,
}

/// Opens the window and runs until the user quits.
pub fn run(options: AppOptions) -> eframe::Result {
    let mut instance = None;
    if options.desktop
        && let Some(dir) = options
            .net
            .data_dir
            .clone()
            .or_else(crate::places::data_dir)
    {
        match desktop::instance::claim(&dir) {
            Ok(Claim::HandedOver) => {
                tracing::info!(dir = %dir.display(), "lanchat's window is open already: brought it forward");
                return Ok(());
            }
            Ok(Claim::First(first)) => instance = Some(first),
            Err(err) => tracing::warn!(cause = %err, "could not look for a window open already"),
        }
    }
    let icon = eframe::icon_data::from_png_bytes(desktop::ICON_PNG).ok();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("lanchat")
        .with_app_id("lanchat")
        .with_inner_size([1000.0, 680.0])
        .with_min_inner_size([520.0, 360.0]);
    if let Some(icon) = icon {
        viewport = viewport.with_icon(icon);
    }
    let native = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "lanchat",
        native,
        Box::new(move |cc| {
            let app = LanchatApp::new(cc, options);
            if let Some(instance) = instance {
                app.serve_later_starts(instance);
            }
            Ok(Box::new(app))
        }),
    )
}

fn settings_path(options: &AppOptions) -> PathBuf {
    options
        .settings_path
        .clone()
        .or_else(Settings::default_path)
        .unwrap_or_else(|| PathBuf::from(crate::settings::FILE_NAME))
}

/// The join dialog's fields.
#[derive(Default)]
struct JoinForm {
    /// Channel name.
    name: String,
    /// Password (empty: an open channel).
    password: String,
}

/// Dialogs and windows that may be open.
#[derive(Default)]
struct Dialogs {
    join: Option<JoinForm>,
    export: Option<String>,
    channels: bool,
    nick: Option<String>,
    status: Option<(Status, String)>,
    settings: Option<Settings>,
    info: Option<NodeId>,
    help: bool,
    about: bool,
    /// The Network window: the address being typed to add, and when the
    /// last report was asked for (it is asked again while open).
    network: Option<NetworkForm>,
    /// The "Offer files" dialog.
    send: Option<view::send_files::SendForm>,
    /// The folder the file picker showed last.
    pick_dir: Option<PathBuf>,
}

/// The Network window's state.
#[derive(Default)]
struct NetworkForm {
    /// An address to reach by unicast, as typed.
    address: String,
    /// When (ms) the doctor's report was last asked for.
    asked_ms: u64,
}

/// The input line and what it remembers.
#[derive(Default)]
struct Compose {
    text: String,
    /// Lines I sent, oldest first.
    sent: Vec<String>,
    /// Where Up/Down is in `sent`, while recalling.
    recall: Option<usize>,
    /// Tab completion in progress: candidates, which one is shown, where the
    /// word starts, and the text as completion left it.
    completion: Option<(Vec<String>, usize, usize, String)>,
    /// Focus the input next frame.
    focus: bool,
}

/// The desktop services that are available.
struct DesktopLink {
    tray: Option<Tray>,
    actions: std_mpsc::Receiver<TrayAction>,
    /// Sends to `actions` and wakes the window (the tray's callback; also
    /// a second start's, through [`desktop::instance`]).
    act: Arc<dyn Fn(TrayAction) + Send + Sync>,
    notifier: Notifier,
    shown_unread: (usize, bool),
    sound_failed: bool,
    /// What the desktop would not open, and why.
    open_failed: std_mpsc::Receiver<(PathBuf, String)>,
    tell_open_failed: std_mpsc::Sender<(PathBuf, String)>,
}

/// A banner over the chat: what happened, in the user's words, and the
/// raw cause (an OS or library error, in English) behind a Details toggle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// What it means for the user.
    pub text: String,
    /// The raw cause, when there is one.
    pub details: Option<String>,
}

impl Notice {
    /// A notice with no cause to show.
    pub fn plain(text: String) -> Notice {
        Notice {
            text,
            details: None,
        }
    }

    /// A notice whose raw cause goes behind Details, and to the log.
    pub fn with_cause(text: &str, cause: &dyn std::fmt::Display) -> Notice {
        let details = cause.to_string();
        tracing::warn!(cause = %details, "{text}");
        Notice {
            text: text.to_string(),
            details: Some(details),
        }
    }
}

/// The whole window: its node, what it shows and what the user is doing.
pub struct LanchatApp {
    options: AppOptions,
    settings_path: PathBuf,
    ctx: egui::Context,
    session: Session,
    model: Model,
    settings: Settings,
    /// The administrator's policy; its locked values stay in `settings`.
    policy: Policy,
    selected: Chat,
    compose: Compose,
    dialogs: Dialogs,
    /// One-time notices (no tray, no notifications…), dismissable.
    notices: Vec<Notice>,
    desktop: Option<DesktopLink>,
    scroll: view::messages::ScrollState,
    last_input: Instant,
    auto_away: bool,
    focused: bool,
    visible: bool,
    title: String,
    quitting: bool,
    pending_who: bool,
    /// The search box's text, the last results (newest first) and a hit to
    /// scroll to once its chat shows it.
    search: view::search::SearchState,
    /// Frames drawn; "start minimised" hides the window after the first
    /// (eframe shows every window once it has painted).
    frames: u64,
    /// What the user asked to open (received files and their folders).
    opened: Vec<PathBuf>,
}

impl LanchatApp {
    /// Builds the app and starts its node.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> LanchatApp {
        let ctx = cc.egui_ctx.clone();
        view::style(&ctx);
        let mut options = options;
        let settings_path = settings_path(&options);
        let loaded = match &options.policy_path {
            Some(path) => Policy::load(path),
            None => Policy::load_system(),
        };
        let policy = loaded.as_ref().cloned().unwrap_or_default();
        let (loaded_settings, settings_problem) = Settings::load_checked(&settings_path);
        let effective = policy.apply(loaded_settings, options.net.clone());
        options.net = effective.net;
        let settings = effective.settings;
        let t = settings.lang().strings();
        let mut notices = Vec::new();
        if let Some(u) = settings_problem {
            let path = u.path.display().to_string();
            let kept = u.kept.map(|k| k.display().to_string()).unwrap_or_default();
            let words = if kept.is_empty() {
                t.settings_unreadable
            } else {
                t.settings_reset
            };
            notices.push(Notice::plain(fill(
                words,
                &[("path", &path), ("cause", &u.cause), ("kept", &kept)],
            )));
        }
        match &loaded {
            Err(err) => {
                tracing::error!(cause = %err, "the policy is not applied");
                notices.push(Notice::with_cause(t.policy_error, &err));
            }
            Ok(policy) if !policy.ignored.is_empty() => {
                let keys = policy.ignored.join(", ");
                tracing::warn!(path = %policy.from.display(), %keys, "unknown keys in the policy ignored");
                let path = policy.from.display().to_string();
                notices.push(Notice::plain(fill(
                    t.policy_ignored,
                    &[("path", &path), ("keys", &keys)],
                )));
            }
            Ok(_) => {}
        }
        if !effective.overridden.is_empty() {
            let flags = effective.overridden.join(", ");
            tracing::warn!(%flags, "command-line options overridden by the policy");
            notices.push(Notice::plain(fill(
                t.policy_overridden,
                &[("flags", &flags)],
            )));
        }
        let mut app = LanchatApp {
            session: Session::start(&LanchatApp::net_options(&options, &settings), repaint(&ctx)),
            model: Model::new(NodeId([0; 16]), String::new()),
            visible: !(settings.start_minimised && options.desktop),
            settings,
            policy,
            settings_path,
            ctx,
            selected: Chat::Channel(MAIN_CHANNEL.to_string()),
            compose: Compose {
                focus: true,
                ..Compose::default()
            },
            dialogs: Dialogs::default(),
            notices,
            desktop: None,
            scroll: view::messages::ScrollState::default(),
            last_input: Instant::now(),
            auto_away: false,
            focused: true,
            title: String::new(),
            quitting: false,
            pending_who: false,
            frames: 0,
            opened: Vec::new(),
            search: view::search::SearchState::default(),
            options,
        };
        if effective.defaults_changed {
            // The file shows what the administrator's profile put back.
            app.save_settings();
        }
        app.on_started();
        if app.options.desktop {
            app.desktop = Some(app.start_desktop());
        }
        app
    }

    fn net_options(options: &AppOptions, settings: &Settings) -> NetOptions {
        let mut net = options.net.clone();
        if net.retention.max_age_days.is_none() && settings.keep_days > 0 {
            net.retention.max_age_days = Some(settings.keep_days);
        }
        net.share = settings.share(net.share);
        if net.nick.is_none() {
            net.nick = settings
                .nick
                .clone()
                .filter(|n| crate::types::valid_nick(n));
        }
        net.workgroup = settings.workgroup(net.workgroup);
        settings.apply_network(&mut net);
        net
    }

    /// After the node started: a fresh model, the file offers and
    /// transfers it keeps, and the channels I was in.
    fn on_started(&mut self) {
        if let Some(ready) = &self.session.ready {
            self.model = Model::started(ready);
            let _ = self.session.send(Command::Files);
            self.load_history(&Chat::Channel(MAIN_CHANNEL.to_string()));
            for channel in self.settings.channels.clone() {
                let secret = self
                    .settings
                    .channel_keys
                    .get(&channel)
                    .and_then(|hex| crate::envelope::ChannelKey::from_hex(hex))
                    .map(crate::api::Secret::Key);
                let _ = self.session.send(Command::Core(CoreCommand::Join {
                    channel: channel.clone(),
                    secret,
                }));
                if let Ok(name) = crate::types::channel_name(&channel) {
                    self.load_history(&Chat::Channel(name));
                }
            }
        }
    }

    /// The current language's words.
    pub fn t(&self) -> &'static Strings {
        self.settings.lang().strings()
    }

    /// What the window shows (for tests and benches).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The chat on screen.
    pub fn selected(&self) -> &Chat {
        &self.selected
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The settings the administrator's policy locks.
    pub fn locks(&self) -> Locks {
        self.policy.locks()
    }

    /// The workgroup passphrase in force (`None`: the open LAN).
    pub fn workgroup(&self) -> Option<String> {
        self.workgroup_for(&self.settings)
    }

    /// The workgroup passphrase `settings` would give.
    fn workgroup_for(&self, settings: &Settings) -> Option<String> {
        settings.workgroup(self.options.net.workgroup.clone())
    }

    /// What is wrong with the node, if anything.
    pub fn problem(&self) -> Option<&Problem> {
        self.session.problem.as_ref()
    }

    /// Notices shown once (no tray…).
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// The last search's results, newest first.
    pub fn search_results(&self) -> &[crate::api::ChatMessage] {
        &self.search.results
    }

    /// What the user asked to open, oldest first.
    pub fn opened(&self) -> &[PathBuf] {
        &self.opened
    }

    /// Opens a received file or folder (or the folder a file is in) with
    /// the desktop's program; what fails becomes a notice in the chat.
    pub fn open_path(&mut self, path: PathBuf) {
        self.opened.push(path.clone());
        let Some(desktop) = &self.desktop else {
            return;
        };
        let failed = desktop.tell_open_failed.clone();
        let ctx = self.ctx.clone();
        desktop::open_path(path.clone(), move |cause| {
            let _ = failed.send((path, cause));
            ctx.request_repaint();
        });
    }

    /// The window title as last set.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Whether the user asked to quit.
    pub fn is_quitting(&self) -> bool {
        self.quitting
    }

    /// Where "Export this chat" suggests saving: the documents folder (or
    /// home), named after the chat and the day.
    fn export_path(&self) -> String {
        let dir = directories::UserDirs::new()
            .map(|d| d.document_dir().unwrap_or(d.home_dir()).to_path_buf())
            .unwrap_or_default();
        let name: String = self
            .model
            .title(&self.selected)
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect();
        let day = chrono::Local::now().format("%Y-%m-%d");
        dir.join(format!("lanchat-{}-{day}.txt", name.trim_matches('-')))
            .display()
            .to_string()
    }

    /// Asks the store for a chat's next page of history: its newest
    /// messages when it shows none, else the ones before the oldest shown
    /// (they merge into the view in time order, without duplicates).
    /// Nothing when a page is on its way or the beginning is shown.
    fn load_history(&mut self, chat: &Chat) {
        let Some(page) = self.model.open(chat).next_page() else {
            return;
        };
        let target = match chat {
            Chat::Channel(name) => Target::Channel(name.clone()),
            Chat::Direct(id) => Target::Node(*id),
        };
        let command = Command::History {
            chat: target,
            limit: page.limit,
            before: page.before,
        };
        if self.session.send(command).is_err() {
            // No node: the answer will never come. Asking again is up to
            // the next scroll to the top.
            self.model.open(chat).paging = model::Paging::More;
        }
    }

    /// Puts a chat on screen and marks it read.
    pub fn select(&mut self, chat: Chat) {
        if self.model.chat(&chat).is_none() {
            self.load_history(&chat);
        }
        self.model.open(&chat);
        self.model.mark_read(&chat);
        self.selected = chat;
        self.compose.focus = true;
    }

    /// Offers files and folders in the chat on screen.
    pub fn offer_files(&mut self, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        let to = self.current_target();
        self.command(Command::SendFiles { to, paths });
    }

    /// Opens the "Offer files" dialog for the chat on screen.
    pub fn open_send_files(&mut self) {
        let title = self.model.title(&self.selected);
        let form = view::send_files::SendForm::new(self.current_target(), title);
        self.dialogs.send = Some(form);
    }

    /// Where received files go when the settings name no folder: the
    /// command line's `--downloads`, else the Downloads folder.
    fn default_downloads(&self) -> PathBuf {
        let data_dir = self
            .session
            .ready
            .as_ref()
            .map(|r| r.data_dir.clone())
            .unwrap_or_default();
        self.options.net.files.downloads(&data_dir)
    }

    /// Opens (or shows) the private chat with a person.
    pub fn open_direct(&mut self, id: NodeId) {
        if id != self.model.me {
            self.select(Chat::Direct(id));
        }
    }

    fn now_ms() -> u64 {
        unix_ms()
    }

    fn current_target(&self) -> Target {
        match &self.selected {
            Chat::Channel(name) => Target::Channel(name.clone()),
            Chat::Direct(id) => Target::Node(*id),
        }
    }

    /// Runs one line from the input: a text for the current chat or a slash
    /// command, the same language as the headless mode.
    pub fn submit(&mut self, line: &str) {
        let line = line.trim_end();
        if line.trim().is_empty() {
            return;
        }
        self.compose.sent.push(line.to_string());
        self.compose.recall = None;
        match input::parse(line, &self.current_target()) {
            Ok(Action::Nothing) => {}
            Ok(Action::Help) => self.dialogs.help = true,
            Ok(Action::JoinAndSwitch { command, chat }) => {
                self.command(command);
                if let Target::Channel(name) = chat {
                    self.select(Chat::Channel(name));
                }
            }
            Ok(Action::Command(command)) => self.command(command),
            Err(err) => {
                let text = self.t().input_error(&err);
                self.notice(text);
            }
        }
    }

    /// Hands a command to the node, with what the window does around it.
    pub fn command(&mut self, command: Command) {
        match &command {
            Command::Core(CoreCommand::Nick(_)) if self.locks().nick => {
                let text = self.t().nick_locked.to_string();
                self.notice(text);
                return;
            }
            Command::Core(CoreCommand::Quit) => {
                self.quit();
                return;
            }
            Command::Core(CoreCommand::Channels) => self.dialogs.channels = true,
            Command::Search { text, .. } => self.search.start(text),
            Command::Core(CoreCommand::Who) => self.pending_who = true,
            Command::Core(CoreCommand::Beep(target)) => {
                if let Some(id) = self.resolve(target) {
                    self.model.beep_sent(id, LanchatApp::now_ms());
                }
            }
            _ => {}
        }
        if let Err(err) = self.session.send(command) {
            self.notice(err);
        }
    }

    /// Leaves the network and closes the window for good.
    pub fn quit(&mut self) {
        self.quitting = true;
        self.session.quit(QUIT_GRACE);
        self.ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// The person a target names, as far as the window knows.
    fn resolve(&self, target: &Target) -> Option<NodeId> {
        match target {
            Target::Node(id) => Some(*id),
            Target::Channel(_) => None,
            Target::Person(name) => self
                .model
                .peers
                .values()
                .find(|p| p.label == *name || p.nick == *name || p.id.to_string() == *name)
                .map(|p| p.id),
        }
    }

    fn notice(&mut self, text: String) {
        let chat = self.selected.clone();
        self.model.notice(&chat, LanchatApp::now_ms(), text);
    }

    /// Stops the node (if any) and starts a new one.
    pub fn restart_network(&mut self) {
        self.session.quit(QUIT_GRACE);
        let net = LanchatApp::net_options(&self.options, &self.settings);
        self.session = Session::start(&net, repaint(&self.ctx));
        self.on_started();
        self.selected = Chat::Channel(MAIN_CHANNEL.to_string());
        self.scroll = view::messages::ScrollState::default();
    }

    /// Saves the settings; a failure becomes a notice.
    fn save_settings(&mut self) {
        if let Err(err) = self.settings.save(&self.settings_path) {
            let cause = format!("{err}: {}", err_source(&err));
            self.notices
                .push(Notice::with_cause(self.t().settings_not_saved, &cause));
        }
    }

    /// Applies settings from the dialog (a locked value stays as the
    /// policy says); a new workgroup passphrase restarts the network.
    pub fn apply_settings(&mut self, new: Settings) {
        let mut new = new;
        self.policy.lock(&mut new);
        let workgroup = self.workgroup();
        let old = std::mem::replace(&mut self.settings, new);
        if let Some(nick) = &self.settings.nick
            && *nick != self.model.my_nick()
            && !nick.is_empty()
        {
            self.command(Command::Core(CoreCommand::Nick(nick.clone())));
        }
        if self.options.desktop
            && old.start_at_login != self.settings.start_at_login
            && let Err(err) = desktop::autostart::set_autostart(self.settings.start_at_login)
        {
            self.notices
                .push(Notice::with_cause(self.t().autostart_failed, &err));
        }
        if old.language != self.settings.language {
            let labels = self.tray_labels();
            if let Some(tray) = self.desktop.as_ref().and_then(|d| d.tray.as_ref()) {
                tray.set_labels(labels);
            }
        }
        self.save_settings();
        if self.workgroup() != workgroup || old.network_differs(&self.settings) {
            self.restart_network();
        }
    }
}

fn err_source(err: &dyn std::error::Error) -> String {
    err.source().map(|s| s.to_string()).unwrap_or_default()
}

/// A callback for the driver that wakes this window.
fn repaint(ctx: &egui::Context) -> Box<dyn Fn() + Send> {
    let ctx = ctx.clone();
    Box::new(move || ctx.request_repaint())
}

impl eframe::App for LanchatApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frames += 1;
        if !self.visible {
            match self.frames {
                1 => ctx.request_repaint(),
                2 => ctx.send_viewport_cmd(egui::ViewportCommand::Visible(false)),
                _ => {}
            }
        }
        self.focused = ctx.input(|i| i.viewport().focused.unwrap_or(true));
        self.pump();
        if self.focused && self.visible {
            let chat = self.selected.clone();
            self.model.mark_read(&chat);
        }
        self.sync_desktop(ctx);
        self.handle_close(ctx);
        self.auto_away(ctx);
        if let Some(end) = self.model.typing_expires(LanchatApp::now_ms()) {
            let wait = end.saturating_sub(LanchatApp::now_ms());
            ctx.request_repaint_after(Duration::from_millis(wait));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        view::show(self, ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.session.quit(QUIT_GRACE);
    }
}

/// The language to use for a settings value (for the settings dialog).
pub fn lang_name(lang: Option<Lang>, t: &Strings) -> &'static str {
    match lang {
        None => t.system_language,
        Some(lang) => lang.name(),
    }
}
