//! The one place that opens sockets (like mdns-sd's `new_socket`): which
//! interfaces to use, the shared group socket, and the node's own unicast
//! socket. Every option is set here; a failure says what was being done, and
//! options that are only nice to have are logged, not fatal.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// Why the sockets could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// The list of network interfaces could not be read.
    #[error("listing network interfaces")]
    Interfaces(#[source] io::Error),
    /// `--iface` named an interface that has no usable IPv4 address.
    #[error("no up IPv4 interface named {0:?}")]
    NoSuchInterface(String),
    /// One step of opening a socket failed.
    #[error("{what}")]
    Setup {
        /// What was being done.
        what: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The group could not be joined on any chosen interface.
    #[error("could not join multicast group {group} on any interface")]
    NoMembership {
        /// The group.
        group: Ipv4Addr,
    },
}

/// One IPv4 interface lanchat sends on and listens on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetInterface {
    /// OS name ("eth0", "lo").
    pub name: String,
    /// Its IPv4 address.
    pub addr: Ipv4Addr,
    /// Its broadcast address; loopback and point-to-point links have none.
    pub broadcast: Option<Ipv4Addr>,
}

/// The loopback interface used when no other interface is up.
fn loopback() -> NetInterface {
    NetInterface {
        name: "lo".to_string(),
        addr: Ipv4Addr::LOCALHOST,
        broadcast: None,
    }
}

/// Picks the interfaces: every up IPv4 non-loopback interface, or only those
/// named in `names` (loopback allowed then); loopback when none is left.
pub fn choose_interfaces(names: &[String]) -> Result<Vec<NetInterface>, SocketError> {
    let all = if_addrs::get_if_addrs().map_err(SocketError::Interfaces)?;
    let up = all.into_iter().filter(|iface| {
        !matches!(
            iface.oper_status,
            if_addrs::IfOperStatus::Down
                | if_addrs::IfOperStatus::NotPresent
                | if_addrs::IfOperStatus::LowerLayerDown
        )
    });
    let v4: Vec<NetInterface> = up
        .filter_map(|iface| match iface.addr {
            if_addrs::IfAddr::V4(v4) => Some(NetInterface {
                name: iface.name,
                addr: v4.ip,
                broadcast: v4
                    .broadcast
                    .filter(|b| !b.is_loopback() && !v4.ip.is_loopback()),
            }),
            if_addrs::IfAddr::V6(_) => None,
        })
        .collect();
    let chosen = select(v4, names)?;
    if chosen.is_empty() {
        tracing::info!("no up IPv4 interface besides loopback; using 127.0.0.1");
        return Ok(vec![loopback()]);
    }
    Ok(chosen)
}

/// The pure part of [`choose_interfaces`].
fn select(v4: Vec<NetInterface>, names: &[String]) -> Result<Vec<NetInterface>, SocketError> {
    if names.is_empty() {
        return Ok(v4.into_iter().filter(|i| !i.addr.is_loopback()).collect());
    }
    for name in names {
        if !v4.iter().any(|i| &i.name == name) {
            return Err(SocketError::NoSuchInterface(name.clone()));
        }
    }
    Ok(v4.into_iter().filter(|i| names.contains(&i.name)).collect())
}

fn setup<T>(what: impl FnOnce() -> String, result: io::Result<T>) -> Result<T, SocketError> {
    result.map_err(|source| SocketError::Setup {
        what: what(),
        source,
    })
}

fn udp_socket(what: &str) -> Result<Socket, SocketError> {
    setup(
        || format!("creating the {what} socket"),
        Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)),
    )
}

