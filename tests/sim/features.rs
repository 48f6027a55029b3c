//! One user-visible feature per test, on a small seeded LAN (3 to 6 nodes)
//! at 10 % loss with duplication and reordering unless the point needs a
//! clean network. Each asserts the precise event or field a user relies on.

use std::time::Duration;

use lanchat::protocol::{ChannelSummary, ChatMessage, CoreEvent, OfflineReason, PeerInfo, Target};
use lanchat::types::{MAIN_CHANNEL, MAX_TEXT};
use lanchat::wire::{Body, ChannelState, DirectMsg, Packet, Presence};
use lanchat::{Chat, CoreCommand, MessageKind, MsgId, NodeId, Status};

use super::net::{Faults, Sim, seal, seal_direct};
use super::{say, secs};
use lanchat::envelope::Keys;

const LOSS: f64 = 0.10;

/// Starts one node per nick and lets them find each other.
pub(super) fn lan(seed: u64, nicks: &[&str]) -> Sim {
    let mut sim = Sim::new(seed, Faults::lossy(LOSS));
    for nick in nicks {
        sim.add(nick);
    }
    sim.run_until(secs(3.0));
    for i in 0..nicks.len() {
        let seen = sim.node(i).expect("alive").peers().len();
        assert_eq!(seen, nicks.len() - 1, "host {i} sees {seen} peers");
    }
    sim
}

fn run_for(sim: &mut Sim, s: f64) {
    let t = sim.elapsed() + secs(s);
    sim.run_until(t);
}

fn join(sim: &mut Sim, host: usize, channel: &str) {
    sim.command(
        host,
        CoreCommand::Join {
            channel: channel.into(),
            secret: None,
        },
    );
}

fn channel(name: &str) -> Target {
    Target::Channel(name.into())
}

/// Messages `host` received in `chat` at or after `since`.
fn received(sim: &Sim, host: usize, chat: &Chat, since: Duration) -> Vec<ChatMessage> {
    sim.events(host, since)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Message(m) if &m.chat == chat => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// Texts `host` received in `chat` at or after `since`.
fn texts(sim: &Sim, host: usize, chat: &Chat, since: Duration) -> Vec<String> {
    received(sim, host, chat, since)
        .into_iter()
        .map(|m| m.text)
        .collect()
}

/// Errors `host` reported at or after `since`.
pub(super) fn errors(sim: &Sim, host: usize, since: Duration) -> Vec<String> {
    sim.events(host, since)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Error(refusal) => Some(refusal.to_string()),
            _ => None,
        })
        .collect()
}

