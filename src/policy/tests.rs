//! Unit tests of the policy file: parsing, and what wins over what.

use super::*;
use crate::net::Retention;

fn parse(text: &str) -> Result<Policy, PolicyError> {
    Policy::parse(text, Path::new("/etc/lanchat/policy.toml"))
}

/// The example in `docs/policy.md`, which sets every key.
fn documented_example() -> String {
    let doc = include_str!("../../docs/policy.md");
    let start = doc.find("```toml\n").expect("an example in docs/policy.md") + 8;
    let end = doc[start..].find("```").expect("the example's end") + start;
    doc[start..end].to_string()
}

#[test]
fn the_documented_example_sets_every_key_and_nothing_is_ignored() {
    let policy = parse(&documented_example()).expect("the example parses");
    assert_eq!(policy.ignored, Vec::<String>::new());
    // Every key appears in one section or the other.
    let text = documented_example();
    for key in KEYS {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{key} ="))),
            "docs/policy.md's example lacks {key}"
        );
    }
    assert_eq!(policy.locked.workgroup.as_deref(), Some("blue-harbour-42"));
    assert_eq!(policy.locked.nick_from_login, Some(true));
    assert_eq!(policy.locked.port, Some(47077));
    assert_eq!(policy.defaults.language, Some(Language::Ru));
    assert_eq!(
        policy.defaults.channels,
        Some(vec!["#office".to_string(), "#help".to_string()])
    );
}

#[test]
fn a_good_file_parses_and_channels_get_their_hash() {
    let policy = parse(
        r#"
        [locked]
        nick = "kiosk-3"
        sounds = false
        interfaces = ["eth0"]
        [defaults]
        keep_days = 30
        channels = ["office"]
        language = "system"
        "#,
    )
    .expect("parses");
    assert_eq!(policy.locked.nick(), Some("kiosk-3".to_string()));
    assert_eq!(policy.locked.sounds, Some(false));
    assert_eq!(policy.locked.interfaces, Some(vec!["eth0".to_string()]));
    assert_eq!(policy.defaults.keep_days, Some(30));
    assert_eq!(policy.defaults.channels, Some(vec!["#office".to_string()]));
    assert_eq!(policy.defaults.language, Some(Language::System));
    assert!(policy.locks().nick && policy.locks().sounds && !policy.locks().keep_days);
}

#[test]
fn a_missing_file_is_no_policy() {
    let path = std::env::temp_dir().join(format!("lanchat-no-policy-{}", std::process::id()));
    let policy = Policy::load(&path.join("policy.toml")).expect("no error");
    assert!(policy.is_empty());
    assert_eq!(policy.locks(), Locks::default());
}

#[test]
fn a_broken_file_is_an_error_naming_the_file_and_the_line() {
    let err = parse("[locked]\nnick = \"a\"\nsounds = maybe\n").expect_err("broken");
    let text = err.to_string();
    assert!(text.contains("/etc/lanchat/policy.toml"), "{text}");
    assert!(text.contains("line 3"), "{text}");
    let err = parse("[locked]\nport = \"high\"\n").expect_err("a string port");
    assert!(matches!(err, PolicyError::Parse { .. }), "{err}");
    assert!(err.to_string().contains("port"), "{err}");
    let err = parse("locked = 3\n").expect_err("a section that is no table");
    assert!(matches!(err, PolicyError::Parse { .. }), "{err}");
}

#[test]
fn a_value_of_the_right_type_but_not_allowed_is_named() {
    for (text, key) in [
        ("[locked]\nnick = \"two words\"", "locked.nick"),
        ("[defaults]\nchannels = [\"a,b\"]", "defaults.channels"),
        ("[locked]\nport = 0", "locked.port"),
        (
            "[locked]\nnick = \"x\"\nnick_from_login = true",
            "locked.nick",
        ),
    ] {
        match parse(text) {
            Err(PolicyError::Invalid { key: got, .. }) => assert_eq!(got, key, "{text}"),
            other => panic!("{text}: expected an invalid {key}, got {other:?}"),
        }
    }
}

#[test]
fn a_directory_where_the_file_should_be_is_a_read_error_not_a_panic() {
    let err = Policy::load(&std::env::temp_dir()).expect_err("a directory");
    assert!(matches!(err, PolicyError::Read { .. }), "{err}");
}

