//! The window's settings, kept as JSON in the config directory
//! (`~/.config/lanchat/settings.json` on Linux, the platform's equivalent
//! elsewhere). A missing or unreadable file gives the defaults; unknown or
//! missing fields are tolerated so older and newer versions share a file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catchup::Share;
use crate::i18n::Lang;

/// The name of the settings file in the config directory.
pub const FILE_NAME: &str = "settings.json";

/// Everything the user can set in the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Nick to start with; the login name when `None`.
    pub nick: Option<String>,
    /// Minutes without input after which I am set away; 0 turns it off.
    pub auto_away_minutes: u32,
    /// Play the beep sound.
    pub sounds: bool,
    /// Show desktop notifications.
    pub notifications: bool,
    /// Start hidden in the tray.
    pub start_minimised: bool,
    /// Start when I log in.
    pub start_at_login: bool,
    /// Language; the system's when `None`.
    pub language: Option<Lang>,
    /// Channels I was in (besides `#Main`), rejoined at start.
    pub channels: Vec<String>,
    /// The keys (64 hex digits) of the password channels among them, so
    /// they are rejoined without asking for the password (the password
    /// itself is not kept).
    pub channel_keys: std::collections::BTreeMap<String, String>,
    /// Days of history to keep; 0 keeps everything.
    pub keep_days: u32,
    /// Most recent messages to be given when joining a channel I have no
    /// history of (0: none); the command line's or the default when unset.
    pub join_history: Option<usize>,
    /// Workgroup passphrase (empty: the open LAN); the command line's or
    /// `LANCHAT_WORKGROUP`'s when unset.
    pub workgroup: Option<String>,
    /// Use only these interfaces (empty: every usable one); the command
    /// line's `--iface` wins. Takes effect by restarting the network.
    pub interfaces: Vec<String>,
    /// Never use these interfaces (added to `--no-iface`).
    pub exclude_interfaces: Vec<String>,
    /// Multicast TTL (IPv6 hop limit) for networks whose routers pass
    /// multicast on; 0: the command line's (1 by default).
    pub multicast_ttl: u8,
    /// Where received files go; the command line's `--downloads`, else the
    /// Downloads folder, when unset (`--downloads` wins).
    pub download_dir: Option<PathBuf>,
    /// Accept every file offered without asking (off by default;
    /// `--auto-accept` turns it on whatever this says).
    pub auto_accept_files: bool,
}

impl Settings {
    /// The interface choices and TTL of these settings applied to `net`
    /// (the command line's `--iface` wins over the settings' list).
    pub fn apply_network(&self, net: &mut crate::net::NetOptions) {
        if net.interfaces.is_empty() {
            net.interfaces.clone_from(&self.interfaces);
        }
        for name in &self.exclude_interfaces {
            if !net.exclude_interfaces.contains(name) {
                net.exclude_interfaces.push(name.clone());
            }
        }
        if self.multicast_ttl > 0 {
            net.multicast_ttl = u32::from(self.multicast_ttl);
        }
        if net.files.download_dir.is_none() {
            net.files.download_dir.clone_from(&self.download_dir);
        }
        net.files.auto_accept |= self.auto_accept_files;
    }

    /// Whether the network must restart to take in `other`'s choices
    /// (the file runtime is the node's, so the file choices count too).
    pub fn network_differs(&self, other: &Settings) -> bool {
        self.interfaces != other.interfaces
            || self.exclude_interfaces != other.exclude_interfaces
            || self.multicast_ttl != other.multicast_ttl
            || self.download_dir != other.download_dir
            || self.auto_accept_files != other.auto_accept_files
    }
}

impl Settings {
    /// The history to ask for when joining a channel: the user's setting
    /// if made, else `given` (the command line's or the default).
    pub fn share(&self, given: Option<Share>) -> Option<Share> {
        let Some(n) = self.join_history else {
            return given;
        };
        let days = given.unwrap_or_default().max_age_days;
        (n > 0).then_some(Share {
            max_messages: n,
            max_age_days: days,
        })
    }
}

