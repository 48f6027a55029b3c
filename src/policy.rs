//! The administrator's policy file: settings fixed for everyone on a PC
//! (`[locked]`, which the user cannot change in the app) and a settings
//! profile put back at every start (`[defaults]`, which the user may change
//! until the next start). See `docs/policy.md`.
//!
//! The policy is an administration convenience, not a security boundary:
//! a user who can run a binary of their own (or set `LANCHAT_POLICY`)
//! escapes it.
//!
//! Loading never stops the program: a missing file is no policy, and an
//! unreadable or invalid one is no policy plus a [`PolicyError`] the caller
//! shows. Keys this version does not know are ignored and listed in
//! [`Policy::ignored`], so a file written for a newer version still locks
//! what this one knows.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::catchup::Share;
use crate::i18n::Lang;
use crate::net::{DEFAULT_PORT, NetOptions};
use crate::settings::Settings;

/// The environment variable that points at another policy file.
pub const ENV_VAR: &str = "LANCHAT_POLICY";

/// The keys a section may hold, in the order of the documentation.
const KEYS: &[&str] = &[
    "workgroup",
    "nick_from_login",
    "nick",
    "interfaces",
    "port",
    "join_history",
    "keep_days",
    "sounds",
    "notifications",
    "auto_away_minutes",
    "language",
    "channels",
    "start_at_login",
    "start_minimised",
    "download_dir",
    "auto_accept_files",
];

/// The sections of the file.
const SECTIONS: &[&str] = &["locked", "defaults"];

/// What the administrator set: values nobody can change, and values put
/// back at every start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Values the user cannot change; they win over the settings file and
    /// the command line.
    pub locked: Values,
    /// Values written into the user's settings at every start.
    pub defaults: Values,
    /// Keys of the file this version does not know (`section.key`), which
    /// were ignored.
    #[serde(skip)]
    pub ignored: Vec<String>,
    /// Where it was read: the file, or the registry key.
    #[serde(skip)]
    pub from: PathBuf,
}

/// The settings a policy section may set; `None` leaves one alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Values {
    /// Workgroup passphrase; an empty one is the open LAN.
    pub workgroup: Option<String>,
    /// The nick is the OS login name (`false` is the same as unset).
    pub nick_from_login: Option<bool>,
    /// The nick.
    pub nick: Option<String>,
    /// Interfaces to use by name (empty: every up IPv4 one).
    pub interfaces: Option<Vec<String>>,
    /// UDP port of the group.
    pub port: Option<u16>,
    /// Recent messages given when joining a channel with no history of it.
    pub join_history: Option<usize>,
    /// Days of history to keep (0: everything).
    pub keep_days: Option<u32>,
    /// Play the beep sound.
    pub sounds: Option<bool>,
    /// Show desktop notifications.
    pub notifications: Option<bool>,
    /// Minutes without input before "away" (0: never).
    pub auto_away_minutes: Option<u32>,
    /// The window's language.
    pub language: Option<Language>,
    /// Channels joined at start (besides `#Main`).
    pub channels: Option<Vec<String>>,
    /// Start when the user logs in.
    pub start_at_login: Option<bool>,
    /// Start hidden in the tray.
    pub start_minimised: Option<bool>,
    /// Where received files are saved.
    pub download_dir: Option<PathBuf>,
    /// Accept file offers without asking.
    pub auto_accept_files: Option<bool>,
}

/// A language as the policy file names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// The system's language.
    System,
    /// English.
    En,
    /// Russian.
    Ru,
}

impl Language {
    fn lang(self) -> Option<Lang> {
        match self {
            Language::System => None,
            Language::En => Some(Lang::En),
            Language::Ru => Some(Lang::Ru),
        }
    }
}

/// Why the policy file could not be used (the program goes on without it).
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file exists but could not be read.
    #[error("the policy file {path} could not be read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a value has the wrong type.
    #[error("the policy file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong and where (line and column).
        message: String,
    },
    /// A value is of the right type but not allowed.
    #[error("the policy file {path} is not valid: {key}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key, as `section.key`.
        key: String,
        /// Why.
        reason: String,
    },
}

