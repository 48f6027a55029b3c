//! The tray icon: a handle whose worker thread owns the tray service.
//!
//! On Linux the icon is a StatusNotifierItem (`ksni`, over D-Bus). ksni's
//! update call waits for its service, so the [`Tray`] handle only queues
//! commands; a worker thread applies them (coalescing bursts) and removes the
//! icon when the handle is dropped.
//!
//! On Windows the icon is a notification-area icon (`tray-icon`). It must
//! live on the thread that runs the window's message loop, which is the
//! one that calls [`Tray::start`]; its menu and clicks come back through
//! that loop. macOS has no tray yet.

use std::sync::Arc;

use super::{DesktopError, TrayAction, TrayLabels};

/// The callback the tray calls, on its own thread.
type OnAction = Arc<dyn Fn(TrayAction) + Send + Sync>;

/// The tray icon. Dropping it removes the icon.
pub struct Tray {
    #[cfg(target_os = "linux")]
    commands: std::sync::mpsc::Sender<linux::Command>,
    #[cfg(windows)]
    icon: windows::Icon,
    #[cfg(not(any(target_os = "linux", windows)))]
    never: std::convert::Infallible,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").finish_non_exhaustive()
    }
}

/// The tooltip title: the labels' tooltip with the unread count appended.
#[cfg_attr(not(any(target_os = "linux", windows)), allow(dead_code))]
fn tooltip_title(tooltip: &str, unread: usize) -> String {
    if unread == 0 {
        tooltip.to_owned()
    } else {
        format!("{tooltip} — {unread}")
    }
}

impl Tray {
    /// Shows the tray icon. `on_action` is called from the tray's own thread
    /// when the user clicks the icon ([`TrayAction::Show`]) or a menu item
    /// ("Show"/"Quit"). Keep it short: send a message and request a repaint.
    ///
    /// Fails with [`DesktopError::NoService`] when the desktop has no tray (no
    /// StatusNotifierWatcher on the session bus, no session bus at all), or
    /// no notification area on Windows, and with
    /// [`DesktopError::Unsupported`] on macOS. Returns within about 2 s in
    /// every case. On Windows, call it on the window's thread.
    pub fn start(labels: TrayLabels, on_action: OnAction) -> Result<Tray, DesktopError> {
        #[cfg(target_os = "linux")]
        {
            linux::start(labels, on_action).map(|commands| Tray { commands })
        }
        #[cfg(windows)]
        {
            windows::Icon::start(labels, on_action).map(|icon| Tray { icon })
        }
        #[cfg(not(any(target_os = "linux", windows)))]
        {
            let _ = (labels, on_action);
            Err(DesktopError::Unsupported("the tray icon"))
        }
    }

    /// Sets the unread state: 0 shows the plain icon, more a red badge dot;
    /// `attention` (a mention or direct message) a larger orange one. Also
    /// puts the count in the tooltip ("LAN Chat — 3"). Cheap, but call it
    /// only when the state changes.
    pub fn set_unread(&self, unread: usize, attention: bool) {
        #[cfg(target_os = "linux")]
        self.send(linux::Command::Unread { unread, attention });
        #[cfg(windows)]
        self.icon.set_unread(unread, attention);
        #[cfg(not(any(target_os = "linux", windows)))]
        {
            let _ = (unread, attention);
            let never = self.never;
            match never {}
        }
    }

    /// Replaces the menu and tooltip texts (the language changed).
    pub fn set_labels(&self, labels: TrayLabels) {
        #[cfg(target_os = "linux")]
        self.send(linux::Command::Labels(labels));
        #[cfg(windows)]
        self.icon.set_labels(labels);
        #[cfg(not(any(target_os = "linux", windows)))]
        {
            let _ = labels;
            let never = self.never;
            match never {}
        }
    }

