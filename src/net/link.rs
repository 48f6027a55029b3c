//! The way datagrams go out and come in: the real sockets, or a place on an
//! in-process LAN. It owns the interfaces in use (rescanned as they come
//! and go), stamps each datagram with the way it is sent
//! ([`crate::envelope::Way`]), and counts what goes through each interface
//! for the doctor.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use socket2::SockRef;
use tokio::net::UdpSocket;

use super::NetOptions;
use super::interfaces::{self, InterfaceRules, NetInterface};
use super::memory::MemoryPort;
use super::socket::{self, SocketError};
use crate::doctor::{self, InterfaceReport};
use crate::envelope::{self, Way};
use crate::protocol::{Dest, Transmit};
use crate::wire::MAX_DATAGRAM;

/// How often the interfaces are listed again (a cable pulled or plugged
/// in, Wi-Fi joined, a VPN up).
pub(super) const RESCAN_EVERY: Duration = Duration::from_secs(3);

/// While only loopback is in use, a datagram from elsewhere says a network
/// is back: the interfaces are listed at once, at most this often.
const EARLY_RESCAN_GAP: Duration = Duration::from_secs(1);

/// What was opened on the caller's thread, before the runtime exists.
pub(super) enum Opened {
    /// Real sockets.
    Udp(OpenSockets),
    /// A place on an in-process LAN.
    Memory(MemoryPort),
}

/// The sockets as opened, not yet registered with the runtime.
pub(super) struct OpenSockets {
    group: std::net::UdpSocket,
    unicast: std::net::UdpSocket,
    /// The IPv6 group and unicast sockets, when IPv6 works here.
    v6: Option<(std::net::UdpSocket, std::net::UdpSocket)>,
    group_ip: Ipv4Addr,
    port: u16,
    rules: InterfaceRules,
    interfaces: Vec<NetInterface>,
}

impl Opened {
    /// Chooses the interfaces and opens the sockets (or attaches to the
    /// in-process LAN of `options.lan`).
    pub(super) fn open(options: &NetOptions) -> Result<Opened, SocketError> {
        if let Some(lan) = &options.lan {
            return Ok(Opened::Memory(lan.attach()));
        }
        let rules = InterfaceRules {
            only: options.interfaces.clone(),
            exclude: options.exclude_interfaces.clone(),
        };
        let mut interfaces = interfaces::choose_interfaces(&rules)?;
        let unicast_port = doctor::default_unicast_port(options.port);
        let ttl = options.multicast_ttl;
        // IPv6 is opened even when no interface needs it yet: one that
        // loses its IPv4 address, or an IPv6 `--peer`, may need it later.
        let v6 = socket::group_socket_v6(options.port, &mut interfaces)
            .and_then(|group| Ok((group, socket::unicast_socket_v6(unicast_port, ttl)?)));
        let v6 = match v6 {
            Ok(v6) => Some(v6),
            Err(err) => {
                if interfaces.iter().any(NetInterface::is_v6) {
                    tracing::warn!(cause = %err, "no IPv6 sockets; IPv6-only interfaces are not used");
                } else {
                    tracing::debug!(cause = %err, "no IPv6 sockets");
                }
                interfaces.retain(|i| !i.is_v6());
                if interfaces.is_empty() {
                    interfaces.push(interfaces::loopback());
                }
                None
            }
        };
        let group = socket::group_socket(options.group, options.port, &mut interfaces)?;
        if !interfaces
            .iter()
            .any(|i| i.multicast || i.broadcast.is_some())
        {
            return Err(SocketError::NoMembership {
                group: options.group,
            });
        }
        let unicast = socket::unicast_socket(unicast_port, ttl)?;
        Ok(Opened::Udp(OpenSockets {
            group,
            unicast,
            v6,
            group_ip: options.group,
            port: options.port,
            rules,
            interfaces,
        }))
    }

    /// The unicast address peers see.
    pub(super) fn addr(&self) -> Result<SocketAddr, SocketError> {
        match self {
            Opened::Memory(port) => Ok(port.addr),
            Opened::Udp(open) => {
                let v4 = local_port(&open.unicast)?;
                let v6 = match &open.v6 {
                    Some((_, unicast)) => Some(local_port(unicast)?),
                    None => None,
                };
                Ok(socket::advertised_addr(v4, v6, &open.interfaces))
            }
        }
    }

