//! Static peers: the addresses a node greets by unicast because the group
//! may not reach them. They come from `--peer` (names resolved at start)
//! and from `peers.txt` in the data directory, where the addresses added
//! while running are remembered.

use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

/// The file in the data directory that remembers added addresses.
pub(crate) const FILE: &str = "peers.txt";

/// What `peers.txt` starts with.
const HEADER: &str =
    "# Addresses lanchat greets by unicast (added with /peer), one ip:port a line.\n";

/// Why a `--peer` value gave no address.
#[derive(Debug, thiserror::Error)]
pub(super) enum PeerError {
    /// The port is not a number from 0 to 65535.
    #[error("bad port {0:?}")]
    Port(String),
    /// The name did not resolve.
    #[error("could not resolve the name ({0})")]
    Resolve(io::Error),
    /// The name resolved to nothing.
    #[error("the name has no address")]
    NoAddress,
}

/// Resolves `--peer` values (`host`, `host:port`, `[v6]:port`; the port is
/// `port` when none is given). A value that gives no address is logged and
/// skipped: one unreachable name must not keep the node from starting.
pub(super) fn resolve(given: &[String], port: u16) -> Vec<SocketAddr> {
    given
        .iter()
        .filter_map(|text| match resolve_one(text, port) {
            Ok(addr) => Some(addr),
            Err(err) => {
                tracing::warn!(peer = %text, cause = %err, "skipping a --peer address");
                None
            }
        })
        .collect()
}

/// One `--peer` value. Of a name's addresses, the first IPv4 one (the LAN
/// of most offices), else the first.
fn resolve_one(text: &str, default_port: u16) -> Result<SocketAddr, PeerError> {
    let (host, port) = split(text.trim());
    let port = match port {
        Some(p) => p.parse().map_err(|_| PeerError::Port(p.to_string()))?,
        None => default_port,
    };
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(PeerError::Resolve)?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or(PeerError::NoAddress)
}

/// Splits `host[:port]`: `[v6]` and `[v6]:port` in brackets; a bare IPv6
/// address (more than one colon) has no port.
fn split(text: &str) -> (&str, Option<&str>) {
    if let Some(rest) = text.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        return (host, after.strip_prefix(':'));
    }
    match text.split_once(':') {
        Some((host, port)) if !port.contains(':') => (host, Some(port)),
        _ => (text, None),
    }
}

/// The path of the file in `dir`.
fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The addresses remembered in `dir`; none when there is no file. Lines
/// that are not an address are skipped with a warning; `#` starts a
/// comment.
pub(crate) fn load(dir: &Path) -> Vec<SocketAddr> {
    let path = path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(err) => {
            tracing::warn!(path = %path.display(), cause = %err, "could not read the remembered peers");
            return Vec::new();
        }
    };
    parse(&text, &path)
}

fn parse(text: &str, path: &Path) -> Vec<SocketAddr> {
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                return None;
            }
            match line.parse() {
                Ok(addr) => Some(addr),
                Err(_) => {
                    tracing::warn!(path = %path.display(), line = n + 1, text = line, "skipping a line that is not ip:port");
                    None
                }
            }
        })
        .collect()
}

/// Remembers `addrs` in `dir` (written aside, then renamed over the old
/// file, so a crash never leaves half a list).
pub(super) fn save(dir: &Path, addrs: &[SocketAddr]) -> io::Result<()> {
    let path = path(dir);
    let aside = dir.join(format!("{FILE}.tmp"));
    let mut text = String::from(HEADER);
    for addr in addrs {
        text.push_str(&addr.to_string());
        text.push('\n');
    }
    {
        let mut file = std::fs::File::create(&aside)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&aside, &path)
}

/// `first` then `second`, each address once, in order.
pub(super) fn merge(first: &[SocketAddr], second: &[SocketAddr]) -> Vec<SocketAddr> {
    let mut all: Vec<SocketAddr> = Vec::with_capacity(first.len() + second.len());
    for addr in first.iter().chain(second) {
        if !all.contains(addr) {
            all.push(*addr);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn peer_values_take_the_group_port_when_they_name_none() {
        let given: Vec<String> = [
            "10.0.0.5",
            "10.0.0.6:5000",
            "[fd00::7]:5001",
            "fd00::8",
            "[fd00::9]",
            "localhost",
            "10.0.0.5:notaport",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            resolve(&given, 47077),
            [
                addr("10.0.0.5:47077"),
                addr("10.0.0.6:5000"),
                addr("[fd00::7]:5001"),
                addr("[fd00::8]:47077"),
                addr("[fd00::9]:47077"),
                addr("127.0.0.1:47077"),
            ]
        );
    }

    #[test]
    fn the_file_keeps_addresses_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).is_empty(), "no file, no peers");
        let list = [addr("10.0.0.5:47077"), addr("[fe80::1%2]:47078")];
        save(dir.path(), &list).unwrap();
        assert_eq!(load(dir.path()), list);
        std::fs::write(
            path(dir.path()),
            "# mine\n10.0.0.5:47077  # the printer room\n\nnot an address\n10.0.0.9\n[fd00::1]:9\n",
        )
        .unwrap();
        assert_eq!(
            load(dir.path()),
            [addr("10.0.0.5:47077"), addr("[fd00::1]:9")]
        );
    }

    #[test]
    fn merging_keeps_the_first_of_each() {
        let a = [addr("10.0.0.1:1"), addr("10.0.0.2:2")];
        let b = [addr("10.0.0.2:2"), addr("10.0.0.3:3"), addr("10.0.0.3:3")];
        assert_eq!(
            merge(&a, &b),
            [addr("10.0.0.1:1"), addr("10.0.0.2:2"), addr("10.0.0.3:3")]
        );
    }
}
