//! A real (virtual) LAN per test: a Linux bridge in its own "switch"
//! network namespace and N host namespaces plugged into it by veth pairs,
//! each host like an office PC (`eth0` with `10.77.0.(i+1)/24`, `lo` up, a
//! default route via the bridge's `10.77.0.254`). Faults are injected with
//! nftables inside a host (loss, blocked multicast or broadcast) or on the
//! switch (a pulled cable). Nothing here touches the root namespace's
//! interfaces; everything is deleted on drop, also when a test panics, and
//! a new bed first sweeps what a killed test run left behind.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::util::{Peer, enter_netns, run};

/// The multicast group lanchat uses by default.
pub(crate) const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 77, 77);
/// The UDP port lanchat uses by default.
pub(crate) const PORT: u16 = 47077;
/// The bridge's address, every host's default gateway.
pub(crate) const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 254);
/// The LAN's broadcast address.
pub(crate) const BROADCAST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 255);
/// Most hosts one bed holds (addresses 10.77.0.1 to .253).
pub(crate) const MAX_HOSTS: usize = 253;

/// Every bed's names start with this, then the owning process id.
const PREFIX: &str = "lct";
/// The nftables table a host's faults live in.
const TABLE: &str = "inet lct";

static NEXT_LAN: AtomicUsize = AtomicUsize::new(0);

/// Bytes and packets through a host's `eth0`, as the kernel counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Bytes received.
    pub(crate) rx_bytes: u64,
    /// Packets received.
    pub(crate) rx_packets: u64,
    /// Bytes sent.
    pub(crate) tx_bytes: u64,
    /// Packets sent.
    pub(crate) tx_packets: u64,
}

impl std::ops::Sub for Counters {
    type Output = Counters;

    fn sub(self, earlier: Counters) -> Counters {
        Counters {
            rx_bytes: self.rx_bytes.saturating_sub(earlier.rx_bytes),
            rx_packets: self.rx_packets.saturating_sub(earlier.rx_packets),
            tx_bytes: self.tx_bytes.saturating_sub(earlier.tx_bytes),
            tx_packets: self.tx_packets.saturating_sub(earlier.tx_packets),
        }
    }
}

/// A switch and `hosts` hosts; all deleted on drop.
pub(crate) struct Lan {
    /// `lct-<pid>-<n>`: this bed's names start with it.
    name: String,
    /// Hosts made so far (all of them once `new` returns).
    hosts: usize,
    /// Whether the switch namespace exists.
    switch: bool,
}

impl Lan {
    /// Builds the LAN, or returns `None` (after printing `SKIPPED: …`) when
    /// this machine cannot: not root, or no `ip` or `nft`. With
    /// `LANCHAT_REQUIRE_NETNS=1` that is a failure instead.
    pub(crate) fn new(hosts: usize) -> Option<Lan> {
        assert!(
            (1..=MAX_HOSTS).contains(&hosts),
            "a bed holds 1 to {MAX_HOSTS} hosts"
        );
        if let Err(why) = usable() {
            let required = std::env::var("LANCHAT_REQUIRE_NETNS").is_ok_and(|v| v == "1");
            assert!(!required, "LANCHAT_REQUIRE_NETNS=1 but {why}");
            eprintln!("SKIPPED: {why} (LAN tests need root, iproute2 and nftables)");
            return None;
        }
        sweep_stale();
        let mut lan = Lan {
            name: format!(
                "{PREFIX}-{}-{}",
                std::process::id(),
                NEXT_LAN.fetch_add(1, Ordering::Relaxed)
            ),
            hosts: 0,
            switch: false,
        };
        let sw = lan.switch_ns();
        must(run("ip", &["netns", "add", &sw]));
        lan.switch = true;
        for cmd in [
            "link set lo up",
            "link add br0 type bridge mcast_snooping 0",
            &format!("addr add {GATEWAY}/24 brd + dev br0"),
            "link set br0 up",
        ] {
            lan.ip_in(&sw, cmd);
        }
        for i in 0..hosts {
            let host = lan.host(i);
            must(run("ip", &["netns", "add", &host]));
            lan.hosts = i + 1;
            // No IPv6 chatter (router solicitations, MLD) in the counters.
            must(run(
                "ip",
                &[
                    "netns",
                    "exec",
                    &host,
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1",
                ],
            ));
            lan.ip_in(
                &sw,
                &format!("link add v{i} type veth peer name eth0 netns {host}"),
            );
            lan.ip_in(&sw, &format!("link set v{i} master br0 up"));
            for cmd in [
                "link set lo up",
                &format!("addr add {}/24 brd + dev eth0", Lan::addr(i)),
                "link set eth0 up",
                &format!("route add default via {GATEWAY}"),
            ] {
                lan.ip_in(&host, cmd);
            }
        }
        Some(lan)
    }

    /// How many hosts the LAN has.
    pub(crate) fn hosts(&self) -> usize {
        self.hosts
    }

    /// The network namespace of host `i` (for `ip netns exec`).
    pub(crate) fn host(&self, i: usize) -> String {
        format!("{}-h{i}", self.name)
    }

    /// The address of host `i`: `10.77.0.(i+1)`.
    pub(crate) fn addr(i: usize) -> Ipv4Addr {
        let last = u8::try_from(i + 1).expect("host index below 253");
        Ipv4Addr::new(10, 77, 0, last)
    }

    /// Starts `lanchat headless --json --nick <nick>` in host `i`.
    pub(crate) fn spawn(&self, i: usize, nick: &str) -> Peer {
        self.spawn_with(i, nick, &[])
    }

    /// Like [`Lan::spawn`], with `extra` command-line arguments.
    pub(crate) fn spawn_with(&self, i: usize, nick: &str, extra: &[&str]) -> Peer {
        self.check(i);
        Peer::spawn_in(&self.host(i), nick, extra)
    }

