//! The sending side of "typing…" notices: which chats may be told again.
//!
//! The window reports every keystroke; a notice per keystroke would put a
//! datagram on the LAN for every key pressed in `#Main`. A chat gets one
//! notice per [`crate::protocol::Timing::typing_every`] at most, and the window
//! keeps showing it for [`crate::protocol::TYPING_SHOWN`], so a steady typist is
//! shown without a gap.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::types::Chat;

/// Entries kept before the stale ones are swept: more than the joined
/// channels, few enough that a sweep is cheap.
const SWEEP_ABOVE: usize = 64;

/// When each chat was last told that I am typing.
#[derive(Debug, Default)]
pub(crate) struct TypingLimit {
    last: BTreeMap<Chat, Instant>,
}

impl TypingLimit {
    /// True, and noted, if a notice for `chat` may go now: none went in the
    /// last `every`.
    pub(crate) fn allow(&mut self, chat: &Chat, now: Instant, every: Duration) -> bool {
        if self.last.get(chat).is_some_and(|t| now < *t + every) {
            return false;
        }
        if self.last.len() >= SWEEP_ABOVE {
            // Only chats that resolved get here (joined channels, online
            // peers), so this stays small; the sweep keeps it so.
            self.last.retain(|_, t| now < *t + every);
        }
        self.last.insert(chat.clone(), now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::NodeId;

    const EVERY: Duration = Duration::from_secs(3);

    #[test]
    fn one_notice_per_chat_per_interval() {
        let t0 = Instant::now();
        let mut limit = TypingLimit::default();
        let dev = Chat::Channel("#dev".into());
        let bob = Chat::Direct(NodeId([2; 16]));
        let allowed = |limit: &mut TypingLimit, chat: &Chat, from: Duration| {
            (0..20)
                .filter(|i| limit.allow(chat, t0 + from + Duration::from_millis(50 * i), EVERY))
                .count()
        };
        assert_eq!(allowed(&mut limit, &dev, Duration::ZERO), 1);
        // Another chat has its own allowance.
        assert_eq!(allowed(&mut limit, &bob, Duration::ZERO), 1);
        assert!(!limit.allow(&dev, t0 + EVERY - Duration::from_millis(1), EVERY));
        assert_eq!(allowed(&mut limit, &dev, EVERY), 1);
        assert_eq!(allowed(&mut limit, &bob, EVERY), 1);
    }

    #[test]
    fn many_chats_are_swept_not_kept() {
        let t0 = Instant::now();
        let mut limit = TypingLimit::default();
        for i in 0..1000u16 {
            let chat = Chat::Direct(NodeId([
                i.to_be_bytes()[0],
                i.to_be_bytes()[1],
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
            ]));
            let at = t0 + Duration::from_millis(10 * u64::from(i));
            assert!(limit.allow(&chat, at, EVERY));
        }
        // Entries older than the interval go at each sweep.
        assert!(
            limit.last.len() <= SWEEP_ABOVE + 300,
            "{}",
            limit.last.len()
        );
    }
}