impl Settings {
    /// The workgroup passphrase to use: the user's setting if made (an
    /// empty one is the open LAN), else `given` (the command line's).
    pub fn workgroup(&self, given: Option<String>) -> Option<String> {
        match &self.workgroup {
            Some(workgroup) => Some(workgroup.clone()).filter(|w| !w.is_empty()),
            None => given,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            nick: None,
            auto_away_minutes: 10,
            sounds: true,
            notifications: true,
            start_minimised: false,
            start_at_login: false,
            language: None,
            channels: Vec::new(),
            channel_keys: std::collections::BTreeMap::new(),
            keep_days: 0,
            join_history: None,
            workgroup: None,
            interfaces: Vec::new(),
            exclude_interfaces: Vec::new(),
            multicast_ttl: 0,
            download_dir: None,
            auto_accept_files: false,
        }
    }
}

/// Why settings could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// No config directory is known on this system.
    #[error("no config directory is known on this system")]
    NoConfigDir,
    /// Writing the file failed.
    #[error("writing {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// A settings file that could not be read at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub cause: String,
    /// Where the old file was moved (`None`: it could not be read at all,
    /// or not be moved).
    pub kept: Option<PathBuf>,
}

impl Settings {
    /// The default settings file, if the system has a config directory.
    pub fn default_path() -> Option<PathBuf> {
        crate::places::config_dir().map(|d| d.join(FILE_NAME))
    }

    /// Reads settings from `path`; defaults when it is missing or broken
    /// (a broken file is logged, never fatal).
    pub fn load(path: &Path) -> Settings {
        Settings::load_checked(path).0
    }

