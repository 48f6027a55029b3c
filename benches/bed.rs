//! A minimal LAN test bed for the benchmarks: a bridge in a "switch"
//! network namespace and N host namespaces, each on a veth pair with
//! address 10.77.0.(i+1)/24 (IPv6 off, so nothing but our traffic is on the
//! wire). Everything is named `lcb-<pid>-…` and deleted on drop.
//!
//! Nothing here ever runs in the root namespace: code that opens sockets
//! runs through [`Bed::enter`] on a thread inside a host namespace.

use std::fs::File;
use std::net::Ipv4Addr;
use std::process::Command;

/// Frames and bytes an interface sent (Ethernet header included).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counters {
    pub(crate) tx_bytes: u64,
    pub(crate) tx_packets: u64,
}

/// The switch and its hosts.
pub(crate) struct Bed {
    prefix: String,
    hosts: usize,
}

impl Bed {
    /// Builds a LAN of `hosts` hosts, or says why it cannot (not root, no
    /// `ip`).
    pub(crate) fn new(hosts: usize) -> Result<Bed, String> {
        assert!(hosts < 250, "one /24");
        let bed = Bed {
            prefix: format!("lcb-{}", std::process::id()),
            hosts: 0,
        };
        let sw = bed.switch();
        ip(&["netns", "add", &sw])?;
        let mut bed = bed;
        let mut batch =
            format!("link set lo up\nlink add br0 type bridge mcast_snooping 0\nlink set br0 up\n");
        run(
            "ip",
            &[
                "netns",
                "exec",
                &sw,
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
            ],
        )?;
        for i in 0..hosts {
            let host = bed.host(i);
            ip(&["netns", "add", &host])?;
            bed.hosts = i + 1;
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    &host,
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.all.disable_ipv6=1",
                ],
            )?;
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    &host,
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.default.disable_ipv6=1",
                ],
            )?;
            batch.push_str(&format!(
                "link add p{i} type veth peer name eth0 netns {host}\nlink set p{i} master br0 up\n"
            ));
        }
        batch_ip(&sw, &batch)?;
        for i in 0..hosts {
            let addr = Bed::addr(i);
            batch_ip(
                &bed.host(i),
                &format!("link set lo up\naddr add {addr}/24 brd + dev eth0\nlink set eth0 up\n"),
            )?;
        }
        Ok(bed)
    }

    fn switch(&self) -> String {
        format!("{}-sw", self.prefix)
    }

    fn host(&self, i: usize) -> String {
        format!("{}-h{i}", self.prefix)
    }

    /// Host `i`'s address.
    pub(crate) fn addr(i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, 0, (i + 1) as u8)
    }

    /// Runs `f` on a thread inside host `i`'s namespace; sockets (and
    /// threads) it creates live there.
    pub(crate) fn enter<T: Send>(&self, i: usize, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/var/run/netns/{}", self.host(i));
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = File::open(&path).expect("open the namespace");
                nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                    .expect("enter the namespace");
                f()
            })
            .join()
            .expect("namespace thread")
        })
    }

    /// What host `i` has sent on its LAN interface so far.
    pub(crate) fn counters(&self, i: usize) -> Counters {
        let host = self.host(i);
        let read = |what: &str| -> u64 {
            let out = Command::new("ip")
                .args(["netns", "exec", &host, "cat"])
                .arg(format!("/sys/class/net/eth0/statistics/{what}"))
                .output()
                .expect("read a counter");
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("a counter")
        };
        Counters {
            tx_bytes: read("tx_bytes"),
            tx_packets: read("tx_packets"),
        }
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        for i in 0..self.hosts {
            let _ = ip(&["netns", "del", &self.host(i)]);
        }
        let _ = ip(&["netns", "del", &self.switch()]);
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    run("ip", args)
}

fn batch_ip(ns: &str, batch: &str) -> Result<(), String> {
    let path = std::env::temp_dir().join(format!("{ns}.batch"));
    std::fs::write(&path, batch).map_err(|e| e.to_string())?;
    let path_str = path.to_string_lossy().into_owned();
    let result = run("ip", &["-n", ns, "-batch", &path_str]);
    let _ = std::fs::remove_file(&path);
    result
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    match Command::new(program).args(args).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(err) => Err(format!("`{program}` could not run: {err}")),
    }
}
