//! Which interfaces to use: every up one but loopback and virtual adapters
//! of containers and VMs ([`VIRTUAL_ADAPTERS`]), or those named; listed
//! again as they come and go.
//!
//! An interface with an IPv4 address is used by IPv4 only; one with IPv6 and
//! no IPv4 (an IPv6-only segment) is used by IPv6, with the link-local group
//! [`super::DEFAULT_GROUP_V6`]. So a dual-stack LAN carries each datagram once.

use std::net::{IpAddr, Ipv4Addr};

use super::socket::SocketError;

/// One interface lanchat sends on and listens on, by one address: its IPv4
/// one, or its IPv6 one when it has no IPv4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetInterface {
    /// OS name ("eth0", "lo").
    pub name: String,
    /// Its address (IPv6 only when it has no IPv4 address; link-local then
    /// when it has one).
    pub addr: IpAddr,
    /// The prefix length of its network (24 for a /24).
    pub prefix: u8,
    /// The OS index (the scope of its IPv6 link-local addresses); 0 when
    /// unknown.
    pub index: u32,
    /// Its broadcast address; loopback, point-to-point links and IPv6 have
    /// none.
    pub broadcast: Option<Ipv4Addr>,
    /// Whether the group socket has joined the multicast group on it.
    pub multicast: bool,
}

impl NetInterface {
    /// Whether `other` is the same interface by the same address (then its
    /// membership and counters carry over a rescan).
    pub fn same_place(&self, other: &NetInterface) -> bool {
        self.name == other.name && self.addr == other.addr && self.index == other.index
    }

    /// Whether `other` is the same in everything the OS says (the
    /// multicast membership is ours, not the OS's).
    fn same_as_found(&self, other: &NetInterface) -> bool {
        self.same_place(other) && self.prefix == other.prefix && self.broadcast == other.broadcast
    }

    /// Whether it is used by IPv6.
    pub fn is_v6(&self) -> bool {
        self.addr.is_ipv6()
    }
}

/// The loopback interface used when no other interface is up.
pub fn loopback() -> NetInterface {
    NetInterface {
        name: "lo".to_string(),
        addr: Ipv4Addr::LOCALHOST.into(),
        prefix: 8,
        index: 0,
        broadcast: None,
        multicast: false,
    }
}

/// How part of an interface name is matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameMatch {
    /// The name starts with this.
    Prefix(&'static str),
    /// The name contains this (Windows names adapters in words).
    Contains(&'static str),
}

impl NameMatch {
    fn matches(self, name: &str) -> bool {
        match self {
            NameMatch::Prefix(p) => name.starts_with(p),
            NameMatch::Contains(c) => name.contains(c),
        }
    }
}

/// Virtual adapters that are skipped unless named with `--iface`: container
/// bridges and VM host-only networks. They are up on many a developer's
/// machine, and never lead to a colleague: what is behind them is this
/// computer's own containers and VMs. Sending there costs a datagram each
/// time and makes the doctor's picture noisy.
///
/// VPN adapters (`tun*`, `tap*`, `wg*`, `tailscale*`, `utun*`) are not on
/// the list: a VPN is how a colleague working from home is on the office
/// LAN, so they are used like any other interface.
pub const VIRTUAL_ADAPTERS: &[NameMatch] = &[
    NameMatch::Prefix("docker"),
    // Docker's user-defined networks: br-<network id>.
    NameMatch::Prefix("br-"),
    NameMatch::Prefix("veth"),
    NameMatch::Prefix("virbr"),
    NameMatch::Prefix("vboxnet"),
    NameMatch::Prefix("vmnet"),
    NameMatch::Prefix("lxcbr"),
    NameMatch::Prefix("lxdbr"),
    NameMatch::Prefix("cni"),
    NameMatch::Prefix("flannel"),
    NameMatch::Prefix("podman"),
    // Hyper-V and WSL switches on Windows.
    NameMatch::Prefix("vEthernet"),
    NameMatch::Contains("VirtualBox Host-Only"),
    NameMatch::Contains("VMware Network Adapter"),
];

/// Whether `name` is a virtual adapter of [`VIRTUAL_ADAPTERS`].
pub fn is_virtual_adapter(name: &str) -> bool {
    VIRTUAL_ADAPTERS.iter().any(|m| m.matches(name))
}

/// Which interfaces to use: `--iface` and `--no-iface`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceRules {
    /// Only these (loopback and virtual adapters allowed then); every up
    /// one but loopback and virtual adapters when empty.
    pub only: Vec<String>,
    /// Never these.
    pub exclude: Vec<String>,
}

