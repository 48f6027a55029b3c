//! A real (virtual) LAN per test: Linux bridges in their own "switch"
//! network namespace and N host namespaces plugged into them by veth pairs,
//! each host like an office PC (`eth0` with `10.77.0.(i+1)/24`, `lo` up, a
//! default route via the bridge's `10.77.0.254`). [`Lan::new`] builds that
//! one-switch office; [`Lan::build`] builds any [`Topology`]: several
//! segments (bridge `br<k>`, subnet `10.77.<k>.0/24` and/or
//! `fd77:0:0:<k>::/64`, host interface `eth<k>`), hosts on one or more of
//! them, and optionally a router between the IPv4 subnets that, like an
//! ordinary one, forwards neither multicast nor broadcast. Faults are
//! injected with nftables inside a host (loss, blocked multicast or
//! broadcast, an inbound firewall) or on the switch (a pulled cable).
//! Nothing here touches the root namespace's interfaces; everything is
//! deleted on drop, also when a test panics, and a new bed first sweeps
//! what a killed test run left behind.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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
/// Most segments one bed holds (subnets 10.77.0.0/24 to 10.77.255.0/24).
pub(crate) const MAX_SEGMENTS: usize = 256;

/// Every bed's names start with this, then the owning process id.
const PREFIX: &str = "lct";
/// The nftables table a host's faults live in.
const TABLE: &str = "inet lct";

static NEXT_LAN: AtomicUsize = AtomicUsize::new(0);

/// Bytes and packets through a host's interface, as the kernel counts them.
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

/// UDP datagrams a host sent, by the way they went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ways {
    /// To a multicast group.
    pub(crate) multicast: u64,
    /// To a subnet's broadcast address.
    pub(crate) broadcast: u64,
    /// To one host.
    pub(crate) unicast: u64,
}

impl std::ops::Sub for Ways {
    type Output = Ways;

    fn sub(self, earlier: Ways) -> Ways {
        Ways {
            multicast: self.multicast.saturating_sub(earlier.multicast),
            broadcast: self.broadcast.saturating_sub(earlier.broadcast),
            unicast: self.unicast.saturating_sub(earlier.unicast),
        }
    }
}

impl std::ops::Add for Ways {
    type Output = Ways;

    fn add(self, other: Ways) -> Ways {
        Ways {
            multicast: self.multicast + other.multicast,
            broadcast: self.broadcast + other.broadcast,
            unicast: self.unicast + other.unicast,
        }
    }
}

/// One bridge (a switch, or a segment of one): its own subnet. Segment `k`
/// is bridge `br<k>` in the switch namespace, with `10.77.<k>.254/24` when
/// it carries IPv4 and `fd77:0:0:<k>::fe/64` when it carries IPv6; a host's
/// port on it is that host's `eth<k>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Hosts on it get `10.77.<k>.(i+1)/24` (and a default route via the
    /// first IPv4 segment they are on).
    pub(crate) v4: bool,
    /// Hosts on it get IPv6: a link-local address and
    /// `fd77:0:0:<k>::(i+1)/64`.
    pub(crate) v6: bool,
}

impl Segment {
    /// An IPv4 segment (an ordinary office switch).
    pub(crate) const V4: Segment = Segment {
        v4: true,
        v6: false,
    };
    /// An IPv6-only segment.
    pub(crate) const V6: Segment = Segment {
        v4: false,
        v6: true,
    };
}

/// Which segments exist, which segments each host is plugged into, and
/// whether the switch namespace routes IPv4 between segments (a router
/// that does not forward multicast or broadcast: two subnets in one
/// office).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Topology {
    /// The segments, segment `k` at index `k`.
    pub(crate) segments: Vec<Segment>,
    /// For host `i`, the segments it is plugged into; the first IPv4 one
    /// holds its default gateway.
    pub(crate) hosts: Vec<Vec<usize>>,
    /// Whether IPv4 unicast is forwarded between segments.
    pub(crate) routed: bool,
    /// Whether the bridges snoop multicast (IGMP): on is what `ip link add
    /// … type bridge` gives; the beds turn it off unless asked, so every
    /// port sees every group datagram at once.
    pub(crate) snooping: bool,
}

