//! The window's words in English and Russian. Every text is a field of
//! [`Strings`], so a language that misses one does not compile. Texts with
//! blanks use `{name}` placeholders filled by [`fill`].

use serde::{Deserialize, Serialize};

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

/// English.
pub static EN: Strings = Strings {
    menu_chat: "Chat",
    join_channel: "Join or create a channel…",
    channel_list: "Channels on the network…",
    quit: "Quit",
    menu_me: "Me",
    change_nick: "Change nick…",
    set_status: "Status…",
    settings: "Settings…",
    menu_help: "Help",
    network: "Network",
    network_waiting: "Asking the node…",
    network_findings: "What the doctor finds",
    network_details: "Interfaces and peers",
    network_add_hint: "A colleague on another subnet, or a network that drops multicast and broadcast: add their address (remembered).",
    network_add: "Add",
    network_remove: "Remove",
    commands: "Commands",
    about: "About lanchat",
    about_text: "A chat for your office or home network: no server, no account, no set-up.",
    available: "Available",
    away: "Away",
    dnd: "Do not disturb",
    channels: "Channels",
    private_chats: "Private chats",
    leave_channel: "Leave channel",
    close_chat: "Close chat",
    online: "Online ({n})",
    you: "(you)",
    private_chat: "Private chat",
    beep: "Beep",
    info: "Info",
    host: "Host",
    address: "Address",
    version: "Version",
    online_since: "Online since",
    status: "Status",
    node_id: "Node id",
    fingerprint: "Key fingerprint",
    fingerprint_hint: "Ask them to read out the fingerprint shown in their About window: if it is the same, this is really them.",
    key_changed: "WARNING: {nick} on {host} now has another key ({new}, before {old}). It may be someone else using their name. Compare fingerprints with them, then type /trust {nick}.",
    trusted: "{nick}'s key {fingerprint} is trusted from now on.",
    typing_one: "{nick} is typing…",
    typing_many: "{nicks} are typing…",
    sending: "sending…",
    delivered: "delivered",
    queued: "queued: will be delivered when {nick} is back",
    copy: "Copy text",
    from_history: "history",
    loading_older: "Loading older messages…",
    history_start: "Beginning of history",
    sys_joined: "{nick} joined {channel}",
    sys_parted: "{nick} left {channel}",
    sys_online: "{nick} is online",
    sys_quit: "{nick} went offline",
    sys_timeout: "{nick} lost the connection",
    sys_nick: "{old} is now known as {new}",
    sys_topic: "{nick} set the topic: {topic}",
    sys_beeped: "{nick} beeped you",
    sys_beep_sent: "You beeped {nick}",
    sys_missed: "{count} messages from {nick} could not be recovered",
    sys_status: "{nick} is now {status}",
    topic_hint: "Set a topic for this channel",
    offline: "offline",
    input_hint: "Message {chat} (Enter sends, Shift+Enter starts a new line, /help lists commands)",
    send: "Send",
    join_title: "Join or create a channel",
    channel_name: "Channel name",
    channel_password: "Password (optional)",
    channel_password_hint: "With a password, only people who know it can read the channel or see who is in it.",
    protected: "password",
    protected_hint: "Has a password: only its members see what is said and who is in it",
    join: "Join",
    cancel: "Cancel",
    members: "{n} people",
    refresh: "Refresh",
    new_nick: "New nick",
    status_text: "Status text",
    apply: "Apply",
    save: "Save",
    close: "Close",
    nick: "Nick",
    auto_away: "Away after this many idle minutes (0: never)",
    sounds: "Play sounds",
    notifications: "Desktop notifications",
    start_minimised: "Start minimised to the tray",
    start_at_login: "Start at login",
    language: "Language",
    system_language: "System",
    idle: "idle",
    problem_port: "UDP port {port} is taken by another program, so lanchat cannot hear the network. Close that program (or another lanchat), then press Restart network.",
    problem_no_network: "No network connection: nobody else can be reached. Connect a cable or Wi-Fi, then press Restart network.",
    problem_data_dir: "lanchat cannot write its data folder {path} ({cause}). Check the folder's permissions or free disk space, then press Restart network.",
    problem_in_use: "Another lanchat{who} already uses the data folder {path}, so this one stays offline: two with one identity would confuse everyone. Use the other window (it may be in the tray), or quit it and press Restart network.",
    settings_reset: "The settings file {path} could not be read ({cause}), so the defaults are used. The old file is kept as {kept}.",
    settings_unreadable: "The settings file {path} could not be read ({cause}), so the defaults are used.",
    history_recovered: "The history database was damaged ({cause}). lanchat moved it aside to {path} (nothing was deleted), recovered {count} messages into a new one and fetches what colleagues still hold. New messages are saved as before.",
    problem_start: "The network part could not start: {cause}",
    problem_stopped: "The network part stopped. Press Restart network to reconnect.",
    restart_network: "Restart network",
    dismiss: "Dismiss",
    no_tray: "This desktop has no tray ({cause}); closing the window quits lanchat.",
    no_notifications: "Desktop notifications are not available ({cause}).",
    no_sound: "Beeps are silent: {cause}",
    settings_not_saved: "The settings could not be saved: {cause}",
    tray_show: "Show lanchat",
    notify_beep: "{nick} beeped you",
    notify_in: "{nick} in {chat}",
    err_unknown: "Unknown command /{cmd}; /help lists the commands",
    err_usage: "Usage: {usage}",
    err_channel: "Bad channel name {name}: {cause}",
    err_nick: "Bad nick {nick}: 1–32 characters, no spaces, commas, '@' or leading '#'",
    err_too_long: "The text is longer than {max} bytes",
    export_chat: "Export this chat…",
    file: "File",
    exported: "Saved {count} messages to {path}",
    keep_days: "Keep history for days (0: forever; applies at next start)",
    join_history: "Messages given when joining a channel (0: none; next start)",
    search_hint: "Search messages",
    search_results: "Search results",
    nothing_found: "Nothing found",
    err_number: "{value} is not a positive number",
    err_not_channel: "This is a private chat; name a channel (#name)",
    err_address: "\"{text}\" is not an address (e.g. 10.0.0.5 or 10.0.0.5:47077)",
    err_file_id: "\"{text}\" is not an offer id (the 32 characters /files shows)",
    set_by_admin: "Set by your administrator",
    workgroup: "Workgroup passphrase",
    workgroup_help: "Only people with the same passphrase see you; changing it restarts the network",
    interfaces_only: "Only these interfaces",
    interfaces_never: "Never these interfaces",
    multicast_ttl: "Multicast TTL (1: this network only)",
    interfaces_help: "Comma-separated; empty: all but container and VM adapters. Changing these restarts the network",
    policy_error: "Your administrator's settings are not applied: {cause}",
    policy_ignored: "The policy file {path} has settings this version does not know; they are ignored: {keys}",
    policy_overridden: "Set by your administrator, so not taken from the command line: {flags}",
    nick_locked: "Your nick is set by your administrator",
    file_offers: "{nick} offers {what}",
    file_you_offered: "You offered {what}",
    file_unreadable: "{nick} offered a file, but the offer cannot be read",
    folder_contents: "{name}/ ({n} files, {size})",
    decimal_point: ".",
    size_units: "B KB MB GB TB",
    per_second: "{size}/s",
    accept: "Accept",
    decline: "Decline",
    cancel_transfer: "Cancel",
    withdraw: "Withdraw",
    file_starting: "starting…",
    time_left: "{time} left",
    seconds: "{s} s",
    minutes: "{m} min {s} s",
    hours: "{h} h {m} min",
    flow_queued: "queued",
    flow_reconnecting: "reconnecting…",
    flow_sender_away: "waiting for {nick} to come back online",
    saved_to: "Saved to {path}",
    checksum: "SHA-256: {hash}",
    checksum_hint: "{hash}\nClick to copy",
    offer_withdrawn: "{nick} withdrew the offer of {name}",
    fail_withdrawn_by: "{nick} withdrew it",
    open_received: "Open",
    show_in_folder: "Show in folder",
    open_failed: "Could not open {path}: {cause}",
    not_received: "Not received: {reason}",
    offer_gone: "This offer is no longer open",
    withdrawn: "You withdrew this offer",
    waiting_for_answer: "waiting for {nick} to accept",
    channel_offer_hint: "each member of {channel} decides for themselves",
    upload_received: "received",
    fail_declined: "declined",
    fail_cancelled: "cancelled",
    fail_cancelled_by_peer: "cancelled by the other side",
    fail_unavailable: "no longer offered",
    fail_changed: "the file changed on the sender's computer",
    fail_corrupt: "the data arrived damaged twice",
    fail_disk: "file error: {why}",
    fail_refused: "refused: {why}",
    send_file: "Send a file…",
    send_file_hint: "Offer files or folders in this chat (or drop them on the window)",
    offer_title: "Offer files in {chat}",
    offer_paths: "Files and folders, one per line (a folder goes whole):",
    browse: "Browse…",
    browse_hint: "Ctrl+click picks several, Shift+click a range",
    offer: "Offer",
    not_found: "Not found: {path}",
    nothing_chosen: "Choose at least one file or folder",
    picker_title: "Choose files and folders",
    picker_choose: "Choose",
    picker_name: "Name:",
    picker_hidden: "Show hidden",
    picker_up: "Parent folder",
    drop_here: "Drop to offer to {chat}",
    drop_no_path: "Only files on this computer can be offered",
    download_dir: "Download folder",
    auto_accept_files: "Accept files without asking",
    download_help: "Empty: the folder shown. Changing these restarts the network",
    notify_file: "{nick} offers a file",
    notify_file_in: "{nick} offers a file in {chat}",
};

