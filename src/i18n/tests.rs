//! The words of both languages checked against each other.

use super::*;

#[test]
fn the_locale_picks_the_language() {
    assert_eq!(Lang::from_locale("ru-RU"), Lang::Ru);
    assert_eq!(Lang::from_locale("ru_UA.UTF-8"), Lang::Ru);
    assert_eq!(Lang::from_locale("en-US"), Lang::En);
    assert_eq!(Lang::from_locale("de-DE"), Lang::En);
}

#[test]
fn placeholders_are_filled() {
    assert_eq!(
        fill(RU.sys_joined, &[("nick", "боб"), ("channel", "#dev")]),
        "боб входит в #dev"
    );
    assert_eq!(fill(EN.online, &[("n", "3")]), "Online (3)");
}

#[test]
fn both_languages_use_the_same_placeholders() {
    // A Russian text that lost a `{nick}` would show a sentence about nobody.
    let pairs = [
        (EN.typing_one, RU.typing_one),
        (EN.queued, RU.queued),
        (EN.sys_joined, RU.sys_joined),
        (EN.sys_parted, RU.sys_parted),
        (EN.sys_nick, RU.sys_nick),
        (EN.sys_topic, RU.sys_topic),
        (EN.sys_missed, RU.sys_missed),
        (EN.sys_status, RU.sys_status),
        (EN.problem_port, RU.problem_port),
        (EN.problem_data_dir, RU.problem_data_dir),
        (EN.problem_in_use, RU.problem_in_use),
        (EN.history_recovered, RU.history_recovered),
        (EN.settings_reset, RU.settings_reset),
        (EN.settings_unreadable, RU.settings_unreadable),
        (EN.notify_in, RU.notify_in),
        (EN.input_hint, RU.input_hint),
        (EN.file_offers, RU.file_offers),
        (EN.file_you_offered, RU.file_you_offered),
        (EN.file_unreadable, RU.file_unreadable),
        (EN.folder_contents, RU.folder_contents),
        (EN.per_second, RU.per_second),
        (EN.time_left, RU.time_left),
        (EN.seconds, RU.seconds),
        (EN.minutes, RU.minutes),
        (EN.hours, RU.hours),
        (EN.flow_sender_away, RU.flow_sender_away),
        (EN.saved_to, RU.saved_to),
        (EN.checksum, RU.checksum),
        (EN.checksum_hint, RU.checksum_hint),
        (EN.offer_withdrawn, RU.offer_withdrawn),
        (EN.fail_withdrawn_by, RU.fail_withdrawn_by),
        (EN.open_received, RU.open_received),
        (EN.show_in_folder, RU.show_in_folder),
        (EN.open_failed, RU.open_failed),
        (EN.not_received, RU.not_received),
        (EN.waiting_for_answer, RU.waiting_for_answer),
        (EN.channel_offer_hint, RU.channel_offer_hint),
        (EN.fail_disk, RU.fail_disk),
        (EN.fail_refused, RU.fail_refused),
        (EN.offer_title, RU.offer_title),
        (EN.not_found, RU.not_found),
        (EN.drop_here, RU.drop_here),
        (EN.notify_file, RU.notify_file),
        (EN.notify_file_in, RU.notify_file_in),
    ];
    let holes = |s: &str| {
        let mut v: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(k, _)| k.to_string()))
            .collect();
        v.sort();
        v
    };
    for (en, ru) in pairs {
        assert_eq!(holes(en), holes(ru), "{en} / {ru}");
    }
}
