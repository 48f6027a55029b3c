//! Tests of [`super`].

use super::*;
use crate::api::ChatMessage;
use std::net::SocketAddr;

fn id(n: u8) -> NodeId {
    NodeId([n; 16])
}

fn peer(n: u8, nick: &str) -> PeerInfo {
    PeerInfo {
        id: id(n),
        epoch: 1,
        nick: nick.into(),
        label: nick.into(),
        addr: SocketAddr::from(([192, 0, 2, n], 47077)),
        status: Status::Available,
        status_text: String::new(),
        host: format!("pc{n}"),
        version: "0.1.0".into(),
        since_ms: 0,
        channels: vec![MAIN_CHANNEL.into()],
        key: crate::envelope::PublicKey::default(),
    }
}

fn live(event: Event) -> NodeEvent {
    NodeEvent {
        event,
        history: false,
        search: false,
    }
}

fn message(n: u8, from: u8, chat: Chat, text: &str, time_ms: u64) -> Event {
    Event::Core(CoreEvent::Message(ChatMessage {
        id: MsgId([n; 16]),
        chat,
        from: id(from),
        nick: format!("p{from}"),
        kind: MessageKind::Text,
        text: text.into(),
        time_ms,
        hlc: time_ms,
        author: None,
    }))
}

fn main() -> Chat {
    Chat::Channel(MAIN_CHANNEL.into())
}

#[test]
fn unread_counts_rise_elsewhere_and_clear_on_reading() {
    let mut m = Model::new(id(0), "me".into());
    let dev = Chat::Channel("#dev".into());
    m.open(&dev);
    m.apply(
        &live(message(1, 2, dev.clone(), "hi", 10)),
        10,
        Some(&main()),
        true,
    );
    m.apply(
        &live(message(2, 2, main(), "hi", 11)),
        11,
        Some(&main()),
        true,
    );
    assert_eq!(m.chat(&dev).map(|c| c.unread), Some(1));
    assert_eq!(m.chat(&main()).map(|c| c.unread), Some(0));
    // Not focused: the open chat counts too.
    m.apply(
        &live(message(3, 2, main(), "hi", 12)),
        12,
        Some(&main()),
        false,
    );
    assert_eq!(m.unread(), (2, false));
    m.mark_read(&dev);
    assert_eq!(m.unread(), (1, false));
}

#[test]
fn a_mention_needs_the_nick_as_a_word() {
    assert!(Model::mentions("hey Bob, lunch?", "bob"));
    assert!(Model::mentions("бобу: привет", "Бобу"));
    assert!(!Model::mentions("bobby is here", "bob"));
    assert!(!Model::mentions("kebob", "bob"));
    let mut m = Model::new(id(0), "bob".into());
    let alert = m.apply(&live(message(1, 2, main(), "bob: look", 1)), 1, None, true);
    assert!(matches!(alert, Some(Alert::Mention { .. })));
    assert_eq!(m.unread(), (1, true));
}

