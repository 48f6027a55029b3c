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

use crate::protocol::{CoreEvent, CoreReport};

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
    /// The longest the network thread spent on one wake-up (a datagram, a
    /// command or a timer, with what the core then had to say) since the
    /// last report, in µs: while it works, no datagram is read.
    pub longest_wakeup_us: u64,
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

/// Something the doctor has to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// No interface but loopback: only nodes on this computer are reachable.
    LoopbackOnly,
    /// My multicast does not come back to me: multicast may not work here.
    NoMulticastLoop,
    /// My broadcast does not come back to me: broadcast may not work here.
    NoBroadcastLoop,
    /// Nobody is online. `firewall`: on Windows, where an inbound
    /// firewall rule missing on this PC is the usual cause, that is named
    /// with its fix.
    Alone {
        /// Name the Windows firewall.
        firewall: bool,
    },
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
        out.push(Finding::Alone {
            firewall: cfg!(windows),
        });
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
    /// The finding an [`Event::OtherVersion`](crate::protocol::CoreEvent::OtherVersion)
    /// makes (the window and headless say it in these words too).
    pub fn of_event(event: &CoreEvent) -> Option<Finding> {
        match event {
            CoreEvent::OtherVersion {
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

/// A short machine name of a finding (the headless JSON's `kind`).
pub fn kind(finding: &Finding) -> &'static str {
    match finding {
        Finding::LoopbackOnly => "loopback_only",
        Finding::NoMulticastLoop => "no_multicast_loop",
        Finding::NoBroadcastLoop => "no_broadcast_loop",
        Finding::Alone { .. } => "alone",
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
pub(crate) mod tests {
    use super::*;
    use crate::protocol::PeerReport;
    use crate::types::NodeId;
    use crate::wire::VERSION;

    /// An interface report for the tests.
    pub(crate) fn iface(addr: &str, prefix: u8) -> InterfaceReport {
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

    /// A peer report for the tests.
    pub(crate) fn peer(
        label: &str,
        addr: &str,
        by_group: bool,
        hears_me: Option<bool>,
    ) -> PeerReport {
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

    /// One peer that does not hear us, one heard only by unicast, one new.
    pub(crate) fn one_way_report() -> NetworkReport {
        NetworkReport {
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
            longest_wakeup_us: 0,
        }
    }

    #[test]
    fn a_peer_that_does_not_answer_is_a_one_way_problem_with_its_ports() {
        let report = one_way_report();
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
    }

    /// Two nodes of other wire versions, one newer and named, one older.
    pub(crate) fn other_versions_report() -> NetworkReport {
        NetworkReport {
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
            longest_wakeup_us: 0,
        }
    }

    #[test]
    fn nodes_of_other_versions_are_found_newest_first() {
        let report = other_versions_report();
        let found = findings(&report);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            matches!(&found[0], Finding::OtherVersion { version, .. } if *version == VERSION + 1),
            "{found:?}"
        );
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
            longest_wakeup_us: 0,
        };
        assert_eq!(findings(&report), vec![Finding::AllWell]);
        report.core.peers.clear();
        report.core.own_multicast_back = false;
        assert_eq!(
            findings(&report),
            vec![
                Finding::NoMulticastLoop,
                Finding::Alone {
                    firewall: cfg!(windows)
                }
            ]
        );
    }
}
