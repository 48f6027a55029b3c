//! Every word lanchat shows, in English and Russian: the window, the
//! headless mode and the network doctor. Every text is a field of
//! [`Strings`], so a language that misses one does not compile. Texts with
//! blanks use `{name}` placeholders filled by [`fill`].

use serde::{Deserialize, Serialize};

mod doctor;
mod en;
mod refusal;
mod ru;
#[cfg(test)]
mod tests;
mod trouble;

pub use doctor::Doctor;
pub use en::EN;
pub use refusal::Refusals;
pub use ru::RU;
pub use trouble::Troubles;

use crate::files::FileFailure;
use crate::input::InputError;
use crate::types::Status;

/// A language of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    /// English.
    En,
    /// Russian.
    Ru,
}

impl Lang {
    /// The language of the system locale: Russian for `ru*`, else English.
    pub fn from_system() -> Lang {
        Lang::from_locale(sys_locale::get_locale().as_deref().unwrap_or("en"))
    }

    /// The language for a locale name such as `ru-RU` or `en_US.UTF-8`.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("ru") {
            Lang::Ru
        } else {
            Lang::En
        }
    }

    /// The words of this language.
    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::En => &EN,
            Lang::Ru => &RU,
        }
    }

    /// The language's own name.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ru => "Русский",
        }
    }
}

/// Replaces each `{key}` in `text` by its value.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (key, value) in values {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