impl InterfaceRules {
    /// Whether `iface` may be used.
    fn allows(&self, iface: &NetInterface) -> bool {
        if self.exclude.contains(&iface.name) {
            return false;
        }
        if self.only.is_empty() {
            !iface.addr.is_loopback() && !is_virtual_adapter(&iface.name)
        } else {
            self.only.contains(&iface.name)
        }
    }
}

/// Whether if-addrs says an interface is up. On Unix it reports `Up` for a
/// running interface (up, with a carrier) and `Unknown` for any other, so
/// a pulled cable reads as `Unknown` there; Windows reports the real state.
fn is_up(status: &if_addrs::IfOperStatus) -> bool {
    use if_addrs::IfOperStatus;
    if cfg!(windows) {
        !matches!(
            status,
            IfOperStatus::Down | IfOperStatus::NotPresent | IfOperStatus::LowerLayerDown
        )
    } else {
        *status == IfOperStatus::Up
    }
}

/// Fills `found` with every address of every up interface, loopback
/// included (the names are moved out of the OS's list, not copied).
fn scan(found: &mut Vec<NetInterface>) -> Result<(), SocketError> {
    let all = if_addrs::get_if_addrs().map_err(SocketError::Interfaces)?;
    found.clear();
    found.extend(all.into_iter().filter_map(|iface| {
        if !is_up(&iface.oper_status) {
            return None;
        }
        let index = iface.index.unwrap_or(0);
        Some(match iface.addr {
            if_addrs::IfAddr::V4(v4) => NetInterface {
                name: iface.name,
                addr: v4.ip.into(),
                prefix: v4.prefixlen,
                index,
                // An address added without a broadcast address reports
                // itself as one (or 0.0.0.0): no broadcast there.
                broadcast: v4.broadcast.filter(|b| {
                    !b.is_loopback() && !v4.ip.is_loopback() && *b != v4.ip && !b.is_unspecified()
                }),
                multicast: false,
            },
            if_addrs::IfAddr::V6(v6) => NetInterface {
                name: iface.name,
                addr: v6.ip.into(),
                prefix: v6.prefixlen,
                index,
                broadcast: None,
                multicast: false,
            },
        })
    }));
    Ok(())
}

/// Picks the interfaces: every up non-loopback interface that is not a
/// virtual adapter, or only those named in `rules.only`; never those in
/// `rules.exclude`; loopback when none is left. Fails when an interface
/// named in `rules.only` is not up.
pub fn choose_interfaces(rules: &InterfaceRules) -> Result<Vec<NetInterface>, SocketError> {
    let mut found = Vec::new();
    scan(&mut found)?;
    for name in &rules.only {
        if !found.iter().any(|i| &i.name == name) {
            return Err(SocketError::NoSuchInterface(name.clone()));
        }
    }
    for iface in &found {
        if is_virtual_adapter(&iface.name) && !rules.only.contains(&iface.name) {
            tracing::debug!(iface = %iface.name, "skipping a virtual adapter (use --iface to use it)");
        }
    }
    select(&mut found, rules);
    if found.is_empty() {
        tracing::info!("no up interface besides loopback; using 127.0.0.1");
        found.push(loopback());
    }
    Ok(found)
}