#[test]
fn unknown_keys_are_ignored_and_listed_while_the_known_ones_apply() {
    let policy =
        parse("[locked]\nnik = \"typo\"\nsounds = false\n[locked.extra]\na = 1\n[future]\nx = 1\n")
            .expect("parses");
    assert_eq!(policy.locked.sounds, Some(false));
    let mut ignored = policy.ignored.clone();
    ignored.sort();
    assert_eq!(ignored, ["future", "locked.extra", "locked.nik"]);
}

fn cli() -> NetOptions {
    NetOptions {
        nick: Some("from-flag".into()),
        port: 5000,
        interfaces: vec!["wlan0".into()],
        workgroup: Some("flag-secret".into()),
        retention: Retention {
            max_age_days: Some(3),
            max_messages: None,
        },
        share: Some(Share {
            max_messages: 50,
            max_age_days: 7,
        }),
        ..NetOptions::default()
    }
}

#[test]
fn locked_values_beat_the_settings_file_and_the_command_line_and_say_so() {
    let policy = parse(
        r#"
        [locked]
        nick = "admin-nick"
        port = 6000
        interfaces = ["eth1"]
        workgroup = "office"
        keep_days = 0
        join_history = 0
        sounds = false
        language = "ru"
        "#,
    )
    .expect("parses");
    let mine = Settings {
        nick: Some("mine".into()),
        sounds: true,
        workgroup: Some("my-secret".into()),
        keep_days: 9,
        join_history: Some(50),
        ..Settings::default()
    };
    let effective = policy.apply(mine, cli());
    let (settings, net) = (&effective.settings, &effective.net);
    assert_eq!(settings.nick.as_deref(), Some("admin-nick"));
    assert!(!settings.sounds);
    assert_eq!(settings.workgroup.as_deref(), Some("office"));
    assert_eq!(settings.keep_days, 0);
    assert_eq!(settings.join_history, Some(0));
    assert_eq!(settings.language, Some(Lang::Ru));
    assert_eq!(net.nick.as_deref(), Some("admin-nick"));
    assert_eq!(net.port, 6000);
    assert_eq!(net.interfaces, ["eth1"]);
    assert_eq!(net.workgroup.as_deref(), Some("office"));
    assert_eq!(net.retention.max_age_days, None);
    assert_eq!(net.share, None);
    assert_eq!(
        effective.overridden,
        [
            "--nick",
            "--iface",
            "--port",
            "--workgroup",
            "--keep-days",
            "--join-history"
        ]
    );
    assert!(!effective.defaults_changed, "only locked values were set");
}

#[test]
fn file_settings_lock_and_default_like_the_others() {
    let locked =
        parse("[locked]\ndownload_dir = \"/srv/in\"\nauto_accept_files = false\n").expect("parses");
    assert!(locked.locks().download_dir && locked.locks().auto_accept_files);
    let mine = Settings {
        download_dir: Some("/home/me/Desktop".into()),
        auto_accept_files: true,
        ..Settings::default()
    };
    let mut flags = cli();
    flags.files.download_dir = Some("/tmp/flag".into());
    flags.files.auto_accept = true;
    let effective = locked.apply(mine.clone(), flags);
    assert_eq!(
        effective.settings.download_dir.as_deref(),
        Some(Path::new("/srv/in"))
    );
    assert!(!effective.settings.auto_accept_files);
    assert_eq!(
        effective.net.files.download_dir.as_deref(),
        Some(Path::new("/srv/in"))
    );
    assert!(!effective.net.files.auto_accept);
    assert!(effective.overridden.contains(&"--downloads"));
    assert!(effective.overridden.contains(&"--auto-accept"));
    // As defaults they give way to the command line, and fill what it left.
    let defaults = parse("[defaults]\ndownload_dir = \"/srv/in\"\nauto_accept_files = true\n")
        .expect("parses");
    let mut flags = cli();
    flags.files.download_dir = Some("/tmp/flag".into());
    let effective = defaults.apply(mine, flags);
    assert_eq!(
        effective.net.files.download_dir.as_deref(),
        Some(Path::new("/tmp/flag"))
    );
    assert!(effective.net.files.auto_accept);
    assert!(effective.overridden.is_empty());
    // An empty folder is refused, naming the key.
    let err = parse("[locked]\ndownload_dir = \"\"\n").expect_err("refused");
    assert!(err.to_string().contains("locked.download_dir"), "{err}");
}

