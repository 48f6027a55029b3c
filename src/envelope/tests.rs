//! Tests of [`super`].

use super::*;
use crate::wire::Body;

fn keys(n: u8) -> Keys {
    Keys::from_secret(&[n; 32])
}

fn leave(keys: &Keys) -> Packet {
    Packet {
        from: keys.id(),
        epoch: 7,
        body: Body::Leave,
    }
}

#[test]
fn a_sealed_packet_opens_with_its_key_and_counter() {
    let alice = keys(1);
    for wg in [None, Some(WorkgroupKey::from_bytes(&[5; 32]))] {
        let bytes = seal(&leave(&alice), 42, &alice, wg.as_ref()).expect("seals");
        let opened = open(&bytes, wg.as_ref())
            .expect("opens")
            .signed()
            .expect("signed");
        assert_eq!(opened.packet, leave(&alice));
        assert_eq!((opened.key, opened.counter), (alice.public(), 42));
    }
}

#[test]
fn a_lean_beat_opens_as_sent_and_its_mac_holds_only_for_its_key() {
    let alice = keys(1);
    let (id, epoch) = (alice.id(), 9);
    let mut chain = chain::Chain::new(alice.chain_seed(epoch));
    let beat = LeanBeat {
        seq: 4,
        tails: vec![17, 300],
        knows: 12,
    };
    let i = 260;
    let (key, disclosed) = (chain.key(i), chain.key(i - chain::DELAY));
    for wg in [None, Some(WorkgroupKey::from_bytes(&[5; 32]))] {
        let mut bytes =
            seal_lean(&beat, id, epoch, i, &key, &disclosed, wg.as_ref()).expect("seals");
        if wg.is_none() {
            // The idle heartbeat's whole cost: header, 25 bytes and the
            // content (seq 1, count 1, tails 1 + 3, knows 1: bincode's
            // varints).
            assert_eq!(bytes.len(), HEADER_LEN + LEAN_LEN + 7);
        }
        stamp(&mut bytes, Way::Broadcast);
        let Ok(Datagram::Lean(lean)) = open(&bytes, wg.as_ref()) else {
            panic!("a lean beat");
        };
        assert_eq!(lean.tag, chain::tag(id, epoch));
        assert_eq!((lean.low, lean.way), (i as u8, Way::Broadcast));
        assert_eq!((&lean.beat, lean.key), (&beat, disclosed));
        assert_eq!(chain::mac(&key, id, epoch, i, &lean.body), lean.mac);
        // Not with another interval's key, interval, life or sender.
        assert_ne!(chain::mac(&disclosed, id, epoch, i, &lean.body), lean.mac);
        assert_ne!(chain::mac(&key, id, epoch, i + 256, &lean.body), lean.mac);
        assert_ne!(chain::mac(&key, id, epoch + 1, i, &lean.body), lean.mac);
        assert_ne!(
            chain::mac(&key, keys(2).id(), epoch, i, &lean.body),
            lean.mac
        );
    }
    // Another life of the same key has another chain.
    let mut next_life = chain::Chain::new(alice.chain_seed(epoch + 1));
    assert_ne!(next_life.key(i), key);
    // Inside a workgroup, the open LAN's lean beat is refused, and the
    // other way round; a truncated one does not decode.
    let wg = WorkgroupKey::from_bytes(&[5; 32]);
    let open_lan = seal_lean(&beat, id, epoch, i, &key, &disclosed, None).expect("seals");
    assert_eq!(open(&open_lan, Some(&wg)), Err(DecodeError::Workgroup));
    let sealed = seal_lean(&beat, id, epoch, i, &key, &disclosed, Some(&wg)).expect("seals");
    assert_eq!(open(&sealed, None), Err(DecodeError::Workgroup));
    assert!(open(&open_lan[..HEADER_LEN + LEAN_LEN - 1], None).is_err());
    assert!(open(&open_lan[..open_lan.len() - 1], None).is_err());
}

#[test]
fn a_changed_bit_anywhere_is_refused() {
    let alice = keys(1);
    let bytes = seal(&leave(&alice), 1, &alice, None).expect("seals");
    for i in 0..bytes.len() {
        // Every bit but the way hint's (tested below).
        for bit in (0..8).filter(|b| i != 5 || !(4..6).contains(b)) {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << bit;
            assert!(open(&bad, None).is_err(), "byte {i} bit {bit}");
        }
    }
}

