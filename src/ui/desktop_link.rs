//! The window's side of the desktop: the tray's labels and badges,
//! notifications and sounds for what needs attention, hiding to the tray
//! on close, and going away when the user is idle.

use super::*;

impl LanchatApp {
    pub(super) fn start_desktop(&mut self) -> DesktopLink {
        let (tx, actions) = std_mpsc::channel();
        let (tell_open_failed, open_failed) = std_mpsc::channel();
        let ctx = self.ctx.clone();
        let on_action: Arc<dyn Fn(TrayAction) + Send + Sync> = Arc::new(move |action| {
            let _ = tx.send(action);
            ctx.request_repaint();
        });
        let tray = match Tray::start(self.tray_labels(), on_action.clone()) {
            Ok(tray) => Some(tray),
            Err(err) => {
                self.notices
                    .push(Notice::with_cause(self.t().no_tray, &err));
                // With no tray, a hidden window could never come back.
                if !self.visible {
                    self.visible = true;
                    self.ctx
                        .send_viewport_cmd(egui::ViewportCommand::Visible(true));
                }
                None
            }
        };
        DesktopLink {
            tray,
            actions,
            act: on_action,
            notifier: Notifier::new("lanchat"),
            shown_unread: (0, false),
            sound_failed: false,
            open_failed,
            tell_open_failed,
        }
    }

    /// Brings this window forward whenever the window is started again
    /// for the same data directory.
    pub(super) fn serve_later_starts(&self, instance: Instance) {
        if let Some(desktop) = &self.desktop {
            let act = desktop.act.clone();
            instance.serve(move || act(TrayAction::Show));
        }
    }

    pub(super) fn tray_labels(&self) -> TrayLabels {
        let t = self.t();
        TrayLabels {
            tooltip: "lanchat".into(),
            show: t.tray_show.into(),
            quit: t.quit.into(),
        }
    }

    /// Tells the user outside the window: a notification and the beep,
    /// unless they asked not to be disturbed.
    pub(super) fn alert(&mut self, alert: &Alert) {
        let Some(desktop) = &mut self.desktop else {
            return;
        };
        if self.model.my_status == Status::DoNotDisturb {
            return;
        }
        let t = self.settings.lang().strings();
        if self.settings.notifications && !(self.focused && self.visible) {
            let (summary, body) = match alert {
                Alert::Direct { nick, text } => (nick.clone(), text.clone()),
                Alert::Mention {
                    nick,
                    channel,
                    text,
                } => (
                    fill(t.notify_in, &[("nick", nick), ("chat", channel)]),
                    text.clone(),
                ),
                Alert::Beep { nick } => (fill(t.notify_beep, &[("nick", nick)]), String::new()),
                Alert::File {
                    nick,
                    channel,
                    offer,
                } => (
                    match channel {
                        Some(chat) => fill(t.notify_file_in, &[("nick", nick), ("chat", chat)]),
                        None => fill(t.notify_file, &[("nick", nick)]),
                    },
                    view::file_card::describe(t, offer),
                ),
            };
            desktop
                .notifier
                .notify(&summary, &crate::types::clip(&body, 300));
        }
        if self.settings.sounds
            && matches!(alert, Alert::Beep { .. })
            && let Err(err) = desktop::sound::play_beep()
            && !desktop.sound_failed
        {
            desktop.sound_failed = true;
            self.notices.push(Notice::with_cause(t.no_sound, &err));
        }
    }

    /// Keeps the tray, the title and the desktop's state in step.
    pub(super) fn sync_desktop(&mut self, ctx: &egui::Context) {
        let unread = self.model.unread();
        let title = if unread.0 > 0 {
            format!(
                "({}) lanchat — {}",
                unread.0,
                self.model.title(&self.selected)
            )
        } else {
            format!("lanchat — {}", self.model.title(&self.selected))
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        let Some(desktop) = &mut self.desktop else {
            return;
        };
        if desktop.shown_unread != unread {
            desktop.shown_unread = unread;
            if let Some(tray) = &desktop.tray {
                tray.set_unread(unread.0, unread.1);
            }
        }
        let open_failed: Vec<(PathBuf, String)> = desktop.open_failed.try_iter().collect();
        if let Some(failure) = desktop.notifier.take_failure() {
            let text = self.settings.lang().strings().no_notifications;
            self.notices.push(Notice::with_cause(text, &failure));
        }
        while let Ok(action) = desktop.actions.try_recv() {
            match action {
                TrayAction::Show => {
                    tracing::debug!("the window comes forward");
                    self.visible = true;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
                    ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
                    ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
                }
                TrayAction::Quit => {
                    self.quit();
                    return;
                }
            }
        }
        for (path, cause) in open_failed {
            let path = path.display().to_string();
            let text = fill(self.t().open_failed, &[("path", &path), ("cause", &cause)]);
            self.notice(text);
        }
    }

    /// Closing the window hides it in the tray when there is one; without a
    /// tray (or on Quit) it ends the program.
    pub(super) fn handle_close(&mut self, ctx: &egui::Context) {
        if !ctx.input(|i| i.viewport().close_requested()) || self.quitting {
            return;
        }
        let has_tray = self.desktop.as_ref().is_some_and(|d| d.tray.is_some());
        if has_tray {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            ctx.send_viewport_cmd(egui::ViewportCommand::Visible(false));
            self.visible = false;
        } else {
            self.quitting = true;
            self.session.quit(QUIT_GRACE);
        }
    }

    /// Sets me away after the idle time in the settings, and back on input.
    pub(super) fn auto_away(&mut self, ctx: &egui::Context) {
        let active = ctx.input(|i| !i.events.is_empty() || i.pointer.is_moving());
        if active && self.visible {
            self.last_input = Instant::now();
            if self.auto_away {
                self.auto_away = false;
                if self.model.my_status == Status::Away {
                    self.command(Command::Core(CoreCommand::Status {
                        status: Status::Available,
                        text: String::new(),
                    }));
                }
            }
        }
        let minutes = self.settings.auto_away_minutes;
        if minutes == 0 || self.auto_away || self.model.my_status != Status::Available {
            return;
        }
        let limit = Duration::from_secs(u64::from(minutes) * 60);
        let idle = self.last_input.elapsed();
        if idle >= limit {
            self.auto_away = true;
            let text = self.t().idle.to_string();
            self.command(Command::Core(CoreCommand::Status {
                status: Status::Away,
                text,
            }));
        } else {
            // One wake-up when the limit is due; nothing in between.
            ctx.request_repaint_after(limit - idle);
        }
    }
}
