//! A colleague's info dialog under `egui_kittest`: what the doctor knows
//! of the colleague is shown there too (issue 17: a clock far off).

use egui_kittest::kittest::Queryable;

use super::file_tests::{english, feed};
use crate::api::{Event, PeerInfo};
use crate::doctor::NetworkReport;
use crate::protocol::CoreEvent;
use crate::protocol::{CoreReport, PeerReport};
use crate::types::{MAIN_CHANNEL, NodeId, Status};

const BOB: NodeId = NodeId([2; 16]);

fn bob() -> PeerInfo {
    PeerInfo {
        id: BOB,
        epoch: 1,
        nick: "bob".into(),
        label: "bob".into(),
        addr: "192.0.2.2:47078".parse().expect("addr"),
        status: Status::Available,
        status_text: String::new(),
        host: "pc2".into(),
        version: "0.1.0".into(),
        since_ms: 0,
        channels: vec![MAIN_CHANNEL.into()],
        key: crate::envelope::PublicKey::default(),
    }
}

fn report(clock_off_ms: Option<i64>) -> Event {
    Event::Network(Box::new(NetworkReport {
        core: CoreReport {
            peers: vec![PeerReport {
                id: BOB,
                label: "bob".into(),
                addrs: vec!["192.0.2.2:47078".parse().expect("addr")],
                by_group: true,
                hears_me: Some(true),
                relayed: false,
                clock_off_ms,
            }],
            ..CoreReport::default()
        },
        ..NetworkReport::default()
    }))
}

/// Bob's clock an hour ahead: his info dialog says so in the doctor's
/// words; a clock a few seconds off is not mentioned.
#[test]
fn the_info_dialog_names_a_clock_far_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = english(dir.path());
    feed(&mut harness, Event::Core(CoreEvent::PeerOnline(bob())));
    harness.state_mut().dialogs.info = Some(BOB);
    feed(&mut harness, report(Some(3_600_000)));
    let said = "bob's clock is 1 h ahead of the others'";
    assert!(
        harness.query_by_label_contains(said).is_some(),
        "the dialog does not say {said:?}"
    );
    feed(&mut harness, report(Some(4_000)));
    assert!(harness.query_by_label_contains("clock").is_none());
}