    /// Like [`Settings::load`]; a file that is not settings (damaged, or
    /// not JSON) is renamed aside with the date, so the defaults saved later
    /// do not overwrite it, and what happened is returned.
    pub fn load_checked(path: &Path) -> (Settings, Option<Unreadable>) {
        let cause = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(settings) => return (settings, None),
                Err(err) => err.to_string(),
            },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return (Settings::default(), None);
            }
            Err(err) => {
                tracing::warn!(path = %path.display(), cause = %err, "settings unreadable; using defaults");
                let told = Unreadable {
                    path: path.to_path_buf(),
                    cause: err.to_string(),
                    kept: None,
                };
                return (Settings::default(), Some(told));
            }
        };
        let aside = crate::identity::aside_name(path);
        let kept = match std::fs::rename(path, &aside) {
            Ok(()) => Some(aside),
            Err(err) => {
                tracing::warn!(path = %path.display(), cause = %err, "the unreadable settings could not be moved aside");
                None
            }
        };
        tracing::warn!(path = %path.display(), %cause, kept = ?kept, "settings unreadable; using defaults");
        let told = Unreadable {
            path: path.to_path_buf(),
            cause,
            kept,
        };
        (Settings::default(), Some(told))
    }

    /// Writes settings to `path` (through a temporary file, so a crash
    /// never leaves half a file).
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let write = |source| SettingsError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let text =
            serde_json::to_string_pretty(self).map_err(|err| write(std::io::Error::other(err)))?;
        let tmp = path.with_extension("json.tmp");
        // Owner-only: it may hold the workgroup passphrase and channel keys.
        crate::identity::write_private(&tmp, &text).map_err(write)?;
        std::fs::rename(&tmp, path).map_err(write)
    }

    /// The language to show.
    pub fn lang(&self) -> Lang {
        self.language.unwrap_or_else(Lang::from_system)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_choices_and_ttl_reach_the_network_options() {
        let settings = Settings {
            interfaces: vec!["eth1".into()],
            exclude_interfaces: vec!["wg0".into(), "docker0".into()],
            multicast_ttl: 4,
            ..Settings::default()
        };
        let mut net = crate::net::NetOptions {
            exclude_interfaces: vec!["docker0".into()],
            ..crate::net::NetOptions::default()
        };
        settings.apply_network(&mut net);
        assert_eq!(net.interfaces, ["eth1"]);
        assert_eq!(net.exclude_interfaces, ["docker0", "wg0"]);
        assert_eq!(net.multicast_ttl, 4);
        // `--iface` wins; a TTL of 0 leaves the command line's.
        let mut net = crate::net::NetOptions {
            interfaces: vec!["eth0".into()],
            ..crate::net::NetOptions::default()
        };
        Settings::default().apply_network(&mut net);
        settings.apply_network(&mut net);
        assert_eq!(net.interfaces, ["eth0"]);
        assert!(settings.network_differs(&Settings::default()));
        assert!(!settings.network_differs(&settings.clone()));
        let mut plain = crate::net::NetOptions::default();
        Settings::default().apply_network(&mut plain);
        assert_eq!(plain.multicast_ttl, 1);
    }

    #[test]
    fn the_download_folder_and_auto_accept_reach_the_file_options() {
        let settings = Settings {
            download_dir: Some(PathBuf::from("/srv/incoming")),
            auto_accept_files: true,
            ..Settings::default()
        };
        let mut net = crate::net::NetOptions::default();
        settings.apply_network(&mut net);
        assert_eq!(net.files.download_dir, Some(PathBuf::from("/srv/incoming")));
        assert!(net.files.auto_accept);
        assert!(settings.network_differs(&Settings::default()));
        // `--downloads` wins; `--auto-accept` is not undone by the settings.
        let mut net = crate::net::NetOptions::default();
        net.files.download_dir = Some(PathBuf::from("/cli"));
        net.files.auto_accept = true;
        Settings::default().apply_network(&mut net);
        settings.apply_network(&mut net);
        assert_eq!(net.files.download_dir, Some(PathBuf::from("/cli")));
        assert!(net.files.auto_accept);
        // Off by default, and an old file without the fields reads as off.
        let mut plain = crate::net::NetOptions::default();
        Settings::default().apply_network(&mut plain);
        assert_eq!(plain.files, crate::files::FileOptions::default());
        let old: Settings = serde_json::from_str(r#"{"sounds": true}"#).expect("old file");
        assert_eq!(old.download_dir, None);
        assert!(!old.auto_accept_files);
    }

    #[test]
    fn the_join_history_setting_wins_once_made() {
        let given = Some(Share {
            max_messages: 50,
            max_age_days: 3,
        });
        let mut settings = Settings::default();
        assert_eq!(settings.share(given), given);
        settings.join_history = Some(0);
        assert_eq!(settings.share(given), None);
        settings.join_history = Some(500);
        assert_eq!(
            settings.share(None),
            Some(Share {
                max_messages: 500,
                max_age_days: Share::default().max_age_days
            })
        );
    }

    #[test]
    fn settings_round_trip_and_tolerate_old_files() {
        let dir = std::env::temp_dir().join(format!("lanchat-settings-{}", std::process::id()));
        let path = dir.join("nested").join(FILE_NAME);
        assert_eq!(Settings::load(&path), Settings::default());
        let settings = Settings {
            nick: Some("анна".into()),
            auto_away_minutes: 3,
            sounds: false,
            language: Some(Lang::Ru),
            channels: vec!["#dev".into()],
            ..Settings::default()
        };
        settings.save(&path).expect("save");
        assert_eq!(Settings::load(&path), settings);
        std::fs::write(&path, r#"{"sounds": false, "future_field": 1}"#).expect("write");
        let old = Settings::load(&path);
        assert!(!old.sounds);
        assert_eq!(old.auto_away_minutes, 10);
        std::fs::write(&path, "not json").expect("write");
        let (loaded, told) = Settings::load_checked(&path);
        assert_eq!(loaded, Settings::default());
        let told = told.expect("told");
        assert!(told.kept.is_some(), "{told:?}");
        // The damaged file is kept beside, and the name is free again.
        assert!(!path.exists());
        let kept: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
            .collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(std::fs::read(kept[0].path()).expect("read"), b"not json");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