    /// The names of the interfaces in use.
    pub(super) fn interface_names(&self) -> Vec<String> {
        match self {
            Opened::Memory(_) => vec![MEMORY.to_string()],
            Opened::Udp(open) => open.interfaces.iter().map(|i| i.name.clone()).collect(),
        }
    }

    /// Registers the sockets with the running tokio runtime.
    pub(super) fn register(self) -> io::Result<Link> {
        Ok(match self {
            Opened::Udp(open) => {
                let v6 = match open.v6 {
                    Some((group, unicast)) => Some(Pair::new(group, unicast)?),
                    None => None,
                };
                Link::Udp(Box::new(Sockets {
                    v4: Pair::new(open.group, open.unicast)?,
                    v6,
                    group: open.group_ip,
                    port: open.port,
                    rules: open.rules,
                    in_use: open.interfaces.into_iter().map(InUse::new).collect(),
                    scratch: Vec::new(),
                    scanned: Instant::now(),
                }))
            }
            Opened::Memory(port) => Link::Memory(Memory::new(port)),
        })
    }
}

fn local_port(socket: &std::net::UdpSocket) -> Result<u16, SocketError> {
    socket
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| SocketError::Setup {
            what: "reading the unicast socket's address".into(),
            source,
        })
}

/// The way datagrams go out and come in.
pub(super) enum Link {
    /// The real network.
    Udp(Box<Sockets>),
    /// An in-process LAN (tests, the window's tests).
    Memory(Memory),
}

impl Link {
    /// Sends one datagram, stamped with the way it goes.
    pub(super) async fn send(&mut self, transmit: Transmit) {
        match self {
            Link::Udp(sockets) => sockets.send(transmit).await,
            Link::Memory(memory) => memory.send(transmit),
        }
    }

    /// The next datagram and its source; `None` after a receive error
    /// (logged; the loop just goes on).
    pub(super) async fn recv(&mut self) -> Option<(SocketAddr, &[u8])> {
        match self {
            Link::Udp(sockets) => sockets.recv().await,
            Link::Memory(memory) => memory.recv().await,
        }
    }

    /// Lists the interfaces again and follows what changed.
    pub(super) fn rescan(&mut self) {
        if let Link::Udp(sockets) = self {
            sockets.rescan();
        }
    }

    /// The interfaces in use and what went through each, for the doctor.
    pub(super) fn interfaces(&self) -> Vec<InterfaceReport> {
        match self {
            Link::Udp(sockets) => sockets.in_use.iter().map(|u| u.report.clone()).collect(),
            Link::Memory(memory) => vec![memory.report.clone()],
        }
    }

    /// The port unicast to this node goes to.
    pub(super) fn unicast_port(&self) -> u16 {
        match self {
            Link::Udp(sockets) => sockets.unicast_port(),
            Link::Memory(memory) => memory.port.addr.port(),
        }
    }
}

/// The name of the in-process LAN's one interface.
const MEMORY: &str = "memory";

/// A place on an in-process LAN, with its one pseudo-interface's counters.
pub(super) struct Memory {
    port: MemoryPort,
    report: InterfaceReport,
}

impl Memory {
    fn new(port: MemoryPort) -> Memory {
        let report = InterfaceReport {
            name: MEMORY.to_string(),
            addr: port.addr.ip(),
            prefix: 24,
            broadcast: None,
            multicast: true,
            datagrams_in: 0,
            datagrams_out: 0,
        };
        Memory { port, report }
    }

    fn send(&mut self, transmit: Transmit) {
        self.port.send(transmit.dest, transmit.bytes);
        self.report.datagrams_out += 1;
    }

    async fn recv(&mut self) -> Option<(SocketAddr, &[u8])> {
        let received = self.port.recv().await;
        if received.is_some() {
            self.report.datagrams_in += 1;
        }
        received
    }
}

/// Which socket of a [`Pair`] a datagram came in on.
#[derive(Clone, Copy)]
enum Which {
    Group,
    Unicast,
}

