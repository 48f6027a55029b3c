//! The README's examples against the type: every event is shown there,
//! and every example reads as the type writes it.

use serde::Deserialize;
use serde::de::value::MapDeserializer;
use serde_json::Value;

use super::JsonEvent;

const README: &str = include_str!("../../../README.md");

/// Every `{"event":…}` line of the README.
fn examples() -> Vec<&'static str> {
    README
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with(r#"{"event":"#))
        .collect()
}

/// Every event's name, as serde's derive lists the variants, so a new
/// variant is in it without anyone remembering to add it: an `event` that
/// names no variant makes the derived code report `unknown_variant` with
/// the list of all of them, which this error type keeps.
fn names() -> Vec<&'static str> {
    /// An error that keeps the names serde expected.
    #[derive(Debug)]
    struct Expected(&'static [&'static str]);

    impl std::fmt::Display for Expected {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "expected one of {:?}", self.0)
        }
    }

    impl std::error::Error for Expected {}

    impl serde::de::Error for Expected {
        fn custom<T: std::fmt::Display>(_: T) -> Self {
            Expected(&[])
        }

        fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
            Expected(expected)
        }
    }

    let unknown = MapDeserializer::<_, Expected>::new([("event", "")].into_iter());
    match JsonEvent::deserialize(unknown) {
        Err(Expected(names)) => names.to_vec(),
        Ok(event) => panic!("an event without a name was read: {event:?}"),
    }
}

#[test]
fn the_readme_shows_every_event() {
    let all = names();
    assert!(all.len() > 30, "the names were not found: {all:?}");
    let shown: Vec<String> = examples()
        .iter()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("README example is not JSON ({err}): {line}"));
            value["event"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    let missing: Vec<&str> = all
        .iter()
        .copied()
        .filter(|name| !shown.iter().any(|s| s == name))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md has no example of {missing:?}"
    );
}

#[test]
fn every_readme_example_reads_and_writes_back_the_same() {
    let examples = examples();
    assert!(!examples.is_empty(), "no examples found in README.md");
    for line in examples {
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("README example is not JSON ({err}): {line}"));
        let event: JsonEvent = serde_json::from_value(value.clone())
            .unwrap_or_else(|err| panic!("README example is not an event ({err}): {line}"));
        let written = event.to_line().expect("an event writes");
        let back: Value = serde_json::from_str(&written).expect("a written event reads");
        assert_eq!(back, value, "README example written back differs: {line}");
    }
}

/// The words a field of the core's type is written with are the words the
/// core has for it (`as_str`, `kind`), which the text mode prints.
#[test]
fn words_in_events_are_the_cores_words() {
    use crate::api::OfflineReason;
    use crate::doctor;
    use crate::files::{Direction, FileFailure, Flow};
    use crate::types::{MessageKind, Status};

    use super::{FailureKind, FindingKind, words};

    use serde_json::value::Serializer as ToValue;

    fn word(written: Result<Value, serde_json::Error>) -> String {
        let written = written.expect("a word writes");
        written.as_str().unwrap_or_default().to_string()
    }

    for status in [Status::Available, Status::Away, Status::DoNotDisturb] {
        let written = words::StatusDef::serialize(&status, ToValue);
        assert_eq!(word(written), status.as_str());
    }
    for reason in [OfflineReason::Quit, OfflineReason::Timeout] {
        let written = words::OfflineReasonDef::serialize(&reason, ToValue);
        assert_eq!(word(written), reason.as_str());
    }
    for direction in [Direction::Down, Direction::Up] {
        let written = words::DirectionDef::serialize(&direction, ToValue);
        assert_eq!(word(written), direction.as_str());
    }
    for flow in [
        Flow::Active,
        Flow::Queued,
        Flow::Reconnecting,
        Flow::SenderAway,
    ] {
        let written = words::FlowDef::serialize(&flow, ToValue);
        assert_eq!(word(written), flow.as_str());
    }
    for (kind, said) in [
        (MessageKind::Text, "text"),
        (MessageKind::Action, "action"),
        (MessageKind::Beep, "beep"),
        (MessageKind::File, "file"),
    ] {
        let written = words::MessageKindDef::serialize(&kind, ToValue);
        assert_eq!(word(written), said);
    }
    for failure in [
        FileFailure::Declined,
        FileFailure::Cancelled,
        FileFailure::CancelledByPeer,
        FileFailure::Unavailable,
        FileFailure::Changed,
        FileFailure::Corrupt,
        FileFailure::Disk("full".into()),
        FileFailure::Refused("busy".into()),
    ] {
        let written = serde_json::to_value(FailureKind::from(&failure));
        assert_eq!(word(written), failure.kind());
    }
    let addr: std::net::SocketAddr = ([10, 0, 0, 2], 47078).into();
    for finding in [
        doctor::Finding::LoopbackOnly,
        doctor::Finding::NoMulticastLoop,
        doctor::Finding::NoBroadcastLoop,
        doctor::Finding::Alone { firewall: false },
        doctor::Finding::OneWay {
            label: "bob".into(),
            addr,
            ports: vec![47077],
        },
        doctor::Finding::UnicastOnly {
            label: "bob".into(),
        },
        doctor::Finding::Unanswered(vec![addr]),
        doctor::Finding::OtherVersion {
            addr,
            nick: None,
            version: 9,
        },
        doctor::Finding::ClockOff {
            label: None,
            off_ms: 90_000,
        },
        doctor::Finding::Dropped { count: 1 },
        doctor::Finding::AllWell,
    ] {
        let written = serde_json::to_value(FindingKind::from(&finding));
        let kind = written.map(|value| value["kind"].clone());
        assert_eq!(word(kind), doctor::kind(&finding));
    }
}
