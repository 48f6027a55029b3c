//! The tray icon: a handle whose worker thread owns the tray service.
//!
//! On Linux the icon is a StatusNotifierItem (`ksni`, over D-Bus). ksni's
//! update call waits for its service, so the [`Tray`] handle only queues
//! commands; a worker thread applies them (coalescing bursts) and removes the
//! icon when the handle is dropped. Other platforms have no tray yet.

use std::sync::Arc;

use super::{DesktopError, TrayAction, TrayLabels};

/// The callback the tray calls, on its own thread.
type OnAction = Arc<dyn Fn(TrayAction) + Send + Sync>;

/// The tray icon. Dropping it removes the icon.
pub struct Tray {
    #[cfg(target_os = "linux")]
    commands: std::sync::mpsc::Sender<linux::Command>,
    #[cfg(not(target_os = "linux"))]
    never: std::convert::Infallible,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").finish_non_exhaustive()
    }
}

/// The tooltip title: the labels' tooltip with the unread count appended.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
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
    /// StatusNotifierWatcher on the session bus, no session bus at all), and
    /// with [`DesktopError::Unsupported`] on Windows and macOS. Returns within
    /// about 2 s in every case.
    pub fn start(labels: TrayLabels, on_action: OnAction) -> Result<Tray, DesktopError> {
        #[cfg(target_os = "linux")]
        {
            linux::start(labels, on_action).map(|commands| Tray { commands })
        }
        #[cfg(not(target_os = "linux"))]
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
        #[cfg(not(target_os = "linux"))]
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
        #[cfg(not(target_os = "linux"))]
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
            #[cfg(target_os = "linux")]
            Err(DesktopError::NoService(_)) => {}
            #[cfg(not(target_os = "linux"))]
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
