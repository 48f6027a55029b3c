//! What a peer's file offer and file connection hand over: a control
//! frame's body once it opened, an offer's or a withdrawal's text, and the
//! names and listing paths a file is saved under. Nothing may panic; what
//! decodes encodes back to the same value; no name or path can leave the
//! download folder.
#![no_main]

use std::path::Component;

use lanchat::files::names::{self, MAX_NAME};
use lanchat::files::session;
use lanchat::files::{Offer, Withdrawal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(control) = session::decode_control(data) {
        let again = session::encode_control(&control).expect("a decoded control encodes");
        assert_eq!(session::decode_control(&again).ok(), Some(control));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(offer) = Offer::from_text(text) {
        assert_eq!(Offer::from_text(&offer.to_text()), Some(offer));
    }
    if let Some(withdrawal) = Withdrawal::from_text(text) {
        assert_eq!(Withdrawal::from_text(&withdrawal.to_text()), Some(withdrawal));
    }
    let leaf = names::leaf(text);
    assert!(!leaf.is_empty() && leaf.len() <= MAX_NAME, "{leaf:?}");
    assert!(!leaf.contains(['/', '\\', ':']) && !leaf.chars().any(char::is_control));
    assert!(!leaf.starts_with(['.', ' ']) && !leaf.ends_with(['.', ' ']), "{leaf:?}");
    if let Some(path) = names::relative(text) {
        assert!(
            path.components().all(|c| matches!(c, Component::Normal(_))),
            "{path:?} from {text:?}"
        );
    }
});
