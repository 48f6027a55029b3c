//! Every file lanchat reads at start, damaged at random (issue 17, item 4):
//! the identity key and epoch, settings.json, the policy file, peers.txt,
//! and the history database's replay marks and transfer records. None may
//! panic; a damaged one is named in an error or reset with the old copy
//! kept; the identity is never silently replaced.
//!
//! A property test, not a coverage-guided fuzzer (cargo-fuzz needs a
//! nightly compiler, which this workplace lacks): each case writes one
//! file made of random bytes or of a valid file with random bytes
//! overwritten, and runs the real loader on it. `LANCHAT_START_FILES_CASES`
//! raises the number of cases (default 256 per file).

use std::path::Path;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::identity::{Identity, IdentityError, KEY_FILE};
use crate::policy::Policy;
use crate::settings::Settings;
use crate::store::{FILE_NAME, Store};

fn cases() -> u32 {
    std::env::var("LANCHAT_START_FILES_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Random bytes, or `valid` with a few random stretches overwritten (and
/// maybe cut short): what a disk error or a bad copy leaves.
fn damaged(valid: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        (
            proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
            proptest::option::of(any::<prop::sample::Index>()),
        )
            .prop_map(move |(hits, cut)| {
                let mut bytes = valid.to_vec();
                for (at, b) in hits {
                    let i = at.index(bytes.len());
                    bytes[i] = b;
                }
                if let Some(cut) = cut {
                    bytes.truncate(cut.index(bytes.len() + 1));
                }
                bytes
            }),
    ]
}

/// Runs `check` in a fresh directory on `cases()` values of `strategy`;
/// prints the figure (`what`, and what a case is).
fn run_cases<S: Strategy>(what: &str, unit: &str, strategy: S, check: impl Fn(&Path, S::Value)) {
    let started = Instant::now();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let case = std::cell::Cell::new(0u64);
    runner
        .run(&strategy, |value| {
            case.set(case.get() + 1);
            let dir = tempfile::tempdir().expect("dir");
            check(dir.path(), value);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    println!(
        "start files: {what}: {} damaged {unit} in {:.2} s, none panicked",
        case.get(),
        started.elapsed().as_secs_f64()
    );
}

/// Runs `check` on `cases()` damaged copies of `valid`.
fn run(what: &str, valid: &'static [u8], check: impl Fn(&Path, &[u8])) {
    run_cases(what, "files", damaged(valid), |dir, bytes| {
        check(dir, &bytes)
    });
}

const KEY: &[u8] = b"3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a\n";

#[test]
fn a_damaged_identity_key_is_an_error_and_stays_as_it_was() {
    run("identity.key", KEY, |dir, bytes| {
        let path = dir.join(KEY_FILE);
        std::fs::write(&path, bytes).expect("write");
        match Identity::load(Some(dir)) {
            Ok(identity) => {
                // Only a key that still reads as one (hex digits changed
                // into other hex digits) loads, and it is that key.
                let text = String::from_utf8(bytes.to_vec()).expect("a loaded key is text");
                assert_eq!(text.trim().len(), 64);
                assert_eq!(
                    hex::encode(identity.keys.secret()),
                    text.trim().to_lowercase()
                );
            }
            Err(IdentityError::BadKey { path: named }) => assert_eq!(named, path),
            Err(other) => panic!("unexpected: {other}"),
        }
        // Never replaced by a new identity.
        assert_eq!(std::fs::read(&path).expect("read"), bytes);
    });
}

#[test]
fn a_damaged_epoch_file_restarts_from_the_clock() {
    run("epoch", b"1765112345678\n", |dir, bytes| {
        std::fs::write(dir.join(KEY_FILE), KEY).expect("key");
        std::fs::write(dir.join("epoch"), bytes).expect("write");
        let identity = Identity::load(Some(dir)).expect("an epoch file never stops a start");
        assert!(identity.epoch > 0);
    });
}

const SETTINGS: &[u8] =
    br##"{"nick":"anna","sounds":false,"auto_away_minutes":3,"channels":["#dev"],"language":"ru"}"##;

#[test]
fn damaged_settings_are_reset_with_the_old_copy_kept() {
    run("settings.json", SETTINGS, |dir, bytes| {
        let path = dir.join("settings.json");
        std::fs::write(&path, bytes).expect("write");
        let (_, told) = Settings::load_checked(&path);
        if let Some(told) = told {
            assert_eq!(told.path, path);
            let kept: Vec<_> = std::fs::read_dir(dir)
                .expect("list")
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
                .collect();
            assert_eq!(kept.len(), 1, "{told:?}");
            assert_eq!(told.kept.as_deref(), Some(kept[0].path().as_path()));
            assert_eq!(std::fs::read(kept[0].path()).expect("read"), bytes);
        }
    });
}

const POLICY: &[u8] = b"[network]\nworkgroup = \"office\"\nport = 4000\n\n[history]\nkeep_days = 30\n\n[identity]\nnick_from_login = true\n";

#[test]
fn a_damaged_policy_file_is_named_in_its_error() {
    run("policy.toml", POLICY, |dir, bytes| {
        let path = dir.join("policy.toml");
        std::fs::write(&path, bytes).expect("write");
        if let Err(err) = Policy::load(&path) {
            assert!(err.to_string().contains("policy.toml"), "{err}");
        }
    });
}

const PEERS: &[u8] = b"# remembered\n10.0.0.2:47078\n[fe80::1%2]:47078\n192.168.1.20:47078\n";

#[test]
fn damaged_remembered_peers_are_skipped_line_by_line() {
    run("peers.txt", PEERS, |dir, bytes| {
        std::fs::write(dir.join(crate::net::peers::FILE), bytes).expect("write");
        let got = crate::net::peers::load(dir);
        assert!(got.len() <= bytes.len() / 9 + 1);
    });
}

#[test]
fn damaged_replay_marks_and_transfer_records_do_not_stop_a_start() {
    // Rows of any type and length where the marks and records belong (a
    // file damaged inside a row that SQLite still reads).
    let value = || {
        prop_oneof![
            any::<i64>().prop_map(rusqlite::types::Value::Integer),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(rusqlite::types::Value::Blob),
            ".{0,60}".prop_map(rusqlite::types::Value::Text),
            Just(rusqlite::types::Value::Null),
        ]
    };
    run_cases(
        "seen and transfer rows",
        "tables",
        (
            proptest::collection::vec((value(), value(), value()), 0..6),
            proptest::collection::vec((value(), value()), 0..6),
        ),
        |dir, (marks, records)| {
            drop(Store::open(dir).expect("open"));
            let conn = rusqlite::Connection::open(dir.join(FILE_NAME)).expect("raw");
            conn.execute_batch("PRAGMA ignore_check_constraints = ON")
                .expect("pragma");
            for (n, (node, epoch, counter)) in marks.into_iter().enumerate() {
                let node = match node {
                    rusqlite::types::Value::Null => rusqlite::types::Value::Integer(n as i64),
                    v => v,
                };
                let _ = conn.execute(
                    "INSERT OR IGNORE INTO seen (node, epoch, counter) VALUES (?1, ?2, ?3)",
                    rusqlite::params![node, epoch, counter],
                );
            }
            for (n, (record, updated)) in records.into_iter().enumerate() {
                let _ = conn.execute(
                        "INSERT OR IGNORE INTO transfer (id, outgoing, record, updated_ms) VALUES (?1, 0, ?2, ?3)",
                        rusqlite::params![n as i64, record, updated],
                    );
            }
            drop(conn);
            let (mut store, _) = Store::open_checked(dir).expect("opens");
            let _ = store.seen();
            let _ = store.transfers(1_765_000_000_000);
        },
    );
}
