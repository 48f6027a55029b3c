//! The network doctor: what this node sees of the network, and why a peer
//! may be invisible, in plain words.
//!
//! The picture comes from two places. The core ([`crate::node::Node::network`])
//! knows the peers: which of them it hears by the group and which only by
//! unicast, which answer it, and whether its own multicast and broadcast come
//! back to it. The driver knows the interfaces and counts datagrams per
//! interface. `Command::Network` asks for both; `Event::Network` carries the
//! [`NetworkReport`], and [`findings`] turns it into advice.

use std::net::{IpAddr, SocketAddr};

use crate::types::NodeId;
use crate::ui::i18n::{Lang, fill};

/// Everything the doctor knows at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkReport {
    /// The UDP port of the group socket (peers send group traffic there).
    pub group_port: u16,
    /// The UDP port of this node's own socket (unicast to it goes there).
    pub unicast_port: u16,
    /// The TCP port files are served on (0: none).
    pub file_port: u16,
    /// The interfaces in use.
    pub interfaces: Vec<InterfaceReport>,
    /// What the core sees.
    pub core: CoreReport,
}

/// One interface, as the driver sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceReport {
    /// OS name ("eth0").
    pub name: String,
    /// Its address.
    pub addr: IpAddr,
    /// Its prefix length (24 for a /24).
    pub prefix: u8,
    /// Its broadcast address (none on IPv6, loopback and point-to-point).
    pub broadcast: Option<IpAddr>,
    /// Whether the multicast group is joined there.
    pub multicast: bool,
    /// Datagrams received from addresses on this interface's network.
    pub datagrams_in: u64,
    /// Datagrams sent through it.
    pub datagrams_out: u64,
}

/// A clock this far from the LAN's is reported.
pub const CLOCK_FAR_OFF_MS: u64 = 60_000;

/// What the core knows of the network.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreReport {
    /// Whether my own multicast came back to me lately (the group works
    /// here, at least on this host).
    pub own_multicast_back: bool,
    /// Whether my own broadcast came back to me lately.
    pub own_broadcast_back: bool,
    /// The peers online.
    pub peers: Vec<PeerReport>,
    /// Addresses added by hand (`--peer`) or learned from peers that no
    /// online peer answers from yet.
    pub unanswered: Vec<SocketAddr>,
    /// Datagrams dropped as malformed.
    pub malformed: u64,
    /// Datagrams dropped for a bad signature or a wrong key.
    pub forged: u64,
    /// Datagrams of another workgroup (or the open LAN in a workgroup).
    pub foreign: u64,
    /// Datagrams dropped by the rate limit.
    pub rate_limited: u64,
    /// Nodes heard in the last minute that speak another wire version:
    /// address, version, and the nick of the peer last online there.
    pub other_versions: Vec<(SocketAddr, u8, Option<String>)>,
    /// How far this computer's clock is from the LAN's, in ms (positive:
    /// ahead); messages are stamped by the LAN's time.
    pub clock_off_ms: i64,
}

/// One online peer, as the core sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerReport {
    /// Its id.
    pub id: NodeId,
    /// Its label (nick, or nick#abcd when two share it).
    pub label: String,
    /// The addresses it was heard from (the one in use first).
    pub addrs: Vec<SocketAddr>,
    /// Whether its group traffic (multicast or broadcast) reaches me.
    pub by_group: bool,
    /// Whether it answers what I send it: `None` while not known yet.
    pub hears_me: Option<bool>,
    /// Whether I send it my group traffic by unicast too (it does not get
    /// it by the group).
    pub relayed: bool,
    /// How far its clock is from the LAN's, in ms (positive: ahead), from
    /// its signed presences; `None` until one came.
    pub clock_off_ms: Option<i64>,
}

