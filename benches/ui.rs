//! Frame time of the window with a long channel open: 100,000 messages in
//! #Main (mixed lengths, some wrapping over several lines, some links), the
//! real app driven frame by frame as eframe drives it (`App::logic`, then
//! `App::ui` in an egui pass), with no GPU. A frame here is the egui pass
//! (the app's logic and layout) plus tessellation into triangles — the CPU
//! work of a frame; the GPU's part, uploading and drawing a screenful of
//! triangles, is not included. AccessKit is off, as it is in the window
//! until a screen reader asks for it.
//!
//! `cargo bench --bench ui` (set `LANCHAT_UI_MESSAGES` for another count).

use std::time::{Duration, Instant};

use eframe::App as _;
use lanchat::api::{ChatMessage, Event, PeerInfo};
use lanchat::net::{MemoryLan, NetOptions, NodeEvent};
use lanchat::protocol::CoreEvent;
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
        policy_path: None,
    };
    let ctx = egui::Context::default();
    let mut app = LanchatApp::new(&eframe::CreationContext::_new_kittest(ctx.clone()), options);
    let mut bench = Bench {
        ctx,
        frame: eframe::Frame::_new_kittest(),
        time: 0.0,
    };
    bench.frame_with(&mut app, Vec::new());

    let senders: Vec<(NodeId, String)> = (0..12u8)
        .map(|i| (NodeId([i + 1; 16]), format!("user{i}")))
        .collect();
    for (id, nick) in &senders {
        app.apply_event(live(Event::Core(CoreEvent::PeerOnline(PeerInfo {
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
            key: lanchat::envelope::PublicKey::default(),
        }))));
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
        app.apply_event(live(Event::Core(CoreEvent::Message(ChatMessage {
            id: MsgId(raw),
            chat: Chat::Channel(MAIN_CHANNEL.into()),
            from: *id,
            nick: nick.clone(),
            kind: MessageKind::Text,
            text,
            time_ms: start_ms + n as u64 * 20_000,
            hlc: n as u64,
            author: None,
        }))));
    }
    eprintln!("fed {count} messages in {:?}", fill_start.elapsed());

    // Settle: the first frames measure the rows in view.
    for _ in 0..5 {
        bench.frame_with(&mut app, Vec::new());
    }
    let mut at_bottom = bench.measure(&mut app, 200, Vec::new);
    // Scrolling: a wheel step each frame, upwards through the channel.
    let mut scrolling = bench.measure(&mut app, 200, || {
        vec![
            egui::Event::PointerMoved(egui::pos2(550.0, 360.0)),
            egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Line,
                delta: egui::vec2(0.0, 3.0),
                modifiers: egui::Modifiers::NONE,
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Wheel,
            },
        ]
    });
    report("idle at the bottom", &mut at_bottom);
    report("scrolling by wheel", &mut scrolling);
    let _ = std::fs::remove_dir_all(&dir);
}

fn live(event: Event) -> NodeEvent {
    NodeEvent {
        event,
        history: false,
        search: false,
    }
}

/// An egui context driven the way eframe drives the window.
struct Bench {
    ctx: egui::Context,
    frame: eframe::Frame,
    time: f64,
}

impl Bench {
    /// One frame with these input events: logic, the ui pass, tessellation.
    fn frame_with(&mut self, app: &mut LanchatApp, events: Vec<egui::Event>) {
        self.time += 1.0 / 60.0;
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1100.0, 720.0),
            )),
            time: Some(self.time),
            events,
            ..Default::default()
        };
        let ctx = self.ctx.clone();
        let frame = &mut self.frame;
        let output = ctx.run_ui(input, |ui| {
            app.logic(ui.ctx(), frame);
            app.ui(ui, frame);
        });
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
    }

    /// Runs `frames` frames with the events `input` makes for each, and
    /// returns each frame's time.
    fn measure(
        &mut self,
        app: &mut LanchatApp,
        frames: usize,
        input: impl Fn() -> Vec<egui::Event>,
    ) -> Vec<Duration> {
        (0..frames)
            .map(|_| {
                let events = input();
                let start = Instant::now();
                self.frame_with(app, events);
                start.elapsed()
            })
            .collect()
    }
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
