//! The network doctor's findings and report in words: the same
//! [`Strings`](super::Strings) as every other text, so the window, the
//! headless mode and `lanchat doctor` say them alike.

use std::net::SocketAddr;

use super::{Strings, fill};
use crate::doctor::{Finding, NetworkReport, findings, on_interface};
use crate::wire::VERSION;

/// The network doctor's words in one language (`{name}` placeholders).
#[derive(Debug)]
pub struct Doctor {
    pub(super) loopback_only: &'static str,
    pub(super) no_multicast_loop: &'static str,
    pub(super) no_broadcast_loop: &'static str,
    pub(super) alone: &'static str,
    pub(super) alone_firewall: &'static str,
    pub(super) one_way: &'static str,
    pub(super) unicast_only: &'static str,
    pub(super) unanswered: &'static str,
    pub(super) other_newer: &'static str,
    pub(super) other_older: &'static str,
    pub(super) clock_off: &'static str,
    pub(super) my_clock_off: &'static str,
    pub(super) ahead: &'static str,
    pub(super) behind: &'static str,
    pub(super) dropped: &'static str,
    pub(super) all_well: &'static str,
    pub(super) ports: &'static str,
    pub(super) interface: &'static str,
    pub(super) back: &'static str,
    pub(super) peer: &'static str,
    pub(super) yes: &'static str,
    pub(super) no: &'static str,
    pub(super) not_known: &'static str,
}

impl Strings {
    /// A finding of the network doctor in words.
    pub fn finding(&self, finding: &Finding) -> String {
        let w = &self.doctor;
        let join = |items: Vec<String>| items.join(", ");
        match finding {
            Finding::LoopbackOnly => w.loopback_only.to_string(),
            Finding::NoMulticastLoop => w.no_multicast_loop.to_string(),
            Finding::NoBroadcastLoop => w.no_broadcast_loop.to_string(),
            Finding::Alone { firewall: false } => w.alone.to_string(),
            Finding::Alone { firewall: true } => format!("{} {}", w.alone, w.alone_firewall),
            Finding::OneWay { label, addr, ports } => fill(
                w.one_way,
                &[
                    ("label", label),
                    ("addr", &addr.to_string()),
                    ("ports", &join(ports.iter().map(u16::to_string).collect())),
                ],
            ),
            Finding::UnicastOnly { label } => fill(w.unicast_only, &[("label", label)]),
            Finding::Unanswered(addrs) => fill(
                w.unanswered,
                &[(
                    "list",
                    &join(addrs.iter().map(SocketAddr::to_string).collect()),
                )],
            ),
            Finding::OtherVersion {
                addr,
                nick,
                version,
            } => {
                let who = nick
                    .as_ref()
                    .map_or_else(|| addr.ip().to_string(), |n| format!("{n} ({})", addr.ip()));
                let words = if *version > VERSION {
                    w.other_newer
                } else {
                    w.other_older
                };
                fill(
                    words,
                    &[
                        ("who", &who),
                        ("theirs", &version.to_string()),
                        ("mine", &VERSION.to_string()),
                    ],
                )
            }
            Finding::ClockOff { label, off_ms } => {
                let how = if *off_ms > 0 { w.ahead } else { w.behind };
                let by = fill(how, &[("by", &span(off_ms.unsigned_abs()))]);
                match label {
                    Some(label) => fill(w.clock_off, &[("label", label), ("by", &by)]),
                    None => fill(w.my_clock_off, &[("by", &by)]),
                }
            }
            Finding::Dropped { count } => fill(w.dropped, &[("count", &count.to_string())]),
            Finding::AllWell => w.all_well.to_string(),
        }
    }

    /// The network doctor's whole report in words, a line each: interfaces,
    /// peers, then the findings (for `lanchat doctor`, the headless
    /// `/doctor` and the window's network dialog).
    pub fn network_report(&self, report: &NetworkReport) -> Vec<String> {
        let w = &self.doctor;
        let yes_no = |b: bool| if b { w.yes } else { w.no };
        let mut out = vec![fill(
            w.ports,
            &[
                ("group", &report.group_port.to_string()),
                ("own", &report.unicast_port.to_string()),
                ("files", &report.file_port.to_string()),
            ],
        )];
        let core = &report.core;
        for i in &report.interfaces {
            let heard: Vec<&str> = core
                .peers
                .iter()
                .filter(|p| p.addrs.iter().any(|a| on_interface(i, a.ip())))
                .map(|p| p.label.as_str())
                .collect();
            out.push(fill(
                w.interface,
                &[
                    ("name", &i.name),
                    ("addr", &i.addr.to_string()),
                    ("prefix", &i.prefix.to_string()),
                    (
                        "broadcast",
                        &i.broadcast.map_or_else(|| "-".into(), |b| b.to_string()),
                    ),
                    ("multicast", yes_no(i.multicast)),
                    ("in", &i.datagrams_in.to_string()),
                    ("out", &i.datagrams_out.to_string()),
                    (
                        "peers",
                        &if heard.is_empty() {
                            "-".into()
                        } else {
                            heard.join(", ")
                        },
                    ),
                ],
            ));
        }
        out.push(fill(
            w.back,
            &[
                ("multicast", yes_no(core.own_multicast_back)),
                ("broadcast", yes_no(core.own_broadcast_back)),
            ],
        ));
        for p in &core.peers {
            let addrs: Vec<String> = p.addrs.iter().map(SocketAddr::to_string).collect();
            out.push(fill(
                w.peer,
                &[
                    ("label", &p.label),
                    ("addrs", &addrs.join(", ")),
                    ("group", yes_no(p.by_group)),
                    ("hears", p.hears_me.map_or(w.not_known, yes_no)),
                    ("relayed", yes_no(p.relayed)),
                ],
            ));
        }
        for finding in findings(report) {
            out.push(format!("→ {}", self.finding(&finding)));
        }
        out
    }
}