    #[cfg(target_os = "linux")]
    fn send(&self, command: linux::Command) {
        if self.commands.send(command).is_err() {
            tracing::debug!("tray worker is gone; update dropped");
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    //! The StatusNotifierItem and the worker thread that owns it.

    use std::sync::mpsc;
    use std::time::Duration;

    use ksni::blocking::TrayMethods;

    use super::super::tray_icon::{Badge, pixmaps};
    use super::{DesktopError, OnAction, TrayAction, TrayLabels, tooltip_title};

    /// How long [`start`] waits for the item to register.
    const START_TIMEOUT: Duration = Duration::from_secs(2);

    /// A change queued by the handle.
    pub(super) enum Command {
        Unread { unread: usize, attention: bool },
        Labels(TrayLabels),
    }

    /// The item as ksni sees it. ksni calls the property methods on every
    /// update to see what changed, so the pixmaps are made once, up front.
    struct Item {
        labels: TrayLabels,
        unread: usize,
        attention: bool,
        on_action: OnAction,
        plain: Vec<ksni::Icon>,
        unread_icon: Vec<ksni::Icon>,
        attention_icon: Vec<ksni::Icon>,
    }

    fn icons(badge: Badge) -> Vec<ksni::Icon> {
        pixmaps(badge)
            .into_iter()
            .map(|p| ksni::Icon {
                width: i32::try_from(p.side).unwrap_or(0),
                height: i32::try_from(p.side).unwrap_or(0),
                data: p.argb,
            })
            .collect()
    }

    /// A menu label shown as is: a single `_` would mark an access key.
    fn menu_label(text: &str) -> String {
        text.replace('_', "__")
    }

    impl Item {
        fn apply(&mut self, command: Command) {
            match command {
                Command::Unread { unread, attention } => {
                    self.unread = unread;
                    self.attention = attention;
                }
                Command::Labels(labels) => self.labels = labels,
            }
        }
    }

    impl ksni::Tray for Item {
        fn id(&self) -> String {
            "lanchat".into()
        }

        fn title(&self) -> String {
            self.labels.tooltip.clone()
        }

        fn activate(&mut self, _x: i32, _y: i32) {
            (self.on_action)(TrayAction::Show);
        }

        fn category(&self) -> ksni::Category {
            ksni::Category::Communications
        }

        fn status(&self) -> ksni::Status {
            match Badge::for_unread(self.unread, self.attention) {
                Badge::Attention => ksni::Status::NeedsAttention,
                Badge::None | Badge::Unread => ksni::Status::Active,
            }
        }

        fn icon_pixmap(&self) -> Vec<ksni::Icon> {
            match Badge::for_unread(self.unread, self.attention) {
                Badge::None => self.plain.clone(),
                Badge::Unread => self.unread_icon.clone(),
                Badge::Attention => self.attention_icon.clone(),
            }
        }

        fn attention_icon_pixmap(&self) -> Vec<ksni::Icon> {
            self.attention_icon.clone()
        }

        fn tool_tip(&self) -> ksni::ToolTip {
            ksni::ToolTip {
                title: tooltip_title(&self.labels.tooltip, self.unread),
                ..Default::default()
            }
        }

        fn menu(&self) -> Vec<ksni::MenuItem<Self>> {
            use ksni::menu::StandardItem;
            vec![
                StandardItem {
                    label: menu_label(&self.labels.show),
                    activate: Box::new(|item: &mut Item| (item.on_action)(TrayAction::Show)),
                    ..Default::default()
                }
                .into(),
                ksni::MenuItem::Separator,
                StandardItem {
                    label: menu_label(&self.labels.quit),
                    icon_name: "application-exit".into(),
                    activate: Box::new(|item: &mut Item| (item.on_action)(TrayAction::Quit)),
                    ..Default::default()
                }
                .into(),
            ]
        }

        fn watcher_offline(&self, reason: ksni::OfflineReason) -> bool {
            // The panel may come back (a shell restart); keep the item alive.
            tracing::info!(?reason, "tray watcher went away");
            true
        }

        fn watcher_online(&self) {
            tracing::info!("tray watcher is back");
        }
    }

    /// Starts the worker and waits (at most [`START_TIMEOUT`]) for the item to register.
    pub(super) fn start(
        labels: TrayLabels,
        on_action: OnAction,
    ) -> Result<mpsc::Sender<Command>, DesktopError> {
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), String>>(1);
        let (commands, command_rx) = mpsc::channel::<Command>();
        let item = Item {
            labels,
            unread: 0,
            attention: false,
            on_action,
            plain: icons(Badge::None),
            unread_icon: icons(Badge::Unread),
            attention_icon: icons(Badge::Attention),
        };
        std::thread::Builder::new()
            .name("lanchat-tray".into())
            .spawn(move || run(item, ready_tx, command_rx))
            .map_err(|e| DesktopError::io("starting the tray thread", e))?;
        match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(())) => Ok(commands),
            Ok(Err(cause)) => Err(DesktopError::NoService(cause)),
            // The worker shuts the item down itself when it finds no one waiting.
            Err(mpsc::RecvTimeoutError::Timeout) => Err(DesktopError::NoService(
                "the tray did not register within 2 s".into(),
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(DesktopError::NoService("the tray thread ended".into()))
            }
        }
    }

