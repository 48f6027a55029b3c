//! What went wrong that the user did not cause ([`Trouble`]), said as
//! what it means for them; the raw cause is shown apart (Details).

use super::Strings;
use crate::trouble::Trouble;

/// The words of troubles in one language (`{name}` placeholders).
#[derive(Debug)]
pub struct Troubles {
    pub(super) history_in_memory: &'static str,
    pub(super) history_not_saved: &'static str,
    pub(super) history_unread: &'static str,
    pub(super) search: &'static str,
    pub(super) export: &'static str,
    pub(super) trust: &'static str,
    pub(super) network_start: &'static str,
    pub(super) no_file_port: &'static str,
    pub(super) cannot_offer: &'static str,
}

impl Strings {
    /// What a trouble means for the user, without its raw cause
    /// ([`Trouble::cause`]).
    pub fn trouble(&self, trouble: &Trouble) -> String {
        let w = &self.troubles;
        match trouble {
            Trouble::HistoryInMemory { .. } => w.history_in_memory.into(),
            Trouble::HistoryNotSaved { .. } => w.history_not_saved.into(),
            Trouble::HistoryUnread { .. } => w.history_unread.into(),
            Trouble::Search { .. } => w.search.into(),
            Trouble::Export { path, .. } => {
                super::fill(w.export, &[("path", &path.display().to_string())])
            }
            Trouble::Trust { .. } => w.trust.into(),
            Trouble::NetworkStart { .. } => w.network_start.into(),
            Trouble::NoFilePort { .. } => w.no_file_port.into(),
            Trouble::CannotOffer { path, .. } => super::fill(w.cannot_offer, &[("path", path)]),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::i18n::{EN, RU};
    use crate::trouble::Trouble;

    #[test]
    fn every_trouble_is_said_in_both_languages_without_its_raw_cause() {
        let cause = || "disk I/O error (code 10)".to_string();
        let all = [
            Trouble::HistoryInMemory { cause: cause() },
            Trouble::HistoryNotSaved { cause: cause() },
            Trouble::HistoryUnread { cause: cause() },
            Trouble::Search { cause: cause() },
            Trouble::Export {
                path: "/tmp/main.txt".into(),
                cause: cause(),
            },
            Trouble::Trust { cause: cause() },
            Trouble::NetworkStart { cause: cause() },
            Trouble::NoFilePort { cause: cause() },
            Trouble::CannotOffer {
                path: "/tmp/x".into(),
                cause: cause(),
            },
        ];
        for t in all {
            for words in [EN.trouble(&t), RU.trouble(&t)] {
                assert!(
                    !words.contains("code 10") && !words.contains('{'),
                    "{words}"
                );
            }
            assert!(RU.trouble(&t).chars().any(|c| ('а'..='я').contains(&c)));
            assert_eq!(t.cause(), "disk I/O error (code 10)");
            assert!(
                t.to_string().contains("code 10"),
                "headless prints the cause"
            );
        }
    }
}
