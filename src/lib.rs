//! lanchat: a serverless chat for one office or home network.
//!
//! ```text
//!  ui/ (egui)   headless (stdin/stdout)   tests, benches       clients
//!       \            |                      /
//!        `----- NodeHandle: api::Command in, api::Event out     app API
//!                    |   net/: the driver thread, sockets, timers
//!  store/  files/  doctor  identity                             services
//!                    |
//!  node: pure state machine, no I/O, time passed in              core
//!    protocol.rs (CoreCommand, CoreEvent)  discovery/  channels/  direct/
//!                    |
//!  wire.rs  envelope.rs  chain.rs                                 wire
//! ```
//!
//! ARCHITECTURE.md has the layer table that `tests/layers` enforces, where
//! each concept lives, and the threads with their shutdown.
//!
//! The core ([`node::Node`] and the modules under it) is sans-IO: it never
//! reads a clock, opens a socket or spawns a task. The driver in [`net`] feeds
//! it datagrams, commands and timeouts and carries out what it asks. That is
//! what lets `tests/` run hundreds of peers on a seeded lossy network in
//! virtual time.
//!
//! Beside the picture, [`desktop`] gives the window a tray icon,
//! notifications, the beep and start-at-login, each on its own worker
//! thread or child process, with no egui and no system `-dev` package.

pub mod api;
pub mod catchup;
pub mod chain;
pub mod channels;
pub(crate) mod deadlines;
pub mod desktop;
pub mod direct;
pub mod discovery;
pub mod doctor;
pub mod envelope;
pub mod files;
pub(crate) mod fragments;
pub mod headless;
pub mod hlc;
pub mod i18n;
pub mod identity;
pub mod input;
pub mod net;
pub mod node;
pub mod places;
pub mod policy;
pub mod protocol;
pub mod settings;
pub mod shutdown;
pub mod store;
pub mod trouble;
pub mod types;
pub(crate) mod typing;
pub mod ui;
pub mod wire;

#[cfg(test)]
mod start_files;

pub use api::{Command, Event};
pub use node::{Config, Node, Stats};
pub use protocol::{CoreCommand, CoreEvent, Target, Timing};
pub use types::{Chat, MessageKind, MsgId, NodeId, Status};