/// The id of the last message `host` sent.
fn last_sent(sim: &Sim, host: usize) -> MsgId {
    sim.events(host, Duration::ZERO)
        .into_iter()
        .rev()
        .find_map(|e| match e {
            CoreEvent::Sent { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a message was sent")
}

fn delivered(sim: &Sim, host: usize, id: MsgId, to: NodeId) -> usize {
    sim.events(host, Duration::ZERO)
        .into_iter()
        .filter(|e| matches!(e, CoreEvent::Delivered { id: i, to: t } if *i == id && *t == to))
        .count()
}

/// (text, setter) of every topic event `host` had for `chan` since `since`.
fn topics(sim: &Sim, host: usize, chan: &str, since: Duration) -> Vec<(String, NodeId, String)> {
    sim.events(host, since)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Topic {
                channel,
                text,
                by,
                nick,
            } if channel == chan => Some((text.clone(), *by, nick.clone())),
            _ => None,
        })
        .collect()
}

/// `host`'s answer to `/channels`.
pub(super) fn channel_list(sim: &mut Sim, host: usize) -> Vec<ChannelSummary> {
    let since = sim.elapsed();
    sim.command(host, CoreCommand::Channels);
    sim.events(host, since)
        .into_iter()
        .find_map(|e| match e {
            CoreEvent::Channels(list) => Some(list.clone()),
            _ => None,
        })
        .expect("channels answered")
}

fn peer(sim: &Sim, host: usize, id: NodeId) -> Option<PeerInfo> {
    sim.node(host)?.peers().into_iter().find(|p| p.id == id)
}

#[test]
fn topic_reaches_members_and_late_joiners_and_converges() {
    let mut sim = lan(0x7091, &["ann", "bob", "cat", "dan"]);
    for host in 0..3 {
        join(&mut sim, host, "#dev");
    }
    run_for(&mut sim, 1.0);

    let set_at = sim.elapsed();
    sim.command(
        0,
        CoreCommand::Topic {
            channel: "#dev".into(),
            text: "release on Friday".into(),
        },
    );
    // A lost topic costs a request round (at most one a second), and a
    // round is two datagrams that may be lost in turn.
    run_for(&mut sim, 5.0);
    let expected = (
        "release on Friday".to_string(),
        sim.id(0),
        "ann".to_string(),
    );
    for host in 0..3 {
        assert_eq!(
            topics(&sim, host, "#dev", set_at),
            vec![expected.clone()],
            "host {host}"
        );
    }
    assert!(topics(&sim, 3, "#dev", Duration::ZERO).is_empty());

    // A late joiner learns the topic.
    let joined_at = sim.elapsed();
    join(&mut sim, 3, "#dev");
    run_for(&mut sim, 5.0);
    assert_eq!(topics(&sim, 3, "#dev", joined_at), vec![expected]);

    // Two members set a topic at the same moment: all end with the same one.
    let race_at = sim.elapsed();
    for (host, text) in [(1, "from bob"), (2, "from cat")] {
        sim.command(
            host,
            CoreCommand::Topic {
                channel: "#dev".into(),
                text: text.into(),
            },
        );
    }
    run_for(&mut sim, 5.0);
    let last: Vec<_> = (0..4)
        .map(|h| topics(&sim, h, "#dev", race_at).last().cloned())
        .collect();
    let winner = last[0].clone().expect("host 0 saw a new topic");
    assert!(winner.0 == "from bob" || winner.0 == "from cat");
    for (host, topic) in last.iter().enumerate() {
        assert_eq!(topic.as_ref(), Some(&winner), "host {host}");
        let list = channel_list(&mut sim, host);
        let dev = list.iter().find(|c| c.name == "#dev").expect("#dev listed");
        assert_eq!(dev.topic.as_deref(), Some(winner.0.as_str()), "host {host}");
    }
}

/// Regression: a topic set by a node whose clock runs an hour ahead could
/// not be replaced for an hour; a later `/topic` was silently ignored, even
/// on the node that set it.
#[test]
fn topic_from_a_clock_far_ahead_can_be_replaced() {
    // Host 3's clock is an hour ahead.
    let mut sim = lan(0x7092, &["ann", "bob", "cat", "fast"]);
    for host in 0..4 {
        join(&mut sim, host, "#ops");
    }
    run_for(&mut sim, 1.0);
    sim.command(
        3,
        CoreCommand::Topic {
            channel: "#ops".into(),
            text: "old".into(),
        },
    );
    run_for(&mut sim, 5.0);
    let later = sim.elapsed();
    sim.command(
        0,
        CoreCommand::Topic {
            channel: "#ops".into(),
            text: "new".into(),
        },
    );
    // A lost topic costs a request round, at most one a second.
    run_for(&mut sim, 5.0);
    for host in 0..4 {
        let seen = topics(&sim, host, "#ops", later);
        assert_eq!(
            seen,
            vec![("new".to_string(), sim.id(0), "ann".to_string())],
            "host {host}"
        );
    }
}

#[test]
fn join_and_part_are_seen_and_scope_channel_traffic() {
    let mut sim = lan(0x7093, &["ann", "bob", "cat", "dan"]);
    let t0 = sim.elapsed();
    for host in 0..3 {
        join(&mut sim, host, "#dev");
    }
    run_for(&mut sim, 1.0);
    // Each member learns of the other two joining; the outsider of none.
    for host in 0..3 {
        let mut joined: Vec<NodeId> = sim
            .events(host, t0)
            .into_iter()
            .filter_map(|e| match e {
                CoreEvent::Joined { channel, id, .. } if channel == "#dev" => Some(*id),
                _ => None,
            })
            .collect();
        joined.sort();
        let mut want: Vec<NodeId> = (0..3).map(|h| sim.id(h)).collect();
        want.sort();
        assert_eq!(joined, want, "host {host}");
    }
    assert!(
        !sim.events(3, t0)
            .iter()
            .any(|e| matches!(e, CoreEvent::Joined { .. })),
        "a non-member was told of joins"
    );

    // A channel known only from peers' presence is listed with its members.
    let list = channel_list(&mut sim, 3);
    let dev = list.iter().find(|c| c.name == "#dev").expect("#dev listed");
    assert_eq!((dev.members, dev.joined), (3, false));
    let main = list.iter().find(|c| c.name == MAIN_CHANNEL).expect("#Main");
    assert_eq!((main.members, main.joined), (4, true));

    let talk = sim.elapsed();
    say(&mut sim, 0, channel("#dev"), "one".into());
    run_for(&mut sim, 1.0);
    let dev_chat = Chat::Channel("#dev".into());
    for host in 1..3 {
        assert_eq!(
            texts(&sim, host, &dev_chat, talk),
            vec!["one"],
            "host {host}"
        );
    }
    assert!(texts(&sim, 3, &dev_chat, Duration::ZERO).is_empty());

    // Bob leaves: the others are told, and he gets nothing more of #dev.
    let parted_at = sim.elapsed();
    sim.command(
        1,
        CoreCommand::Part {
            channel: "dev".into(),
        },
    );
    run_for(&mut sim, 1.0);
    for host in [0, 2] {
        let parted: Vec<_> = sim
            .events(host, parted_at)
            .into_iter()
            .filter(|e| matches!(e, CoreEvent::Parted { .. }))
            .cloned()
            .collect();
        assert_eq!(
            parted,
            vec![CoreEvent::Parted {
                channel: "#dev".into(),
                id: sim.id(1),
                nick: "bob".into()
            }],
            "host {host}"
        );
    }
    say(&mut sim, 0, channel("#dev"), "two".into());
    say(&mut sim, 2, channel("#dev"), "three".into());
    run_for(&mut sim, 2.0);
    assert_eq!(texts(&sim, 2, &dev_chat, parted_at), vec!["two"]);
    assert_eq!(texts(&sim, 0, &dev_chat, parted_at), vec!["three"]);
    assert!(texts(&sim, 1, &dev_chat, parted_at).is_empty());
    assert!(texts(&sim, 3, &dev_chat, Duration::ZERO).is_empty());
    let list = channel_list(&mut sim, 3);
    let dev = list.iter().find(|c| c.name == "#dev").expect("#dev listed");
    assert_eq!(dev.members, 2);

    // #Main cannot be left.
    let main_at = sim.elapsed();
    sim.command(
        1,
        CoreCommand::Part {
            channel: "#main".into(),
        },
    );
    assert_eq!(
        errors(&sim, 1, main_at),
        vec![format!("{MAIN_CHANNEL} cannot be left")]
    );
    assert!(
        sim.node(1)
            .expect("alive")
            .joined_channels()
            .contains(&MAIN_CHANNEL.to_string())
    );
}

#[test]
fn nick_changes_are_seen_and_equal_nicks_are_told_apart() {
    let mut sim = lan(0x7094, &["ann", "alex", "alex", "dan"]);
    let renamed_at = sim.elapsed();
    sim.command(3, CoreCommand::Nick("daniel".into()));
    // Three presences within 0.5 s, then heartbeats.
    run_for(&mut sim, 2.0);
    for host in 0..3 {
        let changes: Vec<_> = sim
            .events(host, renamed_at)
            .into_iter()
            .filter(|e| matches!(e, CoreEvent::NickChanged { .. }))
            .cloned()
            .collect();
        assert_eq!(
            changes,
            vec![CoreEvent::NickChanged {
                id: sim.id(3),
                old: "dan".into(),
                new: "daniel".into()
            }],
            "host {host}"
        );
        assert_eq!(peer(&sim, host, sim.id(3)).expect("online").nick, "daniel");
    }

    // Two "alex": labelled apart everywhere, also by each other.
    let (a1, a2) = (sim.id(1), sim.id(2));
    let label1 = format!("alex#{}", a1.short());
    let label2 = format!("alex#{}", a2.short());
    assert_ne!(label1, label2);
    assert_eq!(peer(&sim, 0, a1).expect("online").label, label1);
    assert_eq!(peer(&sim, 0, a2).expect("online").label, label2);
    assert_eq!(peer(&sim, 2, a1).expect("online").label, label1);
    assert_eq!(peer(&sim, 1, a2).expect("online").label, label2);
    assert_eq!(peer(&sim, 0, sim.id(3)).expect("online").label, "daniel");

    // "alex" alone is ambiguous; the error names both.
    let asked_at = sim.elapsed();
    say(&mut sim, 0, Target::Person("alex".into()), "hi".into());
    let errs = errors(&sim, 0, asked_at);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains(&label1) && errs[0].contains(&label2),
        "{}",
        errs[0]
    );
    assert!(
        !sim.events(0, asked_at)
            .iter()
            .any(|e| matches!(e, CoreEvent::Sent { .. }))
    );

    // "alex#abcd" picks one.
    say(&mut sim, 0, Target::Person(label2.clone()), "hi".into());
    run_for(&mut sim, 2.0);
    assert_eq!(
        texts(&sim, 2, &Chat::Direct(sim.id(0)), asked_at),
        vec!["hi"]
    );
    assert!(texts(&sim, 1, &Chat::Direct(sim.id(0)), asked_at).is_empty());
    assert_eq!(delivered(&sim, 0, last_sent(&sim, 0), a2), 1);
}

