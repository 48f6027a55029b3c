//! Nodes heard that speak another wire version.
//!
//! An office upgrades one PC at a time. A datagram of another version cannot
//! be read (its layout may differ anywhere after the version byte), but its
//! sender is a colleague, not noise: the node says so, naming them where it
//! can (the nick of the peer last online at that address), rather than
//! going silent about someone it hears. Said once per address and version
//! an hour, at most [`MOST_TOLD_PER_MINUTE`] a minute in all (the version
//! byte is not signed, so anyone can send one); the doctor lists those
//! heard in the last minute.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Addresses remembered; when full, the one heard longest ago goes.
const MOST: usize = 64;
/// The same address and version is told again after this long.
const TELL_AGAIN: Duration = Duration::from_secs(3600);
/// Notices a minute at most, however many addresses send.
const MOST_TOLD_PER_MINUTE: usize = 8;
/// How recently an address must have been heard to be in the doctor.
const RECENT: Duration = Duration::from_secs(60);

/// One address that speaks another version.
#[derive(Clone, Debug)]
struct Heard {
    version: u8,
    nick: Option<String>,
    last: Instant,
    told: Option<Instant>,
}

/// The addresses heard speaking another wire version.
#[derive(Debug, Default)]
pub(crate) struct OtherVersions {
    heard: BTreeMap<SocketAddr, Heard>,
    /// When the last notices were given (at most a minute's worth).
    told: Vec<Instant>,
}

impl OtherVersions {
    /// A datagram of `version` came from `from`; `nick` names the peer
    /// online at that address, if any (asked only when the address or its
    /// version is new). Returns the nick to name them by when the user
    /// should be told now (`Some(None)`: told, but no name known).
    pub(crate) fn heard(
        &mut self,
        now: Instant,
        from: SocketAddr,
        version: u8,
        nick: impl FnOnce() -> Option<String>,
    ) -> Option<Option<String>> {
        if !self.heard.contains_key(&from) && self.heard.len() >= MOST {
            let oldest = self
                .heard
                .iter()
                .min_by_key(|(_, h)| h.last)
                .map(|(addr, _)| *addr);
            if let Some(oldest) = oldest {
                self.heard.remove(&oldest);
            }
        }
        let entry = self.heard.entry(from).or_insert(Heard {
            version,
            nick: None,
            last: now,
            told: None,
        });
        if entry.version != version {
            entry.version = version;
            entry.told = None;
        }
        if entry.told.is_none()
            && let Some(nick) = nick()
        {
            entry.nick = Some(nick);
        }
        entry.last = now;
        let due = entry
            .told
            .is_none_or(|t| now.saturating_duration_since(t) >= TELL_AGAIN);
        if !due {
            return None;
        }
        self.told
            .retain(|t| now.saturating_duration_since(*t) < Duration::from_secs(60));
        if self.told.len() >= MOST_TOLD_PER_MINUTE {
            return None;
        }
        self.told.push(now);
        entry.told = Some(now);
        Some(entry.nick.clone())
    }

    /// Those heard in the last minute: address, version and nick.
    pub(crate) fn recent(&self, now: Instant) -> Vec<(SocketAddr, u8, Option<String>)> {
        self.heard
            .iter()
            .filter(|(_, h)| now.saturating_duration_since(h.last) < RECENT)
            .map(|(addr, h)| (*addr, h.version, h.nick.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 47078))
    }

    #[test]
    fn told_once_an_hour_per_address_and_again_for_another_version() {
        let t0 = Instant::now();
        let mut v = OtherVersions::default();
        assert_eq!(
            v.heard(t0, addr(1), 5, || Some("bob".into())),
            Some(Some("bob".into()))
        );
        // Heard again: not told again, but the name is kept.
        let t1 = t0 + Duration::from_secs(30);
        assert_eq!(v.heard(t1, addr(1), 5, || None), None);
        assert_eq!(v.recent(t1), vec![(addr(1), 5, Some("bob".into()))]);
        // Another version at that address is news.
        assert_eq!(v.heard(t1, addr(1), 6, || None), Some(Some("bob".into())));
        // An hour on, told again; a minute without it, out of the doctor.
        let t2 = t1 + TELL_AGAIN;
        assert_eq!(v.heard(t2, addr(1), 6, || None), Some(Some("bob".into())));
        assert!(v.recent(t2 + RECENT).is_empty());
    }

    #[test]
    fn a_flood_of_addresses_is_told_a_few_times_a_minute_and_kept_bounded() {
        let t0 = Instant::now();
        let mut v = OtherVersions::default();
        let told = (0..10_000u16)
            .filter(|i| v.heard(t0, addr(*i), 9, || None).is_some())
            .count();
        assert_eq!(told, MOST_TOLD_PER_MINUTE);
        assert_eq!(v.recent(t0).len(), MOST);
        // A minute later there is room to tell again.
        let later = t0 + Duration::from_secs(61);
        assert!(v.heard(later, addr(20_000), 9, || None).is_some());
    }
}