    /// Runs `f` on a thread inside host `i`: sockets it opens are that
    /// host's (a hostile host, a capture, a raw sender).
    pub(crate) fn enter<T: Send>(&self, i: usize, f: impl FnOnce() -> T + Send) -> T {
        self.check(i);
        enter_netns(&self.host(i), f)
    }

    /// Host `i` drops `percent` % of the UDP datagrams it receives, at
    /// random; replaces an earlier loss setting (0 ends it).
    pub(crate) fn loss(&self, i: usize, percent: u8) {
        let mut script = self.base_chains();
        script.push_str(&format!(
            "add chain {TABLE} loss {{ type filter hook input priority 0; }}\nflush chain {TABLE} loss\n"
        ));
        if percent > 0 {
            script.push_str(&format!(
                "add rule {TABLE} loss meta l4proto udp numgen random mod 100 < {percent} drop\n"
            ));
        }
        self.nft(i, &script);
    }

    /// Host `i` neither sends nor receives multicast (a multicast-hostile
    /// switch or firewall).
    pub(crate) fn block_multicast(&self, i: usize) {
        let mut script = self.base_chains();
        for chain in ["block_in", "block_out"] {
            script.push_str(&format!(
                "add rule {TABLE} {chain} ip daddr 224.0.0.0/4 drop\n"
            ));
        }
        self.nft(i, &script);
    }

    /// Host `i` neither sends nor receives broadcast (an access point that
    /// drops it).
    pub(crate) fn block_broadcast(&self, i: usize) {
        let mut script = self.base_chains();
        script.push_str(&format!(
            "add rule {TABLE} block_in meta pkttype broadcast drop\n"
        ));
        for chain in ["block_in", "block_out"] {
            script.push_str(&format!(
                "add rule {TABLE} {chain} ip daddr {{ {BROADCAST}, 255.255.255.255 }} drop\n"
            ));
        }
        self.nft(i, &script);
    }

    /// Removes every fault of host `i` (loss and blocks; not the cable).
    pub(crate) fn clear_faults(&self, i: usize) {
        self.nft(i, &format!("add table {TABLE}\ndelete table {TABLE}\n"));
    }

    /// Plugs host `i`'s cable in or pulls it (its switch port up or down).
    pub(crate) fn cable(&self, i: usize, up: bool) {
        self.check(i);
        let state = if up { "up" } else { "down" };
        self.ip_in(&self.switch_ns(), &format!("link set v{i} {state}"));
    }

    /// What went through host `i`'s `eth0` so far.
    pub(crate) fn counters(&self, i: usize) -> Counters {
        self.check(i);
        let out = Command::new("ip")
            .args(["-n", &self.host(i), "-s", "-j", "link", "show", "eth0"])
            .output()
            .expect("run ip");
        assert!(out.status.success(), "ip -s link show eth0 failed");
        let json: Value = serde_json::from_slice(&out.stdout).expect("ip -j output");
        let stats = &json[0]["stats64"];
        let n = |dir: &str, what: &str| {
            stats[dir][what]
                .as_u64()
                .unwrap_or_else(|| panic!("no {dir} {what} in {stats}"))
        };
        Counters {
            rx_bytes: n("rx", "bytes"),
            rx_packets: n("rx", "packets"),
            tx_bytes: n("tx", "bytes"),
            tx_packets: n("tx", "packets"),
        }
    }

    fn switch_ns(&self) -> String {
        format!("{}-sw", self.name)
    }

    fn check(&self, i: usize) {
        assert!(i < self.hosts, "host {i} of a {}-host LAN", self.hosts);
    }

    fn ip_in(&self, netns: &str, cmd: &str) {
        let mut args = vec!["-n", netns];
        args.extend(cmd.split_whitespace());
        must(run("ip", &args));
    }

    /// The table and the chains faults go in (adding is idempotent).
    fn base_chains(&self) -> String {
        format!(
            "add table {TABLE}\n\
             add chain {TABLE} block_in {{ type filter hook input priority -10; }}\n\
             add chain {TABLE} block_out {{ type filter hook output priority -10; }}\n"
        )
    }

    fn nft(&self, i: usize, script: &str) {
        self.check(i);
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.host(i), "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run nft");
        child
            .stdin
            .take()
            .expect("nft stdin")
            .write_all(script.as_bytes())
            .expect("write the nft script");
        let out = child.wait_with_output().expect("wait for nft");
        assert!(
            out.status.success(),
            "nft in host {i} failed: {}\nscript:\n{script}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        let mut names: Vec<String> = (0..self.hosts).map(|i| self.host(i)).collect();
        if self.switch {
            names.push(self.switch_ns());
        }
        for name in names {
            delete_netns(&name);
        }
    }
}

fn must(result: Result<(), String>) {
    if let Err(why) = result {
        panic!("building the LAN: {why}");
    }
}

/// Why this machine cannot build a bed, if it cannot.
fn usable() -> Result<(), String> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    if !root {
        return Err("not running as root".into());
    }
    for (tool, arg, package) in [("ip", "-V", "iproute2"), ("nft", "-v", "nftables")] {
        if !Command::new(tool)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Err(format!("the `{tool}` command ({package}) is missing"));
        }
    }
    Ok(())
}

/// Kills what still runs in a namespace, then deletes it (its veths go
/// with it).
fn delete_netns(name: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", name]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
    if let Err(why) = run("ip", &["netns", "del", name]) {
        eprintln!("warning: {why}");
    }
}

/// Deletes the beds of test runs that died without dropping them (Ctrl-C):
/// `lct-<pid>-…` namespaces whose process is gone.
fn sweep_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("removing {name}, left by a test run that died");
            delete_netns(name);
        }
    }
}