/// Every text the window shows.
#[derive(Debug)]
pub struct Strings {
    /// "Chat" menu.
    pub menu_chat: &'static str,
    /// Menu item: join or create a channel.
    pub join_channel: &'static str,
    /// Menu item: the channels known on the network.
    pub channel_list: &'static str,
    /// Menu item: leave the program.
    pub quit: &'static str,
    /// "Me" menu.
    pub menu_me: &'static str,
    /// Menu item: change nick.
    pub change_nick: &'static str,
    /// Menu item: status dialog.
    pub set_status: &'static str,
    /// Menu item and dialog: settings.
    pub settings: &'static str,
    /// "Help" menu.
    pub menu_help: &'static str,
    /// Menu item and window title: the network doctor.
    pub network: &'static str,
    /// Network window: no report yet.
    pub network_waiting: &'static str,
    /// Network window: heading of the findings.
    pub network_findings: &'static str,
    /// Network window: heading of the interfaces and peers.
    pub network_details: &'static str,
    /// Network window: what adding an address is for.
    pub network_add_hint: &'static str,
    /// Network window: add an address.
    pub network_add: &'static str,
    /// Network window: stop reaching an address.
    pub network_remove: &'static str,
    /// Menu item: command list.
    pub commands: &'static str,
    /// Menu item: about.
    pub about: &'static str,
    /// What lanchat is, for the about box.
    pub about_text: &'static str,
    /// Status: available.
    pub available: &'static str,
    /// Status: away.
    pub away: &'static str,
    /// Status: do not disturb.
    pub dnd: &'static str,
    /// Left panel: channels.
    pub channels: &'static str,
    /// Left panel: private chats.
    pub private_chats: &'static str,
    /// Context menu: leave a channel.
    pub leave_channel: &'static str,
    /// Context menu: close a private chat.
    pub close_chat: &'static str,
    /// Right panel: people online, `{n}`.
    pub online: &'static str,
    /// After my own name in the list.
    pub you: &'static str,
    /// Context menu: private chat.
    pub private_chat: &'static str,
    /// Context menu: beep.
    pub beep: &'static str,
    /// Context menu: info.
    pub info: &'static str,
    /// Info: host.
    pub host: &'static str,
    /// Info: address.
    pub address: &'static str,
    /// Info: version.
    pub version: &'static str,
    /// Info: online since.
    pub online_since: &'static str,
    /// Info: status.
    pub status: &'static str,
    /// Info: node id.
    pub node_id: &'static str,
    /// Info: key fingerprint.
    pub fingerprint: &'static str,
    /// Info: how to use the fingerprint.
    pub fingerprint_hint: &'static str,
    /// Warning: `{nick}` on `{host}` has another key (`{old}` → `{new}`).
    pub key_changed: &'static str,
    /// Notice: `{nick}`'s key `{fingerprint}` is trusted.
    pub trusted: &'static str,
    /// One person typing, `{nick}`.
    pub typing_one: &'static str,
    /// Several people typing, `{nicks}`.
    pub typing_many: &'static str,
    /// My direct message: not yet acknowledged.
    pub sending: &'static str,
    /// My direct message: acknowledged.
    pub delivered: &'static str,
    /// My direct message: waiting for the recipient, `{nick}`.
    pub queued: &'static str,
    /// Context menu: copy a message.
    pub copy: &'static str,
    /// Mark on a message replayed from history.
    pub from_history: &'static str,
    /// Above the first message while older ones are read from the store.
    pub loading_older: &'static str,
    /// Above the first message when it is the oldest stored.
    pub history_start: &'static str,
    /// System line: `{nick}` joined `{channel}`.
    pub sys_joined: &'static str,
    /// System line: `{nick}` left `{channel}`.
    pub sys_parted: &'static str,
    /// System line: `{nick}` came online.
    pub sys_online: &'static str,
    /// System line: `{nick}` quit.
    pub sys_quit: &'static str,
    /// System line: `{nick}` stopped answering.
    pub sys_timeout: &'static str,
    /// System line: `{old}` is now `{new}`.
    pub sys_nick: &'static str,
    /// System line: `{nick}` set the topic `{topic}`.
    pub sys_topic: &'static str,
    /// System line: `{nick}` beeped me.
    pub sys_beeped: &'static str,
    /// System line: I beeped `{nick}`.
    pub sys_beep_sent: &'static str,
    /// System line: `{count}` messages from `{nick}` lost for good.
    pub sys_missed: &'static str,
    /// System line: `{nick}` is now `{status}`.
    pub sys_status: &'static str,
    /// Top bar: topic field hint.
    pub topic_hint: &'static str,
    /// Top bar: this person is offline.
    pub offline: &'static str,
    /// Input hint, `{chat}`.
    pub input_hint: &'static str,
    /// Button: send.
    pub send: &'static str,
    /// Join dialog title.
    pub join_title: &'static str,
    /// Join dialog: the name field.
    pub channel_name: &'static str,
    /// Join dialog: the password field.
    pub channel_password: &'static str,
    /// Join dialog: what a password does.
    pub channel_password_hint: &'static str,
    /// Channel list: a password channel I am not in.
    pub protected: &'static str,
    /// Channel list: tooltip of a password channel.
    pub protected_hint: &'static str,
    /// Button: join.
    pub join: &'static str,
    /// Button: cancel.
    pub cancel: &'static str,
    /// Channel list: `{n}` members.
    pub members: &'static str,
    /// Button: refresh.
    pub refresh: &'static str,
    /// Nick dialog: field.
    pub new_nick: &'static str,
    /// Status dialog: text field.
    pub status_text: &'static str,
    /// Button: apply.
    pub apply: &'static str,
    /// Button: save.
    pub save: &'static str,
    /// Button: close.
    pub close: &'static str,
    /// Settings: nick.
    pub nick: &'static str,
    /// Settings: auto-away minutes.
    pub auto_away: &'static str,
    /// Settings: sounds.
    pub sounds: &'static str,
    /// Settings: notifications.
    pub notifications: &'static str,
    /// Settings: start minimised.
    pub start_minimised: &'static str,
    /// Settings: start at login.
    pub start_at_login: &'static str,
    /// Settings: language.
    pub language: &'static str,
    /// Settings: follow the system language.
    pub system_language: &'static str,
    /// Status text set by auto-away.
    pub idle: &'static str,
    /// Banner: the port is taken, `{port}`.
    pub problem_port: &'static str,
    /// Banner: no network, only loopback.
    pub problem_no_network: &'static str,
    /// Banner: the data directory, `{path}`, `{cause}`.
    pub problem_data_dir: &'static str,
    /// Banner: another lanchat uses the data directory, `{path}`, `{who}`
    /// (empty, or " (process 123)").
    pub problem_in_use: &'static str,
    /// Banner: settings.json did not read and was moved aside, `{path}`,
    /// `{cause}`, `{kept}` (where the old file is).
    pub settings_reset: &'static str,
    /// Banner: settings.json could not be read at all, `{path}`, `{cause}`.
    pub settings_unreadable: &'static str,
    /// Banner: the history database was damaged and recovered, `{cause}`,
    /// `{path}` (where the old file is), `{count}` (messages recovered).
    pub history_recovered: &'static str,
    /// Banner: the network part could not start, `{cause}`.
    pub problem_start: &'static str,
    /// Banner: the network part stopped.
    pub problem_stopped: &'static str,
    /// Button: restart the network part.
    pub restart_network: &'static str,
    /// Button: show a notice's raw cause.
    pub details: &'static str,
    /// Button: hide a notice.
    pub dismiss: &'static str,
    /// Notice: no tray, `{cause}`.
    pub no_tray: &'static str,
    /// Notice: no notifications, `{cause}`.
    pub no_notifications: &'static str,
    /// Notice: no sound, `{cause}`.
    pub no_sound: &'static str,
    /// Notice: a setting could not be saved, `{cause}`.
    pub settings_not_saved: &'static str,
    /// Notice: start at login could not be set or unset.
    pub autostart_failed: &'static str,
    /// Tray: show the window.
    pub tray_show: &'static str,
    /// Notification: `{nick}` beeped me.
    pub notify_beep: &'static str,
    /// Notification title: `{nick}` in `{chat}`.
    pub notify_in: &'static str,
    /// Input error: unknown command `{cmd}`.
    pub err_unknown: &'static str,
    /// Input error: usage `{usage}`.
    pub err_usage: &'static str,
    /// Input error: bad channel name `{name}`.
    pub err_channel: &'static str,
    /// Input error: bad nick `{nick}`.
    pub err_nick: &'static str,
    /// Input error: too long, `{max}` bytes.
    pub err_too_long: &'static str,
    /// Menu item and dialog: export the chat.
    pub export_chat: &'static str,
    /// Export dialog: the file field.
    pub file: &'static str,
    /// Notice: exported `{count}` messages to `{path}`.
    pub exported: &'static str,
    /// Settings: days of history to keep.
    pub keep_days: &'static str,
    pub join_history: &'static str,
    /// Search box hint.
    pub search_hint: &'static str,
    /// Search results window title.
    pub search_results: &'static str,
    /// No search results.
    pub nothing_found: &'static str,
    /// Input error: not a number `{value}`.
    pub err_number: &'static str,
    /// Input error: the current chat is not a channel.
    pub err_not_channel: &'static str,
    /// Input error: `{text}` is not an address.
    pub err_address: &'static str,
    /// Not a file offer's id; `{text}` is what was typed.
    pub err_file_id: &'static str,
    /// Settings: beside a value the policy file locks.
    pub set_by_admin: &'static str,
    /// Settings: the workgroup passphrase.
    pub workgroup: &'static str,
    /// Settings: what the workgroup passphrase does.
    pub workgroup_help: &'static str,
    /// Settings: use only these interfaces.
    pub interfaces_only: &'static str,
    /// Settings: never use these interfaces.
    pub interfaces_never: &'static str,
    /// Settings: the multicast TTL.
    pub multicast_ttl: &'static str,
    /// Settings: what the interface choices do.
    pub interfaces_help: &'static str,
    /// Notice: the policy file is not applied, `{cause}`.
    pub policy_error: &'static str,
    /// Notice: the policy file `{path}` has unknown `{keys}`.
    pub policy_ignored: &'static str,
    /// Notice: command-line `{flags}` overridden by the policy.
    pub policy_overridden: &'static str,
    /// Notice: `/nick` refused, the nick is locked.
    pub nick_locked: &'static str,
    /// A file card: `{nick}` offers `{what}`.
    pub file_offers: &'static str,
    /// A file card of mine: I offered `{what}`.
    pub file_you_offered: &'static str,
    /// A file message whose offer cannot be read, from `{nick}`.
    pub file_unreadable: &'static str,
    /// A folder offered: `{name}`, `{n}` files, `{size}` in all.
    pub folder_contents: &'static str,
    /// The decimal separator of sizes.
    pub decimal_point: &'static str,
    /// Units of sizes, from bytes up, space-separated.
    pub size_units: &'static str,
    /// A speed: `{size}` a second.
    pub per_second: &'static str,
    /// Button: accept a file offer.
    pub accept: &'static str,
    /// Button: decline a file offer.
    pub decline: &'static str,
    /// Button: stop receiving a file.
    pub cancel_transfer: &'static str,
    /// Button: withdraw my file offer.
    pub withdraw: &'static str,
    /// A file accepted, no bytes reported yet.
    pub file_starting: &'static str,
    /// Time left, `{time}`.
    pub time_left: &'static str,
    /// A duration: `{s}` seconds.
    pub seconds: &'static str,
    /// A duration: `{m}` minutes `{s}` seconds.
    pub minutes: &'static str,
    /// A duration: `{h}` hours `{m}` minutes.
    pub hours: &'static str,
    /// A transfer waiting for a free slot.
    pub flow_queued: &'static str,
    /// A transfer whose connection dropped, trying again.
    pub flow_reconnecting: &'static str,
    /// A transfer waiting for the other side, `{nick}`, to be online again.
    pub flow_sender_away: &'static str,
    /// A received file: saved at `{path}`.
    pub saved_to: &'static str,
    /// A received file's SHA-256, `{hash}` (shortened).
    pub checksum: &'static str,
    /// Tooltip of the SHA-256: the whole `{hash}`.
    pub checksum_hint: &'static str,
    /// Why an offer to me ended: its sender `{nick}` withdrew it.
    pub fail_withdrawn_by: &'static str,
    /// `{nick}` withdrew the offer of `{name}` (a line in the chat).
    pub offer_withdrawn: &'static str,
    /// Opens a received file (or folder) with the desktop's program.
    pub open_received: &'static str,
    /// Opens the folder a received file was saved in.
    pub show_in_folder: &'static str,
    /// The desktop would not open `{path}`: `{cause}`.
    pub open_failed: &'static str,
    /// A file offer that ended without the file: `{reason}`.
    pub not_received: &'static str,
    /// A file message whose offer the node no longer knows.
    pub offer_gone: &'static str,
    /// My file offer, withdrawn.
    pub withdrawn: &'static str,
    /// My direct file offer, not answered yet by `{nick}`.
    pub waiting_for_answer: &'static str,
    /// My file offer in `{channel}`: each member answers.
    pub channel_offer_hint: &'static str,
    /// One receiver of my offer has it all.
    pub upload_received: &'static str,
    /// Why a transfer ended: declined.
    pub fail_declined: &'static str,
    /// Why a transfer ended: cancelled here.
    pub fail_cancelled: &'static str,
    /// Why a transfer ended: cancelled by the other side.
    pub fail_cancelled_by_peer: &'static str,
    /// Why a transfer ended: no longer offered.
    pub fail_unavailable: &'static str,
    /// Why a transfer ended: the sender's file changed.
    pub fail_changed: &'static str,
    /// Why a transfer ended: damaged twice.
    pub fail_corrupt: &'static str,
    /// Why a transfer ended: a disk error, `{why}`.
    pub fail_disk: &'static str,
    /// Why a transfer ended: the sender refused, `{why}`.
    pub fail_refused: &'static str,
    /// Button beside the input: offer files.
    pub send_file: &'static str,
    /// Tooltip of that button.
    pub send_file_hint: &'static str,
    /// Offer dialog title: in `{chat}`.
    pub offer_title: &'static str,
    /// Offer dialog: the paths field.
    pub offer_paths: &'static str,
    /// Offer dialog: open the file picker.
    pub browse: &'static str,
    /// Offer dialog: how to pick several.
    pub browse_hint: &'static str,
    /// Offer dialog: offer the files.
    pub offer: &'static str,
    /// Offer dialog: `{path}` does not exist.
    pub not_found: &'static str,
    /// Offer dialog: no path given.
    pub nothing_chosen: &'static str,
    /// File picker: title.
    pub picker_title: &'static str,
    /// File picker: confirm.
    pub picker_choose: &'static str,
    /// File picker: the name field.
    pub picker_name: &'static str,
    /// File picker: show hidden files.
    pub picker_hidden: &'static str,
    /// File picker: the parent folder.
    pub picker_up: &'static str,
    /// Overlay while files are dragged over: offer in `{chat}`.
    pub drop_here: &'static str,
    /// Notice: something dropped that is not a file on disk.
    pub drop_no_path: &'static str,
    /// Settings: where received files go.
    pub download_dir: &'static str,
    /// Settings: accept every file offered.
    pub auto_accept_files: &'static str,
    /// Settings: what the download folder field does.
    pub download_help: &'static str,
    /// Notification title: `{nick}` offers a file.
    pub notify_file: &'static str,
    /// Notification title: `{nick}` offers a file in `{chat}`.
    pub notify_file_in: &'static str,
    /// The network doctor's words.
    pub doctor: Doctor,
    /// What cannot be done, and why.
    pub refusals: Refusals,
    /// What went wrong that the user did not cause.
    pub troubles: Troubles,
}