/// Scans again for [`choose_interfaces`]'s choice, into `found` (reused,
/// so an unchanged network costs no allocation but the OS's list). Empty
/// when loopback would be the choice; never fails for a missing named
/// interface (it may come back).
/// `ipv6` false leaves IPv6-only interfaces out (no IPv6 socket).
pub fn rescan_into(
    rules: &InterfaceRules,
    ipv6: bool,
    found: &mut Vec<NetInterface>,
) -> Result<(), SocketError> {
    scan(found)?;
    select(found, rules);
    if !ipv6 {
        found.retain(|i| !i.is_v6());
    }
    Ok(())
}

/// Whether a fresh choice (from [`rescan_into`]) is the one in use.
pub fn unchanged<'a>(
    fresh: &[NetInterface],
    mut in_use: impl ExactSizeIterator<Item = &'a NetInterface>,
) -> bool {
    if fresh.is_empty() {
        // Loopback would be chosen: unchanged when it is in use already.
        return in_use.len() == 1 && in_use.next().is_some_and(|i| i.addr == loopback_addr());
    }
    fresh.len() == in_use.len() && fresh.iter().zip(in_use).all(|(f, u)| f.same_as_found(u))
}

fn loopback_addr() -> IpAddr {
    Ipv4Addr::LOCALHOST.into()
}

/// The pure part of the choice: filters `found` in place (no allocation).
fn select(found: &mut Vec<NetInterface>, rules: &InterfaceRules) {
    found.retain(|i| rules.allows(i) && !(i.is_v6() && i.index == 0));
    // An interface with IPv4 is used by IPv4 only; of the IPv6 addresses of
    // one without, the first link-local one (what its multicast is sent
    // from, so what peers see), else the first one.
    let mut at = 0;
    while at < found.len() {
        let me = &found[at];
        let redundant = me.is_v6()
            && found.iter().enumerate().any(|(other_at, other)| {
                other_at != at
                    && other.name == me.name
                    && match (other.addr, me.addr) {
                        (IpAddr::V4(_), _) => true,
                        (IpAddr::V6(o), IpAddr::V6(m)) => {
                            let (o_ll, m_ll) =
                                (o.is_unicast_link_local(), m.is_unicast_link_local());
                            (o_ll && !m_ll) || (o_ll == m_ll && other_at < at)
                        }
                        (IpAddr::V6(_), IpAddr::V4(_)) => false,
                    }
            });
        if redundant {
            found.remove(at);
        } else {
            at += 1;
        }
    }
}

/// An interface for tests: a /24 (IPv4) or /64 (IPv6), index 7.
#[cfg(test)]
pub(crate) fn test_iface(name: &str, addr: &str) -> NetInterface {
    let addr: IpAddr = addr.parse().expect("an address");
    NetInterface {
        name: name.into(),
        addr,
        prefix: if addr.is_ipv6() { 64 } else { 24 },
        index: 7,
        broadcast: None,
        multicast: false,
    }
}

#[cfg(test)]
mod tests {
    use super::test_iface as iface;
    use super::*;

    fn names(v: &[NetInterface]) -> Vec<&str> {
        v.iter().map(|i| i.name.as_str()).collect()
    }

    fn chosen(found: &[NetInterface], rules: &InterfaceRules) -> Vec<NetInterface> {
        let mut v = found.to_vec();
        select(&mut v, rules);
        v
    }

    fn only(names: &[&str]) -> InterfaceRules {
        InterfaceRules {
            only: names.iter().map(|n| n.to_string()).collect(),
            exclude: Vec::new(),
        }
    }

