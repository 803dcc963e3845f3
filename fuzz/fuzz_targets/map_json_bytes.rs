//! Fuzz target: the mapper on raw bytes (`talon_mapper_oracles::check_map_json`) with the default settings.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use talon_mapper::Settings;

static SETTINGS: LazyLock<Settings> = LazyLock::new(|| {
    Settings::parse(include_str!("../../fixtures/settings/default.json"))
        .expect("the default settings are valid")
});

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = talon_mapper_oracles::check_map_json(data, &SETTINGS) {
        panic!("{violation}\ninput: {:?}", String::from_utf8_lossy(data));
    }
});
