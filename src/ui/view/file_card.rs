//! A file message in the chat, drawn as a card: who offers what, then what
//! goes with where the transfer stands. An offer to me: Accept and
//! Decline; while it comes, a bar with the percentage, the speed, the
//! time left or what it waits for, and Cancel; when done, where it was
//! saved and its SHA-256; when failed, why. My own offer: each receiver's
//! progress and Withdraw. A channel's offer is answered by each member for
//! themselves, on the same card.

use eframe::egui::{self, Color32, RichText};

use super::messages::Clicks;
use crate::api::Command;
use crate::files::{FileFailure, FileState, Flow, Offer, human_size};
use crate::i18n::{Strings, fill};
use crate::types::Chat;
use crate::ui::model::{MessageRow, Model};
use crate::ui::transfers::{Progress, Transfer, Upload};

/// A card is at most this wide (a long line of buttons and bars is hard
/// to read across a wide window).
const CARD_WIDTH: f32 = 480.0;

/// Width of a progress bar.
const BAR_WIDTH: f32 = 200.0;

/// Green of what went well.
const GOOD: Color32 = Color32::from_rgb(0x3c, 0xb3, 0x71);

/// Red of what went wrong.
const BAD: Color32 = Color32::from_rgb(0xd9, 0x48, 0x3b);

/// A size in the language's words: `1,4 МБ`, `1.4 MB`.
pub(crate) fn size(t: &Strings, bytes: u64) -> String {
    let english = human_size(bytes);
    let Some((number, unit)) = english.split_once(' ') else {
        return english;
    };
    let unit = ["B", "KB", "MB", "GB", "TB"]
        .iter()
        .position(|u| *u == unit)
        .and_then(|i| t.size_units.split(' ').nth(i))
        .unwrap_or(unit);
    format!("{} {unit}", number.replace('.', t.decimal_point))
}

/// A duration in words: `45 s`, `3 min 5 s`, `2 h 10 min`.
pub(crate) fn duration(t: &Strings, secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        fill(t.hours, &[("h", &h.to_string()), ("m", &m.to_string())])
    } else if m > 0 {
        fill(t.minutes, &[("m", &m.to_string()), ("s", &s.to_string())])
    } else {
        fill(t.seconds, &[("s", &s.to_string())])
    }
}

/// What an offer holds: `report.pdf (1.4 MB)`, `photos/ (12 files, 40.1 MB)`.
pub(crate) fn describe(t: &Strings, offer: &Offer) -> String {
    if offer.folder {
        fill(
            t.folder_contents,
            &[
                ("name", &offer.name),
                ("n", &offer.files.to_string()),
                ("size", &size(t, offer.size)),
            ],
        )
    } else {
        format!("{} ({})", offer.name, size(t, offer.size))
    }
}

/// What a transfer is doing besides its percentage: the speed and time
/// left while bytes move, else what it waits for. `sender` names whom an
/// offer to me waits for.
pub(crate) fn flow_words(t: &Strings, progress: &Progress, sender: &str) -> String {
    match progress.flow {
        Flow::Active if progress.rate == 0 => t.file_starting.to_string(),
        Flow::Active => {
            let speed = fill(t.per_second, &[("size", &size(t, progress.rate))]);
            match progress.eta_secs {
                Some(secs) => {
                    let left = fill(t.time_left, &[("time", &duration(t, secs))]);
                    format!("{speed} · {left}")
                }
                None => speed,
            }
        }
        Flow::Queued => t.flow_queued.to_string(),
        Flow::Reconnecting => t.flow_reconnecting.to_string(),
        Flow::SenderAway => fill(t.flow_sender_away, &[("nick", sender)]),
    }
}

/// A SHA-256 cut for reading: its first and last eight digits.
fn short_hash(hash: &str) -> String {
    match (hash.get(..8), hash.get(hash.len().saturating_sub(8)..)) {
        (Some(head), Some(tail)) if hash.len() > 20 => format!("{head}…{tail}"),
        _ => hash.to_string(),
    }
}