#[test]
fn the_way_hint_is_stamped_after_signing_and_read_back() {
    let alice = keys(1);
    let wg = WorkgroupKey::derive("office").expect("key");
    for workgroup in [None, Some(&wg)] {
        let mut bytes = seal(&leave(&alice), 1, &alice, workgroup).expect("seals");
        assert_eq!(way_of(&bytes), Way::Multicast);
        for way in [Way::Unicast, Way::Broadcast, Way::Multicast] {
            stamp(&mut bytes, way);
            assert_eq!(way_of(&bytes), way);
            let opened = open(&bytes, workgroup)
                .expect("still opens")
                .signed()
                .expect("signed");
            assert_eq!(opened.way, way);
            assert_eq!(opened.packet, leave(&alice));
        }
    }
    // Not a datagram: left alone.
    let mut junk = vec![7u8; 10];
    stamp(&mut junk, Way::Unicast);
    assert_eq!(junk, vec![7u8; 10]);
}

#[test]
fn another_key_cannot_speak_for_a_node() {
    let (alice, mallory) = (keys(1), keys(2));
    // Mallory signs a packet that claims to be from alice.
    let bytes = seal(&leave(&alice), 1, &mallory, None).expect("seals");
    assert_eq!(open(&bytes, None), Err(DecodeError::WrongKey));
}

#[test]
fn a_message_signature_holds_for_exactly_that_message_and_author() {
    let ann = keys(1);
    let (id, hlc, kind) = (MsgId([4; 16]), 99, MessageKind::Text);
    let signed = ann.sign_message("#dev", id, hlc, kind, "ship it");
    // (author, channel, id, stamp, kind, text) as the receiver has them.
    let genuine = (ann.id(), "#dev", id, hlc, kind, "ship it");
    let check = |s: &AuthorSig, m: (NodeId, &str, MsgId, u64, MessageKind, &str)| {
        s.verify(m.0, m.1, m.2, m.3, m.4, m.5)
    };
    assert!(check(&signed, genuine));
    // Any field changed, or another author claimed: no.
    let (who, chan, _, _, _, text) = genuine;
    for changed in [
        (who, chan, id, hlc, kind, "ship it!"),
        (who, "#ops", id, hlc, kind, text),
        (who, chan, MsgId([5; 16]), hlc, kind, text),
        (who, chan, id, hlc + 1, kind, text),
        (who, chan, id, hlc, MessageKind::Action, text),
        (keys(2).id(), chan, id, hlc, kind, text),
    ] {
        assert!(!check(&signed, changed), "{changed:?}");
    }
    // Another key's signature under ann's name: no.
    let mallory = keys(2).sign_message("#dev", id, hlc, kind, "ship it");
    let posing = AuthorSig {
        key: ann.public(),
        sig: mallory.sig,
    };
    assert!(!check(&posing, genuine));
    assert!(!check(&mallory, genuine));
    // As stored and sent.
    assert_eq!(AuthorSig::from_bytes(&signed.to_bytes()), Some(signed));
    assert_eq!(AuthorSig::from_bytes(&[0; 95]), None);
}

#[test]
fn a_channel_key_is_its_name_and_password_and_opens_only_its_own_part() {
    let key = ChannelKey::derive("#ops", "tulip").expect("derives");
    assert_eq!(key, ChannelKey::derive("#ops", "tulip").expect("derives"));
    assert_ne!(key, ChannelKey::derive("#dev", "tulip").expect("derives"));
    assert_ne!(key, ChannelKey::derive("#ops", "tulips").expect("derives"));
    assert!(ChannelKey::derive("#ops", "").is_err());
    assert_eq!(ChannelKey::from_hex(&key.to_hex()), Some(key.clone()));
    assert_eq!(ChannelKey::from_hex("zz"), None);
    assert_eq!(ChannelKey::from_hex(&"g".repeat(64)), None);

    let (ann, bob) = (keys(1).id(), keys(2).id());
    let sealed = key.seal(ann, 3, 10, 0, b"plan");
    assert_eq!(
        key.open(ann, 3, 10, 0, &sealed).as_deref(),
        Some(&b"plan"[..])
    );
    // Lifted into another datagram, part, life or sender: it does not open.
    assert_eq!(key.open(ann, 3, 11, 0, &sealed), None);
    assert_eq!(key.open(ann, 3, 10, 1, &sealed), None);
    assert_eq!(key.open(ann, 4, 10, 0, &sealed), None);
    assert_eq!(key.open(bob, 3, 10, 0, &sealed), None);
    let other = ChannelKey::derive("#ops", "tulip2").expect("derives");
    assert_eq!(other.open(ann, 3, 10, 0, &sealed), None);
    // Two members never use one nonce: the same plaintext differs.
    assert_ne!(sealed, key.seal(bob, 3, 10, 0, b"plan"));
}