/// The group socket and the node's own socket of one address family.
struct Pair {
    /// Joined to the group on the interfaces of its family; only receives.
    group: UdpSocket,
    /// Every datagram of its family is sent from it.
    unicast: UdpSocket,
    /// Its port.
    port: u16,
    // Room for a datagram larger than allowed, so the core sees it whole
    // and can count it as malformed instead of reading a cut one.
    group_buf: Vec<u8>,
    unicast_buf: Vec<u8>,
    /// The interface (address, index) multicast last went out on: set
    /// again only when another is chosen (a system call per group
    /// datagram otherwise).
    multicast_if: Option<(std::net::IpAddr, u32)>,
}

impl Pair {
    fn new(group: std::net::UdpSocket, unicast: std::net::UdpSocket) -> io::Result<Pair> {
        let port = unicast.local_addr()?.port();
        Ok(Pair {
            group: UdpSocket::from_std(group)?,
            unicast: UdpSocket::from_std(unicast)?,
            port,
            group_buf: vec![0u8; MAX_DATAGRAM * 2],
            unicast_buf: vec![0u8; MAX_DATAGRAM * 2],
            multicast_if: None,
        })
    }

    /// Makes multicast from the unicast socket leave by `iface`.
    fn choose_multicast(&mut self, iface: &NetInterface) -> io::Result<()> {
        let chosen = Some((iface.addr, iface.index));
        if self.multicast_if != chosen {
            // Unknown until it succeeds.
            self.multicast_if = None;
            socket::set_multicast_interface(&self.unicast, iface)?;
            self.multicast_if = chosen;
        }
        Ok(())
    }

    /// The next datagram on either socket.
    async fn recv(&mut self) -> (Which, io::Result<(usize, SocketAddr)>) {
        let Pair {
            group,
            unicast,
            group_buf,
            unicast_buf,
            ..
        } = self;
        tokio::select! {
            received = group.recv_from(group_buf) => (Which::Group, received),
            received = unicast.recv_from(unicast_buf) => (Which::Unicast, received),
        }
    }

    fn buf(&self, which: Which) -> &[u8] {
        match which {
            Which::Group => &self.group_buf,
            Which::Unicast => &self.unicast_buf,
        }
    }
}

/// Receives on `pair`; never ready when there is none.
async fn recv_maybe(pair: Option<&mut Pair>) -> (Which, io::Result<(usize, SocketAddr)>) {
    match pair {
        Some(pair) => pair.recv().await,
        None => std::future::pending().await,
    }
}

/// An interface in use and its line in the doctor's report, which keeps
/// its counters.
struct InUse {
    iface: NetInterface,
    report: InterfaceReport,
}

impl InUse {
    fn new(iface: NetInterface) -> InUse {
        let report = InterfaceReport {
            name: iface.name.clone(),
            addr: iface.addr,
            prefix: iface.prefix,
            broadcast: iface.broadcast.map(Into::into),
            multicast: iface.multicast,
            datagrams_in: 0,
            datagrams_out: 0,
        };
        InUse { iface, report }
    }
}

/// The sockets, the interfaces in use, and where group traffic goes.
pub(super) struct Sockets {
    v4: Pair,
    v6: Option<Pair>,
    /// The IPv4 multicast group (IPv6 uses [`super::DEFAULT_GROUP_V6`]).
    group: Ipv4Addr,
    /// The group port.
    port: u16,
    rules: InterfaceRules,
    in_use: Vec<InUse>,
    /// The last rescan's list, kept for its room.
    scratch: Vec<NetInterface>,
    /// When the interfaces were last listed.
    scanned: Instant,
}

impl Sockets {
    /// Sends one datagram, stamped with the way it goes; errors are logged,
    /// never fatal (a network that comes and goes must not end the program).
    async fn send(&mut self, transmit: Transmit) {
        let mut bytes = transmit.bytes;
        match transmit.dest {
            Dest::Unicast(to) => {
                envelope::stamp(&mut bytes, Way::Unicast);
                self.unicast(&bytes, to).await;
            }
            Dest::Group => {
                envelope::stamp(&mut bytes, Way::Multicast);
                self.multicast(&bytes, false).await;
                envelope::stamp(&mut bytes, Way::Broadcast);
                self.broadcast(&bytes).await;
            }
            Dest::Multicast => {
                envelope::stamp(&mut bytes, Way::Multicast);
                self.multicast(&bytes, false).await;
            }
            Dest::Broadcast => {
                envelope::stamp(&mut bytes, Way::Broadcast);
                self.broadcast(&bytes).await;
                // Where there is no broadcast address (loopback,
                // point-to-point, IPv6) a beat meant for broadcast would
                // go nowhere: it goes by multicast there.
                envelope::stamp(&mut bytes, Way::Multicast);
                self.multicast(&bytes, true).await;
            }
        }
    }