/// Russian.
pub static RU: Strings = Strings {
    menu_chat: "Чат",
    join_channel: "Войти в канал или создать…",
    channel_list: "Каналы в сети…",
    quit: "Выход",
    menu_me: "Я",
    change_nick: "Сменить ник…",
    set_status: "Статус…",
    settings: "Настройки…",
    menu_help: "Справка",
    network: "Сеть",
    network_waiting: "Запрашиваю узел…",
    network_findings: "Что нашёл доктор",
    network_details: "Интерфейсы и узлы",
    network_add_hint: "Коллега в другой подсети или сеть режет multicast и broadcast: добавьте его адрес (запоминается).",
    network_add: "Добавить",
    network_remove: "Убрать",
    commands: "Команды",
    about: "О программе",
    about_text: "Чат для офисной или домашней сети: без сервера, без учётных записей, без настройки.",
    available: "На месте",
    away: "Отошёл",
    dnd: "Не беспокоить",
    channels: "Каналы",
    private_chats: "Личные чаты",
    leave_channel: "Покинуть канал",
    close_chat: "Закрыть чат",
    online: "В сети ({n})",
    you: "(вы)",
    private_chat: "Личный чат",
    beep: "Позвать",
    info: "Сведения",
    host: "Компьютер",
    address: "Адрес",
    version: "Версия",
    online_since: "В сети с",
    status: "Статус",
    node_id: "Идентификатор",
    fingerprint: "Отпечаток ключа",
    fingerprint_hint: "Попросите собеседника прочитать отпечаток из его окна «О программе»: если он совпадает, это действительно он.",
    key_changed: "ВНИМАНИЕ: у {nick} на {host} теперь другой ключ ({new}, раньше {old}). Возможно, кто-то другой выдаёт себя за него. Сверьте отпечатки и введите /trust {nick}.",
    trusted: "Ключ {nick} ({fingerprint}) теперь считается доверенным.",
    typing_one: "{nick} печатает…",
    typing_many: "{nicks} печатают…",
    sending: "отправляется…",
    delivered: "доставлено",
    queued: "в очереди: будет доставлено, когда {nick} появится в сети",
    copy: "Копировать текст",
    from_history: "история",
    loading_older: "Загрузка старых сообщений…",
    history_start: "Начало истории",
    sys_joined: "{nick} входит в {channel}",
    sys_parted: "{nick} покидает {channel}",
    sys_online: "{nick} в сети",
    sys_quit: "{nick} выходит из сети",
    sys_timeout: "{nick}: связь потеряна",
    sys_nick: "{old} теперь {new}",
    sys_topic: "{nick} меняет тему: {topic}",
    sys_beeped: "{nick} зовёт вас",
    sys_beep_sent: "Вы позвали {nick}",
    sys_missed: "Сообщений от {nick}, которые не удалось получить: {count}",
    sys_status: "{nick}: {status}",
    topic_hint: "Задайте тему канала",
    offline: "не в сети",
    input_hint: "Сообщение в {chat} (Enter — отправить, Shift+Enter — новая строка, /help — команды)",
    send: "Отправить",
    join_title: "Вход в канал",
    channel_name: "Название канала",
    channel_password: "Пароль (необязательно)",
    channel_password_hint: "С паролем канал читают и видят его участников только те, кто знает пароль.",
    protected: "с паролем",
    protected_hint: "Канал с паролем: что в нём пишут и кто в нём, видят только его участники",
    join: "Войти",
    cancel: "Отмена",
    members: "человек: {n}",
    refresh: "Обновить",
    new_nick: "Новый ник",
    status_text: "Текст статуса",
    apply: "Применить",
    save: "Сохранить",
    close: "Закрыть",
    nick: "Ник",
    auto_away: "«Отошёл» после стольких минут бездействия (0 — никогда)",
    sounds: "Звуки",
    notifications: "Уведомления на рабочем столе",
    start_minimised: "Запускать свёрнутым в трей",
    start_at_login: "Запускать при входе в систему",
    language: "Язык",
    system_language: "Как в системе",
    idle: "нет на месте",
    problem_port: "UDP-порт {port} занят другой программой, и lanchat не слышит сеть. Закройте ту программу (или другой lanchat) и нажмите «Перезапустить сеть».",
    problem_no_network: "Нет подключения к сети: никого не видно. Подключите кабель или Wi-Fi и нажмите «Перезапустить сеть».",
    problem_data_dir: "lanchat не может писать в папку данных {path} ({cause}). Проверьте права на папку и место на диске, затем нажмите «Перезапустить сеть».",
    problem_in_use: "Папкой данных {path} уже пользуется другой lanchat{who}, поэтому этот остаётся вне сети: два с одним именем запутали бы всех. Перейдите в другое окно (оно может быть в трее) или закройте его и нажмите «Перезапустить сеть».",
    settings_reset: "Файл настроек {path} не читается ({cause}), поэтому действуют настройки по умолчанию. Старый файл сохранён как {kept}.",
    settings_unreadable: "Файл настроек {path} не читается ({cause}), поэтому действуют настройки по умолчанию.",
    history_recovered: "База истории была повреждена ({cause}). lanchat переложил её в {path} (ничего не удалено), восстановил {count} сообщений в новую базу и запрашивает то, что есть у коллег. Новые сообщения сохраняются как прежде.",
    problem_start: "Сетевая часть не запустилась: {cause}",
    problem_stopped: "Сетевая часть остановилась. Нажмите «Перезапустить сеть».",
    restart_network: "Перезапустить сеть",
    dismiss: "Скрыть",
    no_tray: "На этом рабочем столе нет трея ({cause}); закрытие окна завершает lanchat.",
    no_notifications: "Уведомления на рабочем столе недоступны ({cause}).",
    no_sound: "Сигналы без звука: {cause}",
    settings_not_saved: "Настройки не сохранены: {cause}",
    tray_show: "Показать lanchat",
    notify_beep: "{nick} зовёт вас",
    notify_in: "{nick} в {chat}",
    err_unknown: "Неизвестная команда /{cmd}; список команд: /help",
    err_usage: "Использование: {usage}",
    err_channel: "Недопустимое название канала {name}: {cause}",
    err_nick: "Недопустимый ник {nick}: 1–32 символа, без пробелов, запятых, «@» и «#» в начале",
    err_too_long: "Текст длиннее {max} байт",
    export_chat: "Сохранить чат в файл…",
    file: "Файл",
    exported: "Сообщений сохранено: {count}, файл {path}",
    keep_days: "Хранить историю дней (0 — всегда; со следующего запуска)",
    join_history: "Сообщений истории при входе в канал (0 — нет; со следующего запуска)",
    search_hint: "Поиск по сообщениям",
    search_results: "Результаты поиска",
    nothing_found: "Ничего не найдено",
    err_number: "{value} — не положительное число",
    err_not_channel: "Это личный чат; укажите канал (#название)",
    err_address: "«{text}» — не адрес (например, 10.0.0.5 или 10.0.0.5:47077)",
    err_file_id: "«{text}» — не номер предложения (32 знака, которые показывает /files)",
    set_by_admin: "Задано администратором",
    workgroup: "Пароль рабочей группы",
    workgroup_help: "Вас видят только те, у кого такой же пароль; при его смене сеть перезапускается",
    interfaces_only: "Только эти интерфейсы",
    interfaces_never: "Никогда эти интерфейсы",
    multicast_ttl: "TTL multicast (1 — только эта сеть)",
    interfaces_help: "Через запятую; пусто — все, кроме адаптеров контейнеров и ВМ. Смена перезапускает сеть",
    policy_error: "Настройки администратора не применены: {cause}",
    policy_ignored: "В файле политики {path} есть параметры, незнакомые этой версии; они пропущены: {keys}",
    policy_overridden: "Задано администратором, поэтому не взято из командной строки: {flags}",
    nick_locked: "Ваш ник задан администратором",
    file_offers: "{nick} предлагает {what}",
    file_you_offered: "Вы предложили {what}",
    file_unreadable: "{nick} предлагает файл, но предложение не читается",
    folder_contents: "{name}/ (файлов: {n}, {size})",
    decimal_point: ",",
    size_units: "Б КБ МБ ГБ ТБ",
    per_second: "{size}/с",
    accept: "Принять",
    decline: "Отклонить",
    cancel_transfer: "Отменить",
    withdraw: "Отозвать",
    file_starting: "начинается…",
    time_left: "осталось {time}",
    seconds: "{s} с",
    minutes: "{m} мин {s} с",
    hours: "{h} ч {m} мин",
    flow_queued: "в очереди",
    flow_reconnecting: "переподключение…",
    flow_sender_away: "ждём, когда {nick} вернётся в сеть",
    saved_to: "Сохранено: {path}",
    checksum: "SHA-256: {hash}",
    checksum_hint: "{hash}\nЩёлкните, чтобы скопировать",
    offer_withdrawn: "{nick} отозвал(а) предложение: {name}",
    fail_withdrawn_by: "{nick} отозвал(а) его",
    open_received: "Открыть",
    show_in_folder: "Показать в папке",
    open_failed: "Не удалось открыть {path}: {cause}",
    not_received: "Не получено: {reason}",
    offer_gone: "Это предложение больше не действует",
    withdrawn: "Вы отозвали это предложение",
    waiting_for_answer: "ждём ответа от {nick}",
    channel_offer_hint: "каждый участник {channel} решает сам",
    upload_received: "получено",
    fail_declined: "отклонено",
    fail_cancelled: "отменено",
    fail_cancelled_by_peer: "отменено другой стороной",
    fail_unavailable: "больше не предлагается",
    fail_changed: "файл изменился на компьютере отправителя",
    fail_corrupt: "данные дважды пришли повреждёнными",
    fail_disk: "ошибка файла: {why}",
    fail_refused: "отказано: {why}",
    send_file: "Отправить файл…",
    send_file_hint: "Предложить файлы или папки в этом чате (или перетащите их в окно)",
    offer_title: "Предложить файлы в {chat}",
    offer_paths: "Файлы и папки, по одному на строку (папка — целиком):",
    browse: "Обзор…",
    browse_hint: "Ctrl+щелчок — несколько, Shift+щелчок — подряд",
    offer: "Предложить",
    not_found: "Не найдено: {path}",
    nothing_chosen: "Выберите хотя бы один файл или папку",
    picker_title: "Выбор файлов и папок",
    picker_choose: "Выбрать",
    picker_name: "Имя:",
    picker_hidden: "Скрытые",
    picker_up: "Папка выше",
    drop_here: "Отпустите, чтобы предложить: {chat}",
    drop_no_path: "Предложить можно только файлы с этого компьютера",
    download_dir: "Папка для загрузок",
    auto_accept_files: "Принимать файлы без вопроса",
    download_help: "Пусто — показанная папка. Смена перезапускает сеть",
    notify_file: "{nick} предлагает файл",
    notify_file_in: "{nick} предлагает файл в {chat}",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locale_picks_the_language() {
        assert_eq!(Lang::from_locale("ru-RU"), Lang::Ru);
        assert_eq!(Lang::from_locale("ru_UA.UTF-8"), Lang::Ru);
        assert_eq!(Lang::from_locale("en-US"), Lang::En);
        assert_eq!(Lang::from_locale("de-DE"), Lang::En);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill(RU.sys_joined, &[("nick", "боб"), ("channel", "#dev")]),
            "боб входит в #dev"
        );
        assert_eq!(fill(EN.online, &[("n", "3")]), "Online (3)");
    }

    #[test]
    fn both_languages_use_the_same_placeholders() {
        // A Russian text that lost a `{nick}` would show a sentence about nobody.
        let pairs = [
            (EN.typing_one, RU.typing_one),
            (EN.queued, RU.queued),
            (EN.sys_joined, RU.sys_joined),
            (EN.sys_parted, RU.sys_parted),
            (EN.sys_nick, RU.sys_nick),
            (EN.sys_topic, RU.sys_topic),
            (EN.sys_missed, RU.sys_missed),
            (EN.sys_status, RU.sys_status),
            (EN.problem_port, RU.problem_port),
            (EN.problem_data_dir, RU.problem_data_dir),
            (EN.problem_in_use, RU.problem_in_use),
            (EN.history_recovered, RU.history_recovered),
            (EN.settings_reset, RU.settings_reset),
            (EN.settings_unreadable, RU.settings_unreadable),
            (EN.notify_in, RU.notify_in),
            (EN.input_hint, RU.input_hint),
            (EN.file_offers, RU.file_offers),
            (EN.file_you_offered, RU.file_you_offered),
            (EN.file_unreadable, RU.file_unreadable),
            (EN.folder_contents, RU.folder_contents),
            (EN.per_second, RU.per_second),
            (EN.time_left, RU.time_left),
            (EN.seconds, RU.seconds),
            (EN.minutes, RU.minutes),
            (EN.hours, RU.hours),
            (EN.flow_sender_away, RU.flow_sender_away),
            (EN.saved_to, RU.saved_to),
            (EN.checksum, RU.checksum),
            (EN.checksum_hint, RU.checksum_hint),
            (EN.offer_withdrawn, RU.offer_withdrawn),
            (EN.fail_withdrawn_by, RU.fail_withdrawn_by),
            (EN.open_received, RU.open_received),
            (EN.show_in_folder, RU.show_in_folder),
            (EN.open_failed, RU.open_failed),
            (EN.not_received, RU.not_received),
            (EN.waiting_for_answer, RU.waiting_for_answer),
            (EN.channel_offer_hint, RU.channel_offer_hint),
            (EN.fail_disk, RU.fail_disk),
            (EN.fail_refused, RU.fail_refused),
            (EN.offer_title, RU.offer_title),
            (EN.not_found, RU.not_found),
            (EN.drop_here, RU.drop_here),
            (EN.notify_file, RU.notify_file),
            (EN.notify_file_in, RU.notify_file_in),
        ];
        let holes = |s: &str| {
            let mut v: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(k, _)| k.to_string()))
                .collect();
            v.sort();
            v
        };
        for (en, ru) in pairs {
            assert_eq!(holes(en), holes(ru), "{en} / {ru}");
        }
    }
}