impl Topology {
    /// One IPv4 switch with `hosts` hosts on it: the office [`Lan::new`]
    /// builds.
    pub(crate) fn switch(hosts: usize) -> Topology {
        Topology {
            segments: vec![Segment {
                v4: true,
                v6: false,
            }],
            hosts: vec![vec![0]; hosts],
            routed: false,
            snooping: false,
        }
    }

    /// Like [`Topology::switch`], on a bridge as `ip link add … type
    /// bridge` makes it (multicast snooping on).
    pub(crate) fn default_bridge(hosts: usize) -> Topology {
        Topology {
            snooping: true,
            ..Topology::switch(hosts)
        }
    }

    /// Whether any segment carries IPv6.
    fn v6(&self) -> bool {
        self.segments.iter().any(|s| s.v6)
    }

    /// Panics with a message unless the topology fits in a bed.
    fn check(&self) {
        assert!(
            (1..=MAX_HOSTS).contains(&self.hosts.len()),
            "a bed holds 1 to {MAX_HOSTS} hosts"
        );
        assert!(
            (1..=MAX_SEGMENTS).contains(&self.segments.len()),
            "a bed holds 1 to {MAX_SEGMENTS} segments"
        );
        for (i, on) in self.hosts.iter().enumerate() {
            for (n, &k) in on.iter().enumerate() {
                assert!(
                    k < self.segments.len(),
                    "host {i} on segment {k} of {}",
                    self.segments.len()
                );
                assert!(!on[..n].contains(&k), "host {i} twice on segment {k}");
            }
        }
    }
}

/// Switches and hosts as a [`Topology`] says; all deleted on drop.
pub(crate) struct Lan {
    /// `lct-<pid>-<n>`: this bed's names start with it.
    name: String,
    /// What the bed is built as.
    topology: Topology,
    /// Hosts made so far (all of them once `build` returns).
    hosts: usize,
    /// Whether the switch namespace exists.
    switch: bool,
}

impl Lan {
    /// Builds the one-switch LAN of `hosts` hosts (`10.77.0.(i+1)` on
    /// `eth0`, IPv6 off), or returns `None` (after printing `SKIPPED: …`)
    /// when this machine cannot: not root, or no `ip` or `nft`. With
    /// `LANCHAT_REQUIRE_NETNS=1` that is a failure instead.
    pub(crate) fn new(hosts: usize) -> Option<Lan> {
        Lan::build(&Topology::switch(hosts))
    }