#[test]
fn a_flag_equal_to_the_locked_value_or_left_unset_is_not_reported() {
    let policy = parse("[locked]\nnick = \"same\"\nport = 6000\n").expect("parses");
    let net = NetOptions {
        nick: Some("same".into()),
        ..NetOptions::default()
    };
    let effective = policy.apply(Settings::default(), net);
    assert_eq!(effective.overridden, Vec::<&str>::new());
    assert_eq!(effective.net.port, 6000);
}

#[test]
fn an_empty_locked_workgroup_forces_the_open_lan() {
    let policy = parse("[locked]\nworkgroup = \"\"\n").expect("parses");
    let effective = policy.apply(Settings::default(), cli());
    assert_eq!(effective.net.workgroup, None);
    assert_eq!(effective.overridden, ["--workgroup"]);
    assert!(policy.locks().workgroup);
}

#[test]
fn nick_from_login_is_the_login_name() {
    let policy = parse("[locked]\nnick_from_login = true\n").expect("parses");
    let effective = policy.apply(Settings::default(), NetOptions::default());
    let login = crate::identity::default_nick();
    assert_eq!(effective.net.nick.as_deref(), Some(login.as_str()));
    assert_eq!(effective.settings.nick.as_deref(), Some(login.as_str()));
    assert!(policy.locks().nick);
    let off = parse("[locked]\nnick_from_login = false\n").expect("parses");
    assert!(!off.locks().nick);
}

#[test]
fn defaults_overwrite_the_saved_settings_but_not_the_command_line() {
    let policy = parse(
        r##"
        [defaults]
        sounds = false
        auto_away_minutes = 5
        channels = ["#office"]
        nick = "default-nick"
        port = 6000
        keep_days = 30
        "##,
    )
    .expect("parses");
    let played_with = Settings {
        sounds: true,
        auto_away_minutes: 0,
        channels: vec!["#games".into()],
        ..Settings::default()
    };
    let effective = policy.apply(played_with, cli());
    assert!(effective.defaults_changed);
    assert!(!effective.settings.sounds);
    assert_eq!(effective.settings.auto_away_minutes, 5);
    assert_eq!(effective.settings.channels, ["#office"]);
    assert_eq!(effective.settings.nick.as_deref(), Some("default-nick"));
    // The command line's values stay; nothing was overridden.
    assert_eq!(effective.net.nick.as_deref(), Some("from-flag"));
    assert_eq!(effective.net.port, 5000);
    assert_eq!(effective.net.retention.max_age_days, Some(3));
    assert!(effective.overridden.is_empty());
    // With no flags, the defaults stand in for them.
    let effective = policy.apply(Settings::default(), NetOptions::default());
    assert_eq!(effective.net.nick.as_deref(), Some("default-nick"));
    assert_eq!(effective.net.port, 6000);
    assert_eq!(effective.net.retention.max_age_days, Some(30));
    // Settings already as the defaults say are not "changed".
    let again = policy.apply(effective.settings.clone(), NetOptions::default());
    assert!(!again.defaults_changed);
}

#[test]
fn locked_beats_defaults() {
    let policy = parse("[defaults]\nsounds = true\n[locked]\nsounds = false\n").expect("parses");
    let effective = policy.apply(Settings::default(), NetOptions::default());
    assert!(!effective.settings.sounds);
    let mut edited = effective.settings.clone();
    edited.sounds = true;
    policy.lock(&mut edited);
    assert!(!edited.sounds, "a locked value is put back after an edit");
}

#[test]
fn the_system_path_is_the_documented_one() {
    let path = Policy::system_path();
    #[cfg(all(unix, not(target_os = "macos")))]
    assert_eq!(path, Path::new("/etc/lanchat/policy.toml"));
    #[cfg(target_os = "macos")]
    assert_eq!(
        path,
        Path::new("/Library/Application Support/lanchat/policy.toml")
    );
    #[cfg(windows)]
    assert!(path.ends_with(r"lanchat\policy.toml"), "{}", path.display());
    assert!(path.is_absolute() || cfg!(not(any(unix, windows))));
}