/// Something the doctor has to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// No interface but loopback: only nodes on this computer are reachable.
    LoopbackOnly,
    /// My multicast does not come back to me: multicast may not work here.
    NoMulticastLoop,
    /// My broadcast does not come back to me: broadcast may not work here.
    NoBroadcastLoop,
    /// Nobody is online.
    Alone,
    /// I hear this peer, but it does not answer me: usually a firewall on
    /// its computer that drops what comes in.
    OneWay {
        /// The peer's label.
        label: String,
        /// Its address.
        addr: SocketAddr,
        /// The UDP ports to open on its computer.
        ports: Vec<u16>,
    },
    /// This peer's group traffic does not reach me (another subnet, or a
    /// switch that drops multicast and broadcast): we talk by unicast.
    UnicastOnly {
        /// The peer's label.
        label: String,
    },
    /// Addresses that nobody answers from.
    Unanswered(Vec<SocketAddr>),
    /// A node speaks another wire version: heard, but not understood until
    /// one of the two is updated.
    OtherVersion {
        /// Where it was heard.
        addr: SocketAddr,
        /// The nick of the peer last online there, if any.
        nick: Option<String>,
        /// The version it speaks.
        version: u8,
    },
    /// A clock at least [`CLOCK_FAR_OFF_MS`] off the LAN's (the median of
    /// every online node's): messages are stamped by the LAN's time, but
    /// the clock should be set right.
    ClockOff {
        /// The peer's label; `None`: this computer's clock.
        label: Option<String>,
        /// How far, in ms (positive: ahead).
        off_ms: i64,
    },
    /// Bad datagrams were dropped.
    Dropped {
        /// How many, in all.
        count: u64,
    },
    /// Nothing wrong that the doctor can see.
    AllWell,
}

/// The port on a peer's computer that unicast goes to, if the doctor
/// cannot tell otherwise: the group port's neighbour, which a node takes
/// when it is free.
pub fn default_unicast_port(group_port: u16) -> u16 {
    group_port.wrapping_add(1)
}

/// What to tell the user about `report`, most important first.
pub fn findings(report: &NetworkReport) -> Vec<Finding> {
    let core = &report.core;
    let mut out = Vec::new();
    let real = report
        .interfaces
        .iter()
        .filter(|i| !i.addr.is_loopback())
        .count();
    if real == 0 {
        out.push(Finding::LoopbackOnly);
    }
    for peer in &core.peers {
        if peer.hears_me == Some(false) {
            let addr = peer.addrs.first().copied();
            if let Some(addr) = addr {
                let mut ports = vec![report.group_port, addr.port()];
                ports.dedup();
                out.push(Finding::OneWay {
                    label: peer.label.clone(),
                    addr,
                    ports,
                });
            }
        }
    }
    for peer in &core.peers {
        if !peer.by_group {
            out.push(Finding::UnicastOnly {
                label: peer.label.clone(),
            });
        }
    }
    if real > 0 && !core.own_multicast_back {
        out.push(Finding::NoMulticastLoop);
    }
    let has_broadcast = report.interfaces.iter().any(|i| i.broadcast.is_some());
    if has_broadcast && !core.own_broadcast_back {
        out.push(Finding::NoBroadcastLoop);
    }
    if core.peers.is_empty() {
        out.push(Finding::Alone);
    }
    if !core.unanswered.is_empty() {
        out.push(Finding::Unanswered(core.unanswered.clone()));
    }
    for (addr, version, nick) in &core.other_versions {
        out.push(Finding::OtherVersion {
            addr: *addr,
            nick: nick.clone(),
            version: *version,
        });
    }
    if core.clock_off_ms.unsigned_abs() >= CLOCK_FAR_OFF_MS {
        out.push(Finding::ClockOff {
            label: None,
            off_ms: core.clock_off_ms,
        });
    }
    for peer in &core.peers {
        if let Some(off) = peer.clock_off_ms
            && off.unsigned_abs() >= CLOCK_FAR_OFF_MS
        {
            out.push(Finding::ClockOff {
                label: Some(peer.label.clone()),
                off_ms: off,
            });
        }
    }
    let dropped = core.malformed + core.forged + core.foreign;
    if dropped > 0 {
        out.push(Finding::Dropped { count: dropped });
    }
    if out.is_empty() {
        out.push(Finding::AllWell);
    }
    out
}

impl Finding {
    /// The finding an [`Event::OtherVersion`](crate::api::Event::OtherVersion)
    /// makes (the window and headless say it in these words too).
    pub fn of_event(event: &crate::api::Event) -> Option<Finding> {
        match event {
            crate::api::Event::OtherVersion {
                addr,
                version,
                nick,
            } => Some(Finding::OtherVersion {
                addr: *addr,
                nick: nick.clone(),
                version: *version,
            }),
            _ => None,
        }
    }
}