#[test]
fn workgroups_do_not_read_each_other_or_the_open_lan() {
    let alice = keys(1);
    let (ours, theirs) = (
        WorkgroupKey::from_bytes(&[5; 32]),
        WorkgroupKey::from_bytes(&[6; 32]),
    );
    let in_ours = seal(&leave(&alice), 1, &alice, Some(&ours)).expect("seals");
    let open_lan = seal(&leave(&alice), 1, &alice, None).expect("seals");
    assert_eq!(open(&in_ours, Some(&theirs)), Err(DecodeError::Workgroup));
    assert_eq!(open(&in_ours, None), Err(DecodeError::Workgroup));
    assert_eq!(open(&open_lan, Some(&ours)), Err(DecodeError::Workgroup));
    // Nothing of the packet shows in the clear.
    assert!(!in_ours.windows(16).any(|w| w == alice.id().0));
}

#[test]
fn the_same_passphrase_gives_the_same_key() {
    let alice = keys(1);
    let a = WorkgroupKey::derive("correct horse").expect("derives");
    let b = WorkgroupKey::derive("correct horse").expect("derives");
    let c = WorkgroupKey::derive("correct horsf").expect("derives");
    let bytes = seal(&leave(&alice), 1, &alice, Some(&a)).expect("seals");
    assert!(open(&bytes, Some(&b)).is_ok());
    assert_eq!(open(&bytes, Some(&c)), Err(DecodeError::Workgroup));
    assert!(WorkgroupKey::derive("").is_err());
}

#[test]
fn direct_keys_agree_per_direction_and_nobody_else_has_them() {
    let (alice, bob, eve) = (keys(1), keys(2), keys(3));
    let (a_send, a_recv) = alice.direct_keys(&bob.public()).expect("keys");
    let (b_send, b_recv) = bob.direct_keys(&alice.public()).expect("keys");
    let (e_send, _) = eve.direct_keys(&bob.public()).expect("keys");
    let (from, to) = (alice.id(), bob.id());
    let sealed = a_send.seal(from, to, 3, 9, b"hello bob");
    assert_eq!(
        b_recv.open(from, to, 3, 9, &sealed).as_deref(),
        Some(&b"hello bob"[..])
    );
    // Not the other direction, not another counter, not eve.
    assert_eq!(b_send.open(from, to, 3, 9, &sealed), None);
    assert_eq!(b_recv.open(from, to, 3, 10, &sealed), None);
    assert_eq!(e_send.open(from, to, 3, 9, &sealed), None);
    let back = b_send.seal(to, from, 4, 1, b"hi");
    assert_eq!(
        a_recv.open(to, from, 4, 1, &back).as_deref(),
        Some(&b"hi"[..])
    );
}

#[test]
fn ids_and_fingerprints_are_stable_and_distinct() {
    let (a, b) = (keys(1), keys(2));
    assert_eq!(a.id(), Keys::from_secret(&a.secret()).id());
    assert_ne!(a.id(), b.id());
    let fp = a.public().fingerprint();
    assert_eq!(fp.len(), 24, "{fp}");
    assert_ne!(fp, b.public().fingerprint());
}

proptest::proptest! {
    /// Whatever follows a valid header, opening never panics.
    #[test]
    fn arbitrary_bytes_after_the_header_never_panic(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1500)
    ) {
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&[VERSION, 0]);
        framed.extend_from_slice(&bytes);
        let _ = open(&framed, None);
    }
}