/// Which settings the administrator fixed, for the settings dialog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Locks {
    /// The workgroup passphrase.
    pub workgroup: bool,
    /// The nick (given, or the login name).
    pub nick: bool,
    /// History given on joining.
    pub join_history: bool,
    /// Days of history kept.
    pub keep_days: bool,
    /// Sounds.
    pub sounds: bool,
    /// Notifications.
    pub notifications: bool,
    /// Auto-away minutes.
    pub auto_away_minutes: bool,
    /// Language.
    pub language: bool,
    /// The channels joined at start.
    pub channels: bool,
    /// Start at login.
    pub start_at_login: bool,
    /// Start minimised.
    pub start_minimised: bool,
    /// The download folder.
    pub download_dir: bool,
    /// Accepting files without asking.
    pub auto_accept_files: bool,
}

/// The settings and node options in force, after the policy.
#[derive(Clone, Debug)]
pub struct Effective {
    /// The user's settings with the defaults and the locked values in.
    pub settings: Settings,
    /// The options to start the node with.
    pub net: NetOptions,
    /// Command-line options the policy overrode (`--nick`…), to tell once.
    pub overridden: Vec<&'static str>,
    /// Whether the defaults changed the user's settings (save them then).
    pub defaults_changed: bool,
}

impl Policy {
    /// Where the policy is read from: `LANCHAT_POLICY` when set, else
    /// [`Policy::system_path`].
    pub fn path() -> PathBuf {
        match std::env::var_os(ENV_VAR) {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => Policy::system_path(),
        }
    }

    /// The system-wide policy file of this OS.
    #[cfg(all(unix, not(target_os = "macos")))]
    pub fn system_path() -> PathBuf {
        PathBuf::from("/etc/lanchat/policy.toml")
    }

    /// The system-wide policy file of this OS.
    #[cfg(target_os = "macos")]
    pub fn system_path() -> PathBuf {
        PathBuf::from("/Library/Application Support/lanchat/policy.toml")
    }

    /// The system-wide policy file of this OS.
    #[cfg(windows)]
    pub fn system_path() -> PathBuf {
        let data = std::env::var_os("ProgramData")
            .filter(|p| !p.is_empty())
            .map_or_else(|| PathBuf::from(r"C:\ProgramData"), PathBuf::from);
        data.join("lanchat").join("policy.toml")
    }

    /// The system-wide policy file of this OS.
    #[cfg(not(any(unix, windows)))]
    pub fn system_path() -> PathBuf {
        PathBuf::from("lanchat-policy.toml")
    }

    /// The policy of this PC when no file is named: the file
    /// `LANCHAT_POLICY` names, else on Windows the one Group Policy wrote
    /// into the registry ([`registry`]), else the system file
    /// ([`Policy::system_path`]). Where the registry holds a policy, the
    /// file is not read: one place decides.
    pub fn load_system() -> Result<Policy, PolicyError> {
        if std::env::var_os(ENV_VAR).is_some_and(|p| !p.is_empty()) {
            return Policy::load(&Policy::path());
        }
        #[cfg(windows)]
        if let Some(text) = registry::read() {
            return Policy::parse(&text, Path::new(registry::WHERE));
        }
        Policy::load(&Policy::system_path())
    }

