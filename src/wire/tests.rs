//! Tests of [`super`].

use super::*;

fn encode(packet: &Packet) -> Result<Vec<u8>, EncodeError> {
    encode_packet(packet)
}

fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
    decode_packet(bytes)
}
use crate::types::clip;

fn id(n: u8) -> NodeId {
    NodeId([n; 16])
}

fn full_presence() -> Packet {
    let channels = (0..MAX_JOINED)
        .map(|i| ChannelState {
            name: clip(&format!("#{i}{}", "w".repeat(40)), MAX_CHANNEL_NAME),
            tail: u64::MAX,
            topic_stamp: u64::MAX,
        })
        .collect();
    Packet {
        from: id(1),
        epoch: u64::MAX,
        body: Body::Presence(Presence {
            nick: "ж".repeat(MAX_NICK / 2),
            status: Status::DoNotDisturb,
            status_text: "s".repeat(MAX_STATUS_TEXT),
            host: "h".repeat(MAX_HOST),
            version: "v".repeat(16),
            since_ms: u64::MAX,
            channels,
            hello: true,
            seq: u64::MAX,
            knows: u16::MAX,
            chain: ChainPoint {
                interval: u64::MAX,
                key: [0xff; crate::chain::KEY_LEN],
                next: Some([0xff; crate::chain::KEY_LEN]),
            },
            ..Presence::default()
        }),
    }
}

/// The largest presence with password channels: a sealed state is
/// smaller than an open channel's, and together they are at most
/// `MAX_JOINED`.
fn full_sealed_presence(sealed: usize) -> Packet {
    let mut packet = full_presence();
    if let Body::Presence(p) = &mut packet.body {
        p.channels.truncate(MAX_JOINED - sealed);
        p.sealed = vec![vec![0xee; SEALED_STATE]; sealed];
    }
    packet
}

#[test]
fn presences_with_password_channels_fit_and_are_capped() {
    for sealed in [1, 4, MAX_JOINED] {
        let packet = full_sealed_presence(sealed);
        let bytes = encode(&packet).expect("encodes");
        assert_eq!(decode(&bytes), Ok(packet), "{sealed} sealed");
    }
    // One more than the cap, counting both lists.
    let mut packet = full_sealed_presence(4);
    if let Body::Presence(p) = &mut packet.body {
        p.channels.truncate(MAX_JOINED - 4);
        p.channels[0].name = "#a".into();
        p.sealed.push(vec![0; 4]);
    }
    let bytes = encode(&packet).expect("encodes");
    assert_eq!(decode(&bytes), Err(DecodeError::Limit("sealed")));
    // A sealed state longer than any real one.
    let mut packet = full_sealed_presence(1);
    if let Body::Presence(p) = &mut packet.body {
        p.sealed[0].push(0);
    }
    let bytes = encode(&packet).expect("encodes");
    assert_eq!(decode(&bytes), Err(DecodeError::Limit("sealed")));
}

/// Every channel body, hidden for a password channel (its encoding,
/// the AEAD tag and the length), still fits a datagram.
#[test]
fn the_largest_hidden_bodies_fit() {
    let msg = largest_fragment();
    let (channel, text) = (msg.channel.clone(), msg.text.clone());
    let bodies = [
        Body::Channel(ChannelMsg {
            part: 0,
            sig: vec![3; 64],
            ..msg.clone()
        }),
        Body::Recalled(Recalled {
            channel: channel.clone(),
            origin: id(3),
            nick: "ж".repeat(MAX_NICK / 2),
            id: MsgId([9; 16]),
            hlc: u64::MAX,
            kind: MessageKind::Action,
            part: MAX_PARTS - 1,
            parts: MAX_PARTS,
            text,
            author: vec![5; AUTHOR_SIG_LEN],
        }),
        Body::Topic(TopicInfo {
            channel: channel.clone(),
            text: "т".repeat(MAX_TOPIC / 2),
            stamp: u64::MAX,
            setter: id(3),
            setter_nick: "ж".repeat(MAX_NICK / 2),
        }),
    ];
    for body in bodies {
        let inner = encode_body(&body);
        assert_eq!(decode_body(&inner), Ok(body.clone()));
        let hidden = Packet {
            from: id(2),
            epoch: u64::MAX,
            body: Body::Hidden {
                bytes: vec![0xaa; inner.len() + 16],
            },
        };
        let bytes = encode(&hidden).unwrap_or_else(|e| panic!("{body:?}: {e}"));
        assert_eq!(decode(&bytes), Ok(hidden));
    }
}

