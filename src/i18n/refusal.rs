//! What a user asked that cannot be done ([`Refusal`]), in words: the
//! window says it in its language; the headless mode prints the English
//! of [`Refusal`]'s `Display`, which the English here repeats.

use super::{Strings, fill};
use crate::protocol::{OfferPast, Refusal};
use crate::types::NameError;

/// The words of refusals in one language (`{name}` placeholders).
#[derive(Debug)]
pub struct Refusals {
    pub(super) nothing_to_send: &'static str,
    pub(super) too_long: &'static str,
    pub(super) no_recipient: &'static str,
    pub(super) say_not_in: &'static str,
    pub(super) bad_channel: &'static str,
    pub(super) name_empty: &'static str,
    pub(super) name_too_long: &'static str,
    pub(super) name_bad_character: &'static str,
    pub(super) that_is_you: &'static str,
    pub(super) not_a_person: &'static str,
    pub(super) no_one_called: &'static str,
    pub(super) which_one: &'static str,
    pub(super) beep_to_channel: &'static str,
    pub(super) outbox_full: &'static str,
    pub(super) already_in: &'static str,
    pub(super) too_many_channels: &'static str,
    pub(super) needs_password: &'static str,
    pub(super) main_no_password: &'static str,
    pub(super) too_many_password_channels: &'static str,
    pub(super) open_channel: &'static str,
    pub(super) empty_password: &'static str,
    pub(super) main_cannot_be_left: &'static str,
    pub(super) not_in: &'static str,
    pub(super) topic_too_long: &'static str,
    pub(super) bad_nick: &'static str,
    pub(super) too_many_addresses: &'static str,
    pub(super) trust_offline: &'static str,
    pub(super) no_such_offer: &'static str,
    pub(super) offer_past: &'static str,
    pub(super) offer_receiving: &'static str,
    pub(super) offer_received: &'static str,
    pub(super) offer_ended: &'static str,
    pub(super) offer_answered: &'static str,
}