    /// Reads the policy at `path`: no policy when the file is missing.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Policy::parse(&text, path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Policy::default()),
            Err(source) => Err(PolicyError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Reads a policy from the text of the file at `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let parse_error = |err: toml::de::Error| PolicyError::Parse {
            path: path.to_path_buf(),
            message: one_line(text, &err),
        };
        let table: toml::Table = toml::from_str(text).map_err(parse_error)?;
        let mut ignored = Vec::new();
        for (section, value) in &table {
            if !SECTIONS.contains(&section.as_str()) {
                ignored.push(section.clone());
                continue;
            }
            let toml::Value::Table(keys) = value else {
                // Named by the typed parse below.
                continue;
            };
            ignored.extend(
                keys.keys()
                    .filter(|k| !KEYS.contains(&k.as_str()))
                    .map(|k| format!("{section}.{k}")),
            );
        }
        let mut policy: Policy = toml::from_str(text).map_err(parse_error)?;
        policy.locked.check(path, "locked")?;
        policy.defaults.check(path, "defaults")?;
        policy.ignored = ignored;
        policy.from = path.to_path_buf();
        Ok(policy)
    }

    /// Whether the file set nothing at all.
    pub fn is_empty(&self) -> bool {
        self.locked == Values::default() && self.defaults == Values::default()
    }

    /// Which settings are locked.
    pub fn locks(&self) -> Locks {
        let l = &self.locked;
        Locks {
            workgroup: l.workgroup.is_some(),
            nick: l.nick().is_some(),
            join_history: l.join_history.is_some(),
            keep_days: l.keep_days.is_some(),
            sounds: l.sounds.is_some(),
            notifications: l.notifications.is_some(),
            auto_away_minutes: l.auto_away_minutes.is_some(),
            language: l.language.is_some(),
            channels: l.channels.is_some(),
            start_at_login: l.start_at_login.is_some(),
            start_minimised: l.start_minimised.is_some(),
            download_dir: l.download_dir.is_some(),
            auto_accept_files: l.auto_accept_files.is_some(),
        }
    }

    /// Puts the locked values back into `settings` (after the user edited
    /// them, say).
    pub fn lock(&self, settings: &mut Settings) {
        self.locked.put_into(settings);
    }

    /// The settings and node options in force: the defaults written into
    /// the user's settings; the node options from the command line, with a
    /// default standing in for an option left at its built-in value; and the
    /// locked values over both.
    pub fn apply(&self, settings: Settings, net: NetOptions) -> Effective {
        let mut settings = settings;
        let saved = settings.clone();
        self.defaults.put_into(&mut settings);
        let defaults_changed = settings != saved;
        self.locked.put_into(&mut settings);
        let mut net = net;
        self.defaults.fill(&mut net);
        let overridden = self.locked.force(&mut net);
        Effective {
            settings,
            net,
            overridden,
            defaults_changed,
        }
    }
}

impl Values {
    /// The nick this section sets: the given one, or the login name.
    pub fn nick(&self) -> Option<String> {
        match (&self.nick, self.nick_from_login) {
            (Some(nick), _) => Some(nick.clone()),
            (None, Some(true)) => Some(crate::identity::default_nick()),
            (None, _) => None,
        }
    }

    fn check(&mut self, path: &Path, section: &str) -> Result<(), PolicyError> {
        let invalid = |key: &str, reason: String| PolicyError::Invalid {
            path: path.to_path_buf(),
            key: format!("{section}.{key}"),
            reason,
        };
        if self.nick.is_some() && self.nick_from_login == Some(true) {
            return Err(invalid(
                "nick",
                "set either nick or nick_from_login, not both".into(),
            ));
        }
        if let Some(nick) = &self.nick
            && !crate::types::valid_nick(nick)
        {
            return Err(invalid(
                "nick",
                format!(
                    "{nick:?} is not a valid nick (no spaces, commas or @, not starting with #)"
                ),
            ));
        }
        if let Some(channels) = &mut self.channels {
            for channel in channels.iter_mut() {
                *channel = crate::types::channel_name(channel)
                    .map_err(|err| invalid("channels", format!("{channel:?}: {err}")))?;
            }
        }
        if self.port == Some(0) {
            return Err(invalid("port", "0 is not a port".into()));
        }
        if self
            .download_dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            return Err(invalid("download_dir", "an empty path is no folder".into()));
        }
        Ok(())
    }

    /// Writes the values set here into `settings`.
    fn put_into(&self, settings: &mut Settings) {
        if let Some(workgroup) = &self.workgroup {
            settings.workgroup = Some(workgroup.clone());
        }
        if let Some(nick) = self.nick() {
            settings.nick = Some(nick);
        }
        if let Some(n) = self.join_history {
            settings.join_history = Some(n);
        }
        set(&mut settings.keep_days, self.keep_days);
        set(&mut settings.sounds, self.sounds);
        set(&mut settings.notifications, self.notifications);
        set(&mut settings.auto_away_minutes, self.auto_away_minutes);
        set(&mut settings.start_at_login, self.start_at_login);
        set(&mut settings.start_minimised, self.start_minimised);
        if let Some(language) = self.language {
            settings.language = language.lang();
        }
        if let Some(channels) = &self.channels {
            settings.channels.clone_from(channels);
        }
        if let Some(dir) = &self.download_dir {
            settings.download_dir = Some(dir.clone());
        }
        set(&mut settings.auto_accept_files, self.auto_accept_files);
    }

    /// Fills in the node options the command line left at their built-in
    /// values (for the `[defaults]`).
    fn fill(&self, net: &mut NetOptions) {
        if net.nick.is_none() {
            net.nick = self.nick();
        }
        if net.interfaces.is_empty()
            && let Some(interfaces) = &self.interfaces
        {
            net.interfaces.clone_from(interfaces);
        }
        if net.port == DEFAULT_PORT
            && let Some(port) = self.port
        {
            net.port = port;
        }
        if net.workgroup.is_none() {
            net.workgroup = self.workgroup.clone().filter(|w| !w.is_empty());
        }
        if net.retention.max_age_days.is_none()
            && let Some(days) = self.keep_days
        {
            net.retention.max_age_days = (days > 0).then_some(days);
        }
        if net.share == Some(Share::default())
            && let Some(n) = self.join_history
        {
            net.share = share(n, net.share);
        }
        if net.files.download_dir.is_none() {
            net.files.download_dir.clone_from(&self.download_dir);
        }
        if !net.files.auto_accept {
            net.files.auto_accept = self.auto_accept_files.unwrap_or(false);
        }
    }

    /// Puts the values set here into the node options whatever they were
    /// (for the `[locked]`); returns the command-line options that had
    /// another value.
    fn force(&self, net: &mut NetOptions) -> Vec<&'static str> {
        let mut overridden = Vec::new();
        if let Some(nick) = self.nick() {
            if net.nick.as_ref().is_some_and(|n| *n != nick) {
                overridden.push("--nick");
            }
            net.nick = Some(nick);
        }
        if let Some(interfaces) = &self.interfaces {
            if !net.interfaces.is_empty() && net.interfaces != *interfaces {
                overridden.push("--iface");
            }
            net.interfaces.clone_from(interfaces);
        }
        if let Some(port) = self.port {
            if net.port != DEFAULT_PORT && net.port != port {
                overridden.push("--port");
            }
            net.port = port;
        }
        if let Some(workgroup) = &self.workgroup {
            let workgroup = Some(workgroup.clone()).filter(|w| !w.is_empty());
            if net.workgroup.is_some() && net.workgroup != workgroup {
                overridden.push("--workgroup");
            }
            net.workgroup = workgroup;
        }
        if let Some(days) = self.keep_days {
            let days = (days > 0).then_some(days);
            if net.retention.max_age_days.is_some() && net.retention.max_age_days != days {
                overridden.push("--keep-days");
            }
            net.retention.max_age_days = days;
        }
        if let Some(n) = self.join_history {
            let wanted = share(n, net.share);
            if net.share != Some(Share::default()) && net.share != wanted {
                overridden.push("--join-history");
            }
            net.share = wanted;
        }
        if let Some(dir) = &self.download_dir {
            if net.files.download_dir.as_ref().is_some_and(|d| d != dir) {
                overridden.push("--downloads");
            }
            net.files.download_dir = Some(dir.clone());
        }
        if let Some(auto) = self.auto_accept_files {
            if net.files.auto_accept && !auto {
                overridden.push("--auto-accept");
            }
            net.files.auto_accept = auto;
        }
        overridden
    }
}

/// A TOML error on one line: where, then what (its own text spans several
/// lines with a picture of the spot).
fn one_line(text: &str, err: &toml::de::Error) -> String {
    let what = err.message().trim_end().replace('\n', "; ");
    let Some(span) = err.span() else {
        return what;
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let source = text.lines().nth(line - 1).unwrap_or("").trim();
    format!("line {line}, column {column} ({source}): {what}")
}

fn set<T: Copy>(setting: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *setting = value;
    }
}

/// History to be given on joining: `n` messages (0: none), of the age the
/// options already say.
fn share(n: usize, given: Option<Share>) -> Option<Share> {
    (n > 0).then(|| Share {
        max_messages: n,
        max_age_days: given.unwrap_or_default().max_age_days,
    })
}

pub mod registry;
#[cfg(test)]
mod tests;
