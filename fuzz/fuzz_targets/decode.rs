//! What a valid signature would vouch for: the packet body, a sealed
//! direct message once decrypted, and a password channel's hidden body and
//! sealed state once decrypted. Nothing may panic; what decodes encodes
//! back to the same value.
#![no_main]

use lanchat::wire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = wire::decode_packet(data) {
        let again = wire::encode_packet(&packet).expect("a decoded packet encodes");
        assert_eq!(wire::decode_packet(&again).as_ref(), Ok(&packet));
    }
    if let Ok(msg) = wire::decode_direct(data) {
        let again = wire::encode_direct(&msg);
        assert_eq!(wire::decode_direct(&again).as_ref(), Ok(&msg));
    }
    if let Ok(body) = wire::decode_body(data) {
        let again = wire::encode_body(&body);
        assert_eq!(wire::decode_body(&again).as_ref(), Ok(&body));
    }
    if let Ok(state) = wire::decode_state("#ops", data) {
        let again = wire::encode_state(&state);
        assert_eq!(wire::decode_state("#ops", &again).as_ref(), Ok(&state));
    }
});