impl Strings {
    /// Why what the user asked cannot be done, in words.
    pub fn refusal(&self, refusal: &Refusal) -> String {
        let w = &self.refusals;
        let n = |n: &usize| n.to_string();
        match refusal {
            Refusal::NothingToSend => w.nothing_to_send.into(),
            Refusal::TooLong { len, max } => {
                fill(w.too_long, &[("len", &n(len)), ("max", &n(max))])
            }
            Refusal::NoRecipient => w.no_recipient.into(),
            Refusal::SayNotIn(name) => fill(w.say_not_in, &[("name", name)]),
            Refusal::BadChannel { raw, cause } => {
                let cause = match cause {
                    NameError::Empty => w.name_empty.to_string(),
                    NameError::TooLong(max) => fill(w.name_too_long, &[("max", &n(max))]),
                    NameError::BadCharacter => w.name_bad_character.to_string(),
                };
                fill(w.bad_channel, &[("raw", raw), ("cause", &cause)])
            }
            Refusal::ThatIsYou => w.that_is_you.into(),
            Refusal::NotAPerson(name) => fill(w.not_a_person, &[("name", name)]),
            Refusal::NoOneCalled(name) => fill(w.no_one_called, &[("name", name)]),
            Refusal::WhichOne { nick, labels } => fill(
                w.which_one,
                &[
                    ("count", &n(&labels.len())),
                    ("nick", nick),
                    ("labels", &labels.join(", ")),
                ],
            ),
            Refusal::BeepToChannel => w.beep_to_channel.into(),
            Refusal::OutboxFull => w.outbox_full.into(),
            Refusal::AlreadyIn(name) => fill(w.already_in, &[("name", name)]),
            Refusal::TooManyChannels(max) => fill(w.too_many_channels, &[("max", &n(max))]),
            Refusal::NeedsPassword(name) => fill(w.needs_password, &[("name", name)]),
            Refusal::MainNoPassword => w.main_no_password.into(),
            Refusal::TooManyPasswordChannels(max) => {
                fill(w.too_many_password_channels, &[("max", &n(max))])
            }
            Refusal::OpenChannel(name) => fill(w.open_channel, &[("name", name)]),
            Refusal::EmptyPassword(name) => fill(w.empty_password, &[("name", name)]),
            Refusal::MainCannotBeLeft => w.main_cannot_be_left.into(),
            Refusal::NotIn(name) => fill(w.not_in, &[("name", name)]),
            Refusal::TopicTooLong(max) => fill(w.topic_too_long, &[("max", &n(max))]),
            Refusal::BadNick(nick) => fill(
                w.bad_nick,
                &[("nick", nick), ("max", &n(&crate::types::MAX_NICK))],
            ),
            Refusal::TooManyAddresses(max) => fill(w.too_many_addresses, &[("max", &n(max))]),
            Refusal::TrustOffline => w.trust_offline.into(),
            Refusal::NoSuchOffer(id) => fill(w.no_such_offer, &[("id", id)]),
            Refusal::OfferPast { id, state } => {
                let state = match state {
                    OfferPast::Receiving => w.offer_receiving,
                    OfferPast::Received => w.offer_received,
                    OfferPast::Ended => w.offer_ended,
                    OfferPast::Answered => w.offer_answered,
                };
                fill(w.offer_past, &[("id", id), ("state", state)])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::i18n::{EN, RU};
    use crate::protocol::{OfferPast, Refusal};
    use crate::types::NameError;

    /// One of each refusal.
    fn all() -> Vec<Refusal> {
        vec![
            Refusal::NothingToSend,
            Refusal::TooLong {
                len: 9000,
                max: 8000,
            },
            Refusal::NoRecipient,
            Refusal::SayNotIn("#dev".into()),
            Refusal::BadChannel {
                raw: "#a b".into(),
                cause: NameError::BadCharacter,
            },
            Refusal::BadChannel {
                raw: "#".into(),
                cause: NameError::Empty,
            },
            Refusal::BadChannel {
                raw: "#long".into(),
                cause: NameError::TooLong(50),
            },
            Refusal::ThatIsYou,
            Refusal::NotAPerson("#dev".into()),
            Refusal::NoOneCalled("zed".into()),
            Refusal::WhichOne {
                nick: "bob".into(),
                labels: vec!["bob#ab12".into(), "bob#cd34".into()],
            },
            Refusal::BeepToChannel,
            Refusal::OutboxFull,
            Refusal::AlreadyIn("#dev".into()),
            Refusal::TooManyChannels(32),
            Refusal::NeedsPassword("#ops".into()),
            Refusal::MainNoPassword,
            Refusal::TooManyPasswordChannels(8),
            Refusal::OpenChannel("#ops".into()),
            Refusal::EmptyPassword("#ops".into()),
            Refusal::MainCannotBeLeft,
            Refusal::NotIn("#dev".into()),
            Refusal::TopicTooLong(300),
            Refusal::BadNick("a b".into()),
            Refusal::TooManyAddresses(64),
            Refusal::TrustOffline,
            Refusal::NoSuchOffer("5e".into()),
            Refusal::OfferPast {
                id: "5e".into(),
                state: OfferPast::Receiving,
            },
            Refusal::OfferPast {
                id: "5e".into(),
                state: OfferPast::Received,
            },
            Refusal::OfferPast {
                id: "5e".into(),
                state: OfferPast::Ended,
            },
            Refusal::OfferPast {
                id: "5e".into(),
                state: OfferPast::Answered,
            },
        ]
    }

    #[test]
    fn the_english_words_are_what_the_headless_mode_prints() {
        for r in all() {
            assert_eq!(EN.refusal(&r), r.to_string());
        }
    }

    #[test]
    fn every_refusal_has_russian_words_with_every_value_filled() {
        for r in all() {
            let ru = RU.refusal(&r);
            assert!(!ru.contains('{'), "{ru}");
            assert!(ru.chars().any(|c| ('а'..='я').contains(&c)), "{ru}");
            assert_ne!(ru, r.to_string());
        }
    }
}