impl Strings {
    /// A status in words.
    pub fn status(&self, status: Status) -> &'static str {
        match status {
            Status::Available => self.available,
            Status::Away => self.away,
            Status::DoNotDisturb => self.dnd,
        }
    }

    /// An input error in words.
    pub fn input_error(&self, err: &InputError) -> String {
        match err {
            InputError::UnknownCommand(cmd) => fill(self.err_unknown, &[("cmd", cmd)]),
            InputError::Usage(usage) => fill(self.err_usage, &[("usage", usage)]),
            InputError::BadChannel { name, cause } => fill(
                self.err_channel,
                &[("name", name), ("cause", &cause.to_string())],
            ),
            InputError::BadNick(nick) => fill(self.err_nick, &[("nick", nick)]),
            InputError::TooLong { max, .. } => {
                fill(self.err_too_long, &[("max", &max.to_string())])
            }
            InputError::BadNumber(value) => fill(self.err_number, &[("value", value)]),
            InputError::NotAChannel => self.err_not_channel.to_string(),
            InputError::BadAddress(text) => fill(self.err_address, &[("text", text)]),
            InputError::BadFileId(text) => fill(self.err_file_id, &[("text", text)]),
        }
    }

    /// Why a transfer ended, in words.
    pub fn failure(&self, failure: &FileFailure) -> String {
        match failure {
            FileFailure::Declined => self.fail_declined.to_string(),
            FileFailure::Cancelled => self.fail_cancelled.to_string(),
            FileFailure::CancelledByPeer => self.fail_cancelled_by_peer.to_string(),
            FileFailure::Unavailable => self.fail_unavailable.to_string(),
            FileFailure::Changed => self.fail_changed.to_string(),
            FileFailure::Corrupt => self.fail_corrupt.to_string(),
            FileFailure::Disk(why) => fill(self.fail_disk, &[("why", why)]),
            FileFailure::Refused(why) => fill(self.fail_refused, &[("why", why)]),
        }
    }
}
