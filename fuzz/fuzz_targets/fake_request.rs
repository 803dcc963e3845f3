//! Fuzz target: any request on any endpoint of the fake, through its router (`talon_fake::fuzz::check_request`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = talon_fuzz::check_fake_request(data) {
        panic!("{violation}");
    }
});
