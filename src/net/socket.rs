//! The one place that opens sockets (like mdns-sd's `new_socket`): the
//! shared group sockets and the node's own unicast sockets, one of each per
//! address family, and the group memberships on the interfaces
//! ([`super::interfaces`] chooses them). Every option is set here; a
//! failure says what was being done, and options that are only nice to
//! have are logged, not fatal.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};

pub use super::interfaces::NetInterface;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// Why the sockets could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// The list of network interfaces could not be read.
    #[error("listing network interfaces")]
    Interfaces(#[source] io::Error),
    /// `--iface` named an interface that is not up or has no address.
    #[error("no up interface named {0:?}")]
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

fn setup<T>(what: impl FnOnce() -> String, result: io::Result<T>) -> Result<T, SocketError> {
    result.map_err(|source| SocketError::Setup {
        what: what(),
        source,
    })
}

/// Receive buffer asked for each socket: a burst from a whole LAN (every
/// node answering a hello, catch-up after a cable pull) must wait in it
/// rather than be dropped while the node is busy. The OS may give less
/// (Linux caps it at `net.core.rmem_max`; Windows' default is 64 KiB).
const RECV_BUFFER: usize = 4 << 20;
/// Send buffer asked for each socket: room for a burst of group and
/// unicast datagrams before a send has to wait.
const SEND_BUFFER: usize = 1 << 20;

fn udp_socket(domain: Domain, what: &str) -> Result<Socket, SocketError> {
    let socket = setup(
        || format!("creating the {what} socket"),
        Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)),
    )?;
    // Nice to have: the defaults work, only less well under a burst.
    if let Err(err) = socket.set_recv_buffer_size(RECV_BUFFER) {
        tracing::debug!(cause = %err, "could not widen the {what} socket's receive buffer");
    }
    if let Err(err) = socket.set_send_buffer_size(SEND_BUFFER) {
        tracing::debug!(cause = %err, "could not widen the {what} socket's send buffer");
    }
    Ok(socket)
}

/// A group socket before its memberships: bound to the unspecified address
/// of its family on `port`, shared with other nodes on this host
/// (SO_REUSEADDR, and SO_REUSEPORT on Unix).
fn shared_socket(domain: Domain, port: u16, what: &str) -> Result<Socket, SocketError> {
    let socket = udp_socket(domain, what)?;
    let bind: SocketAddr = if domain == Domain::IPV6 {
        setup(
            || format!("making the {what} socket IPv6-only"),
            socket.set_only_v6(true),
        )?;
        SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0).into()
    } else {
        SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into()
    };
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
        || format!("making the {what} socket non-blocking"),
        socket.set_nonblocking(true),
    )?;
    setup(
        || format!("binding the {what} socket to {bind}"),
        socket.bind(&bind.into()),
    )?;
    Ok(socket)
}

/// Opens the IPv4 group socket: `0.0.0.0:port`, shared with other nodes on
/// this host, joined to `group` on each IPv4 interface (whose `multicast`
/// says whether that worked). It only receives; nothing is sent from it.
pub fn group_socket(
    group: Ipv4Addr,
    port: u16,
    interfaces: &mut [NetInterface],
) -> Result<UdpSocket, SocketError> {
    let socket = shared_socket(Domain::IPV4, port, "group")?;
    // On Windows a receiving socket chooses whether it hears multicast
    // looped back from this host (elsewhere the sender does, and this is
    // a no-op): other nodes on this PC must be heard.
    if let Err(err) = socket.set_multicast_loop_v4(true) {
        tracing::debug!(cause = %err, "could not turn multicast loop on for the group socket");
    }
    for iface in interfaces.iter_mut().filter(|i| !i.is_v6()) {
        iface.multicast = join(SockRef::from(&socket), group, iface);
    }
    Ok(socket.into())
}

/// Opens the IPv6 group socket: `[::]:port`, IPv6 only, shared with other
/// nodes on this host, joined to [`super::DEFAULT_GROUP_V6`] on each IPv6
/// interface (whose `multicast` says whether that worked).
pub fn group_socket_v6(
    port: u16,
    interfaces: &mut [NetInterface],
) -> Result<UdpSocket, SocketError> {
    let socket = shared_socket(Domain::IPV6, port, "IPv6 group")?;
    if let Err(err) = socket.set_multicast_loop_v6(true) {
        tracing::debug!(cause = %err, "could not turn IPv6 multicast loop on for the group socket");
    }
    for iface in interfaces.iter_mut().filter(|i| i.is_v6()) {
        iface.multicast = join(SockRef::from(&socket), Ipv4Addr::UNSPECIFIED, iface);
    }
    Ok(socket.into())
}

