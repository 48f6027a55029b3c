//! An in-process LAN: nodes started with the same [`MemoryLan`] talk to each
//! other through channels instead of sockets. The driver, the core and the
//! handle are the real ones; only the last step (the socket call) differs.
//! The window's tests use it to run the whole app against live peers with no
//! network at all.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use crate::envelope::{self, Way};
use crate::protocol::Dest;

/// A datagram in flight: who sent it and its bytes.
type Datagram = (SocketAddr, Vec<u8>);

/// A shared in-memory LAN. Clones are the same LAN.
#[derive(Clone, Debug, Default)]
pub struct MemoryLan {
    members: Arc<Mutex<Members>>,
}

#[derive(Debug, Default)]
struct Members {
    next: u32,
    ports: Vec<(SocketAddr, mpsc::UnboundedSender<Datagram>)>,
}

impl MemoryLan {
    /// A new, empty LAN.
    pub fn new() -> MemoryLan {
        MemoryLan::default()
    }

    /// Plugs a node in: it gets an address of its own (in 192.0.2.0/24, the
    /// documentation range, so it can never be mistaken for a real host).
    pub(crate) fn attach(&self) -> MemoryPort {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut members = self.lock();
        members.next += 1;
        let host = u8::try_from(members.next % 250).unwrap_or(0) + 1;
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, host), 47077));
        members.ports.push((addr, tx));
        MemoryPort {
            addr,
            lan: self.clone(),
            rx,
            buf: Vec::new(),
        }
    }

    /// Hands `bytes` to every node on the LAN as a group datagram from
    /// `from` (for tests: what a node this build cannot be would send).
    pub fn inject(&self, from: SocketAddr, bytes: &[u8]) {
        self.lock()
            .ports
            .retain(|(_, tx)| tx.send((from, bytes.to_vec())).is_ok());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Members> {
        // A panic elsewhere cannot leave the member list half-written.
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One node's place on a [`MemoryLan`].
#[derive(Debug)]
pub(crate) struct MemoryPort {
    /// The node's address on the LAN.
    pub(crate) addr: SocketAddr,
    lan: MemoryLan,
    rx: mpsc::UnboundedReceiver<Datagram>,
    buf: Vec<u8>,
}

impl MemoryPort {
    /// Delivers a datagram: to everyone else for the group ways, to one
    /// member for unicast, stamped with the way as the socket driver does.
    /// Members that left are forgotten.
    pub(crate) fn send(&self, dest: Dest, mut bytes: Vec<u8>) {
        let way = match dest {
            Dest::Group | Dest::Multicast => Way::Multicast,
            Dest::Broadcast => Way::Broadcast,
            Dest::Unicast(_) => Way::Unicast,
        };
        envelope::stamp(&mut bytes, way);
        let mut members = self.lan.lock();
        members.ports.retain(|(addr, tx)| {
            let wanted = match dest {
                Dest::Unicast(to) => *addr == to,
                Dest::Group | Dest::Multicast | Dest::Broadcast => *addr != self.addr,
            };
            !wanted || tx.send((self.addr, bytes.clone())).is_ok()
        });
    }

    /// The next datagram for this node.
    pub(crate) async fn recv(&mut self) -> Option<(SocketAddr, &[u8])> {
        let (from, bytes) = self.rx.recv().await?;
        self.buf = bytes;
        Some((from, &self.buf))
    }
}

impl Drop for MemoryPort {
    fn drop(&mut self) {
        let addr = self.addr;
        self.lan.lock().ports.retain(|(a, _)| *a != addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_are_stamped_with_the_way_they_went() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let lan = MemoryLan::new();
        let a = lan.attach();
        let mut b = lan.attach();
        let mut datagram = crate::wire::MAGIC.to_vec();
        datagram.extend_from_slice(&[crate::wire::VERSION, 0, 1, 2]);
        for (dest, way) in [
            (Dest::Group, Way::Multicast),
            (Dest::Multicast, Way::Multicast),
            (Dest::Broadcast, Way::Broadcast),
            (Dest::Unicast(b.addr), Way::Unicast),
        ] {
            a.send(dest, datagram.clone());
            let got = runtime
                .block_on(b.recv())
                .map(|(_, bytes)| envelope::way_of(bytes));
            assert_eq!(got, Some(way), "{dest:?}");
        }
    }
}
