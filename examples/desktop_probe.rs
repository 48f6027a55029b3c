//! Tries `lanchat::desktop` by hand on a real desktop (or under
//! `dbus-run-session` with a notification daemon / tray watcher):
//!
//! ```text
//! cargo run --example desktop_probe -- notify|tray|beep|autostart
//! ```

use std::sync::{Arc, mpsc};
use std::time::Duration;

use lanchat::desktop::{Notifier, Tray, TrayAction, TrayLabels, autostart, sound};

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let what = std::env::args().nth(1).unwrap_or_default();
    match what.as_str() {
        "notify" => {
            let n = Notifier::new("LAN Chat");
            n.notify("Alice in #general", "Lunch at noon? 🍜");
            std::thread::sleep(Duration::from_secs(3));
            match n.take_failure() {
                Some(cause) => println!("notification failed: {cause}"),
                None => println!("notification sent"),
            }
        }
        "tray" => {
            let (tx, rx) = mpsc::channel();
            let on_action = Arc::new(move |a: TrayAction| {
                println!("action: {a:?}");
                let _ = tx.send(a);
            });
            let labels = TrayLabels {
                tooltip: "LAN Chat".into(),
                show: "Show".into(),
                quit: "Quit".into(),
            };
            let tray = Tray::start(labels, on_action)?;
            println!("tray started");
            std::thread::sleep(Duration::from_millis(1500));
            tray.set_unread(3, false);
            std::thread::sleep(Duration::from_millis(1500));
            tray.set_labels(TrayLabels {
                tooltip: "Чат по локальной сети".into(),
                show: "Показать".into(),
                quit: "Выход".into(),
            });
            tray.set_unread(5, true);
            while let Ok(a) = rx.recv_timeout(Duration::from_secs(30)) {
                if a == TrayAction::Quit {
                    break;
                }
            }
            drop(tray);
            println!("tray dropped");
        }
        "beep" => {
            sound::play_beep()?;
            println!("beep started");
            std::thread::sleep(Duration::from_secs(1));
        }
        "autostart" => {
            println!("enabled: {}", autostart::autostart_enabled());
            autostart::set_autostart(true)?;
            println!(
                "enabled after set(true): {}",
                autostart::autostart_enabled()
            );
            #[cfg(target_os = "linux")]
            if let Some(base) = directories::BaseDirs::new() {
                let entry = base.config_dir().join("autostart/lanchat.desktop");
                println!("{}:\n{}", entry.display(), std::fs::read_to_string(&entry)?);
            }
            autostart::set_autostart(false)?;
            println!(
                "enabled after set(false): {}",
                autostart::autostart_enabled()
            );
        }
        _ => anyhow::bail!("usage: desktop_probe notify|tray|beep|autostart"),
    }
    Ok(())
}
