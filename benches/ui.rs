//! Frame time of the window with a long channel open: 100,000 messages in
//! #Main (mixed lengths, some wrapping over several lines, some links), the
//! real app under `egui_kittest` (no GPU). A frame here is the egui pass
//! (the app's logic and layout) plus tessellation into triangles — the CPU
//! work of a frame; the GPU's part, uploading and drawing a screenful of
//! triangles, is not included.
//!
//! `cargo bench --bench ui` (set `LANCHAT_UI_MESSAGES` for another count).

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use lanchat::api::{ChatMessage, Event, PeerInfo};
use lanchat::net::{MemoryLan, NetOptions, NodeEvent};
use lanchat::types::{Chat, MAIN_CHANNEL, MessageKind, MsgId, NodeId, Status};
use lanchat::ui::{AppOptions, LanchatApp};

fn main() {
    let count: usize = std::env::var("LANCHAT_UI_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("lanchat-bench-ui-{}", std::process::id()));
    let options = AppOptions {
        net: NetOptions {
            data_dir: Some(dir.join("data")),
            nick: Some("alice".into()),
            lan: Some(MemoryLan::new()),
            ..NetOptions::default()
        },
        settings_path: Some(dir.join("settings.json")),
        desktop: false,
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 720.0))
        .build_eframe(|cc| LanchatApp::new(cc, options));
    harness.step();

    let senders: Vec<(NodeId, String)> = (0..12u8)
        .map(|i| (NodeId([i + 1; 16]), format!("user{i}")))
        .collect();
    for (id, nick) in &senders {
        harness
            .state_mut()
            .apply_event(live(Event::PeerOnline(PeerInfo {
                id: *id,
                epoch: 1,
                nick: nick.clone(),
                label: nick.clone(),
                addr: std::net::SocketAddr::from(([192, 0, 2, id.0[0]], 47077)),
                status: Status::Available,
                status_text: String::new(),
                host: "pc".into(),
                version: "0.1.0".into(),
                since_ms: 0,
                channels: vec![MAIN_CHANNEL.into()],
            })));
    }
    let start_ms = lanchat::identity::unix_ms().saturating_sub(count as u64 * 20_000);
    let fill_start = Instant::now();
    for n in 0..count {
        let (id, nick) = &senders[n % senders.len()];
        let text = match n % 7 {
            0 => format!("message {n}: see https://intranet.example/tickets/{n} for details"),
            1 => format!(
                "message {n}: {}",
                "a longer message that wraps over more than one line in a window of ordinary width. "
                    .repeat(3)
            ),
            2 => format!("сообщение {n}: привет, коллеги"),
            _ => format!("message {n}"),
        };
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&(n as u64).to_le_bytes());
        raw[15] = 0xbe;
        harness
            .state_mut()
            .apply_event(live(Event::Message(ChatMessage {
                id: MsgId(raw),
                chat: Chat::Channel(MAIN_CHANNEL.into()),
                from: *id,
                nick: nick.clone(),
                kind: MessageKind::Text,
                text,
                time_ms: start_ms + n as u64 * 20_000,
                hlc: n as u64,
            })));
    }
    eprintln!("fed {count} messages in {:?}", fill_start.elapsed());

    // Settle: the first frames measure the rows in view.
    for _ in 0..5 {
        harness.step();
    }
    let mut at_bottom = measure(&mut harness, 200, |_| {});
    // Scrolling: a wheel step each frame, upwards through the channel.
    let mut scrolling = measure(&mut harness, 200, |h| {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Line,
            delta: egui::vec2(0.0, 3.0),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        h.hover_at(egui::pos2(550.0, 360.0));
    });
    report("idle at the bottom", &mut at_bottom);
    report("scrolling by wheel", &mut scrolling);
    let _ = std::fs::remove_dir_all(&dir);
}

fn live(event: Event) -> NodeEvent {
    NodeEvent {
        event,
        history: false,
    }
}

/// Runs `frames` frames, doing `before` ahead of each, and returns each
/// frame's time (egui pass + tessellation).
fn measure(
    harness: &mut Harness<'_, LanchatApp>,
    frames: usize,
    before: impl Fn(&mut Harness<'_, LanchatApp>),
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(frames);
    for _ in 0..frames {
        before(harness);
        let start = Instant::now();
        harness.step();
        let output = harness.output();
        let shapes = output.shapes.clone();
        let ppp = output.pixels_per_point;
        let primitives = harness.ctx.tessellate(shapes, ppp);
        std::hint::black_box(primitives);
        times.push(start.elapsed());
    }
    times
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let pick = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "ui frame, {what}: median {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} frames)",
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3,
        times.len()
    );
}