    /// The worker: registers the item, then applies commands until the handle is dropped.
    fn run(
        item: Item,
        ready: mpsc::SyncSender<Result<(), String>>,
        commands: mpsc::Receiver<Command>,
    ) {
        let handle = match item.spawn() {
            Ok(handle) => handle,
            Err(e) => {
                tracing::info!(cause = %e, "no tray");
                let _ = ready.send(Err(e.to_string()));
                return;
            }
        };
        if ready.send(Ok(())).is_err() {
            // `start` gave up waiting: the caller was told there is no tray.
            handle.shutdown().wait();
            return;
        }
        drop(ready);
        while let Ok(first) = commands.recv() {
            let applied = handle.update(|item| {
                item.apply(first);
                // A burst of changes becomes one D-Bus update.
                while let Ok(next) = commands.try_recv() {
                    item.apply(next);
                }
            });
            if applied.is_none() {
                tracing::warn!("tray service stopped");
                return;
            }
        }
        handle.shutdown().wait();
    }
}

#[cfg(windows)]
mod windows {
    //! The notification-area icon, its menu and its clicks.

    use tray_icon::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
    use tray_icon::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};

    use super::super::tray_icon::{Badge, pixmaps};
    use super::{DesktopError, OnAction, TrayAction, TrayLabels, tooltip_title};

    /// The side of the pixmap given to Windows, which scales it to the
    /// notification area (16 px at 100 %, 32 at 200 %).
    const SIDE: usize = 32;

    /// The icon and what it shows.
    pub(super) struct Icon {
        tray: TrayIcon,
        show: MenuItem,
        quit: MenuItem,
        tooltip: std::cell::RefCell<String>,
        unread: std::cell::Cell<usize>,
        images: [tray_icon::Icon; 3],
    }

    /// The icon with `badge`, as tray-icon takes it (RGBA; the pixmaps
    /// are ARGB).
    fn image(badge: Badge) -> Result<tray_icon::Icon, DesktopError> {
        let pixmap = pixmaps(badge)
            .into_iter()
            .find(|p| p.side == SIDE)
            .ok_or_else(|| DesktopError::NoService(format!("no {SIDE} px icon")))?;
        let rgba = pixmap
            .argb
            .chunks_exact(4)
            .flat_map(|p| [p[1], p[2], p[3], p[0]])
            .collect();
        let side = u32::try_from(SIDE).unwrap_or(32);
        tray_icon::Icon::from_rgba(rgba, side, side)
            .map_err(|e| DesktopError::NoService(format!("the tray icon's image: {e}")))
    }

    fn index(badge: Badge) -> usize {
        match badge {
            Badge::None => 0,
            Badge::Unread => 1,
            Badge::Attention => 2,
        }
    }

    impl Icon {
        pub(super) fn start(labels: TrayLabels, on_action: OnAction) -> Result<Icon, DesktopError> {
            let images = [
                image(Badge::None)?,
                image(Badge::Unread)?,
                image(Badge::Attention)?,
            ];
            let show = MenuItem::new(&labels.show, true, None);
            let quit = MenuItem::new(&labels.quit, true, None);
            let menu = Menu::new();
            menu.append_items(&[&show, &PredefinedMenuItem::separator(), &quit])
                .map_err(|e| DesktopError::NoService(format!("the tray menu: {e}")))?;
            let tray = TrayIconBuilder::new()
                .with_menu(Box::new(menu))
                .with_menu_on_left_click(false)
                .with_tooltip(&labels.tooltip)
                .with_icon(images[0].clone())
                .build()
                .map_err(|e| DesktopError::NoService(e.to_string()))?;
            // Both handlers are called on this thread, from the window's
            // message loop: the callback sends and asks for a repaint.
            let (show_id, quit_id) = (show.id().clone(), quit.id().clone());
            let menu_action = on_action.clone();
            MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
                tracing::debug!(id = ?event.id, "tray menu");
                if event.id == show_id {
                    menu_action(TrayAction::Show);
                } else if event.id == quit_id {
                    menu_action(TrayAction::Quit);
                }
            }));
            TrayIconEvent::set_event_handler(Some(move |event: TrayIconEvent| {
                tracing::trace!(?event, "tray icon event");
                let shown = matches!(
                    event,
                    TrayIconEvent::Click {
                        button: MouseButton::Left,
                        button_state: MouseButtonState::Up,
                        ..
                    } | TrayIconEvent::DoubleClick {
                        button: MouseButton::Left,
                        ..
                    }
                );
                if shown {
                    on_action(TrayAction::Show);
                }
            }));
            Ok(Icon {
                tray,
                show,
                quit,
                tooltip: std::cell::RefCell::new(labels.tooltip),
                unread: std::cell::Cell::new(0),
                images,
            })
        }

        pub(super) fn set_unread(&self, unread: usize, attention: bool) {
            let badge = Badge::for_unread(unread, attention);
            let image = self.images[index(badge)].clone();
            if let Err(err) = self.tray.set_icon(Some(image)) {
                tracing::debug!(cause = %err, "tray icon not changed");
            }
            self.unread.set(unread);
            self.show_tooltip();
        }

        fn show_tooltip(&self) {
            let title = tooltip_title(&self.tooltip.borrow(), self.unread.get());
            if let Err(err) = self.tray.set_tooltip(Some(title)) {
                tracing::debug!(cause = %err, "tray tooltip not changed");
            }
        }

        pub(super) fn set_labels(&self, labels: TrayLabels) {
            self.show.set_text(&labels.show);
            self.quit.set_text(&labels.quit);
            *self.tooltip.borrow_mut() = labels.tooltip;
            self.show_tooltip();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tooltip_carries_the_count() {
        assert_eq!(tooltip_title("LAN Chat", 0), "LAN Chat");
        assert_eq!(tooltip_title("LAN Chat", 3), "LAN Chat — 3");
    }

    /// Runs in a child process without a session bus (see `no_tray_without_a_session_bus`).
    #[test]
    #[ignore = "run by no_tray_without_a_session_bus in a child process"]
    fn child_tray_without_bus() {
        if !crate::desktop::tests::in_child() {
            return;
        }
        let labels = TrayLabels {
            tooltip: "LAN Chat".into(),
            show: "Show".into(),
            quit: "Quit".into(),
        };
        let started = std::time::Instant::now();
        let result = Tray::start(labels, Arc::new(|_| {}));
        let took = started.elapsed();
        println!("start took {took:?}: {result:?}");
        assert!(took < std::time::Duration::from_secs(2), "took {took:?}");
        match result {
            #[cfg(any(target_os = "linux", windows))]
            Err(DesktopError::NoService(_)) => {}
            #[cfg(not(any(target_os = "linux", windows)))]
            Err(DesktopError::Unsupported(_)) => {}
            other => panic!("expected no tray, got {other:?}"),
        }
    }

    #[test]
    fn no_tray_without_a_session_bus() {
        let runtime = tempfile::tempdir().unwrap();
        crate::desktop::tests::run_child(
            "desktop::tray::tests::child_tray_without_bus",
            &crate::desktop::tests::no_bus_env(runtime.path()),
            &["DBUS_SESSION_BUS_ADDRESS"],
        );
    }
}