/// A finding in words, in the window's language.
pub fn say(finding: &Finding, lang: Lang) -> String {
    let w = words(lang);
    let join = |items: Vec<String>| items.join(", ");
    match finding {
        Finding::LoopbackOnly => w.loopback_only.to_string(),
        Finding::NoMulticastLoop => w.no_multicast_loop.to_string(),
        Finding::NoBroadcastLoop => w.no_broadcast_loop.to_string(),
        Finding::Alone => w.alone.to_string(),
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
            let words = if *version > crate::wire::VERSION {
                w.other_newer
            } else {
                w.other_older
            };
            fill(
                words,
                &[
                    ("who", &who),
                    ("theirs", &version.to_string()),
                    ("mine", &crate::wire::VERSION.to_string()),
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

/// The doctor's words in one language (`{name}` placeholders).
struct Words {
    loopback_only: &'static str,
    no_multicast_loop: &'static str,
    no_broadcast_loop: &'static str,
    alone: &'static str,
    one_way: &'static str,
    unicast_only: &'static str,
    unanswered: &'static str,
    other_newer: &'static str,
    other_older: &'static str,
    clock_off: &'static str,
    my_clock_off: &'static str,
    ahead: &'static str,
    behind: &'static str,
    dropped: &'static str,
    all_well: &'static str,
    ports: &'static str,
    interface: &'static str,
    back: &'static str,
    peer: &'static str,
    yes: &'static str,
    no: &'static str,
    not_known: &'static str,
}

const EN: Words = Words {
    loopback_only: "No network interface but loopback: only nodes on this computer can be seen. Plug in a cable or join a Wi-Fi network.",
    no_multicast_loop: "Our multicast does not come back to us: multicast seems not to work here (peers are found by broadcast or by address).",
    no_broadcast_loop: "Our broadcast does not come back to us: broadcast seems not to work here (peers are found by multicast or by address).",
    alone: "Nobody is online. If a colleague is on another subnet, or the network drops multicast and broadcast, add them by address: /peer <address>.",
    one_way: "We hear {label} ({addr}), but {label} does not hear us: usually a firewall on {label}'s computer that blocks what comes in. Allow incoming UDP on ports {ports} there.",
    unicast_only: "{label}: group traffic does not get through (another subnet, or a switch that drops multicast and broadcast); we talk by unicast.",
    unanswered: "Nobody answers from: {list}. Check the address, that lanchat runs there, and the firewall.",
    clock_off: "{label}'s clock is {by} the others'. Its messages are still in the right order (lanchat stamps them by the LAN's time), but its clock should be set right.",
    my_clock_off: "This computer's clock is {by} the others'. Messages are still in the right order (lanchat stamps them by the LAN's time), but the clock should be set right.",
    ahead: "{by} ahead of",
    behind: "{by} behind",
    other_newer: "{who} runs a newer lanchat (wire version {theirs}; this one speaks {mine}): update lanchat here to talk to them.",
    other_older: "{who} runs an older lanchat (wire version {theirs}; this one speaks {mine}): lanchat there needs an update to talk to us.",
    dropped: "Bad or foreign datagrams dropped: {count}.",
    all_well: "No problem found.",
    ports: "Ports: group UDP {group}, own UDP {own}, files TCP {files}",
    interface: "Interface {name}: {addr}/{prefix}, broadcast {broadcast}, multicast {multicast}, datagrams in {in}, out {out}; peers: {peers}",
    back: "Our multicast comes back: {multicast}; our broadcast comes back: {broadcast}",
    peer: "Peer {label}: {addrs}; heard by the group: {group}; hears us: {hears}; sent to by unicast: {relayed}",
    yes: "yes",
    no: "no",
    not_known: "not known yet",
};

const RU: Words = Words {
    loopback_only: "Нет сетевого интерфейса, кроме loopback: видны только узлы на этом компьютере. Подключите кабель или Wi-Fi.",
    no_multicast_loop: "Наш multicast не возвращается к нам: multicast здесь, похоже, не работает (узлы находятся по broadcast или по адресу).",
    no_broadcast_loop: "Наш broadcast не возвращается к нам: broadcast здесь, похоже, не работает (узлы находятся по multicast или по адресу).",
    alone: "Никого нет в сети. Если коллега в другой подсети или сеть режет multicast и broadcast, добавьте его по адресу: /peer <адрес>.",
    one_way: "Мы слышим {label} ({addr}), но {label} не слышит нас: обычно это брандмауэр на компьютере {label}, который не пропускает входящие. Разрешите там входящий UDP на портах {ports}.",
    unicast_only: "{label}: групповой трафик не доходит (другая подсеть или коммутатор режет multicast и broadcast); общаемся по unicast.",
    unanswered: "Никто не отвечает с адресов: {list}. Проверьте адрес, запущен ли там lanchat, и брандмауэр.",
    clock_off: "Часы {label} {by} остальных. Его сообщения всё равно идут в верном порядке (lanchat ставит им время сети), но часы стоит поправить.",
    my_clock_off: "Часы этого компьютера {by} остальных. Сообщения всё равно идут в верном порядке (lanchat ставит им время сети), но часы стоит поправить.",
    ahead: "на {by} впереди",
    behind: "на {by} позади",
    other_newer: "У {who} более новый lanchat (версия протокола {theirs}, здесь {mine}): обновите lanchat здесь, чтобы общаться с ним.",
    other_older: "У {who} более старый lanchat (версия протокола {theirs}, здесь {mine}): чтобы общаться с нами, там нужно обновить lanchat.",
    dropped: "Отброшено испорченных или чужих датаграмм: {count}.",
    all_well: "Проблем не видно.",
    ports: "Порты: группа UDP {group}, свой UDP {own}, файлы TCP {files}",
    interface: "Интерфейс {name}: {addr}/{prefix}, broadcast {broadcast}, multicast {multicast}, датаграмм принято {in}, отправлено {out}; узлы: {peers}",
    back: "Наш multicast возвращается: {multicast}; наш broadcast возвращается: {broadcast}",
    peer: "Узел {label}: {addrs}; слышим по группе: {group}; слышит нас: {hears}; шлём ему по unicast: {relayed}",
    yes: "да",
    no: "нет",
    not_known: "пока неизвестно",
};

/// The doctor's words in `lang`.
fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    }
}

/// The whole report in words, a line each: interfaces, peers, then the
/// findings (for `lanchat doctor` and the headless `/doctor`).
pub fn lines(report: &NetworkReport, lang: Lang) -> Vec<String> {
    let w = words(lang);
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
        out.push(format!("→ {}", say(&finding, lang)));
    }
    out
}

/// Whether `ip` is on the network of interface `i`.
pub fn on_interface(i: &InterfaceReport, ip: IpAddr) -> bool {
    match (i.addr, ip) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(i.prefix.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(i.prefix.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
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

/// A short machine name of a finding (the headless JSON's `kind`).
pub fn kind(finding: &Finding) -> &'static str {
    match finding {
        Finding::LoopbackOnly => "loopback_only",
        Finding::NoMulticastLoop => "no_multicast_loop",
        Finding::NoBroadcastLoop => "no_broadcast_loop",
        Finding::Alone => "alone",
        Finding::OneWay { .. } => "one_way",
        Finding::UnicastOnly { .. } => "unicast_only",
        Finding::Unanswered(_) => "unanswered",
        Finding::OtherVersion { .. } => "other_version",
        Finding::ClockOff { .. } => "clock_off",
        Finding::Dropped { .. } => "dropped",
        Finding::AllWell => "all_well",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::VERSION;

    fn iface(addr: &str, prefix: u8) -> InterfaceReport {
        InterfaceReport {
            name: "eth0".into(),
            addr: addr.parse().unwrap(),
            prefix,
            broadcast: None,
            multicast: true,
            datagrams_in: 0,
            datagrams_out: 0,
        }
    }

    fn peer(label: &str, addr: &str, by_group: bool, hears_me: Option<bool>) -> PeerReport {
        PeerReport {
            id: NodeId([label.len() as u8; 16]),
            label: label.into(),
            addrs: vec![addr.parse().unwrap()],
            by_group,
            hears_me,
            relayed: !by_group,
            clock_off_ms: None,
        }
    }

    #[test]
    fn addresses_are_placed_on_their_interface() {
        let i = iface("10.77.1.3", 24);
        assert!(on_interface(&i, "10.77.1.200".parse().unwrap()));
        assert!(!on_interface(&i, "10.77.2.3".parse().unwrap()));
        assert!(!on_interface(&i, "fe80::1".parse().unwrap()));
        let i = iface("fe80::5", 64);
        assert!(on_interface(&i, "fe80::9".parse().unwrap()));
        assert!(!on_interface(&i, "fd77::9".parse().unwrap()));
    }

    #[test]
    fn a_peer_that_does_not_answer_is_a_one_way_problem_with_its_ports() {
        let report = NetworkReport {
            group_port: 47077,
            unicast_port: 47078,
            file_port: 47079,
            interfaces: vec![iface("10.77.0.1", 24)],
            core: CoreReport {
                own_multicast_back: true,
                own_broadcast_back: true,
                peers: vec![
                    peer("fw", "10.77.0.2:47078", true, Some(false)),
                    peer("far", "10.77.9.2:51000", false, Some(true)),
                    peer("new", "10.77.0.3:47078", true, None),
                ],
                ..CoreReport::default()
            },
        };
        let found = findings(&report);
        assert_eq!(
            found[0],
            Finding::OneWay {
                label: "fw".into(),
                addr: "10.77.0.2:47078".parse().unwrap(),
                ports: vec![47077, 47078],
            }
        );
        assert_eq!(
            found[1],
            Finding::UnicastOnly {
                label: "far".into()
            }
        );
        assert_eq!(found.len(), 2, "{found:?}");
        let text = lines(&report, Lang::En).join("\n");
        assert!(
            text.contains("Allow incoming UDP on ports 47077, 47078"),
            "{text}"
        );
        assert!(text.contains("peers: fw, new"), "{text}");
        let ru = lines(&report, Lang::Ru).join("\n");
        assert!(ru.contains("47077, 47078"), "{ru}");
    }

    #[test]
    fn a_node_of_another_version_is_named_newer_or_older_in_both_languages() {
        let report = NetworkReport {
            group_port: 47077,
            unicast_port: 47078,
            file_port: 47079,
            interfaces: vec![iface("10.77.0.1", 24)],
            core: CoreReport {
                own_multicast_back: true,
                own_broadcast_back: true,
                peers: vec![peer("ann", "10.77.0.4:47078", true, Some(true))],
                other_versions: vec![
                    (
                        "10.77.0.2:47077".parse().unwrap(),
                        VERSION + 1,
                        Some("bob".into()),
                    ),
                    ("10.77.0.3:47077".parse().unwrap(), VERSION - 1, None),
                ],
                ..CoreReport::default()
            },
        };
        let found = findings(&report);
        assert_eq!(found.len(), 2, "{found:?}");
        let en: Vec<String> = found.iter().map(|f| say(f, Lang::En)).collect();
        assert!(
            en[0].starts_with("bob (10.77.0.2) runs a newer lanchat"),
            "{en:?}"
        );
        assert!(en[0].contains("update lanchat here"), "{en:?}");
        assert!(
            en[1].starts_with("10.77.0.3 runs an older lanchat"),
            "{en:?}"
        );
        let ru: Vec<String> = found.iter().map(|f| say(f, Lang::Ru)).collect();
        assert!(
            ru[0].contains("bob (10.77.0.2)") && ru[0].contains("новый"),
            "{ru:?}"
        );
        assert!(ru[1].contains("старый"), "{ru:?}");
    }

    #[test]
    fn a_quiet_healthy_network_is_all_well_and_an_empty_one_is_alone() {
        let mut report = NetworkReport {
            group_port: 47077,
            unicast_port: 47078,
            file_port: 47079,
            interfaces: vec![iface("10.77.0.1", 24)],
            core: CoreReport {
                own_multicast_back: true,
                own_broadcast_back: true,
                peers: vec![peer("ann", "10.77.0.2:47078", true, Some(true))],
                ..CoreReport::default()
            },
        };
        assert_eq!(findings(&report), vec![Finding::AllWell]);
        report.core.peers.clear();
        report.core.own_multicast_back = false;
        assert_eq!(
            findings(&report),
            vec![Finding::NoMulticastLoop, Finding::Alone]
        );
    }
}