/// The card of a file message `m`, after its time (`clock`); `name` is
/// what its author is called. Clicks land in `clicks`.
#[allow(clippy::too_many_arguments)]
pub(super) fn show(
    ui: &mut egui::Ui,
    model: &Model,
    t: &Strings,
    m: &MessageRow,
    clock: &str,
    name: &str,
    colour: Color32,
    clicks: &mut Clicks,
) {
    ui.horizontal_top(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        ui.label(RichText::new(clock).weak().monospace());
        egui::Frame::group(ui.style())
            .fill(ui.visuals().faint_bg_color)
            .corner_radius(6.0)
            .inner_margin(egui::Margin::same(8))
            .show(ui, |ui| {
                ui.set_max_width(CARD_WIDTH.min(ui.available_width()));
                ui.spacing_mut().item_spacing.x = 6.0;
                ui.vertical(|ui| card(ui, model, t, m, name, colour, clicks));
            });
    });
}

/// What is inside the card: the offer, then what goes with its state.
fn card(
    ui: &mut egui::Ui,
    model: &Model,
    t: &Strings,
    m: &MessageRow,
    name: &str,
    colour: Color32,
    clicks: &mut Clicks,
) {
    let Some(offer) = m.offer() else {
        ui.label(RichText::new(fill(t.file_unreadable, &[("nick", name)])).italics());
        return;
    };
    let what = describe(t, offer);
    ui.horizontal_wrapped(|ui| {
        let icon = if offer.folder { "🗀" } else { "🗋" };
        ui.label(RichText::new(icon).size(18.0).color(colour));
        let head = if m.mine {
            fill(t.file_you_offered, &[("what", &what)])
        } else {
            fill(t.file_offers, &[("nick", name), ("what", &what)])
        };
        ui.label(RichText::new(head).strong());
    });
    let transfer = model.transfers.get(&offer.id);
    match transfer {
        // The node's list has not come yet: nothing is known.
        None if !model.transfers.listed => {}
        None => {
            ui.label(RichText::new(t.offer_gone).weak().italics());
        }
        Some(transfer) if m.mine => mine(ui, model, t, transfer, clicks),
        Some(transfer) => to_me(ui, t, transfer, name, clicks),
    }
}

/// An offer to me, by where it stands.
fn to_me(ui: &mut egui::Ui, t: &Strings, transfer: &Transfer, sender: &str, clicks: &mut Clicks) {
    let id = transfer.offer.id;
    match &transfer.state {
        FileState::Offered => {
            ui.horizontal(|ui| {
                let accept = egui::Button::new(RichText::new(t.accept).color(Color32::WHITE))
                    .fill(Color32::from_rgb(0x2e, 0x7d, 0x32));
                if ui.add(accept).clicked() {
                    clicks.commands.push(Command::AcceptFile(id));
                }
                if ui.button(t.decline).clicked() {
                    clicks.commands.push(Command::DeclineFile(id));
                }
            });
        }
        FileState::Accepted { .. } => {
            if let Some(progress) = transfer.receiving() {
                ui.horizontal_wrapped(|ui| {
                    bar(ui, t, &progress, sender);
                    if ui.button(t.cancel_transfer).clicked() {
                        clicks.commands.push(Command::CancelFile(id));
                    }
                });
            }
        }
        FileState::Done { path, sha256 } => {
            let shown = path.display().to_string();
            ui.label(
                RichText::new(format!("✔ {}", fill(t.saved_to, &[("path", &shown)]))).color(GOOD),
            );
            ui.horizontal(|ui| {
                if ui.button(t.open_received).clicked() {
                    clicks.open = Some(path.clone());
                }
                if let Some(folder) = path.parent()
                    && ui.button(t.show_in_folder).clicked()
                {
                    clicks.open = Some(folder.to_path_buf());
                }
            });
            if !sha256.is_empty() {
                let text = fill(t.checksum, &[("hash", &short_hash(sha256))]);
                let label = egui::Label::new(RichText::new(text).monospace().small().weak())
                    .sense(egui::Sense::click());
                if ui
                    .add(label)
                    .on_hover_text(fill(t.checksum_hint, &[("hash", sha256)]))
                    .clicked()
                {
                    clicks.copy = Some(sha256.clone());
                }
            }
        }
        FileState::Failed(reason) => {
            // On an offer to me the other side is its sender: it withdrew it.
            let reason = match reason {
                FileFailure::CancelledByPeer => fill(t.fail_withdrawn_by, &[("nick", sender)]),
                other => t.failure(other),
            };
            let text = fill(t.not_received, &[("reason", &reason)]);
            ui.label(RichText::new(text).color(BAD));
        }
    }
}