/// Opens the group socket: bound to `0.0.0.0:port`, shared with other nodes
/// on this host (SO_REUSEADDR, and SO_REUSEPORT on Unix), joined to `group`
/// on each interface. It only receives; nothing is sent from it.
pub fn group_socket(
    group: Ipv4Addr,
    port: u16,
    interfaces: &[NetInterface],
) -> Result<UdpSocket, SocketError> {
    let socket = udp_socket("group")?;
    setup(
        || "allowing other nodes on this host to share the port (SO_REUSEADDR)".into(),
        socket.set_reuse_address(true),
    )?;
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    setup(
        || "allowing other nodes on this host to share the port (SO_REUSEPORT)".into(),
        socket.set_reuse_port(true),
    )?;
    setup(
        || "making the group socket non-blocking".into(),
        socket.set_nonblocking(true),
    )?;
    let bind = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
    setup(
        || format!("binding the group socket to {bind}"),
        socket.bind(&bind.into()),
    )?;
    let mut joined = 0;
    for iface in interfaces {
        match socket.join_multicast_v4(&group, &iface.addr) {
            Ok(()) => joined += 1,
            Err(err) => tracing::warn!(
                iface = %iface.name, addr = %iface.addr, cause = %err,
                "could not join the multicast group; relying on broadcast there"
            ),
        }
    }
    if joined == 0 && interfaces.iter().all(|i| i.broadcast.is_none()) {
        return Err(SocketError::NoMembership { group });
    }
    Ok(socket.into())
}

/// Opens the node's own unicast socket: `0.0.0.0:0`, allowed to broadcast,
/// multicast TTL 1 and loop on (other nodes on this host must hear us).
/// Every datagram is sent from it, so its address is the sender's identity
/// on the wire.
pub fn unicast_socket() -> Result<UdpSocket, SocketError> {
    let socket = udp_socket("unicast")?;
    setup(
        || "allowing broadcast (SO_BROADCAST)".into(),
        socket.set_broadcast(true),
    )?;
    if let Err(err) = socket.set_multicast_ttl_v4(1) {
        tracing::warn!(cause = %err, "could not set the multicast TTL to 1");
    }
    if let Err(err) = socket.set_multicast_loop_v4(true) {
        tracing::warn!(cause = %err, "could not turn multicast loop on; nodes on this host may not see each other");
    }
    setup(
        || "making the unicast socket non-blocking".into(),
        socket.set_nonblocking(true),
    )?;
    let bind = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
    setup(
        || format!("binding the unicast socket to {bind}"),
        socket.bind(&bind.into()),
    )?;
    Ok(socket.into())
}

/// Makes the next multicast datagram from `socket` leave through `iface`.
pub fn set_multicast_interface(socket: &tokio::net::UdpSocket, iface: Ipv4Addr) -> io::Result<()> {
    SockRef::from(socket).set_multicast_if_v4(&iface)
}

/// The address to advertise for a unicast socket bound to `local`: the first
/// interface's address (or loopback) with the socket's port.
pub fn advertised_addr(local: SocketAddr, interfaces: &[NetInterface]) -> SocketAddr {
    let ip = interfaces
        .first()
        .map(|i| i.addr)
        .unwrap_or(Ipv4Addr::LOCALHOST);
    SocketAddr::new(ip.into(), local.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, addr: [u8; 4]) -> NetInterface {
        NetInterface {
            name: name.into(),
            addr: addr.into(),
            broadcast: None,
        }
    }

    #[test]
    fn default_choice_skips_loopback_and_names_filter() {
        let all = vec![
            iface("lo", [127, 0, 0, 1]),
            iface("eth0", [10, 0, 0, 2]),
            iface("wlan0", [192, 168, 1, 5]),
        ];
        let names = |v: Vec<NetInterface>| v.into_iter().map(|i| i.name).collect::<Vec<_>>();
        assert_eq!(names(select(all.clone(), &[]).unwrap()), ["eth0", "wlan0"]);
        assert_eq!(names(select(all.clone(), &["lo".into()]).unwrap()), ["lo"]);
        assert!(matches!(
            select(all, &["eth9".into()]),
            Err(SocketError::NoSuchInterface(_))
        ));
    }

    #[test]
    fn advertised_address_uses_the_first_interface() {
        let local: SocketAddr = "0.0.0.0:4000".parse().unwrap();
        assert_eq!(
            advertised_addr(local, &[iface("eth0", [10, 0, 0, 2])]),
            "10.0.0.2:4000".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            advertised_addr(local, &[]),
            "127.0.0.1:4000".parse::<SocketAddr>().unwrap()
        );
    }
}