    /// Sends to the group on each interface (`only_without_broadcast`: on
    /// those with no broadcast address only).
    async fn multicast(&mut self, bytes: &[u8], only_without_broadcast: bool) {
        for at in 0..self.in_use.len() {
            let iface = &self.in_use[at].iface;
            if only_without_broadcast && iface.broadcast.is_some() {
                continue;
            }
            let pair = match (iface.is_v6(), &mut self.v6) {
                (false, _) => &mut self.v4,
                (true, Some(v6)) => v6,
                (true, None) => continue,
            };
            if let Err(err) = pair.choose_multicast(iface) {
                tracing::debug!(iface = %iface.name, cause = %err, "choosing the multicast interface failed");
                continue;
            }
            let to = socket::group_address(self.group, self.port, iface);
            if send_from(&pair.unicast, bytes, to).await {
                self.in_use[at].report.datagrams_out += 1;
            }
        }
    }

    /// Sends to each interface's broadcast address.
    async fn broadcast(&mut self, bytes: &[u8]) {
        for at in 0..self.in_use.len() {
            if let Some(broadcast) = self.in_use[at].iface.broadcast {
                let to = SocketAddr::new(broadcast.into(), self.port);
                if send_from(&self.v4.unicast, bytes, to).await {
                    self.in_use[at].report.datagrams_out += 1;
                }
            }
        }
    }

    /// Sends to one node, from the socket of its address's family.
    async fn unicast(&mut self, bytes: &[u8], to: SocketAddr) {
        let pair = match (to, &self.v6) {
            (SocketAddr::V4(_), _) => &self.v4,
            (SocketAddr::V6(_), Some(v6)) => v6,
            (SocketAddr::V6(_), None) => {
                tracing::debug!(%to, "no IPv6 socket; not sent");
                return;
            }
        };
        if send_from(&pair.unicast, bytes, to).await
            && let Some(u) = self.on_network_of(to)
        {
            u.report.datagrams_out += 1;
        }
    }

    /// The interface whose network holds `addr`: for a scoped IPv6
    /// address (link-local) the one of its scope, else by prefix.
    fn on_network_of(&mut self, addr: SocketAddr) -> Option<&mut InUse> {
        match addr {
            SocketAddr::V6(v6) if v6.scope_id() != 0 => self
                .in_use
                .iter_mut()
                .find(|u| u.iface.is_v6() && u.iface.index == v6.scope_id()),
            _ => self
                .in_use
                .iter_mut()
                .find(|u| doctor::on_interface(&u.report, addr.ip())),
        }
    }

    async fn recv(&mut self) -> Option<(SocketAddr, &[u8])> {
        let (v6, (which, received)) = tokio::select! {
            received = self.v4.recv() => (false, received),
            received = recv_maybe(self.v6.as_mut()) => (true, received),
        };
        let (len, from) = match received {
            Ok(received) => received,
            // Windows reports an ICMP "port unreachable" as an error here.
            Err(err) => {
                tracing::debug!(cause = %err, v6, "receive failed");
                return None;
            }
        };
        if let Some(u) = self.on_network_of(from) {
            u.report.datagrams_in += 1;
        }
        if self.on_loopback()
            && !from.ip().is_loopback()
            && self.scanned.elapsed() >= EARLY_RESCAN_GAP
        {
            tracing::debug!(%from, "heard from the network while on loopback; listing interfaces");
            self.rescan();
        }
        let pair = match (v6, &self.v6) {
            (true, Some(pair)) => pair,
            _ => &self.v4,
        };
        Some((from, &pair.buf(which)[..len]))
    }

    /// Whether only the loopback fallback is in use.
    fn on_loopback(&self) -> bool {
        matches!(&self.in_use[..], [only] if only.iface.addr.is_loopback())
    }

    /// The port unicast to this node goes to: that of the first
    /// interface's family (as advertised).
    fn unicast_port(&self) -> u16 {
        match (self.in_use.first(), &self.v6) {
            (Some(u), Some(v6)) if u.iface.is_v6() => v6.port,
            _ => self.v4.port,
        }
    }