/// A span of time in words: "1 h 5 min", "10 min", "45 s".
/// Rounded to the second under a minute, else to the minute (a clock is
/// known to within a heartbeat).
fn span(ms: u64) -> String {
    let s = (ms + 500) / 1000;
    if s < 60 {
        return format!("{s} s");
    }
    let minutes = (s + 30) / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use crate::doctor::findings;
    use crate::doctor::tests::{one_way_report, other_versions_report};
    use crate::i18n::{EN, RU};

    #[test]
    fn a_one_way_peer_is_told_with_its_ports_in_both_languages() {
        let report = one_way_report();
        let text = EN.network_report(&report).join("\n");
        assert!(
            text.contains("Allow incoming UDP on ports 47077, 47078"),
            "{text}"
        );
        assert!(text.contains("peers: fw, new"), "{text}");
        let ru = RU.network_report(&report).join("\n");
        assert!(ru.contains("47077, 47078"), "{ru}");
    }

    #[test]
    fn a_node_of_another_version_is_named_newer_or_older_in_both_languages() {
        let found = findings(&other_versions_report());
        let en: Vec<String> = found.iter().map(|f| EN.finding(f)).collect();
        assert!(
            en[0].starts_with("bob (10.77.0.2) runs a newer lanchat"),
            "{en:?}"
        );
        assert!(en[0].contains("update lanchat here"), "{en:?}");
        assert!(
            en[1].starts_with("10.77.0.3 runs an older lanchat"),
            "{en:?}"
        );
        let ru: Vec<String> = found.iter().map(|f| RU.finding(f)).collect();
        assert!(
            ru[0].contains("bob (10.77.0.2)") && ru[0].contains("новый"),
            "{ru:?}"
        );
        assert!(ru[1].contains("старый"), "{ru:?}");
    }

    /// On Windows, where a missing inbound rule on this PC is the usual
    /// reason for seeing nobody, "alone" names the firewall and the fix.
    #[test]
    fn alone_on_windows_names_the_firewall_and_its_fix() {
        let plain = EN.finding(&crate::doctor::Finding::Alone { firewall: false });
        assert!(!plain.contains("Firewall"), "{plain}");
        let en = EN.finding(&crate::doctor::Finding::Alone { firewall: true });
        assert!(
            en.starts_with(&plain) && en.contains("Windows Defender Firewall"),
            "{en}"
        );
        assert!(en.contains("for all users"), "{en}");
        let ru = RU.finding(&crate::doctor::Finding::Alone { firewall: true });
        assert!(ru.contains("брандмауэр Защитника Windows"), "{ru}");
    }

    #[test]
    fn both_languages_use_the_same_placeholders() {
        let (en, ru) = (&EN.doctor, &RU.doctor);
        let pairs = [
            (en.loopback_only, ru.loopback_only),
            (en.no_multicast_loop, ru.no_multicast_loop),
            (en.no_broadcast_loop, ru.no_broadcast_loop),
            (en.alone, ru.alone),
            (en.alone_firewall, ru.alone_firewall),
            (en.one_way, ru.one_way),
            (en.unicast_only, ru.unicast_only),
            (en.unanswered, ru.unanswered),
            (en.other_newer, ru.other_newer),
            (en.other_older, ru.other_older),
            (en.clock_off, ru.clock_off),
            (en.my_clock_off, ru.my_clock_off),
            (en.ahead, ru.ahead),
            (en.behind, ru.behind),
            (en.dropped, ru.dropped),
            (en.all_well, ru.all_well),
            (en.ports, ru.ports),
            (en.interface, ru.interface),
            (en.back, ru.back),
            (en.peer, ru.peer),
            (en.yes, ru.yes),
            (en.no, ru.no),
            (en.not_known, ru.not_known),
        ];
        let holes = |s: &'static str| {
            let mut v: Vec<&'static str> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(k, _)| k))
                .collect();
            v.sort_unstable();
            v
        };
        for (en, ru) in pairs {
            assert_eq!(holes(en), holes(ru), "{en} / {ru}");
        }
    }
}
