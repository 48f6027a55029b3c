//! Tests of [`super`].

use super::*;

fn msg(n: u8, chat: Chat, text: &str, hlc: u64) -> Stored {
    Stored {
        message: ChatMessage {
            id: MsgId([n; 16]),
            chat,
            from: NodeId([n % 3; 16]),
            nick: format!("p{}", n % 3),
            kind: MessageKind::Text,
            text: text.into(),
            time_ms: 1_000 * hlc,
            hlc,
            author: Some(crate::envelope::AuthorSig {
                key: crate::envelope::PublicKey([n; 32]),
                sig: [n; 64],
            }),
        },
        dm_state: None,
    }
}

fn main() -> Chat {
    Chat::Channel("#Main".into())
}

#[test]
fn messages_survive_reopening_once_each_in_order() {
    let dir = std::env::temp_dir().join(format!("lanchat-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    {
        let mut store = Store::open(&dir).expect("open");
        assert_eq!(store.version().expect("version"), 4);
        let batch: Vec<Write> = [3u8, 1, 2]
            .iter()
            .map(|n| Write::Message(msg(*n, main(), &format!("m{n}"), u64::from(*n))))
            .collect();
        assert!(store.write(&batch).expect("write").is_empty());
        assert_eq!(store.write(&batch).expect("write again").len(), 3);
    }
    let store = Store::open(&dir).expect("reopen");
    let texts: Vec<String> = store
        .newest(&main(), 10)
        .expect("newest")
        .into_iter()
        .map(|s| s.message.text)
        .collect();
    assert_eq!(texts, ["m1", "m2", "m3"]);
    // Each with its author's key and signature, to hand on.
    let authors: Vec<u8> = store
        .newest(&main(), 10)
        .expect("newest")
        .into_iter()
        .filter_map(|s| s.message.author)
        .filter(|a| a.key.0 == [a.sig[0]; 32] && a.sig == [a.sig[0]; 64])
        .map(|a| a.sig[0])
        .collect();
    assert_eq!(authors, [1, 2, 3]);
    assert_eq!(store.count().expect("count"), 3);
    let newest_two: Vec<String> = store
        .newest(&main(), 2)
        .expect("newest")
        .into_iter()
        .map(|s| s.message.text)
        .collect();
    assert_eq!(newest_two, ["m2", "m3"]);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn recent_channel_messages_are_the_newest_of_each_channel_and_no_direct_ones() {
    let mut store = Store::in_memory().expect("open");
    let dev = Chat::Channel("#dev".into());
    let direct = Chat::Direct(NodeId([7; 16]));
    let mut batch = Vec::new();
    for n in 0..10u8 {
        batch.push(Write::Message(msg(
            n,
            main(),
            &format!("m{n}"),
            u64::from(n),
        )));
        batch.push(Write::Message(msg(n + 100, dev.clone(), "d", u64::from(n))));
        batch.push(Write::Message(msg(
            n + 200,
            direct.clone(),
            "p",
            u64::from(n),
        )));
    }
    store.write(&batch).expect("write");
    let recent = store.recent_channels(3, 8).expect("recent");
    let seen: Vec<(Chat, u64)> = recent.iter().map(|m| (m.chat.clone(), m.hlc)).collect();
    assert_eq!(
        seen,
        [(main(), 8), (main(), 9), (dev.clone(), 8), (dev, 9)],
        "channels in byte order ('M' < 'd'), each oldest first"
    );
    let three: Vec<u64> = store
        .recent_channels(3, 0)
        .expect("recent")
        .iter()
        .filter(|m| m.chat == main())
        .map(|m| m.hlc)
        .collect();
    assert_eq!(three, [7, 8, 9]);
}

#[test]
fn a_page_further_back_ends_at_its_bound_inclusive_and_uses_the_index() {
    let mut store = Store::in_memory().expect("open");
    // Two senders stamp 5 alike; another chat is interleaved.
    let mut batch: Vec<Write> = (1..=9u8)
        .map(|n| Write::Message(msg(n, main(), &format!("m{n}"), u64::from(n))))
        .collect();
    batch.push(Write::Message(msg(21, main(), "m5 too", 5)));
    batch.push(Write::Message(msg(30, Chat::Channel("#x".into()), "x", 4)));
    store.write(&batch).expect("write");
    let page = |hlc, limit| -> Vec<String> {
        store
            .before(&main(), hlc, limit)
            .expect("before")
            .into_iter()
            .map(|s| s.message.text)
            .collect()
    };
    assert_eq!(page(5, 3), ["m4", "m5 too", "m5"]);
    assert_eq!(page(4, 10), ["m1", "m2", "m3", "m4"]);
    assert_eq!(page(3, 2), ["m2", "m3"]);
    assert!(page(0, 10).is_empty());
    assert_eq!(page(u64::MAX, 2), ["m8", "m9"]);
    // A search of the index, walked backwards: no table scan, no sort.
    let plan: Vec<String> = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {BEFORE_SQL}"))
        .expect("plan")
        .query_map(params!["#Main", 5, 3], |r| r.get::<_, String>(3))
        .expect("plan rows")
        .collect::<Result<_, _>>()
        .expect("plan text");
    assert!(
        plan.iter()
            .any(|p| p.contains("USING INDEX message_chat (chat=? AND hlc<?)")),
        "{plan:?}"
    );
    assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
}

#[test]
fn search_finds_words_in_any_case_and_script_and_is_never_syntax() {
    let mut store = Store::in_memory().expect("open");
    store
        .write(&[
            Write::Message(msg(1, main(), "Release at 16:00", 1)),
            Write::Message(msg(2, main(), "Привет, коллеги! Релиз сегодня", 2)),
            Write::Message(msg(
                3,
                Chat::Direct(NodeId([9; 16])),
                "the release notes",
                3,
            )),
            Write::Message(msg(4, main(), "nothing here", 4)),
        ])
        .expect("write");
    let hits = |q: &str| -> Vec<u8> {
        store
            .search(q, 10)
            .expect("search")
            .iter()
            .map(|s| s.message.id.0[0])
            .collect()
    };
    assert_eq!(hits("release"), [3, 1]);
    assert_eq!(hits("РЕЛИЗ"), [2]);
    assert_eq!(hits("коллеги релиз"), [2]);
    assert!(hits("release nothing").is_empty());
    // FTS operators typed by a user are words, not syntax errors.
    assert!(hits("\"AND OR NOT * ( )").is_empty());
    assert!(hits("   ").is_empty());
    assert_eq!(
        store.search("notes", 10).expect("search")[0].message.chat,
        Chat::Direct(NodeId([9; 16]))
    );
}

#[test]
fn a_delivered_direct_message_stays_delivered() {
    let mut store = Store::in_memory().expect("open");
    let chat = Chat::Direct(NodeId([7; 16]));
    let mut mine = msg(1, chat.clone(), "hi", 1);
    mine.dm_state = Some(DmState::Sending);
    let id = mine.message.id;
    store.write(&[Write::Message(mine)]).expect("write");
    for state in [DmState::Queued, DmState::Delivered, DmState::Queued] {
        store.write(&[Write::DmState { id, state }]).expect("state");
    }
    let stored = store.newest(&chat, 1).expect("newest");
    assert_eq!(stored[0].dm_state, Some(DmState::Delivered));
    assert!(store.undelivered().expect("undelivered").is_empty());
    let mut other = msg(2, chat.clone(), "later", 2);
    other.dm_state = Some(DmState::Queued);
    store.write(&[Write::Message(other)]).expect("write");
    let pending = store.undelivered().expect("undelivered");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].message.text, "later");
}

#[test]
fn pruning_by_age_and_count_also_clears_the_index() {
    let mut store = Store::in_memory().expect("open");
    let batch: Vec<Write> = (1..=10u8)
        .map(|n| Write::Message(msg(n, main(), "word", u64::from(n))))
        .collect();
    store.write(&batch).expect("write");
    assert_eq!(store.prune(Some(3_000), None).expect("age"), 2);
    assert_eq!(store.prune(None, Some(5)).expect("count"), 3);
    assert_eq!(store.count().expect("count"), 5);
    assert_eq!(store.search("word", 100).expect("search").len(), 5);
    assert!(!store.contains(&MsgId([1; 16])).expect("contains"));
    assert!(store.contains(&MsgId([10; 16])).expect("contains"));
}

#[test]
fn a_database_from_a_newer_lanchat_is_refused_not_damaged() {
    let conn = Connection::open_in_memory().expect("open");
    conn.pragma_update(None, "user_version", 99)
        .expect("version");
    assert!(matches!(
        Store::setup(conn),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}
