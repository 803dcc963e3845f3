//! Fuzz target: the mapper on structure-aware `Event`s, and its request on the fake (`talon_fuzz::check_map_event`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use talon_fuzz::MapInput;

fuzz_target!(|input: MapInput| {
    if let Err(violation) = talon_fuzz::check_map_event(&input) {
        panic!(
            "{violation}\nevent: {}\nconfigured: {:?}",
            serde_json::to_string(&input.event).unwrap_or_default(),
            input.configured
        );
    }
});
