//! Fuzz target: scenarios mapped and applied to the fake must match the reference model (`talon_fuzz::round_trip`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use talon_fuzz::round_trip::Scenario;

fuzz_target!(|scenario: Scenario| {
    if let Err(violation) = talon_fuzz::check_round_trip(&scenario) {
        let events: Vec<String> = scenario
            .events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap_or_default())
            .collect();
        panic!(
            "{violation}\nconfigured: {:?}\ncatalog: {:?}\nevents:\n{}",
            scenario.configured,
            scenario.catalog,
            events.join("\n")
        );
    }
});