#[test]
fn replays_and_repeats_show_once_in_time_order() {
    let mut m = Model::new(id(0), "me".into());
    let sel = Some(main());
    m.apply(
        &live(message(1, 2, main(), "one", 100)),
        100,
        sel.as_ref(),
        true,
    );
    m.apply(
        &live(message(3, 2, main(), "three", 300)),
        300,
        sel.as_ref(),
        true,
    );
    m.apply(
        &live(message(3, 2, main(), "three", 300)),
        300,
        sel.as_ref(),
        true,
    );
    let replay = |e| NodeEvent {
        event: e,
        history: true,
        search: false,
    };
    m.apply(
        &replay(message(2, 2, main(), "two", 200)),
        400,
        sel.as_ref(),
        true,
    );
    m.apply(
        &replay(message(1, 2, main(), "one", 100)),
        400,
        sel.as_ref(),
        true,
    );
    let end = Event::HistoryDone {
        chat: main(),
        before: None,
        limit: 50,
        count: 2,
    };
    m.apply(&replay(end), 400, sel.as_ref(), true);
    let texts: Vec<&str> = m
        .chat(&main())
        .map(|c| {
            c.rows
                .iter()
                .filter_map(|r| match r {
                    Row::Message(m) => Some(m.text.as_str()),
                    Row::System(..) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(texts, ["one", "two", "three"]);
}

/// Message `n` of #Main from p2, stamped `n`, as replayed from history.
fn replayed(n: u8) -> NodeEvent {
    NodeEvent {
        event: message(n, 2, main(), &format!("m{n}"), u64::from(n)),
        history: true,
        search: false,
    }
}

fn done(page: Page, count: usize) -> NodeEvent {
    NodeEvent {
        event: Event::HistoryDone {
            chat: main(),
            before: page.before,
            limit: page.limit,
            count,
        },
        history: true,
        search: false,
    }
}

fn main_texts(m: &Model) -> Vec<String> {
    m.chat(&main())
        .map(|c| {
            c.rows
                .iter()
                .filter_map(|r| match r {
                    Row::Message(m) => Some(m.text.clone()),
                    Row::System(..) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_caught_up_message_is_placed_by_its_stamp_at_once_and_only_once() {
    let mut m = Model::new(id(0), "me".into());
    let sel = Some(main());
    m.apply(
        &live(message(9, 2, main(), "live", 9)),
        9,
        sel.as_ref(),
        true,
    );
    let Event::Core(CoreEvent::Message(missed)) = message(5, 3, main(), "missed", 5) else {
        unreachable!("a message")
    };
    let recalled = NodeEvent {
        event: Event::Core(CoreEvent::Recalled(missed)),
        history: true,
        search: false,
    };
    m.apply(&recalled, 10, sel.as_ref(), true);
    m.apply(&recalled, 11, sel.as_ref(), true);
    assert_eq!(main_texts(&m), ["missed", "live"]);
}

#[test]
fn pages_of_older_messages_merge_once_each_in_order_until_the_beginning() {
    let mut m = Model::new(id(0), "me".into());
    let sel = Some(main());
    // The newest page: asked once, not again while it is on its way.
    let first = m.open(&main()).next_page().expect("a first page");
    assert_eq!(first.before, None);
    assert_eq!(m.open(&main()).next_page(), None);
    // A live message and a system line come before the answer.
    m.apply(
        &live(message(90, 2, main(), "m90", 90)),
        90,
        sel.as_ref(),
        true,
    );
    m.notice(&main(), 91, "notice".into());
    // Pages here are a few messages; `count` says whether one was full.
    for n in 60..=62 {
        m.apply(&replayed(n), 100, sel.as_ref(), true);
    }
    // Nothing shows before the answer is complete (one merge, one move).
    assert_eq!(main_texts(&m), ["m90"]);
    m.apply(&done(first, HISTORY_PAGE), 100, sel.as_ref(), true);
    assert_eq!(main_texts(&m), ["m60", "m61", "m62", "m90"]);
    assert_eq!(m.chat(&main()).map(|c| c.paging), Some(Paging::More));

    // A full page further back, overlapping at its bound: the one
    // stamped 60 is not shown twice, and the system line stays below.
    let second = m.open(&main()).next_page().expect("a second page");
    assert_eq!(second.before, Some(60));
    for n in [58, 59, 60] {
        m.apply(&replayed(n), 100, sel.as_ref(), true);
    }
    m.apply(&done(second, HISTORY_PAGE), 100, sel.as_ref(), true);
    assert_eq!(main_texts(&m), ["m58", "m59", "m60", "m61", "m62", "m90"]);
    let rows = m.chat(&main()).map(|c| c.rows.clone()).unwrap_or_default();
    assert!(matches!(
        rows.last(),
        Some(Row::System(_, SystemLine::Notice(_)))
    ));
    assert_eq!(m.chat(&main()).map(|c| c.paging), Some(Paging::More));

    // A short page: the beginning; nothing more is asked.
    let third = m.open(&main()).next_page().expect("a third page");
    assert_eq!(third.before, Some(58));
    for n in [57, 58] {
        m.apply(&replayed(n), 100, sel.as_ref(), true);
    }
    m.apply(&done(third, 2), 100, sel.as_ref(), true);
    assert_eq!(m.chat(&main()).map(|c| c.paging), Some(Paging::Start));
    assert_eq!(m.open(&main()).next_page(), None);
    assert_eq!(main_texts(&m).first().map(String::as_str), Some("m57"));
    assert_eq!(main_texts(&m).len(), 7);
}

#[test]
fn an_answer_to_another_request_does_not_end_paging() {
    let mut m = Model::new(id(0), "me".into());
    let page = m.open(&main()).next_page().expect("a page");
    // Someone typed `/history #Main 2`: shown, but not my page.
    m.apply(&replayed(5), 1, None, true);
    let typed = Page {
        before: None,
        limit: 2,
    };
    m.apply(&done(typed, 1), 1, None, true);
    assert_eq!(main_texts(&m), ["m5"]);
    assert_eq!(
        m.chat(&main()).map(|c| c.paging),
        Some(Paging::Loading(page))
    );
    // A full page that brings nothing older (all stamped at the bound)
    // ends paging instead of asking for the same page forever.
    m.apply(&done(page, HISTORY_PAGE), 1, None, true);
    let stuck = m.open(&main()).next_page().expect("a page");
    assert_eq!(stuck.before, Some(5));
    m.apply(&replayed(5), 1, None, true);
    m.apply(&done(stuck, HISTORY_PAGE), 1, None, true);
    assert_eq!(m.chat(&main()).map(|c| c.paging), Some(Paging::Start));
    assert_eq!(main_texts(&m), ["m5"]);
}

#[test]
fn my_direct_message_goes_sending_queued_delivered() {
    let mut m = Model::new(id(0), "me".into());
    let chat = Chat::Direct(id(2));
    let msg = MsgId([9; 16]);
    let sent = Event::Core(CoreEvent::Sent {
        id: msg,
        chat: chat.clone(),
        text: "hi".into(),
        kind: MessageKind::Text,
        hlc: 1,
        author: None,
    });
    m.apply(&live(sent), 1, Some(&chat), true);
    let state = |m: &Model| match m.chat(&chat).and_then(|c| c.rows.last()) {
        Some(Row::Message(row)) => row.state,
        _ => None,
    };
    assert_eq!(state(&m), Some(DmState::Sending));
    m.apply(
        &live(Event::Core(CoreEvent::Queued { id: msg, to: id(2) })),
        2,
        None,
        true,
    );
    assert_eq!(state(&m), Some(DmState::Queued));
    m.apply(
        &live(Event::Core(CoreEvent::Delivered { id: msg, to: id(2) })),
        3,
        None,
        true,
    );
    m.apply(
        &live(Event::Core(CoreEvent::Queued { id: msg, to: id(2) })),
        4,
        None,
        true,
    );
    assert_eq!(state(&m), Some(DmState::Delivered));
}

#[test]
fn typing_shows_for_a_while_and_a_message_clears_it() {
    let mut m = Model::new(id(0), "me".into());
    m.apply(
        &live(Event::Core(CoreEvent::PeerOnline(peer(2, "bob")))),
        0,
        None,
        true,
    );
    let typing = Event::Core(CoreEvent::Typing {
        chat: main(),
        id: id(2),
        nick: "bob".into(),
    });
    m.apply(&live(typing.clone()), 1000, None, true);
    assert_eq!(m.typing(&main(), 1500), ["bob"]);
    assert!(m.typing(&Chat::Direct(id(2)), 1500).is_empty());
    let shown = u64::try_from(TYPING_SHOWN.as_millis()).unwrap_or(0);
    assert!(m.typing(&main(), 1000 + shown).is_empty());
    m.apply(&live(typing), 2000, None, true);
    m.apply(&live(message(1, 2, main(), "done", 2100)), 2100, None, true);
    assert!(m.typing(&main(), 2200).is_empty());
}

#[test]
fn equal_nicks_are_told_apart_and_a_lone_one_is_not() {
    let mut m = Model::new(id(0), "me".into());
    m.apply(
        &live(Event::Core(CoreEvent::PeerOnline(peer(2, "anna")))),
        0,
        None,
        true,
    );
    m.apply(
        &live(Event::Core(CoreEvent::PeerOnline(peer(3, "anna")))),
        0,
        None,
        true,
    );
    assert_eq!(m.label(&id(2)), format!("anna#{}", id(2).short()));
    assert_ne!(m.label(&id(2)), m.label(&id(3)));
    let gone = Event::Core(CoreEvent::PeerOffline {
        id: id(3),
        nick: "anna".into(),
        reason: OfflineReason::Quit,
    });
    m.apply(&live(gone), 0, None, true);
    assert_eq!(m.label(&id(2)), "anna");
}

#[test]
fn channels_sort_after_main_and_private_chats_follow() {
    let mut m = Model::new(id(0), "me".into());
    m.open(&Chat::Direct(id(5)));
    m.open(&Chat::Channel("#zeta".into()));
    m.open(&Chat::Channel("#alpha".into()));
    let order: Vec<String> = m.chats.iter().map(|c| m.title(&c.chat)).collect();
    assert_eq!(order, ["#Main", "#alpha", "#zeta", &id(5).short()]);
    m.close(&main());
    assert_eq!(m.chats[0].chat, main());
}

#[test]
fn completion_offers_people_and_channels_by_prefix() {
    let mut m = Model::new(id(0), "me".into());
    m.apply(
        &live(Event::Core(CoreEvent::PeerOnline(peer(2, "Boris")))),
        0,
        None,
        true,
    );
    m.apply(
        &live(Event::Core(CoreEvent::PeerOnline(peer(3, "bob")))),
        0,
        None,
        true,
    );
    m.open(&Chat::Channel("#dev".into()));
    assert_eq!(m.completions("bo"), ["bob", "Boris"]);
    assert_eq!(m.completions("#d"), ["#dev"]);
    assert!(m.completions("x").is_empty());
}
