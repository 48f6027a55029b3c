//! Integration tests, one binary with one module per area (ripgrep style).

// A test may panic on what it did not expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod handle;
mod history;
mod hostile;
mod lan;
mod layers;
mod loopback;
mod policy;
mod security;
mod sim;
mod ui;
mod util;
mod windows;