/// Joins the group on `iface` through `socket`, the group socket of its
/// family: `group` for IPv4, [`super::DEFAULT_GROUP_V6`] for IPv6. A
/// failure is logged; the result says whether it worked.
pub fn join(socket: SockRef<'_>, group: Ipv4Addr, iface: &NetInterface) -> bool {
    let joined = match iface.addr {
        IpAddr::V4(addr) => socket.join_multicast_v4(&group, &addr),
        IpAddr::V6(_) => socket.join_multicast_v6(&super::DEFAULT_GROUP_V6, iface.index),
    };
    match joined {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(
                iface = %iface.name, addr = %iface.addr, cause = %err,
                "could not join the multicast group; relying on broadcast there"
            );
            false
        }
    }
}

/// Leaves the group on `iface`; errors are ignored (the interface may be
/// gone already, and the membership with it).
pub fn leave(socket: SockRef<'_>, group: Ipv4Addr, iface: &NetInterface) {
    let left = match iface.addr {
        IpAddr::V4(addr) => socket.leave_multicast_v4(&group, &addr),
        IpAddr::V6(_) => socket.leave_multicast_v6(&super::DEFAULT_GROUP_V6, iface.index),
    };
    if let Err(err) = left {
        tracing::debug!(iface = %iface.name, cause = %err, "leaving the multicast group failed");
    }
}

/// Binds `socket` to the first of `ports` that is free (on the unspecified
/// address of `domain`).
fn bind_first(
    socket: &Socket,
    domain: Domain,
    ports: &[u16],
    what: &str,
) -> Result<(), SocketError> {
    let mut last = None;
    for &port in ports {
        let bind: SocketAddr = if domain == Domain::IPV6 {
            SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0).into()
        } else {
            SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into()
        };
        match socket.bind(&bind.into()) {
            Ok(()) => return Ok(()),
            Err(err) => {
                tracing::debug!(%bind, cause = %err, "{what} port taken; trying the next");
                last = Some((bind, err));
            }
        }
    }
    let (bind, source) = last.unwrap_or_else(|| {
        let bind = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0).into();
        (bind, io::Error::from(io::ErrorKind::InvalidInput))
    });
    Err(SocketError::Setup {
        what: format!("binding the {what} socket to {bind}"),
        source,
    })
}

/// Keeps the port `socket` binds to its own, before the bind. Elsewhere a
/// port bound without SO_REUSEADDR is that already; on Windows another
/// program's socket with SO_REUSEADDR may bind it too and take its traffic,
/// unless this one asked for SO_EXCLUSIVEADDRUSE. (Wine accepts the
/// option; beneath it, Linux lets no second socket share a port bound
/// without SO_REUSEADDR, so under Wine the difference cannot show.) A
/// failure is logged: the port works, only less well guarded.
#[cfg(windows)]
#[allow(unsafe_code)]
fn exclusive(socket: &Socket, what: &str) {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{
        SO_EXCLUSIVEADDRUSE, SOCKET, SOL_SOCKET, setsockopt,
    };
    let on: i32 = 1;
    // SAFETY: the handle is the open socket `socket` owns, and the option
    // value is a live i32 whose size is passed with it.
    let failed = unsafe {
        setsockopt(
            socket.as_raw_socket() as SOCKET,
            SOL_SOCKET,
            SO_EXCLUSIVEADDRUSE,
            std::ptr::from_ref(&on).cast(),
            std::mem::size_of::<i32>() as i32,
        )
    } != 0;
    if failed {
        tracing::warn!(
            cause = %io::Error::last_os_error(),
            "could not keep the {what} port to this node (SO_EXCLUSIVEADDRUSE)"
        );
    }
}

/// Elsewhere a port bound without SO_REUSEADDR is exclusive already.
#[cfg(not(windows))]
fn exclusive(_socket: &Socket, _what: &str) {}

/// Opens the node's own IPv4 unicast socket: on `port` (the group port's
/// neighbour, a predictable port to open in a firewall) or any port when
/// that one is taken (another node on this host has it); no SO_REUSEADDR,
/// so two nodes never share it. Allowed to broadcast, multicast TTL `ttl`
/// and loop on (other nodes on this host must hear us). Every IPv4
/// datagram is sent from it, so its address is the sender's identity on
/// the wire.
pub fn unicast_socket(port: u16, ttl: u32) -> Result<UdpSocket, SocketError> {
    let socket = udp_socket(Domain::IPV4, "unicast")?;
    setup(
        || "allowing broadcast (SO_BROADCAST)".into(),
        socket.set_broadcast(true),
    )?;
    if let Err(err) = socket.set_multicast_ttl_v4(ttl) {
        tracing::warn!(ttl, cause = %err, "could not set the multicast TTL");
    }
    if let Err(err) = socket.set_multicast_loop_v4(true) {
        tracing::warn!(cause = %err, "could not turn multicast loop on; nodes on this host may not see each other");
    }
    setup(
        || "making the unicast socket non-blocking".into(),
        socket.set_nonblocking(true),
    )?;
    exclusive(&socket, "unicast");
    bind_first(&socket, Domain::IPV4, &[port, 0], "unicast")?;
    Ok(socket.into())
}

