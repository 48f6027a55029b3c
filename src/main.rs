//! The `lanchat` binary: parses arguments, sets up logging to stderr, and
//! hands over to the library. Errors are printed with their causes.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lanchat::catchup::Share;
use lanchat::headless::{self, HeadlessOptions};
use lanchat::net::{DEFAULT_GROUP, DEFAULT_PORT, NetOptions, Retention};
use lanchat::ui::{self, AppOptions};

/// Serverless chat for an office or home network.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Mode>,
    #[command(flatten)]
    node: NodeArgs,
}

/// With no subcommand, the window opens.
#[derive(Subcommand, Debug)]
enum Mode {
    /// Commands on stdin, events on stdout (one a line).
    Headless {
        /// Print events as one JSON object a line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Listen to the network for a few seconds and say what is wrong: each
    /// interface, each peer, who does not hear us and which ports to open.
    /// Runs as a node of its own (shown for a moment as doctor-<host>); in
    /// a running lanchat, Help → Network or /doctor shows the same, live.
    Doctor {
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Args, Debug, Clone)]
struct NodeArgs {
    /// Nickname (default: your login name).
    #[arg(long, global = true)]
    nick: Option<String>,
    /// Directory holding this installation's identity.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// UDP port of the group.
    #[arg(long, global = true, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Multicast group (239.255.0.0/16 recommended).
    #[arg(long, global = true, default_value_t = DEFAULT_GROUP)]
    group: Ipv4Addr,
    /// Use only this interface (repeatable; default: every up one but
    /// loopback and virtual adapters of containers and VMs).
    #[arg(long = "iface", global = true, value_name = "NAME")]
    interfaces: Vec<String>,
    /// Never use this interface (repeatable).
    #[arg(long = "no-iface", global = true, value_name = "NAME")]
    exclude_interfaces: Vec<String>,
    /// Also reach a node by unicast at this address, for one the group
    /// does not reach: another subnet, or multicast and broadcast blocked
    /// (repeatable; PORT is the group port when not given).
    #[arg(long = "peer", global = true, value_name = "HOST[:PORT]")]
    peers: Vec<String>,
    /// Multicast TTL (IPv6: hop limit): 1 keeps group traffic on this
    /// network; more for networks whose routers pass multicast on.
    #[arg(long, global = true, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=255))]
    ttl: u32,
    /// Keep history for this many days (default: forever).
    #[arg(long, global = true, value_name = "DAYS")]
    keep_days: Option<u32>,
    /// Keep at most this many messages of history (default: all).
    #[arg(long, global = true, value_name = "N")]
    keep_messages: Option<u64>,
    /// When joining a channel I have no history of, ask its members for at
    /// most this many recent messages (0: none) [default: 200; the window's
    /// setting, once made, wins].
    #[arg(long, global = true, value_name = "N")]
    join_history: Option<usize>,
    /// ... and none older than this many days.
    #[arg(long, global = true, value_name = "DAYS", default_value_t = Share::default().max_age_days)]
    join_history_days: u64,
    /// Save received files here (default: your Downloads folder).
    #[arg(long, global = true, value_name = "DIR")]
    downloads: Option<PathBuf>,
    /// Accept every file offered without asking.
    #[arg(long, global = true)]
    auto_accept: bool,
    /// Workgroup passphrase: only nodes with the same one see each other,
    /// and all traffic is encrypted with it (also LANCHAT_WORKGROUP).
    #[arg(
        long,
        global = true,
        env = "LANCHAT_WORKGROUP",
        hide_env_values = true,
        value_name = "PASSPHRASE"
    )]
    workgroup: Option<String>,
}

impl NodeArgs {
    fn into_options(self) -> NetOptions {
        NetOptions {
            data_dir: self.data_dir,
            nick: self.nick,
            port: self.port,
            group: self.group,
            interfaces: self.interfaces,
            exclude_interfaces: self.exclude_interfaces,
            peers: self.peers,
            multicast_ttl: self.ttl,
            retention: Retention {
                max_age_days: self.keep_days,
                max_messages: self.keep_messages,
            },
            share: match self.join_history.unwrap_or(Share::default().max_messages) {
                0 => None,
                n => Some(Share {
                    max_messages: n,
                    max_age_days: self.join_history_days,
                }),
            },
            workgroup: self.workgroup.filter(|w| !w.is_empty()),
            files: lanchat::files::FileOptions {
                download_dir: self.downloads,
                auto_accept: self.auto_accept,
                ..Default::default()
            },
            ..NetOptions::default()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("lanchat: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Mode::Headless { json, node }) => {
            headless::run(HeadlessOptions {
                json,
                net: node.into_options(),
                policy_path: None,
            })?;
        }
        Some(Mode::Doctor { json, node }) => {
            headless::doctor(node.into_options(), json)?;
        }
        None => {
            let options = AppOptions {
                net: cli.node.into_options(),
                settings_path: None,
                desktop: true,
                policy_path: None,
            };
            ui::run(options).map_err(|err| {
                anyhow::anyhow!(
                    "could not open the window ({err}); without a display, use `lanchat headless`"
                )
            })?;
        }
    }
    Ok(())
}
