//! What a valid signature would vouch for: the packet body and a sealed
//! direct message once decrypted. Nothing may panic; a packet that decodes
//! encodes back to the same bytes.
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
});