/// Opens the node's own IPv6 unicast socket, like [`unicast_socket`]: on
/// `port` or any port, IPv6 only, multicast hop limit `ttl`, loop on.
/// Every IPv6 datagram is sent from it.
pub fn unicast_socket_v6(port: u16, ttl: u32) -> Result<UdpSocket, SocketError> {
    let socket = udp_socket(Domain::IPV6, "IPv6 unicast")?;
    setup(
        || "making the IPv6 unicast socket IPv6-only".into(),
        socket.set_only_v6(true),
    )?;
    if let Err(err) = socket.set_multicast_hops_v6(ttl) {
        tracing::warn!(ttl, cause = %err, "could not set the IPv6 multicast hop limit");
    }
    if let Err(err) = socket.set_multicast_loop_v6(true) {
        tracing::warn!(cause = %err, "could not turn IPv6 multicast loop on; nodes on this host may not see each other");
    }
    setup(
        || "making the IPv6 unicast socket non-blocking".into(),
        socket.set_nonblocking(true),
    )?;
    exclusive(&socket, "IPv6 unicast");
    bind_first(&socket, Domain::IPV6, &[port, 0], "IPv6 unicast")?;
    Ok(socket.into())
}

/// Makes the next multicast datagram from `socket` leave through `iface`
/// (by its address for IPv4, its index for IPv6).
pub fn set_multicast_interface(
    socket: &tokio::net::UdpSocket,
    iface: &NetInterface,
) -> io::Result<()> {
    match iface.addr {
        IpAddr::V4(addr) => SockRef::from(socket).set_multicast_if_v4(&addr),
        IpAddr::V6(_) => SockRef::from(socket).set_multicast_if_v6(iface.index),
    }
}

/// Where multicast for `iface` goes: the IPv4 group, or the IPv6 one
/// scoped to the interface.
pub fn group_address(group: Ipv4Addr, port: u16, iface: &NetInterface) -> SocketAddr {
    if iface.is_v6() {
        SocketAddrV6::new(super::DEFAULT_GROUP_V6, port, 0, iface.index).into()
    } else {
        SocketAddrV4::new(group, port).into()
    }
}

/// The address to advertise: the first interface's address (or loopback)
/// with the port of the unicast socket of its family (`v6_port` for an
/// IPv6 one; scoped to the interface when link-local).
pub fn advertised_addr(
    v4_port: u16,
    v6_port: Option<u16>,
    interfaces: &[NetInterface],
) -> SocketAddr {
    match (interfaces.first(), v6_port) {
        (Some(iface), Some(port)) if iface.is_v6() => match iface.addr {
            IpAddr::V6(ip) => {
                let scope = if ip.is_unicast_link_local() {
                    iface.index
                } else {
                    0
                };
                SocketAddrV6::new(ip, port, 0, scope).into()
            }
            IpAddr::V4(ip) => SocketAddr::new(ip.into(), v4_port),
        },
        (Some(iface), _) if !iface.is_v6() => SocketAddr::new(iface.addr, v4_port),
        _ => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), v4_port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::net::interfaces::test_iface as iface;

    #[test]
    fn advertised_address_uses_the_first_interface() {
        assert_eq!(
            advertised_addr(4000, Some(4001), &[iface("eth0", "10.0.0.2")]),
            "10.0.0.2:4000".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            advertised_addr(4000, None, &[]),
            "127.0.0.1:4000".parse::<SocketAddr>().unwrap()
        );
        let v6 = advertised_addr(4000, Some(4001), &[iface("eth2", "fe80::3")]);
        assert_eq!(
            v6,
            SocketAddrV6::new("fe80::3".parse().unwrap(), 4001, 0, 7).into()
        );
        // No IPv6 socket: loopback, not an address nobody can answer.
        assert_eq!(
            advertised_addr(4000, None, &[iface("eth2", "fe80::3")]),
            "127.0.0.1:4000".parse::<SocketAddr>().unwrap()
        );
    }
}