    #[test]
    fn default_choice_skips_loopback_and_names_filter() {
        let all = vec![
            iface("lo", "127.0.0.1"),
            iface("eth0", "10.0.0.2"),
            iface("wlan0", "192.168.1.5"),
        ];
        let none = InterfaceRules::default();
        assert_eq!(names(&chosen(&all, &none)), ["eth0", "wlan0"]);
        assert_eq!(names(&chosen(&all, &only(&["lo"]))), ["lo"]);
        let no_wlan = InterfaceRules {
            exclude: vec!["wlan0".into()],
            ..InterfaceRules::default()
        };
        assert_eq!(names(&chosen(&all, &no_wlan)), ["eth0"]);
        let nothing = InterfaceRules {
            exclude: vec!["eth0".into(), "wlan0".into()],
            ..InterfaceRules::default()
        };
        assert!(
            chosen(&all, &nothing).is_empty(),
            "loopback is the caller's fallback"
        );
    }

    #[test]
    fn virtual_adapters_are_skipped_unless_named_and_vpns_are_used() {
        let all = vec![
            iface("eth0", "10.0.0.2"),
            iface("docker0", "172.17.0.1"),
            iface("br-3f2a9c", "172.18.0.1"),
            iface("veth12ab", "169.254.3.1"),
            iface("virbr0", "192.168.122.1"),
            iface("vboxnet0", "192.168.56.1"),
            iface("vmnet8", "192.168.200.1"),
            iface("lxdbr0", "10.10.10.1"),
            iface("cni0", "10.88.0.1"),
            iface("flannel.1", "10.244.0.0"),
            iface("podman1", "10.89.0.1"),
            iface("vEthernet (WSL)", "172.29.0.1"),
            iface("VirtualBox Host-Only Network", "192.168.57.1"),
            iface("VMware Network Adapter VMnet1", "192.168.201.1"),
            iface("tun0", "10.8.0.2"),
            iface("wg0", "10.9.0.2"),
            iface("tailscale0", "100.64.0.2"),
            iface("utun3", "10.10.0.2"),
            iface("tap1", "10.11.0.2"),
            iface("br0", "192.168.1.10"),
        ];
        assert_eq!(
            names(&chosen(&all, &InterfaceRules::default())),
            ["eth0", "tun0", "wg0", "tailscale0", "utun3", "tap1", "br0"]
        );
        assert_eq!(names(&chosen(&all, &only(&["docker0"]))), ["docker0"]);
        assert!(is_virtual_adapter("vEthernet (Default Switch)"));
        assert!(!is_virtual_adapter("Ethernet 2"));
    }

    #[test]
    fn ipv6_is_used_only_where_there_is_no_ipv4_and_prefers_link_local() {
        let all = vec![
            iface("eth0", "10.0.0.2"),
            iface("eth0", "fe80::1"),
            iface("eth2", "fd77::3"),
            iface("eth2", "fe80::3"),
            iface("eth2", "fe80::33"),
            iface("lo", "::1"),
        ];
        let got = chosen(&all, &InterfaceRules::default());
        let addrs: Vec<String> = got
            .iter()
            .map(|i| format!("{} {}", i.name, i.addr))
            .collect();
        assert_eq!(addrs, ["eth0 10.0.0.2", "eth2 fe80::3"]);
        // No index, no IPv6 (its multicast needs one).
        let mut unindexed = iface("eth3", "fe80::4");
        unindexed.index = 0;
        assert!(chosen(&[unindexed], &InterfaceRules::default()).is_empty());
    }

    #[test]
    fn an_unchanged_scan_is_recognised_also_when_on_loopback() {
        let eth = vec![iface("eth0", "10.0.0.2")];
        let mut joined = eth.clone();
        joined[0].multicast = true;
        assert!(unchanged(&eth, joined.iter()));
        let mut moved = eth.clone();
        moved[0].prefix = 16;
        assert!(!unchanged(&moved, joined.iter()));
        assert!(!unchanged(&[], joined.iter()));
        assert!(unchanged(&[], [loopback()].iter()));
        assert!(!unchanged(&eth, [loopback()].iter()));
    }
}