#[test]
fn a_hidden_body_is_about_one_channel_and_hides_nothing_more() {
    assert_eq!(
        decode_body(&encode_body(&Body::Leave)),
        Err(DecodeError::Limit("hidden"))
    );
    let nested = Body::Hidden { bytes: vec![1; 8] };
    assert_eq!(
        decode_body(&encode_body(&nested)),
        Err(DecodeError::Limit("hidden"))
    );
    let typing = Body::Typing {
        chat: TypingChat::Channel("#a b".into()),
    };
    assert_eq!(
        decode_body(&encode_body(&typing)),
        Err(DecodeError::Limit("channel"))
    );
    let mut bytes = encode_body(&Body::TopicRequest {
        channel: "#ops".into(),
    });
    assert!(decode_body(&bytes).is_ok());
    bytes.push(0);
    assert_eq!(decode_body(&bytes), Err(DecodeError::Trailing(1)));
    let state = ChannelState {
        name: "#ops".into(),
        tail: 7,
        topic_stamp: u64::MAX,
    };
    let sealed = encode_state(&state);
    assert!(sealed.len() + 16 <= SEALED_STATE);
    assert_eq!(decode_state("#ops", &sealed), Ok(state));
}

#[test]
fn protected_names_are_capped_and_normalised() {
    let list = |names: &[&str]| Packet {
        from: id(1),
        epoch: 1,
        body: Body::Protected {
            channels: names
                .iter()
                .map(|n| ProtectedChannel {
                    name: n.to_string(),
                    age_secs: 1,
                })
                .collect(),
        },
    };
    let good = list(&["#ops", "#ж"]);
    assert_eq!(decode(&encode(&good).expect("encodes")), Ok(good));
    let bad = list(&["#a b"]);
    assert_eq!(
        decode(&encode(&bad).expect("encodes")),
        Err(DecodeError::Limit("protected"))
    );
    let names: Vec<String> = (0..=MAX_PROTECTED).map(|i| format!("#{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let many = list(&names);
    assert_eq!(
        decode(&encode(&many).expect("encodes")),
        Err(DecodeError::Limit("protected"))
    );
}

#[test]
fn largest_presence_fits_a_datagram() {
    let bytes = encode(&full_presence()).expect("encodes");
    println!("largest presence: {} of {MAX_BODY} bytes", bytes.len());
    assert!(bytes.len() <= MAX_BODY);
    assert_eq!(decode(&bytes), Ok(full_presence()));
}

/// A channel fragment with every field at its largest (the last part:
/// no signature).
fn largest_fragment() -> ChannelMsg {
    ChannelMsg {
        channel: "#".to_string() + &"c".repeat(MAX_CHANNEL_NAME - 1),
        seq: u64::MAX,
        id: MsgId([9; 16]),
        hlc: u64::MAX,
        kind: MessageKind::Action,
        part: MAX_PARTS - 1,
        parts: MAX_PARTS,
        text: "я".repeat(FRAGMENT_TEXT / 2),
        sig: Vec::new(),
    }
}

#[test]
fn largest_fragments_fit_a_datagram() {
    let msg = largest_fragment();
    let first = Packet {
        from: id(2),
        epoch: u64::MAX,
        body: Body::Channel(ChannelMsg {
            part: 0,
            sig: vec![3; 64],
            ..msg.clone()
        }),
    };
    let bytes = encode(&first).expect("encodes");
    assert_eq!(decode(&bytes), Ok(first));
    let direct = Packet {
        from: id(2),
        epoch: u64::MAX,
        body: Body::Direct(DirectMsg {
            to: id(4),
            seq: u64::MAX,
            base: u64::MAX,
            id: msg.id,
            hlc: u64::MAX,
            kind: MessageKind::Text,
            part: 0,
            parts: MAX_PARTS,
            text: msg.text.clone(),
        }),
    };
    let bytes = encode(&direct).expect("encodes");
    assert_eq!(decode(&bytes), Ok(direct));
}

#[test]
fn longest_text_splits_within_part_limit() {
    let text = "ю".repeat(MAX_TEXT / 2);
    let parts = split_text(&text);
    assert!(parts.len() <= MAX_PARTS as usize);
    assert_eq!(parts.concat(), text);
    assert!(parts.iter().all(|p| p.len() <= FRAGMENT_TEXT));
    assert_eq!(split_text(""), vec![""]);
}

/// Regression: with `MAX_PARTS` at 73 a 64 KiB text whose fragments end
/// mid-way through 4-byte characters needed 74 fragments, which every
/// receiver dropped as malformed, so the message never arrived.
#[test]
fn longest_text_of_wide_characters_splits_within_part_limit() {
    let mut text = String::new();
    while text.len() + 13 <= MAX_TEXT {
        text.push_str("a😀😀😀");
    }
    let parts = split_text(&text);
    assert!(parts.len() > 73);
    assert!(parts.len() <= MAX_PARTS as usize);
    assert_eq!(parts.concat(), text);
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = encode(&Packet {
        from: id(1),
        epoch: 1,
        body: Body::Leave,
    })
    .expect("ok");
    assert!(decode(&bytes).is_ok());
    bytes.push(0);
    assert_eq!(decode(&bytes), Err(DecodeError::Trailing(1)));
    assert!(matches!(decode(&[1, 2]), Err(DecodeError::Body(_))));
}

#[test]
fn forged_huge_length_is_refused_without_allocating() {
    // A presence whose nick claims u64::MAX bytes.
    let mut bytes = vec![7; 16]; // from
    bytes.push(1); // epoch
    bytes.push(0); // Body::Presence
    bytes.push(253); // varint u64 marker
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(decode(&bytes), Err(DecodeError::Body(_))));
}

#[test]
fn over_cap_fields_are_refused() {
    let mut p = full_presence();
    if let Body::Presence(pr) = &mut p.body {
        pr.channels.clear();
        pr.nick = "n".repeat(MAX_NICK + 1);
    }
    let bytes = encode(&p).expect("still fits");
    assert_eq!(decode(&bytes), Err(DecodeError::Limit("nick")));
}

fn typing_in(channel: &str) -> Vec<u8> {
    encode(&Packet {
        from: id(1),
        epoch: 1,
        body: Body::Typing {
            chat: TypingChat::Channel(channel.into()),
        },
    })
    .expect("encodes")
}

#[test]
fn typing_names_a_normalised_channel() {
    for good in ["#dev", "#Main", "#ж", &format!("#{}", "c".repeat(31))] {
        assert!(decode(&typing_in(good)).is_ok(), "{good}");
    }
    for bad in [
        "dev",
        "#",
        "",
        "#a b",
        "#a,b",
        "#main",
        " #dev",
        "#dev\n",
        &format!("#{}", "c".repeat(32)),
    ] {
        assert_eq!(
            decode(&typing_in(bad)),
            Err(DecodeError::Limit("channel")),
            "{bad:?}"
        );
    }
}

/// The largest catch-up datagrams the node builds fit the budget.
#[test]
fn the_largest_catch_up_datagrams_fit() {
    use super::{LIST_AT_MOST, MAX_RANGES, MAX_WANT};
    let packet = |body| Packet {
        from: id(1),
        epoch: u64::MAX,
        body,
    };
    let channel = format!("#{}", "ж".repeat((MAX_CHANNEL_NAME - 1) / 2));
    let ids = Body::Sync(Sync {
        channel: channel.clone(),
        round: u8::MAX,
        limit: u32::MAX,
        ranges: vec![SyncRange {
            lo: u64::MAX - 1,
            hi: u64::MAX,
            what: RangeSummary::Ids(vec![MsgId([0xff; 16]); LIST_AT_MOST]),
        }],
    });
    assert!(decode(&encode(&packet(ids)).expect("fits")).is_ok());
    let fingerprints = Body::Sync(Sync {
        channel: channel.clone(),
        round: u8::MAX,
        limit: u32::MAX,
        ranges: vec![
            SyncRange {
                lo: u64::MAX - 1,
                hi: u64::MAX,
                what: RangeSummary::Fingerprint {
                    count: u32::MAX,
                    fp: u64::MAX,
                },
            };
            MAX_RANGES
        ],
    });
    assert!(decode(&encode(&packet(fingerprints)).expect("fits")).is_ok());
    let want = Body::Want {
        channel: channel.clone(),
        ids: vec![MsgId([0xff; 16]); MAX_WANT],
    };
    assert!(decode(&encode(&packet(want)).expect("fits")).is_ok());
    let text = "ж".repeat(FRAGMENT_TEXT);
    let recalled = Body::Recalled(Recalled {
        channel,
        origin: id(2),
        nick: "n".repeat(MAX_NICK),
        id: MsgId([0xff; 16]),
        hlc: u64::MAX,
        kind: MessageKind::Action,
        part: MAX_PARTS - 1,
        parts: MAX_PARTS,
        text: split_text(&text)[0].to_string(),
        author: vec![5; AUTHOR_SIG_LEN],
    });
    assert!(decode(&encode(&packet(recalled)).expect("fits")).is_ok());
}

/// The body's index is its first byte after `from` and a one-byte
/// epoch: peers of an older build of this protocol version must still
/// read every older body the same way, so a new body only ever goes
/// last. (Version 3 removed `Repair`, index 7, and moved the later ones
/// down by one.)
#[test]
fn new_bodies_keep_the_indices_of_older_ones() {
    let index = |body: Body| {
        let bytes = encode(&Packet {
            from: id(1),
            epoch: 1,
            body,
        })
        .expect("encodes");
        bytes[16 + 1]
    };
    assert_eq!(index(Body::Leave), 1);
    assert_eq!(
        index(Body::Beat {
            seq: 1,
            tails: vec![]
        }),
        12
    );
    let typing = Body::Typing {
        chat: TypingChat::Direct(id(2)),
    };
    assert_eq!(index(typing), 13);
}

mod properties {
    use super::{decode, encode};
    use proptest::prelude::*;

    use super::super::*;

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!(".{{0,{max}}}"))
            .expect("regex")
            .prop_map(move |s| crate::types::clip(&s, max))
    }

    fn body() -> impl Strategy<Value = Body> {
        prop_oneof![
            (
                text(MAX_NICK),
                text(MAX_STATUS_TEXT),
                any::<u64>(),
                proptest::collection::vec(
                    (text(MAX_CHANNEL_NAME), any::<u64>(), any::<u64>()),
                    0..MAX_JOINED
                ),
                any::<bool>()
            )
                .prop_filter("nick", |(n, ..)| !n.is_empty())
                .prop_map(
                    |(nick, status_text, since_ms, chans, hello)| Body::Presence(Presence {
                        nick,
                        status: Status::Away,
                        status_text,
                        host: "pc".into(),
                        version: "1".into(),
                        since_ms,
                        channels: chans
                            .into_iter()
                            .map(|(name, tail, topic_stamp)| ChannelState {
                                name,
                                tail,
                                topic_stamp
                            })
                            .collect(),
                        hello,
                        seq: since_ms / 3,
                        ..Presence::default()
                    })
                ),
            Just(Body::Leave),
            (any::<u64>(), 1..u64::MAX, text(FRAGMENT_TEXT), 0..MAX_PARTS).prop_map(
                |(hlc, seq, text, part)| {
                    Body::Channel(ChannelMsg {
                        channel: "#Main".into(),
                        seq,
                        id: MsgId([3; 16]),
                        hlc,
                        kind: MessageKind::Text,
                        part,
                        parts: MAX_PARTS,
                        text,
                        sig: if part == 0 { vec![1; 64] } else { Vec::new() },
                    })
                }
            ),
            (
                1..u64::MAX,
                proptest::collection::vec((1..1000u64, 0..1000u64), 1..MAX_NACK_RANGES)
            )
                .prop_map(|(epoch, r)| Body::Nack(Nack {
                    sender: NodeId([1; 16]),
                    epoch,
                    channel: "#dev".into(),
                    ranges: r.into_iter().map(|(a, len)| (a, a + len)).collect(),
                    attempt: 1,
                })),
            (any::<u64>(), any::<u64>())
                .prop_map(|(stream_epoch, seq)| Body::DirectAck { stream_epoch, seq }),
            proptest::string::string_regex("#[a-zA-Z0-9а-яё_.-]{1,15}")
                .expect("regex")
                // "#main" is sent as "#Main"; only normalised names decode.
                .prop_filter("normalised", |n| crate::types::channel_name(n).as_deref()
                    == Ok(n.as_str()))
                .prop_map(|name| Body::Typing {
                    chat: TypingChat::Channel(name)
                }),
            any::<[u8; 16]>().prop_map(|to| Body::Typing {
                chat: TypingChat::Direct(NodeId(to))
            }),
            proptest::collection::vec(
                (
                    0..u64::MAX - 1,
                    1..1000u64,
                    proptest::option::of(any::<(u32, u64)>()),
                    0..12usize,
                ),
                0..4
            )
            .prop_map(|ranges| Body::Sync(Sync {
                channel: "#Main".into(),
                round: 1,
                limit: 200,
                ranges: ranges
                    .into_iter()
                    .map(|(lo, len, fp, n)| SyncRange {
                        lo,
                        hi: lo.saturating_add(len),
                        what: match fp {
                            Some((count, fp)) => RangeSummary::Fingerprint { count, fp },
                            None => RangeSummary::Ids(vec![MsgId([7; 16]); n]),
                        },
                    })
                    .collect(),
            })),
            (0..MAX_WANT).prop_map(|n| Body::Want {
                channel: "#dev".into(),
                ids: vec![MsgId([5; 16]); n],
            }),
            (any::<u64>(), text(200), 0..MAX_PARTS).prop_map(|(hlc, text, part)| {
                Body::Recalled(Recalled {
                    channel: "#Main".into(),
                    origin: NodeId([4; 16]),
                    nick: "ann".into(),
                    id: MsgId([3; 16]),
                    hlc,
                    kind: MessageKind::Action,
                    part,
                    parts: MAX_PARTS,
                    text,
                    author: vec![5; AUTHOR_SIG_LEN],
                })
            }),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn valid_packets_round_trip_and_survive_mutation(
            body in body(),
            epoch in any::<u64>(),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
            cut in any::<usize>(),
        ) {
            let packet = Packet { from: NodeId([9; 16]), epoch, body };
            let bytes = encode(&packet).expect("within budget");
            prop_assert_eq!(decode(&bytes), Ok(packet));
            let mut mutated = bytes.clone();
            for (at, bits) in flips {
                let i = at % mutated.len();
                mutated[i] ^= bits;
            }
            let _ = decode(&mutated);
            let _ = decode(&bytes[..cut % bytes.len()]);
        }
    }
}