    /// Lists the interfaces again; when the choice changed, joins the
    /// group on the new ones, leaves it on those gone and sends by the
    /// new list. Costs no allocation but the OS's list when nothing
    /// changed.
    fn rescan(&mut self) {
        self.scanned = Instant::now();
        let ipv6 = self.v6.is_some();
        if let Err(err) = interfaces::rescan_into(&self.rules, ipv6, &mut self.scratch) {
            tracing::debug!(cause = %err, "listing the interfaces failed");
            return;
        }
        if interfaces::unchanged(&self.scratch, self.in_use.iter().map(|u| &u.iface)) {
            return;
        }
        // An interface made again may keep its address under a new index:
        // choose the multicast interface afresh.
        self.v4.multicast_if = None;
        if let Some(v6) = &mut self.v6 {
            v6.multicast_if = None;
        }
        let mut fresh = std::mem::take(&mut self.scratch);
        if fresh.is_empty() {
            fresh.push(interfaces::loopback());
        }
        let mut old = std::mem::take(&mut self.in_use);
        for u in &old {
            if !fresh.iter().any(|f| f.same_place(&u.iface)) {
                if u.iface.multicast {
                    self.leave(&u.iface);
                }
                tracing::info!("interface {} gone ({})", u.iface.name, u.iface.addr);
            }
        }
        let mut next = Vec::with_capacity(fresh.len());
        for mut iface in fresh.drain(..) {
            match old.iter().position(|u| u.iface.same_place(&iface)) {
                Some(at) => {
                    let mut u = old.swap_remove(at);
                    iface.multicast = u.iface.multicast;
                    u.report.prefix = iface.prefix;
                    u.report.broadcast = iface.broadcast.map(Into::into);
                    u.iface = iface;
                    next.push(u);
                }
                None => {
                    iface.multicast = self.join(&iface);
                    tracing::info!("interface {} up ({})", iface.name, iface.addr);
                    next.push(InUse::new(iface));
                }
            }
        }
        self.in_use = next;
        self.scratch = fresh;
    }

    /// The group socket of `iface`'s family.
    fn group_socket(&self, iface: &NetInterface) -> Option<&UdpSocket> {
        if iface.is_v6() {
            self.v6.as_ref().map(|p| &p.group)
        } else {
            Some(&self.v4.group)
        }
    }

    fn join(&self, iface: &NetInterface) -> bool {
        self.group_socket(iface)
            .is_some_and(|s| socket::join(SockRef::from(s), self.group, iface))
    }

    fn leave(&self, iface: &NetInterface) {
        if let Some(s) = self.group_socket(iface) {
            socket::leave(SockRef::from(s), self.group, iface);
        }
    }
}

/// How long a send waits for the OS to have room again, at most, and how
/// often it tries in that time.
const ROOM_WAIT: Duration = Duration::from_millis(1);
const ROOM_TRIES: u32 = 20;

/// Sends one datagram; true when the OS took it. A full socket buffer
/// (`WouldBlock`, which tokio waits out) and a full interface queue
/// (`ENOBUFS`: macOS and the BSDs say so where Linux drops in silence) are
/// back-pressure: the datagram waits and is sent when there is room. Any
/// other failure is logged.
async fn send_from(socket: &UdpSocket, bytes: &[u8], to: SocketAddr) -> bool {
    let mut tries = 0;
    loop {
        match socket.send_to(bytes, to).await {
            Ok(_) => return true,
            Err(err) if no_room(&err) && tries < ROOM_TRIES => {
                tries += 1;
                tokio::time::sleep(ROOM_WAIT).await;
            }
            Err(err) => {
                tracing::debug!(%to, cause = %err, len = bytes.len(), tries, "send failed");
                return false;
            }
        }
    }
}

/// Whether a send failed for want of buffer space on the way out
/// (`ENOBUFS`, `WSAENOBUFS`).
fn no_room(err: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    const ENOBUFS: i32 = 105;
    #[cfg(windows)]
    const ENOBUFS: i32 = 10055;
    #[cfg(not(any(target_os = "linux", windows)))]
    const ENOBUFS: i32 = 55;
    err.raw_os_error() == Some(ENOBUFS)
}