    /// Builds the LAN `topology` describes, or returns `None` like
    /// [`Lan::new`] (also when it needs IPv6 and the kernel has none).
    ///
    /// IPv6 is off in a host on no IPv6 segment and on every interface
    /// that is not on one (no router solicitations or MLD in the
    /// counters); where it is on, duplicate address detection is off, so
    /// addresses, link-local ones too, are usable at once. Reverse-path
    /// filtering is off everywhere, whatever this machine's own setting, so
    /// a host on two segments takes a routed datagram on either.
    pub(crate) fn build(topology: &Topology) -> Option<Lan> {
        topology.check();
        if let Err(why) = usable(topology.v6()) {
            let required = std::env::var("LANCHAT_REQUIRE_NETNS").is_ok_and(|v| v == "1");
            assert!(!required, "LANCHAT_REQUIRE_NETNS=1 but {why}");
            eprintln!("SKIPPED: {why} (LAN tests need root, iproute2 and nftables)");
            return None;
        }
        sweep_stale();
        neighbour_room(topology.hosts.len());
        let ipv6 = kernel_has_ipv6();
        let mut lan = Lan {
            name: format!(
                "{PREFIX}-{}-{}",
                std::process::id(),
                NEXT_LAN.fetch_add(1, Ordering::Relaxed)
            ),
            topology: topology.clone(),
            hosts: 0,
            switch: false,
        };
        let sw = lan.switch_ns();
        must(run("ip", &["netns", "add", &sw]));
        lan.switch = true;
        let forward = u8::from(topology.routed);
        // Set explicitly: a new namespace inherits IPv4 settings such as
        // forwarding and reverse-path filtering from the root namespace.
        let mut settings = vec![
            format!("net.ipv4.ip_forward={forward}"),
            "net.ipv4.conf.all.rp_filter=0".to_string(),
            "net.ipv4.conf.default.rp_filter=0".to_string(),
        ];
        if ipv6 {
            // IPv6 only on the bridges of IPv6 segments: the ports need
            // none to carry it, and would chatter into the hosts' counters.
            settings.extend(ipv6_off(true));
        }
        lan.sysctl(&sw, &settings);
        lan.ip_in(&sw, "link set lo up");
        for (k, segment) in topology.segments.iter().enumerate() {
            let snooping = u8::from(topology.snooping);
            lan.ip_in(
                &sw,
                &format!("link add br{k} type bridge mcast_snooping {snooping}"),
            );
            if segment.v4 {
                lan.ip_in(
                    &sw,
                    &format!("addr add {}/24 brd + dev br{k}", Lan::gateway_on(k)),
                );
            }
            if segment.v6 {
                lan.sysctl(&sw, &[format!("net.ipv6.conf.br{k}.disable_ipv6=0")]);
                lan.ip_in(
                    &sw,
                    &format!("addr add {}/64 nodad dev br{k}", Lan::gateway6_on(k)),
                );
            }
            lan.ip_in(&sw, &format!("link set br{k} up"));
        }
        let mut link_locals = Vec::new();
        for (i, on) in topology.hosts.iter().enumerate() {
            let host = lan.host(i);
            must(run("ip", &["netns", "add", &host]));
            lan.hosts = i + 1;
            let v6 = on.iter().any(|&k| topology.segments[k].v6);
            let mut settings = vec![
                "net.ipv4.conf.all.rp_filter=0".to_string(),
                "net.ipv4.conf.default.rp_filter=0".to_string(),
            ];
            if ipv6 {
                // Before any interface exists: they take the defaults.
                settings.extend(ipv6_off(!v6));
            }
            lan.sysctl(&host, &settings);
            lan.ip_in(&host, "link set lo up");
            for &k in on {
                let segment = topology.segments[k];
                let port = Lan::port(i, k);
                lan.ip_in(
                    &sw,
                    &format!("link add {port} type veth peer name eth{k} netns {host}"),
                );
                lan.ip_in(&sw, &format!("link set {port} master br{k} up"));
                if segment.v4 {
                    lan.ip_in(
                        &host,
                        &format!("addr add {}/24 brd + dev eth{k}", Lan::addr_on(i, k)),
                    );
                }
                if segment.v6 {
                    lan.sysctl(&host, &[format!("net.ipv6.conf.eth{k}.disable_ipv6=0")]);
                    lan.ip_in(
                        &host,
                        &format!("addr add {}/64 nodad dev eth{k}", Lan::addr6_on(i, k)),
                    );
                    link_locals.push((i, k));
                }
                lan.ip_in(&host, &format!("link set eth{k} up"));
            }
            if let Some(&k) = on.iter().find(|&&k| topology.segments[k].v4) {
                lan.ip_in(
                    &host,
                    &format!("route add default via {}", Lan::gateway_on(k)),
                );
            }
        }
        for (i, k) in link_locals {
            lan.await_link_local(i, k);
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

    /// The address of host `i` on segment 0: `10.77.0.(i+1)`.
    pub(crate) fn addr(i: usize) -> Ipv4Addr {
        Lan::addr_on(i, 0)
    }

    /// The IPv4 address of host `i` on `segment`: `10.77.<segment>.(i+1)`.
    pub(crate) fn addr_on(i: usize, segment: usize) -> Ipv4Addr {
        let last = u8::try_from(i + 1).expect("host index below 253");
        Ipv4Addr::new(10, 77, Lan::third(segment), last)
    }

    /// The IPv6 address of host `i` on `segment`:
    /// `fd77:0:0:<segment>::(i+1)` (groups in hex, as IPv6 writes them).
    pub(crate) fn addr6_on(i: usize, segment: usize) -> Ipv6Addr {
        let last = u16::try_from(i + 1).expect("host index below 253");
        Ipv6Addr::new(0xfd77, 0, 0, Lan::group(segment), 0, 0, 0, last)
    }

    /// The bridge's IPv4 address on `segment`, its hosts' gateway:
    /// `10.77.<segment>.254`.
    pub(crate) fn gateway_on(segment: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, Lan::third(segment), 254)
    }

    /// The bridge's IPv6 address on `segment`: `fd77:0:0:<segment>::fe`.
    pub(crate) fn gateway6_on(segment: usize) -> Ipv6Addr {
        Ipv6Addr::new(0xfd77, 0, 0, Lan::group(segment), 0, 0, 0, 0xfe)
    }

    /// The broadcast address of `segment`: `10.77.<segment>.255`.
    pub(crate) fn broadcast_on(segment: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, Lan::third(segment), 255)
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

    /// Starts `program` (another build of lanchat) as `lanchat headless
    /// --json --nick <nick>` in host `i`, with its data in `data`.
    pub(crate) fn spawn_program(
        &self,
        i: usize,
        program: &std::path::Path,
        nick: &str,
        data: &std::path::Path,
    ) -> Peer {
        self.check(i);
        Peer::spawn_program(program, &self.host(i), nick, Some(data), &[], &[])
    }

    /// Runs `f` on a thread inside host `i`: sockets it opens are that
    /// host's (a hostile host, a capture, a raw sender).
    pub(crate) fn enter<T: Send>(&self, i: usize, f: impl FnOnce() -> T + Send) -> T {
        self.check(i);
        enter_netns(&self.host(i), f)
    }

    /// The interface index of `iface` in host `i` (for IPv6 scope ids and
    /// multicast interfaces).
    pub(crate) fn ifindex(&self, i: usize, iface: &str) -> u32 {
        let json = self.link(i, iface, &[]);
        let index = json[0]["ifindex"]
            .as_u64()
            .unwrap_or_else(|| panic!("no ifindex for {iface} of host {i} in {json}"));
        u32::try_from(index).expect("an interface index fits in 32 bits")
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

    /// Host `i` sends at most `mbit` Mbit/s on its `eth0` (a token bucket,
    /// `tc tbf`): a transfer slow enough to be caught in the middle.
    pub(crate) fn rate(&self, i: usize, mbit: u32) {
        self.check(i);
        let host = self.host(i);
        let rate = format!("{mbit}mbit");
        let args = [
            "netns", "exec", &host, "tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate",
            &rate, "burst", "256kb", "latency", "50ms",
        ];
        must(run("ip", &args));
    }

    /// Host `i` neither sends nor receives multicast (a multicast-hostile
    /// switch or firewall): no IPv4 multicast at all, and no UDP to IPv6
    /// multicast groups (neighbour discovery still works).
    pub(crate) fn block_multicast(&self, i: usize) {
        let mut script = self.base_chains();
        for chain in ["block_in", "block_out"] {
            script.push_str(&format!(
                "add rule {TABLE} {chain} ip daddr 224.0.0.0/4 drop\n\
                 add rule {TABLE} {chain} meta l4proto udp ip6 daddr ff00::/8 drop\n"
            ));
        }
        self.nft(i, &script);
    }

    /// Host `i` neither sends nor receives broadcast (an access point that
    /// drops it), on any segment: no link-layer broadcast in, and nothing
    /// to 255.255.255.255 or to a `10.77.<k>.255` either way.
    pub(crate) fn block_broadcast(&self, i: usize) {
        let mut script = self.base_chains();
        script.push_str(&format!(
            "add rule {TABLE} block_in meta pkttype broadcast drop\n"
        ));
        for chain in ["block_in", "block_out"] {
            script.push_str(&format!(
                "add rule {TABLE} {chain} ip daddr 255.255.255.255 drop\n\
                 add rule {TABLE} {chain} ip daddr 10.77.0.0/16 ip daddr & 0.0.0.255 == 0.0.0.255 drop\n"
            ));
        }
        self.nft(i, &script);
    }

    /// Host `i` gets an ordinary inbound firewall: it takes what comes on
    /// `lo` and replies to what it sent (connection tracking), and drops
    /// every other UDP datagram; what it sends is untouched.
    pub(crate) fn block_inbound(&self, i: usize) {
        let mut script = self.base_chains();
        script.push_str(&format!(
            "add chain {TABLE} inbound {{ type filter hook input priority 10; }}\n\
             flush chain {TABLE} inbound\n\
             add rule {TABLE} inbound iif lo accept\n\
             add rule {TABLE} inbound ct state established,related accept\n\
             add rule {TABLE} inbound meta l4proto udp drop\n"
        ));
        self.nft(i, &script);
    }

    /// Removes every fault of host `i` (loss, blocks and the inbound
    /// firewall; not the cables).
    pub(crate) fn clear_faults(&self, i: usize) {
        self.nft(i, &format!("add table {TABLE}\ndelete table {TABLE}\n"));
    }

    /// Plugs host `i`'s cable on segment 0 in or pulls it (its switch port
    /// up or down).
    pub(crate) fn cable(&self, i: usize, up: bool) {
        self.cable_on(i, 0, up);
    }

    /// Plugs host `i`'s cable on `segment` in or pulls it (its port on that
    /// segment's bridge up or down).
    pub(crate) fn cable_on(&self, i: usize, segment: usize, up: bool) {
        self.check(i);
        assert!(
            self.topology.hosts[i].contains(&segment),
            "host {i} is not on segment {segment}"
        );
        let state = if up { "up" } else { "down" };
        self.ip_in(
            &self.switch_ns(),
            &format!("link set {} {state}", Lan::port(i, segment)),
        );
    }

    /// Starts counting the UDP datagrams host `i` sends, by the way they
    /// go (read with [`Lan::ways`]).
    pub(crate) fn count_ways(&self, i: usize) {
        let mut script = format!(
            "add table {TABLE}\n\
             add chain {TABLE} ways {{ type filter hook output priority 20; }}\n\
             flush chain {TABLE} ways\n"
        );
        for (way, rule) in [
            ("multicast", "ip daddr 224.0.0.0/4"),
            ("broadcast", "ip daddr & 0.0.0.255 == 0.0.0.255"),
            (
                "unicast",
                "ip daddr != 224.0.0.0/4 ip daddr & 0.0.0.255 != 0.0.0.255",
            ),
        ] {
            script.push_str(&format!(
                "add rule {TABLE} ways meta l4proto udp {rule} counter comment \"{way}\"\n"
            ));
        }
        self.nft(i, &script);
    }

    /// The UDP datagrams host `i` sent since [`Lan::count_ways`], by way.
    pub(crate) fn ways(&self, i: usize) -> Ways {
        self.check(i);
        let out = Command::new("ip")
            .args(["netns", "exec", &self.host(i), "nft", "-j", "list", "chain"])
            .args(TABLE.split_whitespace())
            .arg("ways")
            .output()
            .expect("run nft");
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let mut ways = Ways::default();
        for item in json["nftables"].as_array().into_iter().flatten() {
            let rule = &item["rule"];
            let Some(exprs) = rule["expr"].as_array() else {
                continue;
            };
            let packets = exprs
                .iter()
                .find_map(|e| e["counter"]["packets"].as_u64())
                .unwrap_or(0);
            match rule["comment"].as_str() {
                Some("multicast") => ways.multicast = packets,
                Some("broadcast") => ways.broadcast = packets,
                Some("unicast") => ways.unicast = packets,
                _ => {}
            }
        }
        ways
    }

    /// What went through host `i`'s `eth0` so far.
    pub(crate) fn counters(&self, i: usize) -> Counters {
        self.counters_on(i, "eth0")
    }

    /// What went through interface `iface` (`eth<k>`, `lo`) of host `i` so
    /// far.
    pub(crate) fn counters_on(&self, i: usize, iface: &str) -> Counters {
        let json = self.link(i, iface, &["-s"]);
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

    /// The switch-side end of host `i`'s cable on `segment`.
    fn port(i: usize, segment: usize) -> String {
        format!("v{i}s{segment}")
    }

    /// The third byte of `segment`'s IPv4 addresses.
    fn third(segment: usize) -> u8 {
        u8::try_from(segment).expect("segment index below 256")
    }

    /// The fourth group of `segment`'s IPv6 addresses.
    fn group(segment: usize) -> u16 {
        u16::from(Lan::third(segment))
    }

    fn check(&self, i: usize) {
        assert!(i < self.hosts, "host {i} of a {}-host LAN", self.hosts);
    }

    fn ip_in(&self, netns: &str, cmd: &str) {
        let mut args = vec!["-n", netns];
        args.extend(cmd.split_whitespace());
        must(run("ip", &args));
    }

    /// `ip -j [extra] link show <iface>` in host `i`, parsed.
    fn link(&self, i: usize, iface: &str, extra: &[&str]) -> Value {
        self.check(i);
        let host = self.host(i);
        let mut args = vec!["-n", &host, "-j"];
        args.extend_from_slice(extra);
        args.extend(["link", "show", iface]);
        let out = Command::new("ip").args(&args).output().expect("run ip");
        assert!(
            out.status.success(),
            "ip link show {iface} in host {i} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        serde_json::from_slice(&out.stdout).expect("ip -j output")
    }

    /// Sets kernel `settings` (`name=value`) in namespace `netns`.
    fn sysctl(&self, netns: &str, settings: &[String]) {
        let mut args = vec!["netns", "exec", netns, "sysctl", "-qw"];
        args.extend(settings.iter().map(String::as_str));
        must(run("ip", &args));
    }

    /// Waits until host `i`'s `eth<segment>` has a link-local IPv6 address
    /// that is not tentative (it comes with the carrier).
    fn await_link_local(&self, i: usize, segment: usize) {
        let iface = format!("eth{segment}");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let out = Command::new("ip")
                .args([
                    "-n",
                    &self.host(i),
                    "-6",
                    "-j",
                    "addr",
                    "show",
                    "dev",
                    &iface,
                ])
                .output()
                .expect("run ip");
            let json: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            let ready = json[0]["addr_info"].as_array().is_some_and(|addrs| {
                addrs
                    .iter()
                    .any(|a| a["scope"] == "link" && a["tentative"] != true)
            });
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "host {i}'s {iface} got no usable link-local address: {json}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
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

/// The IPv6 settings of a new namespace, before any interface but `lo`
/// exists: no duplicate address detection, and IPv6 off on every
/// interface made from now on (and on `lo` too when `off`).
fn ipv6_off(off: bool) -> Vec<String> {
    let all = u8::from(off);
    vec![
        "net.ipv6.conf.all.accept_dad=0".to_string(),
        "net.ipv6.conf.default.accept_dad=0".to_string(),
        // Writing `all` also sets `default`, so `default` comes after it.
        format!("net.ipv6.conf.all.disable_ipv6={all}"),
        "net.ipv6.conf.default.disable_ipv6=1".to_string(),
    ]
}

/// Whether the kernel has IPv6 (not booted with `ipv6.disable=1`).
fn kernel_has_ipv6() -> bool {
    std::path::Path::new("/proc/sys/net/ipv6").exists()
}

/// Why this machine cannot build a bed (one with IPv6 segments when `v6`),
/// if it cannot.
fn usable(v6: bool) -> Result<(), String> {
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
    if v6 && !kernel_has_ipv6() {
        return Err("the kernel has no IPv6".into());
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
/// Makes the kernel's neighbour (ARP and NDP) tables big enough for
/// `hosts` hosts that each talk to all the others.
///
/// Every network namespace shares one neighbour table per family, capped
/// by `gc_thresh3` (1,024 by default) over all of them, while each real
/// PC has a table of its own. Forty hosts that each hold an entry for
/// every other (and for the group and broadcast addresses) overflow the
/// shared one: the hosts that start last can create no entry at all, so
/// the kernel drops everything they send ("neighbor table overflow" in
/// the kernel log; `IpOutDiscards`). That looked like a collapse of
/// lanchat at 40 nodes; it was the bed. The limits are raised (never
/// lowered) to what `hosts` separate PCs would have between them.
fn neighbour_room(hosts: usize) {
    for family in ["ipv4", "ipv6"] {
        for (name, per_host) in [
            ("gc_thresh1", 128),
            ("gc_thresh2", 512),
            ("gc_thresh3", 1024),
        ] {
            let path = format!("/proc/sys/net/{family}/neigh/default/{name}");
            let Ok(now) = std::fs::read_to_string(&path) else {
                continue;
            };
            let want = hosts * per_host;
            if now.trim().parse::<usize>().is_ok_and(|now| now < want)
                && let Err(err) = std::fs::write(&path, want.to_string())
            {
                eprintln!("warning: could not raise {path} to {want}: {err}");
            }
        }
    }
}

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
