//! What the node says, applied to the window: the model first, then
//! banners, notices and alerts.

use super::*;

impl LanchatApp {
    /// Takes in everything the node said since the last frame.
    pub(super) fn pump(&mut self) {
        for event in self.session.drain() {
            self.apply_event(event);
        }
    }

    /// Takes in one event as if the node had just sent it (the frame-time
    /// bench feeds a long channel through this).
    pub fn apply_event(&mut self, event: NodeEvent) {
        if event.search {
            if let Event::Core(CoreEvent::Message(msg)) = event.event {
                self.search.results.push(msg);
            }
            return;
        }
        let now = LanchatApp::now_ms();
        let alert = self.model.apply(
            &event,
            now,
            Some(&self.selected),
            self.focused && self.visible,
        );
        match &event.event {
            Event::Trouble(trouble) => {
                let text = self.t().trouble(trouble);
                self.notices
                    .push(Notice::with_cause(&text, &trouble.cause()));
            }
            Event::Core(CoreEvent::Error(refusal)) | Event::Refused(refusal) => {
                self.notice(self.t().refusal(refusal));
            }
            Event::KeyChanged {
                id,
                nick,
                host,
                old,
                new,
            } => {
                // The label tells two people of one nick apart (for /trust).
                let who = self
                    .model
                    .peers
                    .get(id)
                    .map_or_else(|| nick.clone(), |p| p.label.clone());
                let text = fill(
                    self.t().key_changed,
                    &[
                        ("nick", &who),
                        ("host", host),
                        ("old", &old.fingerprint()),
                        ("new", &new.fingerprint()),
                    ],
                );
                // In the chat, and as a banner that stays until dismissed.
                self.notice(text.clone());
                self.notices.push(Notice::plain(text));
            }
            Event::HistoryRecovered {
                moved_to,
                recovered,
                cause,
            } => {
                let text = fill(
                    self.t().history_recovered,
                    &[
                        ("cause", cause),
                        ("path", &moved_to.display().to_string()),
                        ("count", &recovered.to_string()),
                    ],
                );
                // A banner that stays until dismissed.
                self.notices.push(Notice::plain(text));
            }
            Event::Core(core @ CoreEvent::OtherVersion { .. }) => {
                if let Some(finding) = crate::doctor::Finding::of_event(core) {
                    let text = self.settings.lang().strings().finding(&finding);
                    // In the chat, and as a banner: a colleague who cannot
                    // be read must not look merely absent.
                    self.notice(text.clone());
                    self.notices.push(Notice::plain(text));
                }
            }
            Event::Trusted {
                nick, fingerprint, ..
            } => {
                let text = fill(
                    self.t().trusted,
                    &[("nick", nick), ("fingerprint", fingerprint)],
                );
                self.notice(text);
            }
            Event::Exported { path, count, .. } => {
                let text = fill(
                    self.t().exported,
                    &[
                        ("count", &count.to_string()),
                        ("path", &path.display().to_string()),
                    ],
                );
                self.notice(text);
            }
            Event::Core(CoreEvent::Who(peers)) if self.pending_who => {
                self.pending_who = false;
                let mut names: Vec<String> = peers.iter().map(|p| p.label.clone()).collect();
                names.sort_by_key(|n| n.to_lowercase());
                let text = format!(
                    "{}: {}",
                    fill(self.t().online, &[("n", &names.len().to_string())]),
                    names.join(", ")
                );
                self.notice(text);
            }
            // The administrator's list of channels stays as it is.
            Event::Core(CoreEvent::Joined { channel, id, .. })
                if *id == self.model.me
                    && channel != MAIN_CHANNEL
                    && !self.settings.channels.contains(channel)
                    && !self.locks().channels =>
            {
                self.settings.channels.push(channel.clone());
                self.save_settings();
            }
            Event::Core(CoreEvent::ChannelKey { channel, key }) => {
                let hex = key.to_hex();
                if self.settings.channel_keys.get(channel) != Some(&hex) {
                    self.settings.channel_keys.insert(channel.clone(), hex);
                    self.save_settings();
                }
            }
            Event::Core(CoreEvent::Parted { channel, id, .. }) if *id == self.model.me => {
                if !self.locks().channels {
                    self.settings.channels.retain(|c| c != channel);
                    self.settings.channel_keys.remove(channel);
                    self.save_settings();
                }
                if self.selected == Chat::Channel(channel.clone()) {
                    self.selected = Chat::Channel(MAIN_CHANNEL.to_string());
                }
            }
            Event::Core(CoreEvent::NickChanged { id, new, .. })
                if *id == self.model.me && self.settings.nick.as_ref() != Some(new) =>
            {
                self.settings.nick = Some(new.clone());
                self.save_settings();
            }
            _ => {}
        }
        if let Some(alert) = alert {
            self.alert(&alert);
        }
    }
}
