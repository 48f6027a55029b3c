//! The doctor's report as a JSON event (`network`): interfaces, peers,
//! dropped datagrams and findings.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::hex_id;
use crate::doctor::{self, NetworkReport};
use crate::i18n::Lang;
use crate::types::NodeId;

/// The doctor's report: interfaces, peers and findings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// The UDP port of the group socket.
    pub group_port: u16,
    /// The UDP port of this node's own socket.
    pub unicast_port: u16,
    /// The TCP port files are served on (0: none).
    pub file_port: u16,
    /// The interfaces in use.
    pub interfaces: Vec<Interface>,
    /// Whether my own multicast came back to me lately.
    pub own_multicast_back: bool,
    /// Whether my own broadcast came back to me lately.
    pub own_broadcast_back: bool,
    /// The peers online.
    pub peers: Vec<NetworkPeer>,
    /// Addresses that no online peer answers from yet.
    pub unanswered: Vec<SocketAddr>,
    /// Datagrams dropped, by cause.
    pub dropped: Dropped,
    /// What the doctor makes of it, most important first.
    pub findings: Vec<Finding>,
}

/// One interface in the doctor's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interface {
    /// OS name.
    pub name: String,
    /// Its address.
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix: u8,
    /// Its broadcast address, if it has one.
    pub broadcast: Option<IpAddr>,
    /// Whether the multicast group is joined there.
    pub multicast: bool,
    /// Datagrams received from its network.
    #[serde(rename = "in")]
    pub datagrams_in: u64,
    /// Datagrams sent through it.
    #[serde(rename = "out")]
    pub datagrams_out: u64,
}

/// One online peer in the doctor's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkPeer {
    /// Its id.
    #[serde(with = "hex_id")]
    pub node: NodeId,
    /// Its label.
    pub label: String,
    /// The addresses it was heard from (the one in use first).
    pub addrs: Vec<SocketAddr>,
    /// Whether its group traffic reaches me.
    pub by_group: bool,
    /// Whether it answers what I send it; null while not known.
    pub hears_me: Option<bool>,
    /// Whether I send it my group traffic by unicast too.
    pub relayed: bool,
}

/// Datagrams dropped, by cause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// Malformed.
    pub malformed: u64,
    /// A bad signature or a wrong key.
    pub forged: u64,
    /// Of another workgroup (or the open LAN in a workgroup).
    pub foreign: u64,
    /// Over the rate limit.
    pub rate_limited: u64,
}

/// Something the doctor has to say: its `kind` and its English words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The finding in English.
    pub text: String,
    /// Its kind, with details for some.
    #[serde(flatten)]
    pub kind: FindingKind,
}

/// A finding's kind, in its `kind` key (as [`doctor::kind`] names it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingKind {
    /// No interface but loopback.
    LoopbackOnly,
    /// My multicast does not come back to me.
    NoMulticastLoop,
    /// My broadcast does not come back to me.
    NoBroadcastLoop,
    /// Nobody is online.
    Alone,
    /// I hear this peer, but it does not answer me.
    OneWay {
        /// The peer's label.
        peer: String,
        /// Its address.
        addr: SocketAddr,
        /// The UDP ports to open on its computer.
        ports: Vec<u16>,
    },
    /// This peer's group traffic does not reach me.
    UnicastOnly,
    /// Addresses that nobody answers from.
    Unanswered,
    /// A node speaks another wire version.
    OtherVersion {
        /// Where it was heard.
        addr: SocketAddr,
        /// The nick of the peer last online there, if any.
        nick: Option<String>,
        /// The version it speaks.
        version: u8,
    },
    /// A clock far off the LAN's.
    ClockOff,
    /// Bad datagrams were dropped.
    Dropped,
    /// Nothing wrong that the doctor can see.
    AllWell,
}

impl From<&doctor::Finding> for FindingKind {
    fn from(finding: &doctor::Finding) -> FindingKind {
        match finding {
            doctor::Finding::LoopbackOnly => FindingKind::LoopbackOnly,
            doctor::Finding::NoMulticastLoop => FindingKind::NoMulticastLoop,
            doctor::Finding::NoBroadcastLoop => FindingKind::NoBroadcastLoop,
            doctor::Finding::Alone { .. } => FindingKind::Alone,
            doctor::Finding::OneWay { label, addr, ports } => FindingKind::OneWay {
                peer: label.clone(),
                addr: *addr,
                ports: ports.clone(),
            },
            doctor::Finding::UnicastOnly { .. } => FindingKind::UnicastOnly,
            doctor::Finding::Unanswered(_) => FindingKind::Unanswered,
            doctor::Finding::OtherVersion {
                addr,
                nick,
                version,
            } => FindingKind::OtherVersion {
                addr: *addr,
                nick: nick.clone(),
                version: *version,
            },
            doctor::Finding::ClockOff { .. } => FindingKind::ClockOff,
            doctor::Finding::Dropped { .. } => FindingKind::Dropped,
            doctor::Finding::AllWell => FindingKind::AllWell,
        }
    }
}

impl From<&NetworkReport> for Network {
    fn from(report: &NetworkReport) -> Network {
        let core = &report.core;
        Network {
            group_port: report.group_port,
            unicast_port: report.unicast_port,
            file_port: report.file_port,
            interfaces: report
                .interfaces
                .iter()
                .map(|i| Interface {
                    name: i.name.clone(),
                    addr: i.addr,
                    prefix: i.prefix,
                    broadcast: i.broadcast,
                    multicast: i.multicast,
                    datagrams_in: i.datagrams_in,
                    datagrams_out: i.datagrams_out,
                })
                .collect(),
            own_multicast_back: core.own_multicast_back,
            own_broadcast_back: core.own_broadcast_back,
            peers: core
                .peers
                .iter()
                .map(|p| NetworkPeer {
                    node: p.id,
                    label: p.label.clone(),
                    addrs: p.addrs.clone(),
                    by_group: p.by_group,
                    hears_me: p.hears_me,
                    relayed: p.relayed,
                })
                .collect(),
            unanswered: core.unanswered.clone(),
            dropped: Dropped {
                malformed: core.malformed,
                forged: core.forged,
                foreign: core.foreign,
                rate_limited: core.rate_limited,
            },
            findings: doctor::findings(report)
                .iter()
                .map(|f| Finding {
                    text: Lang::En.strings().finding(f),
                    kind: f.into(),
                })
                .collect(),
        }
    }
}