/// A bar with the percentage, then the speed and time left (or what it
/// waits for).
fn bar(ui: &mut egui::Ui, t: &Strings, progress: &Progress, sender: &str) {
    ui.add(
        egui::ProgressBar::new(progress.fraction())
            .desired_width(BAR_WIDTH)
            .text(format!("{}%", progress.percent())),
    );
    ui.label(RichText::new(flow_words(t, progress, sender)).small());
}

/// My offer: who it waits for, each receiver's progress, and Withdraw.
fn mine(ui: &mut egui::Ui, model: &Model, t: &Strings, transfer: &Transfer, clicks: &mut Clicks) {
    let withdrawn = matches!(transfer.state, FileState::Failed(_));
    match &transfer.chat {
        Chat::Channel(channel) if !withdrawn => {
            let text = fill(t.channel_offer_hint, &[("channel", channel)]);
            ui.label(RichText::new(text).weak().small());
        }
        Chat::Direct(peer) if !withdrawn && transfer.uploads.is_empty() => {
            let text = fill(t.waiting_for_answer, &[("nick", &model.label(peer))]);
            ui.label(RichText::new(text).weak().small());
        }
        _ => {}
    }
    for (peer, upload) in &transfer.uploads {
        let who = model.label(peer);
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{who}:")).strong());
            match upload {
                Upload::Sending(progress)
                    if progress.flow == Flow::Reconnecting && !model.peers.contains_key(peer) =>
                {
                    // A receiver that went offline is waited for: nothing
                    // can be done until it is back.
                    let waiting = Progress {
                        flow: Flow::SenderAway,
                        ..*progress
                    };
                    bar(ui, t, &waiting, &who);
                }
                Upload::Sending(progress) => bar(ui, t, progress, &who),
                Upload::Done => {
                    ui.label(RichText::new(format!("✔ {}", t.upload_received)).color(GOOD));
                }
                Upload::Failed(reason) => {
                    ui.label(RichText::new(t.failure(reason)).weak());
                }
            }
        });
    }
    if withdrawn {
        ui.label(RichText::new(t.withdrawn).weak().italics());
        return;
    }
    // A direct offer its one receiver has finished with has nothing left
    // to withdraw.
    let answered = match &transfer.chat {
        Chat::Direct(peer) => transfer
            .uploads
            .get(peer)
            .is_some_and(|u| !matches!(u, Upload::Sending(_))),
        Chat::Channel(_) => false,
    };
    if !answered && ui.button(t.withdraw).clicked() {
        clicks.commands.push(Command::CancelFile(transfer.offer.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, RU};

    #[test]
    fn sizes_speeds_and_durations_read_in_each_language() {
        assert_eq!(size(&EN, 1_400_000), "1.4 MB");
        assert_eq!(size(&RU, 1_400_000), "1,4 МБ");
        assert_eq!(size(&RU, 512), "512 Б");
        assert_eq!(duration(&EN, 45), "45 s");
        assert_eq!(duration(&EN, 185), "3 min 5 s");
        assert_eq!(duration(&RU, 7800), "2 ч 10 мин");
        let p = Progress {
            done: 450,
            total: 1000,
            rate: 1_200_000,
            eta_secs: Some(10),
            flow: Flow::Active,
        };
        assert_eq!(flow_words(&EN, &p, "bob"), "1.2 MB/s · 10 s left");
        assert_eq!(flow_words(&RU, &p, "bob"), "1,2 МБ/с · осталось 10 с");
        let away = Progress {
            flow: Flow::SenderAway,
            ..p
        };
        assert_eq!(
            flow_words(&EN, &away, "bob"),
            "waiting for bob to come back online"
        );
    }

    #[test]
    fn offers_are_described_and_hashes_shortened() {
        let offer = Offer {
            id: crate::files::FileId([1; 16]),
            name: "photos".into(),
            size: 40_100_000,
            files: 12,
            folder: true,
            port: 1,
        };
        assert_eq!(describe(&EN, &offer), "photos/ (12 files, 40.1 MB)");
        assert_eq!(describe(&RU, &offer), "photos/ (файлов: 12, 40,1 МБ)");
        let file = Offer {
            folder: false,
            files: 1,
            name: "report.pdf".into(),
            size: 1_400_000,
            ..offer
        };
        assert_eq!(describe(&EN, &file), file.describe());
        assert_eq!(
            short_hash(&"0123456789abcdef".repeat(4)),
            "01234567…89abcdef"
        );
        assert_eq!(short_hash("abc"), "abc");
    }
}