#[test]
fn status_and_its_text_are_seen_by_others() {
    let mut sim = lan(0x7095, &["ann", "bob", "cat"]);
    for (status, text) in [(Status::Away, "at lunch"), (Status::DoNotDisturb, "call")] {
        let at = sim.elapsed();
        sim.command(
            1,
            CoreCommand::Status {
                status,
                text: text.into(),
            },
        );
        run_for(&mut sim, 2.0);
        for host in [0, 2] {
            let changes: Vec<_> = sim
                .events(host, at)
                .into_iter()
                .filter(|e| matches!(e, CoreEvent::StatusChanged { .. }))
                .cloned()
                .collect();
            assert_eq!(
                changes,
                vec![CoreEvent::StatusChanged {
                    id: sim.id(1),
                    nick: "bob".into(),
                    status,
                    text: text.into()
                }],
                "host {host}"
            );
            let info = peer(&sim, host, sim.id(1)).expect("online");
            assert_eq!((info.status, info.status_text.as_str()), (status, text));
        }
    }
}

#[test]
fn memo_to_two_people_is_one_message_delivered_to_each() {
    let mut sim = lan(0x7096, &["ann", "bob", "cat", "dan"]);
    let at = sim.elapsed();
    sim.command(
        0,
        CoreCommand::Say {
            to: vec![Target::Person("bob".into()), Target::Person("cat".into())],
            text: "meeting at 3".into(),
            kind: MessageKind::Text,
        },
    );
    run_for(&mut sim, 3.0);
    let sent: Vec<(MsgId, Chat)> = sim
        .events(0, at)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Sent { id, chat, .. } => Some((*id, chat.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let id = sent[0].0;
    assert_eq!(sent[1].0, id, "a memo keeps one id");
    let from_ann = Chat::Direct(sim.id(0));
    for host in [1, 2] {
        let got = received(&sim, host, &from_ann, at);
        assert_eq!(got.len(), 1, "host {host}");
        assert_eq!((got[0].id, got[0].text.as_str()), (id, "meeting at 3"));
        assert_eq!(delivered(&sim, 0, id, sim.id(host)), 1, "receipt of {host}");
    }
    assert!(received(&sim, 3, &from_ann, at).is_empty());
}

#[test]
fn direct_message_to_a_dead_peer_is_queued_then_delivered_once_after_restart() {
    let mut sim = lan(0x7097, &["ann", "bob", "cat"]);
    // An earlier exchange, so the restarted peer meets a stream in progress.
    let to = Target::Node(sim.id(1));
    say(&mut sim, 0, to, "before".into());
    run_for(&mut sim, 2.0);
    assert_eq!(delivered(&sim, 0, last_sent(&sim, 0), sim.id(1)), 1);

    sim.kill(1);
    // One sent just after the kill, one after it is known to be gone.
    let to = Target::Node(sim.id(1));
    say(&mut sim, 0, to, "right after".into());
    let first = last_sent(&sim, 0);
    run_for(&mut sim, 8.0);
    assert!(
        peer(&sim, 0, sim.id(1)).is_none(),
        "killed peer still shown"
    );
    say(
        &mut sim,
        0,
        Target::Person("bob".into()),
        "while away".into(),
    );
    let second = last_sent(&sim, 0);
    run_for(&mut sim, 0.1);
    for id in [first, second] {
        let queued = sim
            .events(0, Duration::ZERO)
            .into_iter()
            .filter(
                |e| matches!(e, CoreEvent::Queued { id: i, to } if *i == id && *to == sim.id(1)),
            )
            .count();
        assert_eq!(queued, 1, "Queued reports for {id:?}");
        assert_eq!(delivered(&sim, 0, id, sim.id(1)), 0);
    }

    let back = sim.elapsed();
    sim.restart(1, "bob");
    run_for(&mut sim, 5.0);
    let got = received(&sim, 1, &Chat::Direct(sim.id(0)), back);
    let got: Vec<(MsgId, &str)> = got.iter().map(|m| (m.id, m.text.as_str())).collect();
    assert_eq!(got, vec![(first, "right after"), (second, "while away")]);
    for id in [first, second] {
        assert_eq!(delivered(&sim, 0, id, sim.id(1)), 1);
    }
    assert_eq!(sim.node(0).expect("alive").outbox_len(), 0);
}

#[test]
fn beeps_are_rate_limited_per_sender() {
    let mut sim = lan(0x7098, &["ann", "bob", "cat"]);
    let at = sim.elapsed();
    let bob = Target::Person("bob".into());
    sim.command(0, CoreCommand::Beep(bob.clone()));
    run_for(&mut sim, 1.0);
    sim.command(0, CoreCommand::Beep(bob.clone())); // within 3 s: not shown
    run_for(&mut sim, 0.5);
    sim.command(2, CoreCommand::Beep(bob.clone())); // another sender: shown
    run_for(&mut sim, 3.5);
    sim.command(0, CoreCommand::Beep(bob)); // 5 s after the first: shown
    run_for(&mut sim, 3.0);
    let beeps: Vec<_> = sim
        .events(1, at)
        .into_iter()
        .filter(|e| matches!(e, CoreEvent::Beep { .. }))
        .cloned()
        .collect();
    let beep = |host: usize, nick: &str| CoreEvent::Beep {
        from: sim.id(host),
        nick: nick.into(),
    };
    assert_eq!(beeps, vec![beep(0, "ann"), beep(2, "cat"), beep(0, "ann")]);
    assert_eq!(sim.node(1).expect("alive").stats().beeps_limited, 1);
    // A beep is not a message.
    assert!(received(&sim, 1, &Chat::Direct(sim.id(0)), at).is_empty());
}

#[test]
fn quit_is_seen_at_once_and_a_replayed_presence_does_not_revive() {
    let mut sim = lan(0x7099, &["ann", "bob", "quinn", "dan"]);
    let q = 2;
    let (qid, qepoch) = (sim.id(q), sim.node(q).expect("alive").epoch());
    let quit_at = sim.elapsed();
    sim.command(q, CoreCommand::Quit);
    run_for(&mut sim, 0.5);
    assert!(
        sim.events(q, quit_at)
            .iter()
            .any(|e| matches!(e, CoreEvent::Stopped))
    );
    for host in [0, 1, 3] {
        let gone: Vec<_> = sim
            .events(host, quit_at)
            .into_iter()
            .filter(|e| matches!(e, CoreEvent::PeerOffline { id, .. } if *id == qid))
            .cloned()
            .collect();
        assert_eq!(
            gone,
            vec![CoreEvent::PeerOffline {
                id: qid,
                nick: "quinn".into(),
                reason: OfflineReason::Quit
            }],
            "host {host}"
        );
    }

    // A late copy of its presence (same life) must not bring it back.
    let replay = seal(
        &sim.keys(q),
        &Packet {
            from: qid,
            epoch: qepoch,
            body: Body::Presence(Presence {
                nick: "quinn".into(),
                host: "pc2".into(),
                version: "0".into(),
                channels: vec![ChannelState {
                    name: MAIN_CHANNEL.into(),
                    tail: 0,
                    topic_stamp: 0,
                }],
                hello: true,
                ..Presence::default()
            }),
        },
    );
    let from = sim.addr(q);
    for host in [0, 1, 3] {
        sim.inject(host, from, &replay);
    }
    run_for(&mut sim, 0.5);
    for host in [0, 1, 3] {
        sim.inject(host, from, &replay);
    }
    run_for(&mut sim, 3.0);
    for host in [0, 1, 3] {
        assert!(peer(&sim, host, qid).is_none(), "host {host} shows quinn");
        assert!(
            !sim.events(host, quit_at)
                .iter()
                .any(|e| matches!(e, CoreEvent::PeerOnline(p) if p.id == qid)),
            "host {host} reported quinn online again"
        );
    }
}

/// A killed node's lean heartbeats, all of them replayed every 100 ms from
/// its own address, do not keep it online: the replays disclose no key its
/// chain had not disclosed, and a beat of an interval long past proves
/// nothing (issue 16, item 7).
#[test]
fn replayed_lean_heartbeats_do_not_keep_a_killed_node_online() {
    let mut sim = lan(0x1ea7, &["ann", "bob", "quinn"]);
    // Quiet: the heartbeats are lean.
    run_for(&mut sim, 12.0);
    let q = 2;
    let (qid, qepoch) = (sim.id(q), sim.node(q).expect("alive").epoch());
    let tag = lanchat::chain::tag(qid, qepoch);
    let leans: Vec<Vec<u8>> = sim
        .captured()
        .into_iter()
        .filter(|d| {
            matches!(lanchat::envelope::open(d, None),
                Ok(lanchat::envelope::Datagram::Lean(l)) if l.tag == tag)
        })
        .collect();
    assert!(
        leans.len() >= 5,
        "{} lean beats of quinn captured",
        leans.len()
    );
    let killed_at = sim.elapsed();
    sim.kill(q);
    let from = sim.addr(q);
    for _ in 0..80 {
        for host in [0, 1] {
            for l in &leans {
                sim.inject(host, from, l);
            }
        }
        run_for(&mut sim, 0.1);
    }
    for host in [0, 1] {
        let gone = sim.log.iter().find(|l| {
            l.host == host
                && l.at >= killed_at
                && matches!(&l.event, CoreEvent::PeerOffline { id, reason: OfflineReason::Timeout, .. } if *id == qid)
        });
        let at = gone.map(|l| l.at - killed_at);
        assert!(
            at.is_some_and(|a| a <= secs(6.0)),
            "host {host}: quinn offline after {at:?}"
        );
        assert!(peer(&sim, host, qid).is_none(), "host {host} shows quinn");
    }
}

/// 64 KiB: Cyrillic after one ASCII byte (fragments end mid-character), and
/// emoji in a pattern that makes most fragments end three bytes short.
fn long_texts() -> Vec<String> {
    let cyrillic = format!("x{}y", "ж".repeat(MAX_TEXT / 2 - 1));
    let mut emoji = String::from("Лог: ");
    while emoji.len() + 13 <= MAX_TEXT {
        emoji.push_str("a😀😀😀");
    }
    vec![cyrillic, emoji]
}

#[test]
fn longest_text_arrives_whole_once_and_longer_is_refused() {
    let mut sim = lan(0x709a, &["ann", "bob", "cat", "dan"]);
    let main = Chat::Channel(MAIN_CHANNEL.into());
    for (which, text) in long_texts().into_iter().enumerate() {
        assert!(text.len() <= MAX_TEXT && text.len() > MAX_TEXT - 13);
        let at = sim.elapsed();
        say(&mut sim, 0, channel(MAIN_CHANNEL), text.clone());
        let to = Target::Node(sim.id(2));
        say(&mut sim, 0, to, text.clone());
        let dm = last_sent(&sim, 0);
        run_for(&mut sim, 5.0);
        for host in 1..4 {
            let got = texts(&sim, host, &main, at);
            assert_eq!(
                got.len(),
                1,
                "host {host} got {} copies of text {which}",
                got.len()
            );
            assert!(got[0] == text, "host {host} got a different text {which}");
        }
        let got = texts(&sim, 2, &Chat::Direct(sim.id(0)), at);
        assert_eq!(got.len(), 1, "direct copies of text {which}");
        assert!(got[0] == text, "direct text {which} differs");
        assert_eq!(
            delivered(&sim, 0, dm, sim.id(2)),
            1,
            "receipt of text {which}"
        );
    }

    let at = sim.elapsed();
    let too_long = "ж".repeat(MAX_TEXT / 2) + "!";
    say(&mut sim, 0, channel(MAIN_CHANNEL), too_long.clone());
    let to = Target::Node(sim.id(2));
    say(&mut sim, 0, to, too_long);
    assert_eq!(
        errors(&sim, 0, at),
        vec![
            format!(
                "the text is {} bytes; the limit is {MAX_TEXT}",
                MAX_TEXT + 1
            );
            2
        ]
    );
    assert!(
        !sim.events(0, at)
            .iter()
            .any(|e| matches!(e, CoreEvent::Sent { .. }))
    );
}

#[test]
fn a_clock_an_hour_ahead_cannot_push_its_messages_to_the_top() {
    // The Sim sets host 3's clock an hour ahead.
    let mut sim = lan(0x709b, &["ann", "bob", "cat", "fast"]);
    let at = sim.elapsed();
    say(&mut sim, 3, channel(MAIN_CHANNEL), "from the future".into());
    let to = Target::Node(sim.id(0));
    say(&mut sim, 3, to, "dm from the future".into());
    // Clamping allows 2 s ahead and right clocks differ by up to 2 s, so a
    // message 5 s later must be ordered after it everywhere.
    run_for(&mut sim, 5.0);
    say(
        &mut sim,
        1,
        channel(MAIN_CHANNEL),
        "five seconds later".into(),
    );
    run_for(&mut sim, 2.0);

    let fast = sim.id(3);
    let mut checked = 0;
    for l in sim.log.iter().filter(|l| l.at >= at && l.host != 3) {
        let CoreEvent::Message(m) = &l.event else {
            continue;
        };
        if m.from != fast {
            continue;
        }
        let wall = sim.wall_ms_at(l.host, l.at);
        assert!(
            m.time_ms <= wall + 2_000 && lanchat::hlc::wall_ms(m.hlc) <= wall + 2_000,
            "host {} filed a message {} ms ahead",
            l.host,
            lanchat::hlc::wall_ms(m.hlc).saturating_sub(wall)
        );
        checked += 1;
    }
    assert_eq!(checked, 4, "3 channel copies and 1 direct message");
    // A later message from a right clock is shown after it.
    for host in [0, 2] {
        let got = received(&sim, host, &Chat::Channel(MAIN_CHANNEL.into()), at);
        let hlc_of = |text: &str| {
            got.iter()
                .find(|m| m.text == text)
                .map(|m| m.hlc)
                .expect("received")
        };
        assert!(
            hlc_of("five seconds later") > hlc_of("from the future"),
            "host {host}"
        );
    }
}

#[test]
fn a_frozen_peer_goes_offline_comes_back_and_catches_up() {
    let mut sim = lan(0x709c, &["ann", "bob", "frozen", "dan"]);
    let f = 2;
    let fid = sim.id(f);
    let main = Chat::Channel(MAIN_CHANNEL.into());
    let frozen_at = sim.elapsed();
    sim.freeze(f, true);
    run_for(&mut sim, 3.0);
    say(&mut sim, 0, channel(MAIN_CHANNEL), "while frozen 1".into());
    run_for(&mut sim, 5.0);
    say(&mut sim, 0, channel(MAIN_CHANNEL), "while frozen 2".into());
    run_for(&mut sim, 7.0);
    for host in [0, 1, 3] {
        let gone: Vec<_> = sim
            .log
            .iter()
            .filter(|l| l.host == host && l.at >= frozen_at)
            .filter_map(|l| match &l.event {
                CoreEvent::PeerOffline { id, reason, .. } if *id == fid => Some((l.at, *reason)),
                _ => None,
            })
            .collect();
        assert_eq!(gone.len(), 1, "host {host}: {gone:?}");
        assert_eq!(gone[0].1, OfflineReason::Timeout);
        assert!(gone[0].0 - frozen_at <= secs(7.0), "host {host}: {gone:?}");
        assert!(peer(&sim, host, fid).is_none());
    }

    let thawed_at = sim.elapsed();
    sim.freeze(f, false);
    run_for(&mut sim, 2.0);
    for host in [0, 1, 3] {
        let back = sim
            .events(host, thawed_at)
            .into_iter()
            .any(|e| matches!(e, CoreEvent::PeerOnline(p) if p.id == fid));
        assert!(back, "host {host} did not see the frozen peer come back");
        assert!(peer(&sim, host, fid).is_some());
    }

    let talk = sim.elapsed();
    say(&mut sim, f, channel(MAIN_CHANNEL), "back again".into());
    let to = Target::Node(sim.id(1));
    say(&mut sim, f, to, "back, privately".into());
    let dm = last_sent(&sim, f);
    run_for(&mut sim, 3.0);
    for host in [0, 1, 3] {
        let from_f: Vec<String> = received(&sim, host, &main, talk)
            .into_iter()
            .filter(|m| m.from == fid)
            .map(|m| m.text)
            .collect();
        assert_eq!(from_f, vec!["back again"], "host {host}");
    }
    assert_eq!(
        texts(&sim, 1, &Chat::Direct(fid), talk),
        vec!["back, privately"]
    );
    assert_eq!(delivered(&sim, f, dm, sim.id(1)), 1);
    // What was said meanwhile is caught up, once and in order.
    let missed: Vec<String> = received(&sim, f, &main, frozen_at)
        .into_iter()
        .filter(|m| m.from == sim.id(0))
        .map(|m| m.text)
        .collect();
    assert_eq!(missed, vec!["while frozen 1", "while frozen 2"]);
}

/// Regression: presence carried no order, so a heartbeat overtaken by the
/// presence announcing a join (reordering on the LAN) was taken for a part:
/// members saw "ann left #dev" and "ann joined #dev" again.
#[test]
fn an_overtaken_presence_is_not_taken_for_a_part() {
    let mut sim = Sim::new(
        0x709d,
        Faults {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
        },
    );
    sim.add("bob");
    join(&mut sim, 0, "#dev");
    sim.run_until(secs(1.0));
    let ann_keys = Keys::from_secret(&[0xa1; 32]);
    let ann = ann_keys.id();
    let from: std::net::SocketAddr = ([10, 77, 9, 9], 40000).into();
    let presence = |seq: u64, channels: &[&str]| {
        seal(
            &ann_keys,
            &Packet {
                from: ann,
                epoch: 1,
                body: Body::Presence(Presence {
                    nick: "ann".into(),
                    channels: channels
                        .iter()
                        .map(|c| ChannelState {
                            name: (*c).into(),
                            ..ChannelState::default()
                        })
                        .collect(),
                    seq,
                    ..Presence::default()
                }),
            },
        )
    };
    let at = sim.elapsed();
    sim.inject(0, from, &presence(1, &[MAIN_CHANNEL]));
    sim.inject(0, from, &presence(3, &[MAIN_CHANNEL, "#dev"]));
    sim.inject(0, from, &presence(2, &[MAIN_CHANNEL]));
    sim.run_until(secs(1.5));
    let news: Vec<_> = sim
        .events(0, at)
        .into_iter()
        .filter(|e| matches!(e, CoreEvent::Joined { .. } | CoreEvent::Parted { .. }))
        .cloned()
        .collect();
    assert_eq!(
        news,
        vec![CoreEvent::Joined {
            channel: "#dev".into(),
            id: ann,
            nick: "ann".into()
        }]
    );
    let info = peer(&sim, 0, ann).expect("online");
    assert_eq!(info.channels, vec!["#Main".to_string(), "#dev".to_string()]);
}

/// Regression: a beep from someone whose presence was not known yet named
/// them `?`, where a message names them `?abcd` (the start of their id).
#[test]
fn a_direct_message_or_beep_before_the_senders_presence_names_it_by_short_id() {
    let mut sim = Sim::new(
        0xd1,
        Faults {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
        },
    );
    sim.add("ann");
    sim.run_until(secs(1.0));
    let ann = sim.id(0);
    let stranger_keys = Keys::from_secret(&[0xab; 32]);
    let stranger = stranger_keys.id();
    let ann_key = sim.keys(0).public();
    let from: std::net::SocketAddr = "10.77.9.9:47077".parse().expect("address");
    let direct = |seq: u64, kind: MessageKind, text: &str| {
        seal_direct(
            &stranger_keys,
            1,
            &ann_key,
            &DirectMsg {
                to: ann,
                seq,
                base: 1,
                id: MsgId([0xa0 + u8::try_from(seq).unwrap_or(0); 16]),
                hlc: 1 << 16,
                kind,
                part: 0,
                parts: 1,
                text: text.into(),
            },
        )
    };
    let at = sim.elapsed();
    sim.inject(0, from, &direct(1, MessageKind::Text, "hello?"));
    sim.inject(0, from, &direct(2, MessageKind::Beep, ""));
    let short = format!("?{}", stranger.short());
    let names: Vec<(bool, String)> = sim
        .events(0, at)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::Message(m) if m.chat == Chat::Direct(stranger) => {
                Some((false, m.nick.clone()))
            }
            CoreEvent::Beep { from, nick } if *from == stranger => Some((true, nick.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(names, [(false, short.clone()), (true, short)]);
}
